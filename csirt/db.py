"""Database plumbing: one declarative ``Base``, a UTC datetime type, a session per request."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, NamedTuple, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, ForeignKey, MetaData, Select, create_engine, event
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.engine.processors import str_to_datetime
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from config import Config

# Stable constraint names, so that alembic revisions are reviewable and portable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give csirt an aware datetime (UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite has no time zones: store naive UTC so that text comparison orders correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], datetime | None]:
        """The values of :meth:`process_result_value`, read faster on SQLite.

        A list page reads hundreds of these. SQLite stores the naive UTC text that
        :meth:`process_bind_param` wrote (SQLAlchemy parses it with ``datetime.fromisoformat``);
        parsing it with ``+00:00`` appended gives the aware value in one call, where the parse,
        ``process_result_value`` and ``replace(tzinfo=UTC)`` took about five times as long.
        Anything else (another format, an offset already there) goes TypeDecorator's way.
        """
        general = super().result_processor(dialect, coltype)
        assert general is not None  # process_result_value is defined
        if self.impl_instance.result_processor(dialect, coltype) is not str_to_datetime:
            return general  # not SQLite's ISO text
        fromisoformat = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                parsed = fromisoformat(value + "+00:00")
            except (TypeError, ValueError):
                return general(value)
            return parsed if parsed.tzinfo is not None else general(value)

        return process


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


# Column types the models share (``id: Mapped[IntPk]``, ``created_at: Mapped[Timestamp]``,
# ``created_by_id: Mapped[UserRef | None]``).
IntPk = Annotated[int, mapped_column(primary_key=True)]
"""An integer primary key."""
Timestamp = Annotated[datetime, mapped_column(default=utcnow)]
"""A UTC instant, the insert's moment by default."""
UserRef = Annotated[int, mapped_column(ForeignKey("users.id"))]
"""A user (who raised, created or changed the row)."""


def pool_options(config: Config) -> dict[str, int]:
    """Pool sizes from ``CSIRT_DB_POOL_SIZE`` / ``CSIRT_DB_MAX_OVERFLOW`` (unset: SQLAlchemy's)."""
    options: dict[str, int] = {}
    if config.db_pool_size is not None:
        options["pool_size"] = config.db_pool_size
    if config.db_max_overflow is not None:
        options["max_overflow"] = config.db_max_overflow
    return options


# JSONDecoder's own scanner (the C one): set on the instance by JSONDecoder.__init__.
_scan_json: Callable[[str, int], tuple[Any, int]] = vars(json.JSONDecoder())["scan_once"]


