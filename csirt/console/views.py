"""The console's dashboard."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases import dashboard as case_dashboard
from csirt.db import get_session, utcnow

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("/")
@requires(Permission.ACCOUNT)
def dashboard() -> ResponseReturnValue:
    board = charts = None
    if current_user.can(Permission.CASE_VIEW):
        cache = case_dashboard.dashboard_cache(current_app)
        board = case_dashboard.dashboard(get_session(), current_user, utcnow(), cache=cache)
        charts = case_dashboard.charts_html(
            board,
            current_user,
            cache,
            lambda drawn: Markup(render_template("console/_charts.html", charts=drawn)),  # noqa: S704
        )
    return render_template("console/dashboard.html", board=board, charts_html=charts)
