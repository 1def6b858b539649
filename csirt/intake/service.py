"""Intake service: seal submissions, open mailboxes, and the officers' acts on sealed reports.

Session passed explicitly; no Flask.  Every act that reveals sealed content is audited.  Nothing
here logs or records a receipt, a client address or any plaintext the reporter sent.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases.models import Exposure
from csirt.catalog import FileField, Questionnaire
from csirt.db import utcnow
from csirt.intake import signals
from csirt.intake.conflicts import is_conflicted, split_involved
from csirt.intake.escrow import Escrow
from csirt.intake.models import (
    IdentityKeyWrap,
    IdentityRequest,
    StaffKeySession,
    Submission,
    SubmissionAttachment,
    SubmissionKeyWrap,
    SubmissionMessage,
)
from csirt.intake.strip import StrippedFile, UnreadableFileError, strip_metadata
from csirt.ratelimit import Budget
from csirt.records.validation import MAX_PERSONS, DatasetInput
from csirt.triage import load_rules, load_vocabulary
from csirt.triage.deadlines import due_at

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 20_000
STATUSES = ("new", "answered", "promoted", "attached")


class IntakeError(Exception):
    """Base of the intake's named errors."""


class AnswersInvalidError(IntakeError):
    """Answers or attachments fail validation; ``errors`` maps each field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(sorted(errors)))
        self.errors = dict(errors)


class BadReceiptError(IntakeError):
    """A receipt is malformed or belongs to no submission (callers must not tell which)."""


class IntakeBusyError(IntakeError):
    """The global budget is spent or the receipt hasher is saturated: answer 429."""


class NotVisibleError(IntakeError):
    """This staff member may not see this submission (conflict of interest, or no such row)."""


class NoKeyError(IntakeError):
    """The staff member may see the submission but holds no key for it yet (ask for a grant)."""


class IdentityError(IntakeError):
    """An identity request or decision that is not allowed (no identity, self-approval, ...)."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file as received (never written to disk unsealed)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class IntakeSettings:
    """What the intake needs from the configuration."""

    questionnaire: Questionnaire
    hasher: vault.ReceiptHasher
    tz: ZoneInfo
    jurisdictions: frozenset[str]
    playbooks_path: Path
    retention_days: int = 180
    warn_days: int = 14
    ack_days: int = 5
    submission_budget: Budget | None = None
    escrow: Escrow | None = None


@dataclass(frozen=True)
class Submitted:
    """The result of a submission: the receipt to show once, and when we will answer."""

    submission_id: int
    receipt: str = field(repr=False)
    answer_due: datetime


@dataclass(frozen=True)
class Message:
    id: int
    from_reporter: bool
    body: str
    created_at: datetime
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str
    content_type: str
    size: int
    stripped: str


@dataclass(frozen=True)
class Mailbox:
    """What a reporter sees with their receipt."""

    submission: Submission
    envelope: vault.SubmissionEnvelope
    messages: tuple[Message, ...]
    attachments: tuple[AttachmentInfo, ...]


@dataclass(frozen=True)
class Opened:
    """A submission opened by an intake officer."""

    submission: Submission
    answers: dict[str, Any]
    messages: tuple[Message, ...]
    attachments: tuple[AttachmentInfo, ...]
    has_identity: bool
    may_view_identity: bool


# --- helpers -----------------------------------------------------------------------------------


def _actor(user: User) -> audit.Actor:
    return audit.Actor(user.id, user.username)


