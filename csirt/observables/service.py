"""Observables of a case: validated input, creation with merging of duplicates, edits with
history (``record_versions``), soft delete and restore, pages, and bulk paste.

Every service takes the session and never commits: the caller (a view, the API, an importer,
the alerts package) commits once for the whole request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases import history, trail
from csirt.cases.models import Case
from csirt.db import id_page, utcnow
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
    if limit is None:  # all of them (an export)
        return ObservablePage(list(session.scalars(query.order_by(Observable.id))), None)
    page = id_page(session, query, Observable.id, limit=limit, cursor=after_id, newest_first=False)
    return ObservablePage(page.items, page.next_cursor)


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


# --- corrections: edit with history, soft delete, restore (csirt.cases.history) ---------------


def _taken(session: Session, case: Case, key: str) -> bool:
    """Whether the case has a live observable with this value key."""
    return bool(
        session.scalar(
            select(Observable.id).where(Observable.case_id == case.id, Observable.value_key == key)
        )
    )


def _restorable(session: Session, case: Case, row: Observable) -> bool:
    """A deleted observable comes back only if its value was not added again meanwhile."""
    return not _taken(session, case, row.value_key)


OBSERVABLE: Final = history.Kind(
    name=KIND,
    model=Observable,
    missing=ObservableNotFoundError,
    actions=history.Actions(
        AuditAction.OBSERVABLE_EDIT, AuditAction.OBSERVABLE_DELETE, AuditAction.OBSERVABLE_RESTORE
    ),
    restorable=_restorable,
)
"""Observables as a kind of case record with history (edit, soft delete, restore)."""


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
    if new.key != row.value_key and _taken(session, case, new.key):
        raise ObservableValidationError(
            {"value": "this value is already an observable of the case"}, {"value": "duplicate"}
        )

    def change(target: Observable) -> None:
        for name, value in _values(new).items():
            setattr(target, name, value)
        target.updated_at = utcnow()

    return history.edit(session, OBSERVABLE, case, actor, row, change, reason)


def correct(
    session: Session,
    case: Case,
    actor: User | None,
    row: Observable,
    changes: Mapping[str, Any],
    reason: str = "",
) -> Observable:
    """Apply the changed fields (API ``PATCH``, console edit form) to an observable."""
    values = {**_fields(row), **{k: v for k, v in changes.items() if k in FIELDS}}
    values["tags"] = tuple(values["tags"] or ())
    return edit_observable(session, case, actor, row, ObservableIn(**values), reason)


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


def parse_line(raw: str, forced_type: str | None = None, number: int = 0) -> PasteLine:
    """One pasted value: its type (guessed unless ``forced_type`` is a type) and stored form,
    or its error."""
    raw = raw.strip()
    kind = forced_type if forced_type in TYPES else guess_type(raw)
    try:
        return PasteLine(number, raw, kind, normalise(kind, raw), None, None)
    except ObservableValueError as exc:
        return PasteLine(number, raw, kind, None, exc.message, exc.code)


def parse_paste(text: str, forced_type: str | None = None) -> list[PasteLine]:
    """One observable per non-empty line (``#`` starts a comment line); a line that is not
    valid for its type carries its error (the preview shows it; the user fixes or skips it)."""
    lines: list[PasteLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        if len(lines) >= MAX_PASTE_LINES:
            raise ObservableValidationError(
                {"text": f"at most {MAX_PASTE_LINES} lines"}, {"text": "max"}
            )
        lines.append(parse_line(raw, forced_type, number))
    return lines
