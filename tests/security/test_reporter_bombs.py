"""Issue 13, findings 5 and 10: bounded work for anonymous input, through the reporter API.

A pixel bomb, a zip bomb, a damaged or encrypted Office file and deeply nested JSON posted to
``POST /api/v1/reports`` each get a 4xx within 10 s that names the attachment, nothing is
written, and no name from inside a file reaches the log.
"""

from __future__ import annotations

import io
import json
import logging
import struct
import time
import zipfile
import zlib

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.intake.models import Submission

INNER_NAME = "word/CANARY-INNER-NAME-0b0b.xml"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def pixel_bomb(side: int = 12_600) -> bytes:
    """A valid grey PNG of side x side pixels (158 megapixels) in a few hundred kilobytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _docx(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb(megabytes: int = 195) -> bytes:
    """A .docx whose document part inflates to ``megabytes`` MB (about 1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as handle:
            block = b" " * (1024 * 1024)
            for _ in range(megabytes):
                handle.write(block)
    return out.getvalue()


def bad_crc_docx() -> bytes:
    data = bytearray(
        _docx({INNER_NAME: b"<w:document>CRC-CANARY</w:document>"}, zipfile.ZIP_STORED)
    )
    at = data.index(b"CRC-CANARY")
    data[at] ^= 0xFF  # the stored bytes no longer match the CRC in the headers
    return bytes(data)


def encrypted_docx() -> bytes:
    data = bytearray(_docx({INNER_NAME: b"<w:document/>"}, zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset] |= 0x01  # "encrypted" flag
            start += 4
    return bytes(data)


def _post(client: FlaskClient, name: str, data: bytes, content_type: str) -> tuple[int, str, float]:
    started = time.monotonic()
    response = client.post(
        "/api/v1/reports",
        data={
            "document": json.dumps({"answers": {"what_happened": "添付を確認してください"}}),
            "attachments": (io.BytesIO(data), name, content_type),
        },
        content_type="multipart/form-data",
    )
    return response.status_code, response.text, time.monotonic() - started


@pytest.mark.parametrize(
    ("name", "build", "content_type", "says"),
    [
        ("pixels.png", pixel_bomb, "image/png", "too many pixels"),
        ("inflates.docx", zip_bomb, DOCX, "too large when unpacked"),
        ("damaged.docx", bad_crc_docx, DOCX, "cannot be read"),
        ("locked.docx", encrypted_docx, DOCX, "encrypted"),
        ("fake.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png", "cannot be read"),
        ("fake.pdf", lambda: b"%PDF-1.7\n1 0 obj <<", "application/pdf", "cannot be read"),
    ],
)
def test_hostile_attachment_is_refused_quickly_by_name(
    client: FlaskClient,
    db_session: Session,
    caplog: pytest.LogCaptureFixture,
    name: str,
    build: object,
    content_type: str,
    says: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    before = db_session.scalar(select(func.count(Submission.id)))
    status, body, seconds = _post(client, name, build(), content_type)  # type: ignore[operator]
    assert 400 <= status < 500, body
    assert seconds < 10, seconds
    assert name in body  # the refusal names the attachment ...
    assert says in body
    assert "CANARY-INNER" not in body  # ... never anything from inside it
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "CANARY-INNER" not in logged
    assert "Traceback" not in logged
    assert db_session.scalar(select(func.count(Submission.id))) == before


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        '{"answers": ' + "[" * 40 + "]" * 40 + "}",
    ],
)
def test_nested_json_is_a_4xx_on_the_reporter_api(client: FlaskClient, body: str) -> None:
    started = time.monotonic()
    response = client.post("/api/v1/reports", data=body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.text
    assert time.monotonic() - started < 10


def test_nested_json_document_part_is_a_4xx(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/reports",
        data={"document": "[" * 100_000},
        content_type="multipart/form-data",
    )
    assert 400 <= response.status_code < 500


def test_oversized_json_is_a_413(client: FlaskClient) -> None:
    body = json.dumps({"answers": {"what_happened": "x" * (2 * 1024 * 1024)}})
    response = client.post("/api/v1/reports", data=body, content_type="application/json")
    assert response.status_code == 413


def test_intake_interface_alone_refuses_nested_json(make_app: object) -> None:
    intake = make_app("intake")  # type: ignore[operator]
    response = intake.test_client().post(
        "/api/v1/reports", data="[" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
