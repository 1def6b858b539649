"""Fixtures of the audit-review tests: audit events written straight through audit.record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from config import Config
from csirt.audit import service as audit
from tests.conftest import make_config

TOKYO = ZoneInfo("Asia/Tokyo")
# A Tuesday: 10:00 in Tokyo is inside the default working hours.
DAY_10AM = datetime(2026, 3, 10, 10, 0, tzinfo=TOKYO)

Writer = Callable[..., None]


@pytest.fixture
def config(database_url: str, tmp_path) -> Config:
    # English pages, so that the tests read the source strings.
    return make_config(database_url, tmp_path / "instance", default_lang="en")


@pytest.fixture
def write_events(db_session: Session) -> Writer:
    """Write ``count`` events of ``action`` by ``user`` from ``start``, ``every`` apart."""

    def _write(
        user: object,
        action: str,
        count: int,
        *,
        start: datetime = DAY_10AM,
        every: timedelta = timedelta(minutes=1),
        object_type: str = "case",
        first_object: int = 1,
    ) -> None:
        actor = audit.Actor(user.id, user.username)  # type: ignore[attr-defined]
        for i in range(count):
            audit.record(
                db_session,
                action,
                actor=actor,
                object_type=object_type,
                object_id=first_object + i,
                case_id=first_object + i if object_type == "case" else None,
                at=start + i * every,
            )
        db_session.commit()

    return _write
