"""The teams package's shared vocabulary: named errors, the injectable clock, the audit actor.

Every function of the teams package takes the session explicitly; those that depend on the time
take ``now`` (a :data:`Clock`, ``Callable[[], datetime]``) so tests can freeze it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from csirt.audit import service as audit
from csirt.catalog import LocalText

Clock = Callable[[], datetime]


class TeamError(Exception):
    """Base of team errors shown to the user."""


class TeamNotFoundError(TeamError):
    """No such team."""


class UnknownUserError(TeamError):
    """No active user by that name."""


class InvalidInputError(TeamError):
    """Bad input; ``errors`` names each bad field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ConflictOfInterestError(TeamError):
    """The person is involved in the case (or in an involved department): not assignable.

    The caller rolls back and records the refusal (``record_refusal``).
    """

    def __init__(self, reason: LocalText, username: str, role: str, kind: str) -> None:
        super().__init__(reason.en)
        self.reason = reason
        self.username = username
        self.role = role
        self.kind = kind


class NotAllowedToAssignError(TeamError):
    """Only the case's members and leads assign people (a paged outsider may take it himself)."""


class NothingToAcknowledgeError(TeamError):
    """This person has no pending request on this case."""


record = audit.record_by
"""Append the audit row of a change made by a staff member (None: the system)."""
