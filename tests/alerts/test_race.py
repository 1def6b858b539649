"""Two sources raising the same alert at the same moment leave one alert counted twice.

Real concurrency needs real transactions: a database of its own (a new SQLite file, or a new
database on the test's PostgreSQL server), migrated, and two threads each with its own
connection. The second insert waits for the first transaction (SQLite: the write lock;
PostgreSQL: the unique index), then counts the known alert instead of failing.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from csirt.alerts import service
from csirt.alerts.models import Alert
from csirt.db import make_engine
from csirt.migrate import upgrade

pytestmark = pytest.mark.slow


@pytest.fixture
def own_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()
        return
    name = f"alerts_race_{secrets.token_hex(4)}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()


def test_two_requests_racing_on_one_source_reference_leave_one_alert(own_engine: Engine):
    data = service.AlertInput(
        source="siem-a", source_ref="evt-race", type="intrusion", title="同時に届いたアラート"
    )
    first_inserted = threading.Event()
    results: dict[str, bool] = {}
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with Session(own_engine) as session:
                results["first"] = service.raise_alert(session, data, None).created
                first_inserted.set()
                second_started.wait(10)
                threading.Event().wait(0.5)  # the second is now waiting on this transaction
                session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
            first_inserted.set()

    def second() -> None:
        try:
            first_inserted.wait(10)
            with Session(own_engine) as session:
                second_started.set()
                results["second"] = service.raise_alert(session, data, None).created
                session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    second_started = threading.Event()
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert results == {"first": True, "second": False}
    with Session(own_engine) as session:
        assert session.scalar(select(func.count(Alert.id))) == 1
        assert session.scalar(select(Alert.count)) == 2
