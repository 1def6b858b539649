"""Tasks quick to work: bulk status/assignee (console and API), inline status, confirmations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent
from csirt.cases.creation import create_case
from csirt.cases.models import CaseMember, Task
from csirt.cases.tasks import add_task
from tests.conftest import csrf_from
from tests.factories import api_headers as _token


def _case_with_tasks(db_session: Session, lead, helper, n: int = 3):
    case = create_case(db_session, title="T", actor=lead)
    db_session.add(CaseMember(case_id=case.id, user_id=helper.id, role="investigator"))
    tasks = [add_task(db_session, case, lead, title=f"作業{i}") for i in range(n)]
    db_session.commit()
    return case, tasks


def _updates(db_session: Session, case_id: int) -> int:
    return db_session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == AuditAction.TASK_UPDATE.value)
    )


def test_bulk_status_and_assignee_from_the_console(client, login_as, db_session: Session, users):
    lead = login_as("lead")
    helper = users.create(roles=["responder"]).user
    case, (a, b, c) = _case_with_tasks(db_session, lead, helper)
    page = client.get(f"/console/cases/{case.id}/tasks")
    assert page.status_code == 200
    assert 'form="task-bulk"' in page.text
    token = csrf_from(page.text)
    response = client.post(
        f"/console/cases/{case.id}/tasks/bulk",
        data={
            "csrf_token": token,
            "task_ids": [str(a.id), str(b.id)],
            "status": "done",
            "assignee": str(helper.id),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "2件のタスクを更新しました。" in response.text  # the UI is Japanese
    db_session.expire_all()
    assert db_session.get(Task, a.id).status == "done"
    assert db_session.get(Task, b.id).completed_at is not None
    assert db_session.get(Task, c.id).status == "open"
    assert [x.user_id for x in db_session.get(Task, a.id).assignees] == [helper.id]
    assert _updates(db_session, case.id) == 2  # one audit row per changed task


def test_bulk_refuses_bad_input_without_writing(client, login_as, db_session: Session, users):
    lead = login_as("lead")
    helper = users.create(roles=["responder"]).user
    outsider = users.create(roles=["responder"]).user
    case, (a, _b, _c) = _case_with_tasks(db_session, lead, helper)
    _other, (foreign, *_rest) = _case_with_tasks(db_session, lead, helper, n=1)
    token = csrf_from(client.get(f"/console/cases/{case.id}/tasks").text)
    url = f"/console/cases/{case.id}/tasks/bulk"
    bad = [
        {"task_ids": [str(a.id)]},  # neither status nor assignee
        {"status": "done"},  # nothing selected
        {"task_ids": [str(a.id)], "status": "zzz"},
        {"task_ids": [str(a.id), "x"], "status": "done"},
        {"task_ids": [str(a.id), str(foreign.id)], "status": "done"},  # all or nothing
        {"task_ids": [str(a.id)], "assignee": str(outsider.id)},
        {"task_ids": [str(a.id)], "assignee": "abc"},
    ]
    for data in bad:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 400, data
    assert client.post(url, data={"task_ids": [str(a.id)], "status": "done"}).status_code == 400
    db_session.expire_all()
    assert db_session.get(Task, a.id).status == "open"
    assert _updates(db_session, case.id) == 0


def test_inline_status_and_confirmation(client, login_as, db_session: Session, users):
    lead = login_as("lead")
    helper = users.create(roles=["responder"]).user
    case, (a, *_rest) = _case_with_tasks(db_session, lead, helper)
    token = csrf_from(client.get(f"/console/cases/{case.id}/tasks").text)
    response = client.post(
        f"/console/cases/{case.id}/tasks/{a.id}/status",
        data={"csrf_token": token, "status": "in_progress"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "タスクを更新しました：作業0" in response.text
    db_session.expire_all()
    assert db_session.get(Task, a.id).status == "in_progress"
    bad = client.post(
        f"/console/cases/{case.id}/tasks/{a.id}/status", data={"csrf_token": token, "status": "x"}
    )
    assert bad.status_code == 400
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks/999999/status",
            data={"csrf_token": token, "status": "done"},
        ).status_code
        == 404
    )
    # the full edit form confirms too
    response = client.post(
        f"/console/cases/{case.id}/tasks/{a.id}",
        data={"csrf_token": token, f"t{a.id}-status": "done", f"t{a.id}-due_at": ""},
        follow_redirects=True,
    )
    assert "タスクを更新しました：作業0" in response.text


def test_no_bulk_form_without_edit_permission(client, login_as, db_session: Session, users):
    lead = users.create(roles=["lead"]).user
    viewer = login_as("committee")
    case, _tasks = _case_with_tasks(db_session, lead, viewer)
    page = client.get(f"/console/cases/{case.id}/tasks")
    if page.status_code == 200:
        assert 'id="task-bulk"' not in page.text


def test_bulk_api(client, db_session: Session, users):
    lead = users.create(roles=["lead"]).user
    helper = users.create(roles=["responder"]).user
    case, (a, b, c) = _case_with_tasks(db_session, lead, helper)
    _other, (foreign,) = _case_with_tasks(db_session, lead, helper, n=1)
    headers = _token(db_session, lead)
    url = f"/api/v1/cases/{case.id}/tasks/bulk"
    ok = client.post(
        url,
        json={"task_ids": [a.id, c.id], "status": "in_progress", "assignee": helper.username},
        headers=headers,
    )
    assert ok.status_code == 200, ok.json
    assert ok.json["updated"] == 2
    assert {t["status"] for t in ok.json["items"]} == {"in_progress"}
    assert all(t["assignees"] == [helper.id] for t in ok.json["items"])
    assert _updates(db_session, case.id) == 2
    again = client.post(url, json={"task_ids": [a.id], "status": "in_progress"}, headers=headers)
    assert again.json["updated"] == 0

    missing = client.post(
        url, json={"task_ids": [b.id, foreign.id, 999999], "status": "done"}, headers=headers
    )
    assert missing.status_code == 422
    assert str(foreign.id) in missing.json["errors"]["task_ids"]
    assert "999999" in missing.json["errors"]["task_ids"]
    for body in (
        {"task_ids": [b.id]},
        {"task_ids": [], "status": "done"},
        {"task_ids": [b.id], "status": "cancelled"},
        {"task_ids": ["1"], "status": "done"},
        {"task_ids": [b.id], "assignee": "nobody-here"},
        {"task_ids": [b.id], "status": "done", "extra": 1},
    ):
        assert client.post(url, json=body, headers=headers).status_code == 422, body
    db_session.expire_all()
    assert db_session.get(Task, b.id).status == "open"
    assert _updates(db_session, case.id) == 2
