"""Flask glue for the intake: settings from the app config, sealed form tokens, uploads.

Helpers here never read anything that identifies the client: only the form, the files and the
session's CSRF token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import mimetypes
import struct
import threading
import time
from datetime import datetime
from typing import IO, Any

from flask import Flask, Request, current_app, request
from flask_babel import format_date
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict

from csirt import vault
from csirt.auth.models import Setting
from csirt.catalog.current import current_catalog
from csirt.intake.base import IntakeSettings, Upload
from csirt.intake.escrow import Escrow
from csirt.ratelimit import Budget, budget_for

EXTENSION = "csirt.intake"
SALT_SETTING = "intake.receipt_salt"
_TOKEN_TIME = struct.Struct(">Q")
_LOCK = threading.Lock()
CONFIRM_CONTEXT = b"csirt:intake:confirm"
MAILBOX_CONTEXT = b"csirt:intake:mailbox"
CONFIRM_SECONDS = 30 * 60
MAILBOX_SECONDS = 30 * 60


class InMemoryRequest(Request):
    """A request whose uploaded files are held in memory, never spooled to a temporary file.

    The whole body is bounded by ``MAX_CONTENT_LENGTH`` (CSIRT_MAX_UPLOAD_MB), so memory is too.
    """

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


def _installation_salt(session: Session) -> bytes:
    row = session.get(Setting, SALT_SETTING)
    if row is None:
        session.add(Setting(key=SALT_SETTING, value=vault.new_installation_salt().hex()))
        try:
            session.commit()
        except SQLAlchemyError:  # another worker created it first (or holds the write lock)
            session.rollback()
        row = session.get(Setting, SALT_SETTING)
        assert row is not None
    return bytes.fromhex(str(row.value))


def settings(session: Session, app: Flask | None = None) -> IntakeSettings:
    """The intake's settings for this app, built once (the salt is read from the database)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get(EXTENSION)
    if isinstance(cached, IntakeSettings):
        return cached
    with _LOCK:
        cached = app.extensions.get(EXTENSION)
        if isinstance(cached, IntakeSettings):
            return cached
        config = app.config["CSIRT"]
        catalog = current_catalog(app)
        questionnaire = catalog.questionnaire
        salt = _installation_salt(session)
        if config.testing:
            hasher = vault.ReceiptHasher.for_tests(salt)
        else:
            hasher = vault.ReceiptHasher(
                salt,
                max_concurrent=config.intake_hash_slots,
                wait_timeout=float(config.intake_hash_wait_s),
            )
        built = IntakeSettings(
            questionnaire=questionnaire,
            hasher=hasher,
            tz=config.tz,
            jurisdictions=config.jurisdictions,
            catalog=catalog,
            retention_days=config.intake_retention_days,
            warn_days=config.intake_retention_warn_days,
            ack_days=config.intake_ack_days,
            submission_budget=budget_for(
                app, "intake.submissions", config.intake_submissions_per_minute, 60
            ),
            escrow=Escrow.from_config(config),
        )
        app.extensions[EXTENSION] = built
        app.extensions[EXTENSION + ".mailbox_budget"] = budget_for(
            app, "intake.mailbox", config.intake_mailbox_per_minute, 60
        )
        return built


def mailbox_budget(app: Flask | None = None) -> Budget:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    budget: Budget = app.extensions[EXTENSION + ".mailbox_budget"]
    return budget


def _token_key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hashlib.blake2b(secret, digest_size=32, person=b"csirt-intake-tok").digest()


def seal_token(payload: bytes, context: bytes, seconds: int) -> str:
    """Seal a payload with an expiry under a key derived from the app secret (for a form)."""
    expires = _TOKEN_TIME.pack(int(time.time()) + seconds)
    blob = vault.secret_seal(_token_key(), expires + payload, context=context)
    return base64.urlsafe_b64encode(blob).decode("ascii")


def open_token(token: str, context: bytes) -> bytes | None:
    """The payload of a sealed token, or None if altered, foreign or expired."""
    try:
        blob = base64.urlsafe_b64decode(token.encode("ascii"))
        plain = vault.secret_open(_token_key(), blob, context=context)
    except (binascii.Error, ValueError, UnicodeEncodeError, vault.TamperedError):
        return None
    if len(plain) < _TOKEN_TIME.size:
        return None
    (expires,) = _TOKEN_TIME.unpack_from(plain)
    if expires < time.time():
        return None
    return plain[_TOKEN_TIME.size :]


def mailbox_token(keys: vault.ReceiptKeys) -> str:
    return seal_token(keys.lookup + keys.key, MAILBOX_CONTEXT, MAILBOX_SECONDS)


def keys_from_mailbox_token(token: str) -> vault.ReceiptKeys | None:
    payload = open_token(token, MAILBOX_CONTEXT)
    if payload is None or len(payload) != 64:
        return None
    return vault.ReceiptKeys(lookup=payload[:32], key=payload[32:])


def read_uploads(files: list[FileStorage], limit_bytes: int) -> list[Upload]:
    """Read uploaded files into memory, at most limit_bytes + 1 each (the caller checks size)."""
    uploads = []
    for storage in files:
        if not storage or not storage.filename:
            continue
        data = storage.stream.read(limit_bytes + 1)
        content_type = (storage.mimetype or "").lower()
        if content_type in ("", "application/octet-stream"):
            content_type = mimetypes.guess_type(storage.filename)[0] or "application/octet-stream"
        uploads.append(Upload(filename=storage.filename, content_type=content_type, data=data))
    return uploads


def render_choices(field: Any, language: str) -> list[tuple[str, str]]:
    """(value, label) pairs of a checkbox field, labels from the vocabulary when needed."""
    vocabulary = current_catalog().vocabulary
    return [
        (
            choice.value,
            choice.label.get(language)
            if choice.label is not None
            else vocabulary.label(choice.value, language),  # type: ignore[arg-type]
        )
        for choice in field.choices
    ]


# Form fields the questionnaire does not know: they are never treated as answers.
CONTROL_FIELDS = frozenset({"csrf_token", "step", "token", "kept", "last_group"})


def step() -> str:
    return str(request.form.get("step", ""))


def form_value(name: str) -> str:
    return str(request.form.get(name, ""))


def form_answers() -> MultiDict[str, str]:
    """The posted answers without the control fields (CSRF token, step, ...)."""
    return MultiDict(
        [(key, value) for key, value in request.form.items(multi=True) if key not in CONTROL_FIELDS]
    )


def files(name: str) -> list[FileStorage]:
    return request.files.getlist(name)


def format_due(moment: datetime) -> str:
    """A due date as the reporter reads it (a date in the configured zone)."""
    return str(format_date(moment, "long"))
