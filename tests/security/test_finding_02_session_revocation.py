"""Finding 2: a cookie copied before sign-out still opened /console/audit/."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth.models import User
from tests.conftest import csrf_from, login


def _copy_cookie(app, source: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of ``source``'s session cookie."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = source.get_cookie(name)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(name, cookie.value)
    return thief


def _is_sign_in_page(response) -> bool:
    return response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_cookie_kept_from_before_logout_gets_the_sign_in_page(app, client, login_as):
    login_as("auditor", "lead")
    assert client.get("/console/audit/").status_code == 200
    thief = _copy_cookie(app, client)
    assert thief.get("/console/audit/").status_code == 200  # the copy works while signed in
    page = client.get("/console/account")
    signed_out = client.post("/console/logout", data={"csrf_token": csrf_from(page.text)})
    assert _is_sign_in_page(signed_out)
    assert _is_sign_in_page(thief.get("/console/audit/"))


def test_role_change_and_deactivation_end_sessions(app, client, users, db_session: Session):
    admin = users.create(roles=["admin"], totp=True)
    target = users.create(roles=["lead"])
    db_session.commit()
    browser = app.test_client()
    assert login(browser, target.user.username, target.password).status_code == 302
    assert browser.get("/console/").status_code == 200
    assert login(client, admin.user.username, admin.password, admin.totp_seed).status_code == 302
    page = client.get(f"/console/admin/users/{target.user.id}")
    assert page.status_code == 200, page.status_code
    changed = client.post(
        f"/console/admin/users/{target.user.id}",
        data={
            "csrf_token": csrf_from(page.text),
            "display_name": "x",
            "roles": ["responder"],
            "active": "y",
        },
    )
    assert changed.status_code == 302
    assert _is_sign_in_page(browser.get("/console/"))
    # Signs in again with the new role, then is deactivated.
    assert login(browser, target.user.username, target.password).status_code == 302
    assert browser.get("/console/").status_code == 200
    page = client.get(f"/console/admin/users/{target.user.id}")
    client.post(
        f"/console/admin/users/{target.user.id}",
        data={"csrf_token": csrf_from(page.text), "display_name": "x", "roles": ["responder"]},
    )
    db_session.expire_all()
    assert db_session.get(User, target.user.id).active is False
    assert _is_sign_in_page(browser.get("/console/"))
