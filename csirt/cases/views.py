"""Case pages of the console."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import service
from csirt.cases.models import Phase, Priority
from csirt.db import get_session

bp = Blueprint("cases", __name__, url_prefix="/console/cases")


@bp.get("/")
@requires(Permission.CASE_VIEW)
def index() -> ResponseReturnValue:
    phase = request.args.get("phase") or None
    priority = request.args.get("priority") or None
    if phase not in {p.value for p in Phase}:
        phase = None
    if priority not in {p.value for p in Priority}:
        priority = None
    cursor = request.args.get("cursor", type=int)
    page = service.list_cases(
        get_session(), current_user, phase=phase, priority=priority, cursor=cursor
    )
    return render_template(
        "cases/list.html",
        page=page,
        phase=phase,
        priority=priority,
        phases=list(Phase),
        priorities=list(Priority),
    )