def _hour(moment: datetime) -> datetime:
    """Round down to the hour: stored times must not line up with a network log."""
    return moment.replace(minute=0, second=0, microsecond=0)


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _load(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def officers(session: Session) -> list[User]:
    """Active intake officers who hold a key pair."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    return [u for u in users if u.can(Permission.INTAKE_READ) and u.public_key is not None]


def custodians(session: Session) -> list[User]:
    """Active custodians who hold a key pair."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    return [u for u in users if u.can(Permission.IDENTITY_DECIDE) and u.public_key is not None]


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
    rules = {rule.kind: rule for rule in load_rules(settings.playbooks_path).obligations}
    answer_due = due_at(rules["wb_investigation_notice"].due, received_at, tz)
    ack_due, feedback_due = internal, None
    if "EU" in settings.jurisdictions:
        eu_ack = due_at(rules["wb_acknowledge"].due, received_at, tz)
        ack_due = min(internal, eu_ack)
        acknowledged = received_at if acknowledged_at is None else acknowledged_at
        # A late acknowledgement does not push the feedback date out.
        feedback_due = due_at(rules["wb_feedback"].due, min(acknowledged, eu_ack), tz)
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


def _strip_all(uploads: Sequence[Upload]) -> list[tuple[Upload, StrippedFile]]:
    """Strip every file first, so that an unreadable one refuses the lot before any write."""
    try:
        return [(upload, strip_metadata(upload.data, upload.content_type)) for upload in uploads]
    except UnreadableFileError:
        raise AnswersInvalidError({"attachments": "a file cannot be read as its type"}) from None


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
            created_at=_hour(utcnow()),
        )
        submission.attachments.append(row)
        session.flush()
        meta = {
            "filename": _safe_filename(upload.filename),
            "content_type": upload.content_type,
            "size": len(upload.data),
            "stripped": stripped.method,
        }
        row.meta_sealed = envelope.seal_field(f"attachment:{row.id}:meta", _dump(meta))
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
    received_at = _hour(utcnow())
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
        ack_due=ack_due,
        answer_due=answer_due,
        feedback_due=feedback_due,
        expires_at=received_at + timedelta(days=settings.retention_days),
    )
    session.add(submission)
    session.flush()
    envelope = vault.SubmissionEnvelope.create(submission.id)
    submission.receipt_wrap = envelope.wrap_for_receipt(keys.key)
    submission.answers_sealed = envelope.seal_field("answers", _dump(cleaned))
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
            identity_key, _dump(identity), submission.id
        )
        for custodian in custodians(session):
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
    return Submitted(submission.id, receipt, answer_due)


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
        messages=_messages(submission, envelope),
        attachments=_attachments(submission, envelope, message_id=None),
    )


def derive_keys(settings: IntakeSettings, receipt: str) -> vault.ReceiptKeys:
    """Hash a typed receipt; BadReceiptError if malformed, IntakeBusyError if saturated."""
    try:
        return settings.hasher.derive(receipt)
    except vault.ReceiptFormatError:
        raise BadReceiptError("no such receipt") from None
    except vault.VaultBusyError:
        raise IntakeBusyError("the receipt hasher is busy") from None


def open_mailbox(session: Session, settings: IntakeSettings, receipt: str) -> Mailbox:
    """The reporter's mailbox for a typed receipt; BadReceiptError for wrong or malformed."""
    return find_by_keys(session, derive_keys(settings, receipt))


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
    message = _add_message(session, submission, mailbox.envelope, text, None)
    _seal_attachments(session, submission, mailbox.envelope, prepared, message.id)
    # New content from the reporter must not expire right away (GlobaLeaks #3591).
    submission.expires_at = max(
        submission.expires_at, _hour(utcnow()) + timedelta(days=settings.retention_days)
    )
    submission.expiry_warned_at = None
    session.flush()
    signals.reporter_replied.send(submission, session=session)


def _add_message(
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
        created_at=_hour(utcnow()) if author is None else utcnow(),
    )
    submission.messages.append(message)
    session.flush()
    message.body_sealed = envelope.seal_field(f"message:{message.id}", text.encode("utf-8"))
    return message


def _attachment_info(
    row: SubmissionAttachment, envelope: vault.SubmissionEnvelope
) -> AttachmentInfo:
    meta = _load(envelope.open_field(f"attachment:{row.id}:meta", row.meta_sealed))
    return AttachmentInfo(
        row.id, meta["filename"], meta["content_type"], int(meta["size"]), meta["stripped"]
    )


