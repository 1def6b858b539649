"""Suggestions only among people who can work the case: every account role through the API,
and the on-call label only for the person on call now."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.auth.permissions import Role
from csirt.cases.models import CaseMember
from csirt.catalog import CASE_ROLES
from csirt.db import utcnow
from tests.conftest import csrf_from
from tests.factories import FACTORY
from tests.teams.conftest import World

TZ = ZoneInfo("Asia/Tokyo")
EVERY_SKILL = ("management", "forensics", "systems", "privacy", "pr", "legal")
WORKING = {Role.RESPONDER.value, Role.LEAD.value}


def _headers(db_session: Session, user) -> dict[str, str]:
    _row, plain = auth_service.create_token(
        db_session, user, name="t", actor=FACTORY, scopes=("read", "write")
    )
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_suggestions_list_only_people_who_can_work_the_case(
    client, db_session: Session, world: World
):
    people = {
        role.value: world.person(f"only-{role.value}", EVERY_SKILL, roles=(role.value,))
        for role in Role
    }
    world.team("everyone", list(people.values()))  # each one's skills fit every role
    caller = world.person("caller", roles=("lead",))
    case = world.case(actor=caller)
    db_session.commit()
    found = client.get(f"/api/v1/cases/{case.id}/suggestions", headers=_headers(db_session, caller))
    assert found.status_code == 200, found.json
    for case_role in CASE_ROLES:
        listed = {s["username"] for s in found.json[case_role]}
        allowed = {f"only-{r}" for r in WORKING | ({"pr"} if case_role == "pr" else set())}
        assert listed <= allowed, (case_role, listed)
        assert {"only-responder", "only-lead"} <= listed, (case_role, listed)
    assert "only-pr" in {s["username"] for s in found.json["pr"]}
    never = {f"only-{r}" for r in ("committee", "custodian", "auditor", "intake_officer", "admin")}
    assert not never & {s["username"] for r in CASE_ROLES for s in found.json[r]}


def test_on_call_label_only_for_the_person_on_call_now(client, db_session: Session, world: World):
    today = utcnow().astimezone(TZ).date()
    monday = today - timedelta(days=today.weekday())
    duty = [world.person(f"duty-{n}", ("forensics",)) for n in range(3)]
    world.team("csirt", duty, first_response=True, start=monday)
    solo = world.person("solo", ("forensics",))
    world.team("systems", [solo], start=monday)  # a one-person team is not the on-call duty
    caller = world.person("caller", roles=("lead",))
    case = world.case(actor=caller)
    db_session.commit()
    found = client.get(
        f"/api/v1/cases/{case.id}/suggestions?lang=en", headers=_headers(db_session, caller)
    )
    assert found.status_code == 200
    labelled = {s["username"] for s in found.json["investigator"] if "on call now" in s["reasons"]}
    assert len(labelled) == 1
    assert labelled <= {u.username for u in duty}


def test_people_who_cannot_work_a_case_cannot_be_assigned(
    client, db_session: Session, world: World, login_as
):
    committee = world.person("outside-expert", ("legal",), roles=("committee",))
    pr = world.person("press", ("pr",), roles=("pr",))
    caller = world.person("caller-lead", roles=("lead",))
    case = world.case(actor=caller)
    db_session.commit()
    headers = _headers(db_session, caller)
    url = f"/api/v1/cases/{case.id}/assignments"
    refused = client.post(
        url, json={"username": committee.username, "role": "legal"}, headers=headers
    )
    assert refused.status_code == 422
    assert "username" in refused.json["errors"]
    wrong_role = client.post(
        url, json={"username": pr.username, "role": "investigator"}, headers=headers
    )
    assert wrong_role.status_code == 422
    as_pr = client.post(url, json={"username": pr.username, "role": "pr"}, headers=headers)
    assert as_pr.status_code == 201
    login_as("lead")
    page = client.get(f"/console/cases/{case.id}/team")
    console = client.post(
        f"/console/cases/{case.id}/team/assign",
        data={"username": committee.username, "role": "legal", "csrf_token": csrf_from(page.text)},
    )
    assert console.status_code == 400
    members = db_session.scalars(select(CaseMember.user_id).where(CaseMember.case_id == case.id))
    assert committee.id not in set(members)