def json_loads(text: Any) -> Any:
    """``json.loads`` for a JSON column's text, in one C call for a text that is one whole value
    (what SQLAlchemy's ``json.dumps`` wrote); any other text goes to ``json.loads`` itself.

    ``json.loads`` is ``JSONDecoder().decode``: the same ``scan_once`` after and before two
    whitespace matches; a list page decodes a column per row.
    """
    if text.__class__ is str:
        try:
            value, end = _scan_json(text, 0)
        except StopIteration:
            pass
        else:
            if end == len(text):
                return value
    return json.loads(text)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings csirt relies on (SQLite: WAL, FKs, secure_delete)."""
    kwargs.setdefault("json_deserializer", json_loads)
    if url.startswith("sqlite"):
        if url in {"sqlite://", "sqlite:///:memory:"}:
            kwargs.setdefault("poolclass", StaticPool)
            # One shared connection: pool sizes do not apply.
            kwargs.pop("pool_size", None)
            kwargs.pop("max_overflow", None)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _private_sqlite_file(engine.url.database)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (BEGIN IMMEDIATE below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows are overwritten, so an expired submission is really gone from the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # Requests that change things take the write lock at the start (BEGIN IMMEDIATE):
            # no lost updates, no lock-upgrade failures. Reads stay deferred and run in parallel.
            statement = "BEGIN" if is_read_request() else "BEGIN IMMEDIATE"
            # Straight to the driver (every request begins at least once): no parameters, no
            # rows, so SQLAlchemy's statement machinery (~70 Python calls) adds nothing; a
            # failure (the busy timeout) is raised as SQLAlchemy's error, as before.
            try:
                conn.connection.driver_connection.execute(statement).close()  # type: ignore[union-attr]
            except sqlite3.Error as error:
                raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "begin")
    def _postgres_begin(conn: Connection) -> None:
        # A read request's transaction is READ ONLY (psycopg sends BEGIN READ ONLY with the
        # first statement): PostgreSQL refuses any write in it, so ending it with a commit (see
        # _close_session) keeps nothing. Writes in a read request go through write_step.
        driver = conn.connection.driver_connection
        read_only = is_read_request() and not g.get("db_write_ahead", False)
        if getattr(driver, "read_only", read_only) != read_only:
            driver.read_only = read_only  # type: ignore[union-attr]

    return engine


def _private_sqlite_file(database: str | None) -> None:
    """Create the SQLite file 0600 in a 0700 folder (its -wal and -shm inherit the file's mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        companion = Path(f"{path}{suffix}")
        if companion.exists() and companion.stat().st_mode & 0o077:
            companion.chmod(0o600)


F = TypeVar("F", bound=Callable[..., Any])
WRITES_ATTR = "_csirt_writes"
logger = logging.getLogger(__name__)


def writes(view: F) -> F:
    """Mark a GET view that always writes (an audited open, download or export).

    On SQLite its transactions begin IMMEDIATE like a POST's: a read transaction that later
    writes must upgrade its lock, which SQLite refuses at once ("database is locked") when anyone
    has written since it began.
    """
    setattr(view, WRITES_ATTR, True)
    return view


def is_read_request() -> bool:
    """Whether this request only reads (a GET, HEAD or OPTIONS whose view is not marked
    :func:`writes`, before any :func:`write_step`): its transaction sees only committed rows."""
    if not has_request_context() or request.method not in {"GET", "HEAD", "OPTIONS"}:
        return False
    if g.get("db_write_step", False):
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, WRITES_ATTR, False)


def read_rows(
    session: Session, statement: Executable, params: Mapping[str, Any]
) -> CursorResult[Any]:
    """Run a statement whose rows are only read on the session's connection: plain rows, without
    the ORM's result handling (a third of a statement's Python). The session's pending changes
    are flushed first, as the ORM's autoflush would have done."""
    session.flush()
    return session.connection().execute(statement, params)


