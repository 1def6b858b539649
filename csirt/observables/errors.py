"""The named errors of the observables package (the API maps them through their bases)."""

from __future__ import annotations

from csirt.cases.errors import CaseValidationError
from csirt.records.service import RecordNotFoundError


class ObservableValidationError(CaseValidationError):
    """Some observables or fields are invalid; ``errors`` maps each field to its message and
    ``codes`` each field to the rule broken (the console translates the codes)."""

    def __init__(self, errors: dict[str, str], codes: dict[str, str] | None = None) -> None:
        super().__init__(errors)
        self.codes = dict(codes or {})


class ObservableNotFoundError(RecordNotFoundError):
    """No such observable in this case (or no deleted one, for a restore)."""


class ExchangeFormatError(ObservableValidationError):
    """An uploaded STIX bundle or MISP event that cannot be read."""

    def __init__(self, message: str) -> None:
        super().__init__({"file": message}, {"file": "format"})
