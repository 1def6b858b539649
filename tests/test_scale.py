"""Scale guards for the case list: the query is served by an index, and a page costs a fixed
number of statements whatever it shows (no N+1). Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases import listing
from csirt.cases.creation import create_case
from csirt.cases.models import CaseMember

CASE_LIST = "/console/cases/"


@contextmanager
def statements(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    """Record every statement sent through ``connection``'s engine while the block runs."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = connection.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def make_cases(db_session: Session, user: User, count: int, *, member: bool) -> None:
    for n in range(count):
        case = create_case(db_session, title=f"scale {n}", actor=None)
        if member:
            db_session.add(CaseMember(case_id=case.id, user_id=user.id, role="investigator"))
    db_session.commit()


def case_list_sql(
    connection: Connection, db_session: Session, user: User, cursor: int | None
) -> tuple[str, Any]:
    """Run list_cases and return the SELECT on cases it sent, with its parameters."""
    with statements(connection) as seen:
        listing.list_cases(db_session, user, cursor=cursor)
    selects = [(s, p) for s, p in seen if "FROM cases" in s and s.lstrip().startswith("SELECT")]
    assert len(selects) == 1, seen
    return selects[0]


def plan_of(connection: Connection, statement: str, parameters: Any) -> str:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    # A tiny test table is cheaper to scan than to index, so ask whether an index *can* serve
    # the query: with sequential scans priced out, PostgreSQL shows the plan it has at scale.
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.parametrize("roles", [["lead"], ["responder"]], ids=["view-all", "member"])
def test_case_list_query_uses_an_index(
    roles: list[str], users: Any, db_session: Session, connection: Connection
) -> None:
    user = users.create(roles=roles).user
    make_cases(db_session, user, 30, member=True)
    newest = listing.list_cases(db_session, user, limit=1).items[0].id
    for cursor in (None, newest - 5):
        statement, parameters = case_list_sql(connection, db_session, user, cursor)
        plan = plan_of(connection, statement, parameters)
        if connection.dialect.name == "sqlite":
            # Walking the rowid b-tree backwards needs no sort; a cursor turns it into a SEARCH.
            assert "TEMP B-TREE" not in plan, plan
            assert "cases" in plan
            if cursor is not None:
                assert "SEARCH cases USING INTEGER PRIMARY KEY" in plan, plan
            if "responder" in roles:
                assert "case_members USING" in plan, plan
        else:
            assert "Index Scan" in plan or "Index Only Scan" in plan, plan
            assert "Seq Scan on cases" not in plan, plan
            assert "Sort" not in plan.split("->")[0], plan  # the top node streams in order


@pytest.mark.parametrize("roles", [("lead",), ("responder",)], ids=["view-all", "member"])
def test_a_case_list_page_costs_the_same_statements_for_5_and_50_cases(
    roles: tuple[str, ...],
    client: FlaskClient,
    login_as: Any,
    db_session: Session,
    connection: Connection,
) -> None:
    user = login_as(*roles)
    counts: list[int] = []
    present = 0
    for total in (5, 50):
        make_cases(db_session, user, total - present, member=True)
        present = total
        with statements(connection) as seen:
            response = client.get(CASE_LIST)
        assert response.status_code == 200
        assert response.text.count("scale ") >= total
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts  # session user, list, and little else
