"""Triage's part of the closing checklist: legal obligations must be met before a case closes.

Registered with :mod:`csirt.cases.closing` by :mod:`csirt.wiring` (the cases package does not
import triage for this).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.closing import MissingItem
from csirt.cases.models import Case
from csirt.lang import LocalText
from csirt.triage.models import OBLIGATION_MET, Obligation


def obligations_met(session: Session, case: Case) -> list[MissingItem]:
    """Every legal obligation triage found for the case is done or does not apply.

    A protection window (deadline "window", e.g. the year after a whistleblower report) does
    not hold a case open: it runs on after the case is closed.
    """
    rows = session.scalars(
        select(Obligation).where(
            Obligation.case_id == case.id,
            Obligation.status.not_in(OBLIGATION_MET),
            Obligation.deadline != "window",
        )
    ).all()
    return [
        MissingItem(
            f"obligation:{row.id}",
            LocalText(
                f"法令上の義務が未了です: {row.kind}", f"Legal obligation not met: {row.kind}"
            ),
        )
        for row in rows
    ]


def obligation_resolver(session: Session, case: Case, ref: str) -> bool | None:
    """Answer a playbook checklist item of kind ``obligation`` (``ref`` is the obligation kind)."""
    statuses = session.scalars(
        select(Obligation.status).where(Obligation.case_id == case.id, Obligation.kind == ref)
    ).all()
    # No such obligation for this case: it does not apply, so the item is met.
    return all(status in OBLIGATION_MET for status in statuses)
