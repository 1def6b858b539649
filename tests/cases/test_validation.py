"""Awareness cannot be in the future (beyond a minute of clock skew): API and console."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.cases.models import Case
from csirt.db import utcnow
from tests.conftest import csrf_from
from tests.factories import api_headers as _token


def test_api_refuses_an_aware_date_in_the_future(client, db_session: Session, users):
    lead = users.create(roles=["lead"]).user
    headers = _token(db_session, lead)
    before = db_session.scalar(select(func.count()).select_from(Case))
    bad = client.post(
        "/api/v1/cases",
        json={"title": "未来", "aware_at": "2099-01-01T00:00:00+09:00"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "aware_at" in bad.json["errors"]
    assert db_session.scalar(select(func.count()).select_from(Case)) == before
    soon = (utcnow() + timedelta(seconds=30)).isoformat()  # clock skew is tolerated
    made = client.post("/api/v1/cases", json={"title": "今", "aware_at": soon}, headers=headers)
    assert made.status_code == 201, made.json
    patched = client.patch(
        f"/api/v1/cases/{made.json['id']}",
        json={"aware_at": "2099-01-01T00:00:00+09:00"},
        headers=headers,
    )
    assert patched.status_code == 422
    assert "aware_at" in patched.json["errors"]


def test_console_refuses_an_aware_date_in_the_future(client, login_as, db_session: Session):
    login_as("lead")
    page = client.get("/console/cases/new")
    response = client.post(
        "/console/cases/new",
        data={
            "csrf_token": csrf_from(page.text),
            "title": "未来の事案",
            "priority": "P3",
            "tlp": "amber",
            "aware_at": "2099-01-05T09:30",
        },
    )
    assert response.status_code == 400
    assert "must not be in the future" in response.text
    assert db_session.scalar(select(Case).where(Case.title == "未来の事案")) is None
