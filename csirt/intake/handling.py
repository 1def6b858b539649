"""The intake officers' side: inbox, opening a report, replies, files, key grants (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.db import utcnow
from csirt.intake import signals
from csirt.intake.base import (
    MAX_MESSAGE_LENGTH,
    AnswersInvalidError,
    AttachmentInfo,
    IntakeSettings,
    NoKeyError,
    NotVisibleError,
    Opened,
    hour,
    load_json,
    officers,
    record_on_report,
)
from csirt.intake.conflicts import is_conflicted
from csirt.intake.models import (
    IdentityRequest,
    Submission,
    SubmissionAttachment,
    SubmissionKeyWrap,
    SubmissionMessage,
)
from csirt.intake.reporter import add_message, attachment_info, attachments_of, messages_of

# --- officer side ------------------------------------------------------------------------------


def load_visible(session: Session, user: User, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotVisibleError("no such submission")
    if not user.can(Permission.INTAKE_READ) or is_conflicted(user, submission.involved):
        record_on_report(
            session,
            AuditAction.INTAKE_DENIED,
            user,
            submission.id,
            details={"reason": "conflict" if user.can(Permission.INTAKE_READ) else "permission"},
        )
        raise NotVisibleError("not visible to this user")
    return submission


def envelope_for(
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


def identity_approved(session: Session, user: User, submission_id: int) -> bool:
    """Whether a request of ``user`` for this report's identity was approved by someone else."""
    approved = session.scalar(
        select(IdentityRequest.id).where(
            IdentityRequest.submission_id == submission_id,
            IdentityRequest.requester_id == user.id,
            IdentityRequest.status == "approved",
            IdentityRequest.decided_by_id.is_not(None),
            IdentityRequest.decided_by_id != user.id,
        )
    )
    return approved is not None


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
        query = query.where(or_(Submission.case_id.is_(None), reporter_wrote_last()))
    keyed = set(
        session.scalars(
            select(SubmissionKeyWrap.submission_id).where(SubmissionKeyWrap.user_id == user.id)
        )
    )
    soon = utcnow() + timedelta(days=settings.warn_days)
    rows = session.execute(query.add_columns(reporter_wrote_last())).tuples()
    return [
        InboxRow(s, s.id in keyed, s.case_id is None and s.expires_at <= soon, bool(waiting))
        for s, waiting in rows
        if not is_conflicted(user, s.involved)
    ]


def open_submission(session: Session, user: User, private: bytes, submission_id: int) -> Opened:
    """Decrypt a submission for an officer (audited); NotVisibleError / NoKeyError otherwise."""
    submission = load_visible(session, user, submission_id)
    envelope = envelope_for(session, user, private, submission)
    answers = load_json(envelope.open_field("answers", submission.answers_sealed))
    record_on_report(
        session, AuditAction.INTAKE_OPEN, user, submission.id, case_id=submission.case_id
    )
    may_view = identity_approved(session, user, submission.id)
    return Opened(
        submission=submission,
        answers=answers,
        messages=messages_of(submission, envelope),
        attachments=attachments_of(submission, envelope, message_id=None),
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
    submission = load_visible(session, user, submission_id)
    envelope = envelope_for(session, user, private, submission)
    message = add_message(session, submission, envelope, text, user)
    if submission.answered_at is None:
        submission.answered_at = hour(utcnow())
    if submission.status == "new":
        submission.status = "answered"
    record_on_report(
        session, AuditAction.INTAKE_REPLY, user, submission.id, case_id=submission.case_id
    )
    signals.officer_replied.send(submission, session=session, actor=user)
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
    submission = load_visible(session, user, submission_id)
    envelope = envelope_for(session, user, private, submission)
    row = session.get(SubmissionAttachment, attachment_id)
    if row is None or row.submission_id != submission.id:
        raise NotVisibleError("no such attachment")
    info = attachment_info(row, envelope)
    kind = "original" if original else "stripped"
    blob = row.original_sealed if original else row.stripped_sealed
    data = envelope.open_field(f"attachment:{row.id}:{kind}", blob)
    action = (
        AuditAction.INTAKE_ATTACHMENT_ORIGINAL
        if original
        else AuditAction.INTAKE_ATTACHMENT_STRIPPED
    )
    record_on_report(
        session,
        action,
        user,
        submission.id,
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
    submission = load_visible(session, granter, submission_id)
    if (
        not grantee.active
        or not grantee.can(Permission.INTAKE_READ)
        or grantee.public_key is None
        or is_conflicted(grantee, submission.involved)
    ):
        raise NotVisibleError("this user cannot receive this submission")
    envelope = envelope_for(session, granter, private, submission)
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
    record_on_report(
        session, AuditAction.INTAKE_GRANT, granter, submission.id, details={"to": grantee.username}
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


def reporter_wrote_last() -> Any:
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
