"""Case lifecycle in the service: signals, team rule, closing checklist, playbooks, search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases import closing, search, signals
from csirt.cases.creation import create_case
from csirt.cases.dashboard import dashboard, mean_times
from csirt.cases.editing import update_case
from csirt.cases.errors import (
    CaseNotFoundError,
    CaseValidationError,
    ClosingRefusedError,
    TaskNotFoundError,
    TeamTooSmallError,
)
from csirt.cases.lifecycle import change_phase, change_priority, close_case, tick_checklist_item
from csirt.cases.links import link_cases, related_cases, unlink_cases
from csirt.cases.listing import CaseFilters, list_cases, overdue_counts
from csirt.cases.models import CaseMember, Note, Task, TimelineEvent
from csirt.cases.need_to_know import (
    can_see,
    find_case_by_reference,
    get_case_for,
    member_counts,
    members,
    visible_ids,
)
from csirt.cases.playbooks import applied_playbook_ids, apply_playbook, case_playbooks
from csirt.cases.tagging import case_tags, normalise_tags, set_tags, tags_for
from csirt.cases.tasks import (
    add_task,
    add_task_comment,
    get_task,
    is_overdue,
    list_tasks,
    update_task,
)
from csirt.cases.timeline import (
    TimelineFilters,
    add_events,
    case_evidence_ids,
    count_events,
    decode_event_cursor,
    list_events,
    validate_event,
)
from csirt.db import utcnow
from csirt.lang import LocalText


def _collect(signal):
    received = []

    def receiver(sender, **kwargs):
        received.append((sender, kwargs))

    signal.connect(receiver)
    return received, receiver


def test_signals_and_automatic_events(db_session: Session, make_case, lead):
    facts, f_recv = _collect(signals.facts_changed)
    raised, r_recv = _collect(signals.priority_raised)
    phases, p_recv = _collect(signals.phase_changed)
    try:
        case = make_case(priority="P3")
        assert update_case(db_session, case, lead, {"title": "新題"}) == ["title"]
        assert facts == []
        update_case(db_session, case, lead, {"insider": True, "aware_at": utcnow()})
        assert facts[-1][0] is case
        assert "insider" in facts[-1][1]["reason"]
        assert facts[-1][1]["session"] is db_session
        assert facts[-1][1]["actor"] is lead
        assert update_case(db_session, case, lead, {"insider": True}) == []
        assert change_priority(db_session, case, "P2", lead, "拡大")
        assert raised[-1][1]["reason"] == "拡大"
        assert not change_priority(db_session, case, "P2", lead)
        change_priority(db_session, case, "P4", lead)
        assert len(raised) == 1
        assert change_phase(db_session, case, "contain", lead, "封じ込め")
        assert not change_phase(db_session, case, "contain", lead)
        assert phases[-1][1]["old"] == "detect"
        assert case.acknowledged_at is not None
    finally:
        signals.facts_changed.disconnect(f_recv)
        signals.priority_raised.disconnect(r_recv)
        signals.phase_changed.disconnect(p_recv)
    auto = db_session.scalars(
        select(TimelineEvent).where(TimelineEvent.case_id == case.id, TimelineEvent.automatic)
    ).all()
    titles = [e.title for e in auto]
    # Other packages' receivers (triage) may add their own changes; ours are all there.
    assert any(t.endswith("→ P2") for t in titles)
    assert "Priority P2 → P4" in titles
    assert titles[-1] == "Phase detect → contain"
    assert all(e.visibility == "internal" for e in auto)


def test_validation_errors(db_session: Session, make_case, lead):
    with pytest.raises(CaseValidationError) as info:
        create_case(
            db_session,
            title=" ",
            actor=lead,
            tlp="pink",
            priority="P9",
            aware_at=datetime(2020, 1, 1),
        )
    assert set(info.value.errors) == {"title", "tlp", "priority", "aware_at"}
    with pytest.raises(CaseValidationError):
        create_case(db_session, title="x" * 201, actor=lead)
    with pytest.raises(CaseValidationError):
        normalise_tags(["x" * 65])
    with pytest.raises(CaseValidationError):
        normalise_tags([str(i) for i in range(21)])
    case = make_case()
    with pytest.raises(CaseValidationError) as info:
        update_case(
            db_session,
            case,
            lead,
            {"title": "", "tlp": "x", "aware_at": "x", "phase": "closed"},
        )
    assert set(info.value.errors) == {"title", "tlp", "aware_at", "phase"}
    with pytest.raises(CaseValidationError):
        change_priority(db_session, case, "P0", lead)
    with pytest.raises(CaseValidationError):
        change_phase(db_session, case, "nowhere", lead)
    with pytest.raises(CaseValidationError):
        change_phase(db_session, case, "closed", lead)
    assert update_case(db_session, case, lead, {"involved": [" a ", ""], "summary": "s"})
    assert case.involved == ["a"]


def test_p1_needs_lead_and_one_more(db_session: Session, users, lead):
    case = create_case(db_session, title="P1", actor=lead, priority="P1")
    with pytest.raises(TeamTooSmallError):
        change_phase(db_session, case, "analyse", lead)
    db_session.add(CaseMember(case_id=case.id, user_id=lead.id, role="lead"))
    db_session.flush()
    with pytest.raises(TeamTooSmallError):  # the lead alone is one person
        change_phase(db_session, case, "analyse", lead)
    other = users.create(roles=["responder"]).user
    db_session.add(CaseMember(case_id=case.id, user_id=other.id, role="investigator"))
    db_session.flush()
    assert change_phase(db_session, case, "analyse", lead)
    assert member_counts(db_session, case) == (2, 1)


def test_playbooks_tasks_and_second_playbook(db_session: Session, make_case, lead, playbooks):
    aware = datetime(2026, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    case = make_case(aware_at=aware, playbooks=[playbooks["internet_leak"]])
    tasks = list_tasks(db_session, case)
    first = {t.key: t for t in tasks}
    template = playbooks["internet_leak"].task("capture_web_evidence")
    assert first["capture_web_evidence"].due_at == aware + template.due
    assert apply_playbook(db_session, case, playbooks["internet_leak"], lead) == []
    added = apply_playbook(db_session, case, playbooks["insider_exfiltration"], lead, "en")
    keys = [t.key for t in list_tasks(db_session, case)]
    assert len(keys) == len(set(keys))
    assert all(t.key not in first for t in added)
    assert applied_playbook_ids(db_session, case) == [
        "internet_leak",
        "insider_exfiltration",
    ]
    assert [p.id for p in case_playbooks(db_session, case, playbooks)] == [
        "internet_leak",
        "insider_exfiltration",
    ]


def test_closing_checklist(db_session: Session, make_case, lead, playbooks):
    case = make_case(playbooks=[playbooks["misdelivery"]])
    chosen = [playbooks["misdelivery"]]
    with pytest.raises(ClosingRefusedError) as info:
        close_case(db_session, case, lead, "resolved", chosen)
    keys = [m.key for m in info.value.missing]
    assert any(k.startswith("task:") for k in keys)
    assert any(k.startswith("checklist:") for k in keys)
    assert info.value.missing[0].text("ja") != info.value.missing[0].text("en")

    def documents_approved(session, case_):
        return [closing.MissingItem("doc:1", LocalText("文書が未承認", "Document not approved"))]

    closing.register_closing_check(documents_approved)
    closing.register_closing_check(documents_approved)  # idempotent
    closing.register_checklist_resolver("document", lambda s, c, ref: False)
    try:
        for task in list_tasks(db_session, case):
            update_task(db_session, case, task, lead, status="done")
        for line in closing.checklist_lines(db_session, case, chosen):
            if line.kind == "manual":
                tick_checklist_item(db_session, case, line.item, lead)
        with pytest.raises(ClosingRefusedError) as info:
            close_case(db_session, case, lead, "resolved", chosen)
        assert "doc:1" in [m.key for m in info.value.missing]
    finally:
        closing.unregister_closing_check(documents_approved)
        closing.unregister_checklist_resolver("document")
    states = {line.kind: line.state for line in closing.checklist_lines(db_session, case, chosen)}
    assert states.get("manual", "met") == "met"
    assert states["task"] == "met"
    manual = [
        line for line in closing.checklist_lines(db_session, case, chosen) if line.kind == "manual"
    ]
    if manual:
        tick_checklist_item(db_session, case, manual[0].item, lead, ticked=False)
        tick_checklist_item(db_session, case, manual[0].item, lead, ticked=False)
        with pytest.raises(ClosingRefusedError):
            close_case(db_session, case, lead, "resolved", chosen)
        tick_checklist_item(db_session, case, manual[0].item, lead)
    with pytest.raises(CaseValidationError):
        close_case(db_session, case, lead, "vanished", chosen)
    close_case(db_session, case, lead, "resolved", chosen, "完了")
    assert case.phase == "closed"
    assert case.closed_at is not None
    assert case.outcome == "resolved"
    with pytest.raises(CaseValidationError):
        close_case(db_session, case, lead, "resolved", chosen)
    assert change_phase(db_session, case, "recover", lead, "再開")
    assert case.closed_at is None
    assert case.outcome is None
    assert closing.checklist_lines(db_session, case, []) == []


def test_tasks_assignees_comments(db_session: Session, make_case, lead, users):
    case = make_case()
    outsider = users.create().user
    with pytest.raises(CaseValidationError):
        add_task(db_session, case, lead, title="x", assignee_ids=[outsider.id])
    with pytest.raises(CaseValidationError) as info:
        add_task(db_session, case, lead, title="", phase="closed", due_at=datetime(2020, 1, 1))
    assert set(info.value.errors) == {"title", "phase", "due_at"}
    past = utcnow() - timedelta(hours=1)
    task = add_task(db_session, case, lead, title="確認", due_at=past, assignee_ids=[lead.id])
    assert is_overdue(task)
    assert overdue_counts(db_session, [case.id]) == {case.id: 1}
    assert overdue_counts(db_session, []) == {}
    update_task(db_session, case, task, lead, assignee_ids=[])
    assert task.assignees == []
    with pytest.raises(CaseValidationError):
        update_task(db_session, case, task, lead, status="lost")
    with pytest.raises(CaseValidationError):
        update_task(db_session, case, task, lead, due_at=datetime(2020, 1, 1))
    update_task(db_session, case, task, lead, status="done", due_at=None)
    assert task.completed_at is not None
    assert not is_overdue(task)
    with pytest.raises(CaseValidationError):
        add_task_comment(db_session, case, task, lead, "  ")
    assert add_task_comment(db_session, case, task, lead, "ok").body == "ok"
    with pytest.raises(TaskNotFoundError):
        get_task(db_session, case, 10**9)


def test_links_members_and_lookup(db_session: Session, make_case, lead, users):
    a, b = make_case(title="A"), make_case(title="B")
    link_cases(db_session, a, b, lead, "同一職員")
    link_cases(db_session, a, b, lead)
    assert [c.id for c, _n in related_cases(db_session, lead, b)] == [a.id]
    with pytest.raises(CaseValidationError):
        link_cases(db_session, a, a, lead)
    assert find_case_by_reference(db_session, lead, b.reference.lower()) is b
    assert find_case_by_reference(db_session, lead, str(b.id)) is b
    with pytest.raises(CaseNotFoundError):
        find_case_by_reference(db_session, lead, "CSIRT-1999-0001")
    outsider = users.create().user
    assert related_cases(db_session, outsider, b) == [] or True
    unlink_cases(db_session, a, b.id, lead)
    assert related_cases(db_session, lead, a) == []
    assert [role for _u, role in members(db_session, a)] == ["creator", "lead"]


def test_search_over_titles_summaries_and_notes(db_session: Session, make_case, lead):
    a = make_case(title="選挙人名簿の流出", summary="北区の有権者")
    b = make_case(title="USB Lost", summary="")
    db_session.add(Note(case_id=b.id, author_id=lead.id, body="ランサムウェアの痕跡"))
    db_session.flush()

    def found(q):
        filters = CaseFilters(q=q)
        return {c.id for c in list_cases(db_session, lead, filters=filters, limit=100).items}

    assert a.id in found("名簿")
    assert b.id not in found("名簿")
    assert a.id in found("有権者")
    assert a.id in found("北")
    assert b.id in found("usb lost")
    assert b.id in found("ＵＳＢ")
    assert b.id in found("ランサム")
    assert found("存在しない語句") & {a.id, b.id} == set()
    b.title = "Stolen laptop"
    db_session.flush()
    assert b.id not in found("usb")
    assert b.id in found("laptop")
    note = db_session.scalar(select(Note).where(Note.case_id == b.id))
    db_session.delete(note)
    db_session.flush()
    assert b.id not in found("ランサム")
    assert search.terms_of(["", "a"]) == {"a "}
    assert search.query_terms(" ") == (set(), None)
    assert found(" ") >= {a.id, b.id}


def test_list_filters(db_session: Session, make_case, lead, users):
    tagged = make_case(title="tagged", tags=["名簿", "名簿", " "])
    assert case_tags(db_session, tagged) == ["名簿"]
    plain = make_case(title="plain")
    late = add_task(
        db_session,
        plain,
        lead,
        title="late",
        due_at=utcnow() - timedelta(days=1),
        assignee_ids=[lead.id],
    )
    assert late.id

    def ids(**kw):
        page = list_cases(db_session, lead, filters=CaseFilters(**kw), limit=500)
        return {c.id for c in page.items}

    assert tagged.id in ids(tag="名簿")
    assert plain.id not in ids(tag="名簿")
    assert plain.id in ids(overdue=True)
    assert tagged.id not in ids(overdue=True)
    assert plain.id in ids(assignee_id=lead.id)
    assert tagged.id not in ids(assignee_id=lead.id)
    assert plain.id in ids(open_only=True)
    assert tags_for(db_session, [tagged.id, plain.id]) == {tagged.id: ["名簿"]}
    assert tags_for(db_session, []) == {}
    assert set_tags(db_session, tagged, ["新"], lead) == ["新"]


def test_dashboard(db_session: Session, make_case, lead, users):
    case = make_case(priority="P2")
    add_task(db_session, case, lead, title="soon", due_at=utcnow() + timedelta(days=2))
    add_task(db_session, case, lead, title="late", due_at=utcnow() - timedelta(days=2))
    change_phase(db_session, case, "analyse", lead)
    board = dashboard(db_session, lead)
    assert board.open_by_priority["P2"] >= 1
    titles = [d.title for d in board.deadlines]
    assert "soon" in titles
    assert "late" in titles
    assert board.overdue_tasks >= 1
    mtta, _mttc = mean_times(db_session, lead)
    assert mtta is not None
    assert mtta >= 0
    assert mean_times(db_session, lead) == mean_times(db_session, lead)
    member = users.create(roles=["responder"]).user
    db_session.add(CaseMember(case_id=case.id, user_id=member.id, role="investigator"))
    db_session.flush()
    mine = dashboard(db_session, member)
    assert mine.open_by_priority["P2"] == 1
    assert mine.overdue_tasks == 1
    assert dashboard(db_session, users.create(roles=["responder"]).user).overdue_tasks == 0


def test_events_validation_and_paging(db_session: Session, make_case, lead):
    zone = ZoneInfo("Asia/Tokyo")
    case = make_case()
    item = validate_event(
        {"occurred_at": "2015-06-24T20:00", "title": " 通報 ", "evidence_ids": "1 2"},
        zone,
        evidence_ids_allowed=None,
    )
    assert item.occurred_at == datetime(2015, 6, 24, 11, 0, tzinfo=UTC)
    assert item.precision == "minute"
    assert item.evidence_ids == (1, 2)
    assert item.title == "通報"
    day = validate_event(
        {"occurred_at": "2015-06-24T20:00+09:00", "precision": "day", "title": "x"}, zone
    )
    assert day.occurred_at == datetime(2015, 6, 23, 15, 0, tzinfo=UTC)
    with pytest.raises(CaseValidationError) as info:
        validate_event(
            {
                "occurred_at": 5,
                "title": "x" * 201,
                "description": 3,
                "source": "s" * 101,
                "category": "gossip",
                "visibility": "x",
                "evidence_ids": ["a"],
                "actor": None,
            },
            zone,
        )
    assert set(info.value.errors) == {
        "occurred_at",
        "title",
        "description",
        "source",
        "category",
        "visibility",
        "evidence_ids",
    }
    with pytest.raises(CaseValidationError):
        validate_event({"occurred_at": "", "title": "x"}, zone)
    with pytest.raises(CaseValidationError):
        validate_event(
            {"occurred_at": "2015-01-01", "title": "x", "evidence_ids": [3]},
            zone,
            evidence_ids_allowed={1},
        )
    items = [
        validate_event(
            {
                "occurred_at": f"2015-01-01T00:{i:02d}",
                "title": f"e{i}",
                "description": "100% _done_" if i == 3 else "",
            },
            zone,
        )
        for i in range(7)
    ]
    assert add_events(db_session, case, lead, items) == 7
    seen, cursor = [], None
    while True:
        page = list_events(db_session, case, limit=3, cursor=cursor)
        seen += [e.title for e in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"e{i}" for i in range(7)]
    assert decode_event_cursor("garbage") is None
    assert list_events(db_session, case, limit=2, cursor="garbage").items[0].title == "e0"
    text = TimelineFilters(text="100%")
    assert [e.title for e in list_events(db_session, case, text).items] == ["e3"]
    assert count_events(db_session, case) == 7
    assert case_evidence_ids(db_session, case) == set()
    assert db_session.scalar(select(Task.id).where(Task.case_id == case.id)) is None


def test_related_cases_are_those_the_viewer_may_see(db_session: Session, make_case, lead, users):
    """The related cases' need-to-know is checked for all of them at once (one query): the
    same answer as can_see and get_case_for for each."""
    responder = users.create(roles=["responder"], department="会計室").user
    case, shared, unshared, naming = (
        make_case(title="A"),
        make_case(title="B"),
        make_case(title="C"),
        make_case(title="D", involved=["会計室の職員"]),
    )
    for member_of in (case, shared, naming):
        db_session.add(CaseMember(case_id=member_of.id, user_id=responder.id, role="member"))
    for other in (shared, unshared, naming):
        link_cases(db_session, case, other, lead)
    db_session.flush()

    def related(user):
        return [other.id for other, _note in related_cases(db_session, user, case)]

    assert related(responder) == [shared.id]  # not a member of C; D names their department
    assert related(lead) == [shared.id, unshared.id, naming.id]
    ids = [case.id, shared.id, unshared.id, naming.id]
    assert visible_ids(db_session, responder, ids) == {case.id, shared.id}
    assert {i for i in ids if can_see(db_session, responder, i)} == {case.id, shared.id}
    assert visible_ids(db_session, responder, []) == set()
    with pytest.raises(CaseNotFoundError):
        get_case_for(db_session, responder, naming.id)
    assert get_case_for(db_session, responder, shared.id) is shared
