"""A case's tags: normalised on the way in, replaced as a set, read per case or per page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail
from csirt.cases.errors import CaseValidationError
from csirt.cases.models import Case, CaseTag

MAX_TAGS = 20
MAX_TAG_LENGTH = 64


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated tags (order kept); CaseValidationError for bad ones."""
    clean: list[str] = []
    for raw in tags:
        tag = " ".join(raw.split())
        if not tag or tag in clean:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise CaseValidationError({"tags": f"a tag is longer than {MAX_TAG_LENGTH} characters"})
        clean.append(tag)
    if len(clean) > MAX_TAGS:
        raise CaseValidationError({"tags": f"at most {MAX_TAGS} tags"})
    return clean


def set_tags(session: Session, case: Case, tags: Iterable[str], actor: User | None) -> list[str]:
    """Replace the case's tags."""
    wanted = normalise_tags(tags)
    rows = session.scalars(select(CaseTag).where(CaseTag.case_id == case.id)).all()
    have = {row.tag: row for row in rows}
    for tag, row in have.items():
        if tag not in wanted:
            session.delete(row)
    for tag in wanted:
        if tag not in have:
            session.add(CaseTag(case_id=case.id, tag=tag))
    if set(wanted) != set(have):
        trail.record(session, AuditAction.CASE_TAGS, case, actor, tags=wanted)
    session.flush()
    return wanted


def case_tags(session: Session, case: Case) -> list[str]:
    """The case's tags, sorted."""
    return list(
        session.scalars(select(CaseTag.tag).where(CaseTag.case_id == case.id).order_by(CaseTag.tag))
    )


def tags_for(session: Session, case_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of each case of a page (one query)."""
    if not case_ids:
        return {}
    found: dict[int, list[str]] = {}
    for case_id, tag in session.execute(
        select(CaseTag.case_id, CaseTag.tag)
        .where(CaseTag.case_id.in_(case_ids))
        .order_by(CaseTag.case_id, CaseTag.tag)
    ):
        found.setdefault(case_id, []).append(tag)
    return found
