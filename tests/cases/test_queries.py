"""The case list: a constant number of statements per page, and index-backed queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from csirt.cases import listing
from csirt.cases.creation import create_case
from csirt.cases.tasks import add_task
from csirt.db import get_db
from tests.conftest import BACKEND


class StatementCounter:
    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args) -> None:
        self.statements.append(statement)


def _make_cases(db_session: Session, lead, count: int) -> None:
    for i in range(count):
        case = create_case(db_session, title=f"事案 {i}", actor=lead, tags=["t"])
        add_task(db_session, case, lead, title="x", assignee_ids=[lead.id])
    db_session.commit()


def _page_statements(app, client, query: str) -> int:
    engine = get_db(app).engine
    with StatementCounter(engine) as counter:
        response = client.get("/console/cases/" + query)
    assert response.status_code == 200
    return len(counter.statements)


def test_case_list_has_no_n_plus_one(app, client, login_as, db_session: Session):
    lead = login_as("lead")
    _make_cases(db_session, lead, 5)
    client.get("/console/cases/")  # warm up: the session, the user, the templates
    few = _page_statements(app, client, "?overdue=0")
    few_filtered = _page_statements(app, client, "?tag=t&q=事案")
    _make_cases(db_session, lead, 45)
    many = _page_statements(app, client, "?overdue=0")
    many_filtered = _page_statements(app, client, "?tag=t&q=事案")
    assert few == many
    assert few_filtered == many_filtered


def test_api_list_has_no_n_plus_one(app, client, db_session: Session, users):
    from csirt.auth import service as auth_service
    from tests.factories import FACTORY

    lead = users.create(roles=["lead"]).user
    _row, plain = auth_service.create_token(db_session, lead, name="t", actor=FACTORY)
    headers = {"Authorization": f"Bearer {plain}"}
    _make_cases(db_session, lead, 5)
    engine = get_db(app).engine

    def count() -> int:
        with StatementCounter(engine) as counter:
            assert client.get("/api/v1/cases?limit=50", headers=headers).status_code == 200
        return len(counter.statements)

    count()
    few = count()
    _make_cases(db_session, lead, 45)
    assert count() == few


def _plan(db_session: Session, statement: Any) -> str:
    compiled = statement.compile(
        dialect=db_session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    if BACKEND == "postgres":
        db_session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = db_session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
        return "\n".join(rows)
    rows = db_session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(str(row[-1]) for row in rows)


def _list_query(db_session: Session, user, **kwargs: Any) -> Any:
    """The statement list_cases runs, captured from the engine, with the values it ran with
    (the list's statements are built once, their values bound at execution)."""
    captured: list[Any] = []

    def capture(_conn, clauseelement, multiparams, params, *_args, **_kw) -> None:
        values = {**(multiparams[0] if multiparams else {}), **(params or {})}
        captured.append(clauseelement.params(values) if values else clauseelement)

    connection = db_session.connection()
    event.listen(connection, "before_execute", capture)
    try:
        listing.list_cases(db_session, user, **kwargs)
    finally:
        event.remove(connection, "before_execute", capture)
    return captured[-1]


def _uses_index(plan: str) -> bool:
    if BACKEND == "postgres":
        return "Index Scan" in plan or "Index Only Scan" in plan
    return (
        "USING INDEX" in plan
        or "USING COVERING INDEX" in plan
        or ("USING INTEGER PRIMARY KEY" in plan)
    )


def test_case_list_queries_use_indexes(db_session: Session, users):
    lead = users.create(roles=["lead"]).user
    responder = users.create(roles=["responder"]).user
    for i in range(3):
        create_case(db_session, title=f"名簿 {i}", actor=lead, priority="P1")
    db_session.flush()
    cases = [
        ({"phase": "detect"}, "ix_cases_phase_id"),
        ({"priority": "P1"}, "ix_cases_priority_id"),
        ({"cursor": 10**6}, None),
        ({"filters": listing.CaseFilters(q="名簿")}, None),
    ]
    for kwargs, index in cases:
        plan = _plan(db_session, _list_query(db_session, lead, **kwargs))
        assert _uses_index(plan), (kwargs, plan)
        if index and BACKEND != "postgres":
            assert index in plan, plan
    # Need-to-know: the membership check is an index lookup, not a scan of case_members.
    plan = _plan(db_session, _list_query(db_session, responder, cursor=10**6))
    assert _uses_index(plan), plan
    if BACKEND != "postgres":
        assert "SCAN case_members" not in plan
