"""The alerts package's named errors (the API maps them in csirt/api/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping


class AlertError(Exception):
    """Base of the alert errors."""


class AlertNotFoundError(AlertError):
    """No such alert."""


class AlertDecidedError(AlertError):
    """The alert was merged or ignored already."""


class AlertValidationError(AlertError):
    """Bad input: ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)
