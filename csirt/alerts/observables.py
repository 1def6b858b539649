"""An alert's observables: checked and normalised on arrival, handed to a case on merge.

The observables package owns the rules (``normalise_value``) and a case's observables (``add_many``,
which merges duplicates); an alert keeps only the list it was sent, as plain JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from csirt.alerts.models import Alert
from csirt.auth.models import User
from csirt.cases.models import Case
from csirt.observables.normalise import normalise_value
from csirt.observables.service import (
    HASH_ALGORITHMS,
    PAP_LEVELS,
    TLP_LEVELS,
    TYPES,
    ObservableIn,
    add_many,
)

MAX_OBSERVABLES = 500
FIELDS = ("type", "value", "hash_algorithm", "tlp", "pap", "tags", "ioc", "description")
CHOICES = {"type": TYPES, "hash_algorithm": HASH_ALGORITHMS, "tlp": TLP_LEVELS, "pap": PAP_LEVELS}


def _checked(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """One observable normalised, or the errors of its fields."""
    errors = {
        name: "must be one of " + ", ".join(allowed)
        for name, allowed in CHOICES.items()
        if item.get(name) is not None and item[name] not in allowed
    }
    if errors:
        return {}, errors
    try:
        # The observables rules, with the hash's algorithm (given, or read from its length).
        value, algorithm = normalise_value(
            item["type"], str(item.get("value", "")), item.get("hash_algorithm")
        )
    except ValueError as exc:
        return {}, {"value": str(exc) or "not a valid value"}
    row = {k: item[k] for k in FIELDS if item.get(k) not in (None, "", [], ())}
    row["value"] = value
    if algorithm:
        row["hash_algorithm"] = algorithm
    return row, {}


def normalise_all(
    items: Sequence[dict[str, Any]], *, drop_invalid: bool = False
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(the normalised observables, errors by ``observables.N.field``); ``drop_invalid`` leaves
    out what is not valid instead (text found in a mail)."""
    if len(items) > MAX_OBSERVABLES and not drop_invalid:
        return [], {"observables": f"must have at most {MAX_OBSERVABLES}"}
    clean: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for index, item in enumerate(items):
        row, bad = _checked(item)
        if row:
            clean.append(row)
        elif not drop_invalid:
            errors.update({f"observables.{index}.{name}": why for name, why in bad.items()})
    return merge_observables([], clean), errors


def merge_observables(
    known: Iterable[dict[str, Any]], more: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``known`` then each of ``more`` not already there (by type and value), at most 500."""
    merged: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for item in [*known, *more]:
        key = (item["type"], item["value"])
        if key not in seen and len(merged) < MAX_OBSERVABLES:
            seen.add(key)
            merged.append(item)
    return merged


def hand_to_case(
    session: Session,
    case: Case,
    actor: User | None,
    alert: Alert,
    items: Sequence[dict[str, Any]],
) -> int:
    """Give ``items`` to the case (duplicates merged by the observables service); how many."""
    if not items:
        return 0
    given = [
        ObservableIn(
            type=item["type"],
            value=item["value"],
            hash_algorithm=item.get("hash_algorithm"),
            tlp=item.get("tlp", "amber"),
            pap=item.get("pap", "amber"),
            tags=tuple(item.get("tags", ())),
            ioc=bool(item.get("ioc", False)),
            description=item.get("description", ""),
            first_seen=alert.occurred_at or alert.first_seen,
            last_seen=alert.last_seen,
        )
        for item in items
    ]
    result = add_many(session, case, actor, given, source=f"alert:{alert.source}"[:100])
    return len(result.observables)
