"""Teams API (bearer token): teams, members, suggestions and assignments."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from csirt.api.openapi import operation
from csirt.api.problems import problem, validation_problem
from csirt.auth.access import current_actor, requires
from csirt.auth.models import User
from csirt.auth.permissions import Permission, Role
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.need_to_know import get_case_for
from csirt.catalog import ROLES, SKILLS
from csirt.db import get_session
from csirt.notify.service import channel_for
from csirt.teams import service
from csirt.teams.models import Team

bp = Blueprint("api_teams", __name__, url_prefix="/api/v1")

_MEMBER = {
    "type": "object",
    "properties": {
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "department": {"type": "string", "nullable": True},
        "skills": {"type": "array", "items": {"type": "string", "enum": list(SKILLS)}},
    },
}
_TEAM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "first_response": {"type": "boolean"},
        "on_call": {"type": "string", "nullable": True},
        "members": {"type": "array", "items": _MEMBER},
    },
}
_SUGGESTION = {
    "type": "object",
    "properties": {
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "score": {"type": "integer"},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
}
_LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["ja", "en"]}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _lang() -> str:
    lang = request.args.get("lang") or current_user.lang or current_app.config["CSIRT"].default_lang
    return "en" if lang == "en" else "ja"


def _body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _team_json(session: Session, team: Team) -> dict[str, Any]:
    on_call = service.on_call_now(session, team, current_app.config["CSIRT"].tz)
    profiles = service.profiles_of(session, [m.user_id for m in team.members])
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


@bp.get("/teams")
@requires(Permission.TEAM_VIEW)
@operation(
    "Teams with their members, skills and who is on call now",
    tags=["teams"],
    responses={"200": _json({"type": "array", "items": _TEAM}, "The teams")},
)
def list_teams() -> ResponseReturnValue:
    session = get_session()
    return jsonify([_team_json(session, t) for t in service.list_teams(session)])


@bp.post("/teams")
@requires(Permission.TEAM_MANAGE)
@operation(
    "Create a team",
    tags=["teams"],
    request_body={
        "type": "object",
        "required": ["name", "slug"],
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
            "description": {"type": "string"},
            "first_response": {"type": "boolean"},
        },
    },
    responses={"201": _json(_TEAM, "The team")},
)
def create_team() -> ResponseReturnValue:
    body = _body()
    if body is None:
        return validation_problem({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    name, slug = body.get("name"), body.get("slug")
    description, first = body.get("description", ""), body.get("first_response", False)
    if not isinstance(name, str):
        errors["name"] = "required string"
    if not isinstance(slug, str):
        errors["slug"] = "required string"
    if not isinstance(description, str):
        errors["description"] = "must be a string"
    if not isinstance(first, bool):
        errors["first_response"] = "must be true or false"
    if errors:
        return validation_problem(errors)
    session = get_session()
    try:
        team = service.create_team(
            session,
            name=str(name),
            slug=str(slug),
            actor=current_user._get_current_object(),
            description=str(description),
            first_response=bool(first),
        )
    except service.InvalidInputError as exc:
        session.rollback()
        return validation_problem(exc.errors)
    session.commit()
    return jsonify(_team_json(session, team)), 201


@bp.post("/teams/<int:team_id>/members")
@requires(Permission.TEAM_MANAGE)
@operation(
    "Add a person to a team, with their skills and department",
    tags=["teams"],
    request_body={
        "type": "object",
        "required": ["username"],
        "properties": {
            "username": {"type": "string"},
            "skills": {"type": "array", "items": {"type": "string", "enum": list(SKILLS)}},
            "department": {"type": "string", "maxLength": 128},
        },
    },
    responses={"201": _json(_TEAM, "The team with its members")},
)
def add_member(team_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        team = service.get_team(session, team_id)
    except service.TeamNotFoundError:
        return problem(404, "Not Found", "no such team")
    body = _body()
    if body is None:
        return validation_problem({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    username, skills, department = body.get("username"), body.get("skills"), body.get("department")
    user: User | None = None
    if not isinstance(username, str) or not username.strip():
        errors["username"] = "required string"
    else:
        try:
            user = service.get_user(session, username)
        except service.UnknownUserError:
            errors["username"] = "no active user by that name"
    if skills is not None and (
        not isinstance(skills, list) or not all(isinstance(s, str) for s in skills)
    ):
        errors["skills"] = "must be a list of strings"
    elif skills is not None and any(s not in SKILLS for s in skills):
        errors["skills"] = f"unknown skills; use {list(SKILLS)}"
    if department is not None and (not isinstance(department, str) or len(department) > 128):
        errors["department"] = "must be a string of at most 128 characters"
    if errors or user is None:
        return validation_problem(errors)
    service.add_member(
        session,
        team,
        user,
        actor=current_user._get_current_object(),
        skills=skills,
        department=department,
    )
    session.commit()
    return jsonify(_team_json(session, team)), 201


@bp.get("/cases/<int:case_id>/suggestions")
@requires(Permission.CASE_VIEW)
@operation(
    "Ranked suggestions per role (conflicted people never appear; admins also see who was "
    "excluded and why)",
    tags=["teams"],
    parameters=[_LANG],
    responses={
        "200": _json(
            {
                "type": "object",
                "properties": {r: {"type": "array", "items": _SUGGESTION} for r in ROLES},
            },
            "Suggestions keyed by role",
        )
    },
)
def suggestions(case_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        case = get_case_for(session, current_user, case_id)
    except CaseNotFoundError:
        return problem(404, "Not Found", "no such case")
    config = current_app.config["CSIRT"]
    found = service.suggestions_for(session, case, config.tz, config.playbooks_path)
    lang = _lang()
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


@bp.post("/cases/<int:case_id>/assignments")
@requires(Permission.CASE_EDIT)
@operation(
    "Assign a person to a case in a role (409 with a reason when in conflict of interest)",
    tags=["teams"],
    request_body={
        "type": "object",
        "required": ["username", "role"],
        "properties": {
            "username": {"type": "string"},
            "role": {"type": "string", "enum": list(ROLES)},
        },
    },
    responses={
        "201": _json(
            {
                "type": "object",
                "properties": {"username": {"type": "string"}, "role": {"type": "string"}},
            },
            "The assignment",
        )
    },
)
def assign(case_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        case = get_case_for(session, current_user, case_id)
    except CaseNotFoundError:
        return problem(404, "Not Found", "no such case")
    body = _body()
    if body is None:
        return validation_problem({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    username, role = body.get("username"), body.get("role")
    user: User | None = None
    if not isinstance(role, str) or role not in ROLES:
        errors["role"] = f"must be one of {list(ROLES)}"
    if not isinstance(username, str) or not username.strip():
        errors["username"] = "required string"
    else:
        try:
            user = service.get_user(session, username)
        except service.UnknownUserError:
            errors["username"] = "no active user by that name"
    if errors or user is None or not isinstance(role, str):
        return validation_problem(errors)
    try:
        service.assign(
            session,
            channel_for(current_app),
            case,
            user,
            role,
            actor=current_user._get_current_object(),
        )
    except service.ConflictOfInterestError as exc:
        session.rollback()
        service.record_refusal(session, case_id, exc, current_actor())
        session.commit()
        detail = (
            exc.reason.get(_lang())
            if current_user.has_role(Role.ADMIN)
            else ("this person has a conflict of interest with the case")
        )
        return problem(409, "Conflict", detail, kind="conflict-of-interest")
    except service.NotAllowedToAssignError:
        session.rollback()
        return problem(403, "Forbidden", "only the case's members and leads can assign people")
    session.commit()
    return jsonify(username=user.username, role=role), 201
