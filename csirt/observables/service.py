"""Observables of a case: validated input, creation with merging of duplicates, edits with
history (``record_versions``), soft delete and restore, pages, and bulk paste.

Every service takes the session and never commits: the caller (a view, the API, an importer,
the alerts package) commits once for the whole request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import history, trail
from csirt.cases.models import Case, RecordVersion
from csirt.db import utcnow
from csirt.observables.errors import ObservableNotFoundError, ObservableValidationError
from csirt.observables.models import Observable
from csirt.observables.normalise import (
    HASH_ALGORITHMS,
    TYPES,
    ObservableValueError,
    guess_type,
    normalise,
    normalise_value,
    value_key,
)

__all__ = [
    "HASH_ALGORITHMS",
    "KIND",
    "PAP_LEVELS",
    "TLP_LEVELS",
    "TYPES",
    "AddResult",
    "ObservableIn",
    "ObservableValueError",
    "PasteLine",
    "add_many",
    "normalise",
]

TLP_LEVELS: Final = ("clear", "green", "amber", "amber+strict", "red")
PAP_LEVELS: Final = ("clear", "green", "amber", "red")
MAX_TAGS: Final = 20
MAX_TAG: Final = 64
MAX_DESCRIPTION: Final = 5000
MAX_SOURCE: Final = 100
MAX_BATCH: Final = 5000
KIND: Final = "observable"
"""The ``RecordVersion.kind`` of observables."""


@dataclass(frozen=True)
class ObservableIn:
    """An observable as given (a form, the API, a paste, an import, an alert): ``add_many``
    checks and normalises it. ``value`` may be defanged (``hxxp://example[.]com``)."""

    type: str
    value: str
    hash_algorithm: str | None = None
    tlp: str = "amber"
    pap: str = "amber"
    tags: tuple[str, ...] = ()
    ioc: bool = False
    description: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    source: str = ""


@dataclass(frozen=True)
class _Checked:
    item: ObservableIn
    value: str
    key: str
    hash_algorithm: str | None
    tags: tuple[str, ...]


@dataclass
class AddResult:
    """What ``add_many`` did: rows created, rows that already existed and took the new facts
    (``merged``), and every row in input order (a duplicate line gives the same row twice)."""

    created: list[Observable] = field(default_factory=list)
    merged: list[Observable] = field(default_factory=list)
    observables: list[Observable] = field(default_factory=list)


def _stricter(levels: Sequence[str], a: str, b: str) -> str:
    return a if levels.index(a) >= levels.index(b) else b


def _tags(raw: Iterable[str]) -> tuple[str, ...]:
    clean: list[str] = []
    for tag in raw:
        tag = " ".join(str(tag).split())
        if tag and tag not in clean:
            clean.append(tag)
    if any(len(tag) > MAX_TAG for tag in clean):
        raise ObservableValueError("tag-length", f"a tag has at most {MAX_TAG} characters")
    if len(clean) > MAX_TAGS:
        raise ObservableValueError("tags", f"at most {MAX_TAGS} tags")
    return tuple(clean)


def check(item: ObservableIn, prefix: str = "") -> _Checked:
    """Validate and normalise one observable; ObservableValidationError naming each field."""
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}

    def fail(name: str, error: ObservableValueError) -> None:
        errors[prefix + name] = error.message
        codes[prefix + name] = error.code

    value: str = ""
    algorithm: str | None = None
    tags: tuple[str, ...] = ()
    try:
        value, algorithm = normalise_value(item.type, item.value, item.hash_algorithm or None)
    except ObservableValueError as error:
        fail("type" if error.code == "type" else "value", error)
    if item.tlp not in TLP_LEVELS:
        fail("tlp", ObservableValueError("tlp", "one of " + ", ".join(TLP_LEVELS)))
    if item.pap not in PAP_LEVELS:
        fail("pap", ObservableValueError("pap", "one of " + ", ".join(PAP_LEVELS)))
    try:
        tags = _tags(item.tags)
    except ObservableValueError as error:
        fail("tags", error)
    for name, text, limit in (
        ("description", item.description, MAX_DESCRIPTION),
        ("source", item.source, MAX_SOURCE),
    ):
        if len(text) > limit:
            fail(name, ObservableValueError("too-long", f"at most {limit} characters"))
    if item.first_seen and item.last_seen and item.first_seen > item.last_seen:
        fail("last_seen", ObservableValueError("seen-order", "must not be before first_seen"))
    if errors:
        raise ObservableValidationError(errors, codes)
    return _Checked(item, value, value_key(item.type, value), algorithm, tags)


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a and b else a or b


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a and b else a or b


FIELDS: Final = tuple(f.name for f in fields(ObservableIn))


