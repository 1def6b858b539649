"""The notification bell with the unread count is on every console page (base.html): walked
over every console page without a path parameter, for a lead with two unread notifications."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.notify import service
from csirt.notify.messages import Text
from csirt.notify.models import Notification
from csirt.notify.service import Channel

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


def _badge(client: FlaskClient) -> str:
    page = client.get("/console/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    head = page.text.split('class="notifications"', 1)[1].split("</a>", 1)[0]
    return head


def test_the_count_read_with_the_reader_follows_what_others_write(
    client: FlaskClient, login_as, db_session: Session
) -> None:
    # The count is a column of the statement that loads the signed-in user: a notification
    # written by anyone else between two pages shows on the next one, and reading it clears it.
    lead = login_as("lead")
    assert "badge" not in _badge(client)
    db_session.add(Notification(user_id=lead.id, kind="mention", subject="a", link="/console/"))
    db_session.commit()
    assert 'aria-label="1 unread">1</span>' in _badge(client)
    db_session.add(Notification(user_id=lead.id, kind="mention", subject="b", link="/console/"))
    db_session.commit()
    assert 'aria-label="2 unread">2</span>' in _badge(client)
    service.mark_read(db_session, lead.id, None)
    db_session.commit()
    assert "badge" not in _badge(client)


def test_a_change_in_the_same_transaction_is_counted_again(
    users, db_session: Session, channel: Channel
) -> None:
    lead = users.create(roles=["lead"]).user
    other = users.create(roles=["responder"]).user
    db_session.add(Notification(user_id=lead.id, kind="mention", subject="a", link="/console/"))
    db_session.commit()
    loaded = auth_service.load_user(db_session, lead.id)
    assert loaded is not None
    assert auth_service.read_value(db_session, service.UNREAD_KEY, lead.id) == 1
    assert auth_service.read_value(db_session, service.UNREAD_KEY, other.id) is None
    assert service.unread_count(db_session, lead.id) == 1
    service.deliver(db_session, channel, lead, "mention", Text("b", ""), link="/console/")
    assert service.unread_count(db_session, lead.id) == 2
    auth_service.load_user(db_session, lead.id)
    service.mark_read(db_session, lead.id, None)
    assert service.unread_count(db_session, lead.id) == 0
    # Another transaction reads again: what was read in the last one is not used.
    auth_service.load_user(db_session, lead.id)
    db_session.commit()
    db_session.add(Notification(user_id=lead.id, kind="mention", subject="c", link="/console/"))
    db_session.flush()
    assert service.unread_count(db_session, lead.id) == 1
