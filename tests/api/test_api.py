"""The API: health, OpenAPI, bearer tokens and RFC 9457 problems."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from csirt.auth import service
from csirt.cases.creation import create_case
from csirt.db import utcnow
from tests.factories import FACTORY, UserFactory


def test_health_is_public(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_openapi_document_lists_the_interface_routes(client, make_app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/health" in doc["paths"]
    assert "/api/v1/me" in doc["paths"]
    assert doc["paths"]["/api/v1/health"]["get"]["security"] == []
    intake_doc = make_app("intake").test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/me" not in intake_doc["paths"]


def test_bearer_token(client, users: UserFactory, db_session: Session):
    created = users.create(roles=["lead"])
    _token, plain = service.create_token(db_session, created.user, actor=FACTORY)
    db_session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.json["username"] == created.user.username
    assert "case:view-all" in response.json["permissions"]


def test_token_is_stored_hashed(users: UserFactory, db_session: Session):
    created = users.create()
    token, plain = service.create_token(db_session, created.user, actor=FACTORY)
    assert plain not in token.token_hash
    assert token.prefix == plain[:12]


def test_bad_tokens_get_problem_bodies(client, users: UserFactory, db_session: Session):
    created = users.create()
    revoked, revoked_plain = service.create_token(db_session, created.user, actor=FACTORY)
    service.revoke_token(db_session, revoked, actor=FACTORY)
    _e, expired_plain = service.create_token(
        db_session, created.user, actor=FACTORY, expires_at=utcnow() - timedelta(seconds=1)
    )
    db_session.commit()
    for header in [
        "",
        "Bearer",
        "Bearer nope",
        "Basic abc",
        f"Bearer {revoked_plain}",
        f"Bearer {expired_plain}",
        "Bearer csirt_" + "x" * 200,
    ]:
        response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
        assert response.status_code == 401, header
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_inactive_users_token_is_refused(client, users: UserFactory, db_session: Session):
    created = users.create()
    _t, plain = service.create_token(db_session, created.user, actor=FACTORY)
    created.user.active = False
    db_session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_session_cookie_does_not_authenticate_the_api(client, login_as):
    login_as("lead")
    # The API is CSRF-exempt, so a browser session must never be enough.
    assert client.get("/api/v1/me").status_code == 401


def test_unknown_api_path_and_method_are_problems(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    wrong = client.delete("/api/v1/health")
    assert wrong.status_code == 405
    assert wrong.mimetype == "application/problem+json"
    assert "GET" in wrong.headers["Allow"]


def test_the_request_is_checked_before_the_case_and_reveals_nothing(
    client, users: UserFactory, db_session: Session
):
    """The order of checks (csirt.api.routes): the permission, then the request (422), then the
    case (404). A bad body answers the same for a case the caller may not see, one that does
    not exist and one they may see, so a 422 tells nothing about a case."""
    lead = users.create(roles=["lead"]).user
    outsider = users.create(roles=["responder"]).user
    case = create_case(db_session, title="秘", actor=lead)
    _token, plain = service.create_token(db_session, outsider, actor=FACTORY)
    _token, lead_plain = service.create_token(db_session, lead, actor=FACTORY)
    db_session.commit()
    outside = {"Authorization": f"Bearer {plain}"}
    answers = [
        client.post(f"/api/v1/cases/{case_id}/tasks", json={"title": 1}, headers=headers)
        for case_id, headers in (
            (case.id, outside),
            (case.id + 1000, outside),
            (case.id, {"Authorization": f"Bearer {lead_plain}"}),
        )
    ]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert len({str(a.json) for a in answers}) == 1
    assert answers[0].json["errors"] == {"title": "must be a string"}
    valid = {"title": "t"}
    assert (
        client.post(f"/api/v1/cases/{case.id}/tasks", json=valid, headers=outside).status_code
        == 404
    )
    # the permission comes first: no token, no 422
    assert client.post(f"/api/v1/cases/{case.id}/tasks", json={"title": 1}).status_code == 401
