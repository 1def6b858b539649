"""The exchange formats by name, and the one download of an export (API and console)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from flask import Response
from sqlalchemy.orm import Session

from csirt.auth.models import User
from csirt.cases.models import Case
from csirt.db import utcnow
from csirt.observables import exchange, misp, stix
from csirt.observables.attack import Matrix
from csirt.observables.service import ObservableIn

Build = Callable[[exchange.ExportContent, Any], str]
Read = Callable[[bytes | str], tuple[Sequence[ObservableIn], list[str], int]]

FORMATS: Final[dict[str, tuple[Build, Read]]] = {
    "stix": (stix.build_bundle, stix.read_bundle),
    "misp": (misp.build_event, misp.read_event),
}


def download(
    session: Session, case: Case, actor: User, matrix: Matrix, fmt: str, *, include_red: bool
) -> Response:
    """The case exported as ``fmt`` (audited; the caller commits), as a JSON attachment."""
    content = exchange.export_content(
        session, case, actor, matrix, fmt=fmt, include_red=include_red
    )
    response = Response(FORMATS[fmt][0](content, utcnow()), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{case.reference}-{fmt}.json"'
    return response


def import_file(
    session: Session, case: Case, actor: User, matrix: Matrix, fmt: str, raw: bytes | str
) -> exchange.ImportResult:
    """Read a file of format ``fmt`` into the case (the caller commits)."""
    items, technique_ids, skipped = FORMATS[fmt][1](raw)
    return exchange.import_items(
        session,
        case,
        actor,
        matrix,
        fmt=fmt,
        items=items,
        technique_ids=technique_ids,
        skipped=skipped,
    )
