"""The cases console's blueprint and what its page modules share (not a view module: the
registered one is `views`, whose `bp` is this blueprint; `timeline_pages` adds its routes to it)."""

from __future__ import annotations

from datetime import tzinfo

from flask import Blueprint, current_app

blueprint = Blueprint("cases", __name__, url_prefix="/console/cases")


def zone() -> tzinfo:
    return current_app.config["CSIRT"].tz  # type: ignore[no-any-return]
