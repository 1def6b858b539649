"""Approval freezes what was approved: the final .docx of an approved version is built from the
facts, the date and the template it was approved with, byte for byte, whatever happens to the
case afterwards; drafts follow today's facts; new facts need a new version and a new approval.
Everything goes through the real console routes and the API."""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from datetime import date
from typing import Any

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth import service as auth_service
from csirt.demo_story import founding_facts
from csirt.documents import approval, blocks, frozen, service
from csirt.documents.models import Document, DocumentVersion
from tests.conftest import csrf_from, login
from tests.documents.conftest import make_demo_case
from tests.documents.helpers import body_text, rows
from tests.factories import FACTORY, UserFactory, assign_to_case

NEW_EVENT = "承認後に追加した公表事項"
NEW_DATASET = "承認後に判明した名簿"


def _client(app: Flask, users: UserFactory, db_session: Session, *roles: str) -> Any:
    created = users.create(roles=list(roles))
    db_session.commit()
    client = app.test_client()
    assert login(client, created.user.username, created.password).status_code == 302
    return client, created.user


def _post(client: FlaskClient, page_url: str, url: str, data: dict[str, Any]) -> Any:
    page = client.get(page_url)
    return client.post(url, data={**data, "csrf_token": csrf_from(page.text)})


def _bearer(db_session: Session, user: Any) -> dict[str, str]:
    _token, plain = auth_service.create_token(
        db_session, user, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _text(data: bytes) -> str:
    return body_text(docx.Document(io.BytesIO(data)))


def _change_facts(client: FlaskClient, worker: dict[str, str], case_id: int) -> None:
    """A case worker adds a public timeline event and a data set through the API."""
    event = client.post(
        f"/api/v1/cases/{case_id}/timeline",
        json={
            "occurred_at": "2015-12-20",
            "precision": "day",
            "title": NEW_EVENT,
            "visibility": "public",
        },
        headers=worker,
    )
    assert event.status_code == 201, event.json
    dataset = client.post(
        f"/api/v1/cases/{case_id}/datasets",
        json={
            "name": NEW_DATASET,
            "holder": "北区選挙管理委員会事務局",
            "items": ["name", "address"],
            "persons": 42,
            "exposure": "public_internet",
        },
        headers=worker,
    )
    assert dataset.status_code == 201, dataset.json


@pytest.fixture
def setting(app: Flask, db_session: Session, users: UserFactory) -> dict[str, Any]:
    worker = users.create(roles=["lead"])
    demo = make_demo_case(db_session, worker.user)
    db_session.commit()
    pr, pr_user = _client(app, users, db_session, "pr")
    assign_to_case(db_session, pr_user, demo.case.id, "pr")
    approver, approver_user = _client(app, users, db_session, "lead")
    return {
        "case": demo.case,
        "pr": pr,
        "pr_token": _bearer(db_session, pr_user),
        "approver": approver,
        "approver_token": _bearer(db_session, approver_user),
        "worker_token": _bearer(db_session, worker.user),
    }


def test_final_export_is_frozen_draft_follows_the_facts(
    app: Flask, client: FlaskClient, db_session: Session, setting: dict[str, Any]
) -> None:
    case, pr, approver = setting["case"], setting["pr"], setting["approver"]
    case_url = f"/console/cases/{case.id}/documents"
    created = _post(pr, case_url, case_url, {"kind": "press_release", "lang": "ja"})
    assert created.status_code == 302
    match = re.search(r"/console/documents/(\d+)", created.headers["Location"])
    assert match
    doc_id = int(match.group(1))
    detail = f"/console/documents/{doc_id}"

    # The approver approves what the page showed (the facts' digest travels with the form).
    page = approver.get(detail)
    assert 'name="facts_sha256"' in page.text
    assert _post(approver, detail, f"{detail}/approve", {"facts_sha256": _digest(page.text)})
    document = db_session.get(Document, doc_id)
    db_session.refresh(document)
    assert document is not None
    assert document.approved_version == 1
    approved_on = service.frozen_facts(service.version(db_session, document, 1))
    assert approved_on is not None

    first = _post(pr, detail, f"{detail}/export", {})
    assert first.status_code == 200
    assert "_v1_final.docx" in first.headers["Content-Disposition"]
    built = docx.Document(io.BytesIO(first.data))
    assert not blocks.has_watermark(built)
    assert "匿名の通報を受付" in body_text(built)
    assert NEW_EVENT not in body_text(built)
    # Document properties come from the frozen facts, not from the clock or python-docx.
    props = built.core_properties
    assert props.author == "堺市"
    assert props.created is not None
    assert props.created.date() <= approved_on.document_date
    assert props.created == props.modified

    # Facts change after approval: a public event and a data set, through the API.
    time.sleep(1.1)  # a later second: a .docx stamped with the clock would differ
    _change_facts(client, setting["worker_token"], case.id)

    again = _post(pr, detail, f"{detail}/export", {})
    assert again.status_code == 200
    assert again.data == first.data  # byte for byte
    api = client.get(f"/api/v1/documents/{doc_id}/docx", headers=setting["pr_token"])
    assert api.status_code == 200
    assert api.headers["X-Document-Final"] == "true"
    assert api.data == first.data
    assert api.headers["X-Document-SHA256"] == hashlib.sha256(first.data).hexdigest()
    assert api.headers["X-Document-Date"] == approved_on.document_date.isoformat()

    # The page and the API say that the facts changed and offer a new version.
    _english(pr)
    page = pr.get(detail)
    assert "Facts changed since approval" in page.text
    assert f'action="{detail}/new-version"' in page.text
    read = client.get(f"/api/v1/documents/{doc_id}", headers=setting["pr_token"]).json
    assert read["status"] == "approved"
    assert read["facts_changed_since_approval"] is True
    assert read["approved_sha256"] == hashlib.sha256(first.data).hexdigest()
    assert read["approved_document_date"] == approved_on.document_date.isoformat()

    # A new version from current facts is a draft, built from today's facts.
    made = _post(pr, detail, f"{detail}/new-version", {})
    assert made.status_code == 302
    draft = _post(pr, detail, f"{detail}/export", {})
    assert "_v2_draft.docx" in draft.headers["Content-Disposition"]
    draft_doc = docx.Document(io.BytesIO(draft.data))
    assert blocks.has_watermark(draft_doc)
    assert NEW_EVENT in body_text(draft_doc)
    assert any(NEW_DATASET in row[0] or NEW_DATASET in row[1] for row in _all_rows(draft_doc))
    # The approved version 1 still exports unchanged while version 2 waits for approval.
    still = _post(pr, detail, f"{detail}/export", {"version": "1"})
    assert still.data == first.data

    # Version 2 needs its own approval; then its final carries the new facts.
    pr_only = client.get(f"/api/v1/documents/{doc_id}/docx", headers=setting["pr_token"])
    assert pr_only.headers["X-Document-Final"] == "false"
    stale = client.post(
        f"/api/v1/documents/{doc_id}/approve",
        json={"facts_sha256": read["approved_facts_sha256"]},
        headers=setting["approver_token"],
    )
    assert stale.status_code == 409
    assert stale.json["type"].endswith("facts-changed")
    fresh = client.get(f"/api/v1/documents/{doc_id}", headers=setting["pr_token"]).json
    approved = client.post(
        f"/api/v1/documents/{doc_id}/approve",
        json={"facts_sha256": fresh["facts_sha256"]},
        headers=setting["approver_token"],
    )
    assert approved.status_code == 200, approved.json
    assert approved.json["approved_version"] == 2
    assert approved.json["facts_changed_since_approval"] is False
    second = client.get(f"/api/v1/documents/{doc_id}/docx", headers=setting["pr_token"])
    assert second.headers["X-Document-Final"] == "true"
    assert NEW_EVENT in _text(second.data)
    assert second.data != first.data

    exports = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "document.export", AuditEvent.object_id == str(doc_id))
        .order_by(AuditEvent.seq)
    ).all()
    finals = [e.details["sha256"] for e in exports if e.details["final"]]
    assert finals[:4] == [hashlib.sha256(first.data).hexdigest()] * 4


