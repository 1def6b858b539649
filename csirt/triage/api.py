"""Triage API (bearer token): evaluate facts without a case; a case's triage and obligations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import Field

from csirt.api import errors
from csirt.api.openapi import json_response, problem_response
from csirt.api.routes import ApiRoutes
from csirt.api.schema import ApiModel, Instant, LangQuery
from csirt.auth.permissions import Permission
from csirt.cases.models import Case
from csirt.cases.need_to_know import get_case_for
from csirt.catalog.current import current_catalog
from csirt.db import get_session
from csirt.i18n import current_lang
from csirt.triage import service
from csirt.triage.engine import evaluate
from csirt.triage.facts import EXPOSURES, ORG_KINDS, Facts, OrgKind, parse_facts
from csirt.triage.models import CaseTriage, Obligation

bp = Blueprint("api_triage", __name__, url_prefix="/api/v1")
errors.register(bp)
api = ApiRoutes(bp, "triage")

_TIMESTAMP = {"type": "string", "format": "date-time"}


class Organization(ApiModel):
    kind: Literal[ORG_KINDS] | None = None  # type: ignore[valid-type]
    jurisdictions: list[str] | None = Field(None, min_length=1, examples=[["JP"]])
    social_responsibility: Literal["average", "high"] | None = None
    ordinance_sensitive_items: list[str] | None = Field(
        None,
        description="Vocabulary keys the local ordinance makes sensitive "
        "(条例要配慮個人情報, APPI Rules Art. 43(5)); default: legal.yaml's list",
    )


class DatasetFacts(ApiModel):
    items: list[str] = Field(description="vocabulary.yaml keys")
    persons: int = Field(ge=0)
    persons_estimated: bool = False
    encrypted: bool = False
    exposure: Literal[EXPOSURES] | None = None  # type: ignore[valid-type]


class FactsIn(ApiModel):
    """The facts of an incident; checked for shape here and read by triage.facts.parse_facts
    (vocabulary items, jurisdiction codes, the range of dates)."""

    organization: Organization | None = None
    aware_at: Instant = Field(examples=["2026-11-20T10:00:00+09:00"])
    datasets: list[DatasetFacts]
    exposure: Literal[EXPOSURES]  # type: ignore[valid-type]
    insider: bool
    wrongful_intent: bool
    ongoing: bool
    whistleblower_report: bool
    reported_at: Instant | None = None
    acknowledged_at: Instant | None = Field(
        None,
        description="When the report was acknowledged to the reporter (EU feedback counts "
        "from it; else from the end of the 7 days)",
    )
    contractor_notice_at: Instant | None = Field(
        None, description="When a contractor notified the organisation: awareness at the latest"
    )
    response: Literal["appropriate", "inappropriate", "unknown"] = "unknown"


_OBLIGATION_PROPS: dict[str, Any] = {
    "regime": {"type": "string"},
    "kind": {"type": "string"},
    "basis": {"type": "string"},
    "article": {"type": "string"},
    "due_at": {
        **_TIMESTAMP,
        "description": "The legal deadline in CSIRT_TIMEZONE, after any roll-forward",
    },
    "target_at": {
        **_TIMESTAMP,
        "nullable": True,
        "description": "The organisation's earlier internal target, if any",
    },
    "deadline": {
        "type": "string",
        "enum": ["legal", "guidance", "internal", "window"],
        "description": "What due_at is: the legal deadline, the guidance's date where the law "
        "says promptly, an internal target where the law sets none, or the end of a window",
    },
    "source": {"type": "string"},
    "status": {"type": "string", "enum": ["pending", "done", "not_applicable"]},
}
RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["score", "priority", "factors", "damage_estimate", "obligations"],
    "properties": {
        "score": {"type": "integer", "minimum": 0, "maximum": 100},
        "priority": {"type": "string", "enum": ["P1", "P2", "P3", "P4"]},
        "priority_label": {"type": "string"},
        "response_targets": {
            "type": "object",
            "properties": {
                "acknowledge_within_hours": {"type": "integer"},
                "contain_within_hours": {"type": "integer"},
            },
        },
        "factors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "points", "reason"],
                "properties": {
                    "key": {"type": "string"},
                    "points": {"type": "integer"},
                    "reason": {"type": "string"},
                },
            },
        },
        "damage_estimate": {
            "type": "object",
            "required": ["per_person_jpy", "total_jpy", "coefficients"],
            "properties": {
                "per_person_jpy": {"type": "integer"},
                "total_jpy": {"type": "integer"},
                "persons": {"type": "integer"},
                "formula": {"type": "string"},
                "coefficients": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "value": {"type": "integer"},
                            "explanation": {"type": "string"},
                        },
                    },
                },
                "datasets": {"type": "array", "items": {"type": "object"}},
            },
        },
        "obligations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["regime", "kind", "basis", "due_at"],
                "properties": {
                    **_OBLIGATION_PROPS,
                    "reason": {"type": "string"},
                    "checked": {"type": "string", "format": "date"},
                },
            },
        },
        "reportable": {"type": "boolean"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}
CASE_RESULT_SCHEMA: dict[str, Any] = {
    **RESULT_SCHEMA,
    "properties": {
        **RESULT_SCHEMA["properties"],
        "case": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "reference": {"type": "string"},
                "priority": {"type": "string", "description": "effective (override or computed)"},
                "override": {
                    "type": "object",
                    "nullable": True,
                    "properties": {
                        "priority": {"type": "string"},
                        "reason": {"type": "string"},
                        "at": _TIMESTAMP,
                    },
                },
            },
        },
    },
}
OBLIGATIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "obligations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    **_OBLIGATION_PROPS,
                    "done_at": {**_TIMESTAMP, "nullable": True},
                    "done_by": {"type": "string", "nullable": True},
                    "evidence": {"type": "string"},
                },
            },
        }
    },
}


_CaseRead = Callable[[Case], ResponseReturnValue]


def _case_read(
    resource: str, schema: dict[str, Any], description: str
) -> Callable[[_CaseRead], _CaseRead]:
    """Register the decorated function as ``GET /cases/<case_id>/<resource>`` (CASE_VIEW, in
    the ``?lang=`` asked for): it gets the case, loaded here (404 where the user may not see it)
    and answers with ``schema``; its docstring is the operation's summary."""

    def register(read: _CaseRead) -> _CaseRead:
        # read's name and summary, the view's own parameters and their types
        @functools.wraps(read, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def view(case_id: int, query: LangQuery) -> ResponseReturnValue:
            del query  # validated ?lang=, which current_lang() reads
            return read(get_case_for(get_session(), current_user, case_id))

        rule = f"/cases/<int:case_id>/{resource}"
        api.get(rule, Permission.CASE_VIEW, query=LangQuery, ok=(schema, description))(view)
        return read

    return register


def _facts(payload: dict[str, Any]) -> Facts:
    """The facts of a body, read by the triage's own reader with this server's defaults."""
    config = current_app.config["CSIRT"]
    default_kind: OrgKind = "business" if config.org_kind == "business" else "local_government"
    return parse_facts(
        payload,
        default_org_kind=default_kind,
        default_jurisdictions=config.jurisdictions,
        vocabulary=current_catalog().rules.vocabulary,
    )


@api.post(
    "/triage/evaluate",
    Permission.TRIAGE_EVALUATE,
    query=LangQuery,
    body=FactsIn,
    checked_by=_facts,
    responses={
        "200": json_response(RESULT_SCHEMA, "The explained result"),
        "422": problem_response("Missing or invalid facts; `errors` names each field"),
    },
)
def evaluate_facts(query: LangQuery, body: FactsIn, checked: Facts) -> ResponseReturnValue:
    """Evaluate facts without a case: score, priority, factors, JNSA damage, obligations."""
    del query, body  # validated ?lang= (current_lang() reads it); the facts are read from body
    config = current_app.config["CSIRT"]
    return jsonify(evaluate(checked, current_catalog().rules, config.tz).to_json(current_lang()))


@_case_read("triage", CASE_RESULT_SCHEMA, "The explained result")
def case_triage(case: Case) -> ResponseReturnValue:
    """The triage of a case's current facts (same shape as /triage/evaluate, plus `case`)."""
    session = get_session()
    _facts, result = service.evaluate_case(
        session, case, current_app.config["CSIRT"], current_catalog().rules
    )
    body = result.to_json(current_lang())
    state = session.get(CaseTriage, case.id)
    override = None
    if state is not None and state.override_priority is not None:
        override = {
            "priority": state.override_priority,
            "reason": state.override_reason,
            "at": state.override_at.isoformat() if state.override_at else None,
        }
    body["case"] = {
        "id": case.id,
        "reference": case.reference,
        "priority": case.priority,
        "override": override,
    }
    return jsonify(body)


def _obligation_json(row: Obligation, lang: service.Lang, tz: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "regime": row.regime,
        "kind": row.kind,
        "basis": row.basis(lang),
        "article": row.article,
        "due_at": row.due_at.astimezone(tz).isoformat(),
        "target_at": row.target_at.astimezone(tz).isoformat() if row.target_at else None,
        "deadline": row.deadline,
        "source": row.source,
        "status": row.status,
        "done_at": row.done_at.astimezone(tz).isoformat() if row.done_at else None,
        "done_by": row.done_by.username if row.done_by else None,
        "evidence": row.evidence,
    }


@_case_read("obligations", OBLIGATIONS_SCHEMA, "The obligations")
def case_obligations(case: Case) -> ResponseReturnValue:
    """The tracked obligations of a case, soonest due first."""
    lang = current_lang()
    tz = current_app.config["CSIRT"].tz
    rows = service.obligations_of(get_session(), case)
    return jsonify(obligations=[_obligation_json(row, lang, tz) for row in rows])
