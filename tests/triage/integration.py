"""Builders for the triage integration tests: real cases, data sets and the facts_changed signal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.creation import create_case
from csirt.cases.models import AffectedDataset, Case
from csirt.cases.signals import facts_changed

TOKYO = dt.timezone(dt.timedelta(hours=9))
VOTER_ITEMS = ["name", "address", "birth_date", "sex"]


def make_case(
    session: Session, actor: User | None, *, aware_at: dt.datetime | None = None, **flags: Any
) -> Case:
    """A case created through the cases service."""
    return create_case(
        session,
        title=flags.pop("title", "Voter list found online"),
        actor=actor,
        aware_at=aware_at or dt.datetime(2015, 6, 24, 10, 0, tzinfo=TOKYO),
        **flags,
    )


def add_dataset(session: Session, case: Case, **values: Any) -> AffectedDataset:
    """An AffectedDataset row written directly (what the records package would do)."""
    row = AffectedDataset(
        case_id=case.id,
        name=values.pop("name", "Voter list"),
        items=values.pop("items", list(VOTER_ITEMS)),
        persons=values.pop("persons", 680_000),
        exposure=values.pop("exposure", "public_internet"),
        **values,
    )
    session.add(row)
    session.flush()
    return row


def changed(app: Flask, session: Session, case: Case, actor: User | None, reason: str) -> None:
    """Send facts_changed as the owning packages do, inside an app context."""
    with app.app_context():
        facts_changed.send(case, session=session, actor=actor, reason=reason)


def founding_case(app: Flask, session: Session, actor: User | None, **flags: Any) -> Case:
    """Sakai 2015: 680,000 voters' name, address, birth date, sex; online; an insider."""
    case = make_case(session, actor, insider=True, **flags)
    add_dataset(session, case)
    changed(app, session, case, actor, "datasets")
    return case
