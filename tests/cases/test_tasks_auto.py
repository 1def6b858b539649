"""Tasks tied to an event close themselves (team formed, reporter answered) or say what is missing.

Through real requests: the playbook applied from the console, people assigned through the API,
the reply sent from the intake console; the receivers run because csirt/wiring.py connects them.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.cases.creation import create_case
from csirt.cases.models import Case, Task, TaskComment
from csirt.cases.playbooks import apply_playbook
from csirt.intake import web
from csirt.intake.base import IntakeSettings
from csirt.intake.models import Submission
from tests.conftest import csrf_from, login
from tests.factories import FACTORY
from tests.intake.conftest import BASIC_ANSWERS, submit


@pytest.fixture
def intake_settings(app: Flask, db_session: Session) -> IntakeSettings:
    with app.app_context():
        return web.settings(db_session, app)


def _task(db_session: Session, case_id: int, key: str) -> Task:
    db_session.expire_all()
    task = db_session.scalar(select(Task).where(Task.case_id == case_id, Task.key == key))
    assert task is not None
    return task


def _comments(db_session: Session, task: Task) -> list[TaskComment]:
    return list(db_session.scalars(select(TaskComment).where(TaskComment.task_id == task.id)))


def test_team_task_closes_when_a_lead_and_one_more_member_join(
    client, login_as, db_session: Session, users
):
    lead = login_as("lead")
    helper = users.create(roles=["responder"]).user
    case = create_case(db_session, title="名簿の掲載", actor=lead)
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}")
    assert (
        client.post(
            f"/console/cases/{case.id}/playbooks",
            data={"csrf_token": csrf_from(page.text), "playbook": "internet_leak"},
        ).status_code
        == 302
    )
    task = _task(db_session, case.id, "form_first_response_team")
    assert task.status == "open"
    tasks_page = client.get(f"/console/cases/{case.id}/tasks")
    assert "不足：責任者、もう1名のメンバー。" in tasks_page.text  # the UI is Japanese

    _row, plain = auth_service.create_token(
        db_session, lead, name="t", actor=FACTORY, scopes=("read", "write")
    )
    db_session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    url = f"/api/v1/cases/{case.id}/assignments"
    assert (
        client.post(
            url, json={"username": lead.username, "role": "lead"}, headers=headers
        ).status_code
        == 201
    )
    task = _task(db_session, case.id, "form_first_response_team")
    assert task.status == "open"  # a lead alone is not a team
    assert "不足：もう1名のメンバー。" in client.get(f"/console/cases/{case.id}/tasks").text
    assert (
        client.post(
            url, json={"username": helper.username, "role": "investigator"}, headers=headers
        ).status_code
        == 201
    )
    task = _task(db_session, case.id, "form_first_response_team")
    assert task.status == "done"
    assert task.completed_at is not None
    (comment,) = _comments(db_session, task)
    assert comment.author_id is None
    assert "自動で完了" in comment.body
    page = client.get(f"/console/cases/{case.id}/tasks")
    assert "Missing:" not in page.text
    assert "自動で完了" in page.text
    # the reply task is still open and says what it waits for
    assert _task(db_session, case.id, "contact_tipster").status == "open"
    assert "通報者に担当者が返信すると自動で完了します" in page.text
    assert client.get(f"/console/cases/{case.id}/activity").status_code == 200
    assert client.get(f"/api/v1/cases/{case.id}/activity", headers=headers).status_code == 200


def test_playbook_applied_after_the_team_was_formed(client, login_as, db_session: Session, users):
    lead = login_as("lead")
    helper = users.create(roles=["responder"]).user
    case = create_case(db_session, title="T", actor=helper, lead=lead)
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}")
    client.post(
        f"/console/cases/{case.id}/playbooks",
        data={"csrf_token": csrf_from(page.text), "playbook": "malware"},
    )
    assert _task(db_session, case.id, "form_first_response_team").status == "done"


def test_reply_task_closes_when_the_officer_answers_the_linked_report(
    client, db_session: Session, users, intake_settings, playbooks
):
    officer = users.create(roles=["intake_officer"], totp=True)
    db_session.commit()
    assert login(client, officer.user.username, officer.password, officer.totp_seed).status_code
    client.get("/console/intake/key")  # the one-time recovery key is shown, then the inbox works
    result = submit(db_session, intake_settings, dict(BASIC_ANSWERS))
    db_session.commit()
    page = client.get(f"/console/intake/{result.submission_id}")
    csrf = csrf_from(page.text)
    promoted = client.post(
        f"/console/intake/{result.submission_id}/promote",
        data={"csrf_token": csrf, "title": "名簿の掲載"},
    )
    assert promoted.status_code == 302
    submission = db_session.get(Submission, result.submission_id)
    db_session.refresh(submission)
    case = db_session.get(Case, submission.case_id)
    apply_playbook(db_session, case, playbooks["internet_leak"], officer.user)
    db_session.commit()
    assert _task(db_session, case.id, "contact_tipster").status == "open"
    replied = client.post(
        f"/console/intake/{result.submission_id}/reply",
        data={"csrf_token": csrf, "body": "受け付けました。調査を始めます。"},
    )
    assert replied.status_code == 302
    task = _task(db_session, case.id, "contact_tipster")
    assert task.status == "done"
    (comment,) = _comments(db_session, task)
    assert "通報者に返信" in comment.body
    assert "受け付けました" not in comment.body  # the reply's text never enters the case