def _fields(row: Observable) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def _values(new: _Checked) -> dict[str, Any]:
    """The columns of a checked observable."""
    values = {name: getattr(new.item, name) for name in FIELDS}
    values.update(
        value=new.value, value_key=new.key, hash_algorithm=new.hash_algorithm, tags=list(new.tags)
    )
    return values


def _merge(row: Observable, new: _Checked) -> bool:
    """Take the new facts into an existing row without losing any; True if it changed.

    The stricter TLP and PAP win, tags add up, ``ioc`` stays set, the seen range widens, an
    empty description or source is filled."""
    before = _fields(row)
    item = new.item
    row.tlp = _stricter(TLP_LEVELS, row.tlp, item.tlp)
    row.pap = _stricter(PAP_LEVELS, row.pap, item.pap)
    row.tags = list(dict.fromkeys([*(row.tags or []), *new.tags]))[:MAX_TAGS]
    row.ioc = row.ioc or item.ioc
    row.description = row.description or item.description
    row.source = row.source or item.source
    row.first_seen = _min(row.first_seen, item.first_seen)
    row.last_seen = _max(row.last_seen, item.last_seen)
    return _fields(row) != before


def add_many(
    session: Session,
    case: Case,
    actor: User | None,
    items: Sequence[ObservableIn],
    *,
    source: str,
) -> AddResult:
    """Add observables to a case, all or nothing: a value already on the case (same type and
    normalised value) is merged into its row, whose previous version is kept in the history.

    ``source`` names where they came from (``api``, ``console``, ``paste``, ``stix``, ``misp``,
    an alert source); an item without its own source takes it. Raises ObservableValidationError
    naming ``items.N.field`` for every bad item; never commits.
    """
    if len(items) > MAX_BATCH:
        raise ObservableValidationError({"items": f"at most {MAX_BATCH} at once"}, {"items": "max"})
    checked: list[_Checked] = []
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    for index, item in enumerate(items):
        try:
            if not item.source:
                item = replace(item, source=source[:MAX_SOURCE])
            checked.append(check(item, prefix=f"items.{index}." if len(items) > 1 else ""))
        except ObservableValidationError as error:
            errors.update(error.errors)
            codes.update(error.codes)
    if errors:
        raise ObservableValidationError(errors, codes)
    existing: dict[str, Observable] = {}
    keys = list({c.key for c in checked})
    for start in range(0, len(keys), 500):
        for row in session.scalars(
            select(Observable).where(
                Observable.case_id == case.id, Observable.value_key.in_(keys[start : start + 500])
            )
        ):
            existing[row.value_key] = row
    result = AddResult()
    touched: set[int] = set()
    now = utcnow()
    for new in checked:
        found = existing.get(new.key)
        if found is None:
            row = Observable(
                case_id=case.id,
                created_at=now,
                updated_at=now,
                created_by_id=actor.id if actor else None,
                **_values(new),
            )
            session.add(row)
            existing[new.key] = row
            result.created.append(row)
        elif found.id is not None and id(found) not in touched:
            row = found
            # A row from before this call: keep its version before the merge (if it changes).
            version = history.keep(
                session, case, KIND, row, history.EDIT, actor, f"merged ({source})"
            )
            if _merge(row, new):
                row.updated_at = now
                touched.add(id(row))
                result.merged.append(row)
            else:
                session.expunge(version)
        else:
            row = found
            _merge(row, new)
        result.observables.append(row)
    session.flush()
    if result.created or result.merged:
        trail.record(
            session,
            AuditAction.OBSERVABLE_ADD,
            case,
            actor,
            created=len(result.created),
            merged=len(result.merged),
            source=source[:MAX_SOURCE],
        )
    return result


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservablePage:
    items: list[Observable]
    next_id: int | None


def list_observables(
    session: Session,
    case: Case,
    *,
    kind: str | None = None,
    ioc: bool | None = None,
    text: str | None = None,
    limit: int | None = 50,
    after_id: int | None = None,
) -> ObservablePage:
    """The case's observables by id (keyset pagination), optionally of one type or IOCs only."""
    query = select(Observable).where(Observable.case_id == case.id)
    if kind:
        query = query.where(Observable.type == kind)
    if ioc is not None:
        query = query.where(Observable.ioc == ioc)
    if text and text.strip():
        pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Observable.value.ilike(pattern + "%", escape="\\"))
    if after_id is not None:
        query = query.where(Observable.id > after_id)
    query = query.order_by(Observable.id)
    if limit is None:
        return ObservablePage(list(session.scalars(query)), None)
    rows = list(session.scalars(query.limit(limit + 1)))
    next_id = rows[limit - 1].id if len(rows) > limit else None
    return ObservablePage(rows[:limit], next_id)


def count_observables(session: Session, case: Case) -> int:
    """How many observables the case has."""
    return int(
        session.scalar(
            select(func.count()).select_from(Observable).where(Observable.case_id == case.id)
        )
        or 0
    )


