"""Putting people on a case: who may assign whom, conflicts of interest refused (and the
refusal audited), assignment requests and their acknowledgement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Map, Rule

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Role
from csirt.cases import signals as case_signals
from csirt.cases.models import Case, CaseMember
from csirt.catalog import CASE_ROLES
from csirt.db import utcnow
from csirt.notify import service as notify
from csirt.notify.messages import Kind
from csirt.teams.base import (
    Clock,
    ConflictOfInterestError,
    InvalidInputError,
    NotAllowedToAssignError,
    NothingToAcknowledgeError,
    UnknownUserError,
    record,
)
from csirt.teams.candidates import involved_for
from csirt.teams.conflicts import conflict_of
from csirt.teams.models import AckKind, Acknowledgement, AckStatus
from csirt.teams.suggest import CASE_ROLE_ACCOUNTS, exclusion_reason

# The console page of a case's team: the teams views serve this rule, and the links in pages and
# mails are built from it (every interface can page someone, the intake's has no console routes).
CASE_TEAM_RULE = "/console/cases/<int:case_id>/team"
_LINKS = Map([Rule(CASE_TEAM_RULE, endpoint="case_team")]).bind("")


def case_team_path(case_id: int) -> str:
    """The path of a case's team page (the link of an assignment request or a page)."""
    return _LINKS.build("case_team", {"case_id": case_id})


def record_refusal(
    session: Session, case_id: int, error: ConflictOfInterestError, actor: audit.Actor
) -> None:
    """Audit a refused assignment (the reason kind, not the involved entry)."""
    audit.record(
        session,
        AuditAction.CASE_MEMBER_REFUSED,
        actor=actor,
        object_type="case",
        object_id=case_id,
        case_id=case_id,
        details={"user": error.username, "role": error.role, "conflict": error.kind},
    )


def may_assign(session: Session, case: Case, actor: User, user: User | None = None) -> bool:
    """Whether ``actor`` may assign ``user`` (anyone, if None) to the case."""
    if actor.has_role(Role.LEAD):
        return True
    member = session.scalar(
        select(CaseMember.id).where(CaseMember.case_id == case.id, CaseMember.user_id == actor.id)
    )
    if member is not None:
        return True
    if user is None or user.id != actor.id:
        return False
    paged = session.scalar(
        select(Acknowledgement.id).where(
            Acknowledgement.case_id == case.id,
            Acknowledgement.user_id == actor.id,
            Acknowledgement.kind == AckKind.PAGE.value,
        )
    )
    return paged is not None


def assign(
    session: Session,
    channel: notify.Channel,
    case: Case,
    user: User,
    role: str,
    *,
    actor: User | None,
    now: Clock = utcnow,
) -> CaseMember:
    """Add a person to the case in a role; refuse anyone in conflict with the case.

    The actor must be a member of the case or a lead (NotAllowedToAssignError); someone paged
    for the case who is neither may only assign himself (taking the case).
    """
    if role not in CASE_ROLES:
        raise InvalidInputError({"role": f"must be one of {list(CASE_ROLES)}"})
    if actor is not None and not may_assign(session, case, actor, user):
        raise NotAllowedToAssignError(case.id)
    if not user.active:
        raise UnknownUserError(user.username)
    conflict = conflict_of(user, involved_for(session, case))
    if conflict is not None:
        raise ConflictOfInterestError(
            exclusion_reason(conflict.kind, conflict.entry), user.username, role, conflict.kind
        )
    if not {r.value for r in user.role_set} & CASE_ROLE_ACCOUNTS[role]:
        # A custodian, committee member, auditor or intake officer cannot open the case: a
        # member they could never work with would only get a 403 on the case.
        raise InvalidInputError(
            {"username": "cannot work a case in this role (responders and leads; PR staff as PR)"}
        )
    member = session.scalar(
        select(CaseMember).where(
            CaseMember.case_id == case.id, CaseMember.user_id == user.id, CaseMember.role == role
        )
    )
    if member is not None:
        return member
    moment = now()
    member = CaseMember(case_id=case.id, user_id=user.id, role=role, added_at=moment)
    session.add(member)
    session.flush()
    record(
        session,
        AuditAction.CASE_MEMBER_ADD,
        actor,
        "case",
        case.id,
        case_id=case.id,
        details={"user": user.username, "role": role},
    )
    case_signals.member_added.send(case, session=session, user=user, role=role, actor=actor)
    if actor is not None and actor.id == user.id:
        _acknowledge_pages(session, case, user, moment)
    else:
        session.add(
            Acknowledgement(
                case_id=case.id,
                user_id=user.id,
                kind=AckKind.ASSIGNMENT.value,
                role=role,
                requested_at=moment,
            )
        )
        notify.notify_case(
            session,
            channel,
            user,
            Kind.ASSIGNMENT,
            case,
            path=case_team_path(case.id),
            role=role,
            now=moment,
        )
    if actor is not None and actor.id != user.id:
        _acknowledge_pages(session, case, actor, moment)
    session.flush()
    return member


def _acknowledge_pages(session: Session, case: Case, user: User, moment: datetime) -> int:
    """Whoever was paged takes the case: every open page of the case is acknowledged."""
    paged = session.scalar(
        select(Acknowledgement.id).where(
            Acknowledgement.case_id == case.id,
            Acknowledgement.user_id == user.id,
            Acknowledgement.kind == AckKind.PAGE.value,
        )
    )
    if paged is None:
        return 0
    count = 0
    for ack in session.scalars(
        select(Acknowledgement).where(
            Acknowledgement.case_id == case.id,
            Acknowledgement.kind == AckKind.PAGE.value,
            Acknowledgement.status == AckStatus.PENDING.value,
        )
    ):
        ack.status = AckStatus.ACKNOWLEDGED.value
        ack.acknowledged_at = moment
        count += 1
    return count


def pending_for(
    session: Session, case_id: int, user_id: int | None = None
) -> list[Acknowledgement]:
    """Open requests on a case (of one person, if given)."""
    query = select(Acknowledgement).where(
        Acknowledgement.case_id == case_id, Acknowledgement.status == AckStatus.PENDING.value
    )
    if user_id is not None:
        query = query.where(Acknowledgement.user_id == user_id)
    return list(session.scalars(query.order_by(Acknowledgement.id)))


def acknowledgements(session: Session, case_id: int) -> list[Acknowledgement]:
    """Every page and assignment request on a case, oldest first."""
    return list(
        session.scalars(
            select(Acknowledgement)
            .where(Acknowledgement.case_id == case_id)
            .order_by(Acknowledgement.id)
        )
    )


def acknowledge(session: Session, case: Case, user: User, *, now: Clock = utcnow) -> int:
    """Confirm this person has taken up the case; NothingToAcknowledgeError if nothing pends."""
    moment = now()
    mine = pending_for(session, case.id, user.id)
    count = _acknowledge_pages(session, case, user, moment)
    for ack in mine:
        if ack.status == AckStatus.PENDING.value:
            ack.status = AckStatus.ACKNOWLEDGED.value
            ack.acknowledged_at = moment
            count += 1
    if not count:
        raise NothingToAcknowledgeError(case.id)
    if case.acknowledged_at is None:
        case.acknowledged_at = moment
    notify.mark_case_read(session, user.id, case.id, moment)
    record(
        session,
        AuditAction.CASE_ACKNOWLEDGE,
        user,
        "case",
        case.id,
        case_id=case.id,
        details={"requests": count},
    )
    session.flush()
    return count
