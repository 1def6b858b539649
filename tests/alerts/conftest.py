"""Alerts fixtures: bearer tokens for a SIEM (responder) and a lead."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from csirt.auth import service
from tests.alerts.receiver import Receiver
from tests.factories import FACTORY, UserFactory


@pytest.fixture
def bearer(users: UserFactory, db_session: Session) -> Callable[..., tuple[Any, dict[str, str]]]:
    """``bearer("lead")``: (the user, the Authorization header of a read+write token)."""

    def _bearer(
        *roles: str, scopes: tuple[str, ...] = ("read", "write")
    ) -> tuple[Any, dict[str, str]]:
        created = users.create(roles=list(roles))
        _token, plain = service.create_token(db_session, created.user, actor=FACTORY, scopes=scopes)
        db_session.commit()
        return created.user, {"Authorization": f"Bearer {plain}"}

    return _bearer


def alert_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "siem-a",
        "source_ref": "rule-42:evt-1001",
        "type": "intrusion",
        "title": "不審な外部通信",
        "description": "Outbound beacon every 60 s",
        "severity": "high",
        "occurred_at": "2026-12-06T09:15:00+09:00",
        "observables": [
            {"type": "ip", "value": "203.0.113[.]5", "ioc": True, "tlp": "amber"},
            {"type": "domain", "value": "C2.Example[.]COM"},
            {"type": "url", "value": "hxxp://c2.example.com/beacon"},
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP server (a thread) that records webhook deliveries."""
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()
