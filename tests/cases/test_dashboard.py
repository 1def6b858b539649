"""The dashboard's cache through real requests: right after every change, and across apps;
the deadlines it lists.

One app's cache is emptied when a transaction that adds a case or changes a phase or priority
ends (explicit invalidation); another app on the same database (another process or node) sees
the change by the generation check. A warm visit does not count the cases again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from csirt.auth.permissions import Permission
from csirt.cases.dashboard import DashboardCache, Trends, dashboard, dashboard_cache, trends
from csirt.cases.models import Priority
from csirt.cases.tasks import add_task
from csirt.db import utcnow
from csirt.triage.models import Obligation
from tests.conftest import csrf_from, login
from tests.factories import CaseFactory, UserFactory

COUNTS = re.compile(r'<span class="n">(\d+)</span> <span class="prio prio-(P\d)">')


def open_counts(client: FlaskClient) -> dict[str, int]:
    page = client.get("/console/")
    assert page.status_code == 200
    return {priority: int(n) for n, priority in COUNTS.findall(page.text)}


def new_case(client: FlaskClient, priority: str) -> int:
    form = client.get("/console/cases/new")
    response = client.post(
        "/console/cases/new",
        data={
            "title": "名簿の流出",
            "priority": priority,
            "tlp": "amber",
            "playbook": "",
            "csrf_token": csrf_from(form.text),
        },
    )
    assert response.status_code == 302, response.text
    found = re.search(r"/console/cases/(\d+)", response.headers["Location"])
    assert found
    return int(found.group(1))


def post_on_case(client: FlaskClient, case_id: int, what: str, **data: str) -> None:
    page = client.get(f"/console/cases/{case_id}")
    response = client.post(
        f"/console/cases/{case_id}/{what}", data={**data, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302, response.text


@contextmanager
def counting_queries(connection: Connection) -> Iterator[list[str]]:
    """The open-case count statements run on this connection meanwhile."""
    seen: list[str] = []

    def watch(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # The open-case counts (not the weekly trend, CASE sums per week, cached on its own).
        if "GROUP BY cases.priority" in statement and "CASE WHEN" not in statement:
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", watch)


def signed_in(app: Flask, username: str, password: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client


def test_counts_follow_each_change_and_a_warm_visit_counts_nothing(
    app: Flask, connection: Connection, users: UserFactory, db_session
) -> None:
    lead = users.create(roles=["lead"])
    db_session.commit()
    client = signed_in(app, lead.user.username, lead.password)
    before = open_counts(client)

    case_id = new_case(client, "P3")
    with counting_queries(connection) as counted:
        after_new = open_counts(client)
    assert after_new["P3"] == before["P3"] + 1
    assert len(counted) == 1
    with counting_queries(connection) as counted:
        assert open_counts(client) == after_new
    assert counted == [], "a warm visit must not count the cases again"

    post_on_case(client, case_id, "priority", priority="P2", reason="名簿が掲載された")
    after_raise = open_counts(client)
    assert after_raise["P3"] == before["P3"]
    assert after_raise["P2"] == before["P2"] + 1

    post_on_case(client, case_id, "phase", phase="analyse", reason="")
    assert open_counts(client) == after_raise  # still open, same priority


def test_mean_times_are_dropped_when_a_case_is_acknowledged(
    app: Flask, users: UserFactory, db_session
) -> None:
    """The means are kept five minutes, unless a phase change (here the first one, which
    acknowledges the case) empties the cache: the next visit shows the new mean at once."""
    lead = users.create(roles=["lead"])
    db_session.commit()
    client = signed_in(app, lead.user.username, lead.password)
    case_id = new_case(client, "P3")

    def mean_to_acknowledge() -> str:
        page = client.get("/console/", headers={"Accept-Language": "en"}).text
        found = re.search(r'<span class="n">([^<]+)</span> mean hours to acknowledge', page)
        assert found, page
        return found.group(1)

    assert mean_to_acknowledge() == "—"  # nothing acknowledged yet: now cached
    post_on_case(client, case_id, "phase", phase="analyse", reason="")
    assert mean_to_acknowledge() != "—"


def test_another_app_on_the_same_database_sees_the_change(
    make_app: Callable[[str], Flask], users: UserFactory, db_session
) -> None:
    """Two apps, two caches (two processes or nodes): a change made through one is seen by the
    other on its next visit, although only the first one's cache was emptied."""
    writer_app, reader_app = make_app("all"), make_app("console")
    assert dashboard_cache(writer_app) is not dashboard_cache(reader_app)
    lead = users.create(roles=["lead"])
    db_session.commit()
    writer = signed_in(writer_app, lead.user.username, lead.password)
    reader = signed_in(reader_app, lead.user.username, lead.password)
    case_id = new_case(writer, "P3")
    warm = open_counts(reader)

    post_on_case(writer, case_id, "priority", priority="P1", reason="")
    seen = open_counts(reader)
    assert seen["P1"] == warm["P1"] + 1
    assert seen["P3"] == warm["P3"] - 1


