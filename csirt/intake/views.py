"""Public intake pages. No login, no client address, no user agent, ever."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("intake", __name__, url_prefix="/report")


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("intake/index.html")
