"""Issue 13, finding 3: nothing about a report is timed finer than the hour.

After a whole flow through real requests (form and API reports, mailbox, officer reply, files,
identity request and approval), every datetime column of every table whose name holds
``submission``, ``wrap`` or ``identity`` has minutes, seconds and microseconds of zero, and so
has every audit event about a submission. Checked in the raw SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Connection, text

from csirt import create_app
from csirt.db import get_db
from csirt.migrate import upgrade
from tests.conftest import make_config
from tests.intake.test_canary import _run_flow

WATCHED = ("submission", "wrap", "identity")


def _assert_hour(value: object, where: str) -> None:
    if value is None:
        return
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0), f"{where}: {value}"


@pytest.mark.sqlite_only
def test_sqlite_file_holds_only_whole_hours(tmp_path: Path) -> None:
    database = tmp_path / "hours.sqlite3"
    url = f"sqlite:///{database}"
    upgrade(url)
    app = create_app(make_config(url, tmp_path / "instance"), interface="all")
    session = get_db(app).sessionmaker()
    _run_flow(app, app.test_client(), session)
    session.close()
    get_db(app).engine.dispose()

    raw = sqlite3.connect(database)
    tables = [
        name
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if any(word in name for word in WATCHED)
    ]
    assert {"submissions", "submission_key_wraps", "identity_key_wraps"} <= set(tables)
    checked = 0
    for table in tables:
        for column in raw.execute(f'PRAGMA table_info("{table}")').fetchall():
            name, declared = column[1], str(column[2]).upper()
            if "DATE" not in declared and "TIME" not in declared:
                continue
            for (value,) in raw.execute(f'SELECT "{name}" FROM "{table}"'):
                _assert_hour(value, f"{table}.{name}")
                checked += value is not None
    events = raw.execute("SELECT action, at FROM audit_events WHERE object_type = 'submission'")
    for action, at in events:
        _assert_hour(at, f"audit {action}")
        checked += 1
    raw.close()
    assert checked > 20


@pytest.mark.postgres_only
def test_postgres_holds_only_whole_hours(app: Flask, connection: Connection) -> None:
    session = get_db(app).sessionmaker()
    _run_flow(app, app.test_client(), session)
    session.close()
    columns = connection.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type LIKE 'timestamp%'"
        )
    ).all()
    checked = 0
    for table, column in columns:
        if not any(word in table for word in WATCHED):
            continue
        for (value,) in connection.execute(text(f'SELECT "{column}" FROM "{table}"')):
            _assert_hour(value, f"{table}.{column}")
            checked += value is not None
    for action, at in connection.execute(
        text("SELECT action, at FROM audit_events WHERE object_type = 'submission'")
    ):
        _assert_hour(at, f"audit {action}")
        checked += 1
    assert checked > 20
