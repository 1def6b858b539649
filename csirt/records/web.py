"""What the case record pages and the record API share (not a view module): the evidence store,
the configured zone and the evidence download response."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, send_file

from csirt.cases.models import Evidence
from csirt.db import get_session
from csirt.records.blobs import store_for
from csirt.records.storage import EvidenceStore, StorageError

# Content types a browser may be handed as they are (always as an attachment); anything else,
# notably captured HTML, is served as opaque bytes.
SAFE_DOWNLOAD_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf"})


def evidence_store() -> EvidenceStore:
    """The evidence store: the database on PostgreSQL, else ``<instance>/evidence``."""
    return store_for(get_session(), Path(current_app.config["CSIRT"].instance_path))


def tz() -> Any:
    return current_app.config["CSIRT"].tz


def evidence_response(row: Evidence) -> Response:
    """The stored bytes as an attachment that no browser renders inline."""
    try:
        content = evidence_store().open(row.storage_key)
    except (FileNotFoundError, StorageError):
        abort(410)
    mimetype = row.content_type if row.content_type in SAFE_DOWNLOAD_TYPES else None
    response = send_file(
        content,
        mimetype=mimetype or "application/octet-stream",
        as_attachment=True,
        download_name=row.filename or f"evidence-{row.id}-{row.sha256[:12]}.bin",
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Evidence-SHA256"] = row.sha256
    return response
