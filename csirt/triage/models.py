"""Stored triage: each run of the engine on a case, its priority state and tracked obligations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csirt.auth.models import User
from csirt.cases.models import Case
from csirt.db import Base, utcnow


class ObligationStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    NOT_APPLICABLE = "not_applicable"


# An obligation in one of these states no longer holds a case open.
OBLIGATION_MET = (ObligationStatus.DONE.value, ObligationStatus.NOT_APPLICABLE.value)


class TriageRun(Base):
    """One evaluation of a case's facts: what triggered it, what changed, the full result."""

    __tablename__ = "triage_runs"
    __table_args__ = (Index("ix_triage_runs_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    reason: Mapped[str] = mapped_column(String(200), default="")
    # [{"field": "priority", "from": "P3", "to": "P1"}, ...] against the previous run.
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    score: Mapped[int] = mapped_column()
    priority: Mapped[str] = mapped_column(String(2))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"ja": result.to_json("ja"), "en": result.to_json("en")}: the panel shows either language.
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseTriage(Base):
    """A case's triage state: the computed priority and a lead's override, if any."""

    __tablename__ = "case_triage"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    computed_priority: Mapped[str | None] = mapped_column(String(2))
    computed_score: Mapped[int | None] = mapped_column()
    override_priority: Mapped[str | None] = mapped_column(String(2))
    override_reason: Mapped[str] = mapped_column(Text, default="")
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    override_at: Mapped[datetime | None] = mapped_column()
    # A contractor's notice of the incident (個人情報保護法26条1項ただし書, 規則9条): who notified
    # whom, and when; the case counts awareness from it at the latest.
    contractor_name: Mapped[str] = mapped_column(String(200), default="")
    contractor_notified: Mapped[str] = mapped_column(String(200), default="")
    contractor_notice_at: Mapped[datetime | None] = mapped_column()

    case: Mapped[Case] = relationship()
    override_by: Mapped[User | None] = relationship()


class Obligation(Base):
    """A legal duty of a case, tracked until done (or no longer applicable)."""

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("case_id", "kind"),
        Index("ix_obligations_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    regime: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    article: Mapped[str] = mapped_column(String(200), default="")
    basis_ja: Mapped[str] = mapped_column(Text, default="")
    basis_en: Mapped[str] = mapped_column(Text, default="")
    reason_ja: Mapped[str] = mapped_column(Text, default="")
    reason_en: Mapped[str] = mapped_column(Text, default="")
    checked: Mapped[date | None] = mapped_column(Date)
    # The legal deadline (or, per ``deadline``, the guidance's date, an internal target where the
    # law sets none, or the end of a protection window).
    due_at: Mapped[datetime] = mapped_column()
    # The organisation's earlier internal target, if any.
    target_at: Mapped[datetime | None] = mapped_column()
    deadline: Mapped[str] = mapped_column(String(16), default="legal")
    source: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ObligationStatus.PENDING.value)
    done_at: Mapped[datetime | None] = mapped_column()
    evidence: Mapped[str] = mapped_column(Text, default="")
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    done_by: Mapped[User | None] = relationship()

    def basis(self, lang: str) -> str:
        """``article: requirement`` in ``lang``."""
        return f"{self.article}: {self.basis_ja if lang == 'ja' else self.basis_en}"

    def reason(self, lang: str) -> str:
        """Why the obligation applies, in ``lang``."""
        return self.reason_ja if lang == "ja" else self.reason_en


class DeadlineFeedToken(Base):
    """The secret in a user's iCalendar feed URL, stored only as its SHA-256."""

    __tablename__ = "deadline_feed_tokens"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
