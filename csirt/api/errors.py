"""Domain errors -> RFC 9457 problems: one table, registered on every API blueprint.

An API view raises (or lets through) the service's named errors; :func:`register` installs one
handler per row on the view's blueprint, which rolls the request's session back (a refusal
writes nothing) and answers the row's problem. Errors that carry ``errors`` (a mapping of field
to reason) become 422 problems naming each field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response

from csirt.alerts import errors as alerts
from csirt.api.problems import problem, validation_problem
from csirt.api.schema import ApiValidationError
from csirt.cases import errors as cases
from csirt.db import get_session
from csirt.documents import service as documents
from csirt.intake.base import AnswersInvalidError
from csirt.inventory import service as inventory
from csirt.records import service as records
from csirt.records.validation import RecordValidationError
from csirt.teams import base as teams
from csirt.triage.facts import FactsError
from csirt.webhooks import service as webhooks


@dataclass(frozen=True)
class Problem:
    """The problem a domain error becomes."""

    status: int
    detail: str  # empty: the error's own message
    kind: str | None = None

    @property
    def title(self) -> str:
        return TITLES[self.status]


TITLES = {
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Content",
}

INVALID: tuple[type[Exception], ...] = (
    ApiValidationError,
    cases.CaseValidationError,
    RecordValidationError,
    documents.DocumentValidationError,
    teams.InvalidInputError,
    FactsError,
    AnswersInvalidError,
    alerts.AlertValidationError,
    webhooks.WebhookValidationError,
)
"""Errors whose ``errors`` name the bad fields: 422."""

PROBLEMS: dict[type[Exception], Problem] = {
    cases.CaseNotFoundError: Problem(404, "no such case"),
    cases.TaskNotFoundError: Problem(404, "no such task in this case"),
    cases.EventNotFoundError: Problem(404, "no such timeline event in this case"),
    records.RecordNotFoundError: Problem(404, "no such record in this case"),
    records.NotAuthorError: Problem(403, "only a note's author may change it"),
    documents.DocumentNotFoundError: Problem(404, "no such document"),
    teams.TeamNotFoundError: Problem(404, "no such team"),
    cases.TeamTooSmallError: Problem(409, "", "team-too-small"),
    alerts.AlertNotFoundError: Problem(404, "no such alert"),
    alerts.AlertDecidedError: Problem(409, "", "alert-decided"),
    webhooks.WebhookNotFoundError: Problem(404, "no such webhook"),
    inventory.InventoryNotFoundError: Problem(404, "no such inventory file"),
    documents.StaleVersionError: Problem(409, "a newer version exists", "stale-version"),
    documents.FactsChangedError: Problem(
        409,
        "the case's facts changed since you reviewed the document: review it again",
        "facts-changed",
    ),
    documents.SelfApprovalError: Problem(
        409, "the last editor of a version may not approve it", "self-approval"
    ),
    documents.AlreadyApprovedError: Problem(
        409, "the newest version is already approved", "approved"
    ),
    documents.NotApprovedError: Problem(
        409,
        "the newest version is a draft: it already uses the case's current facts",
        "not-approved",
    ),
    documents.FrozenUnreadableError: Problem(
        409,
        "the approved version cannot be rebuilt from its stored facts: create a new version",
        "frozen-unreadable",
    ),
    documents.KindNotAllowedError: Problem(403, "you may not create documents of this kind"),
    documents.NotWithdrawableError: Problem(
        409, "only an unused draft (never approved) can be withdrawn", "not-withdrawable"
    ),
    teams.NotAllowedToAssignError: Problem(
        403, "only the case's members and leads can assign people"
    ),
}
"""Every other domain error the API answers, with its status, detail and problem type."""


def _answer(problem_of: Callable[[Exception], Response]) -> Callable[[Exception], Response]:
    def handle(error: Exception) -> Response:
        get_session().rollback()  # a refused request leaves no half-written rows
        return problem_of(error)

    return handle


def _invalid(error: Exception) -> Response:
    return validation_problem(getattr(error, "errors", {}))


def _mapped(error: Exception) -> Response:
    for cls in type(error).__mro__:
        row = PROBLEMS.get(cls)
        if row is not None:
            return problem(row.status, row.title, row.detail or str(error), kind=row.kind)
    raise error  # pragma: no cover - only registered classes reach here


def register(bp: Blueprint) -> None:
    """Answer the table's errors raised in ``bp``'s views with their problems."""
    for cls in INVALID:
        bp.register_error_handler(cls, _answer(_invalid))
    for cls in PROBLEMS:
        bp.register_error_handler(cls, _answer(_mapped))
