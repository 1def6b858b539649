"""The personal-data inventory: files, their places (systems, media), overlaps and history; a
case's data sets taken from it, the case's deduplicated total, and the exposure of a system.

Every function takes the session explicitly; callers commit. A case's data set is added through
the records service (so triage runs as for any data set) and linked to its file here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.cases.models import AffectedDataset, Case
from csirt.db import Page, get_or_raise, id_page
from csirt.inventory import register_csv
from csirt.inventory.models import (
    InventoryDatasetLink,
    InventoryFile,
    InventoryFileVersion,
    InventoryOverlap,
    InventoryPlace,
)
from csirt.records import service as records
from csirt.records.validation import DatasetInput, Reader, RecordValidationError, read_dataset
from csirt.triage import Vocabulary

MAX_SYSTEMS = 50
MAX_REASON = 500
# The note of a case's stated number of persons taken from the deduplicated total (the
# documents print it beside the number, in Japanese like the documents themselves).
DEDUP_NOTE = "個人情報ファイル簿に登録された重複を除く"
# The fields a case's data set takes from a file.
DATASET_FIELDS = ("name", "holder", "items", "persons", "persons_estimated")


class InventoryError(Exception):
    """Base of inventory errors shown to the user."""


class InventoryNotFoundError(InventoryError):
    """No such inventory file."""


InventoryValidationError = RecordValidationError
"""Bad fields (``errors`` maps each to its message): the records readers' error, shared."""


@dataclass(frozen=True)
class FileInput:
    """Validated fields of an inventory file."""

    name: str
    holder: str
    purpose: str
    items: tuple[str, ...]
    persons: int
    persons_estimated: bool
    counted_on: date | None
    systems: tuple[str, ...]
    take_out: str
    retention: str
    register_ref: str


def _text_list(reader: Reader, key: str, *, max_len: int = 200) -> tuple[str, ...]:
    raw = reader.payload.get(key)
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = register_csv.split_list(raw)
    if not isinstance(raw, list):
        reader.fail(key, "must be a list of names")
        return ()
    found: list[str] = []
    for index, value in enumerate(raw):
        if not isinstance(value, str) or not value.strip():
            reader.fail(f"{key}.{index}", "must be a non-empty string")
        elif len(value.strip()) > max_len:
            reader.fail(f"{key}.{index}", f"must be at most {max_len} characters")
        elif value.strip() not in found:
            found.append(value.strip())
    if len(found) > MAX_SYSTEMS:
        reader.fail(key, f"at most {MAX_SYSTEMS}")
    return tuple(found)


def read_file(payload: Mapping[str, Any], vocabulary: Vocabulary, tz: tzinfo) -> FileInput:
    """A file's fields from a JSON body, a form or a CSV row; every bad field named."""
    r = Reader(payload, tz)
    data = FileInput(
        name=r.text("name", required=True),
        holder=r.text("holder"),
        purpose=r.text("purpose", max_len=10_000),
        items=r.items("items", vocabulary),
        persons=r.integer("persons", required=True),
        persons_estimated=r.boolean("persons_estimated"),
        counted_on=r.day("counted_on"),
        systems=_text_list(r, "systems"),
        take_out=r.text("take_out", max_len=300),
        retention=r.text("retention"),
        register_ref=r.text("register_ref", max_len=100),
    )
    r.done()
    return data


def _actor(user: User) -> audit.Actor:
    return audit.Actor(user.id, user.username)


def snapshot(row: InventoryFile) -> dict[str, Any]:
    """The fields of a file as JSON-ready data (a version of its history)."""
    data = {name: getattr(row, name) for name in FileInput.__dataclass_fields__}
    data["items"] = list(row.items)
    data["systems"] = row.systems
    data["counted_on"] = row.counted_on.isoformat() if row.counted_on else None
    return data


def _apply(row: InventoryFile, data: FileInput) -> None:
    values = asdict(data)
    systems = values.pop("systems")
    values["items"] = list(values["items"])
    for name, value in values.items():
        setattr(row, name, value)
    kept = {place.system: place for place in row.places}
    row.places = [kept.get(name) or InventoryPlace(system=name) for name in systems]
    for position, place in enumerate(row.places):
        place.position = position


def _audit(session: Session, action: AuditAction, actor: User, row: InventoryFile) -> None:
    session.flush()
    audit.record(
        session,
        action,
        actor=_actor(actor),
        object_type="inventory_file",
        object_id=row.id,
        details={"name": row.name, "persons": row.persons, "version": row.version},
    )


def create_file(session: Session, actor: User, data: FileInput) -> InventoryFile:
    """Register a personal-data file; audited."""
    row = InventoryFile(version=1)
    _apply(row, data)
    session.add(row)
    _audit(session, AuditAction.INVENTORY_CREATE, actor, row)
    return row