@contextmanager
def committed(session: Session) -> Iterator[Session]:
    """Commit what the block did to ``session``; roll it back if the block fails."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def write_step(session: Session) -> Iterator[Session]:
    """A short write transaction of its own, in a request that so far has only read.

    For a write that a read request decides on late (the audit row of a case view, a refused
    request): the read transaction is ended first (the caller has changed nothing), then a new
    one begins IMMEDIATE, waits its turn like any writer, and commits here. Never a second
    session: a request must not wait on a lock that it holds itself. On PostgreSQL, after
    :func:`write_ahead`, the request's read-write transaction goes on and commits here.
    """
    if session.in_transaction() and not _continues(session):
        session.commit()
    before = g.get("db_write_step", False)
    g.db_write_step = True
    try:
        with committed(session):
            yield session
    finally:
        g.db_write_step = before


def write_ahead() -> None:
    """Note, before its first statement, that this read request will write at its end (a case
    view's audit row). On PostgreSQL its transaction then begins read-write and
    :func:`write_step` continues it: one transaction, not a read-only one ended before a second
    (two round trips less). SQLite's read transaction stays deferred: holding the write lock
    while it reads would make every other writer wait."""
    g.db_write_ahead = True


def _continues(session: Session) -> bool:
    """Whether :func:`write_step` continues the request's transaction: a PostgreSQL read-write
    one that :func:`write_ahead` began for this write."""
    return (
        g.get("db_write_ahead", False)
        and session.get_bind().dialect.name == "postgresql"
        and not _read_only_transaction(session)
    )


def after_request_write(callback: Callable[[Session], None]) -> None:
    """Run ``callback`` in a short write transaction once the request's session is closed.

    For bookkeeping that a request must neither wait for nor lose when it only reads (when an
    API token was last used). It runs at teardown, after the request's own transaction has ended,
    so it never waits on the request's lock. A failure is logged (its type only) and dropped.
    """
    g.setdefault("db_after_close", []).append(callback)


class AppSession(Session):
    """csirt's session class: session-level reactions (csirt/wiring.py) listen on it, never on
    SQLAlchemy's global ``Session``."""


class Database:
    """The engine and session factory of one app."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, class_=AppSession, expire_on_commit=False)

    def bind_to(self, connection: Connection) -> None:
        """Bind sessions to one connection (tests: each test inside a rolled-back transaction)."""
        self.sessionmaker = sessionmaker(
            bind=connection,
            class_=AppSession,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session outside a request (CLI, jobs): commit on success, roll back on error."""
        session = self.sessionmaker()
        try:
            with committed(session):
                yield session
        finally:
            session.close()


def init_app(app: Flask, url: str) -> Database:
    database = Database(make_engine(url, **pool_options(app.config["CSIRT"])))
    app.extensions["csirt.db"] = database
    app.teardown_appcontext(_close_session)
    return database


def get_db(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions["csirt.db"]
    return database


R = TypeVar("R")


def get_or_raise(
    session: Session, model: type[R], key: int, missing: Callable[[int], Exception]
) -> R:
    """The ``model`` row whose primary key is ``key``; ``missing(key)`` is raised without one
    (the package's not-found error)."""
    row = session.get(model, key)
    if row is None:
        raise missing(key)
    return row


class Page(NamedTuple, Generic[R]):
    """One page of a keyset-paginated list and the cursor of the next (None: the last)."""

    items: list[R]
    next_cursor: int | None


def id_page(
    session: Session,
    query: Select[tuple[R]],
    column: Any,
    *,
    limit: int,
    cursor: int | None,
    newest_first: bool = True,
) -> Page[R]:
    """``limit`` rows of ``query`` keyset-paginated on the integer ``column`` (an id or a
    sequence): after ``cursor``, the key of the previous page's last row."""
    if cursor is not None:
        query = query.where(column < cursor if newest_first else column > cursor)
    query = query.order_by(column.desc() if newest_first else column).limit(limit + 1)
    rows = list(session.scalars(query))
    last = getattr(rows[limit - 1], column.key) if len(rows) > limit else None
    return Page(rows[:limit], last)


# The app context's ``g`` itself: a request asks for its session a dozen times, and each
# ``flask.g`` attribute goes through the proxy's lookups.
_app_globals: Callable[[], Any] = g._get_current_object


def get_session() -> Session:
    """The session of the current request (or app context), created on first use."""
    space = _app_globals()
    session: Session | None = getattr(space, "db_session", None)
    if session is None:
        session = space.db_session = get_db().sessionmaker()
    return session


def _read_only_transaction(session: Session) -> bool:
    """Whether the session is in a transaction its database keeps read only (PostgreSQL's
    BEGIN READ ONLY of a read request; SQLite's transactions are never marked so)."""
    if not session.in_transaction():
        return False
    driver = session.connection().connection.driver_connection
    return getattr(driver, "read_only", None) is True


def _close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        # A read-only transaction ends with a commit, which keeps nothing that a rollback would
        # not: psycopg drops every statement it has prepared on that connection at a ROLLBACK
        # and keeps them at a COMMIT, so with rollbacks PostgreSQL parsed and planned each
        # statement of every request again (0.6-0.8 ms of its CPU on a dashboard visit).
        if exc is None and _read_only_transaction(session):
            session.commit()
        session.close()
    callbacks: list[Callable[[Session], None]] = g.pop("db_after_close", [])
    if not callbacks:
        return
    g.db_write_step = True
    try:
        with get_db().session() as later:
            for callback in callbacks:
                callback(later)
    except SQLAlchemyError as error:
        logger.warning("a write after the request was dropped: %s", type(error).__name__)
    finally:
        g.pop("db_write_step", None)
