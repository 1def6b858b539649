"""Shared fixtures: a database migrated once per run, one app per interface per run, each test
in a rolled-back transaction; factories for users and cases (tests/factories.py).

Backends: SQLite by default; ``CSIRT_TEST_BACKEND=postgres`` starts a throwaway PostgreSQL
(see bench/pg.py). ``CSIRT_REQUIRE_ALL=1`` (CI) turns every skip into a failure, so a missing
browser, PostgreSQL or LibreOffice cannot pass silently.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy.orm import Session

from config import Config
from csirt import create_app
from csirt.cases.dashboard import DashboardCache
from csirt.db import get_db, make_engine
from csirt.migrate import upgrade
from csirt.notify.mail import LogMailer
from csirt.ratelimit import Budget, RateLimiter
from tests.factories import CaseFactory, UserFactory

_OWN_BASETEMP = pytest.StashKey[str]()
_PASSED = pytest.StashKey[bool]()
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


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Each run gets its own temporary folder, removed when the run passes.

    pytest's default (``/tmp/pytest-of-<user>``) is shared by every run of the user; two runs
    that end together both try to delete the same old folders, and the loser crashes at exit
    after its tests passed.
    """
    config.pluginmanager.register(_Deselect(), "csirt-deselect")
    if config.option.basetemp is None:
        _prune_kept_folders(Path(tempfile.gettempdir()))
        config.option.basetemp = tempfile.mkdtemp(prefix="csirt-tests-")
        config.stash[_OWN_BASETEMP] = config.option.basetemp


def _prune_kept_folders(root: Path, keep: int = 3, idle_seconds: float = 3600) -> None:
    """Folders kept by failed runs: the newest three stay; older ones go once idle for an hour
    (a running suite adds a folder per test, so its own is never idle that long)."""

    def age(folder: Path) -> float:
        try:
            return time.time() - folder.stat().st_mtime
        except OSError:
            return 0.0

    kept = sorted(root.glob("csirt-tests-*"), key=age)
    for folder in kept[keep:]:
        if age(folder) > idle_seconds:
            shutil.rmtree(folder, ignore_errors=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_BASETEMP, None)
    if own is not None and config.stash.get(_PASSED, False):
        shutil.rmtree(own, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_PASSED] = exitstatus in (0, 5)  # passed, or nothing to run
    own = session.config.stash.get(_OWN_BASETEMP, None)
    if own is not None and exitstatus != 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"temporary files of this run kept in {own}")


# --- which tests the PostgreSQL pass runs ---------------------------------------------------
#
# The database under test (SQLite, or the throwaway PostgreSQL) is reached only through these
# fixtures: ``database_url`` (every app, client, session and factory fixture depends on it) and
# the story's server (its own database on the backend under test). A test whose fixture closure
# holds neither, and that is not marked for a backend or the story, runs the same code on both
# passes (a vault, a catalog, a builder, its own SQLite file): the PostgreSQL pass leaves it out.
# tests/test_backends.py checks the rule against the sources, and the guard below fails a test
# left out that nevertheless connects to the database under test or to any PostgreSQL.
DATABASE_FIXTURES = frozenset({"database_url", "story_server"})
DATABASE_MARKERS = ("postgres", "postgres_only", "story")
NO_DATABASE = pytest.StashKey[bool]()
COLLECTED = pytest.StashKey[list[pytest.Item]]()
_LEFT_OUT = pytest.StashKey[int]()
_UNDER_TEST: set[str] = set()  # the URL of the database under test, once it exists
_REACHED: list[str] = []  # databases the running test connected to


def touches_database(item: pytest.Item) -> bool:
    """Whether ``item`` reaches the database under test (so runs on both backends)."""
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & DATABASE_FIXTURES) or any(
        item.get_closest_marker(marker) for marker in DATABASE_MARKERS
    )


@pytest.hookimpl(tryfirst=True)  # before ``-m`` and ``-k``, which see the ``slow`` mark
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tests; note which tests touch no database (tests/test_backends.py reads
    every collected test, whatever ``-m`` or ``-k`` then leave)."""
    config.stash[COLLECTED] = list(items)
    for item in items:  # a real browser or server is slow: `make pytest-quick` leaves them out
        if item.get_closest_marker("browser") or item.get_closest_marker("story"):
            item.add_marker(pytest.mark.slow)
        item.stash[NO_DATABASE] = not touches_database(item)


class _Deselect:
    """A plugin of its own: its hook runs after ``-m`` (what is counted is what that left)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        """Deselect (not skip: CI forbids skips) the tests written for the other backend, and
        on the PostgreSQL pass the tests that touch no database (the SQLite pass ran them)."""
        other = "postgres_only" if BACKEND == "sqlite" else "sqlite_only"
        left_out = [
            item
            for item in items
            if item.get_closest_marker(other) is not None
            or (BACKEND == "postgres" and item.stash[NO_DATABASE])
        ]
        config.stash[_LEFT_OUT] = sum(1 for item in left_out if item.stash[NO_DATABASE])
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            gone = set(left_out)
            items[:] = [item for item in items if item not in gone]


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    if BACKEND != "postgres":
        return None
    return (
        f"PostgreSQL pass: {config.stash.get(_LEFT_OUT, 0)} tests that touch no database left "
        "out (the SQLite pass ran them)"
    )


