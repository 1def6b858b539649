"""Teams API (bearer token): teams, members, suggestions and assignments."""

from __future__ import annotations

from typing import Any, Literal

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from csirt.api.problems import problem
from csirt.api.routes import ApiRoutes
from csirt.api.schema import ApiModel, ApiValidationError, LangQuery
from csirt.auth.access import current_actor
from csirt.auth.models import User
from csirt.auth.permissions import Permission, Role
from csirt.cases.need_to_know import get_case_for
from csirt.catalog import CASE_ROLES, SKILLS
from csirt.catalog.current import current_catalog
from csirt.db import get_session
from csirt.i18n import current_lang
from csirt.notify.service import channel_for
from csirt.teams import assignment, people
from csirt.teams.base import ConflictOfInterestError, UnknownUserError
from csirt.teams.candidates import suggestions_for
from csirt.teams.models import Team
from csirt.teams.oncall import on_call_now

api = ApiRoutes.blueprint("api_teams", __name__, "/api/v1", "teams")
bp = api.bp

Skill = Literal[SKILLS]  # type: ignore[valid-type]
TeamRole = Literal[CASE_ROLES]  # type: ignore[valid-type]


class Member(BaseModel):
    username: str
    display_name: str
    department: str | None
    skills: list[Skill]


class TeamOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    first_response: bool
    on_call: str | None
    members: list[Member]


class Suggestion(BaseModel):
    username: str
    display_name: str
    score: int
    reasons: list[str]


class TeamIn(ApiModel):
    name: str = Field(max_length=200)
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = ""
    first_response: bool = False


class MemberIn(ApiModel):
    username: str = Field(min_length=1, max_length=200)
    skills: list[Skill] | None = None
    department: str | None = Field(None, max_length=128)


class AssignmentIn(ApiModel):
    username: str = Field(min_length=1, max_length=200)
    role: TeamRole


class Assignment(BaseModel):
    username: str
    role: str


def _user_named(data: dict[str, Any]) -> User | None:
    """The active user the body names (the model checks the name's shape)."""
    username = data.get("username")
    if not isinstance(username, str):
        return None  # the model names the wrong type
    if not username.strip():  # the model's length check counts spaces: found by the API fuzz
        raise ApiValidationError({"username": "must not be blank"})
    try:
        return people.get_user(get_session(), username)
    except UnknownUserError:
        raise ApiValidationError({"username": "no active user by that name"}) from None


def _team_json(session: Session, team: Team) -> dict[str, Any]:
    on_call = on_call_now(session, team, current_app.config["CSIRT"].tz)
    profiles = people.profiles_of(session, [m.user_id for m in team.members])
    members = []
    for member in team.members:
        profile = profiles.get(member.user_id)
        members.append(
            {
                "username": member.user.username,
                "display_name": member.user.display_name,
                "department": member.user.department,
                "skills": list(profile.skills) if profile else [],
            }
        )
    return {
        "id": team.id,
        "slug": team.slug,
        "name": team.name,
        "description": team.description,
        "first_response": team.first_response,
        "on_call": on_call.username if on_call else None,
        "members": members,
    }


def _team_saved(session: Session, team: Team) -> ResponseReturnValue:
    """Commit, and answer 201 with the team as it now is."""
    session.commit()
    return jsonify(_team_json(session, team)), 201


@api.get("/teams", Permission.TEAM_VIEW, ok=({"type": "array", "items": TeamOut}, "The teams"))
def list_teams() -> ResponseReturnValue:
    """Teams with their members, skills and who is on call now."""
    session = get_session()
    return jsonify([_team_json(session, t) for t in people.list_teams(session)])


@api.post("/teams", Permission.TEAM_MANAGE, body=TeamIn, created=(TeamOut, "The team"))
def create_team(body: TeamIn) -> ResponseReturnValue:
    """Create a team."""
    session = get_session()
    # The body's fields are the service's arguments, name for name.
    team = people.create_team(
        session, actor=current_user._get_current_object(), **body.model_dump()
    )
    return _team_saved(session, team)


@api.post(
    "/teams/<int:team_id>/members",
    Permission.TEAM_MANAGE,
    body=MemberIn,
    created=(TeamOut, "The team with its members"),
    checked_by=_user_named,  # an active user of that name
)
def add_member(team_id: int, body: MemberIn, checked: User | None) -> ResponseReturnValue:
    """Add a person to a team, with their skills and department."""
    session = get_session()
    team = people.get_team(session, team_id)
    user = checked
    assert user is not None  # a valid body names a user
    fields = body.model_dump(exclude={"username"})  # the rest are the service's arguments
    people.add_member(session, team, user, actor=current_user._get_current_object(), **fields)
    return _team_saved(session, team)


@api.get(
    "/cases/<int:case_id>/suggestions",
    Permission.CASE_VIEW,
    query=LangQuery,
    ok=(
        {
            "type": "object",
            "properties": {r: {"type": "array", "items": Suggestion} for r in CASE_ROLES},
        },
        "Suggestions keyed by role",
    ),
)
def suggestions(case_id: int, query: LangQuery) -> ResponseReturnValue:
    """Ranked suggestions per role (conflicted people never appear; admins also see who was excluded
    and why).
    """
    del query  # validated ?lang=, which current_lang() reads
    session = get_session()
    case = get_case_for(session, current_user, case_id)
    config = current_app.config["CSIRT"]
    found = suggestions_for(session, case, config.tz, current_catalog().playbooks)
    lang = current_lang()
    result: dict[str, Any] = {
        role: [
            {
                "username": s.candidate.username,
                "display_name": s.candidate.display_name,
                "score": s.score,
                "reasons": [r.get(lang) for r in s.reasons],
            }
            for s in ranked
        ]
        for role, ranked in found.by_role.items()
    }
    if current_user.has_role(Role.ADMIN):
        result["excluded"] = [
            {"username": e.candidate.username, "reason": e.reason.get(lang)} for e in found.excluded
        ]
    return jsonify(result)


@api.post(
    "/cases/<int:case_id>/assignments",
    Permission.CASE_EDIT,
    body=AssignmentIn,
    created=(Assignment, "The assignment"),
    checked_by=_user_named,  # an active user of that name
)
def assign(case_id: int, body: AssignmentIn, checked: User | None) -> ResponseReturnValue:
    """Assign a person to a case in a role (409 with a reason when in conflict of interest)."""
    session = get_session()
    case = get_case_for(session, current_user, case_id)
    user = checked
    assert user is not None  # a valid body names a user
    try:
        assignment.assign(
            session,
            channel_for(current_app),
            case,
            user,
            body.role,
            actor=current_user._get_current_object(),
        )
    except ConflictOfInterestError as exc:
        # Not through the table: the refusal itself is audited and committed.
        session.rollback()
        assignment.record_refusal(session, case_id, exc, current_actor())
        session.commit()
        detail = (
            exc.reason.get(current_lang())
            if current_user.has_role(Role.ADMIN)
            else "this person has a conflict of interest with the case"
        )
        return problem(409, "Conflict", detail, kind="conflict-of-interest")
    session.commit()
    return jsonify(username=user.username, role=body.role), 201
