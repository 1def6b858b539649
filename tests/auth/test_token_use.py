"""A bearer token's use is recorded without the request ever waiting on its own lock.

These tests run a real threaded server (werkzeug) on a real SQLite file with its own engine:
the shared, rolled-back test connection cannot show lock waits between two transactions of one
request, which is what used to make every ``POST /api/v1/cases`` with a fresh token wait 30 s
(the busy timeout) and an audited read with a fresh token answer 500 "database is locked".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from csirt import create_app
from csirt.audit import service as audit
from csirt.audit.models import AuditEvent
from csirt.auth import service as auth_service
from csirt.auth.models import ApiToken
from csirt.auth.permissions import Role
from csirt.db import get_db
from csirt.migrate import upgrade
from tests.conftest import make_config

pytestmark = pytest.mark.sqlite_only

LIMIT = 1.0  # seconds: what a script may wait for one request
CASE = {"title": "スクリプトからの事案", "priority": "P3", "aware_at": "2026-01-05T09:00:00+09:00"}


@dataclass
class Served:
    app: Flask
    base: str
    server: BaseWSGIServer

    def token(self, username: str, role: Role = Role.LEAD) -> str:
        """A fresh token (never used) of a new user with ``role``."""
        with self.app.app_context(), get_db(self.app).session() as session:
            hashing = self.app.extensions["csirt.hashing"]
            user = auth_service.create_user(
                session, hashing, username, "a long test password 123", [role], actor=audit.SYSTEM
            )
            _token, plain = auth_service.create_token(session, user, actor=audit.SYSTEM)
        return plain

    def scalar(self, statement: Any) -> Any:
        with self.app.app_context(), get_db(self.app).session() as session:
            return session.scalar(statement)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    upgrade(url)
    app = create_app(make_config(url, tmp_path / "instance"), interface="all")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(app, f"http://127.0.0.1:{server.server_port}", server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        get_db(app).engine.dispose()


def _timed(http: requests.Session, method: str, url: str, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    response = http.request(method, url, timeout=60, **kwargs)
    return response, time.perf_counter() - started


def test_a_fresh_token_posts_at_once_and_its_use_is_recorded(served: Served) -> None:
    plain = served.token("script")
    headers = {"Authorization": f"Bearer {plain}"}
    with requests.Session() as http:
        first, seconds = _timed(
            http, "POST", served.base + "/api/v1/cases", json=CASE, headers=headers
        )
        assert first.status_code == 201, first.text
        assert seconds < LIMIT, f"the first POST with a fresh token took {seconds:.2f} s"
        used = served.scalar(select(ApiToken.last_used_at).where(ApiToken.name == ""))
        assert used is not None  # recorded once the request's own transaction had ended
        times = []
        for n in range(100):
            response, seconds = _timed(
                http,
                "POST",
                served.base + "/api/v1/cases",
                json=dict(CASE, title=f"事案 {n}"),
                headers=headers,
            )
            assert response.status_code == 201, response.text
            times.append(seconds)
    assert max(times) < LIMIT, f"slowest of 100 POSTs: {max(times):.2f} s"
    # At most hourly: 101 requests wrote the token's last use once, not 101 times.
    assert served.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "")) == used


def test_audited_reads_with_fresh_tokens_never_fail_while_others_write(served: Served) -> None:
    writer_token = served.token("writer")
    with requests.Session() as http:
        created = http.post(
            served.base + "/api/v1/cases",
            json=CASE,
            headers={"Authorization": f"Bearer {writer_token}"},
            timeout=60,
        )
    assert created.status_code == 201, created.text
    case_url = f"{served.base}/api/v1/cases/{created.json()['id']}"
    readers = [served.token(f"reader{n}") for n in range(20)]
    stop = threading.Event()
    writes: list[int] = []

    def keep_writing() -> None:
        # Other requests commit all the time, so every reader's snapshot goes stale at once.
        with requests.Session() as http:
            headers = {"Authorization": f"Bearer {writer_token}"}
            while not stop.is_set():
                answer = http.post(served.base + "/api/v1/cases", json=CASE, headers=headers)
                writes.append(answer.status_code)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    results: list[tuple[int, float, str]] = []
    try:
        with requests.Session() as http:
            for plain in readers:  # each token is fresh: its first use must be recorded too
                for path in ("", "/timeline"):
                    response, seconds = _timed(
                        http, "GET", case_url + path, headers={"Authorization": f"Bearer {plain}"}
                    )
                    results.append((response.status_code, seconds, path))
    finally:
        stop.set()
        writer.join(timeout=60)
    assert [r for r in results if r[0] != 200] == []
    assert max(seconds for _status, seconds, _path in results) < LIMIT
    assert writes
    assert set(writes) == {201}
    # Every read was audited as a view of the case, and every fresh token's use was recorded.
    views = served.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.view")
    )
    assert views == len(results)
    unused = served.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.last_used_at.is_(None))
    )
    assert unused == 0
    with served.app.app_context(), get_db(served.app).session() as session:
        assert audit.verify(session).ok
