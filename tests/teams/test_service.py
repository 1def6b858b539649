"""Teams on the database: suggestions, conflicts, paging and escalation with a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.models import CaseMember, Priority, Task, TaskAssignee
from csirt.catalog import load_catalog
from csirt.notify.models import Notification
from csirt.notify.service import Channel
from csirt.teams.assignment import acknowledge, assign, pending_for
from csirt.teams.base import (
    ConflictOfInterestError,
    InvalidInputError,
    NothingToAcknowledgeError,
    TeamNotFoundError,
    UnknownUserError,
)
from csirt.teams.candidates import involved_for, suggestions_for
from csirt.teams.feed_tokens import new_feed_token, user_for_feed_token
from csirt.teams.leave import add_leave
from csirt.teams.models import AckStatus
from csirt.teams.oncall import calendar, on_call_now, set_rotation, swap_weeks
from csirt.teams.paging import escalate_due, page_on_call, page_unpaged_p1
from csirt.teams.people import (
    add_member,
    create_team,
    get_team,
    get_user,
    list_teams,
    profile_for,
    remove_member,
    set_profile,
)
from csirt.teams.suggest import Suggestions
from tests.teams.conftest import Clock, Sink, World

TZ = ZoneInfo("Asia/Tokyo")
PLAYBOOKS = load_catalog(Path(__file__).resolve().parents[2] / "playbooks").playbooks


def _names(suggestions: Suggestions, role: str) -> list[str]:
    return [s.candidate.username for s in suggestions.by_role[role]]


def test_skill_match_ranks_first(world: World, clock: Clock):
    forensic = world.person("forensic", ("forensics", "systems"))
    half = world.person("half", ("systems",))
    world.person("nothing", ())
    world.team("core", [forensic, half, world.session.get(type(forensic), forensic.id)])
    world.team(
        "others",
        [
            world.users.session.scalar(
                select(type(forensic)).where(type(forensic).username == "nothing")
            )
        ],
    )
    case = world.case()
    found = suggestions_for(world.session, case, TZ, PLAYBOOKS, clock)
    assert _names(found, "investigator")[:3] == ["forensic", "half", "nothing"]
    top = found.by_role["investigator"][0]
    assert any("forensics" in r.en for r in top.reasons)
    assert any("フォレンジック" in r.ja for r in top.reasons)


def test_workload_lowers_the_rank_of_equally_skilled_people(world: World, clock: Clock):
    busy = world.person("busy", ("privacy",))
    free = world.person("free", ("privacy",))
    world.team("privacy", [busy, free])
    other = world.case(title="Other")
    for index in range(3):
        task = Task(case_id=other.id, title=f"t{index}", status="open")
        world.session.add(task)
        world.session.flush()
        world.session.add(TaskAssignee(task_id=task.id, user_id=busy.id))
    world.session.flush()
    case = world.case()
    found = suggestions_for(world.session, case, TZ, PLAYBOOKS, clock)
    ranked = found.by_role["privacy_officer"]
    assert [s.candidate.username for s in ranked] == ["free", "busy"]
    assert ranked[0].score - ranked[1].score == 15
    assert "3 open tasks" in ranked[1].reasons[-1].en


def test_on_call_leave_and_part_time_count(world: World, clock: Clock):
    on_call = world.person("oncall", ("legal",))
    away = world.person("away", ("legal",))
    part = world.person("part", ("legal",))
    set_profile(world.session, part, actor=None, availability_percent=50)
    today = clock().astimezone(TZ).date()
    add_leave(world.session, away, today, today + timedelta(days=2), actor=None)
    world.team("legal", [on_call, away, part], start=today - timedelta(days=today.weekday()))
    case = world.case()
    ranked = suggestions_for(world.session, case, TZ, PLAYBOOKS, clock).by_role["legal"]
    assert [s.candidate.username for s in ranked] == ["oncall", "part", "away"]
    assert any(r.en == "on call now" for r in ranked[0].reasons)
    assert any(r.en == "part time (50%)" for r in ranked[1].reasons)
    assert any(r.en == "on leave today" for r in ranked[2].reasons)


@pytest.mark.parametrize(
    ("involved", "department", "display_name"),
    [
        (("会計室",), "会計室", "担当者"),
        (("ｶｲｹｲ",), "カイケイ", "担当者"),  # width-insensitive
        (("EXPERT",), "情報政策課", "expert"),  # named (case-insensitive): the subject
        (("expert 会計室の職員",), "情報政策課", "expert"),
    ],
)
def test_a_conflicted_person_never_appears_whatever_their_skills(
    world: World, clock: Clock, involved: tuple[str, ...], department: str, display_name: str
):
    skills = ("forensics", "privacy", "legal", "pr", "systems", "management")
    expert = world.person("expert", skills, department=department, display_name=display_name)
    plain = world.person("plain", ())
    world.team("core", [expert, plain], start=date(2026, 1, 5))  # expert is on call too
    case = world.case(involved=involved)
    found = suggestions_for(world.session, case, TZ, PLAYBOOKS, clock)
    for role, ranked in found.by_role.items():
        assert "expert" not in [s.candidate.username for s in ranked], role
    assert [e.candidate.username for e in found.excluded] == ["expert"]


def test_intake_involved_entries_also_exclude(world: World, clock: Clock):
    from csirt.intake.models import Submission

    insider = world.person("insider", ("forensics",), department="選挙管理委員会事務局")
    world.team("core", [insider])
    case = world.case()
    assert involved_for(world.session, case) == []
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    world.session.add(
        Submission(
            lookup=b"l" * 32,
            receipt_wrap=b"r",
            answers_sealed=b"a",
            questionnaire="v1",
            lang="ja",
            involved=["選挙管理委員会事務局"],
            received_at=moment,
            ack_due=moment,
            answer_due=moment,
            expires_at=moment,
            case_id=case.id,
        )
    )
    world.session.flush()
    assert involved_for(world.session, case) == ["選挙管理委員会事務局"]
    found = suggestions_for(world.session, case, TZ, PLAYBOOKS, clock)
    assert found.by_role["investigator"] == []


def test_assigning_a_conflicted_person_is_refused(world: World, channel: Channel):
    lead = world.person("boss", ("management",), roles=("lead",))
    suspect = world.person("suspect", ("forensics",), department="会計室")
    case = world.case(involved=("会計室",), actor=lead)
    with pytest.raises(ConflictOfInterestError) as refused:
        assign(world.session, channel, case, suspect, "investigator", actor=lead)
    assert "会計室" in refused.value.reason.ja
    members = world.session.scalars(select(CaseMember.user_id).where(CaseMember.case_id == case.id))
    assert suspect.id not in list(members)


def test_assignment_is_audited_notifies_and_waits_for_acknowledgement(
    world: World, channel: Channel, sink: Sink, db_session: Session
):
    lead = world.person("boss", ("management",), roles=("lead",))
    second = world.person("second", ("forensics",))
    case = world.case(actor=lead, priority=Priority.P1)
    assign(world.session, channel, case, lead, "lead", actor=lead)
    assign(world.session, channel, case, second, "investigator", actor=lead)
    again = assign(world.session, channel, case, second, "investigator", actor=lead)
    assert again.role == "investigator"
    db_session.commit()
    assert len(sink.messages) == 1  # the lead assigned themselves: nothing to tell them
    assert sink.messages[0]["To"] == "second@example.jp"
    actions = list(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id))
    )
    assert actions.count("case.member.add") == 2
    [pending] = pending_for(db_session, case.id)
    assert pending.user_id == second.id
    with pytest.raises(NothingToAcknowledgeError):
        acknowledge(db_session, case, lead)
    assert acknowledge(db_session, case, second) == 1
    assert pending_for(db_session, case.id) == []
    assert case.acknowledged_at is not None
    with pytest.raises(InvalidInputError):
        assign(world.session, channel, case, second, "chef", actor=lead)


def test_p1_pages_the_on_call_lead_and_escalates_after_the_configured_minutes(
    world: World, channel: Channel, sink: Sink, clock: Clock, db_session: Session
):
    first = world.person("first", ("management",), roles=("lead",))
    second = world.person("second", ("management",), roles=("lead",))
    third = world.person("third", ("management",), roles=("lead",))
    monday = clock().astimezone(TZ).date() - timedelta(days=clock().astimezone(TZ).weekday())
    world.team("core", [first, second, third], first_response=True, start=monday)
    case = world.case(priority=Priority.P1, title="Canary title")

    [page] = page_on_call(db_session, channel, case, TZ, clock)
    assert page.user_id == first.id
    assert page_on_call(db_session, channel, case, TZ, clock) == []  # once per case
    db_session.commit()
    assert [m["To"] for m in sink.messages] == ["first@example.jp"]
    assert db_session.scalar(select(Notification).where(Notification.user_id == first.id))

    clock.advance(minutes=14, seconds=59)
    assert escalate_due(db_session, channel, TZ, minutes=15, now=clock) == []
    clock.advance(seconds=1)
    [escalated] = escalate_due(db_session, channel, TZ, minutes=15, now=clock)
    assert escalated.user_id == second.id
    assert escalated.step == 1
    db_session.commit()
    assert [m["To"] for m in sink.messages][-1] == "second@example.jp"
    assert "エスカレーション" in sink.messages[-1]["Subject"]
    assert page.status == AckStatus.ESCALATED.value

    # The second person answers: no more escalation.
    clock.advance(minutes=3)
    acknowledge(db_session, case, second, now=clock)
    clock.advance(minutes=30)
    assert escalate_due(db_session, channel, TZ, minutes=15, now=clock) == []


def test_escalation_skips_conflicted_people_and_stops_when_nobody_is_left(
    world: World, channel: Channel, clock: Clock, db_session: Session
):
    first = world.person("first", roles=("lead",))
    suspect = world.person("suspect", roles=("lead",), department="会計室")
    monday = clock().astimezone(TZ).date() - timedelta(days=clock().astimezone(TZ).weekday())
    world.team("core", [suspect, first], first_response=True, start=monday)
    case = world.case(priority=Priority.P1, involved=("会計室",))
    [page] = page_on_call(db_session, channel, case, TZ, clock)
    assert page.user_id == first.id  # the suspect is on call this week, but never paged
    clock.advance(minutes=20)
    assert escalate_due(db_session, channel, TZ, minutes=15, now=clock) == []
    actions = list(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id))
    )
    assert "case.page.exhausted" in actions


def test_unpaged_p1_cases_are_paged_by_the_sweep(
    world: World, channel: Channel, clock: Clock, db_session: Session
):
    first = world.person("first", roles=("lead",))
    world.team("core", [first], first_response=True, start=date(2026, 1, 5))
    world.case(priority=Priority.P3)
    p1 = world.case(priority=Priority.P1)
    pages = page_unpaged_p1(db_session, channel, TZ, clock)
    assert [p.case_id for p in pages] == [p1.id]
    assert page_unpaged_p1(db_session, channel, TZ, clock) == []


@pytest.mark.parametrize("priority", ["P1", "P2"])
def test_raising_priority_through_the_api_pages_at_once(
    world: World, mail_app, sink: Sink, db_session: Session, priority: str
):
    """The real path: PATCH priority → cases service → priority_raised → (wiring) → page."""
    from csirt.audit.service import SYSTEM
    from csirt.auth import service as auth_service

    first = world.person("first", roles=("lead",))
    world.team("core", [first], first_response=True, start=date(2026, 1, 5))
    case = world.case(priority=Priority.P3)
    _token, plain = auth_service.create_token(db_session, first, actor=SYSTEM)
    db_session.commit()
    response = mail_app.test_client().patch(
        f"/api/v1/cases/{case.id}",
        json={"priority": priority, "reason": "名簿の流出を確認"},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 200, response.json
    assert [m["To"] for m in sink.messages] == ["first@example.jp"]


def test_rotation_overrides_swaps_and_leave_cover(world: World, clock: Clock, db_session: Session):
    a = world.person("aa")
    b = world.person("bb")
    monday = clock().astimezone(TZ).date() - timedelta(days=clock().astimezone(TZ).weekday())
    team = world.team("core", [a, b], start=monday)
    assert on_call_now(db_session, team, TZ, clock) == a
    swap_weeks(db_session, team, monday, monday + timedelta(days=8), TZ, actor=None)
    assert on_call_now(db_session, team, TZ, clock) == b
    days = calendar(db_session, team, monday, 14, TZ)
    assert [d.user.username for d in days[:7]] == ["bb"] * 7
    assert [d.user.username for d in days[7:]] == ["aa"] * 7
    assert {d.source for d in days} == {"override"}
    with pytest.raises(InvalidInputError):
        swap_weeks(db_session, team, monday, monday + timedelta(days=14), TZ, actor=None)
    later = monday + timedelta(weeks=4)
    add_leave(db_session, a, later, later + timedelta(days=6), actor=None)
    cover = calendar(db_session, team, later, 1, TZ)[0]
    assert (cover.user, cover.source, cover.scheduled) == (b, "cover", a)
    with pytest.raises(InvalidInputError):
        add_leave(db_session, a, later, later - timedelta(days=1), actor=None)


def test_teams_people_and_profiles(world: World, db_session: Session):
    person = world.person("pp")
    team = world.team("alpha", [])
    with pytest.raises(InvalidInputError) as bad:
        create_team(db_session, name="", slug="Alpha!", actor=None)
    assert set(bad.value.errors) == {"name", "slug"}
    with pytest.raises(InvalidInputError) as taken:
        create_team(db_session, name="A", slug="alpha", actor=None)
    assert taken.value.errors == {"slug": "already taken"}
    member = add_member(
        db_session, team, person, actor=None, skills=["pr", "legal"], department="広報課"
    )
    assert add_member(db_session, team, person, actor=None) is member
    assert profile_for(db_session, person).skills == ["legal", "pr"]
    assert person.department == "広報課"
    with pytest.raises(InvalidInputError):
        add_member(db_session, team, person, actor=None, skills=["cooking"])
    with pytest.raises(InvalidInputError):
        set_profile(db_session, person, actor=None, availability_percent=0)
    with pytest.raises(InvalidInputError):
        set_profile(db_session, person, actor=None, department="x" * 129)
    with pytest.raises(InvalidInputError):
        set_rotation(db_session, team, start=None, order=[999], actor=None)
    with pytest.raises(UnknownUserError):
        get_user(db_session, "ghost")
    member_id = member.id
    remove_member(db_session, team, member_id, actor=None)
    assert team.members == []
    with pytest.raises(TeamNotFoundError):
        remove_member(db_session, team, member_id, actor=None)
    with pytest.raises(TeamNotFoundError):
        get_team(db_session, 10**6)


def test_feed_tokens(world: World, db_session: Session):
    person = world.person("feeder")
    token = new_feed_token(db_session, person)
    assert user_for_feed_token(db_session, token) == person
    assert user_for_feed_token(db_session, "wrong") is None
    assert user_for_feed_token(db_session, "") is None
    new_feed_token(db_session, person)
    assert user_for_feed_token(db_session, token) is None  # the old one stops working


def test_demo_teams(world: World, db_session: Session):
    from csirt.teams.demo import DEMO_TEAMS, seed_teams

    lead = world.person("lead", ("management",), roles=("lead",))
    seed_teams(db_session, {"lead": lead}, date(2026, 3, 4))
    teams = list_teams(db_session)
    assert len(teams) == len(DEMO_TEAMS)
    core = next(t for t in teams if t.slug == "csirt-core")
    assert core.first_response
    assert core.rotation_start == date(2026, 3, 2)
    assert [m.user.username for m in core.members] == ["lead"]
