"""The console's dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from csirt.auth.access import requires
from csirt.auth.permissions import Permission

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("/")
@requires(Permission.ACCOUNT)
def dashboard() -> ResponseReturnValue:
    return render_template("console/dashboard.html")
