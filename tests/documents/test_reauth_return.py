"""Re-authentication before an export lands the user back on the document, not the dashboard."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import csrf_from
from tests.documents.conftest import make_demo_case
from tests.factories import DEFAULT_PASSWORD


def test_export_after_reauthentication_returns_to_the_document(
    client: FlaskClient, login_as, db_session: Session, users
) -> None:
    demo = make_demo_case(db_session, users.create(roles=["lead"]).user)
    db_session.commit()
    login_as("lead")
    case_url = f"/console/cases/{demo.case.id}/documents"
    page = client.get(case_url)
    made = client.post(
        case_url, data={"kind": "ppc_report", "lang": "ja", "csrf_token": csrf_from(page.text)}
    )
    match = re.search(r"/console/documents/(\d+)", made.headers["Location"])
    assert match
    detail_url = f"/console/documents/{match.group(1)}"
    detail = client.get(detail_url)
    assert f'name="reauth_next" value="{detail_url}"' in detail.text
    with client.session_transaction() as sess:  # the sign-in is no longer fresh
        sess["auth_at"] = (
            datetime.fromisoformat(sess["auth_at"]) - timedelta(minutes=60)
        ).isoformat()
        sess.pop("reauth_at", None)
    asked = client.post(
        f"{detail_url}/export",
        data={"csrf_token": csrf_from(detail.text), "reauth_next": detail_url},
    )
    assert asked.status_code == 302
    assert asked.headers["Location"].startswith("/console/reauth?next=")
    reauth = client.get(asked.headers["Location"])
    assert reauth.status_code == 200
    assert asked.headers["Location"] == f"/console/reauth?next={detail_url}"
    back = client.post(
        "/console/reauth",
        data={
            "password": DEFAULT_PASSWORD,
            "next": detail_url,
            "csrf_token": csrf_from(reauth.text),
        },
    )
    assert back.status_code == 302
    assert back.headers["Location"] == detail_url
