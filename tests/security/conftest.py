"""Helpers for the red-team re-tests: tokens with scopes, a lead's case."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.cases.creation import create_case
from tests.factories import FACTORY, UserFactory


def bearer(db_session: Session, user: Any, *scopes: str) -> dict[str, str]:
    """An API token for ``user`` (default scopes unless given), as request headers."""
    kwargs: dict[str, Any] = {"scopes": list(scopes)} if scopes else {}
    _row, plain = auth_service.create_token(db_session, user, name="t", actor=FACTORY, **kwargs)
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def lead_api(db_session: Session, users: UserFactory) -> tuple[Any, dict[str, str], int]:
    """A lead, a token of theirs with every scope, and a case they lead."""
    lead = users.create(roles=["lead"]).user
    case = create_case(db_session, title="Red team", actor=lead)
    db_session.commit()
    return lead, bearer(db_session, lead, "read", "write", "export"), case.id
