"""The number of persons affected as the organisation states it (issue 16).

Data sets may overlap (postal voters are among all voters), so their sum is not what a public
body announces: `persons_total` is, with its note (e.g. 重複を除く). Documents use it when set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail
from csirt.cases.models import Case

MAX_PERSONS = 200_000_000
MAX_NOTE = 200


def validate(values: Mapping[str, Any]) -> dict[str, str]:
    """Errors of `persons_total` (an integer from 0, or null) and `persons_total_note`."""
    errors: dict[str, str] = {}
    if "persons_total" in values:
        total = values["persons_total"]
        if total is not None and (
            not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= MAX_PERSONS
        ):
            errors["persons_total"] = f"an integer from 0 to {MAX_PERSONS:,}, or null"
    if "persons_total_note" in values:
        note = values["persons_total_note"]
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            errors["persons_total_note"] = f"a string of at most {MAX_NOTE} characters"
    return errors


def set_persons_total(
    session: Session, actor: User, case: Case, values: Mapping[str, Any]
) -> list[str]:
    """Set the stated number of persons and its note (validated first); audited."""
    changed = []
    if "persons_total" in values and case.persons_total != values["persons_total"]:
        case.persons_total = values["persons_total"]
        changed.append("persons_total")
    if "persons_total_note" in values:
        note = str(values["persons_total_note"]).strip()
        if note != case.persons_total_note:
            case.persons_total_note = note
            changed.append("persons_total_note")
    if changed:
        trail.record(session, AuditAction.CASE_UPDATE, case, actor, fields=changed)
        session.flush()
    return changed