def get_observable(session: Session, case: Case, observable_id: int) -> Observable:
    """The case's live observable; ObservableNotFoundError otherwise."""
    row = session.get(Observable, observable_id)
    if row is None or row.case_id != case.id:
        raise ObservableNotFoundError(observable_id)
    return row


def as_input(row: Observable) -> ObservableIn:
    """The row's fields as an :class:`ObservableIn` (the base of an edit)."""
    values = _fields(row)
    return ObservableIn(**{**values, "tags": tuple(values["tags"] or [])})


# --- corrections: edit with history, soft delete, restore ------------------------------------


def edit_observable(
    session: Session,
    case: Case,
    actor: User | None,
    row: Observable,
    item: ObservableIn,
    reason: str = "",
) -> Observable:
    """Change an observable; its previous version is kept with who, when and why."""
    new = check(item)
    if new.key != row.value_key and session.scalar(
        select(Observable.id).where(Observable.case_id == case.id, Observable.value_key == new.key)
    ):
        raise ObservableValidationError(
            {"value": "this value is already an observable of the case"}, {"value": "duplicate"}
        )
    before = _fields(row)
    history.keep(session, case, KIND, row, history.EDIT, actor, reason)
    for name, value in _values(new).items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    changed = sorted(k for k, v in _fields(row).items() if before[k] != v)
    session.flush()
    trail.record(
        session, AuditAction.OBSERVABLE_EDIT, case, actor, observable=row.id, fields=changed
    )
    return row


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ObservableValidationError({"reason": "required"}, {"reason": "required"})
    if len(reason) > history.MAX_REASON:
        raise ObservableValidationError(
            {"reason": f"at most {history.MAX_REASON} characters"}, {"reason": "too-long"}
        )
    return reason


def delete_observable(
    session: Session, case: Case, actor: User | None, row: Observable, reason: str
) -> RecordVersion:
    """Soft-delete an observable with a reason: it moves to the history, restorable by a lead."""
    version = history.keep(session, case, KIND, row, history.DELETE, actor, _reason(reason))
    observable_id = row.id
    session.delete(row)
    session.flush()
    trail.record(session, AuditAction.OBSERVABLE_DELETE, case, actor, observable=observable_id)
    return version


def restore_observable(
    session: Session, case: Case, actor: User | None, observable_id: int, reason: str = ""
) -> Observable:
    """Put a deleted observable back with its id (the caller checks that the actor is a lead).

    Refused when the same value was added again meanwhile (edit that one instead)."""
    if session.get(Observable, observable_id) is not None:
        raise ObservableNotFoundError(observable_id)
    deletion = history.last_deletion(session, case, KIND, observable_id)
    if deletion is None:
        raise ObservableNotFoundError(observable_id)
    row = history.rebuild(Observable, deletion.data)
    row.case_id = case.id
    if session.scalar(
        select(Observable.id).where(
            Observable.case_id == case.id, Observable.value_key == row.value_key
        )
    ):
        raise ObservableValidationError(
            {"value": "this value is already an observable of the case"}, {"value": "duplicate"}
        )
    session.add(row)
    session.flush()
    history.keep(session, case, KIND, row, history.RESTORE, actor, reason)
    session.flush()
    trail.record(session, AuditAction.OBSERVABLE_RESTORE, case, actor, observable=observable_id)
    return row


def observable_history(session: Session, case: Case, observable_id: int) -> list[RecordVersion]:
    """An observable's earlier versions, newest first; ObservableNotFoundError if it never
    existed."""
    found = history.versions(session, case, KIND, observable_id)
    if not found:
        get_observable(session, case, observable_id)
    return found


def deleted_observables(session: Session, case: Case) -> list[RecordVersion]:
    """The case's deleted observables (their last version), newest deletion first."""
    return history.deleted(session, case, KIND, Observable)


# --- bulk paste ------------------------------------------------------------------------------

MAX_PASTE_LINES: Final = 5000


@dataclass(frozen=True)
class PasteLine:
    """One pasted line: its guessed (or chosen) type, the stored value or the error."""

    number: int
    raw: str
    type: str
    value: str | None
    error: str | None
    code: str | None


def parse_paste(text: str, forced_type: str | None = None) -> list[PasteLine]:
    """One observable per non-empty line, the type guessed unless ``forced_type``; a line that
    is not valid for its type carries its error (the preview shows it, saving skips nothing:
    the user fixes or removes it)."""
    lines: list[PasteLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        kind = forced_type or guess_type(raw)
        try:
            value: str | None = normalise(kind, raw)
            error, code = None, None
        except ObservableValueError as exc:
            value, error, code = None, exc.message, exc.code
        lines.append(PasteLine(number, raw, kind, value, error, code))
        if len(lines) > MAX_PASTE_LINES:
            raise ObservableValidationError(
                {"text": f"at most {MAX_PASTE_LINES} lines"}, {"text": "max"}
            )
    return lines
