"""Staff API endpoints (bearer token): the caller's own identity."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user

from csirt.api.openapi import operation
from csirt.auth.access import requires
from csirt.auth.permissions import Permission

bp = Blueprint("api_console", __name__, url_prefix="/api/v1")


@bp.get("/me")
@requires(Permission.ACCOUNT)
@operation(
    "The token's user, roles and permissions",
    tags=["account"],
    responses={
        "200": {
            "description": "The user",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "username": {"type": "string"},
                            "roles": {"type": "array", "items": {"type": "string"}},
                            "permissions": {"type": "array", "items": {"type": "string"}},
                        },
                    }
                }
            },
        }
    },
)
def me() -> ResponseReturnValue:
    return jsonify(
        username=current_user.username,
        roles=sorted(r.value for r in current_user.role_set),
        permissions=sorted(p.value for p in current_user.permissions),
    )
