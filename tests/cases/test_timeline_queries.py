"""The timeline page's statements at scale (issue 21): its deleted events are found by each
deletion's record (an anti join on the primary key), never by reading every live event of the
case; the rows are those still deleted, of this case only. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from csirt.cases import history
from csirt.cases.models import TimelineEvent
from csirt.cases.timeline import EVENT, EventInput, add_events, list_events
from tests.conftest import BACKEND
from tests.factories import CaseFactory, UserFactory


def _plan(db_session: Session, case_id: int) -> str:
    statement = history._DELETED[(EVENT.name, TimelineEvent.__tablename__)]
    compiled = statement.params(case_id=case_id).compile(
        dialect=db_session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    if BACKEND == "postgres":
        return "\n".join(db_session.execute(text(f"EXPLAIN {compiled}")).scalars())
    rows = db_session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_deleted_events_are_found_by_their_record_not_by_every_live_event(
    db_session: Session, users: UserFactory, cases: CaseFactory
) -> None:
    lead = users.create(roles=["lead"]).user
    case, other = cases.create(actor=lead), cases.create(actor=lead)
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    for each in (case, other):
        add_events(db_session, each, lead, [EventInput(at, "minute", f"e{n}") for n in range(40)])
    db_session.flush()
    first, second, *_rest = list_events(db_session, case).items
    gone = history.delete(db_session, EVENT, case, lead, first, "duplicate")
    history.delete(db_session, EVENT, case, lead, second, "duplicate")
    db_session.flush()
    assert [v.record_id for v in history.deleted_of(db_session, EVENT, case)] == [
        second.id,
        first.id,
    ]
    assert history.deleted_of(db_session, EVENT, other) == []
    history.restore(db_session, EVENT, case, lead, second.id, "not a duplicate")
    db_session.flush()
    assert [v.id for v in history.deleted_of(db_session, EVENT, case)] == [gone.id]
    plan = _plan(db_session, case.id)
    if BACKEND == "postgres":
        assert "hashed SubPlan" not in plan, plan  # NOT IN read every live id of the case
    else:
        assert "LIST SUBQUERY" not in plan, plan
        assert "CORRELATED SCALAR SUBQUERY" in plan, plan
