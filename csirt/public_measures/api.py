"""The public follow-up through the API (bearer token, `measure:publish`): propose the public
text of a measure, approve or reject a proposal as a second lead, publish a case's measures."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, abort, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import Field

from csirt.api import errors
from csirt.api.openapi import json_response, operation
from csirt.api.problems import problem
from csirt.api.responses import created
from csirt.api.schema import ApiModel, ApiOut, IsoDay, IsoTime, read_body_with
from csirt.auth.access import requires
from csirt.auth.permissions import Permission
from csirt.cases.errors import CaseNotFoundError
from csirt.db import get_session
from csirt.documents import measure_publication as publication
from csirt.documents import measures
from csirt.documents.access import get_case_for_documents
from csirt.documents.errors import DocumentNotFoundError, SelfApprovalError

bp = Blueprint("api_measures", __name__, url_prefix="/api/v1")
errors.register(bp)
TAGS = ["measures"]
SELF_APPROVAL = "the lead who proposed a text may not approve it: a second lead must"


class ProposeIn(ApiModel):
    title: str | None = Field(None, max_length=300, description="default: the measure's")
    owner: str | None = Field(None, max_length=200, description="the department in charge")
    due: str | None = Field(None, json_schema_extra={"format": "date"})
    status: Literal["planned", "in_progress", "done"]
    note: str | None = Field(
        None, max_length=5000, description="public evidence of completion (required when done)"
    )
    done_on: str | None = Field(
        None, description="date of the evidence", json_schema_extra={"format": "date"}
    )


class PublicationIn(ApiModel):
    title: str = Field(max_length=200, description="public title of the case; empty: withdrawn")


class UpdateOut(ApiOut):
    id: int
    measure_id: int
    title: str
    owner: str
    due: IsoDay | None
    status: str
    note: str
    done_on: IsoDay | None
    decision: str
    proposed_by_id: int | None
    proposed_at: IsoTime
    decided_by_id: int | None
    decided_at: IsoTime | None


class PublicationOut(ApiModel):
    case_id: int
    title: str
    published: bool


def _measure(measure_id: int) -> Any:
    try:
        return measures.get_measure_for(get_session(), current_user, measure_id)
    except DocumentNotFoundError:
        abort(404, "no such measure")


@bp.post("/measures/<int:measure_id>/public")
@requires(Permission.MEASURE_PUBLISH)
@operation(
    "Propose what /measures/ says about a measure (shown once a second lead approves)",
    tags=TAGS,
    body=ProposeIn,
    responses={"201": json_response(UpdateOut)},
)
def propose(measure_id: int) -> ResponseReturnValue:
    measure = _measure(measure_id)
    _body, values = read_body_with(ProposeIn, lambda data: publication.read_public(data, measure))
    session = get_session()
    update = publication.propose(session, current_user, measure, values)
    session.commit()
    return created(UpdateOut.dump(update))


def _decide(update_id: int, approve: bool) -> ResponseReturnValue:
    session = get_session()
    try:
        update = publication.get_update(session, update_id)
    except DocumentNotFoundError:
        abort(404, "no such proposal")
    _measure(update.measure_id)
    try:
        publication.decide(session, current_user, update, approve)
    except SelfApprovalError:
        session.rollback()
        return problem(409, "Conflict", SELF_APPROVAL, kind="self-approval")
    session.commit()
    return jsonify(UpdateOut.dump(update))


def _decision_route(name: str, summary: str, approve: bool) -> None:
    @requires(Permission.MEASURE_PUBLISH)
    @operation(summary, tags=TAGS, responses={"200": json_response(UpdateOut)})
    def view(update_id: int) -> ResponseReturnValue:
        return _decide(update_id, approve)

    bp.add_url_rule(f"/measures/public/<int:update_id>/{name}", name, view, methods=["POST"])


_decision_route("approve", "Approve a proposal (a second lead; it appears on /measures/)", True)
_decision_route("reject", "Reject a proposal", False)


@bp.put("/cases/<int:case_id>/measures/publication")
@requires(Permission.MEASURE_PUBLISH)
@operation(
    "Publish the case's measures under a public title (empty title: withdraw)",
    tags=TAGS,
    body=PublicationIn,
    responses={"200": json_response(PublicationOut)},
)
def publish_case(case_id: int) -> ResponseReturnValue:
    session = get_session()
    try:
        case = get_case_for_documents(session, current_user, case_id).case
    except CaseNotFoundError:
        abort(404, "no such case")
    body, _none = read_body_with(PublicationIn, lambda data: None)
    row = publication.publish_case(session, current_user, case, body.title)
    session.commit()
    return jsonify(case_id=case.id, title=row.title, published=bool(row.title))
