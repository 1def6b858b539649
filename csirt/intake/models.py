"""Intake tables: sealed submissions, their key wraps, messages, attachments, identity requests.

Nothing here holds a client address, a user agent, a receipt or plaintext tip content: every
column of reporter content is a sealed blob (see csirt.vault). The receipt is represented only by
``lookup``, a hash of one half of its Argon2id output.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, Relationship, declared_attr, mapped_column, relationship

import csirt.cases.models  # noqa: F401  (registers ``cases``, the target of submissions.case_id)
from csirt.db import Base, utcnow


def this_hour() -> datetime:
    """Now, rounded down to the hour: rows about a report must not line up with a network log."""
    return utcnow().replace(minute=0, second=0, microsecond=0)


SubmissionId = Annotated[
    int, mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
]
"""The submission a row belongs to (deleted with it)."""
Sealed = Annotated[bytes, mapped_column(LargeBinary)]
"""A sealed blob (see csirt.vault)."""
ThisHour = Annotated[datetime, mapped_column(default=this_hour)]
"""When a row was written, rounded down to the hour (see :func:`this_hour`)."""


def _of_submission(order_by: str) -> Relationship[Any]:
    """A submission's rows of one kind, deleted with it, in ``order_by`` order."""
    return relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by=order_by,
    )


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    receipt_wrap: Mapped[Sealed]
    # The submission key sealed to the organisation intake key (csirt.intake.escrow); None in
    # strict mode.
    escrow_wrap: Mapped[bytes | None] = mapped_column(LargeBinary)
    answers_sealed: Mapped[Sealed]
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    questionnaire: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default="new")
    # Non-identifying structured facts, needed before anything is opened (conflicts, clocks).
    whistleblower: Mapped[bool] = mapped_column(default=False)
    involved: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Rounded to the hour so that the row cannot be matched to a network log by its timestamp.
    received_at: Mapped[datetime] = mapped_column()
    ack_due: Mapped[datetime] = mapped_column()
    answer_due: Mapped[datetime] = mapped_column()
    feedback_due: Mapped[datetime | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)
    expiry_warned_at: Mapped[datetime | None] = mapped_column()
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    identity_disclosed_at: Mapped[datetime | None] = mapped_column()

    key_wraps: Mapped[list[SubmissionKeyWrap]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )
    identity_wraps: Mapped[list[IdentityKeyWrap]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )
    messages: Mapped[list[SubmissionMessage]] = _of_submission("SubmissionMessage.id")
    attachments: Mapped[list[SubmissionAttachment]] = _of_submission("SubmissionAttachment.id")
    identity_requests: Mapped[list[IdentityRequest]] = _of_submission("IdentityRequest.id")


class _SubmissionPart:
    """A row that belongs to one submission and is deleted with it, written at the hour; the
    submission lists the rows of each kind under ``listed_as``."""

    listed_as: ClassVar[str]

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[SubmissionId]
    created_at: Mapped[ThisHour]

    @declared_attr
    def submission(cls) -> Mapped[Submission]:
        return relationship(back_populates=cls.listed_as)


class _KeyWrap(_SubmissionPart):
    """A key of one submission sealed to one staff member's public key."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("submission_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    wrapped: Mapped[Sealed]


class SubmissionKeyWrap(_KeyWrap, Base):
    """The submission key sealed to one intake officer's public key."""

    __tablename__ = "submission_key_wraps"
    listed_as = "key_wraps"

    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class IdentityKeyWrap(_KeyWrap, Base):
    """The identity key sealed to a custodian, or to an officer after an approved request."""

    __tablename__ = "identity_key_wraps"
    listed_as = "identity_wraps"

    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_requests.id", ondelete="SET NULL")
    )


class SubmissionMessage(_SubmissionPart, Base):
    """A sealed message in the mailbox, from the reporter or from an officer."""

    __tablename__ = "submission_messages"
    listed_as = "messages"

    from_reporter: Mapped[bool] = mapped_column(default=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body_sealed: Mapped[Sealed]


class SubmissionAttachment(_SubmissionPart, Base):
    """A sealed original and its sealed metadata-stripped copy; name and type sealed too."""

    __tablename__ = "submission_attachments"
    listed_as = "attachments"

    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission_messages.id", ondelete="CASCADE")
    )
    meta_sealed: Mapped[Sealed]
    original_sealed: Mapped[Sealed]
    stripped_sealed: Mapped[Sealed]


class IdentityRequest(_SubmissionPart, Base):
    """An intake officer's reasoned request to see a reporter's identity, and its decision."""

    __tablename__ = "identity_requests"
    listed_as = "identity_requests"

    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    # The good reason (正当な理由) for identifying the reporter, stated on its own: searching for
    # a reporter without one is prohibited (公益通報者保護法 as amended, in force 2026-12-01).
    justification: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column()


class StaffKeySession(Base):
    """A staff member's unwrapped private key, encrypted under a secret held in their cookie."""

    __tablename__ = "staff_key_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    protected_key: Mapped[Sealed]
    # A freshly enrolled recovery key, sealed the same way, until it has been shown once.
    pending_recovery: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


SUBMISSION_PARTS = (
    IdentityKeyWrap,
    SubmissionAttachment,
    SubmissionMessage,
    SubmissionKeyWrap,
    IdentityRequest,
)
"""Every table of rows that belong to one submission, in the order a purge deletes them."""
