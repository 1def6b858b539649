"""The reporter's side: validate, strip, seal and store a report; open and answer the mailbox.

Nothing here logs or records a receipt, a client address or any plaintext the reporter sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.auth.models import User
from csirt.catalog import FileField, Questionnaire
from csirt.db import utcnow
from csirt.intake import signals
from csirt.intake.base import (
    MAX_MESSAGE_LENGTH,
    AnswersInvalidError,
    AttachmentInfo,
    BadReceiptError,
    IntakeBusyError,
    IntakeSettings,
    Mailbox,
    Message,
    Submitted,
    Upload,
    custodians,
    dump_json,
    hour,
    load_json,
    officers,
)
from csirt.intake.conflicts import is_conflicted, split_involved
from csirt.intake.models import (
    IdentityKeyWrap,
    Submission,
    SubmissionAttachment,
    SubmissionKeyWrap,
    SubmissionMessage,
)
from csirt.intake.strip import TIME_BUDGET_S, StrippedFile, UnreadableFileError, strip_metadata
from csirt.ratelimit import Budget
from csirt.triage.deadlines import due_at
from csirt.triage.kinds import ObligationKind

log = logging.getLogger(__name__)


def answer_dates(
    received_at: datetime,
    whistleblower: bool,
    settings: IntakeSettings,
    acknowledged_at: datetime | None = None,
) -> tuple[datetime, datetime, datetime | None]:
    """(acknowledge by, answer by, feedback by) for a report received at ``received_at``.

    Every report gets the internal acknowledgement target.  A whistleblower report is answered
    (investigation or not) within 20 days in Japan; with the EU enabled it is acknowledged
    within 7 days and gets feedback within 3 months of the acknowledgement (Directive
    2019/1937 Art. 9(1)(f)). The receipt page shown when the report is sent is that
    acknowledgement, so ``acknowledged_at`` defaults to ``received_at``; only without one would
    the 3 months run from the end of the 7 days. A period that starts at 00:00 counts its first
    day (民法140条但書, applied by ``due_at``).
    """
    tz = settings.tz
    internal = (received_at.astimezone(tz) + timedelta(days=settings.ack_days)).replace(
        hour=23, minute=59, second=59, microsecond=0
    )
    if not whistleblower:
        return internal, internal, None
    rules = {rule.kind: rule for rule in settings.catalog.rules.obligations}
    answer_due = due_at(rules[ObligationKind.WB_INVESTIGATION_NOTICE].due, received_at, tz)
    ack_due, feedback_due = internal, None
    if "EU" in settings.jurisdictions:
        eu_ack = due_at(rules[ObligationKind.WB_ACKNOWLEDGE].due, received_at, tz)
        ack_due = min(internal, eu_ack)
        acknowledged = received_at if acknowledged_at is None else acknowledged_at
        # A late acknowledgement does not push the feedback date out.
        feedback_due = due_at(rules[ObligationKind.WB_FEEDBACK].due, min(acknowledged, eu_ack), tz)
    return ack_due, answer_due, feedback_due


def check_uploads(questionnaire: Questionnaire, uploads: Sequence[Upload]) -> dict[str, str]:
    """Check attachments against the questionnaire's limits; {field: message} for failures."""
    if not uploads:
        return {}
    fields = questionnaire.file_fields
    if not fields:
        return {"attachments": "attachments are not accepted"}
    limits: FileField = fields[0]
    if len(uploads) > limits.max_files:
        return {limits.key: f"at most {limits.max_files} files"}
    for upload in uploads:
        if upload.content_type not in limits.allowed_types:
            return {limits.key: "this type of file is not accepted"}
        if len(upload.data) > limits.max_size_bytes:
            return {limits.key: f"each file must be at most {limits.max_size_mb} MB"}
    return {}


_REFUSALS = {
    "too many pixels": "the image has too many pixels",
    "too large unpacked": "the file is too large when unpacked",
    "too many parts": "the file is too large when unpacked",
    "too slow": "the file takes too long to process",
    "encrypted": "the file is encrypted",
}


def _strip_all(uploads: Sequence[Upload]) -> list[tuple[Upload, StrippedFile]]:
    """Strip every file first, so that an unreadable one refuses the lot before any write.

    One time budget covers all the files of a request; a refusal names the file (by the name
    the reporter gave it, never by anything read from inside it).
    """
    deadline = time.monotonic() + TIME_BUDGET_S
    prepared = []
    for upload in uploads:
        left = max(deadline - time.monotonic(), 0.0)
        try:
            prepared.append(
                (upload, strip_metadata(upload.data, upload.content_type, budget_s=left))
            )
        except UnreadableFileError as exc:
            message = _REFUSALS.get(exc.reason, "a file cannot be read as its type")
            name = _safe_filename(upload.filename)
            raise AnswersInvalidError({"attachments": f"{name}: {message}"}) from None
    return prepared


