"""Task assignment and ``@username`` mentions reach people, content-free and only who may see.

Driven through real console requests and a real SMTP sink; no signal is sent by hand.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.models import Note, Task
from csirt.notify.models import Notification
from csirt.notify.service import Channel
from csirt.teams.assignment import assign
from tests.conftest import csrf_from, login
from tests.teams.conftest import Sink, World

SECRET_TITLE = "人事データベースの流出"
SECRET_COMMENT = "ログの保全をお願いします"


def _client_of(app: Flask, world: World, name: str, role: str) -> Any:
    created = world.users.create(roles=[role], username=name)
    created.user.email = f"{name}@example.jp"
    created.user.lang = "ja"
    world.session.commit()
    client = app.test_client()
    assert login(client, name, created.password).status_code == 302
    return created.user, client


def _mails(sink: Sink, address: str) -> list[str]:
    return [str(m["Subject"]) + "\n" + m.get_content() for m in sink.messages if m["To"] == address]


def _setup(mail_app: Flask, world: World, channel: Channel) -> Any:
    lead, lead_client = _client_of(mail_app, world, "caselead", "lead")
    member, member_client = _client_of(mail_app, world, "member", "responder")
    outsider, _ = _client_of(mail_app, world, "outsider", "responder")
    case = world.case(title=SECRET_TITLE, tlp="amber")
    assign(world.session, channel, case, lead, "lead", actor=None)
    assign(world.session, channel, case, member, "investigator", actor=None)
    world.session.commit()
    return case, lead, lead_client, member, member_client, outsider


def test_an_assigned_task_tells_the_assignee_but_not_one_who_assigns_themself(
    mail_app: Flask, db_session: Session, world: World, sink: Sink, channel: Channel
) -> None:
    case, lead, lead_client, member, _member_client, _ = _setup(mail_app, world, channel)
    sink.messages.clear()
    page = lead_client.get(f"/console/cases/{case.id}/tasks")
    assert page.status_code == 200
    added = lead_client.post(
        f"/console/cases/{case.id}/tasks",
        data={
            "csrf_token": csrf_from(page.text),
            "title": SECRET_TITLE,
            "phase": "detect",
            "assignees": [str(member.id), str(lead.id)],
        },
    )
    assert added.status_code == 302, added.text
    mails = _mails(sink, "member@example.jp")
    assert len(mails) == 1
    assert f"事案 {case.reference} のタスクの担当になりました" in mails[0]
    assert f"/console/cases/{case.id}/tasks#task-" in mails[0]
    assert SECRET_TITLE not in mails[0]  # content-free: TLP:AMBER
    assert _mails(sink, "caselead@example.jp") == []  # the lead assigned themself
    rows = db_session.scalars(
        select(Notification).where(
            Notification.user_id == member.id, Notification.kind == "task_assigned"
        )
    ).all()
    assert len(rows) == 1

    # Re-saving the same assignees tells nobody again; a new assignee is told once.
    task = db_session.scalars(select(Task).where(Task.case_id == case.id)).one()
    sink.messages.clear()
    page = lead_client.get(f"/console/cases/{case.id}/tasks")
    updated = lead_client.post(
        f"/console/cases/{case.id}/tasks/{task.id}",
        data={
            "csrf_token": csrf_from(page.text),
            f"t{task.id}-status": "in_progress",
            f"t{task.id}-assignees": [str(member.id)],
        },
    )
    assert updated.status_code == 302, updated.text
    assert sink.messages == []


def test_a_mention_tells_only_people_who_may_see_the_case(
    mail_app: Flask, db_session: Session, world: World, sink: Sink, channel: Channel
) -> None:
    case, _lead, lead_client, _member, member_client, outsider = _setup(mail_app, world, channel)
    page = lead_client.get(f"/console/cases/{case.id}/tasks")
    lead_client.post(
        f"/console/cases/{case.id}/tasks",
        data={"csrf_token": csrf_from(page.text), "title": "保全", "phase": "detect"},
    )
    task = db_session.scalars(select(Task).where(Task.case_id == case.id)).one()
    sink.messages.clear()

    page = member_client.get(f"/console/cases/{case.id}/tasks")
    body = f"@caselead @outsider @nobody @member {SECRET_COMMENT} (mail: x@caselead.jp)"
    commented = member_client.post(
        f"/console/cases/{case.id}/tasks/{task.id}/comments",
        data={"csrf_token": csrf_from(page.text), "body": body},
    )
    assert commented.status_code == 302, commented.text
    lead_mails = _mails(sink, "caselead@example.jp")
    assert len(lead_mails) == 1
    assert f"事案 {case.reference} であなた宛ての書き込みがあります" in lead_mails[0]
    assert SECRET_COMMENT not in lead_mails[0]
    assert _mails(sink, "outsider@example.jp") == []  # may not see the case
    assert _mails(sink, "member@example.jp") == []  # the author
    assert len(sink.messages) == 1
    assert (
        db_session.scalars(select(Notification).where(Notification.user_id == outsider.id)).all()
        == []
    )

    # A note: the author's mention of a member tells them; editing tells only added names.
    sink.messages.clear()
    page = lead_client.get(f"/console/cases/{case.id}/notes")
    noted = lead_client.post(
        f"/console/cases/{case.id}/notes",
        data={"csrf_token": csrf_from(page.text), "body": "@member 確認してください"},
    )
    assert noted.status_code == 302, noted.text
    assert len(_mails(sink, "member@example.jp")) == 1
    assert len(sink.messages) == 1

    # Editing the note tells only a name it adds.
    note = db_session.scalars(select(Note).where(Note.case_id == case.id)).one()
    sink.messages.clear()
    edit_url = f"/console/cases/{case.id}/notes/{note.id}/edit"
    page = lead_client.get(edit_url)
    assert page.status_code == 200
    same = lead_client.post(
        edit_url, data={"csrf_token": csrf_from(page.text), "body": "@member 再確認を"}
    )
    assert same.status_code == 302, same.text
    assert sink.messages == []
    second, _ = _client_of(mail_app, world, "second", "responder")
    assign(world.session, channel, case, second, "investigator", actor=None)
    world.session.commit()
    sink.messages.clear()
    page = lead_client.get(edit_url)
    more = lead_client.post(
        edit_url, data={"csrf_token": csrf_from(page.text), "body": "@member @second 再確認を"}
    )
    assert more.status_code == 302, more.text
    assert len(_mails(sink, "second@example.jp")) == 1
    assert _mails(sink, "member@example.jp") == []
