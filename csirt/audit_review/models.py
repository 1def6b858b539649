"""Signals of possible misuse, raised from the audit log and closed by an auditor with a note."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from csirt.db import Base, IntPk, Timestamp, UserRef


class SignalKind(enum.StrEnum):
    PEER_VOLUME = "peer_volume"  # far more views than the peers in the same period
    BASELINE_VOLUME = "baseline_volume"  # far more views than the user's own usual
    OFF_HOURS = "off_hours"  # views or exports outside working hours
    BULK_EXPORT = "bulk_export"  # many exports in a short window


class SignalStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ReviewSignal(Base):
    __tablename__ = "review_signals"

    id: Mapped[IntPk]
    # kind + user + period: the same finding is raised once however often the scan runs.
    fingerprint: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    subject_name: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column()
    period_end: Mapped[datetime] = mapped_column()
    # The numbers the explanation is rendered from (in the reader's language).
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=SignalStatus.OPEN.value, index=True)
    raised_at: Mapped[Timestamp]
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by_id: Mapped[UserRef | None]
    close_note: Mapped[str] = mapped_column(Text, default="")