@event.listens_for(Engine, "engine_connect")
def _note_connection(connection: Connection) -> None:
    url = connection.engine.url
    if url.get_backend_name() == "postgresql" or str(url) in _UNDER_TEST:
        _REACHED.append(url.render_as_string(hide_password=True))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _REACHED.clear()  # from the test's own fixtures on


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    if item.stash.get(NO_DATABASE, False) and _REACHED:
        raise AssertionError(
            f"this test connected to {_REACHED[0]} although none of its fixtures is one of "
            f"{sorted(DATABASE_FIXTURES)}: the PostgreSQL pass would leave it out "
            "(tests/conftest.py, touches_database)"
        )
    return result


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
            url = pg.create_database("csirt_test")
            _UNDER_TEST.add(str(make_url(url)))
            yield url
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    _UNDER_TEST.add(str(make_url(url)))
    yield url


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


# --- one app per interface (and per distinct configuration) per test session ----------------
#
# ``create_app`` costs about 0.2 s (Werkzeug compiles ~170 rules), so the apps are built once and
# reused; what a test may change is put back before the next one begins:
# - the database: each test binds the app to its own rolled-back connection;
# - the instance folder: each test gets its own (``config.instance_path`` under ``tmp_path``);
# - ``app.config`` and ``app.extensions``: restored to what ``create_app`` left, with the
#   stateful ones (rate limiters, budgets, the log mailer's ``sent``, the dashboard cache)
#   made afresh; lazily built ones (intake settings, read from the database; the dashboard
#   cache) are dropped and rebuilt on first use.
# A test that changes what cannot be put back (routes, blueprints) is marked ``fresh_app``.


def _fresh(value: Any) -> Any:
    """``value`` without the state earlier tests left in it."""
    if isinstance(value, RateLimiter):
        return RateLimiter(value.limit, value.window)
    if isinstance(value, Budget):
        return Budget(value._limiter.limit, value._limiter.window)
    if isinstance(value, LogMailer):
        return LogMailer(sender=value.sender, stream=value.stream)
    if isinstance(value, DashboardCache):
        return DashboardCache(value.mean_seconds)
    if isinstance(value, tuple):
        return tuple(_fresh(item) for item in value)
    return value


def _class_default(app: Flask, name: str) -> bool:
    """Whether ``name`` is a plain class-level default (``test_client_class``), which a test
    overrides per instance; cached properties (``jinja_env``) are kept."""
    default = getattr(type(app), name, _class_default)
    return default is not _class_default and not hasattr(type(default), "__get__")


@dataclass
class _SharedApp:
    app: Flask
    attributes: dict[str, Any]
    config: dict[str, Any]
    extensions: dict[str, Any]

    @classmethod
    def build(cls, config: Config, interface: str) -> _SharedApp:
        app = create_app(config, interface=interface)  # type: ignore[arg-type]
        get_db(app).engine.dispose()
        return cls(app, dict(vars(app)), dict(app.config), dict(app.extensions))

    def lend(self, config: Config, connection: Connection) -> Flask:
        """The app as ``create_app(config)`` left it, bound to this test's transaction."""
        app = self.app
        for name in [n for n in vars(app) if n not in self.attributes and _class_default(app, n)]:
            delattr(app, name)
        vars(app).update(self.attributes)
        app.config.clear()
        app.config.update(self.config)
        app.config["CSIRT"] = config
        app.instance_path = str(config.instance_path)
        app.extensions.clear()
        app.extensions.update({key: _fresh(value) for key, value in self.extensions.items()})
        get_db(app).bind_to(connection)
        return app


def _app_key(config: Config, interface: str) -> tuple[object, ...]:
    # Everything but the instance folder (each test has its own) decides which app is reused.
    return (
        interface,
        *(
            (f.name, repr(getattr(config, f.name)))
            for f in fields(config)
            if f.name != "instance_path"
        ),
    )


@pytest.fixture(scope="session")
def _shared_apps() -> dict[tuple[object, ...], _SharedApp]:
    return {}


@pytest.fixture
def make_app(
    request: pytest.FixtureRequest,
    config: Config,
    connection: Connection,
    _shared_apps: dict[tuple[object, ...], _SharedApp],
) -> Callable[[str], Flask]:
    """The app of an interface ("all", "console", "intake") on this test's transaction."""
    fresh = request.node.get_closest_marker("fresh_app") is not None
    lent: dict[str, Flask] = {}

    def _make(interface: str) -> Flask:
        if interface in lent:  # the same app for the whole test, never reset mid-test
            return lent[interface]
        if fresh:
            shared = _SharedApp.build(config, interface)
        else:
            key = _app_key(config, interface)
            shared = _shared_apps.get(key) or _shared_apps.setdefault(
                key, _SharedApp.build(config, interface)
            )
        lent[interface] = shared.lend(config, connection)
        return lent[interface]

    return _make


@pytest.fixture
def app(make_app: Callable[[str], Flask]) -> Flask:
    return make_app("all")


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


@pytest.fixture
def cases(db_session: Session, users: UserFactory, app: Flask) -> CaseFactory:
    """``cases.create(triaged=True, with_datasets=2, phase="contain", members=[...])``."""
    return CaseFactory(db_session, users, app)


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
