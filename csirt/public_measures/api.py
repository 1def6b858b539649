"""The public follow-up through the API (bearer token, `measure:publish`): propose the public
text of a measure, approve or reject a proposal as a second lead, publish a case's measures."""

from __future__ import annotations

from typing import Any, Literal

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import Field

from csirt.api.problems import problem
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import ApiModel, ApiOut, IsoDay, IsoTime, read_body_with
from csirt.auth.permissions import Permission
from csirt.db import get_session
from csirt.documents import measure_publication as publication
from csirt.documents import measures
from csirt.documents.access import get_case_for_documents
from csirt.documents.errors import DocumentNotFoundError, SelfApprovalError
from csirt.web import missing_is_404

api = ApiRoutes.blueprint(
    "api_measures", __name__, "/api/v1", "measures", Permission.MEASURE_PUBLISH
)
bp = api.bp
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
    with missing_is_404(DocumentNotFoundError, detail="no such measure"):
        return measures.get_measure_for(get_session(), current_user, measure_id)


@api.post("/measures/<int:measure_id>/public", body=ProposeIn, created=UpdateOut)
def propose(measure_id: int) -> ResponseReturnValue:
    """Propose what /measures/ says about a measure (shown once a second lead approves)."""
    measure = _measure(measure_id)
    _body, values = read_body_with(ProposeIn, lambda data: publication.read_public(data, measure))
    session = get_session()
    update = publication.propose(session, current_user, measure, values)
    session.commit()
    return created(UpdateOut.dump(update))


def _decide(update_id: int, approve: bool) -> ResponseReturnValue:
    session = get_session()
    with missing_is_404(DocumentNotFoundError, detail="no such proposal"):
        update = publication.get_update(session, update_id)
    _measure(update.measure_id)
    try:
        publication.decide(session, current_user, update, approve)
    except SelfApprovalError:
        session.rollback()
        return problem(409, "Conflict", SELF_APPROVAL, kind="self-approval")
    session.commit()
    return jsonify(UpdateOut.dump(update))


@api.post("/measures/public/<int:update_id>/approve", ok=UpdateOut)
def approve(update_id: int) -> ResponseReturnValue:
    """Approve a proposal (a second lead; it appears on /measures/)."""
    return _decide(update_id, True)


@api.post("/measures/public/<int:update_id>/reject", ok=UpdateOut)
def reject(update_id: int) -> ResponseReturnValue:
    """Reject a proposal."""
    return _decide(update_id, False)


@api.put("/cases/<int:case_id>/measures/publication", body=PublicationIn, ok=PublicationOut)
def publish_case(case_id: int, body: PublicationIn) -> ResponseReturnValue:
    """Publish the case's measures under a public title (empty title: withdraw)."""
    session = get_session()
    case = get_case_for_documents(session, current_user, case_id).case
    row = publication.publish_case(session, current_user, case, body.title)
    session.commit()
    return jsonify(case_id=case.id, title=row.title, published=bool(row.title))
