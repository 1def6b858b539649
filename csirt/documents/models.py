"""Documents drafted from a case, their versions and review comments; the per-case public
context (causes, findings, responses, committee) and recurrence-prevention measures."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csirt.auth.models import User
from csirt.cases.models import Case
from csirt.db import Base, utcnow


class DocumentStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class Document(Base):
    """A document of one kind for one case; its text lives in numbered versions."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_case_kind", "case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(2), default="ja")
    # The number of the newest version; the approved one may be older (then the document is a
    # draft again until someone approves the newest).
    current_version: Mapped[int] = mapped_column(default=1)
    approved_version: Mapped[int | None] = mapped_column()
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The date the document speaks as of (its author's choice; None: the day it is built).
    as_of: Mapped[date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship()
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentVersion.number"
    )
    comments: Mapped[list[DocumentComment]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentComment.id"
    )

    @property
    def status(self) -> DocumentStatus:
        """Approved only while the newest version is the approved one."""
        if self.approved_version is not None and self.approved_version == self.current_version:
            return DocumentStatus.APPROVED
        return DocumentStatus.DRAFT


class DocumentVersion(Base):
    """One saved state of a document's editable sections (every save is a version)."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    sections: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when this version is approved: what its final export is built from, ever after.
    # The serialised CaseFacts (tables, timeline, data sets, document date; see
    # csirt.documents.frozen), the organisation template then in use, and the SHA-256 of the
    # facts and of the approved .docx. A draft has none of them and is built from today's facts.
    frozen_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    frozen_facts_sha256: Mapped[str | None] = mapped_column(String(64))
    frozen_template: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    frozen_docx_sha256: Mapped[str | None] = mapped_column(String(64))

    document: Mapped[Document] = relationship(back_populates="versions")
    author: Mapped[User | None] = relationship()


class DocumentComment(Base):
    """A review comment on a version, optionally about one section."""

    __tablename__ = "document_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column()
    section: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class DocumentContext(Base):
    """What a case's documents say beyond the records: public title and summary, causes,
    findings, responses, staff post, committee and recommendations (all meant to be public)."""

    __tablename__ = "document_contexts"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    public_title: Mapped[str] = mapped_column(String(200), default="")
    public_summary: Mapped[str] = mapped_column(Text, default="")
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    findings: Mapped[list[str]] = mapped_column(JSON, default=list)
    notice_to_individuals: Mapped[str] = mapped_column(Text, default="")
    takedown: Mapped[str] = mapped_column(Text, default="")
    police: Mapped[str] = mapped_column(Text, default="")
    secondary_damage: Mapped[str] = mapped_column(Text, default="")
    publication: Mapped[str] = mapped_column(Text, default="")
    other_notes: Mapped[str] = mapped_column(Text, default="")
    staff_department: Mapped[str] = mapped_column(String(200), default="")
    staff_post: Mapped[str] = mapped_column(String(200), default="")
    staff_age: Mapped[int | None] = mapped_column()
    ppc_stage: Mapped[str] = mapped_column(String(16), default="preliminary")
    first_report_at: Mapped[datetime | None] = mapped_column()
    first_contact_at: Mapped[datetime | None] = mapped_column()
    # {"name", "mandate", "independence", "scope", "method", "period_start", "period_end",
    #  "members": [{"name", "affiliation", "role"}]} or null.
    committee: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # [{"number", "title", "text", "owner"}]
    recommendations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Migration 0013. {"<data set id>": {"count": "exact" | "approx" | "max",
    #  "overlaps": <data set id> | null}}: how each count is stated and which data set it is
    # contained in (its persons are not added to the total).
    datasets: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # {"department", "phone", "email"}: overrides of the organisation's contact for this case.
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    caution: Mapped[str] = mapped_column(Text, default="", server_default="")
    discipline: Mapped[str] = mapped_column(Text, default="", server_default="")
    future_actions: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The PPC form's items: when it happened (a date or a period, as known), how it was found,
    # the medium, and the direct cause (``causes`` holds the background and control failures).
    occurrence: Mapped[str] = mapped_column(Text, default="", server_default="")
    discovery: Mapped[str] = mapped_column(Text, default="", server_default="")
    medium: Mapped[str] = mapped_column(Text, default="", server_default="")
    direct_cause: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The PPC report's reporting body (e.g. 堺市長) and the holder of the data when another
    # body holds it (e.g. 堺市選挙管理委員会 for voter rolls); the named contact person.
    reporter: Mapped[str] = mapped_column(String(200), default="", server_default="")
    data_holder: Mapped[str] = mapped_column(String(200), default="", server_default="")
    contact_person: Mapped[str] = mapped_column(String(200), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MeasureStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class PreventionMeasure(Base):
    """A recurrence-prevention measure of a case, or of the whole organisation (no case)."""

    __tablename__ = "prevention_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(200), default="")
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=MeasureStatus.PLANNED.value)
    evidence: Mapped[str] = mapped_column(Text, default="")
    # Set when the measure was adopted from a committee recommendation of this case.
    recommendation_number: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PublicDecision(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class MeasurePublicUpdate(Base):
    """A lead's proposal of what the public follow-up page says about a measure; it appears
    only once a second lead approves it (the latest approved one of a measure is shown)."""

    __tablename__ = "measure_public_updates"
    __table_args__ = (Index("ix_measure_public_updates_measure", "measure_id", "decision", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("prevention_measures.id", ondelete="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(200), default="")
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")  # public evidence of completion
    done_on: Mapped[date | None] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(16), default=PublicDecision.PENDING.value)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()

    measure: Mapped[PreventionMeasure] = relationship()


class MeasurePublication(Base):
    """A case whose measures the organisation publishes, under a public title."""

    __tablename__ = "measure_publications"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    title: Mapped[str] = mapped_column(String(200))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
