"""``/measures/``: the published cases and their measures (approved texts only), and an Atom
feed of the updates. No sign-in, no JavaScript, no cookie needed; the intake's headers."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from csirt.db import get_session
from csirt.documents import measure_publication as publication

bp = Blueprint("measures_public", __name__, url_prefix="/measures")


def _today() -> date:
    return datetime.now(current_app.config["CSIRT"].tz).date()


@bp.get("/")
def index() -> ResponseReturnValue:
    cases = publication.public_cases(get_session(), _today())
    return render_template("public_measures/index.html", cases=cases, today=_today())


@bp.get("/feed.atom")
def feed() -> ResponseReturnValue:
    entries = publication.feed_entries(get_session(), _today())
    updated = max((m.updated_at for _id, _title, m in entries), default=None)
    body = render_template(
        "public_measures/feed.atom",
        entries=entries,
        updated=updated,
        base=request.url_root.rstrip("/"),
    )
    return Response(body, mimetype="application/atom+xml")
