"""Issue 13, finding 4: metadata removal reaches inside files; what it cannot clean is said so.

Every entry of the corpus hides a canary in one place; the stripped copy must not hold it
anywhere (raw, inflated or decoded) and must still open as its type. A file with embedded media
of a kind that is not cleaned is marked to the officer, on the report page, as not clean.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from csirt.intake.strip import DOCX, strip_metadata
from tests.conftest import csrf_from, login
from tests.factories import UserFactory
from tests.intake.metadata_corpus import CORPUS, _docx_with, searchable


@pytest.mark.parametrize(("kind", "place"), list(CORPUS))
def test_every_canary_is_removed(kind: str, place: str) -> None:
    canary = f"CANARY-{kind}-{abs(hash(place)) % 10_000:04d}"
    data, content_type = CORPUS[(kind, place)](canary)
    assert canary.encode() in searchable(data), "the corpus must hide the canary"
    stripped = strip_metadata(data, content_type)
    assert canary.encode() not in searchable(stripped.data), (kind, place)
    assert stripped.complete
    # Still a file of its type.
    if content_type.startswith("image/"):
        with Image.open(io.BytesIO(stripped.data)) as image:
            image.load()
            assert image.size == (16, 16)
    elif content_type == "application/pdf":
        from pypdf import PdfReader

        assert len(PdfReader(io.BytesIO(stripped.data)).pages) == 1
    elif content_type == DOCX:
        import docx

        assert docx.Document(io.BytesIO(stripped.data)).paragraphs is not None
    else:
        assert zipfile.ZipFile(io.BytesIO(stripped.data)).testzip() is None


def test_media_that_cannot_be_cleaned_is_marked_to_the_officer(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    video = _docx_with({"word/media/media1.mp4": b"\x00\x00\x00\x18ftypmp42CANARY-VIDEO"})
    assert strip_metadata(video, DOCX).complete is False
    officer = users.create(["intake_officer"], totp=True, keypair=True)
    db_session.commit()
    page = client.get("/report/")
    sent = client.post(
        "/report/",
        data={
            "csrf_token": csrf_from(page.text),
            "step": "submit",
            "what_happened": "動画入りの文書を添付します",
            "attachments": [
                (io.BytesIO(video), "with-video.docx", DOCX),
                (io.BytesIO(b"plain note"), "note.txt", "text/plain"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 200, sent.text[:400]
    staff = app.test_client()
    assert login(staff, officer.user.username, officer.password, officer.totp_seed).status_code
    staff.get("/console/intake/key")
    inbox = staff.get("/console/intake/")
    import re

    sid = max(int(i) for i in re.findall(r"/console/intake/(\d+)\"", inbox.text))
    opened = staff.get(f"/console/intake/{sid}")
    assert opened.status_code == 200
    html: Any = opened.text
    video_line = next(line for line in html.splitlines() if "with-video.docx" in line)
    note_line = next(line for line in html.splitlines() if "note.txt" in line)
    assert 'class="warn"' in video_line
    assert 'class="warn"' not in note_line
