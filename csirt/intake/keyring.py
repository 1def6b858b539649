"""Who holds which report key, and filling the gaps so that no report is left unreadable.

The ways a report's key reaches an officer (never a conflicted one):

* at arrival, to every officer who then holds a key pair (service.submit);
* from the organisation intake key (escrow, csirt.intake.escrow), whenever an officer gets a key
  pair, signs in or restores their key -- no other key holder needs to be present.  (Not on
  every arrival: that would scan the older reports on the public intake's hot path, and an
  arrival changes nothing about which older reports an officer lacks.);
* from a key holder's sign-in: their private key is at hand for a moment, and every report they
  hold is sealed to the colleagues who lack it (the only way in strict mode);
* by hand (service.grant / grant_all).

A custodian's sign-in likewise seals each reporter's identity key to the other custodians who
lack it.  The identity key never goes into the escrow.

Session passed explicitly; no Flask.  Nothing here logs anything a reporter sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from csirt import vault
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.intake.base import record_event, record_on_report
from csirt.intake.conflicts import is_conflicted
from csirt.intake.escrow import Escrow
from csirt.intake.models import IdentityKeyWrap, Submission, SubmissionKeyWrap

log = logging.getLogger(__name__)


def _active_with(session: Session, permission: Permission) -> list[User]:
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    return [u for u in users if u.can(permission) and u.public_key is not None]


def key_officers(session: Session) -> list[User]:
    """Active staff with intake duty who hold a key pair."""
    return _active_with(session, Permission.INTAKE_READ)


def key_custodians(session: Session) -> list[User]:
    """Active custodians who hold a key pair."""
    return _active_with(session, Permission.IDENTITY_DECIDE)


def _wrap(submission: Submission, officer: User, sub_key: bytes, by: User | None) -> None:
    assert officer.public_key is not None
    submission.key_wraps.append(
        SubmissionKeyWrap(
            submission_id=submission.id,
            user_id=officer.id,
            wrapped=vault.wrap_submission_key_for_officer(sub_key, officer.public_key),
            granted_by_id=by.id if by is not None else None,
        )
    )


def _lacking(officers: Sequence[User]) -> object:
    """SQL: this submission is held by fewer of ``officers`` than there are officers."""
    wrap = aliased(SubmissionKeyWrap)
    held = (
        select(func.count(wrap.id))
        .where(wrap.submission_id == Submission.id, wrap.user_id.in_([o.id for o in officers]))
        .correlate(Submission)
        .scalar_subquery()
    )
    return held < len(officers)


def _missing_for(submission: Submission, officers: Sequence[User]) -> list[User]:
    have = {w.user_id for w in submission.key_wraps}
    return [o for o in officers if o.id not in have and not is_conflicted(o, submission.involved)]


def _audit_grants(
    session: Session,
    granted: dict[int, list[int]],
    officers: Sequence[User],
    actor: audit.Actor,
    via: str,
) -> None:
    by_id = {o.id: o for o in officers}
    for officer_id, report_ids in granted.items():
        record_event(
            session,
            AuditAction.INTAKE_GRANT,
            actor=actor,
            object_type="user",
            object_id=officer_id,
            details={
                "to": by_id[officer_id].username,
                "via": via,
                "reports": sorted(report_ids),
            },
        )


def _in_savepoint(session: Session, work: Callable[[], int]) -> int:
    """Run best-effort gap filling so that a race never fails the caller's request.

    Two colleagues signing in at the same moment may seal the same report to the same officer;
    the unique (submission, user) constraint refuses the second, whose savepoint is rolled back:
    the wrap is there anyway.
    """
    try:
        with session.begin_nested():
            return work()
    except IntegrityError:
        log.info("intake: the same key was sealed concurrently; nothing lost")
        return 0


def wrap_from_escrow(
    session: Session, escrow: Escrow | None, officers: Sequence[User] | None = None
) -> int:
    """Seal every escrowed report to each of ``officers`` (default: all) who lacks it.

    Returns the number of wraps added.  The KEK file is read only if something is missing; if it
    is absent or does not open the organisation key, nothing is added (``csirt intake doctor``).
    """
    if escrow is None or not escrow.enabled:
        return 0
    return _in_savepoint(session, lambda: _wrap_from_escrow(session, escrow, officers))


def _wrap_from_escrow(session: Session, escrow: Escrow, officers: Sequence[User] | None) -> int:
    targets = [
        o
        for o in (key_officers(session) if officers is None else officers)
        if o.active and o.public_key is not None and o.can(Permission.INTAKE_READ)
    ]
    if not targets:
        return 0
    query = (
        select(Submission)
        .where(Submission.escrow_wrap.is_not(None), _lacking(targets))  # type: ignore[arg-type]
        .order_by(Submission.id)
        .options(selectinload(Submission.key_wraps))
    )
    organisation: vault.KeyPair | None = None
    granted: dict[int, list[int]] = {}
    for submission in session.scalars(query):
        missing = _missing_for(submission, targets)
        if not missing:
            continue
        if organisation is None:
            organisation = escrow.keypair(session)
            if organisation is None:
                log.warning("intake: the escrow key file is missing or does not match")
                return 0
        assert submission.escrow_wrap is not None
        try:
            sub_key = vault.open_submission_key_as_officer(organisation, submission.escrow_wrap)
        except vault.TamperedError:
            log.error("intake: the escrow wrap of report %s does not open", submission.id)
            continue
        for officer in missing:
            _wrap(submission, officer, sub_key, None)
            granted.setdefault(officer.id, []).append(submission.id)
    if granted:
        session.flush()
        _audit_grants(session, granted, targets, audit.SYSTEM, "escrow")
    return sum(len(ids) for ids in granted.values())


def rewrap_from_holder(
    session: Session, holder: User, private: bytes, escrow: Escrow | None
) -> int:
    """At a key holder's sign-in: seal what they hold to colleagues (and custodians) who lack it.

    Also seals to the organisation key the reports that have no escrow wrap yet (escrow on).
    Returns the number of wraps added.
    """
    added = 0
    if holder.can(Permission.INTAKE_READ):
        added += _in_savepoint(session, lambda: _rewrap_reports(session, holder, private, escrow))
    if holder.can(Permission.IDENTITY_DECIDE):
        added += _in_savepoint(session, lambda: _rewrap_identities(session, holder, private))
    return added


def _rewrap_reports(session: Session, holder: User, private: bytes, escrow: Escrow | None) -> int:
    others = [o for o in key_officers(session) if o.id != holder.id]
    escrow_public = escrow.ensure_public_key(session) if escrow is not None else None
    gaps = []
    if others:
        gaps.append(_lacking(others))
    if escrow_public is not None:
        gaps.append(Submission.escrow_wrap.is_(None))
    if not gaps:
        return 0
    query = (
        select(Submission, SubmissionKeyWrap.wrapped)
        .join(SubmissionKeyWrap, SubmissionKeyWrap.submission_id == Submission.id)
        .where(SubmissionKeyWrap.user_id == holder.id, or_(*gaps))  # type: ignore[arg-type]
        .order_by(Submission.id)
        .options(selectinload(Submission.key_wraps))
    )
    granted: dict[int, list[int]] = {}
    added = 0
    for submission, wrapped in session.execute(query).tuples():
        missing = _missing_for(submission, others)
        needs_escrow = escrow_public is not None and submission.escrow_wrap is None
        if not missing and not needs_escrow:
            continue
        try:
            sub_key = vault.open_submission_key_as_officer(private, wrapped)
        except vault.TamperedError:
            continue
        for officer in missing:
            _wrap(submission, officer, sub_key, holder)
            granted.setdefault(officer.id, []).append(submission.id)
            added += 1
        if needs_escrow:
            assert escrow_public is not None
            submission.escrow_wrap = vault.wrap_submission_key_for_officer(sub_key, escrow_public)
    if granted:
        session.flush()
        _audit_grants(session, granted, others, audit.actor_of(holder), "sign-in")
    return added


def _rewrap_identities(session: Session, holder: User, private: bytes) -> int:
    others = [c for c in key_custodians(session) if c.id != holder.id]
    if not others:
        return 0
    wrap = aliased(IdentityKeyWrap)
    held_by_others = (
        select(func.count(wrap.id))
        .where(wrap.submission_id == Submission.id, wrap.user_id.in_([c.id for c in others]))
        .correlate(Submission)
        .scalar_subquery()
    )
    query = (
        select(Submission, IdentityKeyWrap.wrapped)
        .join(IdentityKeyWrap, IdentityKeyWrap.submission_id == Submission.id)
        .where(IdentityKeyWrap.user_id == holder.id, held_by_others < len(others))
        .order_by(Submission.id)
        .options(selectinload(Submission.identity_wraps))
    )
    added = 0
    for submission, wrapped in session.execute(query).tuples():
        have = {w.user_id for w in submission.identity_wraps}
        missing = [
            c for c in others if c.id not in have and not is_conflicted(c, submission.involved)
        ]
        if not missing:
            continue
        try:
            identity_key = vault.open_identity_key(private, wrapped)
        except vault.TamperedError:
            continue
        for custodian in missing:
            assert custodian.public_key is not None
            submission.identity_wraps.append(
                IdentityKeyWrap(
                    submission_id=submission.id,
                    user_id=custodian.id,
                    wrapped=vault.wrap_identity_key(identity_key, custodian.public_key),
                )
            )
            record_on_report(
                session,
                AuditAction.IDENTITY_CUSTODIAN_WRAP,
                holder,
                submission.id,
                details={"to": custodian.username},
            )
            added += 1
    if added:
        session.flush()
    return added


# --- who cannot open what ------------------------------------------------------------------


def unopenable(session: Session) -> list[Submission]:
    """Reports that no active staff member with intake duty and a key pair can open now."""
    holders = [o.id for o in key_officers(session)]
    held = exists().where(
        SubmissionKeyWrap.submission_id == Submission.id,
        SubmissionKeyWrap.user_id.in_(holders),
    )
    return list(session.scalars(select(Submission).where(~held).order_by(Submission.id)))


def identity_unopenable(session: Session) -> list[Submission]:
    """Reports whose reporter's identity no active custodian with a key pair can open."""
    holders = [c.id for c in key_custodians(session)]
    held = exists().where(
        IdentityKeyWrap.submission_id == Submission.id,
        IdentityKeyWrap.user_id.in_(holders),
    )
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.identity_sealed.is_not(None), ~held)
            .order_by(Submission.id)
        )
    )


