"""An alert raised by a machine (SIEM, EDR, shared mailbox), de-duplicated by its source."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from csirt.db import Base, IntPk, Timestamp, UserRef


class AlertStatus(enum.StrEnum):
    NEW = "new"
    MERGED = "merged"  # into an existing case, or into the case it opened
    IGNORED = "ignored"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Alert(Base):
    """One alert per ``(source, source_ref)``: a repeat counts it and moves ``last_seen``."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        # The queue: newest first within a status (keyset on id).
        Index("ix_alerts_status_id", "status", "id"),
    )

    id: Mapped[IntPk]
    source: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16), default=Severity.MEDIUM.value)
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.NEW.value)
    occurred_at: Mapped[datetime | None] = mapped_column()
    first_seen: Mapped[Timestamp]
    last_seen: Mapped[Timestamp]
    count: Mapped[int] = mapped_column(default=1)
    # Normalised observables ({"type", "value", ...}), handed to the case when merged.
    observables: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    raised_by_id: Mapped[UserRef | None]
    decided_by_id: Mapped[UserRef | None]
    decided_at: Mapped[datetime | None] = mapped_column()
    ignore_reason: Mapped[str] = mapped_column(String(500), default="")
