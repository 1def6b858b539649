"""The documents' domain errors (views and the API turn them into messages and problems)."""

from __future__ import annotations

from collections.abc import Mapping


class DocumentError(Exception):
    """Base of document errors shown to the user."""


class DocumentNotFoundError(DocumentError):
    """No such document, or not one this user may reach (indistinguishable on purpose)."""


class DocumentValidationError(DocumentError):
    """Input that names bad fields: {field: message}."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class KindNotAllowedError(DocumentError):
    """This user may not work on documents of this kind for this case."""


class SelfApprovalError(DocumentError):
    """The last editor of a version may not approve it: a second person must."""


class AlreadyApprovedError(DocumentError):
    """The newest version is already approved."""


class StaleVersionError(DocumentError):
    """Someone saved a newer version since the editor opened the document."""


class FactsChangedError(DocumentError):
    """The case's facts changed since the approver loaded the draft: review it again."""


class NotApprovedError(DocumentError):
    """The newest version is a draft: it already follows today's facts."""


class FrozenUnreadableError(DocumentError):
    """The approved version's frozen facts cannot be read back: it cannot be rebuilt as
    approved (make a new version from current facts and approve it)."""


class TemplateInvalidError(DocumentError):
    """The uploaded organisation template is not a usable .docx."""


class NotWithdrawableError(DocumentError):
    """Only an unused draft (never approved) can be withdrawn."""
