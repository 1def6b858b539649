"""The timeline page's work per request (issue 21): its rows written in Python
(timeline_pages.rows_html) read exactly as the template's loop wrote them, escaping included;
its other URLs made from its own; its kept parts show each reader's filters and rights."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.cases import timeline_pages
from csirt.cases.lifecycle import change_priority
from csirt.cases.timeline import (
    EventInput,
    add_events,
    list_event_rows,
    list_events,
)
from csirt.cases.timeline_pages import EventRow, rows_html
from tests.conftest import login
from tests.factories import CaseFactory, UserFactory

# The loop cases/timeline.html had before the rows were written in Python.
TEMPLATE_ROWS = (
    "{% set correct = _('Correct') %}{% set evidence_label = _('Evidence') %}"
    "{% for id, css, when, title, description, evidence, category, visibility, who, edit_label"
    ' in rows %}<tr class="{{ css }}"><td class="when">{{ when }}</td><th scope="row">'
    '{{ title }}{% if description %}<p class="desc">{{ description }}</p>{% endif %}'
    '{% if evidence %}<p class="muted">{{ evidence_label }}: {{ evidence }}</p>{% endif %}'
    "</th><td>{{ category }}</td><td>{{ visibility }}</td><td>{{ who }}</td>{% if can_edit %}"
    '<td><a href="{{ events_base }}/{{ id }}/edit" aria-label="{{ edit_label }}">'
    "{{ correct }}</a></td>{% endif %}</tr>\n  {% endfor %}"
)

ROWS = [
    EventRow(1, " vis-internal", "6 Jan 2025 09:00 JST", "plain", "", "", "Event", "Internal",
             "bench / alice", "Correct or delete: plain"),
    EventRow(2, "auto vis-public", "Jan 2025", "Priority P3 → P1", "by the triage", "3, 7",
             "Legal", "Public", "System", "Correct or delete: Priority P3 → P1"),
    EventRow(3, ' vis-"x"', "about 6 Jan 2025 <b>", "<script>&\"'", "a & b <i>", "",
             "cat<&>", "vis'\"", "<b>x</b> / y&z", "Correct or delete: <script>&\"'"),
    EventRow(4, " vis-public", "7 Jan 2025", "対応記録 4", "関係部署と協議した。", "", "Event",
             "Public", "対応担当", "Correct or delete: 対応記録 4"),
]  # fmt: skip


def test_rows_html_is_what_the_templates_loop_wrote(app: Flask) -> None:
    for lang in ("ja", "en"):
        with app.test_request_context("/console/", headers={"Accept-Language": lang}):
            template = app.jinja_env.from_string(TEMPLATE_ROWS)
            for can_edit in (True, False):
                for base in ("/console/cases/7/timeline", '/root&"/cases/7/timeline'):
                    rows = ROWS if can_edit else [r._replace(edit_label="") for r in ROWS]
                    expected = template.render(rows=rows, can_edit=can_edit, events_base=base)
                    assert str(rows_html(rows, base, can_edit)) == expected, (lang, can_edit)
            assert "&lt;script&gt;&amp;&#34;&#39;" in rows_html(ROWS, "/t", True)
            assert str(rows_html([], "/t", True)) == ""


def test_the_timeline_pages_urls_are_made_from_its_own(app: Flask) -> None:
    """The page writes its export, add and import URLs as its own URL and a suffix."""
    for root in ("", "/csirt"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for case_id in (7, 100000):
                own = url_for("cases.timeline", case_id=case_id)
                assert url_for("cases.timeline_export", case_id=case_id) == f"{own}.csv"
                assert url_for("cases.event_add", case_id=case_id) == own
                assert url_for("cases.timeline_import", case_id=case_id) == f"{own}/import"


def _search_box(html: str) -> str:
    match = re.search(r'<input type="search" id="t-text" name="text" value="([^"]*)"', html)
    assert match, html
    return match.group(1)


def _selected(html: str, name: str) -> list[str]:
    select = re.search(rf'<select id="t-{name}" name="{name}">.*?</select>', html, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)" selected>', select.group(0))


def test_the_kept_parts_of_the_timeline_page_show_each_readers_filters_and_rights(
    app: Flask,
    client: FlaskClient,
    login_as: Any,
    users: UserFactory,
    cases: CaseFactory,
    db_session: Session,
) -> None:
    """The filter bar, the table's head and the import hint are rendered once per language and
    kept (timeline_pages.Fixed): every page still shows its own filters, words and rights."""
    lead = login_as("lead")
    officer = users.create(roles=["intake_officer"], totp=True)
    case = cases.create(actor=lead, members=[officer.user])
    add_events(db_session, case, lead, [EventInput(datetime(2026, 12, 6, tzinfo=UTC), "day", "e")])
    db_session.commit()
    path = f"/console/cases/{case.id}/timeline"
    for lang in ("ja", "en", "ja"):
        for query, box, category, visibility, shown in (
            ("", "", [""], [""], True),
            ("?category=legal", "", ["legal"], [""], False),
            ("?text=%3Cb%3E%22x", "&lt;b&gt;&#34;x", [""], [""], False),
            ("?category=event&visibility=internal", "", ["event"], ["internal"], True),
            ("?category=detection&visibility=public", "", ["detection"], ["public"], False),
            ("?text=e", "e", [""], [""], True),
            ("", "", [""], [""], True),
        ):
            html = client.get(path + query, headers={"Accept-Language": lang}).text
            assert f'<html lang="{lang}"' in html
            assert ("Events in time order" in html) == (lang == "en" and shown)
            assert _search_box(html) == box, (lang, query)
            assert _selected(html, "category") == category, (lang, query)
            assert _selected(html, "visibility") == visibility, (lang, query)
            assert html.count('<th scope="col"><span class="visually-hidden">') == shown
            assert "occurred_at, precision, title" in html
    reader = app.test_client()
    assert (
        login(reader, officer.user.username, officer.password, officer.totp_seed).status_code == 302
    )
    answer = reader.get(path)
    assert answer.status_code == 200, answer.text[-3000:]
    html = answer.text
    assert '<th scope="col"><span class="visually-hidden">' not in html
    assert "/edit" not in html.split("<tbody>")[1].split("</tbody>")[0]
    assert "occurred_at, precision, title" not in html  # the import form is for editors
    assert client.get(path).text.count('<th scope="col"><span class="visually-hidden">') == 1


def test_the_pages_rows_read_as_its_events_do(
    app: Flask, db_session: Session, users: UserFactory, cases: CaseFactory
) -> None:
    """The page reads plain rows of EVENT_COLUMNS (field_rows); the values are those of the
    events themselves (event_rows, checked against the template filters in test_perf_pages)."""
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead)
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    add_events(
        db_session,
        case,
        lead,
        [
            EventInput(at, "minute", "minute <b>", "what & why", "soc", "alice"),
            EventInput(at, "approx", "about", actor="system"),
            EventInput(at, "day", "a day", source="csirt", evidence_ids=(3, 7)),
            EventInput(at, "month", "a month", source="demo", actor="demo", category="legal"),
            EventInput(at, "minute", "public", visibility="public", category="phase"),
        ],
    )
    change_priority(db_session, case, "P1", lead, reason="")  # an automatic entry
    db_session.commit()
    for lang in ("ja", "en"):
        with app.test_request_context("/console/", headers={"Accept-Language": lang}):
            categories, visibilities, actors = timeline_pages._labels(lang)
            events = list_events(db_session, case).items
            rows = list_event_rows(db_session, case, timeline_pages.EVENT_COLUMNS).items
            assert len(rows) == len(events) == 6
            for can_edit in (True, False):
                assert timeline_pages.field_rows(
                    rows, categories, visibilities, can_edit, actors
                ) == timeline_pages.event_rows(events, categories, visibilities, can_edit)


def test_the_timeline_page_shows_the_cases_count_of_events(
    client: FlaskClient, db_session: Session, users: UserFactory, cases: CaseFactory
) -> None:
    """The heading's count is every event of the case, on a filtered page and a page with no
    rows as well."""
    made = users.create(roles=["lead"])
    lead = made.user
    case = cases.create(actor=lead)
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    events = [EventInput(at, "minute", f"e{n}", category="legal") for n in (1, 2)]
    add_events(db_session, case, lead, events)
    db_session.commit()
    assert login(client, lead.username, made.password, made.totp_seed).status_code == 302
    path = f"/console/cases/{case.id}/timeline"
    for query in ("", "?category=legal", "?category=event", "?text=nothing-like-it"):
        answer = client.get(path + query, headers={"Accept-Language": "en"})
        assert answer.status_code == 200
        assert "(2 events)" in answer.text, query
