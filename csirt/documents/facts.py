"""CaseFacts: the read-only snapshot of what may be made public about a case.

Builders see nothing else: no session, no sealed data, no reporter. Datetimes are timezone-aware
(UTC in the database); documents show them in `CaseFacts.timezone`. A day-precision event is
shown as the calendar day of its instant in that zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

LANGS = ("ja", "en")


class Precision(StrEnum):
    """How precisely the time of a public event is known."""

    DAY = "day"
    MINUTE = "minute"


class MeasureStatus(StrEnum):
    """Progress of a recurrence-prevention measure."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class PpcStage(StrEnum):
    """The regulator report is sent twice: promptly (速報) and within 30/60 days (確報)."""

    PRELIMINARY = "preliminary"
    FINAL = "final"


@dataclass(frozen=True)
class ContactPoint:
    """The organisation's public contact point (allowed in every public text)."""

    department: str
    phone: str
    email: str


@dataclass(frozen=True)
class Organisation:
    """The organisation that publishes the documents."""

    name: str
    department: str
    contact: ContactPoint
    public_body: bool = True


@dataclass(frozen=True)
class StaffMisconduct:
    """What a press release says about a staff member who caused the incident."""

    department: str
    post: str
    age: int | None = None


@dataclass(frozen=True)
class PublicEvent:
    """One event of the public timeline."""

    occurred_at: datetime
    precision: Precision
    title: str
    description: str = ""


class DataItem(NamedTuple):
    """One personal-data item of a data set, labelled in both languages."""

    key: str
    label_ja: str
    label_en: str


@dataclass(frozen=True)
class DataSet:
    """A leaked (or possibly leaked) data set with its items and number of persons."""

    name: str
    holder_department: str
    items: tuple[DataItem, ...]
    persons: int
    persons_estimated: bool = False
    exposure: str = ""


@dataclass(frozen=True)
class Responses:
    """What has been done towards the persons, the copies online and the police."""

    notice_to_individuals: str = ""
    takedown: str = ""
    police: str = ""


@dataclass(frozen=True)
class Measure:
    """A recurrence-prevention measure and the evidence of its effect."""

    title: str
    owner: str
    due: date | None
    status: MeasureStatus
    evidence: str = ""


@dataclass(frozen=True)
class Recommendation:
    """A numbered recommendation of the committee and who owns it."""

    number: int
    text: str
    owner: str
    title: str = ""


@dataclass(frozen=True)
class CommitteeMember:
    """A member of the investigation committee."""

    name: str
    affiliation: str
    role: str = ""


@dataclass(frozen=True)
class Committee:
    """The (third-party) investigation committee."""

    name: str
    mandate: str
    members: tuple[CommitteeMember, ...]
    independence: str
    scope: str
    method: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class Obligation:
    """A legal or internal obligation from triage, with its due and done times."""

    kind: str
    due: datetime
    done_at: datetime | None = None
    label: str = ""


@dataclass(frozen=True)
class TriageSummary:
    """The public part of the triage: priority and obligations."""

    priority: str
    obligations: tuple[Obligation, ...] = ()


@dataclass(frozen=True)
class CaseFacts:
    """Everything about a case that may appear in a public document, and nothing else."""

    organisation: Organisation
    case_reference: str
    title: str
    summary: str
    aware_at: datetime
    first_report_at: datetime | None
    document_date: date
    lang: str = "ja"
    timezone: str = "Asia/Tokyo"
    first_contact_with_reporter_at: datetime | None = None
    staff: StaffMisconduct | None = None
    events: tuple[PublicEvent, ...] = ()
    data_sets: tuple[DataSet, ...] = ()
    causes: tuple[str, ...] = ()
    responses: Responses = field(default_factory=Responses)
    secondary_damage: str = ""
    measures: tuple[Measure, ...] = ()
    findings: tuple[str, ...] = ()
    recommendations: tuple[Recommendation, ...] = ()
    committee: Committee | None = None
    triage: TriageSummary | None = None
    ppc_stage: PpcStage = PpcStage.PRELIMINARY
    publication: str = ""
    other_notes: str = ""

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, not {self.lang!r}")
        ZoneInfo(self.timezone)  # fail early on an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        """The zone in which the documents show dates and times."""
        return ZoneInfo(self.timezone)

    @property
    def total_persons(self) -> int:
        """Sum of persons over all data sets."""
        return sum(ds.persons for ds in self.data_sets)

    @property
    def total_estimated(self) -> bool:
        """True when any data set's number of persons is an estimate."""
        return any(ds.persons_estimated for ds in self.data_sets)

    @property
    def days_to_first_contact(self) -> int | None:
        """Calendar days (in the document's zone) from the first report to the first contact."""
        if self.first_report_at is None or self.first_contact_with_reporter_at is None:
            return None
        first = self.first_report_at.astimezone(self.zone).date()
        contact = self.first_contact_with_reporter_at.astimezone(self.zone).date()
        return (contact - first).days

    @property
    def timeline(self) -> tuple[PublicEvent, ...]:
        """The public events in time order."""
        return tuple(sorted(self.events, key=lambda e: e.occurred_at))
