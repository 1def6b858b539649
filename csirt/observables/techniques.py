"""ATT&CK techniques on a case and on its timeline events: validated against the catalog's
technique list, replaced as a set, listed per case, suggested by the case's playbooks, and
searchable (:func:`technique_clause`, for the case search)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import trail
from csirt.cases.models import Case
from csirt.cases.playbooks import applied_playbook_ids
from csirt.cases.timeline import get_event
from csirt.catalog import Catalog
from csirt.observables.attack import TECHNIQUE_ID, Matrix, Technique
from csirt.observables.errors import ObservableValidationError
from csirt.observables.models import AttackTag

MAX_TECHNIQUES = 50


def parse_ids(raw: Iterable[str] | str) -> list[str]:
    """Technique ids from a list or a text (spaces, commas or new lines), upper-cased, once."""
    items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
    ids: list[str] = []
    for item in items:
        value = str(item).strip().upper()
        if value and value not in ids:
            ids.append(value)
    return ids


def validate_ids(matrix: Matrix, raw: Iterable[str] | str) -> list[str]:
    """Known technique ids; ObservableValidationError on ``techniques`` otherwise."""
    ids = parse_ids(raw)
    bad = [i for i in ids if not TECHNIQUE_ID.fullmatch(i)] or matrix.unknown(ids)
    if bad:
        raise ObservableValidationError(
            {"techniques": "not ATT&CK Enterprise techniques: " + ", ".join(bad[:10])},
            {"techniques": "unknown"},
        )
    if len(ids) > MAX_TECHNIQUES:
        raise ObservableValidationError(
            {"techniques": f"at most {MAX_TECHNIQUES}"}, {"techniques": "max"}
        )
    return ids


@dataclass(frozen=True)
class TaggedTechnique:
    """A technique on the case: where it is tagged (the case itself and/or events)."""

    technique: Technique | None
    id: str
    on_case: bool
    event_ids: tuple[int, ...]


def _rows(session: Session, case: Case, event_id: int | None) -> list[AttackTag]:
    target = AttackTag.event_id.is_(None) if event_id is None else AttackTag.event_id == event_id
    return list(session.scalars(select(AttackTag).where(AttackTag.case_id == case.id, target)))


def set_techniques(
    session: Session,
    case: Case,
    actor: User | None,
    matrix: Matrix,
    raw: Iterable[str] | str,
    *,
    event_id: int | None = None,
) -> list[str]:
    """Replace the techniques of the case (or of one of its timeline events)."""
    wanted = validate_ids(matrix, raw)
    if event_id is not None:
        get_event(session, case, event_id)  # EventNotFoundError for another case's event
    have = {row.technique: row for row in _rows(session, case, event_id)}
    for technique, row in have.items():
        if technique not in wanted:
            session.delete(row)
    for technique in wanted:
        if technique not in have:
            session.add(
                AttackTag(
                    case_id=case.id,
                    event_id=event_id,
                    technique=technique,
                    created_by_id=actor.id if actor else None,
                )
            )
    session.flush()
    if set(wanted) != set(have):
        details: dict[str, Any] = {"techniques": wanted}
        if event_id is not None:
            details["event"] = event_id
        trail.record(session, AuditAction.ATTACK_TAGS, case, actor, **details)
    return wanted


def add_techniques(
    session: Session, case: Case, actor: User | None, matrix: Matrix, ids: Iterable[str]
) -> list[str]:
    """Add techniques to the case's own set (an import); unknown ids are left out."""
    current = [row.technique for row in _rows(session, case, None)]
    new = [i for i in parse_ids(ids) if matrix.get(i) is not None and i not in current]
    if new:
        set_techniques(session, case, actor, matrix, current + new)
    return new


def case_techniques(session: Session, case: Case, matrix: Matrix) -> list[TaggedTechnique]:
    """Every technique on the case or its events, by id."""
    on_case: set[str] = set()
    events: dict[str, list[int]] = {}
    for technique, event_id in session.execute(
        select(AttackTag.technique, AttackTag.event_id).where(AttackTag.case_id == case.id)
    ):
        if event_id is None:
            on_case.add(technique)
        else:
            events.setdefault(technique, []).append(event_id)
    ids = sorted(on_case | set(events))
    return [
        TaggedTechnique(matrix.get(i), i, i in on_case, tuple(sorted(events.get(i, []))))
        for i in ids
    ]


def event_techniques(session: Session, case: Case) -> dict[int, list[str]]:
    """The techniques of each tagged timeline event of the case."""
    found: dict[int, list[str]] = {}
    for technique, event_id in session.execute(
        select(AttackTag.technique, AttackTag.event_id)
        .where(AttackTag.case_id == case.id, AttackTag.event_id.is_not(None))
        .order_by(AttackTag.technique)
    ):
        found.setdefault(int(event_id), []).append(technique)
    return found


def suggested(session: Session, case: Case, catalog: Catalog) -> list[Technique]:
    """Techniques the case's playbooks suggest that the case does not have yet."""
    have = {row.technique for row in _rows(session, case, None)}
    ids: list[str] = []
    for playbook_id in applied_playbook_ids(session, case):
        playbook = catalog.playbooks.get(playbook_id)
        for technique_id in playbook.techniques if playbook else ():
            if technique_id not in have and technique_id not in ids:
                ids.append(technique_id)
    return [t for t in (catalog.attack.get(i) for i in ids) if t is not None]


def technique_clause(ids: Iterable[str]) -> Any:
    """A WHERE clause on ``Case``: the case (or one of its events) has one of the techniques;
    ``T1567`` also finds its sub-techniques (``T1567.002``). For the case search; an index
    seek on ``ix_attack_tags_technique_case`` per id."""
    wanted = parse_ids(ids)
    matches = [AttackTag.technique == i for i in wanted] + [
        AttackTag.technique.like(i + ".%") for i in wanted if "." not in i
    ]
    return exists().where(AttackTag.case_id == Case.id, or_(*matches))
