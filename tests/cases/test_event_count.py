"""A case's number of timeline events (``cases.event_count``, kept by the database's triggers,
migration 0022) stays the number of its events through every way an event comes or goes, driven
through the real requests: the API's add, the console's CSV import, an automatic entry of a
priority change, a soft delete and a lead's restore; and a moved event, a case's deletion."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from csirt.cases.models import Case, TimelineEvent
from csirt.cases.timeline import count_events
from csirt.db import make_engine
from csirt.migrate import upgrade
from tests.conftest import csrf_from, login
from tests.factories import CaseFactory, UserFactory, api_headers
from tests.test_db import _fresh_url
from tests.test_scale import statements

CSV = (
    "occurred_at,precision,title,description,category,visibility,source,actor,evidence_ids\n"
    "2015-06-24T20:00:00+09:00,minute,匿名の通報,,event,internal,,,\n"
    "2015-06-25T09:00:00+09:00,minute,CSIRT 招集,,event,internal,,,\n"
    "2015-06-26T09:00:00+09:00,day,公表,,event,public,,,\n"
)


def _counted(db_session: Session, case: Case) -> tuple[int, int]:
    """(the kept number, the events counted now)."""
    db_session.expire_all()
    rows = db_session.scalar(
        select(func.count()).select_from(TimelineEvent).where(TimelineEvent.case_id == case.id)
    )
    return count_events(db_session, case), int(rows or 0)


def _rows(html: str) -> str:
    """The timeline table of a page ("" when the page shows no rows)."""
    start = html.find('<table class="timeline">')
    return "" if start < 0 else html[start : html.index("</table>", start)]


def _heading(client: FlaskClient, case: Case) -> int:
    page = client.get(f"/console/cases/{case.id}/timeline", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    found = re.search(r"\((\d+) events?\)", page.text)
    assert found is not None
    return int(found.group(1))


def _add_event(client: FlaskClient, case: Case, api: dict[str, str]) -> Any:
    """Add the tip's event through the API; return the answer."""
    added = client.post(
        f"/api/v1/cases/{case.id}/timeline",
        json={
            "occurred_at": "2015-06-24T19:00:00+09:00",
            "title": "掲示板に名簿の書き込み",
            "category": "event",
            "visibility": "internal",
        },
        headers=api,
    )
    assert added.status_code == 201, added.json
    return added