def update_file(
    session: Session, actor: User, row: InventoryFile, data: FileInput, reason: str = ""
) -> InventoryFile:
    """Change a file; its previous version is kept (who, when, why); audited."""
    if len(reason) > MAX_REASON:
        raise InventoryValidationError({"reason": f"must be at most {MAX_REASON} characters"})
    session.add(
        InventoryFileVersion(
            file_id=row.id,
            number=row.version,
            data=snapshot(row),
            reason=reason.strip(),
            changed_by_id=actor.id,
        )
    )
    _apply(row, data)
    row.version += 1
    _audit(session, AuditAction.INVENTORY_UPDATE, actor, row)
    return row


def get_file(session: Session, file_id: int) -> InventoryFile:
    """A file by id, or InventoryNotFoundError."""
    return get_or_raise(session, InventoryFile, file_id, InventoryNotFoundError)


def history(session: Session, row: InventoryFile) -> list[InventoryFileVersion]:
    """A file's earlier versions, newest first."""
    query = select(InventoryFileVersion).where(InventoryFileVersion.file_id == row.id)
    return list(session.scalars(query.order_by(InventoryFileVersion.number.desc())))


@dataclass(frozen=True)
class Search:
    """What to look for: words of the name, a system or medium, a holding department."""

    q: str = ""
    system: str = ""
    holder: str = ""

    @property
    def empty(self) -> bool:
        return not (self.q or self.system or self.holder)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    session: Session, what: Search, *, limit: int = 50, cursor: int | None = None
) -> Page[InventoryFile]:
    """Files matching every given part (name or register reference; system exact or part;
    department part), by id, keyset-paginated."""
    query = select(InventoryFile)
    if what.q:
        pattern = _like(what.q)
        query = query.where(
            or_(
                InventoryFile.name.like(pattern, escape="\\"),
                InventoryFile.register_ref.like(pattern, escape="\\"),
            )
        )
    if what.holder:
        query = query.where(InventoryFile.holder.like(_like(what.holder), escape="\\"))
    if what.system:
        on_system = select(InventoryPlace.file_id).where(
            InventoryPlace.system.like(_like(what.system), escape="\\")
        )
        query = query.where(InventoryFile.id.in_(on_system))
    return id_page(session, query, InventoryFile.id, limit=limit, cursor=cursor, newest_first=False)


def files_by_id(session: Session, ids: Iterable[int]) -> list[InventoryFile]:
    """The files of these ids that exist, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = select(InventoryFile).where(InventoryFile.id.in_(wanted))
    return list(session.scalars(query.order_by(InventoryFile.id)))


# --- overlaps and the deduplicated total --------------------------------------------------


def declare_overlap(
    session: Session, actor: User, first: int, second: int, persons: int, note: str = ""
) -> InventoryOverlap:
    """Declare (or change) how many persons two files share; audited."""
    errors = {}
    if first == second:
        errors["file_id"] = "must be another file"
    files = {row.id: row for row in files_by_id(session, (first, second))}
    if len(files) < len({first, second}):
        errors["file_id"] = "no such file"
    if isinstance(persons, bool) or not isinstance(persons, int) or persons < 0:
        errors["persons"] = "must be a whole number, not negative"
    elif files and persons > min(row.persons for row in files.values()):
        errors["persons"] = "must not exceed the persons of either file"
    if len(note) > 300:
        errors["note"] = "must be at most 300 characters"
    if errors:
        raise InventoryValidationError(errors)
    a, b = sorted((first, second))
    row = session.scalar(
        select(InventoryOverlap).where(
            InventoryOverlap.file_a_id == a, InventoryOverlap.file_b_id == b
        )
    )
    if row is None:
        row = InventoryOverlap(file_a_id=a, file_b_id=b)
        session.add(row)
    row.persons = persons
    row.note = note.strip()
    session.flush()
    audit.record(
        session,
        AuditAction.INVENTORY_OVERLAP,
        actor=_actor(actor),
        object_type="inventory_file",
        object_id=a,
        details={"files": [a, b], "persons": persons},
    )
    return row


def overlaps_of(session: Session, ids: Iterable[int]) -> list[InventoryOverlap]:
    """Overlaps that involve any of these files."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = select(InventoryOverlap).where(
        or_(InventoryOverlap.file_a_id.in_(wanted), InventoryOverlap.file_b_id.in_(wanted))
    )
    return list(session.scalars(query.order_by(InventoryOverlap.id)))


@dataclass(frozen=True)
class Deduplicated:
    """Persons over a set of files or data sets, and the overlaps subtracted."""

    persons: int
    summed: int
    overlap: int
    estimated: bool
    pairs: tuple[tuple[str, str, int], ...] = ()


