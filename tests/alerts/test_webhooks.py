"""Outgoing webhooks to a real local HTTP receiver: signed, retried after a failure, TLP kept."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Config, ConfigError
from csirt.db import utcnow
from csirt.webhooks import service
from csirt.webhooks.models import WebhookDelivery
from tests.alerts.receiver import Receiver
from tests.conftest import csrf_from

SECRET = "whsec-0123456789abcdef"


def _steps(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    """The sender's short transactions, on the test's session (each ends with a commit)."""

    @contextmanager
    def step() -> Iterator[Session]:
        yield session
        session.commit()

    return step


def _hook(client, headers, url: str, **changes: Any) -> dict[str, Any]:
    body = {
        "name": "SOAR",
        "url": url,
        "secret": SECRET,
        "events": ["case.created", "case.priority_changed", "document.approved"],
        "max_tlp": "amber",
        **changes,
    }
    response = client.post("/api/v1/webhooks", json=body, headers=headers)
    assert response.status_code == 201, response.json
    assert "secret" not in response.json
    return dict(response.json)


def _deliveries(db_session: Session) -> list[WebhookDelivery]:
    db_session.expire_all()
    return list(db_session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_case_created_is_delivered_signed_and_retried_after_a_500(
    client, bearer, receiver: Receiver, runner, db_session: Session, app
):
    _admin, admin = bearer("admin")
    _lead, lead = bearer("lead")
    hook = _hook(client, admin, receiver.url)
    created = client.post(
        "/api/v1/cases", json={"title": "ランサムウェア感染", "tlp": "amber"}, headers=lead
    )
    assert created.status_code == 201
    [queued] = _deliveries(db_session)
    assert (queued.event, queued.status, queued.attempts) == ("case.created", "pending", 0)

    receiver.statuses = [500]
    first = runner.invoke(args=["webhooks", "send"])
    assert "sent 0, retrying 1, failed 0" in first.output, first.output
    [failed] = _deliveries(db_session)
    assert (failed.attempts, failed.last_status_code, failed.status) == (1, 500, "pending")
    assert failed.next_attempt_at - utcnow() > timedelta(seconds=20)  # backed off
    # Not due yet: the next run leaves it waiting.
    assert "sent 0, retrying 0" in runner.invoke(args=["webhooks", "send"]).output

    later = utcnow() + timedelta(seconds=31)
    result = service.send_due(
        _steps(db_session), secret_key=app.config["CSIRT"].secret_key, now=later
    )
    db_session.commit()
    assert (result.sent, result.retrying) == (1, 0)
    [sent] = _deliveries(db_session)
    assert (sent.status, sent.attempts, sent.last_status_code) == ("sent", 2, 204)

    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Csirt-Signature"], expected)
        assert headers["X-Csirt-Event"] == "case.created"
        assert headers["X-Csirt-Timestamp"].isdigit()
        assert headers["X-Csirt-Delivery"] == str(sent.id)
    payload = receiver.payloads()[-1]
    assert payload["event"] == "case.created"
    assert payload["withheld"] is False
    assert payload["case"]["reference"] == created.json["reference"]
    assert payload["case"]["title"] == "ランサムウェア感染"

    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json
    assert [(d["status"], d["attempts"]) for d in log["items"]] == [("sent", 2)]


def test_tlp_above_the_webhook_maximum_withholds_the_case(
    client, bearer, receiver: Receiver, runner, db_session: Session
):
    _admin, admin = bearer("admin")
    _lead, lead = bearer("lead")
    _hook(client, admin, receiver.url, max_tlp="green")
    red = client.post("/api/v1/cases", json={"title": "秘密の事案", "tlp": "red"}, headers=lead)
    case_id = red.json["id"]
    changed = client.patch(
        f"/api/v1/cases/{case_id}", json={"priority": "P2", "reason": "拡大"}, headers=lead
    )
    assert changed.status_code == 200, changed.json
    assert "sent 2" in runner.invoke(args=["webhooks", "send"]).output
    payloads = receiver.payloads()
    assert [p["event"] for p in payloads] == ["case.created", "case.priority_changed"]
    for payload in payloads:
        assert payload["withheld"] is True
        assert "case" not in payload
        assert "new_priority" not in payload
        assert "秘密" not in json.dumps(payload, ensure_ascii=False)


def test_a_receiver_that_never_answers_is_given_up_after_the_last_attempt(
    client, bearer, db_session: Session, app
):
    _admin, admin = bearer("admin")
    _lead, lead = bearer("lead")
    _hook(client, admin, "http://127.0.0.1:9/nothing-listens")
    client.post("/api/v1/cases", json={"title": "x", "tlp": "green"}, headers=lead)
    moment = utcnow()
    for _attempt in range(service.MAX_ATTEMPTS):
        moment += service.LONGEST_RETRY
        service.send_due(_steps(db_session), secret_key=app.config["CSIRT"].secret_key, now=moment)
    db_session.commit()
    [given_up] = _deliveries(db_session)
    assert (given_up.status, given_up.attempts) == ("failed", service.MAX_ATTEMPTS)
    assert given_up.last_error == "URLError"


def test_webhook_input_is_checked(client, bearer):
    _admin, admin = bearer("admin")
    bad = client.post(
        "/api/v1/webhooks",
        json={"name": "x", "url": "file:///etc/passwd", "secret": "short", "events": ["nope"]},
        headers=admin,
    )
    assert bad.status_code == 422
    assert {"secret", "events"} <= set(bad.json["errors"])
    scheme = client.post(
        "/api/v1/webhooks",
        json={
            "name": "x",
            "url": "ftp://example.jp/",
            "secret": SECRET,
            "events": ["case.created"],
        },
        headers=admin,
    )
    assert scheme.status_code == 422
    assert set(scheme.json["errors"]) == {"url"}
    _lead, lead = bearer("lead")
    assert client.get("/api/v1/webhooks", headers=lead).status_code == 403


def test_the_console_page_adds_a_webhook_and_shows_its_log(client, login_as, receiver):
    login_as("admin", totp=True)
    page = client.get("/console/webhooks/")
    assert page.status_code == 200
    response = client.post(
        "/console/webhooks/",
        data={
            "name": "SIEM 連携",
            "url": receiver.url,
            "secret": SECRET,
            "events": ["case.created", "obligation.due_soon"],
            "max_tlp": "green",
            "active": "y",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.status_code == 302, response.text
    listing = client.get("/console/webhooks/")
    assert "SIEM 連携" in listing.text
    short = client.post(
        "/console/webhooks/",
        data={"name": "x", "url": receiver.url, "secret": "short", "events": ["case.created"],
              "max_tlp": "green", "csrf_token": csrf_from(listing.text)},
    )  # fmt: skip
    assert short.status_code == 400


def test_an_obligation_falling_due_is_announced_once(
    client, bearer, receiver: Receiver, cases, db_session: Session, app
):
    from csirt.triage.models import Obligation

    _admin, admin = bearer("admin")
    _hook(client, admin, receiver.url, events=["obligation.due_soon"], max_tlp="amber")
    case = cases.create(triaged=True, with_datasets=1, tlp="green")
    db_session.commit()
    obligation = db_session.scalars(
        select(Obligation)
        .where(Obligation.case_id == case.id, Obligation.deadline != "window")
        .order_by(Obligation.due_at)
    ).first()
    assert obligation is not None
    a_day_before = obligation.due_at - timedelta(hours=23)
    assert (
        service.enqueue_due_obligations(db_session, now=obligation.due_at - timedelta(days=3)) == 0
    )
    queued = service.enqueue_due_obligations(db_session, now=a_day_before)
    assert queued >= 1
    assert service.enqueue_due_obligations(db_session, now=a_day_before) == 0  # once each
    sent = service.send_due(
        _steps(db_session), secret_key=app.config["CSIRT"].secret_key, now=a_day_before
    )
    db_session.commit()
    assert sent.sent == queued
    payload = next(p for p in receiver.payloads() if p["obligation"]["kind"] == obligation.kind)
    assert payload["event"] == "obligation.due_soon"
    assert payload["case"]["reference"] == case.reference
    assert payload["obligation"]["due_at"] == obligation.due_at.isoformat()


def test_a_document_approved_is_announced(
    client, bearer, receiver: Receiver, runner, db_session: Session
):
    from tests.factories import assign_to_case

    _admin, admin = bearer("admin")
    _hook(client, admin, receiver.url, events=["document.approved"], max_tlp="amber")
    _lead, lead = bearer("lead")
    pr_user, pr = bearer("pr")
    case_id = client.post(
        "/api/v1/cases", json={"title": "情報漏えい", "tlp": "green"}, headers=lead
    ).json["id"]
    assign_to_case(db_session, pr_user, case_id)
    facts = {
        "public_title": "個人情報の漏えいについて",
        "contact": {"department": "情報政策課", "phone": "03-0000-0000"},
    }
    assert client.put(
        f"/api/v1/cases/{case_id}/public-facts", json=facts, headers=lead
    ).status_code in (200, 201)
    draft = client.post(
        f"/api/v1/cases/{case_id}/documents", json={"kind": "press_release"}, headers=pr
    )
    assert draft.status_code == 201, draft.json
    document_id = draft.json["id"]
    client.patch(
        f"/api/v1/documents/{document_id}/sections",
        json={"sections": {"lead": "お詫び申し上げます。"}, "base_version": draft.json["version"]},
        headers=pr,
    )
    approved = client.post(f"/api/v1/documents/{document_id}/approve", headers=lead)
    assert approved.status_code == 200, approved.json
    assert "sent 1" in runner.invoke(args=["webhooks", "send"]).output
    [payload] = receiver.payloads()
    assert payload["event"] == "document.approved"
    assert payload["document"] == {"id": document_id, "kind": "press_release"}
    assert payload["case"]["id"] == case_id


def test_the_console_shows_the_delivery_log_keeps_the_secret_and_removes(
    client, login_as, bearer, receiver: Receiver, runner, db_session: Session
):
    _admin, admin = bearer("admin")
    hook = _hook(client, admin, receiver.url)
    _lead, lead = bearer("lead")
    client.post("/api/v1/cases", json={"title": "ログの確認", "tlp": "green"}, headers=lead)
    receiver.statuses = [503]
    runner.invoke(args=["webhooks", "send"])
    login_as("admin", totp=True)
    page = client.get(f"/console/webhooks/{hook['id']}")
    assert page.status_code == 200
    assert "503" in page.text
    assert "HTTP 503" in page.text
    saved = client.post(
        f"/console/webhooks/{hook['id']}",
        data={"name": "SOAR 2", "url": receiver.url, "events": ["case.created"],
              "max_tlp": "green", "active": "y", "csrf_token": csrf_from(page.text)},
    )  # fmt: skip
    assert saved.status_code == 302
    [stored] = service.list_webhooks(db_session)
    db_session.refresh(stored)
    assert (stored.name, stored.events, stored.max_tlp) == ("SOAR 2", ["case.created"], "green")
    assert (
        service.open_secret(client.application.config["CSIRT"].secret_key, stored.secret_sealed)
        == SECRET.encode()
    )
    gone = client.post(
        f"/console/webhooks/{hook['id']}/delete", data={"csrf_token": csrf_from(page.text)}
    )
    assert gone.status_code == 302
    assert service.list_webhooks(db_session) == []
    assert client.get(f"/console/webhooks/{hook['id']}").status_code == 404


def test_the_first_retry_is_a_setting_and_doubles_from_there(tmp_path) -> None:
    first = timedelta(seconds=5)
    assert [service.backoff(n, first).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert service.backoff(30, first) == service.LONGEST_RETRY
    assert service.backoff(1) == service.FIRST_RETRY == timedelta(seconds=30)
    env = {"CSIRT_SECRET_KEY": "k" * 20 + "0123456789abcdef"}
    assert Config.from_env(env, instance_path=tmp_path).webhooks_first_retry_s == 30
    chosen = {**env, "CSIRT_WEBHOOKS_FIRST_RETRY_S": "5"}
    assert Config.from_env(chosen, instance_path=tmp_path).webhooks_first_retry_s == 5
    for bad in ("0", "-3", "soon"):
        with pytest.raises(ConfigError, match="CSIRT_WEBHOOKS_FIRST_RETRY_S"):
            Config.from_env({**env, "CSIRT_WEBHOOKS_FIRST_RETRY_S": bad}, instance_path=tmp_path)
