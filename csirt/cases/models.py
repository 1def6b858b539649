"""Cases and who works on them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csirt.auth.models import User
from csirt.cases.roles import CaseRole
from csirt.db import Base, IntPk, Timestamp, UserRef, utcnow
from csirt.triage.exposure import Exposure

CaseId = Annotated[int, mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)]
"""The case a row belongs to (deleted with it)."""


class Phase(enum.StrEnum):
    DETECT = "detect"
    ANALYSE = "analyse"
    CONTAIN = "contain"
    ERADICATE = "eradicate"
    RECOVER = "recover"
    POST_INCIDENT = "post_incident"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Tlp(enum.StrEnum):
    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_phase_id", "phase", "id"),
        Index("ix_cases_priority_id", "priority", "id"),
        # The dashboard counts open cases per priority from this index alone.
        Index("ix_cases_phase_priority", "phase", "priority"),
        # Its charts rank the hours to acknowledge and to close of the last months' cases.
        Index("ix_cases_acknowledged_at", "acknowledged_at", "created_at"),
        Index("ix_cases_closed_at", "closed_at", "created_at"),
    )

    id: Mapped[IntPk]
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(16), default=Phase.DETECT.value)
    outcome: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(2), default=Priority.P3.value)
    tlp: Mapped[str] = mapped_column(String(16), default=Tlp.AMBER.value)
    aware_at: Mapped[datetime | None] = mapped_column()
    insider: Mapped[bool] = mapped_column(default=False)
    wrongful_intent: Mapped[bool] = mapped_column(default=False)
    ongoing: Mapped[bool] = mapped_column(default=False)
    # Department names and usernames named as involved: conflicts of interest come from these.
    involved: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[UserRef | None]
    created_at: Mapped[Timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    # The number of persons affected as the organisation states it (data sets may overlap),
    # with its note (e.g. 重複を除く); documents use it when set (migration 0013).
    persons_total: Mapped[int | None] = mapped_column()
    persons_total_note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # How many timeline events the case has: kept by the database's triggers on timeline_events
    # (migration 0022), never written by the app; deferred, so a loaded case never shows a stale
    # number (read it with timeline.events_state).
    event_count: Mapped[int] = mapped_column(
        server_default="0", deferred=True, deferred_group="events"
    )
    # Grows whenever any of the case's events is added, changed or removed (the same triggers):
    # the timeline page keeps its rendered rows under it (timeline_pages). The case loader of the
    # web pages (need_to_know.get_case_for) reads both with the case.
    events_version: Mapped[int] = mapped_column(
        server_default="0", deferred=True, deferred_group="events"
    )

    created_by: Mapped[User | None] = relationship()
    members: Mapped[list[CaseMember]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )


class CaseMember(Base):
    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "user_id", "role"),)

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32), default=CaseRole.INVESTIGATOR.value)
    added_at: Mapped[Timestamp]

    case: Mapped[Case] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class CaseCounter(Base):
    """The last case number of each year, so references are dense and never reused."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Visibility(enum.StrEnum):
    INTERNAL = "internal"
    PUBLIC = "public"


class Precision(enum.StrEnum):
    MONTH = "month"  # the source names only the month (2015年4月)
    DAY = "day"
    APPROX = "approx"  # an approximate time (午後8時頃)
    MINUTE = "minute"


class CasePlaybook(Base):
    """A playbook applied to a case (a case can take a second one later)."""

    __tablename__ = "case_playbooks"
    __table_args__ = (UniqueConstraint("case_id", "playbook_id"),)

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    playbook_id: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[Timestamp]
    applied_by_id: Mapped[UserRef | None]


class CaseTag(Base):
    __tablename__ = "case_tags"
    __table_args__ = (
        UniqueConstraint("case_id", "tag"),
        Index("ix_case_tags_tag_case", "tag", "case_id"),
    )

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    tag: Mapped[str] = mapped_column(String(64))


