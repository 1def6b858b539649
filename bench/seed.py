"""Fill a csirt database fast for the benchmark: N cases, members, one case's long timeline.

The schema comes from the real migrations; rows go in by SQLAlchemy core ``insert`` batches on
SQLite and by ``COPY`` (psycopg 3) on PostgreSQL, so a million cases take seconds, not hours.
Staff users and the API token are made through csirt's own services (real password hashing).
This is bench data only: no audit entries, no search index rows for the bulk cases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Table, func, insert, select, text
from sqlalchemy.orm import Session

from config import Config
from csirt.audit import service as audit
from csirt.auth import service as auth_service
from csirt.auth.permissions import Role
from csirt.cases.models import Case, CaseCounter, CaseMember, Phase, Priority, TimelineEvent, Tlp
from csirt.db import make_engine
from csirt.migrate import upgrade

FIRST_YEAR = 2016
YEARS = 10
BATCH = 20_000
PASSWORD = "bench-Password-1234!"  # throwaway database on loopback only
LEAD = "benchlead"
PHASES = [p.value for p in Phase]
PRIORITIES = [p.value for p in Priority]
TLPS = [t.value for t in Tlp]
TITLES = (
    "不審メールの報告",
    "USBメモリの紛失",
    "ウェブサイト改ざんの疑い",
    "個人情報を含むファイルの誤送信",
    "Ransomware on a file server",
    "委託先からの漏えい連絡",
)
_EPOCH = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SeedInfo:
    """What the benchmark needs to know about the seeded database."""

    url: str
    cases: int
    username: str
    password: str
    token: str
    timeline_case_id: int  # the newest case: 10,000 timeline events
    report_case_id: int  # the second newest: 1,000 public events
    seconds: float


def bench_config(url: str, instance: Path) -> Config:
    """Return the csirt configuration the bench serves (also used for the gunicorn env)."""
    return Config.from_env(bench_env(url, instance))


def bench_env(url: str, instance: Path) -> dict[str, str]:
    """Return the CSIRT_* environment of the benchmarked server."""
    return {
        "CSIRT_DATABASE_URL": url,
        "CSIRT_INSTANCE_PATH": str(instance),
        "CSIRT_SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuv",
        "CSIRT_COOKIE_SECURE": "false",
        "CSIRT_BASE_URL": "http://127.0.0.1",
        # Session idle limit well above a bench run.
        "CSIRT_SESSION_IDLE_MINUTES": "240",
    }


def _year_and_number(index: int, total: int) -> tuple[int, int, datetime]:
    """Spread cases evenly over YEARS years, oldest first."""
    per_year = max(1, -(-total // YEARS))
    year_offset, number = divmod(index, per_year)
    created = _EPOCH + timedelta(days=365 * year_offset, minutes=number * 5)
    return FIRST_YEAR + year_offset, number + 1, created


def case_rows(total: int, creator_id: int) -> Iterator[dict[str, Any]]:
    """Yield ``total`` case rows (ids 1..total, oldest first)."""
    for i in range(total):
        year, number, created = _year_and_number(i, total)
        phase = PHASES[(i * 3) % len(PHASES)]
        yield {
            "id": i + 1,
            "reference": f"CSIRT-{year}-{number:04d}",
            "title": f"{TITLES[i % len(TITLES)]} #{i + 1}",
            "summary": "",
            "phase": phase,
            "outcome": None,
            "priority": PRIORITIES[(i * 3) % len(PRIORITIES)],
            "tlp": TLPS[i % len(TLPS)],
            "aware_at": created,
            "insider": i % 50 == 0,
            "wrongful_intent": False,
            "ongoing": False,
            "involved": [],
            "created_by_id": creator_id,
            "created_at": created,
            "updated_at": created,
            "acknowledged_at": created + timedelta(hours=1),
            "closed_at": created + timedelta(days=20) if phase == Phase.CLOSED.value else None,
        }


def event_rows(
    case_id: int, count: int, first_id: int, *, public: bool, creator_id: int
) -> Iterator[dict[str, Any]]:
    """Yield ``count`` timeline events of one case, an hour apart."""
    start = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    for n in range(count):
        at = start + timedelta(hours=n)
        yield {
            "id": first_id + n,
            "case_id": case_id,
            "occurred_at": at,
            "precision": "minute" if n % 2 else "day",
            "recorded_at": at,
            "source": "bench",
            "actor": "対応担当",
            "title": f"対応記録 {n + 1}",
            "description": "関係部署と協議し、検索サイトに対するキャッシュの削除依頼を行った。",
            "category": "event",
            "visibility": "public" if public or n % 3 == 0 else "internal",
            "automatic": False,
            "created_by_id": creator_id,
            "evidence_ids": [],
        }


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_insert(url: str, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows: COPY on PostgreSQL, core insert batches on SQLite. Return the row count."""
    count = 0
    if url.startswith("postgresql"):
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        columns = [c.name for c in table.columns]
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
        with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
            names = ", ".join(columns)
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    # psycopg's C dumpers format each value; JSON goes in as its text.
                    copy.write_row(
                        [json.dumps(row[c]) if c in json_columns else row[c] for c in columns]
                    )
                    count += 1
        return count
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for batch in _batches(rows):
                connection.execute(insert(table), batch)
                count += len(batch)
    finally:
        engine.dispose()
    return count


