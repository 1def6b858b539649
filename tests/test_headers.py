"""Security headers on every route of every interface, for anonymous and signed-in users.

Every rule of the URL map is requested with each of its methods over https (so HSTS applies),
once anonymously and once signed in (console: session cookie; API: bearer token) as a user who
holds every role. Whatever the status (200, 302, 400, 403, 404, 405), the headers must be there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from csirt import INTERFACES
from csirt.auth import service
from csirt.auth.permissions import Role
from tests.conftest import login
from tests.factories import UserFactory

HTTPS = "https://localhost"
STRICT_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
ONE_YEAR = 31536000


class HttpsClient(FlaskClient):
    """A test client whose every request arrives over TLS."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("base_url", HTTPS)
        return super().open(*args, **kwargs)


def _url(rule: Rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "x")
        url = url.replace(f"<path:{arg}>", "css/csirt.css" if rule.endpoint == "static" else "x/y")
        url = url.replace(f"<string:{arg}>", "x")
    return url


def _requests(app: Flask) -> Iterator[tuple[Rule, str, str]]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "auth.logout":
            continue  # would end the signed-in session; checked last, on its own
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            yield rule, method, _url(rule)


def _directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_secure_headers(response: TestResponse, where: str, *, tls: bool = True) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert csp, f"{where}: no Content-Security-Policy"
    directives = _directives(csp)
    assert directives.get("default-src") == ["'none'"], where
    for name in ("script-src", "style-src"):
        sources = directives.get(name, directives["default-src"])
        assert "'unsafe-inline'" not in sources, f"{where}: {name} allows inline"
        assert "'unsafe-eval'" not in sources, f"{where}: {name} allows eval"
        assert "*" not in sources, f"{where}: {name} allows any origin"
        assert not any(s.startswith(("http:", "data:")) for s in sources), where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("base-uri") == ["'none'"], where
    assert directives.get("form-action") == ["'self'"], where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") in STRICT_REFERRER, where
    policy = headers.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy, f"{where}: Permissions-Policy lacks {feature}"
    hsts = headers.get("Strict-Transport-Security", "")
    if tls:
        assert hsts.startswith("max-age="), f"{where}: no HSTS over https"
        assert int(hsts.split(";")[0].split("=")[1]) >= ONE_YEAR, where
        assert "includeSubDomains" in hsts, where
    else:
        assert not hsts, f"{where}: HSTS over plain http is meaningless and must not be sent"


@pytest.fixture
def https_app(make_app: Any) -> Any:
    def _build(interface: str) -> Flask:
        app: Flask = make_app(interface)
        app.test_client_class = HttpsClient
        return app

    return _build


@pytest.mark.parametrize("interface", INTERFACES)
def test_every_route_anonymous(https_app: Any, interface: str):
    app = https_app(interface)
    client = app.test_client()
    checked = 0
    for _rule, method, url in _requests(app):
        response = client.open(url, method=method)
        assert response.status_code < 500, (url, method)
        assert_secure_headers(response, f"anonymous {method} {url} ({interface})")
        response.close()  # static files are streamed from an open file
        checked += 1
    for url in ("/no-such-page", "/console/no-such-page", "/api/v1/no-such"):
        assert_secure_headers(client.get(url), f"anonymous GET {url}")
    assert checked > 5


@pytest.mark.parametrize("interface", ["all", "console"])
def test_every_route_signed_in(
    https_app: Any, interface: str, users: UserFactory, db_session: Session
):
    app = https_app(interface)
    created = users.create([r.value for r in Role], totp=True)
    _token, bearer = service.create_token(db_session, created.user, actor=service.audit.SYSTEM)
    db_session.commit()
    client = app.test_client()
    response = login(client, created.user.username, created.password, created.totp_seed)
    assert response.status_code == 302
    assert client.get("/console/").status_code == 200
    seen: dict[int, int] = {}
    for _rule, method, url in _requests(app):
        headers = {"Authorization": f"Bearer {bearer}"} if url.startswith("/api/") else {}
        response = client.open(url, method=method, headers=headers)
        assert response.status_code < 500, (url, method, response.status_code)
        assert_secure_headers(response, f"signed-in {method} {url} ({interface})")
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        response.close()
    assert seen.get(200, 0) > 5  # real pages were rendered, not only redirects
    assert client.get("/console/").status_code == 200  # still signed in: the sweep was real
    page = client.get("/console/account")
    from tests.conftest import csrf_from

    logout = client.post("/console/logout", data={"csrf_token": csrf_from(page.text)})
    assert_secure_headers(logout, "signed-in POST /console/logout")


def test_no_hsts_over_plain_http(client: FlaskClient):
    response = client.get("/console/login")
    assert_secure_headers(response, "GET /console/login over http", tls=False)
