"""The named errors of the cases package: what a user can get wrong, shown as messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from csirt.cases import closing


class CaseError(Exception):
    """Base of case errors shown to the user."""


class CaseNotFoundError(CaseError):
    """No such case, or not one this user may see (indistinguishable on purpose)."""


class CaseValidationError(CaseError):
    """Some fields are invalid; ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class TeamTooSmallError(CaseError):
    """A P1 case cannot leave ``detect`` without a lead and at least one other member."""


class ClosingRefusedError(CaseError):
    """The closing checklist is not complete; ``missing`` says what is left."""

    def __init__(self, missing: Sequence[closing.MissingItem]) -> None:
        super().__init__(", ".join(item.message.en for item in missing))
        self.missing = list(missing)


class TaskNotFoundError(CaseError):
    """No such task in this case."""


class EventNotFoundError(CaseError):
    """No such timeline event in this case (or no deleted one, for a restore)."""
