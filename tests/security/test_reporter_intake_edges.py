"""Issue 13, findings 6, 8, 9 and 11, through real requests.

6: an upload is never spooled to a temporary file; the nginx recipe does not buffer to disk.
8: malformed receipts spend no budget; well-formed wrong ones have their own; a reporter with
   the right receipt still gets in.
9: switching language on the receipt page keeps the receipt on screen.
11: the onion recipe is valid, and ``CSIRT_ONION_URL`` sends an ``Onion-Location`` header.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Config, ConfigError
from csirt import create_app, vault
from csirt.db import get_db
from csirt.intake import web
from csirt.ratelimit import Budget
from tests.conftest import csrf_from, make_config

REPO = Path(__file__).resolve().parents[2]
RECEIPT_RE = re.compile(r'<span class="group">([0-9A-Z]{4})</span>')
ONION = "http://" + "a" * 56 + ".onion"


def _report_page(client: FlaskClient, **extra: Any) -> Any:
    page = client.get("/report/")
    data: dict[str, Any] = {
        "csrf_token": csrf_from(page.text),
        "step": "submit",
        "what_happened": "名簿がネット上にある",
        "whistleblower": "yes",
    }
    data.update(extra)
    return client.post("/report/", data=data, content_type="multipart/form-data")


# --- 6: no plaintext on disk ------------------------------------------------------------------


def test_a_large_upload_never_touches_a_temporary_file(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        original = getattr(tempfile, name)

        def spy(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            opened.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(tempfile, name, spy)
    note = b"CANARY-ON-DISK " * 100_000  # 1.5 MB: Werkzeug would spool it from 500 KB on
    # The body is encoded here: the test client's own encoder would spool it to a file too.
    page = client.get("/report/")
    boundary = "b0undary"
    fields = {"csrf_token": csrf_from(page.text), "step": "submit", "what_happened": "大きな添付"}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    body += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            'filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        + note
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/report/", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200, response.text[:500]
    assert len(RECEIPT_RE.findall(response.text)) == 6
    assert opened == []


def test_nginx_recipes_keep_request_bodies_in_memory() -> None:
    site = (REPO / "deploy" / "nginx" / "csirt.conf").read_text()
    intake = site[site.index("server_name report.") : site.index("# --- Console")]
    onion = (REPO / "deploy" / "tor" / "nginx-onion.conf").read_text()
    for block in (intake, onion):
        assert "proxy_request_buffering off;" in block
        limit = re.search(r"client_max_body_size (\d+)m;", block)
        buffer = re.search(r"client_body_buffer_size (\d+)m;", block)
        assert limit is not None
        assert buffer is not None
        assert int(buffer.group(1)) >= int(limit.group(1))
        assert "access_log off;" in block
    assert onion.count("{") == onion.count("}")


# --- 8: nobody locks reporters out -----------------------------------------------------------


def test_malformed_receipts_spend_nothing_and_wrong_ones_their_own_budget(
    app: Flask, client: FlaskClient
) -> None:
    sent = client.post("/api/v1/reports", json={"answers": {"what_happened": "名簿の流出"}})
    assert sent.status_code == 201
    receipt = sent.json["receipt"]
    key = web.EXTENSION + ".mailbox_budget"
    saved = app.extensions[key]
    app.extensions[key] = Budget(5, 60)
    try:
        for _ in range(1_300):  # the attack of the finding: 1,300 x "X-Receipt: x"
            bad = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": "x"})
            assert bad.status_code == 401
        assert (
            client.get("/api/v1/reports/mailbox", headers={"X-Receipt": receipt}).status_code == 200
        )
        statuses = [
            client.get(
                "/api/v1/reports/mailbox", headers={"X-Receipt": vault.new_receipt()}
            ).status_code
            for _ in range(8)
        ]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}  # well-formed wrong receipts: their own budget is spent
        # ... and the reporter with the right receipt still gets in, by API and by the form.
        assert (
            client.get("/api/v1/reports/mailbox", headers={"X-Receipt": receipt}).status_code == 200
        )
        page = client.get("/report/mailbox")
        opened = client.post(
            "/report/mailbox",
            data={"csrf_token": csrf_from(page.text), "step": "open", "receipt": receipt},
        )
        assert opened.status_code == 200
        malformed = client.post(
            "/report/mailbox",
            data={"csrf_token": csrf_from(page.text), "step": "open", "receipt": "x"},
        )
        assert malformed.status_code == 400
    finally:
        app.extensions[key] = saved


# --- 9: the receipt page cannot lose the receipt -----------------------------------------------


def test_switching_language_on_the_receipt_page_keeps_the_receipt(client: FlaskClient) -> None:
    page = _report_page(client)
    assert page.status_code == 200
    groups = RECEIPT_RE.findall(page.text)
    assert len(groups) == 6
    switch = re.search(
        r'<form method="post" action="/report/" class="lang-switch".*?</form>', page.text, re.S
    )
    assert switch is not None, "the receipt page's language switch must post the sealed state"
    token = re.search(r'name="token" value="([^"]+)"', switch.group(0))
    assert token is not None
    english = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(page.text),
            "step": "language",
            "token": token.group(1),
            "lang": "en",
        },
    )
    assert english.status_code == 200
    assert RECEIPT_RE.findall(english.text) == groups
    assert "Your receipt" in english.text
    back = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(english.text),
            "step": "language",
            "token": re.findall(r'name="token" value="([^"]+)"', english.text)[0],
            "lang": "ja",
        },
    )
    assert RECEIPT_RE.findall(back.text) == groups
    assert "受付番号" in back.text
    # The confirmation still works with the re-sealed state.
    kept = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(back.text),
            "step": "confirm",
            "token": re.findall(r'name="token" value="([^"]+)"', back.text)[-1],
            "kept": "yes",
            "last_group": groups[-1],
        },
    )
    assert kept.status_code == 200


def test_a_forged_language_switch_reveals_nothing(client: FlaskClient) -> None:
    page = client.get("/report/")
    forged = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(page.text),
            "step": "language",
            "token": "AAAA",
            "lang": "en",
        },
    )
    assert forged.status_code == 400
    assert not RECEIPT_RE.findall(forged.text)


# --- 11: the onion service -------------------------------------------------------------------


def test_onion_location_header_when_configured(database_url: str, tmp_path: Path) -> None:
    app = create_app(make_config(database_url, tmp_path, onion_url=ONION), interface="intake")
    plain = create_app(make_config(database_url, tmp_path / "plain"), interface="intake")
    try:
        page = app.test_client().get("/report/")
        assert page.status_code == 200
        assert page.headers["Onion-Location"] == ONION + "/report/"
        assert "Onion-Location" not in plain.test_client().get("/report/").headers
    finally:
        get_db(app).engine.dispose()
        get_db(plain).engine.dispose()


def test_onion_url_is_validated_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CSIRT_ONION_URL"):
        Config.from_env({"CSIRT_ONION_URL": "http://example.com"}, instance_path=tmp_path)
    config = Config.from_env({"CSIRT_ONION_URL": ONION + "/"}, instance_path=tmp_path)
    assert config.onion_url == ONION


def test_tor_recipe_is_valid() -> None:
    known = {
        "SocksPort",
        "ORPort",
        "HiddenServiceDir",
        "HiddenServiceVersion",
        "HiddenServicePort",
        "HiddenServiceNonAnonymousMode",
    }
    lines = [
        line.split()
        for line in (REPO / "deploy" / "tor" / "csirt-intake.torrc").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    options = {words[0]: words[1:] for words in lines}
    assert set(options) <= known
    assert options["HiddenServiceDir"][0].startswith("/var/lib/tor/")
    assert options["HiddenServiceVersion"] == ["3"]
    assert options["SocksPort"] == ["0"]
    assert options["HiddenServiceNonAnonymousMode"] == ["0"]
    virtual, target = options["HiddenServicePort"]
    assert virtual == "80"
    assert target.startswith("127.0.0.1:")
    onion = (REPO / "deploy" / "tor" / "nginx-onion.conf").read_text()
    assert f"listen {target};" in onion
