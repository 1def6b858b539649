"""Issue 13, finding 2: conflicts of interest are computed for every role, by one function.

A report names a department in its ``involved`` answer. Whoever works there, in whatever role,
must not read the report, hold a key to it or to its reporter's identity, decide an identity
request about it, or open the case it was promoted to (leads and admins who see every case
included: they learn at most that it exists).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth.permissions import Role
from csirt.intake.models import IdentityKeyWrap, IdentityRequest, Submission, SubmissionKeyWrap
from tests.conftest import csrf_from, login
from tests.factories import UserFactory
from tests.security.conftest import bearer

NAMED = "監査対象課"


def _signed_in(app: Flask, created: Any) -> FlaskClient:
    client = app.test_client()
    response = login(client, created.user.username, created.password, created.totp_seed)
    assert response.status_code == 302
    client.get("/console/intake/key")
    return client


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_staff_named_in_a_report_are_kept_out_whatever_their_role(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory, role: str
) -> None:
    named = users.create([role], totp=True, keypair=True, department=NAMED)
    officer = users.create(["intake_officer"], totp=True, keypair=True, department="総務課")
    custodian = users.create(["custodian"], totp=True, keypair=True, department="監査室")
    lead = users.create(["lead"], totp=True, department="情報政策課")
    db_session.commit()
    sent = client.post(
        "/api/v1/reports",
        json={
            "answers": {
                "what_happened": "名簿の流出",
                "involved": f"{NAMED}の職員",
                "data_items": ["name"],
                "persons_estimate": 100,
            },
            "identity": {"name": "通報者の氏名"},
        },
    )
    assert sent.status_code == 201, sent.text
    sid = db_session.scalars(select(Submission.id).order_by(Submission.id.desc())).first()
    assert sid is not None

    # The officer promotes it and asks for the identity; the case exists from now on.
    handler = _signed_in(app, officer)
    page = handler.get(f"/console/intake/{sid}")
    assert page.status_code == 200
    csrf = csrf_from(page.text)
    promoted = handler.post(
        f"/console/intake/{sid}/promote", data={"csrf_token": csrf, "title": "名簿の流出"}
    )
    assert promoted.status_code == 302, promoted.text
    handler.post(
        f"/console/intake/{sid}/identity/request",
        data={
            "csrf_token": csrf,
            "reason": "to warn the reporter of retaliation",
            "justification": "the reporter's safety is at stake and the mailbox is unanswered",
        },
    )
    db_session.expire_all()
    submission = db_session.get(Submission, sid)
    assert submission is not None
    case_id = submission.case_id
    assert case_id is not None
    request_id = db_session.scalars(
        select(IdentityRequest.id).where(IdentityRequest.submission_id == sid)
    ).one()

    # No key to the report, none to the identity, whatever the role.
    for model in (SubmissionKeyWrap, IdentityKeyWrap):
        assert (
            db_session.scalar(
                select(model).where(model.submission_id == sid, model.user_id == named.user.id)
            )
            is None
        ), model.__name__

    person = _signed_in(app, named)
    inbox = person.get("/console/intake/")
    assert f'/console/intake/{sid}"' not in inbox.text
    assert person.get(f"/console/intake/{sid}").status_code in (302, 403, 404)
    case_page = person.get(f"/console/cases/{case_id}")
    assert case_page.status_code in (403, 404), role
    assert "名簿の流出" not in case_page.text
    if Role(role) is not Role.AUDITOR:
        headers = bearer(db_session, named.user)
        api = client.get(f"/api/v1/cases/{case_id}", headers=headers)
        assert api.status_code in (403, 404), role
        datasets = client.get(f"/api/v1/cases/{case_id}/datasets", headers=headers)
        assert datasets.status_code in (403, 404), role

    # A custodian named in the report neither sees nor decides the request about it.
    requests_page = person.get("/console/intake/identity-requests")
    assert f'/identity-requests/{request_id}"' not in requests_page.text
    if requests_page.status_code == 200:
        person.post(
            f"/console/intake/identity-requests/{request_id}",
            data={"csrf_token": csrf_from(requests_page.text), "decision": "approve"},
        )
    db_session.expire_all()
    decided = db_session.get(IdentityRequest, request_id)
    assert decided is not None
    assert decided.status == "pending", role

    # Those not named keep working: the lead opens the case, the custodian decides; the named
    # person is never suggested for the case, and assigning them is refused.
    assert _signed_in(app, lead).get(f"/console/cases/{case_id}").status_code == 200
    lead_headers = bearer(db_session, lead.user, "read", "write")
    suggested = client.get(f"/api/v1/cases/{case_id}/suggestions", headers=lead_headers)
    assert suggested.status_code == 200
    assert named.user.username not in suggested.text
    assigned = client.post(
        f"/api/v1/cases/{case_id}/assignments",
        json={"username": named.user.username, "role": "investigator"},
        headers=lead_headers,
    )
    assert assigned.status_code == 409, assigned.text
    keeper = _signed_in(app, custodian)
    requests_page = keeper.get("/console/intake/identity-requests")
    assert f'/identity-requests/{request_id}"' in requests_page.text
