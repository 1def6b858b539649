"""Documents API: create (201), read, edit sections, approve, .docx; 422 naming bad fields."""

from __future__ import annotations

import io
from typing import Any

import docx
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.documents import blocks
from csirt.documents.builders import SECTIONS
from tests.documents.conftest import DemoCase, make_demo_case
from tests.factories import FACTORY, UserFactory, assign_to_case

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _bearer(
    db_session: Session, users: UserFactory, *roles: str, case_id: int | None = None
) -> dict[str, str]:
    user = users.create(roles=list(roles)).user
    if case_id is not None:  # PR and committee reach only the cases they are assigned to
        assign_to_case(db_session, user, case_id, roles[0])
    _token, plain = auth_service.create_token(
        db_session, user, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def case(db_session: Session, users: UserFactory) -> DemoCase:
    demo = make_demo_case(db_session, users.create(roles=["lead"]).user)
    db_session.commit()
    return demo


def _create(client: FlaskClient, headers: dict[str, str], case_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/documents", json=body, headers=headers)


def test_pr_creates_edits_lead_approves_pr_downloads(client, db_session, users, case) -> None:
    pr = _bearer(db_session, users, "pr", case_id=case.case.id)
    lead = _bearer(db_session, users, "lead")
    created = _create(client, pr, case.case.id, kind="press_release", lang="ja")
    assert created.status_code == 201
    body = created.json
    assert body["kind"] == "press_release"
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert body["section_keys"] == list(SECTIONS["press_release"])
    assert set(body["sections"]) == set(SECTIONS["press_release"])
    assert created.headers["Location"] == f"/api/v1/documents/{body['id']}"
    doc = f"/api/v1/documents/{body['id']}"

    draft = client.get(f"{doc}/docx", headers=pr)
    assert draft.status_code == 200
    assert draft.mimetype == DOCX
    assert draft.headers["X-Document-Final"] == "false"
    assert blocks.has_watermark(docx.Document(io.BytesIO(draft.data)))

    edited = client.patch(
        f"{doc}/sections",
        json={"sections": {"cause": "原因は調査中です。"}, "base_version": 1, "note": "cause"},
        headers=pr,
    )
    assert edited.status_code == 200
    assert edited.json["version"] == 2
    stale = client.patch(
        f"{doc}/sections", json={"sections": {"cause": "x"}, "base_version": 1}, headers=pr
    )
    assert stale.status_code == 409
    assert stale.json["type"].endswith("stale-version")

    assert client.post(f"{doc}/approve", headers=pr).status_code == 403
    approved = client.post(f"{doc}/approve", headers=lead)
    assert approved.status_code == 200
    assert approved.json["status"] == "approved"
    assert approved.json["approved_version"] == 2
    again = client.post(f"{doc}/approve", headers=lead)
    assert again.status_code == 409

    final = client.get(f"{doc}/docx", headers=pr)
    assert final.headers["X-Document-Final"] == "true"
    assert final.headers["X-Document-Version"] == "2"
    assert "_v2_final.docx" in final.headers["Content-Disposition"]
    assert not blocks.has_watermark(docx.Document(io.BytesIO(final.data)))
    read = client.get(doc, headers=pr)
    assert read.status_code == 200
    assert read.json["sections"]["cause"] == "原因は調査中です。"


def test_the_last_editor_cannot_approve(client, db_session, users, case) -> None:
    lead = _bearer(db_session, users, "lead")
    created = _create(client, lead, case.case.id, kind="ppc_report", lang="ja").json
    refused = client.post(f"/api/v1/documents/{created['id']}/approve", headers=lead)
    assert refused.status_code == 409
    assert refused.json["type"].endswith("self-approval")


def test_422_names_every_bad_field(client, db_session, users, case) -> None:
    lead = _bearer(db_session, users, "lead")
    bad = _create(client, lead, case.case.id, kind="memo", lang="fr")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"kind", "lang"}
    not_json = client.post(f"/api/v1/cases/{case.case.id}/documents", data="x", headers=lead)
    assert not_json.status_code == 422
    assert "body" in not_json.json["errors"]
    doc = _create(client, lead, case.case.id, kind="press_release").json
    url = f"/api/v1/documents/{doc['id']}/sections"
    bad_edit = client.patch(
        url, json={"sections": {}, "base_version": "1", "note": 5}, headers=lead
    )
    assert bad_edit.status_code == 422
    assert set(bad_edit.json["errors"]) == {"sections", "base_version", "note"}
    unknown = client.patch(url, json={"sections": {"nope": "x", "lead": 1}}, headers=lead)
    assert unknown.status_code == 422
    assert set(unknown.json["errors"]) == {"sections.nope", "sections.lead"}
    assert client.patch(url, data="x", headers=lead).status_code == 422


def test_guard_refusal_is_a_422_naming_the_section(client, db_session, users, case) -> None:
    lead = _bearer(db_session, users, "lead")
    other = _bearer(db_session, users, "lead")
    doc = _create(client, lead, case.case.id, kind="individual_notice").json
    url = f"/api/v1/documents/{doc['id']}"
    client.patch(
        f"{url}/sections", json={"sections": {"other": "問合せ tip@example.com"}}, headers=lead
    )
    refused = client.get(f"{url}/docx", headers=lead)
    assert refused.status_code == 422
    assert refused.json["errors"] == {"other": "contains forbidden content: email"}
    # The refusal names the matched text (issue 14), for the one who wrote it.
    assert refused.json["findings"][0]["text"] == "tip@example.com"
    approve = client.post(f"{url}/approve", headers=other)
    assert approve.status_code == 422
    assert "other" in approve.json["errors"]


def test_access_rules(client, db_session, users, case) -> None:
    lead = _bearer(db_session, users, "lead")
    committee = _bearer(db_session, users, "committee", case_id=case.case.id)
    outsider = _bearer(db_session, users, "responder")
    press = _create(client, lead, case.case.id, kind="press_release").json
    assert client.get(f"/api/v1/documents/{press['id']}", headers=committee).status_code == 404
    forbidden_kind = _create(client, committee, case.case.id, kind="press_release")
    assert forbidden_kind.status_code == 403
    assert _create(client, committee, case.case.id, kind="committee_report").status_code == 201
    assert _create(client, outsider, case.case.id, kind="press_release").status_code == 404
    for path in ("", "/docx"):
        assert client.get(f"/api/v1/documents/999999{path}", headers=lead).status_code == 404
    assert client.post("/api/v1/documents/999999/approve", headers=lead).status_code == 404
    assert (
        client.patch(
            "/api/v1/documents/999999/sections", json={"sections": {"a": "b"}}, headers=lead
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/documents/{press['id']}").status_code == 401


def test_openapi_lists_the_document_operations(client) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/cases/{case_id}/documents"]
    assert "get" in paths["/api/v1/documents/{document_id}"]
    assert "get" in paths["/api/v1/documents/{document_id}/docx"]
    assert "post" in paths["/api/v1/documents/{document_id}/approve"]
    assert "patch" in paths["/api/v1/documents/{document_id}/sections"]
    create = paths["/api/v1/cases/{case_id}/documents"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["properties"]["kind"][
        "enum"
    ] == list(SECTIONS)
