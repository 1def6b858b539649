"""The reporter's identity: reasoned requests, a custodian's decision, the approved view."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.db import utcnow
from csirt.intake.base import AnswersInvalidError, IdentityError, hour, load_json, record_on_report
from csirt.intake.conflicts import is_conflicted
from csirt.intake.handling import identity_approved, load_visible
from csirt.intake.models import IdentityKeyWrap, IdentityRequest

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
    submission = load_visible(session, user, submission_id)
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
    record_on_report(
        session, AuditAction.IDENTITY_REQUEST, user, submission.id, details={"request": request.id}
    )
    return request


def pending_identity_requests(
    session: Session, custodian: User | None = None
) -> list[IdentityRequest]:
    """Pending requests; for a custodian, none about a report that names them (conflict)."""
    rows = session.scalars(
        select(IdentityRequest)
        .where(IdentityRequest.status == "pending")
        .order_by(IdentityRequest.id)
    ).all()
    if custodian is None:
        return list(rows)
    return [r for r in rows if not is_conflicted(custodian, r.submission.involved)]


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
    if is_conflicted(custodian, submission.involved):
        # Named in the report: a custodian may not decide who learns the reporter's name.
        raise IdentityError("this custodian is named in the report")
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
        wrapped = vault.wrap_identity_key(identity_key, requester.public_key)
        held = session.scalar(
            select(IdentityKeyWrap).where(
                IdentityKeyWrap.submission_id == submission.id,
                IdentityKeyWrap.user_id == requester.id,
            )
        )
        if held is not None:  # a requester who is also a custodian: the approval is recorded
            held.wrapped, held.request_id = wrapped, request.id
        else:
            session.add(
                IdentityKeyWrap(
                    submission_id=submission.id,
                    user_id=requester.id,
                    wrapped=wrapped,
                    request_id=request.id,
                )
            )
        submission.identity_disclosed_at = hour(utcnow())
    request.status = "approved" if approve else "denied"
    request.decided_by_id = custodian.id
    request.decided_at = hour(utcnow())
    request.decision_note = " ".join((note or "").split())[:2000]
    record_on_report(
        session,
        AuditAction.IDENTITY_APPROVE if approve else AuditAction.IDENTITY_DENY,
        custodian,
        submission.id,
        details={"request": request.id},
    )
    return request


def view_identity(
    session: Session, user: User, private: bytes, submission_id: int
) -> dict[str, str]:
    """The reporter's identity, for an officer whose request another custodian approved (audited).

    Four eyes, always: the wrap every custodian holds to be able to approve is never enough to
    read, even for an account that is both officer and custodian. Only a request by this user,
    approved by a different person, opens it.
    """
    submission = load_visible(session, user, submission_id)
    wrap = session.scalar(
        select(IdentityKeyWrap).where(
            IdentityKeyWrap.submission_id == submission.id, IdentityKeyWrap.user_id == user.id
        )
    )
    if (
        wrap is None
        or submission.identity_sealed is None
        or not identity_approved(session, user, submission.id)
    ):
        raise IdentityError("no approved access to this identity")
    identity_key = vault.open_identity_key(private, wrap.wrapped)
    identity: dict[str, str] = load_json(
        vault.open_identity(identity_key, submission.identity_sealed, submission.id)
    )
    record_on_report(session, AuditAction.IDENTITY_VIEW, user, submission.id)
    return identity
