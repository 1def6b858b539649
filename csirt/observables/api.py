"""The observables API (bearer token): a case's observables with their sightings, corrections
with history, a sightings lookup by value, ATT&CK techniques, and STIX 2.1 / MISP export and
import.

Bodies and query strings are pydantic models (the OpenAPI document shows the same ones); what
only the package knows (a value valid for its type, a known technique) is a 422 from the
service's :class:`~csirt.observables.errors.ObservableValidationError`. Reads need the token's
``read`` scope, changes (imports included) ``write``; every export and lookup is audited.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, Field

from csirt.api import errors
from csirt.api.pagination import PageQuery, page_response, row_id
from csirt.api.responses import created
from csirt.api.routes import ApiRoutes
from csirt.api.schema import (
    NOT_AN_OBJECT,
    ApiModel,
    ApiOut,
    ApiValidationError,
    Instant,
    IsoTime,
    QueryModel,
)
from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.auth.permissions import Permission
from csirt.cases import corrections
from csirt.cases.need_to_know import get_case_for
from csirt.catalog.current import current_catalog
from csirt.db import get_session, writes
from csirt.observables import formats, service, sightings, techniques
from csirt.observables.attack import Technique
from csirt.observables.normalise import (
    HASH_ALGORITHMS,
    MAX_VALUE,
    TYPES,
    defang,
    normalise,
    value_key,
)
from csirt.observables.service import PAP_LEVELS, TLP_LEVELS, ObservableIn

bp = Blueprint("api_observables", __name__, url_prefix="/api/v1")
errors.register(bp)

TAGS = ["observables"]
api = ApiRoutes(bp, TAGS[0])
Kind = Literal[TYPES]  # type: ignore[valid-type]

# --- requests -------------------------------------------------------------------------------


class ObservableBody(ApiModel):
    """One observable; ``value`` may be defanged (``hxxp://example[.]com``): it is stored
    refanged and normalised for its type."""

    type: Kind
    value: str = Field(min_length=1, max_length=MAX_VALUE)
    hash_algorithm: Literal[HASH_ALGORITHMS] | None = Field(  # type: ignore[valid-type]
        None, description="for type hash (default: from the length)"
    )
    tlp: Literal[TLP_LEVELS] = "amber"  # type: ignore[valid-type]
    pap: Literal[PAP_LEVELS] = "amber"  # type: ignore[valid-type]
    tags: list[str] = Field([], max_length=service.MAX_TAGS)
    ioc: bool = Field(False, description="an indicator of compromise (exported for detection)")
    description: str = Field("", max_length=service.MAX_DESCRIPTION)
    first_seen: Instant | None = None
    last_seen: Instant | None = None
    source: str = Field("", max_length=service.MAX_SOURCE)

    def item(self) -> ObservableIn:
        return ObservableIn(**{**self.model_dump(), "tags": tuple(self.tags)})


class ObservableBulk(ApiModel):
    items: list[ObservableBody] = Field(min_length=1, max_length=service.MAX_BATCH)


class ObservableQuery(PageQuery):
    type: Kind | None = None
    ioc: bool | None = None
    q: str | None = Field(None, max_length=200, description="values starting with this text")


class LookupQuery(QueryModel):
    type: Kind
    value: str = Field(min_length=1, max_length=MAX_VALUE, description="may be defanged")


class TechniquesIn(ApiModel):
    techniques: list[str] = Field(
        max_length=techniques.MAX_TECHNIQUES, description="ATT&CK Enterprise ids (T1567.002)"
    )


class AttackQuery(QueryModel):
    q: str = Field(min_length=1, max_length=100, description="id or words of the name")


class ExportQuery(QueryModel):
    include_red: bool = Field(
        False, description="also TLP:RED / PAP:RED observables (and a TLP:RED case's title)"
    )


# --- responses ------------------------------------------------------------------------------


class SightingOut(BaseModel):
    case_id: int
    reference: str
    title: str
    observable_id: int
    ioc: bool


class SightingsOut(BaseModel):
    cases: list[SightingOut] = Field(description=f"up to {sightings.PER_VALUE}, newest first")
    visible: int = Field(description="other cases with this value that you may see")
    hidden: int | None = Field(description="matches you may not see (leads only; else null)")


class ObservableOut(ApiOut):
    id: int
    type: Kind
    value: str = Field(description="refanged and normalised")
    value_defanged: str
    hash_algorithm: str | None
    tlp: str
    pap: str
    tags: list[str]
    ioc: bool
    description: str
    first_seen: IsoTime | None
    last_seen: IsoTime | None
    source: str
    created_at: IsoTime
    updated_at: IsoTime

    @classmethod
    def dump(cls, row: Any, **values: Any) -> dict[str, Any]:
        values.setdefault("value_defanged", defang(row.type, row.value))
        values.setdefault("tags", list(row.tags or []))
        return super().dump(row, **values)


class ObservableSeen(ObservableOut):
    sightings: SightingsOut


class ObservablePage(BaseModel):
    items: list[ObservableSeen]
    next_cursor: str | None


class BulkOut(BaseModel):
    created: int
    merged: int = Field(description="values already on the case, merged (history kept)")
    items: list[ObservableOut]


class LookupOut(BaseModel):
    type: str
    value: str
    sightings: SightingsOut


class TechniqueOut(BaseModel):
    id: str
    name: str
    tactics: list[str]
    url: str


class TaggedTechniqueOut(TechniqueOut):
    on_case: bool
    event_ids: list[int] = Field(description="timeline events tagged with it")


class TechniquesOut(BaseModel):
    version: str = Field(description="ATT&CK Enterprise version of the list")
    items: list[TaggedTechniqueOut]
    suggested: list[TechniqueOut] = Field(description="from the case's playbooks, not yet set")


class TechniqueList(BaseModel):
    items: list[TechniqueOut]


class ImportOut(BaseModel):
    created: int
    merged: int
    skipped: int = Field(description="objects or attributes without a usable observable")
    techniques: list[str] = Field(description="techniques added to the case")


# --- helpers --------------------------------------------------------------------------------


def _case(case_id: int) -> Any:
    return get_case_for(get_session(), current_user, case_id)


def _sightings(found: sightings.Sightings) -> dict[str, Any]:
    """As :class:`SightingsOut` (built by hand: a page has up to 200 of them)."""
    cases = [dict(vars(c)) for c in found.cases]
    return {"cases": cases, "visible": found.visible, "hidden": found.hidden}


def _seen(row: Any, found: sightings.Sightings) -> dict[str, Any]:
    """An observable as :class:`ObservableSeen`."""
    return {**ObservableOut.dump(row), "sightings": _sightings(found)}


def _technique(technique: Technique) -> dict[str, Any]:
    return {
        "id": technique.id,
        "name": technique.name,
        "tactics": list(technique.tactics),
        "url": technique.url,
    }


def _techniques_body(case: Any) -> dict[str, Any]:
    catalog = current_catalog()
    session = get_session()
    items = []
    for tagged in techniques.case_techniques(session, case, catalog.attack):
        info = _technique(tagged.technique) if tagged.technique else {"id": tagged.id}
        items.append(
            {"name": "", "tactics": [], "url": "", **info, "on_case": tagged.on_case,
             "event_ids": list(tagged.event_ids)}
        )  # fmt: skip
    suggested = [_technique(t) for t in techniques.suggested(session, case, catalog)]
    return {"version": catalog.attack.version, "items": items, "suggested": suggested}


# --- observables ----------------------------------------------------------------------------


@api.get(
    "/cases/<int:case_id>/observables",
    Permission.CASE_VIEW,
    ok=ObservablePage,
    query=ObservableQuery,
)
def list_observables(case_id: int, query: ObservableQuery) -> ResponseReturnValue:
    """The case's observables with their sightings in other cases (keyset pagination)."""
    case = _case(case_id)
    session = get_session()
    page = service.list_observables(
        session,
        case,
        kind=query.type,
        ioc=query.ioc,
        text=query.q,
        limit=query.limit,
        after_id=query.position("observables", row_id),
    )
    seen = sightings.sightings_for(
        session, current_user, [row.value_key for row in page.items], exclude_case_id=case.id
    )

    def to_json(row: Any) -> dict[str, Any]:
        return _seen(row, seen[row.value_key])

    return page_response("observables", page.items, to_json, page.next_id)


@api.post(
    "/cases/<int:case_id>/observables",
    Permission.CASE_EDIT,
    created=ObservableOut,
    ok=ObservableOut,
    body=ObservableBody,
)
def post_observable(case_id: int, body: ObservableBody) -> ResponseReturnValue:
    """Add an observable (a value already on the case is merged into it)."""
    case = _case(case_id)
    session = get_session()
    result = service.add_many(session, case, current_user, [body.item()], source="api")
    session.commit()
    row = result.observables[0]
    if result.created:
        return created(ObservableOut.dump(row), f"/api/v1/cases/{case.id}/observables/{row.id}")
    return jsonify(ObservableOut.dump(row))


@api.post(
    "/cases/<int:case_id>/observables/bulk", Permission.CASE_EDIT, ok=BulkOut, body=ObservableBulk
)
def post_observables(case_id: int, body: ObservableBulk) -> ResponseReturnValue:
    """Add many observables at once, all or nothing (duplicates merged)."""
    case = _case(case_id)
    session = get_session()
    items = [entry.item() for entry in body.items]
    result = service.add_many(session, case, current_user, items, source="api")
    session.commit()
    rows = list({id(row): row for row in result.observables}.values())
    return jsonify(
        created=len(result.created),
        merged=len(result.merged),
        items=[ObservableOut.dump(row) for row in rows],
    )


@api.get(
    "/cases/<int:case_id>/observables/<int:observable_id>", Permission.CASE_VIEW, ok=ObservableSeen
)
def get_observable(case_id: int, observable_id: int) -> ResponseReturnValue:
    """One observable with its sightings."""
    case = _case(case_id)
    session = get_session()
    row = service.get_observable(session, case, observable_id)
    seen = sightings.sightings_for(session, current_user, [row.value_key], exclude_case_id=case.id)
    return jsonify(_seen(row, seen[row.value_key]))


corrections.api_routes(
    bp,
    corrections.ApiKind(
        kind=service.OBSERVABLE,
        path="observables",
        name="observable",
        noun="observable",
        out=ObservableOut,
        create=ObservableBody,
        edit=service.correct,
        tags=tuple(TAGS),
    ),
    _case,
)


@api.get("/observables/sightings", Permission.CASE_VIEW, ok=LookupOut, query=LookupQuery)
@writes
def lookup(query: LookupQuery) -> ResponseReturnValue:
    """The cases you may see where a value appears (one index seek; audited by its key only)."""
    try:
        value = normalise(query.type, query.value)
    except ValueError as error:
        raise ApiValidationError({"value": str(error)}) from None
    key = value_key(query.type, value)
    session = get_session()
    found = sightings.sightings_of(session, current_user, key)
    audit.record(
        session,
        AuditAction.OBSERVABLE_LOOKUP,
        actor=audit.actor_of(current_user),
        object_type="observable",
        details={"type": query.type, "key": key, "visible": found.visible},
    )
    session.commit()
    return jsonify(type=query.type, value=value, sightings=_sightings(found))


# --- ATT&CK ---------------------------------------------------------------------------------


@api.get("/attack/techniques", Permission.CASE_VIEW, ok=TechniqueList, query=AttackQuery)
def search_techniques(query: AttackQuery) -> ResponseReturnValue:
    """Search the ATT&CK Enterprise technique list by id or name."""
    found = current_catalog().attack.search(query.q)
    return jsonify(items=[_technique(t) for t in found])


@api.get("/cases/<int:case_id>/techniques", Permission.CASE_VIEW, ok=TechniquesOut)
def get_techniques(case_id: int) -> ResponseReturnValue:
    """The case's ATT&CK techniques (on the case and its timeline events) and suggestions."""
    return jsonify(_techniques_body(_case(case_id)))


@api.put(
    "/cases/<int:case_id>/techniques", Permission.CASE_EDIT, ok=TechniquesOut, body=TechniquesIn
)
def put_techniques(case_id: int, body: TechniquesIn) -> ResponseReturnValue:
    """Set the case's own ATT&CK techniques (replaces the set)."""
    return _set_techniques(case_id, body)


@api.put(
    "/cases/<int:case_id>/timeline/<int:event_id>/techniques",
    Permission.CASE_EDIT,
    ok=TechniquesOut,
    body=TechniquesIn,
)
def put_event_techniques(case_id: int, event_id: int, body: TechniquesIn) -> ResponseReturnValue:
    """Set the ATT&CK techniques of one timeline event (replaces its set)."""
    return _set_techniques(case_id, body, event_id)


def _set_techniques(
    case_id: int, body: TechniquesIn, event_id: int | None = None
) -> ResponseReturnValue:
    """Replace the techniques of the case (or of one of its timeline events) with the body's."""
    case = _case(case_id)
    session = get_session()
    matrix = current_catalog().attack
    techniques.set_techniques(
        session, case, current_user, matrix, body.techniques, event_id=event_id
    )
    session.commit()
    return jsonify(_techniques_body(case))


# --- export and import ----------------------------------------------------------------------

EXPORT_SCHEMA = {"type": "object", "description": "a STIX 2.1 bundle or a MISP event"}


def _export(case_id: int, fmt: str, query: ExportQuery) -> Response:
    case = _case(case_id)
    session = get_session()
    matrix = current_catalog().attack
    response = formats.download(
        session, case, current_user, matrix, fmt, include_red=query.include_red
    )
    session.commit()
    return response


def _import(case_id: int, fmt: str) -> ResponseReturnValue:
    case = _case(case_id)
    if not request.is_json:
        raise ApiValidationError({"body": NOT_AN_OBJECT})
    session = get_session()
    matrix = current_catalog().attack
    raw = request.get_data(cache=True)
    result = formats.import_file(session, case, current_user, matrix, fmt, raw)
    session.commit()
    return jsonify(asdict(result))


def _exchange_routes(fmt: str, what: str) -> None:
    """The export and the import of one format."""

    def export(case_id: int, query: ExportQuery) -> ResponseReturnValue:
        return _export(case_id, fmt, query)

    def read(case_id: int) -> ResponseReturnValue:
        return _import(case_id, fmt)

    export.__name__, read.__name__ = f"export_{fmt}", f"import_{fmt}"
    export.__doc__ = f"The case as {what} (TLP:RED / PAP:RED only with include_red; audited)"
    read.__doc__ = f"Read {what} into the case (observables created or merged, techniques added)"
    rule = f"/cases/<int:case_id>/{{}}/{fmt}"
    api.get(rule.format("export"), Permission.CASE_VIEW, ok=EXPORT_SCHEMA, query=ExportQuery)(
        writes(export)
    )
    api.post(rule.format("import"), Permission.CASE_EDIT, ok=ImportOut, request_body=EXPORT_SCHEMA)(
        read
    )


_exchange_routes("stix", "a STIX 2.1 bundle (Report, Indicators, Observed Data, Attack Patterns)")
_exchange_routes("misp", "a MISP event JSON")