def generate_cases_on_postgres(url: str, total: int, creator_id: int) -> None:
    """Insert the same rows as ``case_rows`` (and their members), generated by the server.

    Formatting a million rows in Python costs a minute on a busy 2-core machine; PostgreSQL's
    ``generate_series`` writes them in seconds and nothing crosses the socket.
    """
    import psycopg

    per_year = max(1, -(-total // YEARS))

    def array(values: tuple[str, ...] | list[str]) -> str:
        return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"

    cases_sql = f"""
        INSERT INTO cases (id, reference, title, summary, phase, outcome, priority, tlp,
            aware_at, insider, wrongful_intent, ongoing, involved, created_by_id, created_at,
            updated_at, acknowledged_at, closed_at)
        SELECT g,
            'CSIRT-' || y || '-' || lpad(num::text, greatest(4, length(num::text)), '0'),
            ({array(TITLES)})[(g - 1) %% {len(TITLES)} + 1] || ' #' || g,
            '', phase, NULL,
            ({array(PRIORITIES)})[((g - 1) * 3) %% {len(PRIORITIES)} + 1],
            ({array(TLPS)})[(g - 1) %% {len(TLPS)} + 1],
            ts, (g - 1) %% 50 = 0, false, false, '[]'::json, %(creator)s, ts, ts,
            ts + interval '1 hour',
            CASE WHEN phase = 'closed' THEN ts + interval '20 days' END
        FROM (
            SELECT g,
                {FIRST_YEAR} + (g - 1) / {per_year} AS y,
                (g - 1) %% {per_year} + 1 AS num,
                ({array(PHASES)})[((g - 1) * 3) %% {len(PHASES)} + 1] AS phase,
                timestamptz '{_EPOCH.isoformat()}'
                    + ((g - 1) / {per_year}) * interval '365 days'
                    + ((g - 1) %% {per_year}) * interval '5 minutes' AS ts
            FROM generate_series(1, %(total)s) AS g
        ) AS rows
    """
    members_sql = """
        INSERT INTO case_members (id, case_id, user_id, role, added_at)
        SELECT g, g, %(creator)s, 'creator', timestamptz '2016-01-01 00:00+00'
        FROM generate_series(1, %(total)s) AS g
    """
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    params = {"creator": creator_id, "total": total}
    with psycopg.connect(dsn) as conn:
        conn.execute(cases_sql, params)
        conn.execute(members_sql, params)


def seed(
    url: str,
    instance: Path,
    cases: int,
    *,
    timeline_events: int = 10_000,
    report_events: int = 1_000,
) -> SeedInfo:
    """Migrate ``url`` and fill it for the benchmark; return the logins and case ids."""
    import time

    began = time.monotonic()
    instance.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    config = bench_config(url, instance)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            actor = audit.Actor(None, "bench")
            lead = auth_service.create_user(
                session,
                auth_service.Hashing.create(config.secret_key),
                LEAD,
                PASSWORD,
                [Role.LEAD],
                actor=actor,
                display_name="Bench Lead",
            )
            session.flush()
            _token, token = auth_service.create_token(session, lead, name="bench", actor=actor)
            lead_id = lead.id
    finally:
        engine.dispose()

    if url.startswith("postgresql"):
        generate_cases_on_postgres(url, cases, lead_id)
    else:
        bulk_insert(url, Case.__table__, case_rows(cases, lead_id))  # type: ignore[arg-type]
        members = (
            {"id": i, "case_id": i, "user_id": lead_id, "role": "creator", "added_at": _EPOCH}
            for i in range(1, cases + 1)
        )
        bulk_insert(url, CaseMember.__table__, members)  # type: ignore[arg-type]
    bulk_insert(
        url,
        TimelineEvent.__table__,  # type: ignore[arg-type]
        event_rows(cases, timeline_events, 1, public=False, creator_id=lead_id),
    )
    bulk_insert(
        url,
        TimelineEvent.__table__,  # type: ignore[arg-type]
        event_rows(cases - 1, report_events, timeline_events + 1, public=True, creator_id=lead_id),
    )
    _finish(url, cases)
    return SeedInfo(
        url=url,
        cases=cases,
        username=LEAD,
        password=PASSWORD,
        token=token,
        timeline_case_id=cases,
        report_case_id=cases - 1,
        seconds=time.monotonic() - began,
    )


def _finish(url: str, cases: int) -> None:
    """Set the yearly reference counters and sequences past the bulk rows; refresh statistics."""
    engine = make_engine(url, isolation_level="AUTOCOMMIT") if "postgres" in url else None
    engine = engine or make_engine(url)
    try:
        with engine.begin() as conn:
            counters: dict[int, int] = {}
            per_year = max(1, -(-cases // YEARS))
            for i in range(0, cases, per_year):
                year, _number, _ = _year_and_number(i, cases)
                counters[year] = min(per_year, cases - i)
            conn.execute(
                insert(CaseCounter), [{"year": y, "last": n} for y, n in sorted(counters.items())]
            )
            if url.startswith("postgresql"):
                for table in ("cases", "case_members", "timeline_events"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
        with engine.begin() as conn:
            conn.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
            assert conn.execute(select(func.count()).select_from(Case)).scalar_one() == cases
    finally:
        engine.dispose()
