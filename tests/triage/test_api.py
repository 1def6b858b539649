"""The triage API contract: evaluate facts, a case's triage and its obligations."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth import service as auth
from csirt.triage import service
from tests.factories import FACTORY, UserFactory

from .integration import founding_case

FOUNDING: dict[str, Any] = {
    "organization": {"kind": "local_government", "jurisdictions": ["JP"]},
    "aware_at": "2015-06-24T10:00:00+09:00",
    "datasets": [
        {
            "items": ["name", "address", "birth_date", "sex"],
            "persons": 680000,
            "persons_estimated": False,
            "encrypted": False,
        }
    ],
    "exposure": "public_internet",
    "insider": True,
    "wrongful_intent": False,
    "ongoing": False,
    "whistleblower_report": False,
    "reported_at": None,
}


def _bearer(session: Session, users: UserFactory, *roles: str, lang: str | None = None) -> Any:
    created = users.create(roles=list(roles))
    created.user.lang = lang
    _token, plain = auth.create_token(session, created.user, actor=FACTORY)
    session.commit()
    return created.user, {"Authorization": f"Bearer {plain}"}


def test_evaluate_the_founding_case(
    client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    _user, headers = _bearer(db_session, users, "responder")
    response = client.post("/api/v1/triage/evaluate?lang=en", json=FOUNDING, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json
    assert body["priority"] == "P1"
    assert 0 <= body["score"] <= 100
    assert {o["kind"] for o in body["obligations"]} == {
        "ppc_preliminary",
        "ppc_final",
        "notify_individuals",
    }
    for obligation in body["obligations"]:
        assert {"regime", "kind", "basis", "due_at"} <= set(obligation)
        assert obligation["regime"] == "appi"
    assert {o["kind"]: o["due_at"] for o in body["obligations"]}["ppc_preliminary"] == (
        "2015-06-27T23:59:59+09:00"
    )
    damage = body["damage_estimate"]
    assert (damage["per_person_jpy"], damage["total_jpy"]) == (6_000, 4_080_000_000)
    assert {k: v["value"] for k, v in damage["coefficients"].items()} == {
        "base": 500,
        "x": 1,
        "y": 1,
        "sensitivity": 2,
        "identifiability": 6,
        "social_responsibility": 1,
        "response": 1,
    }
    assert all(set(f) == {"key", "points", "reason"} for f in body["factors"])
    assert "680,000 persons affected" in body["factors"][0]["reason"]


def test_language_comes_from_the_query_then_the_user_then_the_server(
    client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    _u, english_user = _bearer(db_session, users, "responder", lang="en")
    _v, no_preference = _bearer(db_session, users, "responder")
    reason = "/api/v1/triage/evaluate"

    def first_reason(url: str, headers: dict[str, str]) -> str:
        response = client.post(url, json=FOUNDING, headers=headers)
        assert response.status_code == 200
        return str(response.json["factors"][0]["reason"])

    assert first_reason(reason, english_user).startswith("680,000 persons")
    assert first_reason(reason + "?lang=ja", english_user).startswith("影響を受ける本人")
    assert first_reason(reason, no_preference).startswith("影響を受ける本人")  # server: ja


def test_invalid_facts_are_422_naming_each_field(
    client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    _user, headers = _bearer(db_session, users, "responder")
    body = {
        **FOUNDING,
        "organization": {"kind": "city"},
        "aware_at": "2015-06-24T10:00:00",
        "datasets": [{"items": ["name", "shoe_size"], "persons": -1}],
        "exposure": "everywhere",
        "insider": "yes",
        "colour": "red",
    }
    del body["ongoing"]
    response = client.post("/api/v1/triage/evaluate", json=body, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {
        "organization.kind",
        "aware_at",
        "datasets.0.items.1",
        "datasets.0.persons",
        "exposure",
        "insider",
        "ongoing",
        "colour",
    }


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b""])
def test_a_body_that_is_not_an_object_is_422(
    client: FlaskClient, db_session: Session, users: UserFactory, data: bytes
) -> None:
    _user, headers = _bearer(db_session, users, "responder")
    response = client.post(
        "/api/v1/triage/evaluate",
        data=data,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"body": "must be a JSON object"}


def test_evaluate_needs_a_token_and_the_permission(
    client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    assert client.post("/api/v1/triage/evaluate", json=FOUNDING).status_code == 401
    _pr, headers = _bearer(db_session, users, "pr")
    assert client.post("/api/v1/triage/evaluate", json=FOUNDING, headers=headers).status_code == 403


def test_a_cases_triage_and_obligations(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    user, headers = _bearer(db_session, users, "responder")
    case = founding_case(app, db_session, user)
    obligation = service.open_obligations(db_session, case)[0]
    db_session.commit()

    triage = client.get(f"/api/v1/cases/{case.id}/triage?lang=en", headers=headers)
    assert triage.status_code == 200
    body = triage.json
    assert body["priority"] == "P1"
    assert body["damage_estimate"]["total_jpy"] == 4_080_000_000
    assert {o["kind"] for o in body["obligations"]} == {
        "ppc_preliminary",
        "ppc_final",
        "notify_individuals",
    }
    assert body["case"] == {
        "id": case.id,
        "reference": case.reference,
        "priority": "P1",
        "override": None,
    }

    lead = users.create(roles=["lead"]).user
    service.override_priority(db_session, case, priority="P2", reason="taken down", actor=lead)
    db_session.commit()
    body = client.get(f"/api/v1/cases/{case.id}/triage", headers=headers).json
    assert body["priority"] == "P1"  # computed
    assert body["case"]["priority"] == "P2"
    assert body["case"]["override"]["reason"] == "taken down"

    listed = client.get(f"/api/v1/cases/{case.id}/obligations?lang=en", headers=headers)
    assert listed.status_code == 200
    rows = listed.json["obligations"]
    assert rows[0]["kind"] == "ppc_preliminary"  # soonest due first
    assert {r["kind"] for r in rows[1:]} == {"notify_individuals", "ppc_final"}
    first = rows[0]
    assert first["id"] == obligation.id
    assert first["status"] == "pending"
    assert first["done_at"] is None
    assert first["done_by"] is None
    assert first["due_at"] == "2015-06-27T23:59:59+09:00"
    assert first["basis"].startswith(first["article"])

    service.mark_done(
        db_session,
        service.get_obligation(db_session, case, obligation.id),
        done_at=service.get_obligation(db_session, case, obligation.id).due_at,
        evidence="receipt 7",
        actor=lead,
    )
    db_session.commit()
    done = client.get(f"/api/v1/cases/{case.id}/obligations", headers=headers).json
    first = done["obligations"][0]
    assert (first["status"], first["done_by"], first["evidence"]) == (
        "done",
        lead.username,
        "receipt 7",
    )
    assert first["done_at"] == "2015-06-27T23:59:59+09:00"


def test_cases_outside_need_to_know_are_404_problems(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    owner = users.create(roles=["lead"]).user
    case = founding_case(app, db_session, owner)
    _user, headers = _bearer(db_session, users, "responder")
    for path in (f"/api/v1/cases/{case.id}/triage", f"/api/v1/cases/{case.id}/obligations"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/cases/999999/triage", headers=headers).status_code == 404


def test_openapi_describes_the_triage_endpoints(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    evaluate = doc["paths"]["/api/v1/triage/evaluate"]["post"]
    schema = evaluate["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) >= {
        "organization",
        "aware_at",
        "datasets",
        "exposure",
        "insider",
        "wrongful_intent",
        "ongoing",
        "whistleblower_report",
        "reported_at",
    }
    result = evaluate["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(result["required"]) == {
        "score",
        "priority",
        "factors",
        "damage_estimate",
        "obligations",
    }
    assert "422" in evaluate["responses"]
    assert "get" in doc["paths"]["/api/v1/cases/{case_id}/triage"]
    assert "get" in doc["paths"]["/api/v1/cases/{case_id}/obligations"]
