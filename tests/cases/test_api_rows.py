"""The case list API writes its rows without a pydantic round trip per row (cases.api.case_items,
api.pagination.items_response). CaseOut stays the contract: the answer must be, byte for byte,
what CaseOut.dump and Flask's JSON provider write for the same cases, and every item must have
exactly the properties the OpenAPI document shows for CaseOut, valid against its schema."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth import service
from csirt.cases import listing
from csirt.cases.api import CASE_COLUMNS, CaseOut
from csirt.cases.creation import create_case
from tests.factories import FACTORY, UserFactory

DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d$")


def _varied_cases(db_session: Session) -> None:
    """Cases whose columns take every kind of value CaseOut writes."""
    tokyo = timezone(timedelta(hours=9))
    values: list[dict[str, Any]] = [
        {},
        {
            "aware_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),  # whole seconds
            "involved": ["総務課", 'a "quoted" <name>'],
            "persons_total": 0,
            "insider": True,
        },
        {
            "aware_at": datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=tokyo),  # stored as UTC
            "closed_at": datetime(2026, 3, 2, 0, 0, 0, 1, tzinfo=UTC),
            "phase": "closed",
            "outcome": "resolved",
            "priority": "P1",
            "tlp": "red",
            "summary": "line\nbreak\u2028separator \U0001f600 \\ backslash",
            "persons_total": 2_000_000_000,
            "persons_total_note": "推定",
            "wrongful_intent": True,
            "ongoing": True,
        },
        {"involved": None},  # JSON null in the column: written as []
        {"involved": []},
    ]
    for n, changes in enumerate(values):
        case = create_case(db_session, title=f"契約 {n} \u00e9\t", actor=None)
        for name, value in changes.items():
            setattr(case, name, value)
    db_session.commit()


def _bearer(users: UserFactory, db_session: Session) -> dict[str, str]:
    user = users.create(roles=["lead"]).user
    _token, plain = service.create_token(db_session, user, actor=FACTORY)
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_the_case_list_is_byte_for_byte_what_caseout_writes(
    app: Flask, client: FlaskClient, users: UserFactory, db_session: Session
) -> None:
    _varied_cases(db_session)
    headers = _bearer(users, db_session)
    lead = users.create(roles=["lead"]).user
    db_session.commit()
    cursor = None
    pages = 0
    while True:
        url = "/api/v1/cases?limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        with app.test_request_context("/"):
            page = listing.list_cases(db_session, lead, limit=2, cursor=_position(cursor))
            expected = app.json.response(
                items=[CaseOut.dump(case) for case in page.items],
                next_cursor=response.json["next_cursor"],
            )
        assert response.get_data() == expected.get_data()
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert pages >= 3


def _position(cursor: str | None) -> int | None:
    from csirt.api.pagination import decode_cursor

    if cursor is None:
        return None
    text = decode_cursor("cases", cursor)
    assert text is not None
    return int(text)


def test_every_item_has_exactly_the_documented_caseout_properties(
    client: FlaskClient, users: UserFactory, db_session: Session
) -> None:
    _varied_cases(db_session)
    headers = _bearer(users, db_session)
    document = client.get("/api/v1/openapi.json").json
    assert document is not None
    shown = document["paths"]["/api/v1/cases"]["get"]["responses"]["200"]["content"]
    schema = {**shown["application/json"]["schema"], "components": document["components"]}
    caseout = document["components"]["schemas"]["CaseOut"]
    assert set(caseout["properties"]) == set(CASE_COLUMNS)  # the columns the list reads
    body = client.get("/api/v1/cases?limit=100", headers=headers).json
    assert body is not None
    jsonschema.Draft202012Validator(schema).validate(body)
    assert len(body["items"]) >= 5
    for item in body["items"]:
        assert set(item) == set(caseout["properties"])
        assert set(caseout.get("required", [])) <= set(item)
        CaseOut.model_validate(item)  # the values read back as the model
        for name, prop in caseout["properties"].items():
            kinds = [prop, *prop.get("anyOf", [])]
            if any(kind.get("format") == "date-time" for kind in kinds) and item[name]:
                assert DATE_TIME.match(item[name]), (name, item[name])