class CaseLink(Base):
    """A related case (stored once per direction, so each side lists the other)."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "other_case_id"),)

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    other_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(200), default="")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_case_status_due", "case_id", "status", "due_at"),
        Index("ix_tasks_status_due", "status", "due_at"),
    )

    id: Mapped[IntPk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    key: Mapped[str | None] = mapped_column(String(64))  # the playbook task key, if any
    playbook_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(16), default=Phase.DETECT.value)
    role: Mapped[str | None] = mapped_column(String(32))
    required: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN.value)
    due_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[Timestamp]
    completed_at: Mapped[datetime | None] = mapped_column()

    assignees: Mapped[list[TaskAssignee]] = relationship(
        back_populates="task", cascade="all, delete-orphan", lazy="selectin"
    )
    comments: Mapped[list[TaskComment]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskComment.id"
    )


class TaskAssignee(Base):
    __tablename__ = "task_assignees"
    __table_args__ = (UniqueConstraint("task_id", "user_id"),)

    id: Mapped[IntPk]
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    task: Mapped[Task] = relationship(back_populates="assignees")
    user: Mapped[User] = relationship()


class TaskComment(Base):
    __tablename__ = "task_comments"

    id: Mapped[IntPk]
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[UserRef | None]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp]

    task: Mapped[Task] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_case_occurred", "case_id", "occurred_at", "id"),)

    id: Mapped[IntPk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column()
    precision: Mapped[str] = mapped_column(String(8), default=Precision.MINUTE.value)
    recorded_at: Mapped[Timestamp]
    source: Mapped[str] = mapped_column(String(100), default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="event")
    visibility: Mapped[str] = mapped_column(String(8), default=Visibility.INTERNAL.value)
    automatic: Mapped[bool] = mapped_column(default=False)  # phase/priority changes etc.
    created_by_id: Mapped[UserRef | None]
    evidence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class AffectedDataset(Base):
    """A personal-data set involved in the case: which items, how many people, how exposed."""

    __tablename__ = "affected_datasets"

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="")  # holding department
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # vocabulary keys
    persons: Mapped[int] = mapped_column(default=0)
    persons_estimated: Mapped[bool] = mapped_column(default=False)
    exposure: Mapped[str] = mapped_column(String(20), default=Exposure.INTERNAL.value)
    exposed_from: Mapped[datetime | None] = mapped_column()
    exposed_until: Mapped[datetime | None] = mapped_column()
    encrypted: Mapped[bool] = mapped_column(default=False)
    secondary_damage: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[Timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Evidence(Base):
    """A file or a capture of web content, with its hash and chain of custody."""

    __tablename__ = "evidence"

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    kind: Mapped[str] = mapped_column(String(16), default="file")  # file | web_capture
    title: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), default="")  # under instance/evidence
    url: Mapped[str | None] = mapped_column(String(2000))
    captured_at: Mapped[datetime | None] = mapped_column()
    description: Mapped[str] = mapped_column(Text, default="")
    added_by_id: Mapped[UserRef | None]
    added_at: Mapped[Timestamp]

    custody: Mapped[list[CustodyEntry]] = relationship(
        back_populates="evidence", cascade="all, delete-orphan", order_by="CustodyEntry.id"
    )


class CustodyEntry(Base):
    __tablename__ = "custody_entries"

    id: Mapped[IntPk]
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[Timestamp]
    actor_id: Mapped[UserRef | None]
    action: Mapped[str] = mapped_column(String(32))  # collected, transferred, viewed, exported
    note: Mapped[str] = mapped_column(Text, default="")

    evidence: Mapped[Evidence] = relationship(back_populates="custody")


class TakedownRequest(Base):
    """A takedown or search-cache removal request: to whom, when, status, answer."""

    __tablename__ = "takedown_requests"

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    kind: Mapped[str] = mapped_column(String(16), default="takedown")  # or cache_removal
    recipient: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000), default="")
    requested_at: Mapped[Timestamp]
    status: Mapped[str] = mapped_column(String(16), default="requested")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column()
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    author_id: Mapped[UserRef | None]
    body: Mapped[str] = mapped_column(Text)  # Markdown, rendered safely
    created_at: Mapped[Timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[User | None] = relationship()


class LiaisonEntry(Base):
    """Contact with police, regulator, JPCERT/CC, vendors, lawyers: who, when, what was said."""

    __tablename__ = "liaison_entries"

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    party_kind: Mapped[str] = mapped_column(String(16))  # police, regulator, jpcert, vendor...
    party: Mapped[str] = mapped_column(String(200))
    contact_at: Mapped[datetime] = mapped_column()
    direction: Mapped[str] = mapped_column(String(8), default="out")  # in | out
    summary: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[UserRef | None]
    recorded_at: Mapped[Timestamp]


class Inquiry(Base):
    """A public inquiry after the incident (phone, email, letter, visit)."""

    __tablename__ = "inquiries"
    __table_args__ = (Index("ix_inquiries_case_received", "case_id", "received_on"),)

    id: Mapped[IntPk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))  # phone, email, letter, visit
    received_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(200), default="")
    answered: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None] = mapped_column()
    recorded_by_id: Mapped[UserRef | None]


class CaseSearchTerm(Base):
    """One character bigram of a case's title, summary or notes: the full-text search index.

    Bigrams work for Japanese (no word spaces) and for substrings of Latin text alike, and a
    plain B-tree over ``(term, case_id)`` serves them on SQLite and PostgreSQL the same way.
    The case service keeps these rows in step with the texts.
    """

    __tablename__ = "case_search_terms"

    term: Mapped[str] = mapped_column(String(8), primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CaseSearchDoc(Base):
    """One searchable text of a case (its title, a timeline event, a data set, a tag...),
    normalised.

    ``case_search_terms`` finds the candidate cases by bigrams; these rows confirm the match
    as a substring of one text and name where it was found (``kind``, ``source_id``).
    """

    __tablename__ = "case_search_docs"
    __table_args__ = (UniqueConstraint("case_id", "kind", "source_id"),)

    id: Mapped[IntPk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text, default="")


class ChecklistTick(Base):
    """A manual closing-checklist item confirmed by a person (``playbook_id:item_key``)."""

    __tablename__ = "checklist_ticks"
    __table_args__ = (UniqueConstraint("case_id", "item"),)

    id: Mapped[IntPk]
    case_id: Mapped[CaseId]
    item: Mapped[str] = mapped_column(String(140))
    ticked_by_id: Mapped[UserRef | None]
    ticked_at: Mapped[Timestamp]


class RecordVersion(Base):
    """An earlier version of a case record (timeline event, data set), kept on every change.

    One table for every record kind: ``kind`` names the record's table, ``data`` holds the
    record's columns as they were before the change. A deletion moves the record here (change
    ``delete``), so nothing that reads the live tables needs to know about deleted rows; a lead's
    restore puts it back with the same id (change ``restore``).
    """

    __tablename__ = "record_versions"
    __table_args__ = (
        Index("ix_record_versions_record", "kind", "record_id", "id"),
        Index("ix_record_versions_case", "case_id", "kind", "change"),
    )

    id: Mapped[IntPk]
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column()
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    change: Mapped[str] = mapped_column(String(8))  # edit, delete, restore
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[UserRef | None]
    changed_at: Mapped[Timestamp]

    changed_by: Mapped[User | None] = relationship()
