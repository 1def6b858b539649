"""Case pages: create, overview, lifecycle, tasks, timeline, CSV import/export, dashboard."""

from __future__ import annotations

import io
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.creation import create_case
from csirt.cases.models import Case, CaseMember, Task, TimelineEvent
from csirt.cases.tagging import case_tags
from tests.conftest import csrf_from


def _new_case(client, **extra):
    page = client.get("/console/cases/new")
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_from(page.text),
        "title": "Webに名簿が掲載",
        "summary": "匿名の通報",
        "priority": "P2",
        "tlp": "amber",
        "aware_at": "2026-01-05T09:30",
        "insider": "y",
        "involved": "会計室\nsuzuki",
        "tags": "名簿, 内部不正",
        "playbook": "internet_leak",
    }
    data.update(extra)
    return client.post("/console/cases/new", data=data)


def test_create_case_from_playbook_and_overview(client, login_as, db_session: Session):
    login_as("lead")
    response = _new_case(client)
    assert response.status_code == 302, response.text
    case = db_session.scalar(select(Case).where(Case.title == "Webに名簿が掲載"))
    assert case is not None
    assert case.insider
    assert case.involved == ["会計室", "suzuki"]
    assert case.aware_at is not None
    assert case.aware_at.hour == 0
    tasks = db_session.scalars(select(Task).where(Task.case_id == case.id)).all()
    assert {t.key for t in tasks} >= {"capture_web_evidence", "contact_tipster"}
    overview = client.get(response.headers["Location"])
    assert overview.status_code == 200
    assert "内部不正" in overview.text
    assert "overdue" in overview.text
    assert client.get(f"/console/cases/{case.id}/tasks").status_code == 200
    listing = client.get("/console/cases/?q=名簿&tag=名簿&overdue=1&assignee=me")
    assert listing.status_code == 200
    assert "Webに名簿が掲載" not in listing.text  # nobody is assigned yet
    listing = client.get("/console/cases/?q=名簿&tag=名簿&overdue=1")
    assert "Webに名簿が掲載" in listing.text
    assert "overdue" in listing.text
    dashboard = client.get("/console/")
    assert dashboard.status_code == 200
    assert case.reference in dashboard.text


def test_create_case_form_errors(client, login_as):
    login_as("lead")
    response = _new_case(client, title="", aware_at="not a date")
    assert response.status_code == 400
    assert "errors" in response.text


def test_need_to_know_on_every_page(client, login_as, db_session: Session, users):
    other = users.create(roles=["lead"]).user
    case = create_case(db_session, title="秘密", actor=other)
    db_session.commit()
    login_as("responder")
    for path in ("", "/tasks", "/timeline", "/timeline.csv", "/edit"):
        assert client.get(f"/console/cases/{case.id}{path}").status_code == 404, path
    assert client.get("/console/cases/999999").status_code == 404


