"""Request approval: an author names a lead, who is told; the authors are told on approval.

Through the API with tokens and the console forms, mail checked in a real SMTP sink.
"""

# ruff: noqa: F811 - the sink fixtures are imported from tests/teams

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth import service as auth_service
from csirt.auth.models import User
from tests.conftest import csrf_from, login
from tests.documents.conftest import DemoCase, make_demo_case
from tests.factories import FACTORY, UserFactory, assign_to_case
from tests.teams.conftest import (  # noqa: F401 - shared fixtures
    Sink,
    mail_app,
    sink,
    smtp_sink,
)


def _person(
    db_session: Session, users: UserFactory, name: str, role: str, case_id: int | None = None
) -> tuple[User, dict[str, str]]:
    user = users.create(roles=[role], username=name).user
    user.email = f"{name}@example.jp"
    user.lang = "ja"
    if case_id is not None:
        assign_to_case(db_session, user, case_id, role)
    _token, plain = auth_service.create_token(
        db_session, user, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    return user, {"Authorization": f"Bearer {plain}"}


def _mails(sink: Sink, address: str) -> list[str]:
    return [str(m["Subject"]) + "\n" + m.get_content() for m in sink.messages if m["To"] == address]


@pytest.fixture
def case(db_session: Session, users: UserFactory) -> DemoCase:
    demo = make_demo_case(db_session, users.create(roles=["lead"]).user)
    db_session.commit()
    return demo


def test_request_approval_tells_the_lead_and_approval_tells_the_author(
    mail_app: Flask,
    client: FlaskClient,
    db_session: Session,
    users: UserFactory,
    sink: Sink,
    case: Any,
) -> None:
    case_id = case.case.id
    _pr, pr_h = _person(db_session, users, "writer", "pr", case_id)
    _lead, lead_h = _person(db_session, users, "approver", "lead")
    _committee, _ = _person(db_session, users, "member9", "committee", case_id)
    created = client.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=pr_h,
    )
    assert created.status_code == 201, created.text
    doc = f"/api/v1/documents/{created.json['id']}"
    sink.messages.clear()

    # Nobody who may not approve can be named, and the answer is the same for each.
    answers = []
    for name in ("nobody-here", "member9", "writer", ""):
        refused = client.post(f"{doc}/request-approval", json={"approver": name}, headers=pr_h)
        assert refused.status_code == 422, (name, refused.text)
        answers.append(refused.json.get("errors", {}).get("approver"))
    assert answers[0] == answers[1] == answers[2]
    assert sink.messages == []

    asked = client.post(f"{doc}/request-approval", json={"approver": "approver"}, headers=pr_h)
    assert asked.status_code == 200, asked.text
    mails = _mails(sink, "approver@example.jp")
    assert len(mails) == 1
    assert f"事案 {case.case.reference} の文書が承認を待っています" in mails[0]
    assert f"/console/documents/{created.json['id']}" in mails[0]
    audited = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.approval_request")
    ).all()
    assert len(audited) == 1
    assert audited[0].case_id == case_id

    sink.messages.clear()
    approved = client.post(f"{doc}/approve", headers=lead_h)
    assert approved.status_code == 200, approved.text
    author_mails = _mails(sink, "writer@example.jp")
    assert len(author_mails) == 1
    assert "文書が承認されました" in author_mails[0]
    assert _mails(sink, "approver@example.jp") == []  # the approver is not told of his act

    again = client.post(f"{doc}/request-approval", json={"approver": "approver"}, headers=pr_h)
    assert again.status_code == 409


def test_console_request_approval_form(
    mail_app: Flask, db_session: Session, users: UserFactory, sink: Sink, case: Any
) -> None:
    case_id = case.case.id
    created_pr = users.create(roles=["pr"], username="writer2")
    assign_to_case(db_session, created_pr.user, case_id, "pr")
    _person(db_session, users, "approver2", "lead")
    _pr3, pr_h = _person(db_session, users, "writer3", "pr", case_id)
    browser = mail_app.test_client()
    assert login(browser, "writer2", created_pr.password).status_code == 302
    made = browser.post(
        f"/api/v1/cases/{case_id}/documents",
        json={"kind": "press_release", "lang": "ja"},
        headers=pr_h,
    )
    assert made.status_code == 201, made.text
    page = browser.get(f"/console/documents/{made.json['id']}")
    assert page.status_code == 200
    assert "request-approval" in page.text
    assert 'value="approver2"' in page.text
    bad = browser.post(
        f"/console/documents/{made.json['id']}/request-approval",
        data={"csrf_token": csrf_from(page.text), "approver": "nobody"},
    )
    assert bad.status_code == 400
    sink.messages.clear()
    asked = browser.post(
        f"/console/documents/{made.json['id']}/request-approval",
        data={"csrf_token": csrf_from(page.text), "approver": "approver2"},
    )
    assert asked.status_code == 302, asked.text
    assert len(_mails(sink, "approver2@example.jp")) == 1
