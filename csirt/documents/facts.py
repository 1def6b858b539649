"""CaseFacts: the read-only snapshot of what may be made public about a case.

Builders see nothing else: no session, no sealed data, no reporter. Datetimes are timezone-aware
(UTC in the database); documents show them in `CaseFacts.timezone`. A day-precision event is
shown as the calendar day of its instant in that zone.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

LANGS = ("ja", "en")


class Precision(StrEnum):
    """How precisely the time of a public event is known."""

    MONTH = "month"  # 2015年4月: the source names only the month
    DAY = "day"
    APPROX = "approx"  # 午後8時頃: a clock time the source gives as approximate
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
    # The head of the body who signs letters and reports (e.g. 堺市長 竹山 修身).
    head: str = ""
    # Dates in Japanese documents: "wareki" (令和6年(2024年)12月14日（土）) or "seireki".
    date_style: str = "wareki"
    # The caution to residents a press release carries by default (不審な問い合わせ等にご注意).
    caution: str = ""


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
    # "最大393人": the count is an upper bound (the source says 最大…名分).
    persons_max: bool = False
    # The name of the data set whose persons include these (not added to the total).
    overlaps: str = ""
    # Labels of the items that are 要配慮個人情報 (sensitive).
    sensitive_items: tuple[str, ...] = ()


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
    # What the committee found that the recommendation answers (指摘事項).
    finding: str = ""


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
    meetings: tuple[CommitteeMeeting, ...] = ()


@dataclass(frozen=True)
class Obligation:
    """A legal or internal obligation from triage, with its due and done times."""

    kind: str
    due: datetime
    done_at: datetime | None = None
    label: str = ""
    regime: str = ""
    # False when the rule was not in force when the organisation became aware: a row for
    # reference (参考) only, never judged late.
    in_force: bool = True


@dataclass(frozen=True)
class TriageSummary:
    """The public part of the triage: priority and obligations."""

    priority: str
    obligations: tuple[Obligation, ...] = ()
    # 報告対象事態: whether triage found the leak reportable, and its reasons (texts in the
    # document's language), and the kind of organisation (local_government or business).
    reportable: bool = False
    reasons: tuple[str, ...] = ()
    org_kind: str = ""


@dataclass(frozen=True)
class CommitteeMeeting:
    """One meeting of the committee (開催経過)."""

    day: date
    summary: str


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
    # The number of persons as the organisation states it (overlaps removed), and its note.
    persons_total: int | None = None
    persons_total_note: str = ""
    caution: str = ""
    discipline: str = ""
    future_actions: str = ""
    reporter: str = ""
    data_holder: str = ""
    contact_person: str = ""
    occurrence: str = ""
    discovery: str = ""
    medium: str = ""
    direct_cause: str = ""

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
        """The stated number of persons: `persons_total` when set, else the sum over the data
        sets that overlap no other (a data set within another adds nobody)."""
        if self.persons_total is not None:
            return self.persons_total
        return sum(ds.persons for ds in self.data_sets if not ds.overlaps)

    @property
    def total_estimated(self) -> bool:
        """True when any counted data set's number of persons is an estimate."""
        return any(ds.persons_estimated for ds in self.data_sets if not ds.overlaps)

    @property
    def total_max(self) -> bool:
        """True when the total is an upper bound (every counted data set is one, or a bound
        data set is the only one counted)."""
        counted = [ds for ds in self.data_sets if not ds.overlaps]
        return (
            bool(counted) and self.persons_total is None and any(ds.persons_max for ds in counted)
        )

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


# --- as of a date ---------------------------------------------------------------------------

_DATED_LINE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})-(\d{1,2})|年(\d{1,2})月(\d{1,2})日)")


def line_date(line: str) -> date | None:
    """The date a text line starts with (2016-03-02 or 2016年3月2日), if any."""
    match = _DATED_LINE.match(line)
    if match is None:
        return None
    year, month_iso, day_iso, month_ja, day_ja = match.groups()
    try:
        return date(int(year), int(month_iso or month_ja), int(day_iso or day_ja))
    except ValueError:
        return None


def _text_as_of(text: str, day: date) -> str:
    lines = [ln for ln in text.splitlines() if (line_date(ln) or day) <= day]
    return "\n".join(lines)


def as_of(facts: CaseFacts, day: date) -> CaseFacts:
    """The facts as a document dated `day` may state them: nothing that happened after it.

    Events after the day are left out; a measure due after it is not yet done (shown as
    planned); an obligation done after it is not yet done; a committee that had not started
    is left out, and its recommendations until its period ended; texts lose the lines that
    start with a later date (2016年3月2日、告訴状を提出した。).
    """
    zone = facts.zone

    def local(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    events = tuple(e for e in facts.events if local(e.occurred_at) <= day)
    measures = tuple(
        dataclasses.replace(m, status=MeasureStatus.PLANNED, evidence="")
        if m.due is not None and m.due > day and m.status is MeasureStatus.DONE
        else m
        for m in facts.measures
    )
    triage = facts.triage
    if triage is not None:
        obligations = tuple(
            dataclasses.replace(o, done_at=None)
            if o.done_at is not None and local(o.done_at) > day
            else o
            for o in triage.obligations
        )
        triage = dataclasses.replace(triage, obligations=obligations)
    committee = facts.committee
    recommendations = facts.recommendations
    if committee is not None and committee.period_start > day:
        committee, recommendations = None, ()
    elif committee is not None:
        meetings = tuple(m for m in committee.meetings if m.day <= day)
        committee = dataclasses.replace(committee, meetings=meetings)
        if committee.period_end > day:
            recommendations = ()
    responses = Responses(
        notice_to_individuals=_text_as_of(facts.responses.notice_to_individuals, day),
        takedown=_text_as_of(facts.responses.takedown, day),
        police=_text_as_of(facts.responses.police, day),
    )
    return dataclasses.replace(
        facts,
        document_date=day,
        events=events,
        measures=measures,
        triage=triage,
        committee=committee,
        recommendations=recommendations,
        responses=responses,
        causes=tuple(c for c in facts.causes if (line_date(c) or day) <= day),
        findings=tuple(c for c in facts.findings if (line_date(c) or day) <= day),
        secondary_damage=_text_as_of(facts.secondary_damage, day),
        publication=_text_as_of(facts.publication, day),
        other_notes=_text_as_of(facts.other_notes, day),
        future_actions=_text_as_of(facts.future_actions, day),
        discipline=_text_as_of(facts.discipline, day),
    )


_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def japanese_fields(facts: CaseFacts) -> list[str]:
    """The public facts written in Japanese (kana or kanji): an English document cannot be
    built from them. Proper names (the organisation, holding departments) may stay."""
    texts = {
        "public_title": [facts.title],
        "public_summary": [facts.summary],
        "events": [f"{e.title} {e.description}" for e in facts.events],
        "data_sets": [ds.name for ds in facts.data_sets],
        "causes": [*facts.causes, facts.direct_cause],
        "findings": list(facts.findings),
        "measures": [m.title for m in facts.measures],
        "recommendations": [f"{r.title} {r.text}" for r in facts.recommendations],
    }
    return [name for name, values in texts.items() if any(_JAPANESE.search(v) for v in values)]
