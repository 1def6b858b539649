"""A lead sends a draft back (its authors are told: the reason in the app only, the mail
content-free); an unused draft is withdrawn with a reason and no longer holds the case open.

Through the API with tokens and the console forms, mail checked in a real SMTP sink.
"""

# ruff: noqa: F811 - the sink fixtures are imported from tests/teams

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.documents.models import Document
from csirt.documents.service import unapproved_documents
from csirt.notify.models import Notification
from tests.conftest import csrf_from, login
from tests.documents.test_request_approval import _person, case  # noqa: F401 - the fixture
from tests.factories import UserFactory, assign_to_case
from tests.teams.conftest import (  # noqa: F401 - shared fixtures
    Sink,
    mail_app,
    sink,
    smtp_sink,
)

REASON = "第3段落の被害人数が確報と合っていません"


def test_refusal_tells_the_authors_with_the_reason_in_the_app_only(
    mail_app: Flask,
    client: FlaskClient,
    db_session: Session,
    users: UserFactory,
    sink: Sink,
    case: Any,
) -> None:
    case_id = case.case.id
    writer, pr_h = _person(db_session, users, "writer", "pr", case_id)
    _lead, lead_h = _person(db_session, users, "approver", "lead")
    made = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=pr_h,
    )
    doc = f"/api/v1/documents/{made.json['id']}"
    sink.messages.clear()
    assert (
        client.post(f"{doc}/refuse-approval", json={"reason": REASON}, headers=pr_h).status_code
        == 403
    )
    assert (
        client.post(f"{doc}/refuse-approval", json={"reason": ""}, headers=lead_h).status_code
        == 422
    )
    refused = client.post(f"{doc}/refuse-approval", json={"reason": REASON}, headers=lead_h)
    assert refused.status_code == 200, refused.text
    mails = [m for m in sink.messages if m["To"] == "writer@example.jp"]
    assert len(mails) == 1
    assert "文書が差し戻されました" in str(mails[0]["Subject"])
    assert REASON not in mails[0].as_string()  # the mail stays content-free
    row = db_session.scalars(
        select(Notification).where(
            Notification.user_id == writer.id, Notification.kind == "approval_refused"
        )
    ).one()
    assert row.body == REASON
    assert db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.approval_refuse")
    ).all()


def test_console_refusal_and_notification_page(
    mail_app: Flask, db_session: Session, users: UserFactory, sink: Sink, case: Any
) -> None:
    case_id = case.case.id
    author = users.create(roles=["pr"], username="author5")
    author.user.email = "author5@example.jp"
    assign_to_case(db_session, author.user, case_id, "pr")
    lead = users.create(roles=["lead"], username="lead5")
    db_session.commit()
    _pr, pr_h = _person(db_session, users, "writer5", "pr", case_id)
    made = mail_app.test_client().post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=pr_h,
    )
    document = db_session.get(Document, made.json["id"])
    assert document is not None
    document.created_by_id = author.user.id
    db_session.commit()
    browser = mail_app.test_client()
    assert login(browser, "lead5", lead.password).status_code == 302
    page = browser.get(f"/console/documents/{document.id}")
    assert f"/console/documents/{document.id}/refuse" in page.text
    token = csrf_from(page.text)
    bad = browser.post(f"/console/documents/{document.id}/refuse", data={"csrf_token": token})
    assert bad.status_code == 400
    sent = browser.post(
        f"/console/documents/{document.id}/refuse", data={"csrf_token": token, "reason": REASON}
    )
    assert sent.status_code == 302
    reader = mail_app.test_client()
    assert login(reader, "author5", author.password).status_code == 302
    inbox = reader.get("/console/notifications/")
    assert inbox.status_code == 200
    assert REASON in inbox.text


def test_withdrawing_an_unused_draft(
    client: FlaskClient, db_session: Session, users: UserFactory, case: Any
) -> None:
    case_id = case.case.id
    _pr, pr_h = _person(db_session, users, "writer7", "pr", case_id)
    made = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=pr_h,
    )
    doc_id = made.json["id"]
    assert doc_id in [d.id for d in unapproved_documents(db_session, case.case)]
    url = f"/api/v1/documents/{doc_id}/withdraw"
    assert client.post(url, json={"reason": ""}, headers=pr_h).status_code == 422
    done = client.post(url, json={"reason": "別の版で作り直すため"}, headers=pr_h)
    assert done.status_code == 200, done.text
    db_session.expire_all()
    assert db_session.get(Document, doc_id) is None
    assert doc_id not in [d.id for d in unapproved_documents(db_session, case.case)]
    assert client.get(f"/api/v1/documents/{doc_id}", headers=pr_h).status_code == 404
    audited = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.withdraw")
    ).one()
    assert audited.case_id == case_id


def test_an_approved_document_is_not_withdrawn_and_the_console_asks_first(
    mail_app: Flask, db_session: Session, users: UserFactory, case: Any
) -> None:
    case_id = case.case.id
    author = users.create(roles=["pr"], username="writer8")
    assign_to_case(db_session, author.user, case_id, "pr")
    _pr, pr_h = _person(db_session, users, "writer9", "pr", case_id)
    browser = mail_app.test_client()
    made = browser.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=pr_h,
    )
    doc_id = made.json["id"]
    assert login(browser, "writer8", author.password).status_code == 302
    detail = browser.get(f"/console/documents/{doc_id}")
    assert f"/console/documents/{doc_id}/withdraw" in detail.text
    confirm = browser.get(f"/console/documents/{doc_id}/withdraw")
    assert confirm.status_code == 200
    token = csrf_from(confirm.text)
    assert (
        browser.post(
            f"/console/documents/{doc_id}/withdraw", data={"csrf_token": token}
        ).status_code
        == 400
    )
    gone = browser.post(
        f"/console/documents/{doc_id}/withdraw",
        data={"csrf_token": token, "reason": "作成し直し"},
    )
    assert gone.status_code == 302
    db_session.expire_all()
    assert db_session.get(Document, doc_id) is None
    listed = browser.get(f"/console/cases/{case_id}/documents")
    assert "作成し直し" in listed.text  # listed under the withdrawn drafts, with the reason

    approved = Document(case_id=case_id, kind="press_release", approved_version=1)
    db_session.add(approved)
    db_session.commit()
    refused = browser.post(
        f"/api/v1/documents/{approved.id}/withdraw", json={"reason": "x"}, headers=pr_h
    )
    assert refused.status_code == 409