def test_the_kept_count_follows_every_way_an_event_comes_or_goes(
    client: FlaskClient, db_session: Session, users: UserFactory, cases: CaseFactory
) -> None:
    made = users.create(roles=["lead"])
    lead = made.user
    case = cases.create(actor=lead, commit=True)
    api = api_headers(db_session, lead)
    assert login(client, lead.username, made.password, made.totp_seed).status_code == 302
    start, events = _counted(db_session, case)
    assert start == events

    def step(expected_change: int) -> None:
        nonlocal start
        kept, counted = _counted(db_session, case)
        assert kept == counted == start + expected_change
        assert _heading(client, case) == kept
        start = kept

    added = _add_event(client, case, api)
    step(+1)

    page = client.get(f"/console/cases/{case.id}/timeline")
    imported = client.post(
        f"/console/cases/{case.id}/timeline/import",
        data={"csrf_token": csrf_from(page.text), "file": (io.BytesIO(CSV.encode()), "t.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302, imported.text
    step(+3)

    raised = client.patch(
        f"/api/v1/cases/{case.id}", json={"priority": "P1", "reason": "名簿の流出"}, headers=api
    )
    assert raised.status_code == 200, raised.json
    kept, counted = _counted(db_session, case)
    assert kept == counted > start  # the priority change wrote its automatic entries
    start = kept

    event = f"/api/v1/cases/{case.id}/timeline/{added.json['id']}"
    assert client.delete(event, json={"reason": "重複登録"}, headers=api).status_code == 204
    step(-1)
    back = client.post(event + "/restore", json={"reason": "誤削除"}, headers=api)
    assert back.status_code == 200, back.json
    step(+1)


def test_a_moved_event_and_a_deleted_case_are_counted(
    db_session: Session, users: UserFactory, cases: CaseFactory
) -> None:
    lead = users.create(roles=["lead"]).user
    first, second = cases.create(actor=lead), cases.create(actor=lead)
    ids = []
    for title in ("a", "b", "c"):
        row = TimelineEvent(case_id=first.id, occurred_at=first.created_at, title=title)
        db_session.add(row)
        db_session.flush()
        ids.append(row.id)
    before = count_events(db_session, second)
    db_session.execute(
        update(TimelineEvent).where(TimelineEvent.id.in_(ids[:2])).values(case_id=second.id)
    )
    db_session.execute(update(TimelineEvent).where(TimelineEvent.id == ids[2]).values(title="d"))
    assert _counted(db_session, first)[0] == _counted(db_session, first)[1]
    assert _counted(db_session, second) == (before + 2, before + 2)
    db_session.execute(delete(Case).where(Case.id == first.id))  # its events go with it
    assert _counted(db_session, second) == (before + 2, before + 2)


def test_the_upgrade_counts_the_events_that_exist(database_url: str, tmp_path) -> None:
    """Migration 0022 on a database with events: each case gets its number."""
    url = _fresh_url(database_url, tmp_path)
    upgrade(url, "0021")
    engine = make_engine(url)
    at = datetime(2015, 6, 24, 11, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Case.__table__),  # type: ignore[arg-type]
            [{"id": n, "reference": f"R-{n}", "title": f"case {n}"} for n in (1, 2, 3)],
        )
        conn.execute(
            insert(TimelineEvent.__table__),  # type: ignore[arg-type]
            [{"case_id": case, "occurred_at": at, "title": "e"} for case in (1, 1, 1, 3)],
        )
    upgrade(url)
    with engine.connect() as conn:
        counts = conn.execute(select(Case.id, Case.event_count).order_by(Case.id)).all()
    engine.dispose()
    assert [tuple(row) for row in counts] == [(1, 3), (2, 0), (3, 1)]


def test_the_kept_rows_of_a_timeline_page_follow_every_change(
    client: FlaskClient, db_session: Session, users: UserFactory, cases: CaseFactory
) -> None:
    """The page's rows are kept per version of the case's events (timeline_pages.kept_rows):
    each change, through the app or straight in the database, shows at the next request; each
    reader sees the rows for their language and right to edit."""
    made = users.create(roles=["lead"])
    lead = made.user
    reader = users.create(roles=["intake_officer"], totp=True)  # sees the case, may not edit it
    case = cases.create(actor=lead, members=[reader.user], commit=True)
    api = api_headers(db_session, lead)
    page_url = f"/console/cases/{case.id}/timeline"

    def shown(lang: str = "en", by: FlaskClient = client) -> str:
        page = by.get(page_url, headers={"Accept-Language": lang})
        assert page.status_code == 200
        return page.text

    assert login(client, lead.username, made.password, made.totp_seed).status_code == 302
    added = _add_event(client, case, api)
    event = f"/api/v1/cases/{case.id}/timeline/{added.json['id']}"
    assert "掲示板に名簿の書き込み" in shown()
    assert "掲示板に名簿の書き込み" in shown()  # the kept rows

    edited = client.patch(event, json={"title": "名簿の掲載を確認", "reason": "訂正"}, headers=api)
    assert edited.status_code == 200, edited.json
    after_edit = shown()
    assert "名簿の掲載を確認" in after_edit
    assert "掲示板に名簿の書き込み" not in after_edit

    db_session.execute(
        update(TimelineEvent)
        .where(TimelineEvent.id == added.json["id"])
        .values(title="データベースで直した題")
    )
    db_session.commit()
    assert "データベースで直した題" in shown()

    assert client.delete(event, json={"reason": "重複登録"}, headers=api).status_code == 204
    assert "データベースで直した題" not in _rows(shown())  # only in the "deleted" table
    restored = client.post(event + "/restore", json={"reason": "誤削除"}, headers=api)
    assert restored.status_code == 200, restored.json
    english = shown()
    assert "データベースで直した題" in _rows(english)
    assert "Correct</a>" in english  # a lead may correct
    assert "訂正</a>" in shown("ja")  # the same rows in the reader's language

    other = client.application.test_client()
    assert login(other, reader.user.username, reader.password, reader.totp_seed).status_code == 302
    as_reader = shown(by=other)
    assert "データベースで直した題" in as_reader
    assert "Correct</a>" not in as_reader  # the rows kept for a lead are not shown to a reader


def test_a_page_shown_again_by_a_write_request_keeps_no_rows(
    client: FlaskClient, users: UserFactory, cases: CaseFactory
) -> None:
    """A refused event form shows the timeline again inside a write request: its rows are
    neither taken from nor added to the kept pages (its transaction may see uncommitted rows)."""
    made = users.create(roles=["lead"])
    case = cases.create(actor=made.user, commit=True)
    assert login(client, made.user.username, made.password, made.totp_seed).status_code == 302
    page = client.get(f"/console/cases/{case.id}/timeline")
    kept = client.application.extensions["csirt_timeline_rows"]
    ours = [key for key in kept if key[:2] == (case.id, case.created_at)]
    assert len(ours) == 1  # the GET kept its rows
    refused = client.post(  # with a filter: rows it kept would be under a key of their own
        f"/console/cases/{case.id}/timeline?category=legal",
        data={"csrf_token": csrf_from(page.text), "title": "", "occurred_at": "someday"},
    )
    assert refused.status_code == 400
    assert [key for key in kept if key[:2] == (case.id, case.created_at)] == ours


def test_the_timeline_page_reads_the_count_and_version_with_the_case(
    client: FlaskClient, login_as: Any, cases: CaseFactory, db_session: Session, connection: Any
) -> None:
    """The case's loader reads the number of events and their version with the case
    (need_to_know.get_case_for): the timeline page runs no statement of its own for them."""
    lead = login_as("lead")
    case = cases.create(actor=lead)
    db_session.commit()
    with statements(connection) as seen:
        page = client.get(f"/console/cases/{case.id}/timeline", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert f"({count_events(db_session, case)} event" in page.text
    loads = [sql for sql, _params in seen if "events_version" in sql]
    assert len(loads) == 1, loads
    assert "FROM cases" in loads[0]
    assert "involved" in loads[0]  # the need-to-know statement, not a read apart
