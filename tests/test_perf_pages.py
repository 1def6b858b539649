"""Per-request work of the console's pages (issue 21, third round): values computed once per
page in Python read exactly as the template filters and Babel write them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import format_date, format_datetime
from sqlalchemy.orm import Session

from csirt import i18n
from csirt.cases import forms
from csirt.cases.creation import create_case
from csirt.cases.lifecycle import change_priority
from csirt.cases.timeline import EventInput, add_events, list_events
from csirt.cases.timeline_pages import event_rows
from csirt.labels import actor_name, auto_event_title, auto_reason, event_time
from tests.conftest import csrf_from
from tests.factories import UserFactory

MOMENTS = [
    datetime(2026, month, day, hour, minute, tzinfo=UTC)
    for month in range(1, 13)
    for day, hour, minute in ((1, 0, 0), (9, 14, 59), (28, 23, 5))
] + [datetime(2026, 3, 29, 1, 30), datetime(1999, 12, 31, 15, 0, tzinfo=UTC)]


def test_a_pages_moments_read_exactly_as_babel_writes_them(app: Flask) -> None:
    zone = app.config["CSIRT"].tz
    for lang in ("ja", "en"):
        with app.test_request_context("/console/", headers={"Accept-Language": lang}):
            moments = i18n.Moments()
            for moment in MOMENTS:
                local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
                babel = format_datetime(moment, i18n._TIME[lang])
                assert moments.time(moment) == f"{babel} {local.tzname()}", moment
                assert moments.day(moment) == format_datetime(moment, i18n._DAY[lang]), moment
                assert moments.month(moment) == format_datetime(moment, i18n._MONTH[lang])
                assert i18n.format_day(moment) == moments.day(moment)
                assert i18n.format_month(moment) == moments.month(moment)
                day = date(moment.year, moment.month, moment.day)
                assert moments.day(day) == format_date(day, i18n._DAY[lang]), day
                assert moments.month(day) == format_date(day, i18n._MONTH[lang]), day


def test_timeline_rows_read_as_the_template_filters_wrote_them(
    app: Flask, db_session: Session, users: UserFactory
) -> None:
    user = users.create(roles=["lead"]).user
    case = create_case(db_session, title="timeline rows", actor=user)
    start = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    add_events(
        db_session,
        case,
        user,
        [
            EventInput(start, "minute", "to the minute", "what <b>", "soc", "alice"),
            EventInput(start + timedelta(hours=1), "approx", "about then", actor="bob"),
            EventInput(start + timedelta(days=1), "day", "a day", source="siem"),
            EventInput(start + timedelta(days=40), "month", "a month", evidence_ids=(3, 7)),
            EventInput(start, "minute", "public", visibility="public", category="legal"),
        ],
    )
    change_priority(db_session, case, "P1", user, reason="")  # an automatic entry
    db_session.commit()
    for lang in ("ja", "en"):
        with app.test_request_context("/console/", headers={"Accept-Language": lang}):
            from csirt.cases.forms import CATEGORY_LABELS, VISIBILITY_LABELS

            events = list_events(db_session, case).items
            categories = {k: str(v) for k, v in CATEGORY_LABELS.items()}
            visibilities = {k: str(v) for k, v in VISIBILITY_LABELS.items()}
            rows = event_rows(events, categories, visibilities, can_edit=True)
            assert len(rows) == len(events) >= 6
            assert any(e.automatic for e in events)
            for row, e in zip(rows, events, strict=True):
                title = auto_event_title(e.title) if e.automatic else e.title
                assert row.when == event_time(e)
                assert row.title == title
                assert row.description == (
                    auto_reason(e.description) if e.automatic else e.description
                )
                assert row.css == f"{'auto' if e.automatic else ''} vis-{e.visibility}"
                assert row.category == str(CATEGORY_LABELS.get(e.category, e.category))
                assert row.visibility == str(VISIBILITY_LABELS[e.visibility])
                joiner = " / " if e.source and e.actor else ""
                assert row.who == f"{actor_name(e.source)}{joiner}{actor_name(e.actor)}"
                assert row.evidence == ", ".join(str(i) for i in e.evidence_ids or [])
                assert title in row.edit_label
            reader = event_rows(events, categories, visibilities, can_edit=False)
            assert {row.edit_label for row in reader} == {""}


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]+"', "", html)


def _select(html: str, name: str) -> str:
    """The <select> named ``name`` of a page, as written."""
    match = re.search(rf'<select id="{name}" name="{name}">.*?</select>', html, re.S)
    assert match, name
    return match.group(0)


def test_the_case_pages_forms_are_rendered_once_per_shown_value_and_language(
    client: FlaskClient, login_as: Any, db_session: Session, app: Flask
) -> None:
    user = login_as("lead")
    case = create_case(db_session, title="forms once", actor=user)
    db_session.commit()
    path = f"/console/cases/{case.id}"
    first = client.get(path).text  # renders the forms' fields and keeps them
    cached = client.get(path).text
    assert _without_tokens(cached) == _without_tokens(first)
    for name in ("phase", "priority", "outcome", "playbook"):
        assert _select(cached, name) == _select(first, name)
    with app.test_request_context(path, headers={"Accept-Language": "ja"}):
        fresh = forms.PriorityForm(priority=case.priority)
        assert str(fresh.priority()) == _select(cached, "priority")
    # the form follows the case: the new priority is the one selected
    token = csrf_from(cached)
    answer = client.post(f"{path}/priority", data={"csrf_token": token, "priority": "P1"})
    assert answer.status_code == 302
    # shown again after a refused POST, the other forms' fields (built now, and kept) do not
    # take that POST's values: its reason is only in the form given back
    words = "words of the refused closing"
    refused = {"csrf_token": token, "outcome": "bogus", "reason": words}
    answer = client.post(f"{path}/close", data=refused)
    assert answer.status_code == 400
    assert answer.text.count(words) == 1
    page = client.get(path).text
    assert words not in page
    assert '<option selected value="P1">' in _select(page, "priority")
    # a form given back with its errors is rendered with them, not from the kept fields
    answer = client.post(f"{path}/phase", data={"csrf_token": token, "phase": "bogus"})
    assert answer.status_code == 400
    assert 'class="errors" id="phase-err"' in answer.text
    assert 'class="errors"' not in client.get(path).text
    # the language is part of the key
    client.post("/language", data={"lang": "en", "csrf_token": token})
    english = client.get(path).text
    assert "Change phase" in english
    assert _select(english, "outcome") != _select(cached, "outcome")


def test_the_timeline_forms_keep_their_fields_and_errors(
    client: FlaskClient, login_as: Any, db_session: Session
) -> None:
    user = login_as("lead")
    case = create_case(db_session, title="timeline forms", actor=user)
    db_session.commit()
    path = f"/console/cases/{case.id}/timeline"
    page = client.get(path).text
    assert _without_tokens(client.get(path).text) == _without_tokens(page)  # kept fields
    for field in ("occurred_at", "precision", "title", "description", "category", "file"):
        assert f'id="{field}"' in page
    answer = client.post(path, data={"csrf_token": csrf_from(page), "title": "no time"})
    assert answer.status_code == 400
    assert 'id="occurred_at-err"' in answer.text
    assert 'value="no time"' in answer.text
    assert 'value="no time"' not in client.get(path).text


def test_the_case_lists_figures_in_one_statement_are_those_of_the_two_queries(
    client: FlaskClient, login_as: Any, db_session: Session
) -> None:
    from csirt.cases.listing import overdue_counts, page_figures
    from csirt.cases.tagging import set_tags, tags_for
    from csirt.cases.tasks import add_task
    from csirt.db import utcnow

    lead = login_as("lead")
    busy, plain, tagged = (create_case(db_session, title=t, actor=lead) for t in "abc")
    set_tags(db_session, busy, ["名簿", "b", "A", "a"], lead)
    set_tags(db_session, tagged, ["z"], lead)
    past, later = utcnow() - timedelta(hours=1), utcnow() + timedelta(days=1)
    for title in ("one", "two"):
        add_task(db_session, busy, lead, title=title, due_at=past)
    add_task(db_session, busy, lead, title="done", due_at=past).status = "done"
    add_task(db_session, busy, lead, title="later", due_at=later)
    add_task(db_session, plain, lead, title="late", due_at=past)
    db_session.commit()
    ids = [tagged.id, plain.id, busy.id]
    overdue, tags = page_figures(db_session, ids)
    assert overdue == overdue_counts(db_session, ids) == {busy.id: 2, plain.id: 1}
    assert tags == tags_for(db_session, ids)
    assert tags[busy.id] == tags_for(db_session, [busy.id])[busy.id]
    assert page_figures(db_session, []) == ({}, {})
    page = client.get("/console/cases/").text
    assert page.count('<span class="overdue">') == 2
    for tag in ("名簿", "A", "z"):
        assert f'<span class="tag">{tag}</span>' in page


def _trends_section(html: str) -> str:
    start = html.index('<section aria-labelledby="trends-h"')
    return html[start : html.index("</section>", start)]


def test_the_dashboards_charts_are_drawn_once_per_figures_and_language(
    client: FlaskClient, login_as: Any, db_session: Session, app: Flask
) -> None:
    from csirt.cases.dashboard import dashboard_cache

    login_as("lead")
    kept = dashboard_cache(app)._html
    first = _trends_section(client.get("/console/").text)
    assert 'id="fig-open"' in first
    assert "<svg" in first
    held = dict(kept)
    assert held
    assert _trends_section(client.get("/console/").text) == first
    for key, (drawn, html) in held.items():  # the same HTML, not drawn again
        assert kept[key][0] is drawn
        assert kept[key][1] is html
    english = _trends_section(client.get("/console/", headers={"Accept-Language": "en"}).text)
    assert "Show as a table" in english
    assert "Show as a table" not in first
    assert len(kept) == len(held) + 1  # per language
    # emptied with the figures (a case added, a phase or priority changed): drawn again
    dashboard_cache(app).invalidate()
    assert not kept
    assert _trends_section(client.get("/console/").text) == first
    assert all(entry[0] is not drawn for entry in kept.values())


def test_case_tabs_are_the_case_sections(app: Flask) -> None:
    from csirt.cases.sections import case_sections
    from csirt.nav import case_tabs

    for lang in ("ja", "en"):
        for root in ("", "/csirt"):
            headers = {"Accept-Language": lang}
            with app.test_request_context("/", f"http://localhost{root}/", headers=headers):
                for case_id in (1, 7, 100000, 10**15 + 7):
                    tabs = case_tabs(case_id)
                    assert tabs == case_sections(case_id)
                    assert tabs[0][2] == f"{root}/console/cases/{case_id}"
