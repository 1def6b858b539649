"""The bench's load generator behaves as the clients it stands for: a signed-in browser keeps
the cookie the server sets (bench.harness.run_wrk, real wrk against a real socket)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bench.harness import run_wrk


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        cookie = self.headers.get("Cookie", "")
        self.seen.append(cookie)
        self.send_response(200)
        if "session=fresh" not in cookie:
            self.send_header("Set-Cookie", "session=fresh; HttpOnly; Path=/")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_signed_in_client_keeps_the_cookie_the_server_sets(server: str) -> None:
    result = run_wrk(
        server, "/page", connections=1, duration_s=1, headers={"Cookie": "a=1; session=stale"}
    )
    seen = _Handler.seen
    assert result.requests > 10
    assert seen[0] == "a=1; session=stale"
    # Every later request carries the new session cookie, and keeps the other one.
    assert seen[-1] == "a=1; session=fresh"
    assert sum(cookie == "a=1; session=stale" for cookie in seen) <= 2  # per wrk thread at most