def deduplicate(
    persons: Mapping[int, int], overlaps: Sequence[InventoryOverlap], names: Mapping[int, str]
) -> tuple[int, tuple[tuple[str, str, int], ...]]:
    """Persons over the files (id -> persons) minus the declared overlaps between them (pairs;
    never below the largest file)."""
    pairs = tuple(
        (names.get(o.file_a_id, ""), names.get(o.file_b_id, ""), o.persons)
        for o in overlaps
        if o.file_a_id in persons and o.file_b_id in persons
    )
    summed = sum(persons.values())
    total = summed - sum(p for _a, _b, p in pairs)
    return max(total, max(persons.values(), default=0)), pairs


def case_links(session: Session, case: Case) -> dict[int, InventoryDatasetLink]:
    """The case's data sets taken from the inventory, by data set id."""
    query = select(InventoryDatasetLink).where(InventoryDatasetLink.case_id == case.id)
    return {link.dataset_id: link for link in session.scalars(query)}


def case_total(session: Session, case: Case) -> Deduplicated:
    """The case's persons: the sum over its data sets minus the overlaps declared between the
    inventory files they were taken from (each file counted once, at its data set's persons)."""
    rows = records.list_datasets(session, case)
    links = case_links(session, case)
    by_file: dict[int, int] = {}
    names: dict[int, str] = {}
    others = 0
    for row in rows:
        link = links.get(row.id)
        if link is None or link.file_id is None:
            others += row.persons
            continue
        by_file[link.file_id] = by_file.get(link.file_id, 0) + row.persons
        names[link.file_id] = row.name
    files_total, pairs = deduplicate(by_file, overlaps_of(session, by_file), names)
    summed = sum(row.persons for row in rows)
    persons = files_total + others
    return Deduplicated(
        persons=persons,
        summed=summed,
        overlap=summed - persons,
        estimated=any(row.persons_estimated for row in rows),
        pairs=pairs,
    )


# --- a case's data sets from the inventory ------------------------------------------------


