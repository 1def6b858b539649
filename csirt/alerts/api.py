"""Alerts API (bearer token): raise (de-duplicated), list, read, merge, open a case, ignore."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, Field

from csirt.alerts import service
from csirt.alerts.errors import AlertValidationError
from csirt.alerts.models import Alert, AlertStatus, Severity
from csirt.alerts.observables import FIELDS, normalise_all
from csirt.api.pagination import PageQuery, page_response, row_id
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import (
    ApiModel,
    ApiOut,
    Id,
    Instant,
    IsoTime,
)
from csirt.auth.permissions import Permission
from csirt.cases import registry
from csirt.db import get_session, writes
from csirt.i18n import current_lang
from csirt.observables.service import HASH_ALGORITHMS, PAP_LEVELS, TLP_LEVELS, TYPES

api = ApiRoutes.blueprint("api_alerts", __name__, "/api/v1", "alerts")
bp = api.bp

ObservableType = Literal[TYPES]  # type: ignore[valid-type]
HashAlgorithm = Literal[HASH_ALGORITHMS]  # type: ignore[valid-type]
TlpLevel = Literal[TLP_LEVELS]  # type: ignore[valid-type]
PapLevel = Literal[PAP_LEVELS]  # type: ignore[valid-type]
Text = Field(min_length=1, max_length=200)


class ObservableItem(ApiModel):
    """One observable of an alert (defanged values are accepted and stored refanged)."""

    type: ObservableType
    value: str = Field(min_length=1, max_length=2048)
    hash_algorithm: HashAlgorithm | None = None
    tlp: TlpLevel | None = None
    pap: PapLevel | None = None
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=20)
    ioc: bool = False
    description: str = Field("", max_length=5000)


class AlertIn(ApiModel):
    source: str = Field(min_length=1, max_length=64, description="e.g. the SIEM's name")
    source_ref: str = Field(
        min_length=1, max_length=255, description="the alert's id at its source (de-duplication)"
    )
    type: str = Field(min_length=1, max_length=64)
    title: str = Text
    description: str = Field("", max_length=20000)
    severity: Severity = Severity.MEDIUM
    occurred_at: Instant | None = None
    observables: list[ObservableItem] = Field(default_factory=list, max_length=500)


class AlertOut(ApiOut):
    id: int
    source: str
    source_ref: str
    type: str
    title: str
    description: str
    severity: str
    status: str
    occurred_at: IsoTime | None
    first_seen: IsoTime
    last_seen: IsoTime
    count: int
    observables: list[dict[str, Any]]
    case_id: int | None
    ignore_reason: str


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class AlertListQuery(PageQuery):
    status: AlertStatus | None = Field(None, description="new, merged or ignored")
    source: str | None = Field(None, max_length=64)
    severity: Severity | None = None


class MergeIn(ApiModel):
    case_id: Id


class OpenCaseIn(ApiModel):
    playbook: str | None = Field(None, max_length=64, description="a playbook id (optional)")


class IgnoreIn(ApiModel):
    reason: str = Field(min_length=1, max_length=500)


class CaseRefOut(BaseModel):
    alert: AlertOut
    case_id: int
    case_reference: str


def _observables(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's observables normalised by the observables rules (their values: the shape is
    the schema's), so that one 422 names every bad field."""
    items = data.get("observables")
    if not isinstance(items, list):
        return []
    shaped = [i for i in items if isinstance(i, dict) and i.get("type") in TYPES]
    clean, bad = normalise_all(shaped) if len(shaped) == len(items) else ([], {})
    if bad:
        raise AlertValidationError(bad)
    return clean


def _case_answer(alert: Alert, case: Any) -> dict[str, Any]:
    return {"alert": AlertOut.dump(alert), "case_id": case.id, "case_reference": case.reference}


@api.post(
    "/alerts",
    Permission.ALERT_RAISE,
    body=AlertIn,
    created=(AlertOut, "A new alert"),
    ok=(AlertOut, "A repeat: the known alert, counted and updated"),
    checked_by=_observables,  # the observables' values, by the observables rules
)
def raise_alert(body: AlertIn) -> ResponseReturnValue:
    """Raise an alert; the same source and source_ref again counts the known alert."""
    data = service.AlertInput(
        **body.model_dump(exclude={"severity", "observables"}),
        severity=body.severity.value,
        observables=[o.model_dump(include=set(FIELDS)) for o in body.observables],
    )
    session = get_session()
    raised = service.raise_alert(session, data, current_user)
    session.commit()
    out = AlertOut.dump(raised.alert)
    if raised.created:
        return created(out, location=f"/api/v1/alerts/{raised.alert.id}")
    return jsonify(out)


@api.get("/alerts", Permission.ALERT_VIEW, query=AlertListQuery, ok=AlertPage)
def list_alerts(query: AlertListQuery) -> ResponseReturnValue:
    """Alerts, newest first (keyset pagination), by status, source and severity."""
    filters = service.AlertFilters(
        status=query.status.value if query.status else None,
        source=query.source,
        severity=query.severity.value if query.severity else None,
    )
    page = service.list_alerts(
        get_session(), filters, limit=query.limit, cursor=query.position("alerts", row_id)
    )
    return page_response("alerts", page.items, AlertOut.dump, page.next_cursor)


@api.get("/alerts/<int:alert_id>", Permission.ALERT_VIEW, ok=AlertOut)
@writes
def get_alert(alert_id: int) -> ResponseReturnValue:
    """One alert with its observables (the view is audited)."""
    session = get_session()
    alert = service.view_alert(session, alert_id, current_user)
    session.commit()
    return jsonify(AlertOut.dump(alert))


@api.post("/alerts/<int:alert_id>/merge", Permission.ALERT_TRIAGE, body=MergeIn, ok=CaseRefOut)
def merge(alert_id: int, body: MergeIn) -> ResponseReturnValue:
    """Merge a new alert into a case you may see; the case keeps its observables."""
    session = get_session()
    case = service.merge(session, alert_id, body.case_id, current_user)
    session.commit()
    return jsonify(_case_answer(service.get_alert(session, alert_id), case))


@api.post(
    "/alerts/<int:alert_id>/open-case",
    Permission.ALERT_TRIAGE,
    body=OpenCaseIn,
    optional_body=True,  # no body: a case without a playbook
    created=CaseRefOut,
)
def open_case(alert_id: int, body: OpenCaseIn) -> ResponseReturnValue:
    """Open a case from a new alert (optionally with a playbook); it keeps the observables."""
    playbook = None
    if body.playbook:
        playbook = registry.playbooks().get(body.playbook)
        if playbook is None:
            raise AlertValidationError({"playbook": "no such playbook"})
    session = get_session()
    case = service.open_case(
        session, alert_id, current_user, playbook=playbook, lang=current_lang()
    )
    session.commit()
    alert = service.get_alert(session, alert_id)
    return created(_case_answer(alert, case), location=f"/api/v1/cases/{case.id}")


@api.post("/alerts/<int:alert_id>/ignore", Permission.ALERT_TRIAGE, body=IgnoreIn, ok=AlertOut)
def ignore(alert_id: int, body: IgnoreIn) -> ResponseReturnValue:
    """Ignore a new alert, saying why."""
    session = get_session()
    alert = service.ignore(session, alert_id, current_user, body.reason)
    session.commit()
    return jsonify(AlertOut.dump(alert))
