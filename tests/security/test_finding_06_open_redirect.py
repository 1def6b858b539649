"""Finding 6: ``POST /language`` with ``next=/\\t/evil.example/`` redirected off the host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from csirt.redirects import is_local_path
from tests.conftest import csrf_from

HOSTILE = [
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    " /x",
    "/\x00/evil.example",
    "/\u2028/evil.example",
]


def _stays_on_host(response) -> bool:
    location = response.headers["Location"]
    browser_view = "".join(ch for ch in location if ch not in "\t\r\n")
    parts = urlsplit(browser_view)
    return parts.netloc in ("", "localhost") and not browser_view.startswith("//")


@pytest.mark.parametrize("target", HOSTILE)
def test_language_switch_never_redirects_off_the_host(client, target):
    page = client.get("/console/login")
    response = client.post(
        "/language", data={"lang": "en", "next": target, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302
    assert _stays_on_host(response), response.headers["Location"]
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_language_switch_keeps_a_local_path(client):
    page = client.get("/console/login")
    response = client.post(
        "/language",
        data={"lang": "ja", "next": "/console/login?x=1", "csrf_token": csrf_from(page.text)},
    )
    assert response.headers["Location"] == "/console/login?x=1"


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_next_never_leaves_the_host(client, users, db_session, target):
    created = users.create(roles=["responder"])
    db_session.commit()
    page = client.get("/console/login")
    response = client.post(
        "/console/login?" + __import__("urllib.parse").parse.urlencode({"next": target}),
        data={
            "username": created.user.username,
            "password": created.password,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302
    assert _stays_on_host(response), response.headers["Location"]


def test_every_redirect_check_is_the_one_helper():
    """No module checks a redirect target by hand (the old ``startswith("//")`` test)."""
    from pathlib import Path

    import csirt

    root = Path(csirt.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if 'startswith("//")' in path.read_text() and path.name != "redirects.py"
    ]
    assert offenders == []
    for target in HOSTILE:
        assert not is_local_path(target)
