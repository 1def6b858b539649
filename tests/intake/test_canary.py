"""What a database dump or a log could reveal: no canary, no client address, no receipt.

The SQLite variant uses its own committed database file (the shared fixtures roll back, so their
rows never reach the disk) and reads the raw bytes of the file and its WAL.  On PostgreSQL it
selects every text and bytea column of every table through the test's connection.
"""

from __future__ import annotations

import io
import logging
import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from csirt import create_app
from csirt.db import get_db
from csirt.intake import base
from csirt.migrate import upgrade
from tests.conftest import csrf_from, login, make_config
from tests.factories import UserFactory
from tests.intake.conftest import png_with_exif

TEXT_CANARY = "CANARY-TEXT-7d1f3a"
NAME_CANARY = "CANARY-NAME-2b9e44"
CONTACT_CANARY = "CANARY-CONTACT-c0ffee"
FILE_CANARY = "CANARY-FILE-91ab0c"
EXIF_CANARY = "CANARY-EXIF-5e5e5e"
API_CANARY = "CANARY-API-4242aa"
REPLY_CANARY = "CANARY-REPLY-77aa11"
CANARIES = (
    TEXT_CANARY,
    NAME_CANARY,
    CONTACT_CANARY,
    FILE_CANARY,
    EXIF_CANARY,
    API_CANARY,
    REPLY_CANARY,
)
CLIENT_ADDRESS = "127.0.0.1"
RECEIPT_RE = re.compile(r'<span class="group">([0-9A-Z]{4})</span>')


def _variants(receipt: str) -> list[bytes]:
    compact = receipt.replace("-", "")
    forms = {receipt, compact, receipt.lower(), compact.lower()}
    return [f.encode() for f in forms] + [f.encode("utf-16-le") for f in forms]


