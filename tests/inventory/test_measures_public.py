"""The public follow-up of measures: a lead proposes, a SECOND lead approves, and only approved
texts of published cases appear on /measures/ (intake interface, no session, no JavaScript)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.documents import measures
from csirt.documents.models import MeasurePublicUpdate
from tests.conftest import csrf_from, login
from tests.factories import CaseFactory, UserFactory


def _post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_from(client.get("/console/measures/public").text)
    return client.post(path, data={**data, "csrf_token": token})


def _two_leads(app: Any, users: UserFactory, db_session: Session) -> tuple[Any, Any, Any, Any]:
    first = users.create(roles=["lead"])
    second = users.create(roles=["lead"])
    db_session.commit()
    a, b = app.test_client(), app.test_client()
    assert login(a, first.user.username, first.password).status_code == 302
    assert login(b, second.user.username, second.password).status_code == 302
    return a, b, first.user, second.user


def _measure(db_session: Session, user: Any, case: Any, title: str, due: date) -> Any:
    values = measures.validate_measure(
        {"title": title, "owner": "情報政策課", "due": due.isoformat(), "status": "in_progress"}
    )
    row = measures.save_measure(db_session, user, values, case=case)
    db_session.commit()
    return row


def test_only_approved_texts_of_published_cases_appear(
    app: Any, make_app: Any, users: UserFactory, cases: CaseFactory, db_session: Session
):
    a, b, lead_a, _lead_b = _two_leads(app, users, db_session)
    case = cases.create(title="選挙システム流出", actor=lead_a, commit=True)
    late = _measure(
        db_session, lead_a, case, "個人所有サーバーの利用禁止", date.today() - timedelta(days=3)
    )
    other = _measure(db_session, lead_a, case, "全職員研修", date.today() + timedelta(days=30))

    published = _post(
        a, f"/console/measures/public/cases/{case.id}", {"title": "選挙人情報の流出事案"}
    )
    assert published.status_code == 302
    for measure in (late, other):
        proposed = _post(
            a,
            f"/console/measures/public/{measure.id}",
            {"status": "in_progress", "owner": "情報政策課", "due": measure.due.isoformat()},
        )
        assert proposed.status_code == 302
    updates = {u.measure_id: u for u in db_session.scalars(select(MeasurePublicUpdate)).all()}
    assert {u.decision for u in updates.values()} == {"pending"}

    # The proposer cannot approve their own text.
    own = _post(a, f"/console/measures/public/updates/{updates[late.id].id}/approve", {})
    assert own.status_code == 302
    db_session.expire_all()
    assert db_session.get(MeasurePublicUpdate, updates[late.id].id).decision == "pending"
    # A second lead approves one of the two.
    approved = _post(b, f"/console/measures/public/updates/{updates[late.id].id}/approve", {})
    assert approved.status_code == 302
    db_session.expire_all()
    assert db_session.get(MeasurePublicUpdate, updates[late.id].id).decision == "approved"

    intake = make_app("intake").test_client()
    page = intake.get("/measures/")
    assert page.status_code == 200
    assert "個人所有サーバーの利用禁止" in page.text
    assert "全職員研修" not in page.text
    assert "選挙人情報の流出事案" in page.text
    assert "選挙システム流出" not in page.text  # the internal case title never
    assert case.reference not in page.text
    assert "<script" not in page.text
    assert "期限超過" in page.text or "Overdue" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # Like every intake page: at most the Strict cookie of the language form's CSRF token.
    assert "SameSite=Strict" in page.headers.get("Set-Cookie", "SameSite=Strict")

    feed = intake.get("/measures/feed.atom")
    assert feed.status_code == 200
    assert feed.mimetype == "application/atom+xml"
    assert "個人所有サーバーの利用禁止" in feed.text
    assert "全職員研修" not in feed.text

    actions = list(
        db_session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("measure.public%"))
        )
    )
    assert actions.count("measure.public_propose") == 2
    assert actions.count("measure.public_approve") == 1


def test_unpublished_case_shows_nothing_and_the_guard_refuses_contacts(
    app: Any, make_app: Any, users: UserFactory, cases: CaseFactory, db_session: Session
):
    a, b, lead_a, _lead_b = _two_leads(app, users, db_session)
    case = cases.create(title="内部の事案名", actor=lead_a, commit=True)
    measure = _measure(db_session, lead_a, case, "アクセス権限の見直し", date.today())
    refused = _post(
        a,
        f"/console/measures/public/{measure.id}",
        {"status": "done", "note": "担当 taro@example.jp まで", "done_on": "2026-01-05"},
    )
    assert refused.status_code == 302
    assert db_session.scalars(select(MeasurePublicUpdate)).all() == []
    shown = a.get("/console/measures/public").text
    assert "public-text guard" in shown or "公開文チェック" in shown
    _post(a, f"/console/measures/public/{measure.id}", {"status": "in_progress"})
    update = db_session.scalars(select(MeasurePublicUpdate)).one()
    _post(b, f"/console/measures/public/updates/{update.id}/approve", {})
    page = make_app("intake").test_client().get("/measures/")
    assert page.status_code == 200
    assert "アクセス権限の見直し" not in page.text  # approved, but the case is not published


def test_a_responder_cannot_propose(app: Any, login_as: Any, client: FlaskClient):
    login_as("responder")
    assert client.get("/console/measures/public").status_code == 403