def _attachments(
    submission: Submission, envelope: vault.SubmissionEnvelope, *, message_id: int | None
) -> tuple[AttachmentInfo, ...]:
    return tuple(
        _attachment_info(row, envelope)
        for row in submission.attachments
        if row.message_id == message_id
    )


def _messages(submission: Submission, envelope: vault.SubmissionEnvelope) -> tuple[Message, ...]:
    return tuple(
        Message(
            id=m.id,
            from_reporter=m.from_reporter,
            body=envelope.open_field(f"message:{m.id}", m.body_sealed).decode("utf-8"),
            created_at=m.created_at,
            attachments=_attachments(submission, envelope, message_id=m.id),
        )
        for m in submission.messages
    )


# --- officer side ------------------------------------------------------------------------------


def _load_visible(session: Session, user: User, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotVisibleError("no such submission")
    if not user.can(Permission.INTAKE_READ) or is_conflicted(user, submission.involved):
        audit.record(
            session,
            AuditAction.INTAKE_DENIED,
            actor=_actor(user),
            object_type="submission",
            object_id=submission.id,
            details={"reason": "conflict" if user.can(Permission.INTAKE_READ) else "permission"},
        )
        raise NotVisibleError("not visible to this user")
    return submission


def _envelope_for(
    session: Session, user: User, private: bytes, submission: Submission
) -> vault.SubmissionEnvelope:
    wrap = session.scalar(
        select(SubmissionKeyWrap).where(
            SubmissionKeyWrap.submission_id == submission.id, SubmissionKeyWrap.user_id == user.id
        )
    )
    if wrap is None:
        raise NoKeyError("no key for this submission")
    return vault.SubmissionEnvelope.open_as_officer(submission.id, private, wrap.wrapped)


@dataclass(frozen=True)
class InboxRow:
    submission: Submission
    has_key: bool
    expiring: bool
    reply_waiting: bool = False  # the reporter's newest message awaits an answer


def inbox(
    session: Session, user: User, settings: IntakeSettings, *, include_closed: bool = False
) -> list[InboxRow]:
    """Submissions this officer may see (never conflicted ones), oldest answer-due first."""
    query = select(Submission).order_by(Submission.answer_due, Submission.id)
    if not include_closed:
        # A linked report stays while the reporter's newest message awaits an answer.
        query = query.where(or_(Submission.case_id.is_(None), _reporter_wrote_last()))
    keyed = set(
        session.scalars(
            select(SubmissionKeyWrap.submission_id).where(SubmissionKeyWrap.user_id == user.id)
        )
    )
    soon = utcnow() + timedelta(days=settings.warn_days)
    rows = session.execute(query.add_columns(_reporter_wrote_last())).tuples()
    return [
        InboxRow(s, s.id in keyed, s.case_id is None and s.expires_at <= soon, bool(waiting))
        for s, waiting in rows
        if not is_conflicted(user, s.involved)
    ]


def open_submission(session: Session, user: User, private: bytes, submission_id: int) -> Opened:
    """Decrypt a submission for an officer (audited); NotVisibleError / NoKeyError otherwise."""
    submission = _load_visible(session, user, submission_id)
    envelope = _envelope_for(session, user, private, submission)
    answers = _load(envelope.open_field("answers", submission.answers_sealed))
    audit.record(
        session,
        AuditAction.INTAKE_OPEN,
        actor=_actor(user),
        object_type="submission",
        object_id=submission.id,
        case_id=submission.case_id,
    )
    may_view = any(w.user_id == user.id for w in submission.identity_wraps)
    return Opened(
        submission=submission,
        answers=answers,
        messages=_messages(submission, envelope),
        attachments=_attachments(submission, envelope, message_id=None),
        has_identity=submission.identity_sealed is not None,
        may_view_identity=may_view,
    )


def officer_reply(
    session: Session, user: User, private: bytes, submission_id: int, body: str
) -> SubmissionMessage:
    """Seal a reply the reporter reads in the mailbox (audited)."""
    text = (body or "").strip()
    if not text or len(text) > MAX_MESSAGE_LENGTH:
        raise AnswersInvalidError({"body": "write a message (at most 20000 characters)"})
    submission = _load_visible(session, user, submission_id)
    envelope = _envelope_for(session, user, private, submission)
    message = _add_message(session, submission, envelope, text, user)
    if submission.answered_at is None:
        submission.answered_at = utcnow()
    if submission.status == "new":
        submission.status = "answered"
    audit.record(
        session,
        AuditAction.INTAKE_REPLY,
        actor=_actor(user),
        object_type="submission",
        object_id=submission.id,
        case_id=submission.case_id,
    )
    return message


def download_attachment(
    session: Session,
    user: User,
    private: bytes,
    submission_id: int,
    attachment_id: int,
    *,
    original: bool = False,
) -> tuple[AttachmentInfo, bytes]:
    """The stripped copy (or, explicitly, the sealed original) of an attachment (audited)."""
    submission = _load_visible(session, user, submission_id)
    envelope = _envelope_for(session, user, private, submission)
    row = session.get(SubmissionAttachment, attachment_id)
    if row is None or row.submission_id != submission.id:
        raise NotVisibleError("no such attachment")
    info = _attachment_info(row, envelope)
    kind = "original" if original else "stripped"
    blob = row.original_sealed if original else row.stripped_sealed
    data = envelope.open_field(f"attachment:{row.id}:{kind}", blob)
    audit.record(
        session,
        AuditAction.INTAKE_ATTACHMENT_ORIGINAL
        if original
        else AuditAction.INTAKE_ATTACHMENT_STRIPPED,
        actor=_actor(user),
        object_type="submission",
        object_id=submission.id,
        case_id=submission.case_id,
        details={"attachment": row.id},
    )
    return info, data


def grant(
    session: Session, granter: User, private: bytes, submission_id: int, grantee: User
) -> None:
    """Seal a submission's key to another intake officer (audited)."""
    if not granter.can(Permission.INTAKE_GRANT):
        raise NotVisibleError("not allowed to grant")
    submission = _load_visible(session, granter, submission_id)
    if (
        not grantee.active
        or not grantee.can(Permission.INTAKE_READ)
        or grantee.public_key is None
        or is_conflicted(grantee, submission.involved)
    ):
        raise NotVisibleError("this user cannot receive this submission")
    envelope = _envelope_for(session, granter, private, submission)
    exists = session.scalar(
        select(SubmissionKeyWrap).where(
            SubmissionKeyWrap.submission_id == submission.id,
            SubmissionKeyWrap.user_id == grantee.id,
        )
    )
    if exists is not None:
        exists.wrapped = envelope.wrap_for_officer(grantee.public_key)
    else:
        session.add(
            SubmissionKeyWrap(
                submission_id=submission.id,
                user_id=grantee.id,
                wrapped=envelope.wrap_for_officer(grantee.public_key),
                granted_by_id=granter.id,
            )
        )
    audit.record(
        session,
        AuditAction.INTAKE_GRANT,
        actor=_actor(granter),
        object_type="submission",
        object_id=submission.id,
        details={"to": grantee.username},
    )


def grant_all(session: Session, granter: User, private: bytes, grantee: User) -> int:
    """Grant the grantee every submission the granter holds and the grantee may see."""
    held = session.scalars(
        select(SubmissionKeyWrap.submission_id).where(SubmissionKeyWrap.user_id == granter.id)
    ).all()
    has = set(
        session.scalars(
            select(SubmissionKeyWrap.submission_id).where(SubmissionKeyWrap.user_id == grantee.id)
        )
    )
    count = 0
    for submission_id in held:
        if submission_id in has:
            continue
        submission = session.get(Submission, submission_id)
        if submission is None or is_conflicted(grantee, submission.involved):
            continue
        grant(session, granter, private, submission_id, grantee)
        count += 1
    return count


def officers_without_key(session: Session, submission: Submission) -> list[User]:
    """Officers with a key pair who do not hold this submission and are not conflicted."""
    holding = {w.user_id for w in submission.key_wraps}
    return [
        u
        for u in officers(session)
        if u.id not in holding and not is_conflicted(u, submission.involved)
    ]


# --- hand-off to a case: through the cases and records services, like any fact change ---------

_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+", re.IGNORECASE)
_CASE_WORDS: dict[str, dict[str, str]] = {
    "received": {"ja": "通報窓口で情報提供を受け付けた", "en": "Report received at the intake"},
    "attached": {
        "ja": "通報窓口で関連する情報提供を受け付けた（後から事案に関連付け）",
        "en": "Related report received at the intake (attached to this case later)",
    },
    "dataset": {"ja": "通報で示された個人データ", "en": "Personal data named in a report"},
}


def _words(key: str, lang: str) -> str:
    return _CASE_WORDS[key]["en" if lang == "en" else "ja"]


def url_given(answers: Mapping[str, Any], questionnaire: Questionnaire | None = None) -> bool:
    """Whether the reporter gave a web address (in a URL-or-place answer, if the form has one)."""
    keys = [f.key for f in questionnaire.fields if f.type == "url_or_text"] if questionnaire else []
    values = [answers.get(k) for k in keys] if keys else list(answers.values())
    return any(isinstance(v, str) and _URL.search(v) for v in values)


def tip_dataset(
    answers: Mapping[str, Any], lang: str, questionnaire: Questionnaire | None = None
) -> DatasetInput | None:
    """The data set a report describes, in the UI language; None if it names none.

    Only structured answers are used: the ticked vocabulary items, the persons estimate and
    whether a web address was given (exposure ``public_internet``); never a word of free text.
    """
    vocabulary = load_vocabulary()
    raw_items = answers.get("data_items")
    keys = [str(k) for k in raw_items] if isinstance(raw_items, list) else []
    items = tuple(dict.fromkeys(k for k in keys if k in vocabulary))
    raw_persons = answers.get("persons_estimate")
    persons = raw_persons if isinstance(raw_persons, int) and raw_persons > 0 else 0
    persons = min(persons, MAX_PERSONS)
    online = url_given(answers, questionnaire)
    if not items and not persons and not online:
        return None
    language: Literal["ja", "en"] = "en" if lang == "en" else "ja"
    labels = [vocabulary.label(k, language) for k in items[:4]]
    if len(items) > 4:
        labels.append("ほか" if language == "ja" else "more")
    parts = ("・" if language == "ja" else ", ").join(labels)
    count = ""
    if persons:
        count = f"約{persons:,}人" if language == "ja" else f"about {persons:,} persons"
    detail = ("、" if language == "ja" else "; ").join(p for p in (parts, count) if p)
    name = _words("dataset", language)
    if detail:
        name += f"（{detail}）" if language == "ja" else f" ({detail})"
    return DatasetInput(
        name=name[:200],
        holder="",
        items=items,
        persons=persons,
        persons_estimated=True,
        exposure=(Exposure.PUBLIC_INTERNET if online else Exposure.INTERNAL).value,
        exposed_from=None,
        exposed_until=None,
        encrypted=False,
        secondary_damage="",
    )


def _report_event(
    session: Session, case: Any, user: User, submission: Submission, key: str, lang: str
) -> None:
    from csirt.cases import service as cases

    cases.add_event(
        session,
        case,
        user,
        cases.EventInput(
            occurred_at=submission.received_at,
            precision="minute",
            title=_words(key, lang),
            source="intake",
            category="report",
        ),
    )


def promote(
    session: Session,
    user: User,
    private: bytes,
    submission_id: int,
    title: str,
    *,
    lang: str = "ja",
    questionnaire: Questionnaire | None = None,
) -> int:
    """Open a case from a report with only structured, non-identifying facts (audited).

    The case is created by the cases service, the report's data set is added by the records
    service (so triage runs, obligations are tracked and a P1/P2 pages the on-call lead), and the
    timeline gets a dated "report received" event. No tip text and no identity enter the case.
    """
    from csirt.cases import service as cases
    from csirt.cases.signals import facts_changed
    from csirt.records import service as records

    clean_title = " ".join((title or "").split())[:200]
    if not clean_title:
        raise AnswersInvalidError({"title": "give the case a title"})
    opened = open_submission(session, user, private, submission_id)
    submission, answers = opened.submission, opened.answers
    if submission.case_id is not None:
        raise IntakeError("already linked to a case")
    case = cases.create_case(
        session,
        title=clean_title,
        actor=user,
        aware_at=submission.received_at,
        insider=answers.get("reporter_is_insider") is True,
        involved=submission.involved,
        lang=lang,
    )
    # Linked first: triage reads whether a whistleblower report belongs to the case.
    submission.case_id = case.id
    submission.status = "promoted"
    session.flush()
    audit.record(
        session,
        AuditAction.INTAKE_PROMOTE,
        actor=_actor(user),
        object_type="submission",
        object_id=submission.id,
        case_id=case.id,
    )
    _report_event(session, case, user, submission, "received", lang)
    dataset = tip_dataset(answers, lang, questionnaire)
    if dataset is not None:
        records.add_dataset(session, case, user, dataset)  # audited; sends facts_changed
    else:
        facts_changed.send(case, session=session, actor=user, reason="report")
    return case.id


def attach_to_case(
    session: Session, user: User, submission_id: int, case_id: int, *, lang: str = "ja"
) -> None:
    """Link a report to a case the officer can see (audited; triage re-runs with the report)."""
    from csirt.cases import service as cases
    from csirt.cases.signals import facts_changed

    submission = _load_visible(session, user, submission_id)
    if submission.case_id is not None:
        raise IntakeError("already linked to a case")
    try:
        case = cases.get_case_for(session, user, case_id)
    except cases.CaseNotFoundError:
        raise AnswersInvalidError({"case": "no such case"}) from None
    submission.case_id = case.id
    submission.status = "attached"
    session.flush()
    audit.record(
        session,
        AuditAction.INTAKE_ATTACH,
        actor=_actor(user),
        object_type="submission",
        object_id=submission.id,
        case_id=case.id,
    )
    _report_event(session, case, user, submission, "attached", lang)
    # A linked whistleblower report starts the reporter's clocks on the case.
    facts_changed.send(case, session=session, actor=user, reason="report")


@dataclass(frozen=True)
class ReportState:
    """What a case's members may know about a linked report: never its content."""

    id: int
    received_at: datetime
    status: str
    whistleblower: bool
    last_reply_at: datetime | None
    reply_waiting: bool


def _reporter_wrote_last() -> Any:
    """SQL: the newest message of the report is the reporter's (no officer answered it yet)."""
    last_reporter = (
        select(func.max(SubmissionMessage.id))
        .where(
            SubmissionMessage.submission_id == Submission.id,
            SubmissionMessage.from_reporter.is_(True),
        )
        .scalar_subquery()
    )
    last_officer = (
        select(func.coalesce(func.max(SubmissionMessage.id), 0))
        .where(
            SubmissionMessage.submission_id == Submission.id,
            SubmissionMessage.from_reporter.is_(False),
        )
        .scalar_subquery()
    )
    return last_reporter > last_officer


def may_know_reports(session: Session, user: User, case_id: int) -> bool:
    """Intake officers, the case's leads and leads may know that a case has reports."""
    from csirt.auth.permissions import Role
    from csirt.cases.models import CaseMember

    if user.can(Permission.INTAKE_READ) or user.has_role(Role.LEAD):
        return True
    lead = session.scalar(
        select(CaseMember.id).where(
            CaseMember.case_id == case_id,
            CaseMember.user_id == user.id,
            CaseMember.role == "lead",
        )
    )
    return lead is not None


def case_reports(session: Session, user: User, case_id: int) -> list[ReportState]:
    """The reports linked to a case, with status and replies, for those who may know of them.

    Reports that name the user as involved are left out; nobody else learns anything here.
    """
    if not may_know_reports(session, user, case_id):
        return []
    rows = session.scalars(
        select(Submission).where(Submission.case_id == case_id).order_by(Submission.id)
    ).all()
    visible = [s for s in rows if not is_conflicted(user, s.involved)]
    if not visible:
        return []
    ids = [s.id for s in visible]
    last_reply = dict(
        session.execute(
            select(SubmissionMessage.submission_id, func.max(SubmissionMessage.created_at))
            .where(
                SubmissionMessage.submission_id.in_(ids), SubmissionMessage.from_reporter.is_(True)
            )
            .group_by(SubmissionMessage.submission_id)
        )
        .tuples()
        .all()
    )
    waiting = set(
        session.scalars(select(Submission.id).where(Submission.id.in_(ids), _reporter_wrote_last()))
    )
    return [
        ReportState(
            id=s.id,
            received_at=s.received_at,
            status=s.status,
            whistleblower=s.whistleblower,
            last_reply_at=last_reply.get(s.id),
            reply_waiting=s.id in waiting,
        )
        for s in visible
    ]


# --- identity ----------------------------------------------------------------------------------


def request_identity(
    session: Session, user: User, submission_id: int, reason: str, justification: str = ""
) -> IdentityRequest:
    """File a reasoned request to see the reporter's identity (audited).

    ``justification`` is the good reason (正当な理由) for identifying the reporter, required on
    its own: searching for a reporter without one is prohibited (公益通報者保護法 as amended,
    in force 2026-12-01).
    """
    if not user.can(Permission.IDENTITY_REQUEST):
        raise IdentityError("not allowed to request identities")
    submission = _load_visible(session, user, submission_id)
    if submission.identity_sealed is None:
        raise IdentityError("this report has no identity")
    text = " ".join((reason or "").split())
    ground = " ".join((justification or "").split())
    errors: dict[str, str] = {}
    if len(text) < 10:
        errors["reason"] = "give a reason of at least 10 characters"
    if len(ground) < 10:
        errors["justification"] = "state the good reason (正当な理由) in at least 10 characters"
    if errors:
        raise AnswersInvalidError(errors)
    request = IdentityRequest(
        submission_id=submission.id, requester_id=user.id, reason=text, justification=ground
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        AuditAction.IDENTITY_REQUEST,
        actor=_actor(user),
        object_type="submission",
        object_id=submission.id,
        details={"request": request.id},
    )
    return request


def pending_identity_requests(session: Session) -> list[IdentityRequest]:
    return list(
        session.scalars(
            select(IdentityRequest)
            .where(IdentityRequest.status == "pending")
            .order_by(IdentityRequest.id)
        )
    )


def decide_identity(
    session: Session,
    custodian: User,
    private: bytes,
    request_id: int,
    *,
    approve: bool,
    note: str = "",
) -> IdentityRequest:
    """A custodian (not the requester) approves or denies; approval re-seals the identity key."""
    if not custodian.can(Permission.IDENTITY_DECIDE):
        raise IdentityError("not a custodian")
    request = session.get(IdentityRequest, request_id)
    if request is None or request.status != "pending":
        raise IdentityError("no pending request")
    if request.requester_id == custodian.id:
        raise IdentityError("a custodian cannot decide their own request")
    submission = request.submission
    if approve:
        requester = session.get(User, request.requester_id)
        assert requester is not None
        if (
            requester.public_key is None
            or not requester.active
            or is_conflicted(requester, submission.involved)
        ):
            raise IdentityError("the requester cannot receive the identity")
        own = session.scalar(
            select(IdentityKeyWrap).where(
                IdentityKeyWrap.submission_id == submission.id,
                IdentityKeyWrap.user_id == custodian.id,
            )
        )
        if own is None:
            raise IdentityError("this custodian holds no identity key for this report")
        identity_key = vault.open_identity_key(private, own.wrapped)
        session.add(
            IdentityKeyWrap(
                submission_id=submission.id,
                user_id=requester.id,
                wrapped=vault.wrap_identity_key(identity_key, requester.public_key),
                request_id=request.id,
            )
        )
        submission.identity_disclosed_at = utcnow()
    request.status = "approved" if approve else "denied"
    request.decided_by_id = custodian.id
    request.decided_at = utcnow()
    request.decision_note = " ".join((note or "").split())[:2000]
    audit.record(
        session,
        AuditAction.IDENTITY_APPROVE if approve else AuditAction.IDENTITY_DENY,
        actor=_actor(custodian),
        object_type="submission",
        object_id=submission.id,
        details={"request": request.id},
    )
    return request


def view_identity(
    session: Session, user: User, private: bytes, submission_id: int
) -> dict[str, str]:
    """The reporter's identity, for an officer whose request was approved (audited)."""
    submission = _load_visible(session, user, submission_id)
    wrap = session.scalar(
        select(IdentityKeyWrap).where(
            IdentityKeyWrap.submission_id == submission.id, IdentityKeyWrap.user_id == user.id
        )
    )
    if wrap is None or submission.identity_sealed is None:
        raise IdentityError("no approved access to this identity")
    identity_key = vault.open_identity_key(private, wrap.wrapped)
    identity: dict[str, str] = _load(
        vault.open_identity(identity_key, submission.identity_sealed, submission.id)
    )
    audit.record(
        session,
        AuditAction.IDENTITY_VIEW,
        actor=_actor(user),
        object_type="submission",
        object_id=submission.id,
    )
    return identity


# --- retention ---------------------------------------------------------------------------------


def warn_expiring(session: Session, settings: IntakeSettings) -> list[int]:
    """Mark (and audit) unlinked submissions that expire within the warning window."""
    soon = utcnow() + timedelta(days=settings.warn_days)
    rows = session.scalars(
        select(Submission).where(
            Submission.case_id.is_(None),
            Submission.expires_at <= soon,
            Submission.expiry_warned_at.is_(None),
        )
    ).all()
    for row in rows:
        row.expiry_warned_at = utcnow()
        audit.record(
            session,
            AuditAction.INTAKE_EXPIRY_WARNING,
            actor=audit.SYSTEM,
            object_type="submission",
            object_id=row.id,
            details={"expires_at": row.expires_at.isoformat()},
        )
    return [row.id for row in rows]


def purge_expired(session: Session) -> int:
    """Delete unlinked submissions past their expiry, with everything sealed under them."""
    now = utcnow()
    ids = session.scalars(
        select(Submission.id).where(Submission.case_id.is_(None), Submission.expires_at < now)
    ).all()
    for submission_id in ids:
        for model in (
            IdentityKeyWrap,
            SubmissionAttachment,
            SubmissionMessage,
            SubmissionKeyWrap,
            IdentityRequest,
        ):
            session.execute(delete(model).where(model.submission_id == submission_id))
        session.execute(delete(Submission).where(Submission.id == submission_id))
        audit.record(
            session,
            AuditAction.INTAKE_PURGE,
            actor=audit.SYSTEM,
            object_type="submission",
            object_id=submission_id,
        )
    cutoff = now - timedelta(hours=24)
    session.execute(delete(StaffKeySession).where(StaffKeySession.created_at < cutoff))
    return len(ids)