def _digest(html: str) -> str:
    match = re.search(r'name="facts_sha256" value="([0-9a-f]{64})"', html)
    assert match
    return match.group(1)


def _english(client: FlaskClient) -> None:
    page = client.get("/console/account")
    client.post("/language", data={"lang": "en", "csrf_token": csrf_from(page.text), "next": "/"})


def _all_rows(document: Any) -> list[list[str]]:
    return [row for table in document.tables for row in rows(table)]


def test_console_approval_of_changed_facts_is_refused(
    client: FlaskClient, db_session: Session, setting: dict[str, Any]
) -> None:
    case, pr, approver = setting["case"], setting["pr"], setting["approver"]
    case_url = f"/console/cases/{case.id}/documents"
    created = _post(pr, case_url, case_url, {"kind": "ppc_report", "lang": "ja"})
    detail = created.headers["Location"]
    reviewed = approver.get(detail)
    _change_facts(client, setting["worker_token"], case.id)
    refused = approver.post(
        f"{detail}/approve",
        data={"facts_sha256": _digest(reviewed.text), "csrf_token": csrf_from(reviewed.text)},
    )
    assert refused.status_code == 409
    document = db_session.scalar(select(Document).where(Document.case_id == case.id))
    assert document is not None
    db_session.refresh(document)
    assert document.approved_version is None


