"""A case's activity: its changes in plain words, for members and leads (API and console)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from tests.factories import api_headers as _token


def test_activity_lists_changes_in_plain_words(client, db_session: Session, users, cases):
    responder = users.create(roles=["responder"]).user
    case = cases.create(members=[responder], commit=True)
    headers = _token(db_session, responder)
    made = client.post(
        f"/api/v1/cases/{case.id}/timeline",
        json={"occurred_at": "2026-11-02", "title": "届出"},
        headers=headers,
    )
    event_url = f"/api/v1/cases/{case.id}/timeline/{made.json['id']}"
    client.patch(event_url, json={"title": "届出（訂正）", "reason": "誤記"}, headers=headers)
    client.delete(event_url, json={"reason": "重複"}, headers=headers)
    client.get(f"/api/v1/cases/{case.id}", headers=headers)  # a read: not an activity
    url = f"/api/v1/cases/{case.id}/activity"
    found = client.get(url + "?lang=ja", headers=headers)
    assert found.status_code == 200, found.json
    texts = [a["text"] for a in found.json["items"]]
    assert texts[:3] == [
        "時系列の出来事を削除しました",
        "時系列の出来事を訂正しました",
        "時系列に出来事を追加しました",
    ]
    assert "事案を作成しました" in texts
    assert found.json["items"][0]["actor"] == responder.username
    assert all(a["action"] != "case.view" for a in found.json["items"])
    assert db_session.scalar(
        select(AuditEvent.seq).where(
            AuditEvent.case_id == case.id, AuditEvent.action == "case.view"
        )
    )
    assert "誤記" not in found.text  # no details of the audit rows
    english = client.get(url + "?lang=en&kind=case", headers=headers).json["items"]
    assert [a["text"] for a in english] == ["created the case"]
    assert english[0]["kind_label"] == "Case"
    first = client.get(url + "?limit=2", headers=headers).json
    assert len(first["items"]) == 2
    rest = client.get(url + f"?limit=2&cursor={first['next_cursor']}", headers=headers).json
    assert rest["items"][0]["id"] < first["items"][1]["id"]
    assert client.get(url + "?kind=nope", headers=headers).status_code == 422
    assert client.get(url + "?cursor=zzz", headers=headers).status_code == 422


def test_activity_is_need_to_know(client, db_session: Session, users, cases):
    member = users.create(roles=["responder"]).user
    case = cases.create(members=[member], commit=True)
    for roles, status in (
        (["responder"], 404),
        (["committee"], 403),
        (["auditor"], 403),
        (["lead"], 200),
    ):
        other = users.create(roles=roles).user
        got = client.get(f"/api/v1/cases/{case.id}/activity", headers=_token(db_session, other))
        assert got.status_code == status, (roles, got.status_code)


def test_console_activity_tab(client, login_as, db_session: Session, cases):
    lead = login_as("lead")
    case = cases.create(actor=lead, commit=True)
    overview = client.get(f"/console/cases/{case.id}")
    assert f"/console/cases/{case.id}/activity" in overview.text
    page = client.get(f"/console/cases/{case.id}/activity")
    assert page.status_code == 200
    assert "事案を作成しました" in page.text
    filtered = client.get(f"/console/cases/{case.id}/activity?kind=timeline")
    assert "事案を作成しました" not in filtered.text
    assert client.get(f"/console/cases/{case.id}/activity?kind=x&before=y").status_code == 200


def test_console_activity_hidden_from_outsiders(client, login_as, db_session: Session, cases):
    case = cases.create(commit=True)
    login_as("responder")
    assert client.get(f"/console/cases/{case.id}/activity").status_code == 404
