"""Limit (b): bare Flask + SQLAlchemy + Jinja page listing 50 rows of an indexed table.

The page is what a case list does at its cheapest: one keyset-paginated query ordered by an
indexed column (newest first), 50 ORM objects, one Jinja template, no count. The table is filled
once by ``prepare_database`` (run by the harness before gunicorn starts); the app itself reads
the database URL from ``BENCH_ROWS_DB_URL``. Serve with ``gunicorn bench.limits.rows:app``.
"""

from __future__ import annotations

import os
import random
import re
from datetime import datetime, timedelta

from flask import Flask, Response, abort, jsonify, render_template, request
from sqlalchemy import (
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    create_engine,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.sql import Select

PAGE_SIZE = 50
DEFAULT_ROWS = 100_000
DB_URL_ENV = "BENCH_ROWS_DB_URL"
POOL_SIZE_ENV = "BENCH_ROWS_POOL_SIZE"
_EPOCH = datetime(2015, 1, 1)  # naive on purpose: stored as-is
_CURSOR_RE = re.compile(r"^(\d{8}T\d{6})-(\d+)$")
_STATUSES = ("new", "triage", "investigating", "contained", "closed")


class Base(DeclarativeBase):
    """Declarative base of the limit's single table."""


class Item(Base):
    """A case-like row: the list orders by opened_at, newest first."""

    __tablename__ = "bench_limit_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    severity: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)

    __table_args__ = (Index("ix_bench_limit_items_opened_at_id", "opened_at", "id"),)


def make_engine(url: str, pool_size: int = 8) -> Engine:
    """Create an engine; SQLite connections may move between gunicorn's threads."""
    if url.startswith("sqlite"):
        return create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=pool_size,
            max_overflow=0,
        )
    return create_engine(url, pool_size=pool_size, max_overflow=0, pool_pre_ping=False)


def format_cursor(item: Item) -> str:
    """Return the keyset cursor just past ``item``."""
    return f"{item.opened_at:%Y%m%dT%H%M%S}-{item.id}"


def parse_cursor(cursor: str) -> tuple[datetime, int]:
    """Parse a cursor made by format_cursor; raise ValueError if malformed."""
    match = _CURSOR_RE.match(cursor)
    if match is None:
        raise ValueError(f"bad cursor {cursor!r}")
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%S"), int(match.group(2))


def page_query(before: tuple[datetime, int] | None = None) -> Select[tuple[Item]]:
    """Return the keyset query for one page, newest first, strictly before the cursor."""
    query = select(Item).order_by(Item.opened_at.desc(), Item.id.desc()).limit(PAGE_SIZE)
    if before is not None:
        cursor = tuple_(literal(before[0]), literal(before[1]))
        query = query.where(tuple_(Item.opened_at, Item.id) < cursor)
    return query


def prepare_database(url: str, rows: int = DEFAULT_ROWS, seed: int = 9) -> bool:
    """Create and fill the table with ``rows`` rows unless it already holds exactly that many.

    Returns True when the table was (re)built. Rows are inserted in random opened_at order so
    the page has to use the index rather than the table's physical order.
    """
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            Base.metadata.create_all(conn)
            present = conn.execute(select(func.count()).select_from(Item)).scalar_one()
            if present == rows:
                return False
            conn.execute(delete(Item))
        rng = random.Random(seed)
        minutes = list(range(rows))
        rng.shuffle(minutes)
        batch_size = 10_000
        with engine.begin() as conn:
            for start in range(0, rows, batch_size):
                batch = [
                    {
                        "id": i + 1,
                        "opened_at": _EPOCH + timedelta(minutes=minutes[i]),
                        "title": f"不審メールの報告 {i + 1} — phishing report",
                        "severity": rng.randint(1, 5),
                        "status": _STATUSES[rng.randrange(len(_STATUSES))],
                    }
                    for i in range(start, min(start + batch_size, rows))
                ]
                conn.execute(insert(Item), batch)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        return True
    finally:
        engine.dispose()


def explain_page(url: str) -> str:
    """Return the database's plan for the keyset page query (to show the index is used)."""
    engine = make_engine(url, pool_size=1)
    try:
        query = page_query((_EPOCH + timedelta(days=30), 1))
        compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if url.startswith("sqlite") else "EXPLAIN "
        with engine.connect() as conn:
            rows = conn.execute(text(prefix + str(compiled))).all()
        return "\n".join(" ".join(str(v) for v in row) for row in rows)
    finally:
        engine.dispose()


def create_app(url: str, pool_size: int = 8) -> Flask:
    """Return the rows app reading ``url``."""
    flask_app = Flask(__name__)
    engine = make_engine(url, pool_size=pool_size)

    @flask_app.get("/rows")
    def rows_page() -> str:
        cursor = request.args.get("before")
        before = None
        if cursor is not None:
            try:
                before = parse_cursor(cursor)
            except ValueError:
                abort(400)
        with Session(engine) as session:
            items = list(session.scalars(page_query(before)))
            next_cursor = format_cursor(items[-1]) if len(items) == PAGE_SIZE else ""
            return render_template("rows.html", items=items, next_cursor=next_cursor)

    @flask_app.get("/rows.json")
    def rows_json() -> Response:
        # The same page as JSON: what an API's bare page costs (the limit of the case list API).
        with Session(engine) as session:
            items = list(session.scalars(page_query(None)))
            return jsonify(
                items=[
                    {
                        "id": item.id,
                        "opened_at": item.opened_at.isoformat(),
                        "title": item.title,
                        "severity": item.severity,
                        "status": item.status,
                    }
                    for item in items
                ],
                next_cursor=format_cursor(items[-1]) if len(items) == PAGE_SIZE else None,
            )

    return flask_app


def _app_from_env() -> Flask:
    url = os.environ.get(DB_URL_ENV)
    if not url:
        # Importable without configuration (for linting/tests); gunicorn always sets it.
        return Flask(__name__)
    return create_app(url, int(os.environ.get(POOL_SIZE_ENV, "8")))


app = _app_from_env()
