"""What leaves in an export and what an import adds, for both formats (STIX 2.1 and MISP).

An export carries the case's reference, title and summary, its observables and its ATT&CK
techniques: never the people named in it (``involved``), the timeline, the records, anything
from the intake or the identity vault. TLP:RED and PAP:RED observables (and a TLP:RED case's
title and summary) leave only when the user asks for them (``include_red``). Every export and
import is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail
from csirt.cases.models import Case
from csirt.observables import service, techniques
from csirt.observables.attack import Matrix, Technique
from csirt.observables.errors import ObservableValidationError
from csirt.observables.models import Observable

RED: Final = "red"
MAX_IMPORT_ITEMS: Final = service.MAX_BATCH


@dataclass(frozen=True)
class ExportContent:
    """The part of a case that an export may carry."""

    reference: str
    title: str
    summary: str
    tlp: str
    observables: list[Observable]
    techniques: list[Technique]
    withheld: int  # red observables left out


def is_red(row: Observable) -> bool:
    return row.tlp == RED or row.pap == RED


def export_content(
    session: Session,
    case: Case,
    actor: User | None,
    matrix: Matrix,
    *,
    fmt: str,
    include_red: bool,
) -> ExportContent:
    """The case's exportable content, audited as one export of format ``fmt``."""
    rows = service.list_observables(session, case, limit=None).items
    kept = [row for row in rows if include_red or not is_red(row)]
    tagged = techniques.case_techniques(session, case, matrix)
    shown = include_red or case.tlp != RED
    content = ExportContent(
        reference=case.reference,
        title=case.title if shown else "",
        summary=case.summary if shown else "",
        tlp=case.tlp,
        observables=kept,
        techniques=[t.technique for t in tagged if t.technique is not None],
        withheld=len(rows) - len(kept),
    )
    trail.record(
        session,
        AuditAction.OBSERVABLE_EXPORT,
        case,
        actor,
        format=fmt,
        observables=len(kept),
        withheld=content.withheld,
        techniques=len(content.techniques),
        include_red=include_red,
    )
    return content


@dataclass(frozen=True)
class ImportResult:
    created: int
    merged: int
    skipped: int
    techniques: list[str]


def import_items(
    session: Session,
    case: Case,
    actor: User | None,
    matrix: Matrix,
    *,
    fmt: str,
    items: Sequence[service.ObservableIn],
    technique_ids: Sequence[str],
    skipped: int,
) -> ImportResult:
    """Add what a file held: observables (duplicates merged; a value invalid for its type is
    skipped and counted), known techniques; audited."""
    if len(items) > MAX_IMPORT_ITEMS:
        raise ObservableValidationError(
            {"file": f"at most {MAX_IMPORT_ITEMS} observables"}, {"file": "max"}
        )
    valid = []
    for item in items:
        try:
            service.check(item)
        except ObservableValidationError:
            skipped += 1
            continue
        valid.append(item)
    added = service.add_many(session, case, actor, valid, source=fmt)
    new_techniques = techniques.add_techniques(session, case, actor, matrix, technique_ids)
    result = ImportResult(len(added.created), len(added.merged), skipped, new_techniques)
    trail.record(
        session,
        AuditAction.OBSERVABLE_IMPORT,
        case,
        actor,
        format=fmt,
        created=result.created,
        merged=result.merged,
        skipped=skipped,
        techniques=new_techniques,
    )
    return result