def prefill(session: Session, file_id: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The data-set payload completed from the file (the given fields win)."""
    if isinstance(file_id, bool) or not isinstance(file_id, int) or not 1 <= file_id <= 2**31 - 1:
        raise InventoryValidationError({"inventory_id": "must be the id of an inventory file"})
    row = session.get(InventoryFile, file_id)
    if row is None:
        raise InventoryValidationError({"inventory_id": "no such inventory file"})
    values = {name: getattr(row, name) for name in DATASET_FIELDS}
    values["items"] = list(row.items)
    values.update({k: v for k, v in payload.items() if v is not None and k != "inventory_id"})
    return values


def add_case_dataset(
    session: Session, case: Case, actor: User, data: DatasetInput, file_id: int | None
) -> AffectedDataset:
    """Add a data set to the case through the records service (triage runs); when it comes
    from an inventory file, link it with the count's date."""
    row = records.add_dataset(session, case, actor, data)
    if file_id is not None:
        source = get_file(session, file_id)
        session.add(
            InventoryDatasetLink(
                dataset_id=row.id,
                case_id=case.id,
                file_id=source.id,
                file_name=source.name,
                counted_on=source.counted_on,
            )
        )
        session.flush()
    return row


def pick_files(
    session: Session,
    case: Case,
    actor: User,
    file_ids: Sequence[int],
    exposure: str,
    vocabulary: Vocabulary,
    tz: tzinfo,
) -> list[AffectedDataset]:
    """Each chosen file becomes an affected data set of the case (pre-filled, editable), read
    by the records reader (the same checks as a data set typed in)."""
    added = []
    for row in files_by_id(session, file_ids):
        payload = prefill(session, row.id, {"exposure": exposure})
        data = read_dataset(payload, vocabulary, tz)
        added.append(add_case_dataset(session, case, actor, data, row.id))
    return added


# --- exposure by system -------------------------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    """Every file on a system or medium: persons and items at stake."""

    system: str
    files: list[InventoryFile] = field(default_factory=list)
    persons: int = 0
    summed: int = 0
    estimated: bool = False
    items: tuple[str, ...] = ()


def exposure_of(session: Session, system: str, *, limit: int = 500) -> Exposure:
    """Every file that lives on ``system`` (exact name), with the persons deduplicated by the
    declared overlaps and the distinct items."""
    system = system.strip()
    if not system:
        return Exposure(system)
    on_system = select(InventoryPlace.file_id).where(InventoryPlace.system == system)
    files = list(
        session.scalars(
            select(InventoryFile)
            .where(InventoryFile.id.in_(on_system))
            .order_by(InventoryFile.id)
            .limit(limit)
        )
    )
    persons = {row.id: row.persons for row in files}
    total, _pairs = deduplicate(
        persons, overlaps_of(session, persons), {r.id: r.name for r in files}
    )
    items: list[str] = []
    for row in files:
        items += [key for key in row.items if key not in items]
    return Exposure(
        system=system,
        files=files,
        persons=total,
        summed=sum(persons.values()),
        estimated=any(row.persons_estimated for row in files),
        items=tuple(items),
    )


def systems(session: Session, *, limit: int = 500) -> list[str]:
    """The names of every system and medium in the inventory."""
    query = select(InventoryPlace.system).group_by(InventoryPlace.system)
    return list(session.scalars(query.order_by(InventoryPlace.system).limit(limit)))


def count(session: Session) -> int:
    """How many files the inventory holds."""
    return int(session.scalar(select(func.count()).select_from(InventoryFile)) or 0)


# --- the register as CSV ------------------------------------------------------------------


def _export_row(row: InventoryFile) -> dict[str, Any]:
    data = snapshot(row)
    data["counted_on"] = row.counted_on
    return data


def export_csv(session: Session, actor: User, vocabulary: Vocabulary) -> str:
    """Every file in the register's CSV layout; audited (an export of the whole register)."""
    rows = session.scalars(select(InventoryFile).order_by(InventoryFile.id))
    text = register_csv.write((_export_row(row) for row in rows), vocabulary)
    audit.record(
        session,
        AuditAction.INVENTORY_EXPORT,
        actor=_actor(actor),
        object_type="inventory",
        details={"files": count(session)},
    )
    return text


@dataclass(frozen=True)
class Imported:
    created: int
    updated: int


def import_csv(
    session: Session, actor: User, data: bytes, vocabulary: Vocabulary, tz: tzinfo
) -> Imported:
    """Read a register CSV: every row checked first (errors name the row), then each row
    updates the file with the same register number or adds one; all or nothing; audited."""
    try:
        payloads = register_csv.read(data, vocabulary)
    except register_csv.RegisterCsvError as error:
        raise InventoryValidationError(error.errors) from None
    errors: dict[str, str] = {}
    inputs: list[FileInput] = []
    for number, payload in enumerate(payloads, start=2):  # row 1 is the header
        try:
            inputs.append(read_file(payload, vocabulary, tz))
        except InventoryValidationError as error:
            errors.update({f"row {number}.{k}": v for k, v in error.errors.items()})
    refs = [one.register_ref for one in inputs if one.register_ref]
    if len(refs) != len(set(refs)):
        errors["file"] = "a register number appears twice"
    if errors:
        raise InventoryValidationError(errors)
    existing = (
        {
            row.register_ref: row
            for row in session.scalars(
                select(InventoryFile).where(InventoryFile.register_ref.in_(refs))
            )
        }
        if refs
        else {}
    )
    created = updated = 0
    for one in inputs:
        row = existing.get(one.register_ref) if one.register_ref else None
        if row is None:
            create_file(session, actor, one)
            created += 1
        else:
            update_file(session, actor, row, one, "CSV import")
            updated += 1
    audit.record(
        session,
        AuditAction.INVENTORY_IMPORT,
        actor=_actor(actor),
        object_type="inventory",
        details={"created": created, "updated": updated},
    )
    return Imported(created, updated)


# --- the panel on a case's data-set tab ---------------------------------------------------


@dataclass(frozen=True)
class CasePanel:
    """ "Which files?" on a case: the search and its results, the exposure of a named system,
    the case's data sets taken from the inventory and its deduplicated total."""

    search: Search
    results: list[InventoryFile]
    exposure: Exposure | None
    links: dict[int, InventoryDatasetLink]
    total: Deduplicated
    systems: list[str]
    named: list[Exposure] = field(default_factory=list)  # systems the case's texts name


def case_panel(session: Session, case: Case, what: Search, *, may_search: bool) -> CasePanel:
    """Everything the data-set tab shows of the inventory (search only for those who may)."""
    results: list[InventoryFile] = []
    found: Exposure | None = None
    if may_search and not what.empty:
        results, _next = search(session, what, limit=100)
        if what.system:
            found = exposure_of(session, what.system)
    known = systems(session) if may_search else []
    return CasePanel(
        search=what,
        results=results,
        exposure=found if found is not None and found.files else None,
        links=case_links(session, case),
        total=case_total(session, case),
        systems=known,
        named=[exposure_of(session, name) for name in named_systems(case, known)],
    )


def named_systems(case: Case, known: Sequence[str], *, most: int = 5) -> list[str]:
    """The inventory's systems and media that the case's title or summary names."""
    text = f"{case.title}\n{case.summary or ''}"
    return [name for name in known if len(name) >= 2 and name in text][:most]


def dataset_source(session: Session, dataset_id: int) -> InventoryDatasetLink | None:
    """The inventory file a data set was taken from (with the count's date), if any."""
    return session.get(InventoryDatasetLink, dataset_id)
