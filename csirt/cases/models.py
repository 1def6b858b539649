"""Cases and who works on them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csirt.auth.models import User
from csirt.db import Base, utcnow


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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
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
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()

    created_by: Mapped[User | None] = relationship()
    members: Mapped[list[CaseMember]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )


class CaseMember(Base):
    __tablename__ = "case_members"
    __table_args__ = (UniqueConstraint("case_id", "user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32), default="investigator")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class CaseCounter(Base):
    """The last case number of each year, so references are dense and never reused."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)
