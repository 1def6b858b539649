"""Webhooks an admin configured, and each delivery with its attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csirt.db import Base, IntPk, Timestamp, UserRef


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENT = "sent"  # the receiver answered 2xx
    FAILED = "failed"  # gave up after the last attempt


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    # The signing secret, sealed with a key derived from CSIRT_SECRET_KEY (a dump alone cannot
    # forge deliveries).
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_tlp: Mapped[str] = mapped_column(String(16), default="green")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[UserRef | None]
    created_at: Mapped[Timestamp]


class WebhookDelivery(Base):
    """One event for one webhook; ``event_key`` makes enqueueing idempotent (every node)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_key"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
    )

    id: Mapped[IntPk]
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(160))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[Timestamp]
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[Timestamp]
    sent_at: Mapped[datetime | None] = mapped_column()

    webhook: Mapped[Webhook] = relationship()
