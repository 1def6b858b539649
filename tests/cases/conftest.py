"""Fixtures of the case tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from config import DEFAULT_PLAYBOOKS
from csirt.auth.models import User
from csirt.cases.creation import create_case
from csirt.cases.models import Case, CaseMember
from csirt.catalog import Playbook, load_playbooks
from tests.factories import UserFactory


@pytest.fixture(scope="session")
def playbooks() -> dict[str, Playbook]:
    return load_playbooks(Path(DEFAULT_PLAYBOOKS) / "incidents")


@pytest.fixture
def lead(users: UserFactory) -> User:
    return users.create(roles=["lead"]).user


@pytest.fixture
def make_case(db_session: Session, lead: User) -> Any:
    """Create a case led by ``lead`` with one more member (so a P1 may leave detect)."""

    def _make(**kwargs: Any) -> Case:
        kwargs.setdefault("title", "テスト事案")
        kwargs.setdefault("actor", lead)
        case = create_case(db_session, **kwargs)
        db_session.add(CaseMember(case_id=case.id, user_id=lead.id, role="lead"))
        db_session.flush()
        return case

    return _make