def _run_flow(app: Flask, client: FlaskClient, session: Any) -> list[str]:
    """Submit by form and by API, let staff open, reply, download and approve; return receipts."""
    hashing = app.extensions["csirt.hashing"]
    factory = UserFactory(session, hashing)
    officer = factory.create(["intake_officer"], totp=True)
    custodian = factory.create(["custodian"], totp=True)
    session.commit()
    # Staff enrol their keys by signing in (before the reports arrive).
    staff_clients = {}
    for who in (officer, custodian):
        staff_client = app.test_client()
        assert (
            login(staff_client, who.user.username, who.password, who.totp_seed).status_code == 302
        )
        staff_client.get("/console/intake/key")
        staff_clients[who.user.username] = staff_client

    page = client.get("/report/")
    response = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(page.text),
            "step": "submit",
            "what_happened": f"名簿が掲載されている {TEXT_CANARY}",
            "identity.name": NAME_CANARY,
            "identity.contact": CONTACT_CANARY,
            "whistleblower": "yes",
            "attachments": [
                (io.BytesIO(f"leaked rows {FILE_CANARY}".encode()), "rows.txt", "text/plain"),
                (io.BytesIO(png_with_exif(EXIF_CANARY)), "shot.png", "image/png"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.text
    receipts = ["-".join(RECEIPT_RE.findall(response.text))]
    api = client.post(
        "/api/v1/reports",
        json={"answers": {"what_happened": API_CANARY}, "identity": {"contact": CONTACT_CANARY}},
    )
    assert api.status_code == 201
    receipts.append(api.json["receipt"])
    for receipt in receipts:  # the reporter comes back, also with a wrong receipt
        page = client.get("/report/mailbox")
        opened = client.post(
            "/report/mailbox",
            data={"csrf_token": csrf_from(page.text), "step": "open", "receipt": receipt},
        )
        assert opened.status_code == 200
        client.get("/api/v1/reports/mailbox", headers={"X-Receipt": receipt})
    client.get("/api/v1/reports/mailbox", headers={"X-Receipt": "WRONG-RECEIPT"})

    officer_client = staff_clients[officer.user.username]
    inbox = officer_client.get("/console/intake/")
    ids = [int(i) for i in re.findall(r"/console/intake/(\d+)\"", inbox.text)]
    assert len(ids) == 2
    first = officer_client.get(f"/console/intake/{min(ids)}")
    assert TEXT_CANARY in first.text
    for attachment_id in re.findall(r"/files/(\d+)\"", first.text):
        officer_client.get(f"/console/intake/{min(ids)}/files/{attachment_id}")
        officer_client.get(f"/console/intake/{min(ids)}/files/{attachment_id}?original=1")
    csrf = csrf_from(first.text)
    officer_client.post(
        f"/console/intake/{min(ids)}/reply", data={"csrf_token": csrf, "body": REPLY_CANARY}
    )
    officer_client.post(
        f"/console/intake/{min(ids)}/identity/request",
        data={
            "csrf_token": csrf,
            "reason": "to protect the reporter from retaliation",
            "justification": "the reporter must be warned and the mailbox is unanswered",
        },
    )
    custodian_client = staff_clients[custodian.user.username]
    requests_page = custodian_client.get("/console/intake/identity-requests")
    request_id = re.search(r"/identity-requests/(\d+)\"", requests_page.text).group(1)  # type: ignore[union-attr]
    custodian_client.post(
        f"/console/intake/identity-requests/{request_id}",
        data={"csrf_token": csrf_from(requests_page.text), "decision": "approve"},
    )
    shown = officer_client.post(f"/console/intake/{min(ids)}/identity", data={"csrf_token": csrf})
    assert NAME_CANARY in shown.text  # the approved officer can read it ...
    with app.app_context():
        settings = base.IntakeSettings  # noqa: F841 (keeps the import used)
    return receipts


def _assert_clean(blob: bytes, receipts: list[str], where: str) -> None:
    for canary in CANARIES:
        for encoding in ("utf-8", "utf-16-le"):
            assert canary.encode(encoding) not in blob, f"{canary} found in {where}"
    assert CLIENT_ADDRESS.encode() not in blob, f"client address found in {where}"
    for receipt in receipts:
        for variant in _variants(receipt):
            assert variant not in blob, f"receipt found in {where}"


@pytest.mark.sqlite_only  # the raw-file check is for SQLite
def test_sqlite_file_and_logs_hold_no_canary(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    database = tmp_path / "canary.sqlite3"
    url = f"sqlite:///{database}"
    upgrade(url)
    app = create_app(make_config(url, tmp_path / "instance"), interface="all")
    client = app.test_client()
    db = get_db(app)
    session = db.sessionmaker()
    receipts = _run_flow(app, client, session)
    session.close()
    raw = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(database) + suffix)
        if path.exists():
            raw += path.read_bytes()
    db.engine.dispose()
    raw += database.read_bytes()
    assert len(raw) > 10_000
    _assert_clean(raw, receipts, "the SQLite file")
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    ).encode()
    _assert_clean(logged, receipts, "the log")
    instance_files = b"".join(
        p.read_bytes() for p in (tmp_path / "instance").rglob("*") if p.is_file()
    )
    _assert_clean(instance_files, receipts, "the instance folder")


@pytest.mark.postgres_only
def test_postgres_columns_and_logs_hold_no_canary(
    app: Flask, connection: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = get_db(app)
    session = db.sessionmaker()
    receipts = _run_flow(app, app.test_client(), session)
    session.close()
    columns = connection.execute(
        text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'bytea', 'json', 'jsonb')"
        )
    ).all()
    assert columns
    dump = b""
    for table, column, data_type in columns:
        expression = (
            f'"{column}"' if data_type == "bytea" else f"convert_to(\"{column}\"::text, 'UTF8')"
        )
        for (value,) in connection.execute(text(f'SELECT {expression} FROM "{table}"')):
            if value is not None:
                dump += bytes(value) + b"\n"
    assert len(dump) > 1000
    _assert_clean(dump, receipts, "PostgreSQL")
    logged = "\n".join(r.getMessage() for r in caplog.records).encode()
    _assert_clean(logged, receipts, "the log")


def test_intake_code_never_reads_client_identifiers() -> None:
    root = Path(__file__).resolve().parents[2] / "csirt"
    forbidden = re.compile("remote" + "_addr|X-Forwarded|User-" + "Agent", re.IGNORECASE)
    for folder in ("intake", "vault"):
        for path in (root / folder).rglob("*.py"):
            assert not forbidden.search(path.read_text()), path
    assert os.environ.get("CSIRT_TEST_BACKEND", "sqlite") in ("sqlite", "postgres")
