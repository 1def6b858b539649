"""Every sealed blob is authenticated; the purge command deletes for real."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.db import utcnow
from csirt.intake import base, disclosure, handling, reporter
from csirt.intake.base import IntakeSettings, Upload
from csirt.intake.models import (
    IdentityKeyWrap,
    Submission,
    SubmissionAttachment,
    SubmissionKeyWrap,
    SubmissionMessage,
)
from tests.intake.conftest import BASIC_ANSWERS, Staff, submit


def _flip(blob: bytes, index: int = -1) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)


def _setup(db_session: Session, settings: IntakeSettings, officer: Staff) -> base.Submitted:
    answers = dict(BASIC_ANSWERS, **{"identity.name": "name"})
    result = submit(db_session, settings, answers, [Upload("a.txt", "text/plain", b"file")])
    handling.officer_reply(db_session, officer.user, officer.private, result.submission_id, "hi")
    return result


@pytest.mark.parametrize(
    "target",
    [
        "answers",
        "receipt_wrap",
        "officer_wrap",
        "message",
        "attachment_meta",
        "attachment_original",
        "attachment_stripped",
        "identity",
        "identity_wrap",
        "moved_answers",
    ],
)
def test_tampering_with_any_sealed_blob_is_detected(
    target: str, db_session: Session, settings: IntakeSettings, officer: Staff, custodian: Staff
) -> None:
    result = _setup(db_session, settings, officer)
    sid = result.submission_id
    row = db_session.get(Submission, sid)
    assert row is not None
    attachment = db_session.scalar(select(SubmissionAttachment))
    assert attachment is not None
    actions: dict[str, Any] = {
        "answers": lambda: setattr(row, "answers_sealed", _flip(row.answers_sealed)),
        "receipt_wrap": lambda: setattr(row, "receipt_wrap", _flip(row.receipt_wrap, 5)),
        "message": lambda: _flip_message(db_session),
        "attachment_meta": lambda: setattr(
            attachment, "meta_sealed", _flip(attachment.meta_sealed)
        ),
        "attachment_original": lambda: setattr(
            attachment, "original_sealed", _flip(attachment.original_sealed)
        ),
        "attachment_stripped": lambda: setattr(
            attachment, "stripped_sealed", _flip(attachment.stripped_sealed)
        ),
        "identity": lambda: setattr(row, "identity_sealed", _flip(row.identity_sealed or b"")),
        "officer_wrap": lambda: _flip_wrap(db_session, SubmissionKeyWrap),
        "identity_wrap": lambda: _flip_wrap(db_session, IdentityKeyWrap),
        "moved_answers": lambda: _move_answers(db_session, settings, row),
    }
    actions[target]()
    db_session.flush()
    with pytest.raises(vault.TamperedError):
        _reveal(target, db_session, settings, result, officer, custodian, attachment.id)


def _reveal(
    target: str,
    db_session: Session,
    settings: IntakeSettings,
    result: base.Submitted,
    officer: Staff,
    custodian: Staff,
    attachment_id: int,
) -> None:
    """Do what would show the tampered blob to its reader."""
    sid = result.submission_id
    if target == "receipt_wrap":
        reporter.open_mailbox(db_session, settings, result.receipt)
    elif target in ("attachment_original", "attachment_stripped"):
        handling.download_attachment(
            db_session,
            officer.user,
            officer.private,
            sid,
            attachment_id,
            original=target == "attachment_original",
        )
    elif target in ("identity", "identity_wrap"):
        request = disclosure.request_identity(
            db_session,
            officer.user,
            sid,
            "a reason long enough",
            justification="the mailbox went unanswered and the facts need the reporter",
        )
        disclosure.decide_identity(
            db_session, custodian.user, custodian.private, request.id, approve=True
        )
        disclosure.view_identity(db_session, officer.user, officer.private, sid)
    else:
        handling.open_submission(db_session, officer.user, officer.private, sid)


def _flip_message(db_session: Session) -> None:
    message = db_session.scalar(select(SubmissionMessage))
    assert message is not None
    message.body_sealed = _flip(message.body_sealed)


def _flip_wrap(db_session: Session, model: Any) -> None:
    wrap = db_session.scalar(select(model))
    assert wrap is not None
    wrap.wrapped = _flip(wrap.wrapped)


def _move_answers(db_session: Session, settings: IntakeSettings, row: Submission) -> None:
    other = submit(db_session, settings)
    other_row = db_session.get(Submission, other.submission_id)
    assert other_row is not None
    row.answers_sealed = other_row.answers_sealed  # a blob from another report does not open


def test_purge_command(runner: Any, db_session: Session, settings: IntakeSettings) -> None:
    old = submit(db_session, settings)
    row = db_session.get(Submission, old.submission_id)
    assert row is not None
    row.expires_at = utcnow() - timedelta(days=1)
    db_session.commit()
    result = runner.invoke(args=["intake", "purge"])
    assert result.exit_code == 0, result.output
    assert "deleted: 1" in result.output
    db_session.expire_all()
    assert db_session.get(Submission, old.submission_id) is None
