"""After re-authentication the user lands where they were (issue 18 item 9): a validated local
``next``, also from the intake officers' and custodians' identity forms (POST-only actions whose
forms name their page)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.intake.base import IntakeSettings
from tests.conftest import csrf_from, login
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.intake.conftest import BASIC_ANSWERS, submit

GROUND = "受付番号への返信がなく、調査の継続に通報者への確認が不可欠なため"


def _officer_and_report(
    client: FlaskClient, db_session: Session, users: UserFactory, settings: IntakeSettings
) -> tuple[Any, str]:
    """An intake officer signed in on ``client`` and the page of a report with an identity."""
    officer = users.create(roles=["intake_officer"], totp=True)
    db_session.commit()
    login(client, officer.user.username, officer.password, officer.totp_seed)
    result = submit(db_session, settings, dict(BASIC_ANSWERS, **{"identity.name": "N"}))
    db_session.commit()
    return officer, f"/console/intake/{result.submission_id}"


def _stale(client: FlaskClient) -> None:
    with client.session_transaction() as sess:  # the sign-in is no longer fresh
        sess["auth_at"] = (
            datetime.fromisoformat(sess["auth_at"]) - timedelta(minutes=60)
        ).isoformat()
        sess.pop("reauth_at", None)


def _next_code(seed: str) -> str:
    # The sign-in used this window's code; a code is accepted once, so use the next window's.
    return pyotp.TOTP(seed).at(time.time() + 30)


def test_identity_request_returns_to_the_report_after_reauthentication(
    client: FlaskClient, db_session: Session, users: UserFactory, settings: IntakeSettings
) -> None:
    officer, report = _officer_and_report(client, db_session, users, settings)
    page = client.get(report)
    assert f'name="reauth_next" value="{report}"' in page.text
    _stale(client)
    asked = client.post(
        f"{report}/identity/request",
        data={
            "csrf_token": csrf_from(page.text),
            "reason": "証拠の送付方法を確認するため",
            "justification": GROUND,
            "reauth_next": report,
        },
    )
    assert asked.status_code == 302
    assert asked.headers["Location"] == f"/console/reauth?next={quote(report, safe='/')}"
    confirm = client.get(asked.headers["Location"])
    assert f'value="{report}"' in confirm.text
    back = client.post(
        "/console/reauth",
        data={
            "csrf_token": csrf_from(confirm.text),
            "password": officer.password,
            "code": _next_code(officer.totp_seed),
            "next": report,
        },
    )
    assert back.status_code == 302, back.text
    assert back.headers["Location"] == report


def test_the_custodians_decision_form_names_its_page(
    app, client: FlaskClient, db_session: Session, users: UserFactory, settings: IntakeSettings
) -> None:
    custodian = users.create(roles=["custodian"], totp=True)
    _officer, report = _officer_and_report(client, db_session, users, settings)
    page = client.get(report)
    sent = client.post(
        f"{report}/identity/request",
        data={
            "csrf_token": csrf_from(page.text),
            "reason": "証拠の送付方法を確認するため",
            "justification": GROUND,
        },
    )
    assert sent.status_code == 302
    keeper = app.test_client()
    login(keeper, custodian.user.username, custodian.password, custodian.totp_seed)
    screen = keeper.get("/console/intake/identity-requests")
    assert 'name="reauth_next" value="/console/intake/identity-requests"' in screen.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/console/",
        "https://evil.example/console/",
        "/\\evil.example/console",
        "/console/\t/evil",
        "/intake/",
        "javascript:alert(1)",
        "",
    ],
)
def test_a_next_that_is_no_console_path_lands_on_the_dashboard(
    client: FlaskClient, login_as, target: str
) -> None:
    user = login_as("responder")
    assert user is not None
    confirm = client.get("/console/reauth")
    back = client.post(
        "/console/reauth",
        data={"csrf_token": csrf_from(confirm.text), "password": DEFAULT_PASSWORD, "next": target},
    )
    assert back.status_code == 302
    assert back.headers["Location"] == "/console/"


def test_a_get_target_is_kept_with_its_query(client: FlaskClient, login_as) -> None:
    login_as("auditor")
    _stale(client)
    asked = client.get("/console/audit/report.csv?days=7")
    assert asked.status_code == 302
    assert "next=" in asked.headers["Location"]
    assert "report.csv" in asked.headers["Location"]
