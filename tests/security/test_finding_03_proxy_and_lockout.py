"""Finding 3: behind the proxy every client was 127.0.0.1, so 50 failed logins locked everyone
out; a lockout of an account must never block its correct password through others' failures."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from config import Config
from csirt import create_app
from csirt.auth.models import User
from csirt.db import get_db
from tests.conftest import csrf_from, login
from tests.factories import UserFactory


def _try(client: FlaskClient, username: str, password: str, **kwargs) -> int:
    page = client.get("/console/login", **kwargs)
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
        **kwargs,
    )
    return response.status_code


def test_fifty_failures_from_the_proxy_address_lock_nobody_else_out(
    app: Flask, users: UserFactory, db_session: Session
):
    victim = users.create(roles=["responder"])
    others = [users.create(roles=["responder"]) for _ in range(3)]
    db_session.commit()
    attacker = app.test_client()  # every request arrives from 127.0.0.1, like behind nginx
    for attempt in range(50):
        target = others[attempt % 3].user.username if attempt % 2 else f"nobody{attempt}"
        assert _try(attacker, target, "wrong password 123") in (401, 403, 429)
    assert _try(app.test_client(), victim.user.username, victim.password) == 302


def test_account_lockout_never_blocks_the_owner_on_a_known_browser(
    app: Flask, users: UserFactory, db_session: Session
):
    victim = users.create(roles=["responder"])
    db_session.commit()
    own_browser = app.test_client()
    assert login(own_browser, victim.user.username, victim.password).status_code == 302
    own_browser.post(
        "/console/logout", data={"csrf_token": csrf_from(own_browser.get("/console/account").text)}
    )
    attacker = app.test_client()
    for _ in range(12):
        _try(attacker, victim.user.username, "guess guess guess")
    db_session.expire_all()
    assert db_session.get(User, victim.user.id).locked_until is not None
    # A browser that never signed in to the account is held by the lock, even with the password.
    assert _try(app.test_client(), victim.user.username, victim.password) in (403, 429)
    # The owner's browser is not, and is told about the lockout.
    response = login(own_browser, victim.user.username, victim.password)
    assert response.status_code == 302
    page = own_browser.get(response.headers["Location"], follow_redirects=True)
    assert "locked" in page.text or "ロック" in page.text


def _console(config: Config, connection: Connection, **changes) -> Flask:
    app = create_app(config.with_(**changes), interface="console")
    get_db(app).engine.dispose()
    get_db(app).bind_to(connection)
    return app


def test_trusted_proxy_throttles_per_real_address(
    config: Config, connection: Connection, users: UserFactory, db_session: Session
):
    app = _console(config, connection, trusted_proxies=1)
    victim = users.create(roles=["responder"])
    db_session.commit()
    bad = {
        "environ_base": {"REMOTE_ADDR": "127.0.0.1"},
        "headers": {"X-Forwarded-For": "203.0.113.9"},
    }
    good = {
        "environ_base": {"REMOTE_ADDR": "127.0.0.1"},
        "headers": {"X-Forwarded-For": "198.51.100.7"},
    }
    attacker = app.test_client()
    statuses = [_try(attacker, f"nobody{i}", "wrong password 123", **bad) for i in range(40)]
    assert statuses[-1] == 429  # that address is throttled
    assert _try(app.test_client(), victim.user.username, victim.password, **good) == 302


def test_the_intake_never_reads_forwarded_or_client_addresses(
    config: Config, connection: Connection, tmp_path: Path
):
    intake = create_app(config.with_(trusted_proxies=2), interface="intake")
    assert "ProxyFix" not in type(intake.wsgi_app).__name__
    import csirt.intake

    root = Path(csirt.intake.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        for needle in ("remote_addr", "access_route", "X-Forwarded", "HTTP_X_"):
            assert needle not in text, (path.name, needle)