def test_edit_phase_priority_tags_links(client, login_as, db_session: Session):
    user = login_as("lead")
    case = create_case(db_session, title="A", actor=user, lead=user)
    other = create_case(db_session, title="B", actor=user)
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}/edit")
    token = csrf_from(page.text)
    response = client.post(
        f"/console/cases/{case.id}/edit",
        data={
            "csrf_token": token,
            "title": "A2",
            "summary": "s",
            "tlp": "red",
            "aware_at": "",
            "ongoing": "y",
            "involved": "",
            "tags": "x, y",
        },
    )
    assert response.status_code == 302
    assert (
        client.post(
            f"/console/cases/{case.id}/edit", data={"csrf_token": token, "title": ""}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/phase", data={"csrf_token": token, "phase": "analyse"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/phase", data={"csrf_token": token, "phase": "bogus"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/priority", data={"csrf_token": token, "priority": "P1"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/priority", data={"csrf_token": token, "priority": "P9"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/links",
            data={"csrf_token": token, "reference": other.reference, "note": "同一人物"},
        ).status_code
        == 302
    )
    client.post(f"/console/cases/{case.id}/links", data={"csrf_token": token, "reference": "X-1"})
    client.post(
        f"/console/cases/{case.id}/links", data={"csrf_token": token, "reference": str(case.id)}
    )
    db_session.expire_all()
    case = db_session.get(Case, case.id)
    assert case.title == "A2"
    assert case.tlp == "red"
    assert case.ongoing
    assert case.phase == "analyse"
    assert case.priority == "P1"
    assert case_tags(db_session, case) == ["x", "y"]
    overview = client.get(f"/console/cases/{case.id}")
    assert other.reference in overview.text
    assert (
        client.post(
            f"/console/cases/{case.id}/links/{other.id}/delete", data={"csrf_token": token}
        ).status_code
        == 302
    )
    events = db_session.scalars(
        select(TimelineEvent).where(TimelineEvent.case_id == case.id, TimelineEvent.automatic)
    ).all()
    assert {e.category for e in events} == {"phase", "priority"}


def test_p1_team_rule_in_the_page(client, login_as, db_session: Session):
    user = login_as("lead")
    case = create_case(db_session, title="P1", actor=user, priority="P1")
    db_session.commit()
    token = csrf_from(client.get(f"/console/cases/{case.id}").text)
    response = client.post(
        f"/console/cases/{case.id}/phase", data={"csrf_token": token, "phase": "analyse"}
    )
    assert response.status_code == 409


def test_close_with_checklist(client, login_as, db_session: Session, playbooks):
    user = login_as("lead")
    case = create_case(
        db_session, title="C", actor=user, lead=user, playbooks=[playbooks["misdelivery"]]
    )
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}")
    token = csrf_from(page.text)
    refused = client.post(
        f"/console/cases/{case.id}/close", data={"csrf_token": token, "outcome": "resolved"}
    )
    assert refused.status_code == 409
    assert "Required task not done" in refused.text or "必須タスク" in refused.text
    for task in db_session.scalars(select(Task).where(Task.case_id == case.id)):
        task.status = "done"
    db_session.commit()
    manual = re.findall(
        r'name="item" value="([^"]+)"', client.get(f"/console/cases/{case.id}").text
    )
    for item in manual:
        assert (
            client.post(
                f"/console/cases/{case.id}/checklist",
                data={"csrf_token": token, "item": item, "ticked": "1"},
            ).status_code
            == 302
        )
    assert (
        client.post(
            f"/console/cases/{case.id}/checklist", data={"csrf_token": token, "item": "nope:x"}
        ).status_code
        == 400
    )
    closed = client.post(
        f"/console/cases/{case.id}/close", data={"csrf_token": token, "outcome": "resolved"}
    )
    assert closed.status_code == 302, closed.text
    db_session.expire_all()
    assert db_session.get(Case, case.id).phase == "closed"
    assert (
        client.post(
            f"/console/cases/{case.id}/close", data={"csrf_token": token, "outcome": "resolved"}
        ).status_code
        == 409
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/close", data={"csrf_token": token, "outcome": "x"}
        ).status_code
        == 400
    )


def test_second_playbook_and_tasks_page(client, login_as, db_session: Session, users):
    user = login_as("lead")
    helper = users.create(roles=["responder"]).user
    case = create_case(db_session, title="T", actor=user)
    db_session.add(CaseMember(case_id=case.id, user_id=helper.id, role="investigator"))
    db_session.commit()
    token = csrf_from(client.get(f"/console/cases/{case.id}").text)
    assert (
        client.post(
            f"/console/cases/{case.id}/playbooks", data={"csrf_token": token, "playbook": "malware"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/playbooks", data={"csrf_token": token, "playbook": "zzz"}
        ).status_code
        == 400
    )
    response = client.post(
        f"/console/cases/{case.id}/tasks",
        data={
            "csrf_token": token,
            "title": "電話する",
            "phase": "detect",
            "due_at": "2020-01-01T10:00",
            "required": "y",
            "assignees": [str(helper.id)],
        },
    )
    assert response.status_code == 302
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks", data={"csrf_token": token, "title": ""}
        ).status_code
        == 400
    )
    task = db_session.scalar(select(Task).where(Task.case_id == case.id, Task.title == "電話する"))
    page = client.get(f"/console/cases/{case.id}/tasks")
    assert "電話する" in page.text
    assert "overdue" in page.text
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks/{task.id}",
            data={"csrf_token": token, f"t{task.id}-status": "done", f"t{task.id}-due_at": ""},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks/{task.id}",
            data={"csrf_token": token, f"t{task.id}-status": "weird"},
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks/{task.id}/comments",
            data={"csrf_token": token, "body": "済み"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks/{task.id}/comments", data={"csrf_token": token}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks/999999/comments",
            data={"csrf_token": token, "body": "x"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/console/cases/{case.id}/tasks/999999", data={"csrf_token": token}
        ).status_code
        == 404
    )
    db_session.expire_all()
    task = db_session.get(Task, task.id)
    assert task.status == "done"
    assert task.due_at is None
    assert task.comments[0].body == "済み"
    assert "済み" in client.get(f"/console/cases/{case.id}/tasks").text