Why = Literal["no_keypair", "escrow_next_signin", "escrow_file", "ask_holder", "lost"]


@dataclass(frozen=True)
class Unreadable:
    """Why an officer cannot open a report they may see, and who could give it to them."""

    why: Why
    holders: tuple[str, ...] = ()


def why_unreadable(
    session: Session,
    user: User,
    submissions: Sequence[Submission],
    escrow: Escrow | None,
) -> dict[int, Unreadable]:
    """For each report the user may see but holds no key for: the cause and the way out."""
    if not submissions:
        return {}
    if user.public_key is None:
        return {s.id: Unreadable("no_keypair") for s in submissions}
    status = escrow.status(session) if escrow is not None else "off"
    officers = {o.id: o for o in key_officers(session) if o.id != user.id}
    wraps = session.execute(
        select(SubmissionKeyWrap.submission_id, SubmissionKeyWrap.user_id).where(
            SubmissionKeyWrap.submission_id.in_([s.id for s in submissions])
        )
    ).all()
    holders: dict[int, list[str]] = {}
    for submission_id, user_id in wraps:
        if user_id in officers:
            holders.setdefault(submission_id, []).append(officers[user_id].display_name)
    result: dict[int, Unreadable] = {}
    for submission in submissions:
        names = tuple(holders.get(submission.id, ()))
        if submission.escrow_wrap is not None and status == "ok":
            result[submission.id] = Unreadable("escrow_next_signin", names)
        elif names:
            result[submission.id] = Unreadable("ask_holder", names)
        elif submission.escrow_wrap is not None:
            result[submission.id] = Unreadable("escrow_file")
        else:
            result[submission.id] = Unreadable("lost")
    return result
