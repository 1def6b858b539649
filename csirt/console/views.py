"""The console's dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import service as case_service
from csirt.db import get_session, utcnow

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("/")
@requires(Permission.ACCOUNT)
def dashboard() -> ResponseReturnValue:
    board = None
    if current_user.can(Permission.CASE_VIEW):
        board = case_service.dashboard(get_session(), current_user, utcnow())
    return render_template("console/dashboard.html", board=board)
