"""each case's number of timeline events and their version, kept by the database

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 04:10:00

The timeline page heads its first 50 rows with the case's number of events. Counting them on
every request read the whole of the case's index (10,000 entries: 0.3 ms of a 2.5 ms page on
SQLite). ``cases.event_count`` holds that number instead, and ``cases.events_version`` grows by
one whenever any of the case's events is added, changed or removed (the timeline page keeps its
rendered rows under it). Both are kept by triggers on ``timeline_events``, so that every way a row
comes, changes or goes counts: the ORM's inserts, updates and deletes, the CSV import's and the
demo's multi-row INSERTs, a restored deletion, automatic entries, a case's deletion, PostgreSQL's
COPY. A backup copies the columns with the rows they count (SQLite's backup API copies pages;
``pg_restore`` loads the data before it creates triggers).

- SQLite: a row trigger per insert, delete and update.
- PostgreSQL: statement triggers with transition tables, one UPDATE per case a statement touches
  (a 10,000-row import updates its case once).

The upgrade counts the events that exist.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_SQLITE = (
    """CREATE TRIGGER timeline_events_count_insert AFTER INSERT ON timeline_events
    BEGIN
        UPDATE cases SET event_count = event_count + 1, events_version = events_version + 1
        WHERE id = NEW.case_id;
    END""",
    """CREATE TRIGGER timeline_events_count_delete AFTER DELETE ON timeline_events
    BEGIN
        UPDATE cases SET event_count = event_count - 1, events_version = events_version + 1
        WHERE id = OLD.case_id;
    END""",
    """CREATE TRIGGER timeline_events_count_update AFTER UPDATE ON timeline_events
    BEGIN
        UPDATE cases SET events_version = events_version + 1,
            event_count = event_count - (OLD.case_id IS NOT NEW.case_id)
        WHERE id = OLD.case_id;
        UPDATE cases SET events_version = events_version + 1, event_count = event_count + 1
        WHERE id = NEW.case_id AND OLD.case_id IS NOT NEW.case_id;
    END""",
)
_TRIGGERS = ("insert", "delete", "update")

# One function per operation: a PL/pgSQL statement that names a transition table is planned
# whole, so a function may only name the tables its trigger has.
_POSTGRES = (
    """CREATE FUNCTION timeline_events_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE cases SET event_count = cases.event_count + counted.n,
            events_version = cases.events_version + 1
        FROM (SELECT case_id, count(*) AS n FROM came GROUP BY case_id) AS counted
        WHERE cases.id = counted.case_id;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION timeline_events_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE cases SET event_count = cases.event_count - counted.n,
            events_version = cases.events_version + 1
        FROM (SELECT case_id, count(*) AS n FROM gone GROUP BY case_id) AS counted
        WHERE cases.id = counted.case_id;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION timeline_events_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE cases SET events_version = cases.events_version + 1
        WHERE cases.id IN (SELECT case_id FROM gone UNION SELECT case_id FROM came);
        IF EXISTS (SELECT 1 FROM gone JOIN came ON came.id = gone.id
                   WHERE came.case_id <> gone.case_id) THEN
            UPDATE cases SET event_count = cases.event_count - counted.n
            FROM (SELECT case_id, count(*) AS n FROM gone GROUP BY case_id) AS counted
            WHERE cases.id = counted.case_id;
            UPDATE cases SET event_count = cases.event_count + counted.n
            FROM (SELECT case_id, count(*) AS n FROM came GROUP BY case_id) AS counted
            WHERE cases.id = counted.case_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER timeline_events_count_insert AFTER INSERT ON timeline_events
    REFERENCING NEW TABLE AS came
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_events_count_insert()""",
    """CREATE TRIGGER timeline_events_count_delete AFTER DELETE ON timeline_events
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_events_count_delete()""",
    """CREATE TRIGGER timeline_events_count_update AFTER UPDATE ON timeline_events
    REFERENCING OLD TABLE AS gone NEW TABLE AS came
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_events_count_update()""",
)

_BACKFILL = """UPDATE cases SET event_count = (
    SELECT count(*) FROM timeline_events WHERE timeline_events.case_id = cases.id
), events_version = 1 WHERE id IN (SELECT case_id FROM timeline_events)"""


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("event_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("events_version", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(_BACKFILL)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES if postgres else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in _TRIGGERS:
        on = " ON timeline_events" if postgres else ""
        op.execute(f"DROP TRIGGER IF EXISTS timeline_events_count_{name}{on}")
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS timeline_events_count_{name}()")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("events_version")
        batch.drop_column("event_count")
