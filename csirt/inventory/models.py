"""Rows of the personal-data inventory (個人情報ファイル簿, APPI 法75条)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from csirt.db import Base, IntPk, Timestamp, UserRef, utcnow


class InventoryFile(Base):
    """One personal-data file of the organisation, as its public register describes it."""

    __tablename__ = "inventory_files"
    __table_args__ = (Index("ix_inventory_files_name", "name"),)

    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200), default="", index=True)
    purpose: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # vocabulary keys
    persons: Mapped[int] = mapped_column(default=0)
    persons_estimated: Mapped[bool] = mapped_column(default=False)
    counted_on: Mapped[date | None] = mapped_column(Date)  # the date of the count
    take_out: Mapped[str] = mapped_column(String(300), default="")  # who may take it out
    retention: Mapped[str] = mapped_column(String(200), default="")
    register_ref: Mapped[str] = mapped_column(String(100), default="", index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    places: Mapped[list[InventoryPlace]] = relationship(
        back_populates="file",
        cascade="all, delete-orphan",
        order_by="InventoryPlace.position",
        lazy="selectin",
    )

    @property
    def systems(self) -> list[str]:
        """The systems and media where the file lives, in their order."""
        return [place.system for place in self.places]


class InventoryPlace(Base):
    """A system or medium where a file lives (a row each, so that a system is an index hit)."""

    __tablename__ = "inventory_places"
    __table_args__ = (UniqueConstraint("file_id", "system"),)

    id: Mapped[IntPk]
    file_id: Mapped[int] = mapped_column(ForeignKey("inventory_files.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(200), index=True)
    position: Mapped[int] = mapped_column(default=0)

    file: Mapped[InventoryFile] = relationship(back_populates="places")


class InventoryOverlap(Base):
    """Persons known to be in both files (``file_a_id`` < ``file_b_id``)."""

    __tablename__ = "inventory_overlaps"
    __table_args__ = (
        UniqueConstraint("file_a_id", "file_b_id"),
        CheckConstraint("file_a_id < file_b_id", name="ordered"),
    )

    id: Mapped[IntPk]
    file_a_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_files.id", ondelete="CASCADE"), index=True
    )
    file_b_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_files.id", ondelete="CASCADE"), index=True
    )
    persons: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[Timestamp]


class InventoryFileVersion(Base):
    """A file's earlier version: its fields as they were, who changed them, when and why."""

    __tablename__ = "inventory_file_versions"
    __table_args__ = (Index("ix_inventory_file_versions_file", "file_id", "number"),)

    id: Mapped[IntPk]
    file_id: Mapped[int] = mapped_column(ForeignKey("inventory_files.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500), default="")
    changed_by_id: Mapped[UserRef | None]
    changed_at: Mapped[Timestamp]


class InventoryDatasetLink(Base):
    """A case's affected data set that was taken from an inventory file, with the count's date."""

    __tablename__ = "inventory_dataset_links"

    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("affected_datasets.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_files.id", ondelete="SET NULL"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(200), default="")
    counted_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[Timestamp]
