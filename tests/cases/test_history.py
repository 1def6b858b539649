"""Correcting a case: timeline events edited with history, soft-deleted with a reason,
restored by a lead (API with tokens and console forms)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.models import TimelineEvent
from tests.conftest import csrf_from
from tests.factories import api_headers as _token


def _event(client, headers, case_id: int, **fields) -> int:
    body = {"occurred_at": "2026-11-02T09:30:00+09:00", "title": "USBメモリ紛失の届出"}
    body.update(fields)
    made = client.post(f"/api/v1/cases/{case_id}/timeline", json=body, headers=headers)
    assert made.status_code == 201, made.json
    return int(made.json["id"])


def test_patch_keeps_the_earlier_version(client, db_session: Session, users, cases):
    responder = users.create(roles=["responder"]).user
    case = cases.create(members=[responder], commit=True)
    headers = _token(db_session, responder)
    event_id = _event(client, headers, case.id)
    url = f"/api/v1/cases/{case.id}/timeline/{event_id}"
    patched = client.patch(
        url,
        json={"title": "USBメモリ紛失の届出（総務課）", "reason": "課名の追記"},
        headers=headers,
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["title"] == "USBメモリ紛失の届出（総務課）"
    assert patched.json["occurred_at"].startswith("2026-11-02T00:30:00")  # time kept
    again = client.patch(url, json={"occurred_at": "2026-11-01"}, headers=headers)
    assert again.status_code == 200
    assert again.json["precision"] == "day"  # a date alone is day precision
    found = client.get(url + "/history", headers=headers)
    assert found.status_code == 200
    items = found.json["items"]
    assert [v["change"] for v in items] == ["edit", "edit"]
    assert items[1]["data"]["title"] == "USBメモリ紛失の届出"
    assert items[1]["reason"] == "課名の追記"
    assert items[1]["changed_by"] == responder.username
    assert items[0]["data"]["title"] == "USBメモリ紛失の届出（総務課）"
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.case_id == case.id)
    ).all()
    assert actions.count("timeline.edit") == 2


def test_bad_patch_changes_nothing(client, db_session: Session, users, cases):
    responder = users.create(roles=["responder"]).user
    case = cases.create(members=[responder], commit=True)
    headers = _token(db_session, responder)
    event_id = _event(client, headers, case.id)
    url = f"/api/v1/cases/{case.id}/timeline/{event_id}"
    for body in ({"title": ""}, {"occurred_at": "yesterday"}, {"category": "nope"}, [1]):
        bad = client.patch(url, json=body, headers=headers)
        assert bad.status_code == 422, (body, bad.json)
    assert client.get(url + "/history", headers=headers).json["items"] == []
    assert (
        client.patch(
            f"/api/v1/cases/{case.id}/timeline/999999", json={"title": "x"}, headers=headers
        ).status_code
        == 404
    )


def test_delete_needs_a_reason_and_a_lead_restores(client, db_session: Session, users, cases):
    responder = users.create(roles=["responder"]).user
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[responder], commit=True)
    headers = _token(db_session, responder)
    lead_headers = _token(db_session, lead)
    event_id = _event(client, headers, case.id)
    url = f"/api/v1/cases/{case.id}/timeline/{event_id}"
    assert client.delete(url, headers=headers).status_code == 422
    assert client.delete(url, json={"reason": ""}, headers=headers).status_code == 422
    gone = client.delete(url, json={"reason": "重複して登録"}, headers=headers)
    assert gone.status_code == 204
    assert db_session.get(TimelineEvent, event_id) is None
    listed = client.get(f"/api/v1/cases/{case.id}/timeline", headers=headers).json["items"]
    assert event_id not in [e["id"] for e in listed]
    items = client.get(url + "/history", headers=headers).json["items"]
    assert items[0]["change"] == "delete"
    assert items[0]["reason"] == "重複して登録"
    assert client.patch(url, json={"title": "x"}, headers=headers).status_code == 404
    refused = client.post(url + "/restore", json={"reason": "誤削除"}, headers=headers)
    assert refused.status_code == 403
    back = client.post(url + "/restore", json={"reason": "誤削除"}, headers=lead_headers)
    assert back.status_code == 200, back.json
    assert back.json["id"] == event_id
    assert back.json["title"] == "USBメモリ紛失の届出"
    listed = client.get(f"/api/v1/cases/{case.id}/timeline", headers=headers).json["items"]
    assert event_id in [e["id"] for e in listed]
    items = client.get(url + "/history", headers=headers).json["items"]
    assert [v["change"] for v in items] == ["restore", "delete"]
    again = client.post(url + "/restore", json={"reason": "x"}, headers=lead_headers)
    assert again.status_code == 404  # not deleted any more
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.case_id == case.id)
    ).all()
    assert "timeline.delete" in actions
    assert "timeline.restore" in actions


def test_outsiders_see_no_history(client, db_session: Session, users, cases):
    responder = users.create(roles=["responder"]).user
    outsider = users.create(roles=["responder"]).user
    case = cases.create(members=[responder], commit=True)
    event_id = _event(client, _token(db_session, responder), case.id)
    headers = _token(db_session, outsider)
    url = f"/api/v1/cases/{case.id}/timeline/{event_id}"
    assert client.get(url + "/history", headers=headers).status_code == 404
    assert client.delete(url, json={"reason": "x"}, headers=headers).status_code == 404


def _add_by_form(client, case_id: int) -> None:
    page = client.get(f"/console/cases/{case_id}/timeline")
    added = client.post(
        f"/console/cases/{case_id}/timeline",
        data={
            "csrf_token": csrf_from(page.text),
            "occurred_at": "2026-11-02 09:30",
            "precision": "minute",
            "title": "名簿の掲載を確認",
            "category": "detection",
            "visibility": "internal",
        },
    )
    assert added.status_code == 302, added.text


def test_console_edit_delete_confirm_restore(client, login_as, db_session: Session, cases):
    lead = login_as("lead")
    case = cases.create(actor=lead, commit=True)
    _add_by_form(client, case.id)
    row = db_session.scalar(select(TimelineEvent).where(TimelineEvent.case_id == case.id))
    assert row is not None
    event_id = row.id
    base = f"/console/cases/{case.id}/timeline/{event_id}"
    timeline = client.get(f"/console/cases/{case.id}/timeline")
    assert base + "/edit" in timeline.text
    form = client.get(base + "/edit")
    assert form.status_code == 200
    assert "名簿の掲載を確認" in form.text
    fields = {
        "csrf_token": csrf_from(form.text),
        "occurred_at": "2026-11-02 09:45",
        "precision": "minute",
        "title": "名簿の掲載を確認（県HP）",
        "category": "detection",
        "visibility": "internal",
        "reason": "時刻の訂正",
    }
    bad = client.post(base + "/edit", data={**fields, "occurred_at": "いつか"})
    assert bad.status_code == 400
    saved = client.post(base + "/edit", data=fields)
    assert saved.status_code == 302, saved.text
    page = client.get(base + "/edit")
    assert "時刻の訂正" in page.text  # the history shows why
    assert "名簿の掲載を確認（県HP）" in page.text
    confirm = client.get(base + "/delete")
    assert confirm.status_code == 200
    assert "名簿の掲載を確認（県HP）" in confirm.text
    token = csrf_from(confirm.text)
    assert client.post(base + "/delete", data={"csrf_token": token}).status_code == 400
    assert db_session.get(TimelineEvent, event_id) is not None
    gone = client.post(base + "/delete", data={"csrf_token": token, "reason": "重複登録"})
    assert gone.status_code == 302
    db_session.expire_all()
    assert db_session.get(TimelineEvent, event_id) is None
    timeline = client.get(f"/console/cases/{case.id}/timeline")
    assert "重複登録" in timeline.text  # listed as deleted, with the reason
    restored = client.post(
        base + "/restore", data={"csrf_token": csrf_from(timeline.text), "reason": ""}
    )
    assert restored.status_code == 302
    db_session.expire_all()
    back = db_session.get(TimelineEvent, event_id)
    assert back is not None
    assert back.title == "名簿の掲載を確認（県HP）"


def test_console_restore_is_for_leads(client, login_as, db_session: Session, users, cases):
    responder = login_as("responder")
    case = cases.create(members=[responder], commit=True)
    _add_by_form(client, case.id)
    row = db_session.scalar(select(TimelineEvent).where(TimelineEvent.case_id == case.id))
    assert row is not None
    base = f"/console/cases/{case.id}/timeline/{row.id}"
    confirm = client.get(base + "/delete")
    token = csrf_from(confirm.text)
    assert (
        client.post(base + "/delete", data={"csrf_token": token, "reason": "誤り"}).status_code
        == 302
    )
    timeline = client.get(f"/console/cases/{case.id}/timeline")
    assert base + "/restore" not in timeline.text
    refused = client.post(base + "/restore", data={"csrf_token": token})
    assert refused.status_code == 403
    assert client.get(f"/console/cases/{case.id}/timeline/999999/edit").status_code == 404


def test_dataset_edit_delete_confirm_restore_tell_triage(
    client, login_as, db_session: Session, cases
):
    from csirt.cases.models import AffectedDataset

    lead = login_as("lead")
    case = cases.create(actor=lead, commit=True)
    page = f"/console/cases/{case.id}/datasets"
    added = client.post(
        page,
        data={
            "csrf_token": csrf_from(client.get(page).text),
            "name": "選挙人名簿 北区",
            "items": ["name", "address"],
            "persons": "68000",
            "exposure": "public_internet",
        },
    )
    assert added.status_code == 302, added.text
    row = db_session.scalar(select(AffectedDataset).where(AffectedDataset.case_id == case.id))
    assert row is not None
    dataset_id = row.id
    edit = f"{page}/{dataset_id}/edit"
    saved = client.post(
        edit,
        data={
            "csrf_token": csrf_from(client.get(edit).text),
            "name": "選挙人名簿 北区",
            "items": ["name", "address"],
            "persons": "70000",
            "exposure": "public_internet",
        },
    )
    assert saved.status_code == 302
    assert "68,000" in client.get(edit).text  # the earlier version is shown

    def runs() -> int:
        return len(
            db_session.scalars(
                select(AuditEvent.seq).where(
                    AuditEvent.case_id == case.id, AuditEvent.action == "triage.run"
                )
            ).all()
        )

    before = runs()
    confirm = f"{page}/{dataset_id}/delete"
    token = csrf_from(client.get(confirm).text)
    assert client.post(confirm, data={"csrf_token": token}).status_code == 400
    assert (
        client.post(confirm, data={"csrf_token": token, "reason": "別事案の名簿"}).status_code
        == 302
    )
    db_session.expire_all()
    assert db_session.get(AffectedDataset, dataset_id) is None
    assert runs() == before + 1  # triage ran without it
    listing = client.get(page)
    assert "別事案の名簿" in listing.text
    restored = client.post(
        f"{page}/{dataset_id}/restore", data={"csrf_token": csrf_from(listing.text)}
    )
    assert restored.status_code == 302
    db_session.expire_all()
    back = db_session.get(AffectedDataset, dataset_id)
    assert back is not None
    assert back.persons == 70000
    assert runs() == before + 2
    actions = db_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.case_id == case.id, AuditEvent.action.like("dataset.%")
        )
    ).all()
    assert actions == ["dataset.create", "dataset.update", "dataset.delete", "dataset.restore"]