def test_timeline_add_filter_export_import(client, login_as, db_session: Session):
    user = login_as("lead")
    case = create_case(db_session, title="TL", actor=user)
    target = create_case(db_session, title="TL2", actor=user)
    db_session.commit()
    token = csrf_from(client.get(f"/console/cases/{case.id}/timeline").text)
    for when, title, vis in (
        ("2015-06-24 20:00", "匿名の通報", "public"),
        ("2015-06-25", "キャッシュ削除依頼", "internal"),
    ):
        response = client.post(
            f"/console/cases/{case.id}/timeline",
            data={
                "csrf_token": token,
                "occurred_at": when,
                "precision": "minute" if " " in when else "day",
                "title": title,
                "category": "event",
                "visibility": vis,
                "source": "市",
            },
        )
        assert response.status_code == 302, response.text
    bad = client.post(
        f"/console/cases/{case.id}/timeline",
        data={
            "csrf_token": token,
            "occurred_at": "someday",
            "title": "x",
            "precision": "day",
            "category": "event",
            "visibility": "public",
        },
    )
    assert bad.status_code == 400
    page = client.get(f"/console/cases/{case.id}/timeline?visibility=public&text=通報")
    assert "匿名の通報" in page.text
    assert "キャッシュ削除依頼" not in page.text
    assert "2015年6月24日 20:00 JST" in page.text
    exported = client.get(f"/console/cases/{case.id}/timeline.csv")
    assert exported.status_code == 200
    assert exported.data.startswith("\ufeff".encode())
    imported = client.post(
        f"/console/cases/{target.id}/timeline/import",
        data={"csrf_token": token, "file": (io.BytesIO(exported.data), "t.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302, imported.text
    again = client.get(f"/console/cases/{target.id}/timeline.csv")
    assert again.data == exported.data
    broken = client.post(
        f"/console/cases/{target.id}/timeline/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"occurred_at,title\nnope,x\n"), "b.csv")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 400
    assert "row 2" in broken.text
    missing = client.post(f"/console/cases/{target.id}/timeline/import", data={"csrf_token": token})
    assert missing.status_code == 400


def test_member_roles_are_words_of_the_ui_language(client, login_as, db_session: Session):
    login_as("lead")
    assert _new_case(client).status_code == 302
    case = db_session.scalar(select(Case).where(Case.title == "Webに名簿が掲載"))
    assert case is not None
    page = client.get(f"/console/cases/{case.id}").text
    assert "(作成者)" in page  # the demo UI is Japanese by default
    assert "(creator)" not in page


def test_case_list_filter_bar_shows_each_requests_choices(client, login_as):
    """The filter bar is kept per language and choice: each request still shows its own choices,
    and what the reader typed (never kept) only to that request."""
    login_as("lead")

    def bar(query: str) -> str:
        page = client.get(f"/console/cases/{query}")
        assert page.status_code == 200
        start = page.text.index('<form method="get" class="filters"')
        return page.text[start : page.text.index("</form>", start)]

    chosen = bar("?phase=contain&priority=P2&assignee=me&overdue=1")
    assert '<option value="contain" selected' in chosen
    assert '<option value="P2" selected' in chosen
    assert '<option value="me" selected' in chosen
    assert 'name="overdue" value="1" checked' in chosen
    plain = bar("")
    assert " selected>" not in plain.replace('<option value="" selected>', "")
    assert "checked" not in plain
    assert 'value="me" selected' not in plain
    typed = bar("?phase=contain&q=<漏えい>&tag=名簿")
    assert 'value="&lt;漏えい&gt;"' in typed
    assert 'value="名簿"' in typed
    assert '<option value="contain" selected' in typed
    again = bar("?phase=contain")
    assert "漏えい" not in again
    assert "名簿" not in again
    assert '<option value="contain" selected' in again
    assert bar("?phase=contain") == again
