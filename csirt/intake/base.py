"""The intake's shared vocabulary: named errors, value types, and small helpers (no Flask)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.models import User
from csirt.auth.permissions import Permission
from csirt.catalog import Catalog, Questionnaire
from csirt.intake.escrow import Escrow
from csirt.intake.models import Submission
from csirt.ratelimit import Budget

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 20_000
STATUSES = ("new", "answered", "promoted", "attached")


class IntakeError(Exception):
    """Base of the intake's named errors."""


class AnswersInvalidError(IntakeError):
    """Answers or attachments fail validation; ``errors`` maps each field to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(sorted(errors)))
        self.errors = dict(errors)


class BadReceiptError(IntakeError):
    """A receipt is malformed or belongs to no submission (callers must not tell which)."""


class IntakeBusyError(IntakeError):
    """The global budget is spent or the receipt hasher is saturated: answer 429."""


class NotVisibleError(IntakeError):
    """This staff member may not see this submission (conflict of interest, or no such row)."""


class NoKeyError(IntakeError):
    """The staff member may see the submission but holds no key for it yet (ask for a grant)."""


class IdentityError(IntakeError):
    """An identity request or decision that is not allowed (no identity, self-approval, ...)."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file as received (never written to disk unsealed)."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class IntakeSettings:
    """What the intake needs from the configuration."""

    questionnaire: Questionnaire
    hasher: vault.ReceiptHasher
    tz: ZoneInfo
    jurisdictions: frozenset[str]
    catalog: Catalog
    retention_days: int = 180
    warn_days: int = 14
    ack_days: int = 5
    submission_budget: Budget | None = None
    escrow: Escrow | None = None


@dataclass(frozen=True)
class Submitted:
    """The result of a submission: the receipt to show once, and when we will answer."""

    submission_id: int
    receipt: str = field(repr=False)
    answer_due: datetime


@dataclass(frozen=True)
class Message:
    id: int
    from_reporter: bool
    body: str
    created_at: datetime
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str
    content_type: str
    size: int
    stripped: str
    complete: bool = True  # False: the copy may still hold metadata (say so to the officer)


@dataclass(frozen=True)
class Mailbox:
    """What a reporter sees with their receipt."""

    submission: Submission
    envelope: vault.SubmissionEnvelope
    messages: tuple[Message, ...]
    attachments: tuple[AttachmentInfo, ...]


@dataclass(frozen=True)
class Opened:
    """A submission opened by an intake officer."""

    submission: Submission
    answers: dict[str, Any]
    messages: tuple[Message, ...]
    attachments: tuple[AttachmentInfo, ...]
    has_identity: bool
    may_view_identity: bool


# --- helpers -----------------------------------------------------------------------------------


def record_event(session: Session, action: AuditAction, **fields: Any) -> None:
    """Audit an act on a report, timed to the hour like every row about it (issue 13, 3)."""
    # The audit log's own clock, rounded (the audit review's tests move that clock).
    audit.record(session, action, at=hour(audit.utcnow()), **fields)  # type: ignore[attr-defined]


def record_on_report(
    session: Session,
    action: AuditAction,
    by: User | None,
    submission_id: int,
    *,
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit an act on one report by a staff member (``None``: the system)."""
    record_event(
        session,
        action,
        actor=audit.actor_of(by),
        object_type="submission",
        object_id=submission_id,
        case_id=case_id,
        details=details,
    )


def hour(moment: datetime) -> datetime:
    """Round down to the hour: stored times must not line up with a network log."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_json(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def officers(session: Session) -> list[User]:
    """Active intake officers who hold a key pair."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    return [u for u in users if u.can(Permission.INTAKE_READ) and u.public_key is not None]


def custodians(session: Session) -> list[User]:
    """Active custodians who hold a key pair."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    return [u for u in users if u.can(Permission.IDENTITY_DECIDE) and u.public_key is not None]
