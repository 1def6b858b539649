"""Staff API endpoints (bearer token): the caller's own identity."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel

from csirt.api import errors
from csirt.api.openapi import json_response, operation
from csirt.auth.access import requires
from csirt.auth.permissions import Permission

bp = Blueprint("api_me", __name__, url_prefix="/api/v1")
errors.register(bp)


class Me(BaseModel):
    username: str
    roles: list[str]
    permissions: list[str]


@bp.get("/me")
@requires(Permission.ACCOUNT)
@operation(
    "The token's user, roles and permissions",
    tags=["account"],
    responses={"200": json_response(Me, "The user")},
)
def me() -> ResponseReturnValue:
    return jsonify(
        username=current_user.username,
        roles=sorted(r.value for r in current_user.role_set),
        permissions=sorted(p.value for p in current_user.permissions),
    )
