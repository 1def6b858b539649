"""Browser tests: the real app served on loopback, driven by Debian's Chromium via Playwright."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from csirt import create_app
from csirt.db import get_db
from csirt.migrate import upgrade
from tests.conftest import make_config
from tests.factories import UserFactory

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "e2e"


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'live.sqlite3'}"
    upgrade(url)
    return create_app(make_config(url, folder / "instance"), interface="all")


class QuietHandler(WSGIRequestHandler):
    """No access log: like the production intake, the test server records no client address."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def live_users(live_app: Flask) -> Iterator[UserFactory]:
    session = get_db(live_app).sessionmaker()
    yield UserFactory(session, live_app.extensions["csirt.hashing"])
    session.commit()
    session.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Any:
    """Save a screenshot under test-output/e2e/<test name>/NN-name.png."""
    folder = OUTPUT / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def shot(page: Any, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot


def sign_in(page: Any, live_server: str, username: str, password: str) -> None:
    """Sign in through the Japanese login form (no second factor) and land on the dashboard."""
    page.goto(f"{live_server}/console/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url("**/console/")
