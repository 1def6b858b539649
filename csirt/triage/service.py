"""Triage on cases: facts from the database, stored runs, priority overrides, obligations, feeds.

The engine (``csirt.triage.engine``) stays pure; this module reads a case's facts, runs the
engine, keeps each result, applies the priority (unless a lead has overridden it), turns the
obligations into tracked rows and answers the deadlines board and the iCalendar feed.
Every function takes the session explicitly; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import Integer, bindparam, exists, select
from sqlalchemy.orm import Session

from config import Config
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.cases import trail
from csirt.cases.lifecycle import change_priority
from csirt.cases.models import AffectedDataset, Case, CaseMember, Priority
from csirt.catalog import Catalog, load_catalog
from csirt.catalog.current import current_catalog
from csirt.db import utcnow
from csirt.intake.models import Submission
from csirt.triage.engine import TriageResult, evaluate
from csirt.triage.facts import DatasetFacts, Facts, OrgKind
from csirt.triage.models import (
    CaseTriage,
    DeadlineFeedToken,
    Obligation,
    ObligationStatus,
    TriageRun,
)
from csirt.triage.rules import Rules

Lang = Literal["ja", "en"]
PRIORITY_ORDER = (Priority.P1.value, Priority.P2.value, Priority.P3.value, Priority.P4.value)
FEED_TOKEN_BYTES = 32
WINDOW = "window"


class TriageError(Exception):
    """Base of triage errors shown to the user."""


class OverrideError(TriageError):
    """A priority override is missing its priority or its reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class ObligationError(TriageError):
    """An obligation cannot be marked done as asked."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class ObligationNotFoundError(TriageError):
    """No such obligation on this case."""


# --- facts -----------------------------------------------------------------------------------


def whistleblower_report_of(session: Session, case: Case) -> dt.datetime | None:
    """When the earliest whistleblower report linked to the case arrived, or None."""
    received: dt.datetime | None = session.scalar(
        select(Submission.received_at)
        .where(Submission.case_id == case.id, Submission.whistleblower.is_(True))
        .order_by(Submission.received_at)
        .limit(1)
    )
    return received


def case_facts(
    session: Session,
    case: Case,
    config: Config,
    *,
    whistleblower_report: bool | None = None,
    reported_at: dt.datetime | None = None,
) -> Facts:
    """The engine's facts for ``case``: its flags, its data sets and the organisation's config.

    ``whistleblower_report`` defaults to whether a whistleblower submission of the intake is
    linked to the case (then ``reported_at`` is when it arrived). An intake report is
    acknowledged when it arrives: the receipt page is the reporter's acknowledgement (EU
    Directive Art. 9(1)(b)). A contractor's notice recorded on the case moves awareness to it
    at the latest.
    """
    if whistleblower_report is None:
        received = whistleblower_report_of(session, case)
        whistleblower_report = received is not None
        reported_at = reported_at or received
    rows = session.scalars(
        select(AffectedDataset)
        .where(AffectedDataset.case_id == case.id)
        .order_by(AffectedDataset.id)
    ).all()
    datasets = tuple(
        DatasetFacts(
            items=tuple(row.items or ()),
            persons=max(0, row.persons),
            persons_estimated=row.persons_estimated,
            encrypted=row.encrypted,
            exposure=row.exposure,
        )
        for row in rows
    )
    org_kind: OrgKind = "business" if config.org_kind == "business" else "local_government"
    social = config.social_responsibility
    state = session.get(CaseTriage, case.id)
    return Facts(
        org_kind=org_kind,
        jurisdictions=frozenset(config.jurisdictions),
        aware_at=case.aware_at or case.created_at,
        datasets=datasets,
        # Exposure is recorded per data set; the engine takes the most severe one.
        exposure="internal",
        # Departments or staff named as involved are, by definition, insiders.
        insider=case.insider or bool(case.involved),
        wrongful_intent=case.wrongful_intent,
        ongoing=case.ongoing,
        whistleblower_report=whistleblower_report,
        reported_at=reported_at if whistleblower_report else None,
        social_responsibility="high" if social == "high" else "average",
        acknowledged_at=reported_at if whistleblower_report else None,
        contractor_notice_at=state.contractor_notice_at if state is not None else None,
    )


def facts_to_json(facts: Facts) -> dict[str, Any]:
    """The facts as stored with a run (the API payload's shape)."""
    return {
        "organization": {
            "kind": facts.org_kind,
            "jurisdictions": sorted(facts.jurisdictions),
            "social_responsibility": facts.social_responsibility,
        },
        "aware_at": facts.aware_at.isoformat(),
        "datasets": [
            {
                "items": list(d.items),
                "persons": d.persons,
                "persons_estimated": d.persons_estimated,
                "encrypted": d.encrypted,
                "exposure": d.exposure,
            }
            for d in facts.datasets
        ],
        "exposure": facts.effective_exposure,
        "insider": facts.insider,
        "wrongful_intent": facts.wrongful_intent,
        "ongoing": facts.ongoing,
        "whistleblower_report": facts.whistleblower_report,
        "reported_at": facts.reported_at.isoformat() if facts.reported_at else None,
        "acknowledged_at": facts.acknowledged_at.isoformat() if facts.acknowledged_at else None,
        "contractor_notice_at": (
            facts.contractor_notice_at.isoformat() if facts.contractor_notice_at else None
        ),
    }


def evaluate_case(
    session: Session,
    case: Case,
    config: Config,
    rules: Rules,
    *,
    whistleblower_report: bool | None = None,
) -> tuple[Facts, TriageResult]:
    """Evaluate the case's current facts with the catalog's ``rules``, storing nothing."""
    facts = case_facts(session, case, config, whistleblower_report=whistleblower_report)
    return facts, evaluate(facts, rules, config.tz)


# --- runs ------------------------------------------------------------------------------------


def triage_state(session: Session, case: Case) -> CaseTriage:
    """The case's triage row, created on first use."""
    state = session.get(CaseTriage, case.id)
    if state is None:
        state = CaseTriage(case_id=case.id, override_reason="")
        session.add(state)
        session.flush()
    return state


def latest_run(session: Session, case: Case) -> TriageRun | None:
    """The most recent triage run of the case."""
    return session.scalars(
        select(TriageRun).where(TriageRun.case_id == case.id).order_by(TriageRun.id.desc()).limit(1)
    ).first()


def runs_of(session: Session, case: Case, limit: int = 50) -> list[TriageRun]:
    """The case's runs, newest first."""
    return list(
        session.scalars(
            select(TriageRun)
            .where(TriageRun.case_id == case.id)
            .order_by(TriageRun.id.desc())
            .limit(limit)
        )
    )


def _changes(
    previous: TriageRun | None, facts: dict[str, Any], result: TriageResult
) -> list[dict[str, Any]]:
    """What differs from the previous run: score, priority, obligations and the facts."""
    if previous is None:
        return [{"field": "first_run", "from": None, "to": result.priority}]
    changes: list[dict[str, Any]] = []
    old = previous.result.get("en", {})
    if previous.score != result.score:
        changes.append({"field": "score", "from": previous.score, "to": result.score})
    if previous.priority != result.priority:
        changes.append({"field": "priority", "from": previous.priority, "to": result.priority})
    old_kinds = {o["kind"] for o in old.get("obligations", [])}
    new_kinds = {o.kind for o in result.obligations}
    for kind in sorted(new_kinds - old_kinds):
        changes.append({"field": "obligation", "from": None, "to": kind})
    for kind in sorted(old_kinds - new_kinds):
        changes.append({"field": "obligation", "from": kind, "to": None})
    old_facts = previous.facts
    for key in sorted(facts):
        if key != "datasets" and old_facts.get(key) != facts[key]:
            changes.append({"field": f"facts.{key}", "from": old_facts.get(key), "to": facts[key]})
    old_sets, new_sets = old_facts.get("datasets", []), facts["datasets"]
    if old_sets != new_sets:
        changes.append(
            {
                "field": "facts.datasets",
                "from": _dataset_summary(old_sets),
                "to": _dataset_summary(new_sets),
            }
        )
    return changes


def _dataset_summary(datasets: Iterable[dict[str, Any]]) -> str:
    sets = list(datasets)
    persons = sum(int(d.get("persons", 0)) for d in sets)
    return f"{len(sets)} / {persons:,}"


def run_triage(
    session: Session,
    case: Case,
    *,
    config: Config,
    catalog: Catalog,
    actor: User | None,
    reason: str = "",
    whistleblower_report: bool | None = None,
) -> TriageRun:
    """Evaluate the case, store the run, update its obligations and (unless overridden) priority."""
    facts, result = evaluate_case(
        session, case, config, catalog.rules, whistleblower_report=whistleblower_report
    )
    previous = latest_run(session, case)
    stored_facts = facts_to_json(facts)
    run = TriageRun(
        case_id=case.id,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else "system",
        reason=reason[:200],
        changes=_changes(previous, stored_facts, result),
        score=result.score,
        priority=result.priority,
        facts=stored_facts,
        result={"ja": result.to_json("ja"), "en": result.to_json("en")},
    )
    session.add(run)
    state = triage_state(session, case)
    state.computed_priority = result.priority
    state.computed_score = result.score
    sync_obligations(session, case, result)
    session.flush()
    trail.record(
        session,
        AuditAction.TRIAGE_RUN,
        case,
        actor,
        run=run.id,
        score=result.score,
        priority=result.priority,
        reason=reason[:200],
    )
    if state.override_priority is None:
        _set_priority(session, case, result.priority, actor=actor, why="triage")
    return run


def _check_text(errors: dict[str, str], name: str, text: str, limit: int) -> None:
    """A required text of at most ``limit`` characters (``text`` already stripped)."""
    if not text:
        errors[name] = "is required"
    elif len(text) > limit:
        errors[name] = f"must be at most {limit} characters"


def _check_past(errors: dict[str, str], name: str, when: dt.datetime) -> None:
    """An aware time that is not in the future (five minutes of clock skew allowed)."""
    if when.tzinfo is None:
        errors[name] = "must be time-zone aware"
    elif when > utcnow() + dt.timedelta(minutes=5):
        errors[name] = "must not be in the future"


def effective_priority(state: CaseTriage) -> str | None:
    """The override if one is active, else the computed priority."""
    return state.override_priority or state.computed_priority


def _set_priority(
    session: Session, case: Case, priority: str, *, actor: User | None, why: str
) -> None:
    """Set the case's priority through the cases service (timeline, audit, priority_raised)."""
    change_priority(session, case, priority, actor, reason=why)


def override_priority(
    session: Session, case: Case, *, priority: str, reason: str, actor: User
) -> CaseTriage:
    """A lead sets the priority by hand, with a reason; triage no longer changes it."""
    errors: dict[str, str] = {}
    if priority not in PRIORITY_ORDER:
        errors["priority"] = "must be one of P1, P2, P3, P4"
    reason = reason.strip()
    _check_text(errors, "reason", reason, 1000)
    if errors:
        raise OverrideError(errors)
    state = triage_state(session, case)
    previous = state.override_priority
    state.override_priority = priority
    state.override_reason = reason
    state.override_by_id = actor.id
    state.override_at = utcnow()
    trail.record(
        session,
        AuditAction.TRIAGE_PRIORITY_OVERRIDE,
        case,
        actor,
        priority=priority,
        previous_override=previous,
        computed=state.computed_priority,
        case_priority=case.priority,
        reason=reason,
    )
    _set_priority(session, case, priority, actor=actor, why="override")
    return state


def clear_override(session: Session, case: Case, *, actor: User) -> CaseTriage:
    """Drop the override: the case returns to its computed priority."""
    state = triage_state(session, case)
    if state.override_priority is None:
        return state
    trail.record(
        session,
        AuditAction.TRIAGE_PRIORITY_OVERRIDE_CLEARED,
        case,
        actor,
        override=state.override_priority,
        computed=state.computed_priority,
    )
    state.override_priority = None
    state.override_reason = ""
    state.override_by_id = None
    state.override_at = None
    if state.computed_priority is not None:
        _set_priority(session, case, state.computed_priority, actor=actor, why="triage")
    return state


# --- contractor notice -----------------------------------------------------------------------


class ContractorNoticeError(TriageError):
    """A contractor notice is missing a field or has an impossible time."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def record_contractor_notice(
    session: Session,
    case: Case,
    *,
    contractor: str,
    notified: str,
    notice_at: dt.datetime,
    actor: User,
    config: Config,
    catalog: Catalog,
) -> CaseTriage:
    """Record that a contractor notified the organisation (法26条1項ただし書, 規則9条); re-triage.

    Awareness counts from the notice at the latest, so the legal clocks may move earlier.
    """
    errors: dict[str, str] = {}
    contractor, notified = contractor.strip(), notified.strip()
    _check_text(errors, "contractor", contractor, 200)
    _check_text(errors, "notified", notified, 200)
    _check_past(errors, "notice_at", notice_at)
    if errors:
        raise ContractorNoticeError(errors)
    state = triage_state(session, case)
    state.contractor_name = contractor
    state.contractor_notified = notified
    state.contractor_notice_at = notice_at
    trail.record(
        session,
        AuditAction.TRIAGE_CONTRACTOR_NOTICE,
        case,
        actor,
        contractor=contractor,
        notified=notified,
        notice_at=notice_at.isoformat(),
    )
    run_triage(
        session, case, config=config, catalog=catalog, actor=actor, reason="contractor notice"
    )
    return state


# --- obligations -----------------------------------------------------------------------------


def obligations_of(session: Session, case: Case) -> list[Obligation]:
    """Every tracked obligation of the case, soonest due first."""
    return list(
        session.scalars(
            select(Obligation)
            .where(Obligation.case_id == case.id)
            .order_by(Obligation.due_at, Obligation.id)
        )
    )


def open_obligations(session: Session, case: Case) -> list[Obligation]:
    """The case's obligations still pending (what stops it from closing)."""
    return [o for o in obligations_of(session, case) if o.status == ObligationStatus.PENDING]


def sync_obligations(session: Session, case: Case, result: TriageResult) -> None:
    """Make the tracked obligations follow the result; done ones are never changed or removed."""
    existing = {o.kind: o for o in obligations_of(session, case)}
    current = {o.kind: o for o in result.obligations}
    for kind, found in current.items():
        row = existing.get(kind)
        if row is None:
            row = Obligation(case_id=case.id, kind=kind, evidence="")
            session.add(row)
        elif row.status == ObligationStatus.DONE:
            continue
        row.regime = found.regime
        row.article = found.article
        row.basis_ja = found.requirement.ja
        row.basis_en = found.requirement.en
        row.reason_ja = found.why.ja
        row.reason_en = found.why.en
        row.checked = found.checked
        row.due_at = found.due_at
        row.target_at = found.target_at
        row.deadline = found.deadline
        row.source = found.source
        row.status = ObligationStatus.PENDING.value
    for kind, row in existing.items():
        if kind not in current and row.status == ObligationStatus.PENDING:
            row.status = ObligationStatus.NOT_APPLICABLE.value


def get_obligation(session: Session, case: Case, obligation_id: int) -> Obligation:
    """The obligation of this case with ``obligation_id``."""
    row = session.get(Obligation, obligation_id)
    if row is None or row.case_id != case.id:
        raise ObligationNotFoundError(obligation_id)
    return row


def mark_done(
    session: Session,
    obligation: Obligation,
    *,
    done_at: dt.datetime,
    evidence: str,
    actor: User,
) -> Obligation:
    """Record that the obligation was fulfilled, when, and the evidence (e.g. the PPC receipt)."""
    errors: dict[str, str] = {}
    evidence = evidence.strip()
    _check_text(errors, "evidence", evidence, 4000)
    _check_past(errors, "done_at", done_at)
    if obligation.status == ObligationStatus.DONE:
        errors["status"] = "is already done"
    if errors:
        raise ObligationError(errors)
    obligation.status = ObligationStatus.DONE.value
    obligation.done_at = done_at
    obligation.evidence = evidence
    obligation.done_by_id = actor.id
    audit.record(
        session,
        AuditAction.TRIAGE_OBLIGATION_DONE,
        actor=audit.actor_of(actor),
        object_type="obligation",
        object_id=obligation.id,
        case_id=obligation.case_id,
        details={
            "kind": obligation.kind,
            "done_at": done_at.isoformat(),
            "due_at": obligation.due_at.isoformat(),
            "late": done_at > obligation.due_at,
        },
    )
    return obligation


# --- deadlines board -------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A pending obligation with its case, for the board and the feed."""

    obligation: Obligation
    case: Case


@dataclass(frozen=True)
class DeadlineBoard:
    overdue: list[Deadline]
    this_week: list[Deadline]
    later: list[Deadline]

    @property
    def empty(self) -> bool:
        """No pending obligation at all."""
        return not (self.overdue or self.this_week or self.later)


# The board's statements, built once (for readers of every case, and for members) with the
# values bound at execution: building a statement on each visit cost more than running it.
_PENDING = (
    select(Obligation, Case)
    .join(Case, Case.id == Obligation.case_id)
    .where(Obligation.status == ObligationStatus.PENDING.value)
    .order_by(Obligation.due_at, Obligation.id)
    .limit(bindparam("limit", type_=Integer))
)
_PENDING_OF_MEMBER = _PENDING.where(
    exists().where(CaseMember.case_id == Case.id, CaseMember.user_id == bindparam("user_id"))
)


def pending_deadlines(session: Session, user: User, *, limit: int = 500) -> list[Deadline]:
    """Pending obligations of the cases ``user`` may see (the need-to-know rule of list_cases)."""
    if user.can(Permission.CASE_VIEW_ALL):
        rows = session.execute(_PENDING, {"limit": limit})
    else:
        rows = session.execute(_PENDING_OF_MEMBER, {"limit": limit, "user_id": user.id})
    return [Deadline(obligation, case) for obligation, case in rows.tuples()]


def deadline_board(
    session: Session, user: User, *, now: dt.datetime | None = None, week_days: int = 7
) -> DeadlineBoard:
    """The user's pending deadlines: overdue, due within ``week_days``, later."""
    now = now or utcnow()
    horizon = now + dt.timedelta(days=week_days)
    overdue: list[Deadline] = []
    this_week: list[Deadline] = []
    later: list[Deadline] = []
    for deadline in pending_deadlines(session, user):
        due = deadline.obligation.due_at
        if deadline.obligation.deadline == WINDOW and due < now:
            continue  # a protection window that has ended is nothing to do
        (overdue if due < now else this_week if due <= horizon else later).append(deadline)
    return DeadlineBoard(overdue, this_week, later)


# --- iCalendar feed --------------------------------------------------------------------------


def _feed_hash(token: str) -> str:
    # The token is 256 random bits: a plain SHA-256 cannot be reversed or guessed.
    return hashlib.sha256(token.encode()).hexdigest()


def feed_token_of(session: Session, user: User) -> DeadlineFeedToken | None:
    """The user's current feed token row (its hash only), if any."""
    return session.get(DeadlineFeedToken, user.id)


def issue_feed_token(session: Session, user: User) -> str:
    """A new secret for the user's feed URL (the old one stops working); shown once."""
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    row = session.get(DeadlineFeedToken, user.id)
    if row is None:
        row = DeadlineFeedToken(user_id=user.id, token_hash=_feed_hash(token))
        session.add(row)
    else:
        row.token_hash = _feed_hash(token)
        row.created_at = utcnow()
    _audit_feed_token(session, AuditAction.TRIAGE_FEED_TOKEN_ISSUED, user)
    return token


def revoke_feed_token(session: Session, user: User) -> bool:
    """Stop the user's feed URL from working; True if there was one."""
    row = session.get(DeadlineFeedToken, user.id)
    if row is None:
        return False
    session.delete(row)
    _audit_feed_token(session, AuditAction.TRIAGE_FEED_TOKEN_REVOKED, user)
    return True


def _audit_feed_token(session: Session, action: AuditAction, user: User) -> None:
    """Audit a change of ``user``'s own feed token: the user is both the actor and the object."""
    audit.record(session, action, actor=audit.actor_of(user), object_type="user", object_id=user.id)


def user_for_feed_token(session: Session, token: str) -> User | None:
    """The active user whose feed token this is, if they may still see cases."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(
        select(DeadlineFeedToken).where(DeadlineFeedToken.token_hash == _feed_hash(token))
    )
    if row is None or not row.user.active or not row.user.can(Permission.CASE_VIEW):
        return None
    return row.user


def _ical_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    """RFC 5545 3.1: lines longer than 75 octets continue on lines starting with a space."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode()) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def ical_feed(
    deadlines: Sequence[Deadline], *, tz: ZoneInfo, host: str, now: dt.datetime | None = None
) -> str:
    """An iCalendar document: one all-day VEVENT per pending obligation on its local due date.

    An obligation with an internal target earlier than its legal deadline gets a second event
    on the target's date (``X-CSIRT-DEADLINE: target``); the first carries what ``due_at`` is
    (legal, guidance, internal, window).

    Only the case reference and the obligation kind leave the server: no titles, no personal
    data, since calendar services store the feed outside the organisation.
    """
    stamp = (now or utcnow()).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//csirt//deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:csirt deadlines",
    ]
    for deadline in deadlines:
        obligation, case = deadline.obligation, deadline.case
        events = [("", obligation.due_at, obligation.deadline or "legal")]
        if obligation.target_at is not None and obligation.target_at < obligation.due_at:
            events.append(("-target", obligation.target_at, "target"))
        for suffix, moment, what in events:
            day = moment.astimezone(tz).date()
            summary = f"{case.reference} {obligation.kind}"
            if suffix:
                summary += " (target)"
            lines += [
                "BEGIN:VEVENT",
                f"UID:obligation-{obligation.id}{suffix}@{host}",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{_ical_escape(summary)}",
                f"X-CSIRT-DEADLINE:{what}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(folded + "\r\n" for line in lines for folded in _fold(line))


# --- signal receiver -------------------------------------------------------------------------


_fallback_config: list[Config] = []


def remember_config(config: Config) -> None:
    """Keep the app's config for receivers that run outside an app context (CLI jobs)."""
    _fallback_config[:] = [config]


def on_facts_changed(
    sender: Case, *, session: Session, actor: User | None = None, reason: str = "", **_: Any
) -> None:
    """Receiver of ``csirt.cases.signals.facts_changed``: re-run triage in the sender's session."""
    if has_app_context():
        config: Config = current_app.config["CSIRT"]
        catalog = current_catalog()
    elif _fallback_config:
        config = _fallback_config[0]
        catalog = load_catalog(config.playbooks_path)
    else:  # pragma: no cover - init_app always runs first
        return
    run_triage(session, sender, config=config, catalog=catalog, actor=actor, reason=reason)