def _seal_attachments(
    session: Session,
    submission: Submission,
    envelope: vault.SubmissionEnvelope,
    prepared: Sequence[tuple[Upload, StrippedFile]],
    message_id: int | None,
) -> None:
    for upload, stripped in prepared:
        row = SubmissionAttachment(
            submission_id=submission.id,
            message_id=message_id,
            meta_sealed=b"",
            original_sealed=b"",
            stripped_sealed=b"",
            created_at=hour(utcnow()),
        )
        submission.attachments.append(row)
        session.flush()
        meta = {
            "filename": _safe_filename(upload.filename),
            "content_type": upload.content_type,
            "size": len(upload.data),
            "stripped": stripped.method,
            "complete": stripped.complete,
        }
        row.meta_sealed = envelope.seal_field(f"attachment:{row.id}:meta", dump_json(meta))
        row.original_sealed = envelope.seal_field(f"attachment:{row.id}:original", upload.data)
        row.stripped_sealed = envelope.seal_field(f"attachment:{row.id}:stripped", stripped.data)


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    return cleaned[:200] or "attachment"


# --- reporter side -----------------------------------------------------------------------------


def validate_submission(
    settings: IntakeSettings,
    answers: Mapping[str, Any],
    lang: str,
    uploads: Sequence[Upload] = (),
    *,
    ignore_unknown: bool = False,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate answers (identity included) and uploads; raise AnswersInvalidError if bad."""
    cleaned, errors = settings.questionnaire.validate(answers, lang, ignore_unknown=ignore_unknown)
    errors.update(check_uploads(settings.questionnaire, uploads))
    if errors:
        raise AnswersInvalidError(errors)
    identity = {k: v for k, v in cleaned.items() if k.startswith("identity.")}
    return {k: v for k, v in cleaned.items() if k not in identity}, identity


def submit(
    session: Session,
    settings: IntakeSettings,
    answers: Mapping[str, Any],
    lang: str,
    uploads: Sequence[Upload] = (),
    *,
    ignore_unknown: bool = False,
) -> Submitted:
    """Validate, seal and store a report; return its receipt (the caller commits).

    Raises AnswersInvalidError (nothing written) or IntakeBusyError (budget or hasher full).
    """
    cleaned, identity = validate_submission(
        settings, answers, lang, uploads, ignore_unknown=ignore_unknown
    )
    prepared = _strip_all(uploads)
    if settings.submission_budget is not None and not settings.submission_budget.spend():
        raise IntakeBusyError("the submission budget is spent")
    receipt = vault.new_receipt()
    try:
        keys = settings.hasher.derive(receipt)
    except vault.VaultBusyError:
        raise IntakeBusyError("the receipt hasher is busy") from None
    received_at = hour(utcnow())
    whistleblower = cleaned.get("whistleblower") is True
    ack_due, answer_due, feedback_due = answer_dates(received_at, whistleblower, settings)
    involved = split_involved(str(cleaned.get("involved", "")))
    submission = Submission(
        lookup=keys.lookup,
        receipt_wrap=b"",
        answers_sealed=b"",
        questionnaire=f"{settings.questionnaire.id}:{settings.questionnaire.version}",
        lang=lang,
        status="new",
        whistleblower=whistleblower,
        involved=involved,
        received_at=received_at,
        # Stored to the hour like every time about a report (an end-of-day due date becomes
        # 23:00: earlier, never later).
        ack_due=hour(ack_due),
        answer_due=hour(answer_due),
        feedback_due=hour(feedback_due) if feedback_due is not None else None,
        expires_at=received_at + timedelta(days=settings.retention_days),
    )
    session.add(submission)
    session.flush()
    envelope = vault.SubmissionEnvelope.create(submission.id)
    submission.receipt_wrap = envelope.wrap_for_receipt(keys.key)
    submission.answers_sealed = envelope.seal_field("answers", dump_json(cleaned))
    holders = [u for u in officers(session) if not is_conflicted(u, involved)]
    for officer in holders:
        assert officer.public_key is not None
        session.add(
            SubmissionKeyWrap(
                submission_id=submission.id,
                user_id=officer.id,
                wrapped=envelope.wrap_for_officer(officer.public_key),
            )
        )
    escrow_public = (
        settings.escrow.ensure_public_key(session) if settings.escrow is not None else None
    )
    if escrow_public is not None:
        submission.escrow_wrap = envelope.wrap_for_officer(escrow_public)
    if not holders and escrow_public is None:
        log.warning("intake: no intake officer holds a key pair; report %s waits", submission.id)
    if identity:
        identity_key = vault.new_identity_key()
        submission.identity_sealed = vault.seal_identity(
            identity_key, dump_json(identity), submission.id
        )
        for custodian in custodians(session):
            if is_conflicted(custodian, involved):
                continue  # named in the report: no key to its reporter's identity
            assert custodian.public_key is not None
            session.add(
                IdentityKeyWrap(
                    submission_id=submission.id,
                    user_id=custodian.id,
                    wrapped=vault.wrap_identity_key(identity_key, custodian.public_key),
                )
            )
    _seal_attachments(session, submission, envelope, prepared, None)
    session.flush()
    signals.report_received.send(submission, session=session)
    return Submitted(submission.id, receipt, submission.answer_due)


def find_by_keys(session: Session, keys: vault.ReceiptKeys) -> Mailbox:
    """Open the mailbox for derived receipt keys; BadReceiptError if none matches."""
    submission = session.scalar(select(Submission).where(Submission.lookup == keys.lookup))
    if submission is None:
        raise BadReceiptError("no such receipt")
    envelope = vault.SubmissionEnvelope.open_with_receipt(
        submission.id, keys.key, submission.receipt_wrap
    )
    return Mailbox(
        submission=submission,
        envelope=envelope,
        messages=messages_of(submission, envelope),
        attachments=attachments_of(submission, envelope, message_id=None),
    )


def derive_keys(settings: IntakeSettings, receipt: str) -> vault.ReceiptKeys:
    """Hash a typed receipt; BadReceiptError if malformed, IntakeBusyError if saturated."""
    try:
        return settings.hasher.derive(receipt)
    except vault.ReceiptFormatError:
        raise BadReceiptError("no such receipt") from None
    except vault.VaultBusyError:
        raise IntakeBusyError("the receipt hasher is busy") from None


def open_mailbox(
    session: Session, settings: IntakeSettings, receipt: str, wrong_budget: Budget | None = None
) -> Mailbox:
    """The reporter's mailbox for a typed receipt; BadReceiptError for wrong or malformed.

    Nobody can lock reporters out (issue 13, 8): a malformed receipt is refused before any
    hashing and spends nothing; a well-formed one is hashed within the hasher's slots (the only
    shared cost, released as soon as the hash is done); only a well-formed *wrong* one spends
    ``wrong_budget``, and once that is spent wrong ones get IntakeBusyError while right ones
    still open. The trade-off: a flood of well-formed receipts can still keep the slots busy
    for moments (429 with Retry-After), which bounds memory and is never a lock-out.
    """
    keys = derive_keys(settings, receipt)
    try:
        return find_by_keys(session, keys)
    except BadReceiptError:
        if wrong_budget is not None and not wrong_budget.spend():
            raise IntakeBusyError("too many wrong receipts") from None
        raise


def reporter_reply(
    session: Session,
    settings: IntakeSettings,
    mailbox: Mailbox,
    body: str,
    uploads: Sequence[Upload] = (),
) -> None:
    """Add a sealed message (and files) from the reporter; it also postpones expiry."""
    text = (body or "").strip()
    errors: dict[str, str] = {}
    if not text and not uploads:
        errors["body"] = "write a message or attach a file"
    if len(text) > MAX_MESSAGE_LENGTH:
        errors["body"] = f"at most {MAX_MESSAGE_LENGTH} characters"
    errors.update(check_uploads(settings.questionnaire, uploads))
    if errors:
        raise AnswersInvalidError(errors)
    prepared = _strip_all(uploads)
    submission = mailbox.submission
    message = add_message(session, submission, mailbox.envelope, text, None)
    _seal_attachments(session, submission, mailbox.envelope, prepared, message.id)
    # New content from the reporter must not expire right away (GlobaLeaks #3591).
    submission.expires_at = max(
        submission.expires_at, hour(utcnow()) + timedelta(days=settings.retention_days)
    )
    submission.expiry_warned_at = None
    session.flush()
    signals.reporter_replied.send(submission, session=session)


def add_message(
    session: Session,
    submission: Submission,
    envelope: vault.SubmissionEnvelope,
    text: str,
    author: User | None,
) -> SubmissionMessage:
    message = SubmissionMessage(
        submission_id=submission.id,
        from_reporter=author is None,
        author_id=author.id if author else None,
        body_sealed=b"",
        created_at=hour(utcnow()),
    )
    submission.messages.append(message)
    session.flush()
    message.body_sealed = envelope.seal_field(f"message:{message.id}", text.encode("utf-8"))
    return message


def attachment_info(
    row: SubmissionAttachment, envelope: vault.SubmissionEnvelope
) -> AttachmentInfo:
    meta = load_json(envelope.open_field(f"attachment:{row.id}:meta", row.meta_sealed))
    return AttachmentInfo(
        row.id,
        meta["filename"],
        meta["content_type"],
        int(meta["size"]),
        meta["stripped"],
        bool(meta.get("complete", True)),
    )


def attachments_of(
    submission: Submission, envelope: vault.SubmissionEnvelope, *, message_id: int | None
) -> tuple[AttachmentInfo, ...]:
    return tuple(
        attachment_info(row, envelope)
        for row in submission.attachments
        if row.message_id == message_id
    )


def messages_of(submission: Submission, envelope: vault.SubmissionEnvelope) -> tuple[Message, ...]:
    return tuple(
        Message(
            id=m.id,
            from_reporter=m.from_reporter,
            body=envelope.open_field(f"message:{m.id}", m.body_sealed).decode("utf-8"),
            created_at=m.created_at,
            attachments=attachments_of(submission, envelope, message_id=m.id),
        )
        for m in submission.messages
    )
