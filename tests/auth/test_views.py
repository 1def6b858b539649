"""Sign-in through the real forms: passwords, second factor, enrolment, lockout, sign-out."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth import service
from csirt.auth.permissions import Role
from tests.conftest import csrf_from, login
from tests.factories import UserFactory


def _actions(db_session: Session) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_password_login_and_logout(client: FlaskClient, users: UserFactory, db_session: Session):
    created = users.create(roles=["responder"])
    db_session.commit()
    response = login(client, created.user.username, created.password)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/console/")
    assert client.get("/console/").status_code == 200
    page = client.get("/console/account")
    response = client.post("/console/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302  # back to the login page
    assert "login.success" in _actions(db_session)


def test_wrong_password_is_401_and_audited(client: FlaskClient, users: UserFactory, db_session):
    created = users.create()
    db_session.commit()
    response = login(client, created.user.username, "not the password at all")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text or "パスワード" in response.text
    assert "login.failure" in _actions(db_session)


def test_lockout_after_repeated_failures(client: FlaskClient, users: UserFactory, db_session):
    created = users.create()
    db_session.commit()
    for _ in range(5):
        assert login(client, created.user.username, "wrong-wrong-wrong").status_code == 401
    # Now even the right password is refused until the lock expires or an admin unlocks.
    assert login(client, created.user.username, created.password).status_code == 403
    db_session.refresh(created.user)
    assert created.user.locked_until is not None
    service.unlock(db_session, created.user, actor=service.audit.Actor(None, "test"))
    db_session.commit()
    assert login(client, created.user.username, created.password).status_code == 302


def test_totp_login_requires_a_valid_code(client: FlaskClient, users: UserFactory, db_session):
    created = users.create(roles=["lead"], totp=True)
    db_session.commit()
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "username": created.user.username,
            "password": created.password,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.headers["Location"].endswith("/console/login/verify")
    # Not signed in yet: the console is still closed.
    assert client.get("/console/").status_code == 302
    page = client.get("/console/login/verify")
    bad = client.post(
        "/console/login/verify", data={"code": "000000", "csrf_token": csrf_from(page.text)}
    )
    assert bad.status_code == 401
    code = pyotp.TOTP(created.totp_seed).now()
    good = client.post(
        "/console/login/verify", data={"code": code, "csrf_token": csrf_from(page.text)}
    )
    assert good.status_code == 302
    assert client.get("/console/").status_code == 200


def test_totp_code_cannot_be_replayed(users: UserFactory, db_session: Session, app):
    created = users.create(totp=True)
    hashing = app.extensions["csirt.hashing"]
    code = pyotp.TOTP(created.totp_seed).now()
    assert service.verify_second_factor(db_session, hashing, created.user, code) == "totp"
    try:
        service.verify_second_factor(db_session, hashing, created.user, code)
    except service.InvalidCodeError:
        pass
    else:
        raise AssertionError("a used TOTP code was accepted twice")


def test_recovery_code_works_once(users: UserFactory, db_session: Session, app):
    created = users.create()
    hashing = app.extensions["csirt.hashing"]
    seed = pyotp.random_base32()
    codes = service.enable_totp(db_session, hashing, created.user, seed, pyotp.TOTP(seed).now())
    assert len(codes) == service.RECOVERY_CODE_COUNT
    assert service.verify_second_factor(db_session, hashing, created.user, codes[0]) == (
        "recovery_code"
    )
    try:
        service.verify_second_factor(db_session, hashing, created.user, codes[0])
    except service.InvalidCodeError:
        pass
    else:
        raise AssertionError("a recovery code was accepted twice")


def test_role_requiring_totp_forces_enrolment(client: FlaskClient, users, db_session: Session):
    created = users.create(roles=["custodian"])  # custodian needs TOTP by default
    db_session.commit()
    response = login(client, created.user.username, created.password)
    assert response.headers["Location"].endswith("/console/account/two-step")
    # Everything else redirects to enrolment until it is done.
    assert client.get("/console/").headers["Location"].endswith("/console/account/two-step")
    page = client.get("/console/account/two-step")
    assert page.status_code == 200
    secret = page.text.split('id="totp-secret">')[1].split("<")[0].replace(" ", "")
    response = client.post(
        "/console/account/two-step",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 200
    assert 'id="recovery-codes"' in response.text
    assert client.get("/console/").status_code == 200
    db_session.refresh(created.user)
    assert created.user.totp_enabled


def test_admin_can_change_which_roles_need_totp(client, login_as, db_session: Session):
    login_as("admin", totp=True)
    page = client.get("/console/admin/security")
    response = client.post(
        "/console/admin/security",
        data={"totp_roles": ["lead", "admin"], "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 302
    assert service.totp_required_roles(db_session) == {Role.LEAD, Role.ADMIN}


def test_form_without_csrf_token_is_refused(client: FlaskClient, users, db_session):
    created = users.create()
    db_session.commit()
    response = client.post(
        "/console/login", data={"username": created.user.username, "password": created.password}
    )
    assert response.status_code == 400


def test_idle_session_expires(client: FlaskClient, login_as):
    login_as("responder")
    with client.session_transaction() as sess:
        seen = sess["seen_at"]
        from datetime import datetime

        sess["seen_at"] = (datetime.fromisoformat(seen) - timedelta(hours=2)).isoformat()
    response = client.get("/console/")
    assert response.status_code == 302
    assert "/console/login" in response.headers["Location"]


def test_password_change_ends_other_sessions(app, users, db_session: Session):
    created = users.create()
    db_session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, created.user.username, created.password)
    login(second, created.user.username, created.password)
    page = first.get("/console/account")
    response = first.post(
        "/console/account/password",
        data={
            "current": created.password,
            "new": "an entirely new passphrase",
            "confirm": "an entirely new passphrase",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302
    assert first.get("/console/").status_code == 200
    assert second.get("/console/").status_code == 302


def test_weak_new_password_is_refused_with_reasons(client, login_as):
    user = login_as("responder")
    page = client.get("/console/account")
    response = client.post(
        "/console/account/password",
        data={
            "current": "correct horse battery staple",
            "new": user.username + "1",
            "confirm": user.username + "1",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 400
    assert "12" in response.text


def test_admin_creates_user_and_edits_roles(client, login_as, db_session: Session):
    login_as("admin", totp=True)
    page = client.get("/console/admin/users/new")
    response = client.post(
        "/console/admin/users/new",
        data={
            "username": "newbie",
            "display_name": "New",
            "roles": ["responder"],
            "password": "a long enough passphrase",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302
    user = service.get_user(db_session, "newbie")
    assert user is not None
    assert user.role_set == {Role.RESPONDER}
    page = client.get(f"/console/admin/users/{user.id}")
    response = client.post(
        f"/console/admin/users/{user.id}",
        data={
            "display_name": "New",
            "roles": ["lead", "pr"],
            "active": "y",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302
    db_session.refresh(user)
    assert user.role_set == {Role.LEAD, Role.PR}
    assert "user.roles" in _actions(db_session)


def test_api_token_from_account_page(client, login_as, db_session: Session):
    login_as("responder")
    page = client.get("/console/account")
    response = client.post(
        "/console/account/tokens",
        data={"name": "script", "scopes": ["read"], "csrf_token": csrf_from(page.text)},
    )
    token = response.text.split('id="new-token">')[1].split("<")[0]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["roles"] == ["responder"]


def test_login_attempts_are_throttled(client: FlaskClient, users: UserFactory, db_session):
    created = users.create()
    db_session.commit()
    statuses = [login(client, created.user.username, "wrong").status_code for _ in range(12)]
    assert 429 in statuses
    assert 500 not in statuses


def test_admin_unlocks_a_locked_account(client, login_as, users: UserFactory, db_session):
    from datetime import timedelta as _td

    from csirt.db import utcnow

    login_as("admin", totp=True)
    locked = users.create()
    locked.user.locked_until = utcnow() + _td(minutes=10)
    db_session.commit()
    page = client.get(f"/console/admin/users/{locked.user.id}")
    assert "Unlock" in page.text or "ロック解除" in page.text
    response = client.post(
        f"/console/admin/users/{locked.user.id}/unlock", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302
    db_session.refresh(locked.user)
    assert locked.user.locked_until is None
    assert client.get("/console/admin/users/999999").status_code == 404
    assert "locked" not in client.get("/console/admin/users").text


def test_admin_user_form_errors(client, login_as, users: UserFactory, db_session):
    login_as("admin", totp=True)
    users.create(username="taken")
    db_session.commit()
    page = client.get("/console/admin/users/new")
    token = csrf_from(page.text)
    taken = client.post(
        "/console/admin/users/new",
        data={
            "username": "taken",
            "roles": ["pr"],
            "password": "a long enough passphrase",
            "csrf_token": token,
        },
    )
    assert taken.status_code == 400
    weak = client.post(
        "/console/admin/users/new",
        data={"username": "fresh", "roles": ["pr"], "password": "short", "csrf_token": token},
    )
    assert weak.status_code == 400


def test_deactivating_a_user_ends_their_access(app, client, login_as, users, db_session):
    login_as("admin", totp=True)
    other = users.create()
    db_session.commit()
    other_client = app.test_client()
    login(other_client, other.user.username, other.password)
    assert other_client.get("/console/").status_code == 200
    page = client.get(f"/console/admin/users/{other.user.id}")
    client.post(
        f"/console/admin/users/{other.user.id}",
        data={"display_name": "x", "roles": ["responder"], "csrf_token": csrf_from(page.text)},
    )
    db_session.refresh(other.user)
    assert not other.user.active
    assert other_client.get("/console/").status_code == 302


def test_token_revoke_and_totp_disable(client, login_as, db_session: Session):
    user = login_as("responder", totp=True)
    page = client.get("/console/account")
    created = client.post(
        "/console/account/tokens",
        data={"name": "x", "scopes": ["read"], "csrf_token": csrf_from(page.text)},
    )
    plain = created.text.split('id="new-token">')[1].split("<")[0]
    token = user.tokens[0] if user.tokens else None
    db_session.refresh(user)
    token = user.tokens[0]
    page = client.get("/console/account")
    client.post(
        f"/console/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_from(page.text)}
    )
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    page = client.get("/console/account")
    client.post("/console/account/two-step/off", data={"csrf_token": csrf_from(page.text)})
    db_session.refresh(user)
    assert not user.totp_enabled
    assert client.get("/console/account/two-step").status_code == 200


def test_required_totp_cannot_be_switched_off(client, login_as, db_session: Session):
    user = login_as("custodian", totp=True)
    page = client.get("/console/account")
    client.post("/console/account/two-step/off", data={"csrf_token": csrf_from(page.text)})
    db_session.refresh(user)
    assert user.totp_enabled
    assert client.get("/console/account/two-step").status_code == 302
