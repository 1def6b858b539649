"""The UTC datetime type and the schema's migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy import text as sql
from sqlalchemy.exc import InternalError, OperationalError, StatementError
from sqlalchemy.orm import Session

from csirt import create_app
from csirt.audit.models import AuditEvent
from csirt.auth import access
from csirt.db import get_db, get_session, make_engine
from csirt.migrate import alembic_config, downgrade, upgrade
from csirt.models import Base
from tests.conftest import make_config


def test_datetimes_come_back_aware_in_utc(db_session: Session):
    tokyo = timezone(timedelta(hours=9))
    at = datetime(2015, 6, 24, 20, 0, 0, 123456, tzinfo=tokyo)
    event = AuditEvent(seq=10**9, at=at, actor="t", action="x", details={}, prev_hash="", hash="")
    db_session.add(event)
    db_session.flush()
    db_session.expire_all()
    loaded = db_session.scalar(select(AuditEvent).where(AuditEvent.seq == 10**9))
    assert loaded is not None
    assert loaded.at == at
    assert loaded.at.tzinfo is not None
    assert loaded.at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(db_session: Session):
    db_session.add(
        AuditEvent(
            seq=10**9 + 1,
            at=datetime(2015, 6, 24),
            actor="t",
            action="x",
            details={},
            prev_hash="",
            hash="",
        )
    )
    with pytest.raises(StatementError, match="naive"):
        db_session.flush()


def test_models_match_the_head_revision(migrated_engine: Engine):
    with migrated_engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def _fresh_url(database_url: str, tmp_path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    from sqlalchemy import text

    base, _sep, _name = database_url.rpartition("/")
    engine = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS csirt_steps"))
        conn.execute(text("CREATE DATABASE csirt_steps"))
    engine.dispose()
    return f"{base}/csirt_steps"


def test_every_revision_upgrades_and_downgrades(database_url: str, tmp_path):
    url = _fresh_url(database_url, tmp_path)
    script = ScriptDirectory.from_config(alembic_config(url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions, "no revisions"
    for revision in revisions:
        upgrade(url, revision)
    for revision in reversed(revisions[:-1]):
        downgrade(url, revision)
    downgrade(url, "base")
    upgrade(url, "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == revisions[-1]
    engine.dispose()


def test_utc_type_keeps_order_across_offsets(db_session: Session):
    base = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    tokyo = timezone(timedelta(hours=9))
    rows = [
        AuditEvent(
            seq=10**9 + 10 + i, at=at, actor="t", action="order", details={}, prev_hash="", hash=""
        )
        for i, at in enumerate([base, base.astimezone(tokyo) - timedelta(minutes=1)])
    ]
    db_session.add_all(rows)
    db_session.flush()
    ordered = db_session.scalars(
        select(AuditEvent.seq).where(AuditEvent.action == "order").order_by(AuditEvent.at)
    ).all()
    assert ordered == [10**9 + 11, 10**9 + 10]


def test_the_sqlite_result_processor_reads_what_the_typedecorator_would() -> None:
    # UTCDateTime.result_processor parses in one call what TypeDecorator's processor (the
    # dialect's parser, then process_result_value) reads in three: the same values.
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.types import TypeDecorator

    from csirt.db import UTCDateTime

    dialect = sqlite.dialect()
    kind = UTCDateTime().dialect_impl(dialect)
    fast = kind.result_processor(dialect, None)
    general = TypeDecorator.result_processor(kind, dialect, None)
    assert fast is not None
    assert general is not None
    assert fast is not general
    stored = [
        None,
        "2026-12-06 21:04:00.123456",
        "2026-12-06 21:04:00.000000",
        "2026-12-06 21:04:00",
        "2026-12-06",
        "2026-12-06T21:04:00+09:00",
        "2026-12-06 21:04:00.123456+00:00",
        "2026-12-06T21:04:00Z",
        "2026-12-06 21:04",
    ]
    for text in stored:
        assert fast(text) == general(text), text
        if text is not None:
            assert fast(text).tzinfo is UTC  # type: ignore[union-attr]
    for bad in ("not a time", 12):
        with pytest.raises((ValueError, TypeError)):
            general(bad)
        with pytest.raises((ValueError, TypeError)):
            fast(bad)
    # Other backends keep TypeDecorator's processor.
    pg = postgresql.psycopg2.dialect()
    assert (
        UTCDateTime()
        .dialect_impl(pg)
        .result_processor(pg, None)
        .__qualname__.startswith("TypeDecorator")
    )


def test_whole_seconds_and_null_come_back_as_written(db_session: Session) -> None:
    at = datetime(2026, 12, 6, 21, 4, tzinfo=UTC)
    event = AuditEvent(
        seq=10**9 + 20, at=at, actor="t", action="x", details={}, prev_hash="", hash=""
    )
    db_session.add(event)
    db_session.flush()
    db_session.expire_all()
    assert db_session.scalar(select(AuditEvent.at).where(AuditEvent.seq == 10**9 + 20)) == at
    from sqlalchemy import null, type_coerce

    from csirt.db import UTCDateTime

    assert db_session.scalar(select(type_coerce(null(), UTCDateTime()))) is None


def test_json_columns_read_exactly_as_json_loads_would(db_session: Session) -> None:
    # csirt.db.json_loads (the engines' json_deserializer) scans a whole value in one C call.
    import json

    from csirt.db import json_loads

    texts = [
        "[]",
        "null",
        '["\\u7dcf\\u52d9\\u8ab2", "a \\"q\\""]',
        '{"a": [1, 2.5, -0.0, 1e400, 123456789012345678901234567890], "a": {"b": null}}',
        "NaN",
        '"text"',
        " [1]",
        "[1] ",
        "\n{}\n",
    ]
    for text in texts:
        assert repr(json_loads(text)) == repr(json.loads(text)), text
    for bad in ("1 2", "[1", "", "{'a': 1}", "[1]x"):
        with pytest.raises(json.JSONDecodeError):
            json_loads(bad)
    assert db_session.get_bind().dialect._json_deserializer is json_loads  # type: ignore[union-attr]
    details = {"n": 2**70, "t": "総務課", "nested": [{"x": None}]}
    event = AuditEvent(
        seq=10**9 + 30,
        at=datetime.now(UTC),
        actor="t",
        action="x",
        details=details,
        prev_hash="",
        hash="",
    )
    db_session.add(event)
    db_session.flush()
    db_session.expire_all()
    found = db_session.scalar(select(AuditEvent.details).where(AuditEvent.seq == 10**9 + 30))
    assert found == details


def test_a_begin_that_finds_the_write_lock_taken_raises_sqlalchemys_error(tmp_path) -> None:
    # The SQLite BEGIN goes straight to the driver; its failure is still SQLAlchemy's error.
    engine = make_engine(f"sqlite:///{tmp_path / 'locked.sqlite3'}")
    try:
        with engine.connect() as holder, engine.connect() as other:
            holder.begin()  # outside a request: BEGIN IMMEDIATE, the write lock
            other.connection.driver_connection.execute("PRAGMA busy_timeout=0")
            with pytest.raises(OperationalError, match="database is locked"):
                other.begin()
            holder.rollback()
            with other.begin():
                assert other.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_a_read_request_on_postgresql_is_read_only_and_keeps_its_prepared_statements(
    migrated_engine: Engine, database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read request's transaction is BEGIN READ ONLY and ends with a commit: psycopg drops the
    # statements it prepared at every ROLLBACK, so ending reads with one made PostgreSQL parse
    # and plan every statement of every request again. A write in a read request is refused.
    app = create_app(make_config(database_url, tmp_path / "instance"))

    def probe() -> dict[str, object]:
        session = get_session()
        session.execute(sql("SELECT 1 + :x"), {"x": 1})  # prepared from its 6th execution
        driver = session.connection().connection.driver_connection
        prepared = session.execute(sql("SELECT count(*) FROM pg_prepared_statements")).scalar()
        return {"read_only": driver.read_only, "prepared": prepared}

    def write() -> str:
        get_session().execute(sql("UPDATE audit_head SET seq = seq WHERE false"))
        return "written"

    app.add_url_rule("/_probe", view_func=probe, methods=["GET", "POST"])
    app.add_url_rule("/_write", view_func=write)
    app.extensions["csrf"].exempt(probe)
    monkeypatch.setattr(access, "PUBLIC_ENDPOINTS", access.PUBLIC_ENDPOINTS | {"probe", "write"})
    client = app.test_client()
    first = client.get("/_probe")
    assert first.status_code == 200, (first.status_code, first.data[:300])
    answers = [client.get("/_probe").get_json() for _ in range(8)]
    assert all(a["read_only"] for a in answers)
    assert answers[-1]["prepared"] >= 1, answers
    posted = client.post("/_probe")
    assert posted.status_code == 200, posted.status_code
    assert posted.get_json()["read_only"] is False
    with pytest.raises(InternalError, match="read-only transaction"):
        client.get("/_write")
    get_db(app).engine.dispose()


@pytest.mark.postgres_only
def test_a_case_view_on_postgresql_is_one_transaction_with_its_audit_row(
    migrated_engine: Engine, database_url: str, tmp_path
) -> None:
    # A GET of a case's page writes its case.view row at the end: on PostgreSQL its transaction
    # begins read-write (db.write_ahead) and the audit row commits in it, one BEGIN and one
    # COMMIT, where a read-only transaction was ended before a second one for the row. Other
    # read requests stay read only.
    from sqlalchemy import event

    from tests.conftest import login
    from tests.factories import CaseFactory, UserFactory

    app = create_app(make_config(database_url, tmp_path / "instance"))
    engine = get_db(app).engine
    with app.app_context():
        session = get_session()
        users = UserFactory(session, app.extensions["csirt.hashing"])
        made = users.create(roles=["lead"])
        case = CaseFactory(session, users, app).create(actor=made.user, commit=True)
        case_id = case.id
    client = app.test_client()
    assert login(client, made.user.username, made.password, made.totp_seed).status_code == 302
    seen: list[str] = []
    event.listen(engine, "begin", lambda _conn: seen.append("begin"))
    event.listen(engine, "commit", lambda _conn: seen.append("commit"))
    event.listen(engine, "rollback", lambda _conn: seen.append("rollback"))

    def views() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(sql("count(*)"))
                    .select_from(AuditEvent)
                    .where(AuditEvent.action == "case.view", AuditEvent.case_id == case_id)
                ).scalar_one()
            )

    before = views()
    seen.clear()
    for path in (f"/console/cases/{case_id}", f"/console/cases/{case_id}/timeline"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert seen == ["begin", "commit"], (path, seen)
        seen.clear()
    assert views() == before + 2
    seen.clear()
    assert client.get("/console/deadlines").status_code == 200
    assert seen == ["begin", "commit"]  # read only, ended with a commit (kept prepared statements)
    engine.dispose()
