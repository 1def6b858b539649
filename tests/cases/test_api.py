"""The cases API: list, create, patch, timeline, tasks, CSV, problems."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.cases.creation import create_case
from csirt.cases.models import Case, TimelineEvent
from tests.factories import FACTORY


def _token(db_session: Session, user) -> dict[str, str]:
    _row, plain = auth_service.create_token(
        db_session, user, name="t", actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_create_list_get_patch(client, db_session: Session, users):
    lead = users.create(roles=["lead"]).user
    headers = _token(db_session, lead)
    created = client.post(
        "/api/v1/cases",
        json={
            "title": "API事案",
            "priority": "P2",
            "aware_at": "2026-01-05T09:00:00+09:00",
            "tags": ["api"],
            "playbooks": ["lost_media"],
            "involved": ["総務課"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    case_id = created.json["id"]
    assert created.json["reference"].startswith("CSIRT-")
    listing = client.get("/api/v1/cases?priority=P2&q=API&limit=1", headers=headers)
    assert listing.status_code == 200
    assert listing.json["items"][0]["id"] == case_id
    assert "next_cursor" in listing.json
    one = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert one.json["tags"] == ["api"]
    patched = client.patch(
        f"/api/v1/cases/{case_id}",
        json={
            "insider": True,
            "priority": "P1",
            "phase": "analyse",
            "tags": ["a", "b"],
            "reason": "拡大",
        },
        headers=headers,
    )
    assert patched.status_code == 409  # a P1 needs a lead and one more member to leave detect
    patched = client.patch(
        f"/api/v1/cases/{case_id}",
        json={"insider": True, "priority": "P1", "tags": ["a", "b"], "aware_at": None},
        headers=headers,
    )
    assert patched.status_code == 200
    assert patched.json["insider"] is True
    assert patched.json["priority"] == "P1"
    assert patched.json["aware_at"] is None
    tasks = client.get(f"/api/v1/cases/{case_id}/tasks", headers=headers)
    assert tasks.status_code == 200
    assert len(tasks.json["items"]) > 3


def test_validation_problems_name_each_field(client, db_session: Session, users):
    lead = users.create(roles=["lead"]).user
    headers = _token(db_session, lead)
    before = db_session.scalar(select(func.count()).select_from(Case))
    bad = client.post(
        "/api/v1/cases",
        json={
            "title": 5,
            "priority": "P7",
            "aware_at": "yesterday",
            "insider": "yes",
            "playbooks": ["nope"],
            "tags": "x",
            "extra": 1,
        },
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {
        "title",
        "priority",
        "aware_at",
        "insider",
        "playbooks",
        "tags",
        "extra",
    }
    assert client.post("/api/v1/cases", data="[]", headers=headers).status_code == 422
    assert db_session.scalar(select(func.count()).select_from(Case)) == before
    listing = client.get("/api/v1/cases?phase=x&priority=y&limit=0&cursor=z", headers=headers)
    assert listing.status_code == 422
    assert set(listing.json["errors"]) == {"phase", "priority", "limit", "cursor"}
    case = create_case(db_session, title="x", actor=lead)
    db_session.commit()
    patch = client.patch(
        f"/api/v1/cases/{case.id}", json={"phase": "closed", "title": ""}, headers=headers
    )
    assert patch.status_code == 422
    assert "phase" in patch.json["errors"]
    patch = client.patch(f"/api/v1/cases/{case.id}", json={"title": ""}, headers=headers)
    assert patch.status_code == 422
    assert "title" in patch.json["errors"]
    assert client.patch(f"/api/v1/cases/{case.id}", data="1", headers=headers).status_code == 422


def test_timeline_and_tasks_api(client, db_session: Session, users):
    lead = users.create(roles=["lead"]).user
    headers = _token(db_session, lead)
    case = create_case(db_session, title="TL", actor=lead)
    db_session.commit()
    url = f"/api/v1/cases/{case.id}/timeline"
    ok = client.post(
        url,
        json={
            "occurred_at": "2015-06-24T20:00:00+09:00",
            "precision": "minute",
            "title": "通報",
            "description": "匿名",
            "source": "フォーム",
            "visibility": "public",
        },
        headers=headers,
    )
    assert ok.status_code == 201
    assert ok.json["occurred_at"].startswith("2015-06-24T11:00")
    bad = client.post(
        url,
        json={
            "occurred_at": "x",
            "precision": "hour",
            "title": "",
            "visibility": "secret",
            "evidence_ids": [99],
        },
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {
        "occurred_at",
        "precision",
        "title",
        "visibility",
        "evidence_ids",
    }
    assert client.post(url, json={"foo": 1}, headers=headers).status_code == 422
    assert client.post(url, data="x", headers=headers).status_code == 422
    count = db_session.scalar(
        select(func.count()).select_from(TimelineEvent).where(TimelineEvent.case_id == case.id)
    )
    assert count == 1
    listed = client.get(url + "?visibility=public&limit=10", headers=headers)
    assert [e["title"] for e in listed.json["items"]] == ["通報"]
    csv = client.get(url + ".csv", headers=headers)
    assert csv.status_code == 200
    assert "通報" in csv.data.decode("utf-8-sig")
    task = client.post(
        f"/api/v1/cases/{case.id}/tasks",
        json={
            "title": "確認",
            "due_at": "2030-01-01T00:00:00Z",
            "assignees": [lead.id],
            "required": True,
        },
        headers=headers,
    )
    assert task.status_code == 201
    assert task.json["assignees"] == [lead.id]
    bad_task = client.post(
        f"/api/v1/cases/{case.id}/tasks",
        json={"due_at": "soon", "assignees": ["x"], "description": 1, "required": "y"},
        headers=headers,
    )
    assert set(bad_task.json["errors"]) == {
        "title",
        "due_at",
        "assignees",
        "description",
        "required",
    }
    not_member = client.post(
        f"/api/v1/cases/{case.id}/tasks",
        json={"title": "x", "assignees": [10**6]},
        headers=headers,
    )
    assert not_member.status_code == 422
    assert "assignees" in not_member.json["errors"]
    assert (
        client.post(f"/api/v1/cases/{case.id}/tasks", data="x", headers=headers).status_code == 422
    )


def test_invisible_case_is_404(client, db_session: Session, users):
    owner = users.create(roles=["lead"]).user
    outsider = users.create(roles=["responder"]).user
    case = create_case(db_session, title="秘", actor=owner)
    headers = _token(db_session, outsider)
    for path in ("", "/timeline", "/timeline.csv", "/tasks"):
        response = client.get(f"/api/v1/cases/{case.id}{path}", headers=headers)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
    assert client.patch(f"/api/v1/cases/{case.id}", json={}, headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/cases/{case.id}/timeline", json={}, headers=headers).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/cases/{case.id}/tasks", json={"title": "t"}, headers=headers
        ).status_code
        == 404
    )  # a valid body: a bad one is a 422 before any case is loaded (csirt.api.routes)
    assert client.get("/api/v1/cases").status_code == 401


def test_openapi_lists_the_case_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases"])
    assert {"get", "patch"} <= set(paths["/api/v1/cases/{case_id}"])
    assert "/api/v1/cases/{case_id}/timeline.csv" in paths
