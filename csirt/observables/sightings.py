"""Sightings: the other cases where the same value appears, within what the user may see.

A value's key (SHA-256 of type and normalised value) is indexed with its case
(``ix_observables_value_key_case``), so a lookup is one index seek however many observables
there are. Need-to-know is the cases package's (:func:`csirt.cases.need_to_know.visible_clause`
and the conflict-of-interest rule, applied to the whole page in two queries); leads also learn
how many matches they may not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.auth.permissions import Role
from csirt.cases.models import Case
from csirt.cases.need_to_know import visible_clause
from csirt.observables.models import Observable

PER_VALUE: Final = 10
"""At most this many other cases listed per value (the newest); the count says the rest."""
MAX_ROWS: Final = 2000


@dataclass(frozen=True)
class Sighting:
    """The same value on another case the user may see."""

    case_id: int
    reference: str
    title: str
    observable_id: int
    ioc: bool


@dataclass
class Sightings:
    """The other cases of one value: the first ``PER_VALUE`` visible ones, how many are visible
    in all, and (for leads only, else None) how many matches the user may not see."""

    cases: list[Sighting] = field(default_factory=list)
    visible: int = 0
    hidden: int | None = None


def _conflicted(session: Session, user: User, case_ids: Sequence[int]) -> set[int]:
    """The cases among ``case_ids`` that name the user (the intake's one rule), in two queries."""
    from csirt.intake.conflicts import is_conflicted
    from csirt.intake.models import Submission

    if not case_ids:
        return set()
    involved: dict[int, list[str]] = {
        case_id: list(entries or [])
        for case_id, entries in session.execute(
            select(Case.id, Case.involved).where(Case.id.in_(case_ids))
        )
    }
    for case_id, entries in session.execute(
        select(Submission.case_id, Submission.involved).where(
            Submission.case_id.in_(case_ids), Submission.case_id.is_not(None)
        )
    ):
        if case_id is not None:
            involved.setdefault(case_id, []).extend(entries or [])
    return {case_id for case_id, names in involved.items() if is_conflicted(user, names)}


def sightings_for(
    session: Session, user: User, keys: Sequence[str], *, exclude_case_id: int | None = None
) -> dict[str, Sightings]:
    """Each value key's sightings in other cases (``exclude_case_id``: the case being shown)."""
    found: dict[str, Sightings] = {key: Sightings() for key in keys}
    if not keys:
        return found
    query = (
        select(
            Observable.value_key,
            Observable.id,
            Observable.ioc,
            Case.id,
            Case.reference,
            Case.title,
        )
        .join(Case, Case.id == Observable.case_id)
        .where(Observable.value_key.in_(list(found)))
        .order_by(Observable.value_key, Observable.case_id.desc())
        .limit(MAX_ROWS)
    )
    if exclude_case_id is not None:
        query = query.where(Observable.case_id != exclude_case_id)
    clause = visible_clause(user)
    if clause is not None:
        query = query.where(clause)
    rows = session.execute(query).all()
    conflicted = _conflicted(session, user, sorted({row[3] for row in rows}))
    for key, observable_id, ioc, case_id, reference, title in rows:
        if case_id in conflicted:
            continue
        entry = found[key]
        entry.visible += 1
        if len(entry.cases) < PER_VALUE:
            entry.cases.append(Sighting(case_id, reference, title, observable_id, ioc))
    if user.has_role(Role.LEAD):
        totals = select(Observable.value_key, func.count()).where(
            Observable.value_key.in_(list(found))
        )
        if exclude_case_id is not None:
            totals = totals.where(Observable.case_id != exclude_case_id)
        for key, total in session.execute(totals.group_by(Observable.value_key)):
            found[key].hidden = max(int(total) - found[key].visible, 0)
        for entry in found.values():
            entry.hidden = entry.hidden or 0
    return found


def sightings_of(session: Session, user: User, key: str) -> Sightings:
    """The cases (visible to the user) where one value appears."""
    return sightings_for(session, user, [key])[key]
