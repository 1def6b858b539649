"""Observables of a case (IP addresses, domains, URLs, hashes, ...) and ATT&CK technique tags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from csirt.db import Base, IntPk, Timestamp, UserRef


class Observable(Base):
    """One indicator or artefact of a case, stored refanged and normalised.

    ``value_key`` is the SHA-256 of (type, normalised value): one value per case (merged on
    the way in), and the sightings of a value in other cases are one seek on
    ``ix_observables_value_key_case``.
    """

    __tablename__ = "observables"
    __table_args__ = (
        UniqueConstraint("case_id", "value_key"),
        Index("ix_observables_value_key_case", "value_key", "case_id"),
    )

    id: Mapped[IntPk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    value_key: Mapped[str] = mapped_column(String(64))
    hash_algorithm: Mapped[str | None] = mapped_column(String(8))
    tlp: Mapped[str] = mapped_column(String(16), default="amber")
    pap: Mapped[str] = mapped_column(String(8), default="amber")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    ioc: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime | None] = mapped_column()
    last_seen: Mapped[datetime | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[Timestamp]
    created_by_id: Mapped[UserRef | None]
    updated_at: Mapped[Timestamp]


class AttackTag(Base):
    """An ATT&CK Enterprise technique on a case, or on one of its timeline events."""

    __tablename__ = "attack_tags"
    __table_args__ = (
        UniqueConstraint("case_id", "event_id", "technique"),
        # Case search by technique: one seek per technique id.
        Index("ix_attack_tags_technique_case", "technique", "case_id"),
    )

    id: Mapped[IntPk]
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_events.id", ondelete="CASCADE"), index=True
    )
    technique: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[Timestamp]
    created_by_id: Mapped[UserRef | None]