def test_template_change_after_approval_leaves_the_final_alone(
    db_session: Session, users: UserFactory, env: service.Environment
) -> None:
    author = users.create(roles=["lead"]).user
    approver = users.create(roles=["lead"]).user
    demo = make_demo_case(db_session, author)
    access = service.CaseAccess(demo.case, True, frozenset(service.KINDS))
    document = service.create_document(db_session, author, access, "individual_notice", "ja", env)
    approval.approve(db_session, approver, document, env)
    first = service.export_document(db_session, author, document, env)
    template = io.BytesIO()
    styled = docx.Document()
    styled.styles["Normal"].font.size = docx.shared.Pt(14)
    styled.save(template)
    service.save_template(db_session, author, template.getvalue(), env.instance_path)
    try:
        again = service.export_document(db_session, author, document, env)
        assert again.data == first.data
        row = service.version(db_session, document)
        assert row.frozen_docx_sha256 == first.sha256
    finally:
        service.delete_template(db_session, author, env.instance_path)


def test_version_approved_before_freezing_is_frozen_by_its_first_final_export(
    db_session: Session, users: UserFactory, env: service.Environment
) -> None:
    """Rows approved before migration 0009 have no frozen facts: the first final export
    freezes them, and later exports repeat it."""
    author = users.create(roles=["lead"]).user
    demo = make_demo_case(db_session, author)
    access = service.CaseAccess(demo.case, True, frozenset(service.KINDS))
    document = service.create_document(db_session, author, access, "press_release", "ja", env)
    document.approved_version = 1  # as migration 0009 found it: approved, nothing frozen
    db_session.flush()
    first = service.export_document(db_session, author, document, env)
    assert first.final
    row = db_session.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == document.id)
    )
    assert row is not None
    assert row.frozen_facts is not None
    demo.case.summary = "承認後に書き換えた概要"
    db_session.flush()
    assert service.export_document(db_session, author, document, env).data == first.data


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_facts_round_trip_through_json(lang: str) -> None:
    facts = founding_facts(lang)
    data = json.loads(json.dumps(frozen.to_json(facts)))
    assert frozen.from_json(data) == facts
    assert frozen.digest(data) == frozen.digest(frozen.to_json(facts))
    moved = frozen.to_json(facts)
    moved["facts"]["document_date"] = date(2016, 1, 1).isoformat()
    assert frozen.facts_digest(frozen.from_json(moved), ignore_date=True) == frozen.facts_digest(
        facts, ignore_date=True
    )


@pytest.mark.parametrize(
    "data",
    [{}, {"format": 99, "facts": {}}, {"format": 1, "facts": {"title": 3}}, {"format": 1}],
)
def test_a_broken_snapshot_is_a_named_error(data: dict[str, Any]) -> None:
    with pytest.raises(frozen.FrozenFactsError):
        frozen.from_json(data)


def test_bad_approval_input_and_needless_new_versions_are_4xx(
    client: FlaskClient, db_session: Session, setting: dict[str, Any]
) -> None:
    pr, approver = setting["pr_token"], setting["approver_token"]
    created = client.post(
        f"/api/v1/cases/{setting['case'].id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=pr,
    )
    doc = f"/api/v1/documents/{created.json['id']}"
    not_json = client.post(
        f"{doc}/approve", data="x", headers={**approver, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    wrong_type = client.post(f"{doc}/approve", json={"facts_sha256": 5}, headers=approver)
    assert wrong_type.status_code == 422
    assert wrong_type.json["errors"] == {"facts_sha256": "must be a string"}
    # A draft already follows today's facts: no new version for it.
    needless = client.post(f"{doc}/new-version", headers=pr)
    assert needless.status_code == 409
    assert needless.json["type"].endswith("not-approved")
    page = setting["pr"].get(f"/console/documents/{created.json['id']}")
    console = setting["pr"].post(
        f"/console/documents/{created.json['id']}/new-version",
        data={"csrf_token": csrf_from(page.text)},
    )
    assert console.status_code == 302
    document = db_session.get(Document, created.json["id"])
    assert document is not None
    db_session.refresh(document)
    assert document.current_version == 1
    assert client.post(f"{doc}/approve", headers=approver).status_code == 200


def test_an_unreadable_frozen_snapshot_is_a_409_not_a_500(
    client: FlaskClient, db_session: Session, setting: dict[str, Any]
) -> None:
    created = client.post(
        f"/api/v1/cases/{setting['case'].id}/documents",
        json={"kind": "ppc_report", "lang": "ja"},
        headers=setting["pr_token"],
    )
    doc_id = created.json["id"]
    assert (
        client.post(
            f"/api/v1/documents/{doc_id}/approve", headers=setting["approver_token"]
        ).status_code
        == 200
    )
    row = db_session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == doc_id))
    assert row is not None
    row.frozen_facts = {"format": 99}  # e.g. written by a future, incompatible version
    db_session.commit()
    refused = client.get(f"/api/v1/documents/{doc_id}/docx", headers=setting["pr_token"])
    assert refused.status_code == 409
    assert refused.json["type"].endswith("frozen-unreadable")
    page = setting["pr"].get(f"/console/documents/{doc_id}")
    console = setting["pr"].post(
        f"/console/documents/{doc_id}/export", data={"csrf_token": csrf_from(page.text)}
    )
    assert console.status_code == 409
