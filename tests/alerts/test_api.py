"""Alerts API: de-duplication by source reference, merge and open-case keep the observables."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.alerts.models import Alert
from csirt.audit.models import AuditEvent
from csirt.notify.models import Notification
from csirt.observables.models import Observable
from tests.alerts.conftest import alert_body


def _observables(db_session: Session, case_id: int) -> set[tuple[str, str]]:
    return {
        (o.type, o.value)
        for o in db_session.scalars(select(Observable).where(Observable.case_id == case_id))
    }


EXPECTED = {
    ("ip", "203.0.113.5"),
    ("domain", "c2.example.com"),
    ("url", "http://c2.example.com/beacon"),
}


def test_the_same_source_reference_twice_is_one_alert_counted_twice(client, bearer, db_session):
    _siem, headers = bearer("responder")
    lead, _h = bearer("lead")
    first = client.post("/api/v1/alerts", json=alert_body(), headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["count"] == 1
    assert {(o["type"], o["value"]) for o in first.json["observables"]} == EXPECTED
    second = client.post(
        "/api/v1/alerts",
        json=alert_body(
            severity="critical",
            observables=[{"type": "hash", "value": "44D88612FEA8A8F36DE82E1278ABB02F"}],
        ),
        headers=headers,
    )
    assert second.status_code == 200, second.json
    assert second.json["id"] == first.json["id"]
    assert second.json["count"] == 2
    assert second.json["severity"] == "critical"
    assert second.json["last_seen"] >= first.json["last_seen"]
    assert len(second.json["observables"]) == 4
    assert db_session.scalar(select(func.count(Alert.id))) == 1
    actions = list(
        db_session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "alert")
            .order_by(AuditEvent.seq)
        )
    )
    assert actions == ["alert.raise", "alert.repeat"]
    # The leads were told once (a repeat tells nobody), without the alert's content.
    told = list(db_session.scalars(select(Notification).where(Notification.user_id == lead.id)))
    assert [n.kind for n in told] == ["alert_new"]
    assert "不審" not in told[0].subject + told[0].body
    assert "203.0.113" not in told[0].body


def test_bad_alerts_are_422_problems_and_write_nothing(client, bearer, db_session):
    _siem, headers = bearer("responder")
    bad = client.post(
        "/api/v1/alerts",
        json=alert_body(severity="huge", observables=[{"type": "ip", "value": "999.1.1.1"}]),
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert set(bad.json["errors"]) == {"severity", "observables.0.value"}
    missing = client.post("/api/v1/alerts", json={"source": "x"}, headers=headers)
    assert missing.status_code == 422
    assert {"source_ref", "title", "type"} <= set(missing.json["errors"])
    assert db_session.scalar(select(func.count(Alert.id))) == 0


def test_a_read_only_token_cannot_raise_and_others_cannot_triage(client, bearer):
    _u, read_only = bearer("responder", scopes=("read",))
    assert client.post("/api/v1/alerts", json=alert_body(), headers=read_only).status_code == 403
    _r, responder = bearer("responder")
    raised = client.post("/api/v1/alerts", json=alert_body(), headers=responder).json
    refused = client.post(f"/api/v1/alerts/{raised['id']}/open-case", json={}, headers=responder)
    assert refused.status_code == 403


def test_merge_into_a_case_keeps_the_observables(client, bearer, cases, db_session):
    lead, headers = bearer("lead")
    case = cases.create(actor=lead, title="既存の事案")
    db_session.commit()
    raised = client.post("/api/v1/alerts", json=alert_body(), headers=headers).json
    merged = client.post(
        f"/api/v1/alerts/{raised['id']}/merge", json={"case_id": case.id}, headers=headers
    )
    assert merged.status_code == 200, merged.json
    assert merged.json["alert"]["status"] == "merged"
    assert merged.json["case_reference"] == case.reference
    assert _observables(db_session, case.id) == EXPECTED
    again = client.post(
        f"/api/v1/alerts/{raised['id']}/merge", json={"case_id": case.id}, headers=headers
    )
    assert again.status_code == 409
    # A repeat of a merged alert brings its new observables to the case too.
    client.post(
        "/api/v1/alerts",
        json=alert_body(observables=[{"type": "email", "value": "bad[@]evil.example"}]),
        headers=headers,
    )
    assert ("email", "bad@evil.example") in _observables(db_session, case.id)
    listed = client.get("/api/v1/alerts?status=merged", headers=headers).json
    assert [a["id"] for a in listed["items"]] == [raised["id"]]


def test_merge_refuses_a_case_the_lead_may_not_see_without_an_oracle(client, bearer, db_session):
    _lead, headers = bearer("lead")
    raised = client.post("/api/v1/alerts", json=alert_body(), headers=headers).json
    response = client.post(
        f"/api/v1/alerts/{raised['id']}/merge", json={"case_id": 999999}, headers=headers
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"case_id": "no such case"}


def test_open_case_from_a_playbook_keeps_the_observables(client, bearer, db_session):
    _lead, headers = bearer("lead")
    raised = client.post("/api/v1/alerts", json=alert_body(), headers=headers).json
    unknown = client.post(
        f"/api/v1/alerts/{raised['id']}/open-case", json={"playbook": "nope"}, headers=headers
    )
    assert unknown.status_code == 422
    opened = client.post(
        f"/api/v1/alerts/{raised['id']}/open-case",
        json={"playbook": "unauthorised_access"},
        headers=headers,
    )
    assert opened.status_code == 201, opened.json
    case_id = opened.json["case_id"]
    assert _observables(db_session, case_id) == EXPECTED
    case = client.get(f"/api/v1/cases/{case_id}", headers=headers).json
    assert case["title"] == "不審な外部通信"
    assert case["priority"] == "P3"  # severity high
    assert case["aware_at"].startswith("2026-12-06T00:15:00")  # the alert's occurred_at (UTC)
    tasks = client.get(f"/api/v1/cases/{case_id}/tasks", headers=headers)
    assert tasks.status_code == 200
    assert tasks.json
    assert client.get(f"/api/v1/alerts/{raised['id']}", headers=headers).json["case_id"] == case_id


def test_ignore_needs_a_reason_and_pages_are_cursors(client, bearer):
    _lead, headers = bearer("lead")
    ids = [
        client.post("/api/v1/alerts", json=alert_body(source_ref=f"evt-{n}"), headers=headers).json[
            "id"
        ]
        for n in range(3)
    ]
    empty = client.post(f"/api/v1/alerts/{ids[0]}/ignore", json={"reason": ""}, headers=headers)
    assert empty.status_code == 422
    ignored = client.post(
        f"/api/v1/alerts/{ids[0]}/ignore",
        json={"reason": "誤検知（定期スキャン）"},
        headers=headers,
    )
    assert ignored.json["status"] == "ignored"
    page = client.get("/api/v1/alerts?status=new&limit=1", headers=headers).json
    assert [a["id"] for a in page["items"]] == [ids[2]]
    rest = client.get(
        f"/api/v1/alerts?status=new&limit=1&cursor={page['next_cursor']}", headers=headers
    ).json
    assert [a["id"] for a in rest["items"]] == [ids[1]]
    bad = client.get("/api/v1/alerts?cursor=zzz", headers=headers)
    assert bad.status_code == 422
    assert client.get("/api/v1/alerts/2147483647", headers=headers).status_code == 404


def test_the_alert_mail_follows_preferences_and_names_the_severity_in_japanese(
    client, bearer, app, db_session
):
    from csirt.notify import service as notify
    from csirt.notify.service import MAILER_KEY

    _siem, headers = bearer("responder")
    quiet, _h = bearer("lead")
    loud, _h2 = bearer("lead")
    quiet.email, loud.email = "quiet@example.jp", "loud@example.jp"
    notify.set_preferences(db_session, quiet.id, {"alert_new": False})
    db_session.commit()
    sent = app.extensions[MAILER_KEY].sent
    raised = client.post("/api/v1/alerts", json=alert_body(severity="critical"), headers=headers)
    assert raised.status_code == 201
    to = {m.to: m for m in sent}
    assert "quiet@example.jp" not in to
    assert "重大度: 緊急" in to["loud@example.jp"].subject
    in_app = db_session.scalars(select(Notification).where(Notification.user_id == quiet.id))
    assert [n.kind for n in in_app] == ["alert_new"]  # in-app is always kept


def test_fetch_without_a_mailbox_says_so(make_app):
    result = make_app("all").test_cli_runner().invoke(args=["alerts", "fetch"])
    assert result.exit_code != 0
    assert "no mailbox: set CSIRT_ALERTS_IMAP_HOST" in result.output


def test_the_case_activity_shows_the_merge(client, bearer, cases, db_session):
    lead, headers = bearer("lead")
    case = cases.create(actor=lead)
    db_session.commit()
    raised = client.post("/api/v1/alerts", json=alert_body(), headers=headers).json
    client.post(f"/api/v1/alerts/{raised['id']}/merge", json={"case_id": case.id}, headers=headers)
    activity = client.get(f"/api/v1/cases/{case.id}/activity?lang=ja", headers=headers)
    assert activity.status_code == 200, activity.json
    assert "アラートを事案に統合しました" in activity.text


def test_observables_are_checked_by_the_case_rules_when_the_alert_arrives(client, bearer):
    """What a merge would refuse is refused at once: a hash of the wrong length for its
    algorithm, a tag too long."""
    _siem, headers = bearer("responder")
    bad = client.post(
        "/api/v1/alerts",
        json=alert_body(
            observables=[
                {
                    "type": "hash",
                    "value": "44d88612fea8a8f36de82e1278abb02f",
                    "hash_algorithm": "sha1",
                },
                {"type": "domain", "value": "ok.example", "tags": ["x" * 65]},
            ]
        ),
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"observables.0.value", "observables.1.tags"}
    md5 = client.post(
        "/api/v1/alerts",
        json=alert_body(
            observables=[{"type": "hash", "value": "44D88612FEA8A8F36DE82E1278ABB02F"}]
        ),
        headers=headers,
    )
    [stored] = md5.json["observables"]
    assert (stored["value"], stored["hash_algorithm"]) == (
        "44d88612fea8a8f36de82e1278abb02f",
        "md5",
    )
