"""One mechanism corrects every kind of case record (csirt.cases.history + corrections): tasks,
notes, liaison entries and data sets are edited with history, soft-deleted with a reason and
restored by a lead, through the API (tokens) and the console (forms, confirmation page)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.models import LiaisonEntry, Note, Task, TaskComment
from tests.conftest import csrf_from
from tests.factories import api_headers as _token

# (collection, body of the POST, a PATCH, the field it changes, audit prefix)
KINDS: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    (
        "tasks",
        {"title": "県HPの掲載を止める", "description": "広報課へ連絡"},
        {"title": "県HPの掲載を止める（至急）", "due_at": "2026-11-03T09:00:00+09:00"},
        "title",
        "task",
    ),
    ("notes", {"body": "名簿の範囲は北区のみ"}, {"body": "名簿の範囲は北区と南区"}, "body", "note"),
    (
        "liaison",
        {
            "party_kind": "police",
            "party": "県警サイバー課",
            "contact_at": "2026-11-02T10:00:00+09:00",
        },
        {"party": "県警サイバー犯罪対策課", "summary": "被害届の相談"},
        "party",
        "liaison",
    ),
    (
        "datasets",
        {"name": "選挙人名簿 北区", "persons": 120, "exposure": "internal", "items": ["name"]},
        {"persons": 130},
        "persons",
        "dataset",
    ),
]


@pytest.mark.parametrize(("path", "body", "patch", "changed", "audit"), KINDS)
def test_api_edit_delete_restore_with_history(
    client, db_session: Session, users, cases, path, body, patch, changed, audit
):
    responder = users.create(roles=["responder"]).user
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[responder], commit=True)
    headers = _token(db_session, responder)
    lead_headers = _token(db_session, lead)
    made = client.post(f"/api/v1/cases/{case.id}/{path}", json=body, headers=headers)
    assert made.status_code == 201, made.json
    url = f"/api/v1/cases/{case.id}/{path}/{made.json['id']}"

    edited = client.patch(url, json={**patch, "reason": "確認のうえ訂正"}, headers=headers)
    assert edited.status_code == 200, edited.json
    assert edited.json[changed] == patch[changed]
    items = client.get(url + "/history", headers=headers).json["items"]
    assert [v["change"] for v in items] == ["edit"]
    assert items[0]["data"][changed] == body[changed]  # the earlier version
    assert items[0]["reason"] == "確認のうえ訂正"
    assert items[0]["changed_by"] == responder.username

    bad = client.patch(url, json={changed: None, "nope": 1}, headers=headers)
    assert bad.status_code == 422
    assert client.delete(url, json={"reason": ""}, headers=headers).status_code == 422
    assert client.delete(url, json={"reason": "重複登録"}, headers=headers).status_code == 204
    assert client.patch(url, json=patch, headers=headers).status_code == 404
    refused = client.post(url + "/restore", json={"reason": "誤削除"}, headers=headers)
    assert refused.status_code == 403
    back = client.post(url + "/restore", json={"reason": "誤削除"}, headers=lead_headers)
    assert back.status_code == 200, back.json
    assert back.json["id"] == made.json["id"]
    assert back.json[changed] == patch[changed]
    items = client.get(url + "/history", headers=headers).json["items"]
    assert [v["change"] for v in items] == ["restore", "delete", "edit"]
    again = client.post(url + "/restore", json={}, headers=lead_headers)
    assert again.status_code == 404  # not deleted any more
    actions = set(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id))
    )
    assert {f"{audit}.delete", f"{audit}.restore"} <= actions
    spec = client.get("/api/v1/openapi.json", headers=headers).json
    assert {"patch", "delete"} <= set(
        spec["paths"][f"/api/v1/cases/{{case_id}}/{path}/{{record_id}}"]
    )


def test_a_deleted_task_comes_back_with_its_assignees_and_comments(
    client, db_session: Session, users, cases
):
    lead = users.create(roles=["lead"]).user
    worker = users.create(roles=["responder"]).user
    case = cases.create(actor=lead, members=[lead, worker], commit=True)
    headers = _token(db_session, lead)
    made = client.post(
        f"/api/v1/cases/{case.id}/tasks",
        json={"title": "ログの保全", "assignees": [worker.id]},
        headers=headers,
    )
    task_id = made.json["id"]
    db_session.add(TaskComment(task_id=task_id, author_id=lead.id, body="サーバ室で取得"))
    db_session.commit()
    url = f"/api/v1/cases/{case.id}/tasks/{task_id}"
    assert client.delete(url, json={"reason": "別事案の作業"}, headers=headers).status_code == 204
    db_session.expire_all()
    assert db_session.get(Task, task_id) is None
    assert db_session.scalars(select(TaskComment).where(TaskComment.task_id == task_id)).all() == []
    listed = client.get(f"/api/v1/cases/{case.id}/tasks", headers=headers).json["items"]
    assert task_id not in [t["id"] for t in listed]
    back = client.post(url + "/restore", json={"reason": "誤削除"}, headers=headers)
    assert back.status_code == 200
    assert back.json["assignees"] == [worker.id]
    db_session.expire_all()
    comments = db_session.scalars(select(TaskComment).where(TaskComment.task_id == task_id)).all()
    assert [c.body for c in comments] == ["サーバ室で取得"]


def test_only_a_notes_author_edits_it(client, db_session: Session, users, cases):
    author = users.create(roles=["responder"]).user
    other = users.create(roles=["responder"]).user
    case = cases.create(members=[author, other], commit=True)
    made = client.post(
        f"/api/v1/cases/{case.id}/notes", json={"body": "初報"}, headers=_token(db_session, author)
    )
    url = f"/api/v1/cases/{case.id}/notes/{made.json['id']}"
    refused = client.patch(url, json={"body": "改ざん"}, headers=_token(db_session, other))
    assert refused.status_code == 403
    assert db_session.get(Note, made.json["id"]).body == "初報"


def test_console_task_edit_confirmation_delete_and_restore(
    client, login_as, db_session: Session, cases
):
    lead = login_as("lead")
    case = cases.create(actor=lead, members=[lead], commit=True)
    task = Task(case_id=case.id, title="報道対応の準備", status="open", phase="detect")
    db_session.add(task)
    db_session.commit()
    task_id = task.id
    base = f"/console/cases/{case.id}/tasks/{task_id}"
    assert base + "/edit" in client.get(f"/console/cases/{case.id}/tasks").text
    form = client.get(base + "/edit")
    assert form.status_code == 200
    fields = {
        "csrf_token": csrf_from(form.text),
        "title": "報道対応の準備（記者発表）",
        "description": "",
        "phase": "contain",
        "due_at": "2026-11-05T10:00",
        "reason": "発表が決まった",
    }
    assert client.post(base + "/edit", data={**fields, "title": ""}).status_code == 400
    assert client.post(base + "/edit", data=fields).status_code == 302
    page = client.get(base + "/edit")
    assert "発表が決まった" in page.text
    assert "報道対応の準備" in page.text
    confirm = client.get(base + "/delete")
    assert confirm.status_code == 200
    assert "報道対応の準備（記者発表）" in confirm.text
    token = csrf_from(confirm.text)
    assert client.post(base + "/delete", data={"csrf_token": token}).status_code == 400
    gone = client.post(base + "/delete", data={"csrf_token": token, "reason": "不要になった"})
    assert gone.status_code == 302
    db_session.expire_all()
    assert db_session.get(Task, task_id) is None
    listing = client.get(f"/console/cases/{case.id}/tasks")
    assert "不要になった" in listing.text
    restored = client.post(base + "/restore", data={"csrf_token": csrf_from(listing.text)})
    assert restored.status_code == 302
    db_session.expire_all()
    back = db_session.get(Task, task_id)
    assert back is not None
    assert back.phase == "contain"
    assert back.due_at is not None
    assert back.due_at.isoformat().startswith("2026-11-05T01:00")


def test_console_notes_and_liaison(client, login_as, db_session: Session, users, cases):
    responder = login_as("responder")
    other = users.create(roles=["responder"]).user
    case = cases.create(members=[responder, other], commit=True)
    note = Note(case_id=case.id, author_id=responder.id, body="初動の記録")
    theirs = Note(case_id=case.id, author_id=other.id, body="他の人のメモ")
    entry = LiaisonEntry(
        case_id=case.id,
        party_kind="regulator",
        party="個人情報保護委員会",
        contact_at=case.created_at,
        direction="out",
        summary="速報の提出",
        recorded_by_id=responder.id,
    )
    db_session.add_all([note, theirs, entry])
    db_session.commit()
    note_id, entry_id = note.id, entry.id
    notes = f"/console/cases/{case.id}/notes"
    assert client.get(f"{notes}/{theirs.id}/edit").status_code == 403
    form = client.get(f"{notes}/{note_id}/edit")
    saved = client.post(
        f"{notes}/{note_id}/edit",
        data={"csrf_token": csrf_from(form.text), "body": "初動の記録（訂正）", "reason": "誤字"},
    )
    assert saved.status_code == 302
    confirm = client.get(f"{notes}/{note_id}/delete")
    assert "初動の記録（訂正）" in confirm.text
    gone = client.post(
        f"{notes}/{note_id}/delete",
        data={"csrf_token": csrf_from(confirm.text), "reason": "重複"},
    )
    assert gone.status_code == 302
    history = client.get(f"{notes}/{note_id}/history")
    assert history.status_code == 200
    assert "誤字" in history.text  # the reason of the edit, for every reader of the case
    page = client.get(notes)
    assert "重複" in page.text
    assert "初動の記録（訂正）" in page.text
    # a responder is no lead: no restore form and a refused restore
    assert f"{notes}/{note_id}/restore" not in page.text
    token = csrf_from(page.text)
    assert client.post(f"{notes}/{note_id}/restore", data={"csrf_token": token}).status_code == 403

    liaison = f"/console/cases/{case.id}/liaison"
    form = client.get(f"{liaison}/{entry_id}/edit")
    assert form.status_code == 200
    fields = {
        "csrf_token": csrf_from(form.text),
        "party_kind": "regulator",
        "party": "個人情報保護委員会事務局",
        "contact_at": "2026-11-02T10:30",
        "direction": "out",
        "summary": "速報の提出",
        "reason": "宛先の訂正",
    }
    assert (
        client.post(f"{liaison}/{entry_id}/edit", data={**fields, "contact_at": "x"}).status_code
        == 400
    )
    assert client.post(f"{liaison}/{entry_id}/edit", data=fields).status_code == 302
    db_session.expire_all()
    assert db_session.get(LiaisonEntry, entry_id).party == "個人情報保護委員会事務局"
    assert "宛先の訂正" in client.get(f"{liaison}/{entry_id}/edit").text


def test_a_status_change_keeps_the_previous_version(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead], commit=True)
    headers = _token(db_session, lead)
    made = client.post(
        f"/api/v1/cases/{case.id}/tasks", json={"title": "鍵の回収"}, headers=headers
    )
    task_id = made.json["id"]
    done = client.post(
        f"/api/v1/cases/{case.id}/tasks/bulk",
        json={"task_ids": [task_id], "status": "done"},
        headers=headers,
    )
    assert done.status_code == 200, done.json
    items = client.get(f"/api/v1/cases/{case.id}/tasks/{task_id}/history", headers=headers).json
    assert [(v["change"], v["data"]["status"]) for v in items["items"]] == [("edit", "open")]
