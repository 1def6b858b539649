"""The notification bell with the unread count is on every console page (base.html): walked
over every console page without a path parameter, for a lead with two unread notifications."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.notify.models import Notification

SKIP = ("/console/logout", "/console/reauth")
DOWNLOADS = (".csv", ".docx", ".ics", ".json", ".xml", ".atom", ".txt")


def test_every_console_page_shows_the_bell_with_the_unread_count(
    app: Flask, client: FlaskClient, login_as, db_session: Session
) -> None:
    lead = login_as("lead")
    db_session.add_all(
        [Notification(user_id=lead.id, kind="mention", subject=s, link="/console/") for s in "ab"]
    )
    db_session.commit()
    pages = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/console/")
        and "GET" in (rule.methods or set())
        and not rule.arguments
        and not rule.rule.endswith(DOWNLOADS)
        and rule.rule not in SKIP
    )
    assert len(pages) > 10
    seen = 0
    for path in pages:
        response = client.get(path, headers={"Accept-Language": "ja"})
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        seen += 1
        assert 'class="notifications"' in response.text, path
        assert 'aria-label="未読 2 件"' in response.text or ">2</span>" in response.text, path
    assert seen > 10
