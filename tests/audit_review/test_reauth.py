"""Re-authentication for sensitive actions, session timeouts, lockout expiry, common passwords."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth import passwords, service
from csirt.auth.access import requires
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.auth.reauth import reauth_required
from csirt.db import utcnow
from tests.conftest import csrf_from, login
from tests.factories import DEFAULT_PASSWORD, UserFactory


def _age_session(client: FlaskClient, minutes: int) -> None:
    with client.session_transaction() as sess:
        old = (datetime.fromisoformat(sess["auth_at"]) - timedelta(minutes=minutes)).isoformat()
        sess["auth_at"] = old
        sess.pop("reauth_at", None)


def test_role_change_asks_again_after_the_window(
    client: FlaskClient, login_as, users: UserFactory, db_session: Session
):
    target = users.create(username="target-user").user
    admin = login_as("admin", totp=True)
    assert client.get(f"/console/admin/users/{target.id}").status_code == 200  # just signed in
    _age_session(client, 11)
    response = client.get(f"/console/admin/users/{target.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/reauth?next=")
    # A POST that is not fresh is not carried out either.
    token = csrf_from(client.get("/console/account").text)
    response = client.post(
        f"/console/admin/users/{target.id}", data={"roles": ["admin"], "csrf_token": token}
    )
    assert response.status_code == 302
    assert "/console/reauth" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert "Confirm your identity" in page.text
    wrong = client.post(
        "/console/reauth",
        data={
            "password": "not the password",
            "next": f"/console/admin/users/{target.id}",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert wrong.status_code == 401
    db_session.execute(update(User).where(User.id == admin.id).values(totp_last_step=None))
    db_session.commit()
    seed = service.Hashing.create("test-secret-key-0123456789abcdef0123456789", fast=True)
    code = pyotp.TOTP(seed.open_seed(db_session.get(User, admin.id).totp_secret)).now()
    right = client.post(
        "/console/reauth",
        data={
            "password": DEFAULT_PASSWORD,
            "code": code,
            "next": f"/console/admin/users/{target.id}",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert right.status_code == 302
    assert right.headers["Location"] == f"/console/admin/users/{target.id}"
    assert client.get(f"/console/admin/users/{target.id}").status_code == 200


def test_reauth_rejects_foreign_next_and_bad_form(client: FlaskClient, login_as):
    login_as("responder")
    page = client.get("/console/reauth?next=https://evil.example/")
    assert (
        client.post("/console/reauth", data={"csrf_token": csrf_from(page.text)}).status_code == 400
    )
    response = client.post(
        "/console/reauth",
        data={
            "password": DEFAULT_PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.headers["Location"] == "/console/"


def test_reauth_with_second_factor(client: FlaskClient, users: UserFactory, db_session: Session):
    created = users.create(["admin"], totp=True)
    db_session.commit()
    login(client, created.user.username, created.password, created.totp_seed)
    _age_session(client, 30)
    page = client.get("/console/reauth")
    assert 'autocomplete="one-time-code"' in page.text
    no_code = client.post(
        "/console/reauth", data={"password": created.password, "csrf_token": csrf_from(page.text)}
    )
    assert no_code.status_code == 401
    db_session.execute(update(User).where(User.id == created.user.id).values(totp_last_step=None))
    db_session.commit()
    ok = client.post(
        "/console/reauth",
        data={
            "password": created.password,
            "code": pyotp.TOTP(created.totp_seed).now(),
            "csrf_token": csrf_from(page.text),
        },
    )
    assert ok.status_code == 302
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == created.user.id)
    ).all()
    assert "reauth.success" in actions
    assert "reauth.failure" in actions


def test_repeated_failures_sign_out(client: FlaskClient, login_as, app: Flask):
    login_as("responder")
    page = client.get("/console/reauth")
    for _ in range(app.config["CSIRT"].login_max_failures - 1):
        assert (
            client.post(
                "/console/reauth", data={"password": "wrong", "csrf_token": csrf_from(page.text)}
            ).status_code
            == 401
        )
    last = client.post(
        "/console/reauth", data={"password": "wrong", "csrf_token": csrf_from(page.text)}
    )
    assert last.status_code == 302
    assert last.headers["Location"] == "/console/login"
    assert client.get("/console/").status_code == 302


@pytest.mark.fresh_app
def test_post_only_action_returns_to_its_form(app: Flask, client: FlaskClient, login_as):
    @requires(Permission.ACCOUNT)
    @reauth_required
    def sensitive() -> str:
        return "done"

    app.add_url_rule("/console/test-sensitive", "test_sensitive", sensitive, methods=["POST"])
    login_as("responder")
    token = csrf_from(client.get("/console/account").text)
    assert client.post("/console/test-sensitive", data={"csrf_token": token}).text == "done"
    _age_session(client, 60)
    response = client.post(
        "/console/test-sensitive", data={"reauth_next": "/console/account", "csrf_token": token}
    )
    assert response.headers["Location"] == "/console/reauth?next=/console/account"


@pytest.mark.fresh_app
def test_api_views_cannot_reauthenticate(app: Flask, users: UserFactory, db_session: Session):
    from flask import Blueprint

    from csirt import csrf

    api_bp = Blueprint("api_test_reauth", __name__, url_prefix="/api/v1")

    @api_bp.post("/test-sensitive")
    @requires(Permission.ACCOUNT)
    @reauth_required
    def sensitive() -> str:
        return "done"

    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    user = users.create().user
    _token, plain = service.create_token(db_session, user, actor=service.audit.SYSTEM)
    db_session.commit()
    response = app.test_client().post(
        "/api/v1/test-sensitive", headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 403
    assert "re-authentication" in response.json["detail"]


def test_reauth_window_is_configurable(app: Flask, client: FlaskClient, login_as):
    from csirt.auth import reauth

    app.config["CSIRT"] = app.config["CSIRT"].with_(reauth_minutes=2)
    login_as("responder")
    with app.test_request_context():
        assert reauth.reauth_minutes() == 2


def test_absolute_timeout_ends_an_active_session(client: FlaskClient, login_as, app: Flask):
    login_as("responder")
    hours = app.config["CSIRT"].session_absolute_hours
    with client.session_transaction() as sess:
        sess["auth_at"] = (utcnow() - timedelta(hours=hours, minutes=1)).isoformat()
        sess["seen_at"] = utcnow().isoformat()  # active a moment ago: still ends
    response = client.get("/console/")
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]


def test_lockout_expires_by_itself(users: UserFactory, db_session: Session, app: Flask):
    created = users.create()
    db_session.commit()
    hashing = app.extensions["csirt.hashing"]
    for _ in range(3):
        with pytest.raises(service.InvalidCredentialsError):
            service.authenticate(
                db_session, hashing, created.user.username, "wrong", max_failures=3, lock_minutes=15
            )
    with pytest.raises(service.AccountLockedError):
        service.authenticate(
            db_session,
            hashing,
            created.user.username,
            created.password,
            max_failures=3,
            lock_minutes=15,
        )
    created.user.locked_until = utcnow() - timedelta(seconds=1)  # fifteen minutes later
    user = service.authenticate(
        db_session,
        hashing,
        created.user.username,
        created.password,
        max_failures=3,
        lock_minutes=15,
    )
    assert user.locked_until is None
    assert user.failed_logins == 0


@pytest.mark.parametrize(
    "password",
    [
        "Sakura2024!!",
        "qwertyuiop123",
        "1q2w3e4r5t6y",
        "pasuwado1234",
        "Password2019",
        "tokyo1990!!!",
    ],
)
def test_common_passwords_are_refused(password: str):
    with pytest.raises(service.PasswordPolicyError) as raised:
        service.check_password_policy(password, "someone")
    assert "too common or too simple" in raised.value.reasons


def test_the_list_is_bundled_and_loaded_once():
    first = passwords.common_passwords()
    assert len(first) > 3000
    assert passwords.common_passwords() is first
    assert passwords.is_common_password("daisuki")
    assert not passwords.is_common_password("correct horse battery staple")
    assert not passwords.is_common_password("sky1234")  # a short stem is not a listed word
    service.check_password_policy("a long unlisted passphrase 7", "someone")


def test_sensitive_intake_and_export_actions_ask_again_after_the_window(
    client: FlaskClient, login_as
):
    from datetime import timedelta as _td

    from csirt.db import utcnow

    login_as("intake_officer", "custodian", "pr", totp=True)
    with client.session_transaction() as sess:
        old = (utcnow() - _td(hours=1)).isoformat()
        sess["auth_at"] = old
        sess.pop("reauth_at", None)
    page = client.get("/console/account")
    token = csrf_from(page.text)
    for url in (
        "/console/intake/1/identity/request",
        "/console/intake/1/identity",
        "/console/intake/identity-requests/1",
        "/console/documents/1/export",
    ):
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 302, url
        assert "/console/reauth" in response.headers["Location"], url
