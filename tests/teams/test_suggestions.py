"""Suggestions only among people who can work the case: every account role through the API,
and the on-call label only for the person on call now."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.auth.permissions import Role
from csirt.catalog import CASE_ROLES
from csirt.db import utcnow
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
