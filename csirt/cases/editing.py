"""Editing a case's own fields; a change of what triage reads sends ``facts_changed``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import signals, trail
from csirt.cases.errors import CaseValidationError
from csirt.cases.models import Case, Tlp
from csirt.db import utcnow

FUTURE_SLACK = timedelta(minutes=1)
"""How far in the future an instant of awareness may be (clocks differ a little)."""


def aware_at_error(value: object) -> str | None:
    """Why ``value`` is not a valid moment of awareness (None if it is, or is left empty)."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        return "must be a date and time with a time zone"
    if value > utcnow() + FUTURE_SLACK:
        return "must not be in the future"
    return None


FACT_FIELDS = ("aware_at", "insider", "wrongful_intent", "ongoing", "involved")
EDITABLE_FIELDS = ("title", "summary", "tlp", *FACT_FIELDS)


def update_case(
    session: Session, case: Case, actor: User | None, changes: Mapping[str, Any]
) -> list[str]:
    """Change the given fields; returns the names that changed. Sends facts_changed if needed."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            errors[name] = "cannot be changed here"
        elif name == "title":
            title = str(value).strip()
            if not title or len(title) > 200:
                errors[name] = "required, at most 200 characters"
            clean[name] = title
        elif name == "tlp":
            try:
                clean[name] = Tlp(value).value
            except ValueError:
                errors[name] = "unknown TLP"
        elif name == "aware_at":
            problem = aware_at_error(value)
            if problem:
                errors[name] = problem
            clean[name] = value
        elif name == "involved":
            clean[name] = [str(v).strip() for v in value if str(v).strip()]
        elif name in ("insider", "wrongful_intent", "ongoing"):
            clean[name] = bool(value)
        else:
            clean[name] = str(value)
    if errors:
        raise CaseValidationError(errors)
    changed = [name for name, value in clean.items() if getattr(case, name) != value]
    for name in changed:
        setattr(case, name, clean[name])
    if not changed:
        return []
    trail.record(session, AuditAction.CASE_UPDATE, case, actor, fields=changed)
    session.flush()
    facts = [name for name in changed if name in FACT_FIELDS]
    if facts:
        signals.facts_changed.send(
            case, session=session, actor=actor, reason="case fields: " + ", ".join(facts)
        )
    return changed
