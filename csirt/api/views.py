"""Public API endpoints present on every interface: health and the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from csirt.api import limits
from csirt.api.openapi import build_document, json_response, operation

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class Health(BaseModel):
    status: Literal["ok"]


@bp.get("/health")
@operation(
    "Liveness check", public=True, responses={"200": json_response(Health, "The service is up")}
)
def health() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(build_document(current_app))


def init_app(app: Flask) -> None:
    """Every interface serves the API: its body limits apply to all of it."""
    limits.init_app(app)
