"""The console side of the public follow-up: a lead proposes what ``/measures/`` says about a
measure, a second lead approves it, and a lead publishes a case under a public title."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases.errors import CaseNotFoundError
from csirt.db import get_session
from csirt.documents import measure_publication as publication
from csirt.documents import measures
from csirt.documents.access import get_case_for_documents
from csirt.documents.errors import (
    DocumentNotFoundError,
    DocumentValidationError,
    SelfApprovalError,
)
from csirt.documents.forms import MEASURE_STATUS_LABELS
from csirt.forms import ActionForm
from csirt.public_measures.forms import ProposeForm, PublicationForm
from csirt.web import missing_is_404

bp = Blueprint("measures_console", __name__, url_prefix="/console/measures/public")


def _page(status: int = 200) -> ResponseReturnValue:
    rows, cases, titles = publication.overview(get_session(), current_user)
    return (
        render_template(
            "public_measures/console.html",
            rows=rows,
            cases=cases,
            titles=titles,
            status_labels=MEASURE_STATUS_LABELS,
            propose_form=ProposeForm(),
            publication_form=PublicationForm(),
            action_form=ActionForm(),
        ),
        status,
    )


@bp.get("")
@requires(Permission.MEASURE_PUBLISH)
def index() -> ResponseReturnValue:
    return _page()


# What the service's refusals mean for the person at the console (by the field they name).
REFUSALS = {
    "guard": _l(
        "The public-text guard refused the text: it holds a name, a contact or a number that "
        "must not be made public."
    ),
    "note": _l("A measure carried out needs a public note and the date of the evidence."),
    "decision": _l("This proposal is already decided."),
}


def _back(
    message: str, category: str = "success", anchor: str | None = None
) -> ResponseReturnValue:
    """Back to the follow-up page with a message."""
    flash(message, category)
    return redirect(url_for("measures_console.index", _anchor=anchor))


def _refused(error: DocumentValidationError) -> ResponseReturnValue:
    get_session().rollback()
    for key in error.errors:
        flash(str(REFUSALS.get(key, _l("Check the field: %(name)s", name=key))), "error")
    return redirect(url_for("measures_console.index"))


@bp.post("/<int:measure_id>")
@requires(Permission.MEASURE_PUBLISH)
def propose(measure_id: int) -> ResponseReturnValue:
    session = get_session()
    with missing_is_404(DocumentNotFoundError):
        measure = measures.get_measure_for(session, current_user, measure_id)
    form = ProposeForm()
    if not form.validate_on_submit():
        return _back(_("Check the dates of the proposal."), "error")
    values: dict[str, Any] = {k: v for k, v in form.data.items() if k != "csrf_token"}
    if form.due.data is None:
        values.pop("due")
    try:
        publication.propose(
            session, current_user, measure, publication.read_public(values, measure)
        )
    except DocumentValidationError as error:
        return _refused(error)
    session.commit()
    return _back(_("Proposed: a second lead must approve it before it appears."))


def _decision_route(name: str, approve: bool) -> None:
    @requires(Permission.MEASURE_PUBLISH)
    def view(update_id: int) -> ResponseReturnValue:
        return _decide(update_id, approve=approve)

    bp.add_url_rule(f"/updates/<int:update_id>/{name}", name, view, methods=["POST"])


def _decide(update_id: int, *, approve: bool) -> ResponseReturnValue:
    """A second lead's decision on a proposal (the proposer may not decide it)."""
    session = get_session()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        update = publication.get_update(session, update_id)
        measures.get_measure_for(session, current_user, update.measure_id)
        publication.decide(session, current_user, update, approve)
    except DocumentNotFoundError:
        abort(404)
    except SelfApprovalError:
        session.rollback()
        return _back(_("You proposed this text: a second lead must approve it."), "error")
    except DocumentValidationError as error:
        return _refused(error)
    session.commit()
    return _back(_("Approved: the text is on the public page.") if approve else _("Rejected."))


@bp.post("/cases/<int:case_id>")
@requires(Permission.MEASURE_PUBLISH)
def publish_case(case_id: int) -> ResponseReturnValue:
    session = get_session()
    with missing_is_404(CaseNotFoundError):
        case = get_case_for_documents(session, current_user, case_id).case
    form = PublicationForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        publication.publish_case(session, current_user, case, form.title.data or "")
    except DocumentValidationError as error:
        return _refused(error)
    session.commit()
    return _back(_("Publication saved."), anchor=f"case-{case.id}")


_decision_route("approve", approve=True)
_decision_route("reject", approve=False)
