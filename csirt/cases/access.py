"""The web layer's one way to load a case (need-to-know checked, else 404), and its view audit."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Blueprint, Response, abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.access import current_actor, requires
from csirt.auth.permissions import Permission
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import Case
from csirt.cases.need_to_know import get_case_for
from csirt.db import get_session, write_ahead, write_step


def case_or_404(case_id: int) -> Case:
    """The case if the signed-in user may see it; otherwise 404, the same as a missing case."""
    try:
        return get_case_for(get_session(), current_user, case_id)
    except CaseNotFoundError:
        abort(404)


def case_page(
    bp: Blueprint, rule: str, endpoint: str, render: Callable[[Case], ResponseReturnValue]
) -> None:
    """Register the GET page of a case's tab (CASE_VIEW): the case, or 404, shown by ``render``
    (the same function shows the page again with a form's errors)."""

    @requires(Permission.CASE_VIEW)
    def show(case_id: int) -> ResponseReturnValue:
        return render(case_or_404(case_id))

    bp.add_url_rule(rule, endpoint, show, methods=["GET"])


def case_action(
    bp: Blueprint,
    rule: str,
    permission: Permission = Permission.CASE_EDIT,
    *,
    form: type[FlaskForm] | None = None,
    refused: Callable[[Case, FlaskForm], ResponseReturnValue] | None = None,
) -> Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]:
    """Register a POST on a case under the view's name: ``permission``, then the case or 404;
    the view receives the case and the URL's other values. With a ``form`` class the form is built
    and must be valid, else ``refused(case, form)`` answers (by default 400); the view receives
    the valid form after the case."""

    def register(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        @functools.wraps(view)
        def handle(case_id: int, **values: int) -> ResponseReturnValue:
            case = case_or_404(case_id)
            if form is None:
                return view(case, **values)
            given = form()
            if given.validate_on_submit():
                return view(case, given, **values)
            if refused is None:
                abort(400)
            return refused(case, given)

        bp.add_url_rule(rule, view.__name__, requires(permission)(handle), methods=["POST"])
        return view

    return register


def expect_case_view(_endpoint: str | None, values: dict[str, object] | None) -> None:
    """Before a GET of a case's page, tab or API resource runs a statement: it will write its
    ``case.view`` row at the end (:func:`record_case_view`), so say so (``db.write_ahead``).
    Registered as a URL value preprocessor: those run before every ``before_request`` hook,
    the signed-in user's load among them."""
    if request.method == "GET" and isinstance((values or {}).get("case_id"), int):
        write_ahead()


def record_case_view(response: Response) -> Response:
    """Audit every successful GET of a case's page, tab or API resource as ``case.view``.

    Registered once as an ``after_request`` hook, so that no page of a case can forget it: every
    route under a case takes ``case_id`` and answers 404 to whoever may not see that case, so a
    200 means that the case was shown. One row per request, never one per row of a list. The
    row is written before the response leaves; if it cannot be written the response is an error.
    """
    view_args = request.view_args or {}
    case_id = view_args.get("case_id")
    if request.method != "GET" or response.status_code != 200 or not isinstance(case_id, int):
        return response
    actor = current_actor()
    if actor.id is None:  # not signed in
        return response
    details: dict[str, object] = {"page": request.endpoint}
    details.update((k, v) for k, v in view_args.items() if k != "case_id")
    with write_step(get_session()) as db_session:
        audit.record(
            db_session,
            AuditAction.CASE_VIEW,
            actor=actor,
            object_type="case",
            object_id=case_id,
            case_id=case_id,
            details=details,
        )
    return response
