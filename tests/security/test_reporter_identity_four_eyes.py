"""Issue 13, finding 1: four eyes on a reporter's identity, always.

An account that is both intake officer and custodian (made with two ``--role`` flags, or by an
admin on the users screen) holds the identity wrap every custodian receives, yet it must not read
the identity without a request of its own approved by a *different* custodian: not on the report
page, not through any form on it. After an approval the reporter's mailbox says when.
"""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.auth.models import User
from csirt.intake.models import IdentityKeyWrap, IdentityRequest, Submission
from tests.conftest import csrf_from, login
from tests.factories import UserFactory

CANARY = "CANARY-IDENTITY-4e4e"
PASSWORD = "a sufficiently long passphrase 4eyes"
FORM = re.compile(r'<form method="post" action="([^"]+)"')


def _report(client: FlaskClient) -> str:
    response = client.post(
        "/api/v1/reports",
        json={
            "answers": {"what_happened": "名簿の流出を見つけた", "whistleblower": True},
            "identity": {"name": CANARY, "contact": f"{CANARY}@example.invalid"},
        },
    )
    assert response.status_code == 201, response.text
    receipt: str = response.json["receipt"]
    return receipt


def _enable_totp(app: Flask, db_session: Session, username: str) -> str:
    user = db_session.scalar(select(User).where(User.username == username))
    assert user is not None
    seed = pyotp.random_base32()
    hashing = app.extensions["csirt.hashing"]
    auth_service.enable_totp(db_session, hashing, user, seed, pyotp.TOTP(seed).now())
    user.totp_last_step = None
    db_session.commit()
    return seed


def _create_with_cli(app: Flask, runner: Any, db_session: Session, users: UserFactory) -> str:
    result = runner.invoke(
        args=[
            "user",
            "create",
            "both-cli",
            "--role",
            "intake_officer",
            "--role",
            "custodian",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    return "both-cli"


def _create_on_admin_screen(
    app: Flask, runner: Any, db_session: Session, users: UserFactory
) -> str:
    admin = users.create(["admin"], totp=True)
    db_session.commit()
    admin_client = app.test_client()
    assert login(admin_client, admin.user.username, admin.password, admin.totp_seed).status_code
    page = admin_client.get("/console/admin/users/new")
    assert page.status_code == 200, page.text
    response = admin_client.post(
        "/console/admin/users/new",
        data={
            "csrf_token": csrf_from(page.text),
            "username": "both-admin",
            "password": PASSWORD,
            "roles": ["intake_officer", "custodian"],
        },
    )
    assert response.status_code == 302, response.text
    return "both-admin"


@pytest.mark.parametrize("create", [_create_with_cli, _create_on_admin_screen])
def test_officer_and_custodian_in_one_account_never_sees_identity_alone(
    app: Flask,
    client: FlaskClient,
    runner: Any,
    db_session: Session,
    users: UserFactory,
    create: Any,
) -> None:
    username = create(app, runner, db_session, users)
    other = users.create(["custodian"], totp=True, keypair=True)
    db_session.commit()
    receipt = _report(client)
    submission = db_session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert submission is not None
    sid = submission.id
    both = db_session.scalar(select(User).where(User.username == username))
    assert both is not None
    assert both.public_key is not None
    # The account holds the custodians' wrap (it must, to approve others' requests) ...
    assert db_session.scalar(
        select(IdentityKeyWrap).where(
            IdentityKeyWrap.submission_id == sid, IdentityKeyWrap.user_id == both.id
        )
    )

    seed = _enable_totp(app, db_session, username)
    staff = app.test_client()
    assert login(staff, username, PASSWORD, seed).status_code == 302
    staff.get("/console/intake/key")
    page = staff.get(f"/console/intake/{sid}")
    assert page.status_code == 200, page.text
    assert CANARY not in page.text
    csrf = csrf_from(page.text)
    # ... yet no form on the report page shows the identity.
    actions = set(FORM.findall(page.text))
    assert f"/console/intake/{sid}/identity" not in actions  # no "show identity" button
    for action in sorted(actions):
        if action.endswith(("/identity/request", "/logout")) or action == "/language":
            continue  # filing a request is the legitimate path, checked below
        shown = staff.post(action, data={"csrf_token": csrf})
        assert CANARY not in shown.text, action
    assert (
        staff.post(f"/console/intake/{sid}/identity", data={"csrf_token": csrf}).status_code == 403
    )

    # Its own request cannot be decided by itself, neither in the console nor by approval.
    filed = staff.post(
        f"/console/intake/{sid}/identity/request",
        data={
            "csrf_token": csrf,
            "reason": "the reporter must be warned of retaliation",
            "justification": "the mailbox went unanswered for three weeks and harm is imminent",
        },
    )
    assert filed.status_code in (200, 302)
    request_row = db_session.scalars(
        select(IdentityRequest).where(IdentityRequest.submission_id == sid)
    ).one()
    requests_page = staff.get("/console/intake/identity-requests")
    staff.post(
        f"/console/intake/identity-requests/{request_row.id}",
        data={"csrf_token": csrf_from(requests_page.text), "decision": "approve"},
    )
    db_session.expire_all()
    assert db_session.get(IdentityRequest, request_row.id).status == "pending"  # type: ignore[union-attr]
    assert (
        CANARY not in staff.post(f"/console/intake/{sid}/identity", data={"csrf_token": csrf}).text
    )
    mailbox = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": receipt})
    assert mailbox.json["identity"]["disclosed_at"] is None

    # A different custodian approves: now, and only now, the identity is shown.
    custodian = app.test_client()
    assert login(custodian, other.user.username, other.password, other.totp_seed).status_code
    custodian.get("/console/intake/key")
    requests_page = custodian.get("/console/intake/identity-requests")
    decided = custodian.post(
        f"/console/intake/identity-requests/{request_row.id}",
        data={"csrf_token": csrf_from(requests_page.text), "decision": "approve"},
    )
    assert decided.status_code == 302
    shown = staff.post(f"/console/intake/{sid}/identity", data={"csrf_token": csrf})
    assert shown.status_code == 200
    assert CANARY in shown.text
    db_session.expire_all()
    approved = db_session.get(IdentityRequest, request_row.id)
    assert approved is not None
    assert approved.decided_by_id == other.user.id
    mailbox = client.get("/api/v1/reports/mailbox", headers={"X-Receipt": receipt})
    assert mailbox.json["identity"]["disclosed_at"] is not None
