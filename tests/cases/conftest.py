"""Fixtures of the case tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from config import DEFAULT_PLAYBOOKS
from csirt.auth.models import User
from csirt.cases.models import Case
from csirt.catalog import Playbook, load_playbooks
from tests.factories import CaseFactory, UserFactory


@pytest.fixture(scope="session")
def playbooks() -> dict[str, Playbook]:
    return load_playbooks(Path(DEFAULT_PLAYBOOKS) / "incidents")


@pytest.fixture
def lead(users: UserFactory) -> User:
    return users.create(roles=["lead"]).user


@pytest.fixture
def make_case(cases: CaseFactory, lead: User) -> Any:
    """Create a case led by ``lead`` with one more member (so a P1 may leave detect)."""

    def _make(**kwargs: Any) -> Case:
        kwargs.setdefault("actor", lead)
        case: Case = cases.create(members=[lead], member_role="lead", **kwargs)
        return case

    return _make