def test_the_board_merges_tasks_and_obligations_by_due_time(
    db_session: Session, cases: CaseFactory, users: UserFactory
) -> None:
    """Open tasks and pending obligations due within the week (or overdue), in one list by due
    time, a task first on a tie, the first twenty; done obligations and protection windows
    that have ended are nothing to do; a member sees only the cases they may see."""
    lead = users.create(roles=["lead"]).user
    member = users.create(roles=["responder"]).user
    mine = cases.create(title="見える事案", actor=lead, members=[member])
    other = cases.create(title="見えない事案", actor=lead)
    now = utcnow()

    def at(hours: float) -> datetime:
        return now + timedelta(hours=hours)

    add_task(db_session, mine, lead, title="late", due_at=at(-30))
    add_task(db_session, mine, lead, title="tie", due_at=at(24))
    add_task(db_session, mine, lead, title="next week", due_at=at(24 * 8))
    add_task(db_session, other, lead, title="hidden", due_at=at(5))
    for case, kind, hours, extra in (
        (mine, "tie", 24, {}),
        (mine, "soon", 2, {}),
        (mine, "overdue", -10, {}),
        (mine, "done", 3, {"status": "done"}),
        (mine, "window_ended", -2, {"deadline": "window"}),
        (mine, "window_open", 48, {"deadline": "window"}),
        (other, "hidden", 1, {}),
    ):
        db_session.add(
            Obligation(case_id=case.id, regime="appi", kind=kind, due_at=at(hours), **extra)
        )
    db_session.flush()

    board = dashboard(db_session, member, now)
    assert [(d.kind, d.title, d.obligation, d.overdue) for d in board.deadlines] == [
        ("task", "late", "", True),
        ("obligation", "見える事案", "overdue", True),
        ("obligation", "見える事案", "soon", False),
        ("task", "tie", "", False),
        ("obligation", "見える事案", "tie", False),
        ("obligation", "見える事案", "window_open", False),
    ]
    assert {d.reference for d in board.deadlines} == {mine.reference}
    assert board.overdue_tasks == 1

    for n in range(25):  # more than the board shows, interleaved with the ones above
        add_task(db_session, mine, lead, title=f"t{n:02d}", due_at=at(n + 0.5))
    db_session.flush()
    shown = dashboard(db_session, member, now).deadlines
    assert len(shown) == 20
    assert [d.due_at for d in shown] == sorted(d.due_at for d in shown)
    assert [d.title for d in shown][:5] == ["late", "見える事案", "t00", "t01", "見える事案"]
    everyone = dashboard(db_session, lead, now).deadlines
    assert [d.due_at for d in everyone] == sorted(d.due_at for d in everyone)
    assert "hidden" in {d.title for d in everyone} | {d.obligation for d in everyone}


def test_the_charts_rank_the_last_months_cases_from_an_index(
    users: UserFactory, db_session: Session, connection: Connection
) -> None:
    """The hours to acknowledge and to close are ranked over the cases acknowledged or closed
    since the first charted month, read from ix_cases_acknowledged_at / ix_cases_closed_at:
    not a pass over every case (60-90 ms a chart at 1,000,000 cases)."""
    from tests.test_scale import make_cases, plan_of, statements

    lead = users.create(roles=["lead"]).user
    make_cases(db_session, lead, 30, member=True)
    if connection.dialect.name == "sqlite":
        db_session.execute(text("ANALYZE"))
    with statements(connection) as seen:
        trends(db_session, lead)
    ranked = [(s, p) for s, p in seen if "row_number() OVER" in s]
    assert len(ranked) == 2
    for (statement, parameters), index in zip(
        ranked, ("ix_cases_acknowledged_at", "ix_cases_closed_at"), strict=True
    ):
        plan = plan_of(connection, statement, parameters)
        assert index in plan, plan
        if connection.dialect.name == "sqlite":
            assert "SCAN cases" not in plan, plan
        else:
            assert "Seq Scan on cases" not in plan, plan


def test_the_boards_filter_links_are_those_flask_builds(
    app: Flask, users: UserFactory, db_session: Session
) -> None:
    """The counts link to the case list filtered by priority, and the overdue count to the
    overdue filter, under the application root too (the case list's URL built once)."""
    lead = users.create(roles=["lead"])
    db_session.commit()
    client = signed_in(app, lead.user.username, lead.password)
    for base in ("http://localhost", "http://localhost/csirt"):
        page = client.get("/console/", base_url=base).text
        links = set(re.findall(r'href="([^"]*cases/\?[^"]*)"', page))
        with app.test_request_context("/", base_url=base):
            built = {url_for("cases.index", priority=p.value) for p in Priority}
            built.add(url_for("cases.index", overdue="1"))
        assert links == built, (base, links)


def test_threads_that_miss_the_trends_together_compute_them_once(
    app: Flask, users: UserFactory, migrated_engine: Engine
) -> None:
    """Four threads of one worker miss the cached trends at the same moment: one computes them
    (at 1,000,000 cases most of a second of the database), the others wait and take its result;
    each thread has its own session and connection, as in a gthread worker."""
    lead = users.create(roles=["lead"]).user
    assert lead.can(Permission.CASE_VIEW_ALL)  # loaded here: the threads only read it
    cache = DashboardCache()
    start = threading.Barrier(4)
    results: list[Trends] = []
    ranked: list[str] = []

    def count_rankings(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "row_number() OVER" in statement:
            ranked.append(statement)

    def visit() -> None:
        # A GET request's read transaction (SQLite: a deferred BEGIN, readers side by side).
        with app.test_request_context("/console/"), Session(migrated_engine) as session:
            start.wait()
            results.append(trends(session, lead, cache=cache))

    event.listen(migrated_engine, "before_cursor_execute", count_rankings)
    try:
        threads = [threading.Thread(target=visit) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        event.remove(migrated_engine, "before_cursor_execute", count_rankings)
    assert len(results) == 4
    assert all(result is results[0] for result in results)
    assert len(ranked) == 2, "one computation: the two rankings (acknowledge, close) once"
