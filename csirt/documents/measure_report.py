"""The half-yearly report of measure progress for the committee (再発防止策の実施状況, .docx):
the prevention-progress document of a case as of the end of a fiscal half-year (上期: April to
September; 下期: October to March), or today while that half is still running."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.cases import trail
from csirt.cases.models import Case
from csirt.documents import builders
from csirt.documents.errors import DocumentValidationError
from csirt.documents.service import Environment, facts_for

KIND = "prevention_progress"
_HALF = re.compile(r"(\d{4})H([12])")


def half_year(label: str) -> tuple[date, date]:
    """``2026H1`` -> 2026-04-01 .. 2026-09-30; ``2026H2`` -> 2026-10-01 .. 2027-03-31 (the
    Japanese fiscal year starts in April)."""
    match = _HALF.fullmatch(label.strip().upper())
    if match is None or not 2000 <= int(match.group(1)) <= 2100:
        raise DocumentValidationError({"half": "must be a fiscal half-year such as 2026H1"})
    year, half = int(match.group(1)), match.group(2)
    if half == "1":
        return date(year, 4, 1), date(year, 9, 30)
    return date(year, 10, 1), date(year + 1, 3, 31)


def progress_report(
    session: Session,
    case: Case,
    env: Environment,
    label: str,
    today: date,
    *,
    actor: audit.Actor,
    lang: str = "ja",
) -> bytes:
    """The .docx of the case's measure progress as of the half-year's end (a draft for the
    committee's review: the final text goes through the documents' approval); audited."""
    _start, end = half_year(label)
    as_of = min(end, today)
    facts = facts_for(session, case, lang, env, today=as_of)
    document = builders.build_document(KIND, facts, lang=lang, draft=True)
    details = {"half": label.strip().upper(), "as_of": as_of.isoformat(), "by": actor.name}
    trail.record(session, AuditAction.MEASURE_REPORT, case, None, **details)
    return builders.to_bytes(document)
