"""Identity requests state their good reason (正当な理由) on its own (issue 15, item 5).

From 2026-12-01 searching for a whistleblower without good reason is prohibited
(公益通報者保護法 as amended by 令和7年法律第62号): the officer states it in a field of its own,
and the custodian's screen shows it beside the prohibition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.intake.base import IntakeSettings
from csirt.intake.models import IdentityRequest, Submission
from csirt.triage.deadlines import add_months
from tests.conftest import csrf_from, login
from tests.factories import UserFactory
from tests.intake.conftest import BASIC_ANSWERS, submit

GROUND = "受付番号への返信がなく、調査の継続に通報者への確認が不可欠なため"


def test_identity_request_needs_its_good_reason_and_the_custodian_sees_it(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    users: UserFactory,
    settings: IntakeSettings,
) -> None:
    officer = users.create(roles=["intake_officer"], totp=True)
    custodian = users.create(roles=["custodian"], totp=True)
    db_session.commit()
    login(client, officer.user.username, officer.password, officer.totp_seed)
    custodian_client = app.test_client()
    login(custodian_client, custodian.user.username, custodian.password, custodian.totp_seed)
    result = submit(db_session, settings, dict(BASIC_ANSWERS, **{"identity.name": "N"}))
    db_session.commit()

    page = client.get(f"/console/intake/{result.submission_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Good reason (正当な理由) for identifying the reporter" in page.text
    assert "Searching for a reporter without good reason is prohibited" in page.text
    url = f"/console/intake/{result.submission_id}/identity/request"
    csrf = csrf_from(page.text)

    # Without its good reason the request is a form error and nothing is written.
    refused = client.post(
        url,
        data={"csrf_token": csrf, "reason": "to ask how to send the evidence"},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 400
    assert db_session.scalars(select(IdentityRequest)).all() == []

    sent = client.post(
        url,
        data={
            "csrf_token": csrf,
            "reason": "to ask how to send the evidence",
            "justification": GROUND,
        },
    )
    assert sent.status_code == 302
    request = db_session.scalars(select(IdentityRequest)).one()
    assert request.justification == GROUND
    assert request.reason == "to ask how to send the evidence"

    screen = custodian_client.get(
        "/console/intake/identity-requests", headers={"Accept-Language": "en"}
    )
    assert screen.status_code == 200
    assert GROUND in screen.text
    assert "Searching for a whistleblower without good reason" in screen.text
    assert "prohibited" in screen.text


def test_eu_feedback_counts_from_the_receipt_page(
    db_session: Session, settings: IntakeSettings
) -> None:
    """Directive 2019/1937 Art. 9(1)(f): the receipt page acknowledges the report on arrival."""
    eu = dataclasses.replace(settings, jurisdictions=frozenset({"JP", "EU"}))
    result = submit(db_session, eu, dict(BASIC_ANSWERS, whistleblower=True))
    row = db_session.get(Submission, result.submission_id)
    assert row is not None
    assert row.feedback_due is not None
    local = row.received_at.astimezone(eu.tz)
    arrival_plus_3_months = add_months(local.date(), 3)
    if local.time() == dt.time(0, 0):  # a 00:00 start counts its first day (conservative)
        arrival_plus_3_months -= dt.timedelta(days=1)
    assert row.feedback_due.astimezone(eu.tz).date() == arrival_plus_3_months
    # Not from the end of the 7 days: up to 7 days earlier than before.
    end_of_7_days = add_months(local.date() + dt.timedelta(days=7), 3)
    assert row.feedback_due.astimezone(eu.tz).date() < end_of_7_days
