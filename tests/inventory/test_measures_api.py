"""The outside check: measures proposed and approved through the API; GET /measures/ answers 200
without a session and lists only approved texts of published cases."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree

from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.documents import measures
from tests.factories import FACTORY, CaseFactory, UserFactory
from tests.records.conftest import Api


def _lead(app: Any, users: UserFactory, db_session: Session) -> Any:
    user = users.create(roles=["lead"]).user
    _token, plain = auth_service.create_token(db_session, user, actor=FACTORY)
    db_session.commit()
    api = Api(app.test_client(), plain)
    api.user = user  # type: ignore[attr-defined]
    return api


def _put(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.put(path, headers=api.headers, json=body)


def test_propose_approve_publish_and_the_public_page(
    app: Any, make_app: Any, users: UserFactory, cases: CaseFactory, db_session: Session
):
    first, second = _lead(app, users, db_session), _lead(app, users, db_session)
    case = cases.create(title="内部名: 選挙システム流出", actor=first.user, commit=True)
    rows = []
    for title, days in (("外部サーバー利用の禁止", -1), ("持出し手順の見直し <b>&</b>", 30)):
        values = measures.validate_measure(
            {"title": title, "owner": "総務課", "due": (date.today() + timedelta(days=days))}
        )
        rows.append(measures.save_measure(db_session, first.user, values, case=case))
    db_session.commit()

    bad = first.post(f"/api/v1/measures/{rows[0].id}/public", json={"status": "done"})
    assert bad.status_code == 422  # done needs its public note and date
    assert "note" in bad.json["errors"]
    proposals = []
    for row in rows:
        made = first.post(f"/api/v1/measures/{row.id}/public", json={"status": "in_progress"})
        assert made.status_code == 201, made.json
        assert made.json["decision"] == "pending"
        proposals.append(made.json["id"])
    own = first.post(f"/api/v1/measures/public/{proposals[0]}/approve")
    assert own.status_code == 409
    assert own.json["type"].endswith("self-approval")
    approved = second.post(f"/api/v1/measures/public/{proposals[0]}/approve")
    assert approved.status_code == 200
    assert approved.json["decision"] == "approved"
    assert second.post(f"/api/v1/measures/public/{proposals[0]}/approve").status_code == 422
    assert second.post("/api/v1/measures/public/999999/approve").status_code == 404

    public = make_app("intake").test_client()
    before = public.get("/measures/")
    assert before.status_code == 200
    assert "外部サーバー利用の禁止" not in before.text  # approved, the case not yet published
    published = _put(
        first, f"/api/v1/cases/{case.id}/measures/publication", {"title": "選挙人名簿の流出"}
    )
    assert published.status_code == 200
    assert published.json == {"case_id": case.id, "title": "選挙人名簿の流出", "published": True}
    page = public.get("/measures/")
    assert page.status_code == 200
    assert "外部サーバー利用の禁止" in page.text
    assert "持出し手順の見直し" not in page.text  # proposed, never approved
    assert "内部名" not in page.text
    assert "期限超過" in page.text or "Overdue" in page.text
    # The feed is well-formed XML with the texts escaped.
    second.post(f"/api/v1/measures/public/{proposals[1]}/approve")
    feed = public.get("/measures/feed.atom")
    root = ElementTree.fromstring(feed.data)  # noqa: S314 - the app's own feed
    titles = [e.text or "" for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert any("持出し手順の見直し <b>&</b>" in t for t in titles)
    assert "<b>" not in public.get("/measures/").text


def test_a_responder_token_may_not_propose(
    app: Any, users: UserFactory, cases: CaseFactory, db_session: Session
):
    user = users.create(roles=["responder"]).user
    _token, plain = auth_service.create_token(db_session, user, actor=FACTORY)
    db_session.commit()
    api = Api(app.test_client(), plain)
    assert api.post("/api/v1/measures/1/public", json={"status": "planned"}).status_code == 403
