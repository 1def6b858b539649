"""Triage on real cases: facts from rows, stored runs, overrides, obligations, board and feed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.closing import missing_for_closing
from csirt.cases.models import Case, CaseMember, TimelineEvent
from csirt.cases.signals import priority_raised
from csirt.catalog.current import current_catalog
from csirt.db import utcnow
from csirt.triage import service
from csirt.triage.models import DeadlineFeedToken, Obligation, TriageRun
from tests.factories import UserFactory

from .integration import TOKYO, add_dataset, changed, founding_case, make_case

APPI = {"ppc_preliminary", "ppc_final", "notify_individuals"}


@pytest.fixture
def lead(users: UserFactory) -> Any:
    return users.create(roles=["lead"]).user


@pytest.fixture
def raised() -> Any:
    seen: list[tuple[Case, dict[str, Any]]] = []

    def receiver(sender: Case, **kwargs: Any) -> None:
        seen.append((sender, kwargs))

    priority_raised.connect(receiver)
    yield seen
    priority_raised.disconnect(receiver)


def _actions(session: Session, case: Case) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)
        )
    )


def _kinds(session: Session, case: Case, status: str | None = None) -> set[str]:
    return {o.kind for o in service.obligations_of(session, case) if status in (None, o.status)}


def test_founding_case_becomes_p1_with_every_appi_obligation(
    app: Flask, db_session: Session, lead: Any, raised: list[Any]
) -> None:
    case = founding_case(app, db_session, lead)

    assert case.priority == "P1"
    run = service.latest_run(db_session, case)
    assert run is not None
    assert (run.priority, run.reason, run.actor) == ("P1", "datasets", lead.username)
    assert run.changes == [{"field": "first_run", "from": None, "to": "P1"}]
    damage = run.result["en"]["damage_estimate"]
    assert (damage["per_person_jpy"], damage["total_jpy"]) == (6_000, 4_080_000_000)
    assert run.result["ja"]["factors"][0]["reason"].startswith("影響を受ける本人 680,000人")
    assert run.facts["exposure"] == "public_internet"
    assert run.facts["insider"] is True
    assert _kinds(db_session, case) == APPI
    due = {o.kind: o.due_at.astimezone(TOKYO) for o in service.obligations_of(db_session, case)}
    assert due["ppc_preliminary"] == dt.datetime(2015, 6, 27, 23, 59, 59, tzinfo=TOKYO)
    assert due["ppc_final"] == dt.datetime(2015, 7, 23, 23, 59, 59, tzinfo=TOKYO)
    # P3 -> P1: the teams package hears about it.
    assert [(c.id, kw["actor"]) for c, kw in raised] == [(case.id, lead)]
    assert "triage.run" in _actions(db_session, case)
    state = service.triage_state(db_session, case)
    assert (state.computed_priority, state.computed_score) == ("P1", run.score)
    # The priority change is on the timeline (through the cases service).
    titles = db_session.scalars(
        select(TimelineEvent.title).where(TimelineEvent.case_id == case.id)
    ).all()
    assert any("P3 → P1" in t for t in titles)


def test_case_facts_read_flags_datasets_and_config(
    app: Flask, db_session: Session, lead: Any
) -> None:
    config = app.config["CSIRT"].with_(
        org_kind="business",
        jurisdictions=frozenset({"JP", "EU"}),
        social_responsibility="high",
    )
    case = make_case(db_session, lead, involved=["Elections office"], ongoing=True)
    case.aware_at = None
    add_dataset(db_session, case, persons=10, exposure="lost", encrypted=True)
    add_dataset(db_session, case, items=["email"], persons=5, persons_estimated=True)
    facts = service.case_facts(db_session, case, config)
    assert facts.org_kind == "business"
    assert facts.jurisdictions == frozenset({"JP", "EU"})
    assert facts.aware_at == case.created_at  # no awareness time yet: when the case was opened
    assert facts.insider is True  # somebody inside was named as involved
    assert facts.ongoing is True
    assert facts.wrongful_intent is False
    assert facts.social_responsibility == "high"
    assert facts.effective_exposure == "public_internet"
    assert [(d.persons, d.encrypted, d.persons_estimated) for d in facts.datasets] == [
        (10, True, False),
        (5, False, True),
    ]
    assert facts.whistleblower_report is False
    assert facts.reported_at is None
    forced = service.case_facts(db_session, case, config, whistleblower_report=True)
    assert forced.whistleblower_report is True


def test_a_linked_whistleblower_report_starts_the_whistleblower_clocks(
    app: Flask, db_session: Session, lead: Any
) -> None:
    from csirt.intake.models import Submission

    case = make_case(db_session, lead, insider=True)
    add_dataset(db_session, case)
    received = dt.datetime(2015, 6, 1, 9, 0, tzinfo=TOKYO)
    db_session.add(
        Submission(
            lookup=b"x" * 32,
            receipt_wrap=b"w",
            answers_sealed=b"a",
            questionnaire="general",
            lang="ja",
            whistleblower=True,
            received_at=received,
            ack_due=received,
            answer_due=received,
            expires_at=received + dt.timedelta(days=365),
            case_id=case.id,
        )
    )
    db_session.flush()
    changed(app, db_session, case, lead, "linked a report")
    kinds = _kinds(db_session, case)
    assert kinds == APPI | {"wb_investigation_notice", "wb_outcome_notice", "wb_protection_window"}
    notice = next(
        o for o in service.obligations_of(db_session, case) if o.kind == "wb_investigation_notice"
    )
    # 20 days from the report's arrival, not from awareness.
    assert notice.due_at.astimezone(TOKYO).date() == dt.date(2015, 6, 21)


def test_retriage_on_dataset_change_records_what_changed(
    app: Flask, db_session: Session, lead: Any, raised: list[Any]
) -> None:
    case = make_case(db_session, lead)
    add_dataset(db_session, case, items=["name"], persons=40, exposure="internal")
    changed(app, db_session, case, lead, "datasets")
    first = service.latest_run(db_session, case)
    assert first is not None
    assert first.priority in {"P3", "P4"}
    low_priority = case.priority
    assert _kinds(db_session, case) == set()  # 40 names, internal: not reportable

    add_dataset(db_session, case, name="Voter list copy", persons=680_000)
    changed(app, db_session, case, None, "datasets")
    second = service.latest_run(db_session, case)
    assert second is not None
    assert second.id != first.id
    assert second.actor == "system"
    fields = {c["field"]: c for c in second.changes}
    assert fields["priority"] == {"field": "priority", "from": first.priority, "to": "P1"}
    assert fields["score"]["from"] == first.score
    assert fields["score"]["to"] == second.score
    assert fields["facts.datasets"] == {
        "field": "facts.datasets",
        "from": "1 / 40",
        "to": "2 / 680,040",
    }
    assert fields["facts.exposure"]["to"] == "public_internet"
    added = {c["to"] for c in second.changes if c["field"] == "obligation"}
    assert added == APPI
    assert case.priority == "P1" != low_priority
    assert len(raised) == 1
    assert [r.id for r in service.runs_of(db_session, case)] == [second.id, first.id]


def test_retriage_moves_due_dates_and_retires_what_no_longer_applies(
    app: Flask, db_session: Session, lead: Any
) -> None:
    case = founding_case(app, db_session, lead)
    final = next(o for o in service.obligations_of(db_session, case) if o.kind == "ppc_final")
    before = final.due_at
    case.wrongful_intent = True
    changed(app, db_session, case, lead, "case fields: wrongful_intent")
    # 確報: day 30 (2015-07-23, a Thursday) becomes day 60, Saturday 2015-08-22, which rolls
    # forward to Monday 2015-08-24.
    assert before.astimezone(TOKYO).date() == dt.date(2015, 7, 23)
    assert final.due_at.astimezone(TOKYO).date() == dt.date(2015, 8, 24)
    run = service.latest_run(db_session, case)
    assert run is not None
    assert {"field": "facts.wrongful_intent", "from": False, "to": True} in run.changes

    preliminary = next(
        o for o in service.obligations_of(db_session, case) if o.kind == "ppc_preliminary"
    )
    service.mark_done(
        db_session, preliminary, done_at=utcnow(), evidence="PPC receipt 123", actor=lead
    )
    # The data turn out to have been highly encrypted, and there was no wrongful intent.
    for row in case_datasets(db_session, case):
        row.encrypted = True
    case.wrongful_intent = False
    changed(app, db_session, case, lead, "datasets")
    statuses = {o.kind: o.status for o in service.obligations_of(db_session, case)}
    assert statuses == {
        "ppc_preliminary": "done",  # never undone nor deleted
        "ppc_final": "not_applicable",
        "notify_individuals": "not_applicable",
    }
    assert service.open_obligations(db_session, case) == []
    # Wrongful intent alone does not undo the exemption of highly encrypted data (規則7条,
    # 43条: the exemption covers every type).
    case.wrongful_intent = True
    changed(app, db_session, case, lead, "case fields: wrongful_intent")
    statuses = {o.kind: o.status for o in service.obligations_of(db_session, case)}
    assert statuses["ppc_final"] == "not_applicable"
    # And back: a not-applicable obligation comes back as pending.
    for row in case_datasets(db_session, case):
        row.encrypted = False
    changed(app, db_session, case, lead, "datasets")
    statuses = {o.kind: o.status for o in service.obligations_of(db_session, case)}
    assert statuses["ppc_final"] == "pending"
    assert statuses["ppc_preliminary"] == "done"


def case_datasets(session: Session, case: Case) -> list[Any]:
    from csirt.cases.models import AffectedDataset

    return list(session.scalars(select(AffectedDataset).where(AffectedDataset.case_id == case.id)))


def test_override_holds_until_cleared(
    app: Flask, db_session: Session, lead: Any, raised: list[Any]
) -> None:
    case = founding_case(app, db_session, lead)
    raised.clear()
    state = service.override_priority(
        db_session, case, priority="P2", reason="Contained; data taken down", actor=lead
    )
    assert case.priority == "P2"
    assert (state.override_priority, state.override_by_id) == ("P2", lead.id)
    assert service.effective_priority(state) == "P2"
    changed(app, db_session, case, lead, "datasets")
    assert case.priority == "P2"  # triage does not undo a lead's decision
    assert state.computed_priority == "P1"
    service.clear_override(db_session, case, actor=lead)
    assert case.priority == "P1"
    assert state.override_priority is None
    assert state.override_reason == ""
    assert service.effective_priority(state) == "P1"
    service.clear_override(db_session, case, actor=lead)  # nothing to clear: no-op
    actions = _actions(db_session, case)
    assert actions.count("triage.priority_override") == 1
    assert actions.count("triage.priority_override_cleared") == 1
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == "triage.priority_override")
    )
    assert event is not None
    assert event.details["reason"] == "Contained; data taken down"
    assert event.details["computed"] == "P1"
    # P2 -> P1 when the override is cleared: that is a rise, so the on-call lead hears of it.
    assert [(c.id, kw["reason"]) for c, kw in raised] == [(case.id, "triage")]


def test_override_raising_to_p1_signals(
    app: Flask, db_session: Session, lead: Any, raised: list[Any]
) -> None:
    case = make_case(db_session, lead)
    service.override_priority(
        db_session, case, priority="P1", reason="Press is calling", actor=lead
    )
    assert case.priority == "P1"
    assert [c.id for c, _kw in raised] == [case.id]
    service.clear_override(db_session, case, actor=lead)
    assert case.priority == "P1"  # never triaged: nothing computed to go back to


@pytest.mark.parametrize(
    ("priority", "reason", "fields"),
    [
        ("P0", "why", {"priority"}),
        ("P2", "   ", {"reason"}),
        ("X", "", {"priority", "reason"}),
        ("P2", "x" * 1001, {"reason"}),
    ],
)
def test_override_needs_a_priority_and_a_reason(
    db_session: Session, lead: Any, priority: str, reason: str, fields: set[str]
) -> None:
    case = make_case(db_session, lead)
    with pytest.raises(service.OverrideError) as caught:
        service.override_priority(db_session, case, priority=priority, reason=reason, actor=lead)
    assert set(caught.value.errors) == fields
    assert case.priority == "P3"


def test_mark_done_records_when_and_evidence(app: Flask, db_session: Session, lead: Any) -> None:
    case = founding_case(app, db_session, lead)
    obligation = next(
        o for o in service.obligations_of(db_session, case) if o.kind == "ppc_preliminary"
    )
    with pytest.raises(service.ObligationError) as caught:
        service.mark_done(
            db_session,
            obligation,
            done_at=utcnow() + dt.timedelta(days=1),
            evidence=" ",
            actor=lead,
        )
    assert set(caught.value.errors) == {"done_at", "evidence"}
    with pytest.raises(service.ObligationError) as caught:
        service.mark_done(
            db_session,
            obligation,
            done_at=dt.datetime(2015, 6, 26),
            evidence="x" * 4001,
            actor=lead,
        )
    assert set(caught.value.errors) == {"done_at", "evidence"}
    done_at = dt.datetime(2015, 6, 26, 15, 0, tzinfo=TOKYO)
    service.mark_done(
        db_session, obligation, done_at=done_at, evidence="Sent by e-Gov, no. 42", actor=lead
    )
    assert (obligation.status, obligation.done_at, obligation.done_by_id) == (
        "done",
        done_at,
        lead.id,
    )
    with pytest.raises(service.ObligationError) as caught:
        service.mark_done(db_session, obligation, done_at=done_at, evidence="again", actor=lead)
    assert set(caught.value.errors) == {"status"}
    event = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == "triage.obligation_done")
    )
    assert event is not None
    assert event.details["kind"] == "ppc_preliminary"
    assert event.details["late"] is False
    assert event.object_id == str(obligation.id)
    assert service.get_obligation(db_session, case, obligation.id) is obligation
    other = make_case(db_session, lead)
    with pytest.raises(service.ObligationNotFoundError):
        service.get_obligation(db_session, other, obligation.id)
    with pytest.raises(service.ObligationNotFoundError):
        service.get_obligation(db_session, case, 10**9)


def test_open_obligations_stop_the_case_from_closing(
    app: Flask, db_session: Session, lead: Any
) -> None:
    case = founding_case(app, db_session, lead)
    missing = {m.key for m in missing_for_closing(db_session, case, [])}
    open_ids = {f"obligation:{o.id}" for o in service.open_obligations(db_session, case)}
    assert len(open_ids) == 3
    assert open_ids <= missing
    for obligation in service.open_obligations(db_session, case):
        service.mark_done(db_session, obligation, done_at=utcnow(), evidence="done", actor=lead)
    db_session.flush()
    assert not {m.key for m in missing_for_closing(db_session, case, [])} & open_ids


def test_deadline_board_follows_need_to_know(
    app: Flask, db_session: Session, users: UserFactory
) -> None:
    lead = users.create(roles=["lead"]).user
    member = users.create(roles=["responder"]).user
    outsider = users.create(roles=["responder"]).user
    now = utcnow()
    mine = founding_case(app, db_session, lead, aware_at=now - dt.timedelta(days=5))
    db_session.add(CaseMember(case_id=mine.id, user_id=member.id, role="investigator"))
    theirs = founding_case(app, db_session, lead, aware_at=now - dt.timedelta(days=1))
    db_session.flush()

    board = service.deadline_board(db_session, member, now=now)
    assert {d.case.id for d in board.overdue + board.this_week + board.later} == {mine.id}
    assert [d.obligation.kind for d in board.overdue] == ["ppc_preliminary"]  # 3 days: gone
    assert board.this_week == []
    assert {d.obligation.kind for d in board.later} == {"ppc_final", "notify_individuals"}
    assert not board.empty

    assert service.deadline_board(db_session, outsider, now=now).empty
    everything = service.deadline_board(db_session, lead, now=now)
    assert {d.case.id for d in everything.overdue + everything.this_week + everything.later} == {
        mine.id,
        theirs.id,
    }
    assert [(d.case.id, d.obligation.kind) for d in everything.this_week] == [
        (theirs.id, "ppc_preliminary")
    ]
    # Done obligations leave the board.
    for deadline in everything.overdue:
        service.mark_done(
            db_session, deadline.obligation, done_at=now, evidence="filed", actor=lead
        )
    db_session.flush()
    assert service.deadline_board(db_session, lead, now=now).overdue == []


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_ical_feed_has_one_event_per_pending_obligation(
    app: Flask, db_session: Session, lead: Any
) -> None:
    case = founding_case(app, db_session, lead, title="Secret title with 氏名")
    deadlines = service.pending_deadlines(db_session, lead)
    body = service.ical_feed(
        deadlines, tz=TOKYO_ZONE, host="csirt.example", now=dt.datetime(2015, 7, 1, tzinfo=dt.UTC)
    )
    assert body.endswith("\r\n")
    lines = _unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-2] == "END:VCALENDAR"
    assert lines[-1] == ""
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 3
    starts = sorted(line for line in lines if line.startswith("DTSTART"))
    assert starts == [
        "DTSTART;VALUE=DATE:20150627",
        "DTSTART;VALUE=DATE:20150723",
        "DTSTART;VALUE=DATE:20150723",
    ]
    assert "DTEND;VALUE=DATE:20150628" in lines
    summaries = sorted(line for line in lines if line.startswith("SUMMARY:"))
    assert summaries == sorted(f"SUMMARY:{case.reference} {kind}" for kind in APPI)
    uids = {line for line in lines if line.startswith("UID:")}
    assert len(uids) == 3
    assert all(u.endswith("@csirt.example") for u in uids)
    assert all(line.startswith("DTSTAMP:20150701T000000Z") for line in lines if "DTSTAMP" in line)
    assert "Secret" not in body
    assert "氏名" not in body
    assert "680" not in body
    assert all(len(raw.encode()) <= 75 for raw in body.split("\r\n"))


TOKYO_ZONE = __import__("zoneinfo").ZoneInfo("Asia/Tokyo")


def test_ical_lines_are_escaped_and_folded() -> None:
    assert service._ical_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "SUMMARY:" + "義務" * 40
    folded = service._fold(long)
    assert len(folded) > 1
    assert all(len(part.encode()) <= 75 for part in folded)
    assert all(part.startswith(" ") for part in folded[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(folded)) == long


def test_feed_tokens_are_hashed_rotated_and_revoked(
    db_session: Session, users: UserFactory
) -> None:
    user = users.create(roles=["responder"]).user
    assert service.feed_token_of(db_session, user) is None
    assert service.revoke_feed_token(db_session, user) is False
    token = service.issue_feed_token(db_session, user)
    db_session.flush()
    row = db_session.get(DeadlineFeedToken, user.id)
    assert row is not None
    assert token not in row.token_hash
    assert len(row.token_hash) == 64
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert service.user_for_feed_token(db_session, token) is user
    newer = service.issue_feed_token(db_session, user)
    db_session.flush()
    assert service.user_for_feed_token(db_session, token) is None
    assert service.user_for_feed_token(db_session, newer) is user
    assert service.user_for_feed_token(db_session, "") is None
    assert service.user_for_feed_token(db_session, "x" * 500) is None
    user.active = False
    assert service.user_for_feed_token(db_session, newer) is None
    user.active = True
    assert service.revoke_feed_token(db_session, user) is True
    db_session.flush()
    assert service.user_for_feed_token(db_session, newer) is None
    auditor = users.create(roles=["auditor"]).user  # may not see cases at all
    auditor_token = service.issue_feed_token(db_session, auditor)
    db_session.flush()
    assert service.user_for_feed_token(db_session, auditor_token) is None
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))
    ).all()
    assert actions.count("triage.feed_token_issued") == 2
    assert "triage.feed_token_revoked" in actions


def test_runs_are_kept_per_case(app: Flask, db_session: Session, lead: Any) -> None:
    case = founding_case(app, db_session, lead)
    service.run_triage(
        db_session,
        case,
        config=app.config["CSIRT"],
        catalog=current_catalog(app),
        actor=lead,
        reason="again",
    )
    runs = db_session.scalars(select(TriageRun).where(TriageRun.case_id == case.id)).all()
    assert len(runs) == 2
    assert service.latest_run(db_session, case) is runs[-1]
    assert runs[-1].changes == []  # nothing changed
    assert db_session.scalar(select(Obligation).where(Obligation.case_id == case.id)) is not None


def test_receiver_works_outside_an_app_context(app: Flask, db_session: Session, lead: Any) -> None:
    from csirt.cases.signals import facts_changed

    case = make_case(db_session, lead, insider=True)
    add_dataset(db_session, case)
    facts_changed.send(case, session=db_session, actor=lead, reason="cli import")
    assert case.priority == "P1"
