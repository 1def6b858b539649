"""Shared fixtures: a database migrated once per run, each test in a rolled-back transaction.

Backends: SQLite by default; ``CSIRT_TEST_BACKEND=postgres`` starts a throwaway PostgreSQL
(see bench/pg.py). ``CSIRT_REQUIRE_ALL=1`` (CI) turns every skip into a failure, so a missing
browser, PostgreSQL or LibreOffice cannot pass silently.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from config import Config
from csirt import create_app
from csirt.db import get_db, make_engine
from csirt.migrate import upgrade
from tests.factories import UserFactory

REQUIRE_ALL = os.environ.get("CSIRT_REQUIRE_ALL") == "1"
BACKEND = os.environ.get("CSIRT_TEST_BACKEND", "sqlite")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip: CI forbids skips) the tests written for the other backend."""
    other = "postgres_only" if BACKEND == "sqlite" else "sqlite_only"
    kept = [item for item in items if item.get_closest_marker(other) is None]
    deselected = [item for item in items if item.get_closest_marker(other) is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but CSIRT_REQUIRE_ALL=1 forbids skips: {reason}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "postgres":
        from bench.pg import ThrowawayPostgres, postgres_available

        if not postgres_available():
            pytest.skip("PostgreSQL is not installed")
        with ThrowawayPostgres() as pg:
            yield pg.create_database("csirt_test")
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def make_config(database_url: str, instance: Path, **overrides: Any) -> Config:
    env = {
        "CSIRT_DATABASE_URL": database_url,
        "CSIRT_SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "CSIRT_COOKIE_SECURE": "false",
        "CSIRT_ORG_NAME": "Test City CSIRT",
    }
    config = Config.from_env(env, instance_path=instance)
    return config.with_(testing=True, **overrides)


@pytest.fixture
def connection(migrated_engine: Engine) -> Iterator[Connection]:
    conn = migrated_engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    return make_config(database_url, tmp_path / "instance")


def _bound_app(config: Config, connection: Connection, interface: str) -> Flask:
    app = create_app(config, interface=interface)  # type: ignore[arg-type]
    get_db(app).engine.dispose()
    get_db(app).bind_to(connection)
    return app


@pytest.fixture
def app(config: Config, connection: Connection) -> Flask:
    return _bound_app(config, connection, "all")


@pytest.fixture
def make_app(config: Config, connection: Connection) -> Any:
    """Build an app of another interface on the same test transaction."""
    return lambda interface: _bound_app(config, connection, interface)


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    session = get_db(app).sessionmaker()
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def users(db_session: Session, app: Flask) -> UserFactory:
    return UserFactory(db_session, app.extensions["csirt.hashing"])


CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str, totp_seed: str | None = None) -> Any:
    """Sign in through the real forms (CSRF included); return the last response."""
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )
    if totp_seed is not None:
        import pyotp

        page = client.get("/console/login/verify")
        response = client.post(
            "/console/login/verify",
            data={"code": pyotp.TOTP(totp_seed).now(), "csrf_token": csrf_from(page.text)},
        )
    return response


@pytest.fixture
def login_as(client: FlaskClient, users: UserFactory, db_session: Session) -> Any:
    """Create a user with the given roles, commit, sign in; return the user."""

    def _login_as(*roles: str, **kwargs: Any) -> Any:
        created = users.create(roles=list(roles), **kwargs)
        db_session.commit()
        response = login(client, created.user.username, created.password, created.totp_seed)
        assert response.status_code == 302, response.text
        return created.user

    return _login_as


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole run (tests/e2e and tests/story): Playwright's sync API allows
    one running instance per thread."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield instance
        instance.close()
