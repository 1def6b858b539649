"""Reporters' replies and answer dates reach the right people, content-free and once.

Driven through real requests (the reporter's mailbox API, the console forms), the real
``csirt reminders send`` path and a real SMTP sink; no signal is sent by hand.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.models import Case
from csirt.intake.models import Submission
from csirt.notify import intake_events
from csirt.notify.models import Notification, SentReminder
from csirt.notify.service import Channel
from csirt.teams.assignment import assign
from tests.conftest import csrf_from, login
from tests.factories import UserFactory
from tests.intake.conftest import BASIC_ANSWERS
from tests.teams.conftest import Sink

REPLY_TEXT = "掲載は昨日の夜から続いています"


def _officer(app: Flask, db_session: Session, users: UserFactory, name: str) -> Any:
    created = users.create(roles=["intake_officer"], totp=True, username=name)
    created.user.email = f"{name}@example.jp"
    created.user.lang = "ja"
    db_session.commit()
    client = app.test_client()
    assert login(client, name, created.password, created.totp_seed).status_code == 302
    client.get("/console/intake/key")
    return created.user, client


def _client_of(app: Flask, db_session: Session, users: UserFactory, name: str, role: str) -> Any:
    created = users.create(roles=[role], username=name)
    created.user.email = f"{name}@example.jp"
    db_session.commit()
    client = app.test_client()
    assert login(client, name, created.password).status_code == 302
    return created.user, client


def _tip(client: FlaskClient, **answers: Any) -> str:
    response = client.post("/api/v1/reports", json={"answers": dict(BASIC_ANSWERS, **answers)})
    assert response.status_code == 201, response.text
    return str(response.json["receipt"])


def _submission(db_session: Session) -> Submission:
    db_session.expire_all()
    row = db_session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert row is not None
    return row


def _reporter_writes(client: FlaskClient, receipt: str, body: str = REPLY_TEXT) -> None:
    response = client.post(
        "/api/v1/reports/mailbox", json={"body": body}, headers={"X-Receipt": receipt}
    )
    assert response.status_code == 201, response.text


def _mails(sink: Sink, address: str) -> list[str]:
    return [str(m["Subject"]) + "\n" + m.get_content() for m in sink.messages if m["To"] == address]


def test_reply_tells_the_handling_officer_then_the_case_lead(
    mail_app: Flask,
    client: FlaskClient,
    db_session: Session,
    users: UserFactory,
    sink: Sink,
    channel: Channel,
) -> None:
    handler, handler_client = _officer(mail_app, db_session, users, "handler")
    _other, _other_client = _officer(mail_app, db_session, users, "other")
    receipt = _tip(client)
    submission = _submission(db_session)
    sid = submission.id

    # Nobody has opened it yet: a reply goes to every officer.
    _reporter_writes(client, receipt, "最初の補足")
    assert len(_mails(sink, "handler@example.jp")) == 2  # new report, then the reply
    assert len(_mails(sink, "other@example.jp")) == 2

    # The handler opens and answers it: from now on the replies go to the handler only.
    page = handler_client.get(f"/console/intake/{sid}")
    assert page.status_code == 200
    answered = handler_client.post(
        f"/console/intake/{sid}/reply",
        data={"csrf_token": csrf_from(page.text), "body": "ご連絡ありがとうございます"},
    )
    assert answered.status_code == 302
    promoted = handler_client.post(
        f"/console/intake/{sid}/promote",
        data={"csrf_token": csrf_from(page.text), "title": "名簿の掲載"},
    )
    assert promoted.status_code == 302
    db_session.expire_all()
    case = db_session.get(Case, _submission(db_session).case_id)
    assert case is not None
    lead, lead_client = _client_of(mail_app, db_session, users, "caselead", "lead")
    responder, responder_client = _client_of(mail_app, db_session, users, "member", "responder")
    assign(db_session, channel, case, lead, "lead", actor=None)
    assign(db_session, channel, case, responder, "investigator", actor=None)
    db_session.commit()
    sink.messages.clear()

    _reporter_writes(client, receipt)

    handler_mails = _mails(sink, "handler@example.jp")
    assert len(handler_mails) == 1
    assert f"通報 #{sid} に通報者から返信がありました" in handler_mails[0]
    assert _mails(sink, "other@example.jp") == []
    lead_mails = _mails(sink, "caselead@example.jp")
    assert len(lead_mails) == 1
    assert case.reference in lead_mails[0]
    assert f"/console/cases/{case.id}" in lead_mails[0]
    assert _mails(sink, "member@example.jp") == []
    for text in sink.texts():
        for secret in (REPLY_TEXT, receipt, str(BASIC_ANSWERS["what_happened"]), case.title):
            assert secret not in text
    rows = db_session.scalars(
        select(Notification).where(Notification.kind == "report_reply").order_by(Notification.id)
    ).all()
    assert {r.user_id for r in rows[-2:]} == {handler.id, lead.id}
    assert all(r.created_at.minute == 0 for r in rows)

    # The lead sees on the case page that the reporter answered (status, not content) ...
    lead_page = lead_client.get(f"/console/cases/{case.id}")
    assert 'id="reports"' in lead_page.text
    assert f"#{sid}" in lead_page.text
    assert "unread-reply" in lead_page.text
    assert REPLY_TEXT not in lead_page.text
    # ... a responder on the case does not learn that a report exists.
    member_page = responder_client.get(f"/console/cases/{case.id}")
    assert member_page.status_code == 200
    assert 'id="reports"' not in member_page.text

    # The promoted report stays in the officers' default inbox while the reply waits ...
    inbox = handler_client.get("/console/intake/")
    assert f'/console/intake/{sid}"' in inbox.text
    assert "unread-reply" in inbox.text
    page = handler_client.get(f"/console/intake/{sid}")
    assert REPLY_TEXT in page.text
    handler_client.post(
        f"/console/intake/{sid}/reply",
        data={"csrf_token": csrf_from(page.text), "body": "確認しました"},
    )
    # ... and leaves it, and the badge goes, once an officer has answered.
    assert f'/console/intake/{sid}"' not in handler_client.get("/console/intake/").text
    assert "unread-reply" not in lead_client.get(f"/console/cases/{case.id}").text


def test_an_empty_reply_tells_nobody(
    mail_app: Flask, client: FlaskClient, db_session: Session, users: UserFactory, sink: Sink
) -> None:
    _officer(mail_app, db_session, users, "quiet")
    receipt = _tip(client)
    sink.messages.clear()
    response = client.post(
        "/api/v1/reports/mailbox", json={"body": "  "}, headers={"X-Receipt": receipt}
    )
    assert response.status_code == 422
    assert sink.messages == []


def test_answer_date_reminders_are_sent_once_each(
    mail_app: Flask,
    client: FlaskClient,
    db_session: Session,
    users: UserFactory,
    sink: Sink,
    channel: Channel,
    runner: Any,
) -> None:
    officer, _officer_client = _officer(mail_app, db_session, users, "keeper")
    _tip(client)
    submission = _submission(db_session)
    sink.messages.clear()

    # Within three days of the acknowledgement target (nobody has answered yet).
    def before_ack() -> Any:
        return submission.ack_due - timedelta(days=1)

    assert intake_events.send_report_due(db_session, channel, now=before_ack) == 1
    db_session.commit()
    assert intake_events.send_report_due(db_session, channel, now=before_ack) == 0
    db_session.commit()
    mails = _mails(sink, "keeper@example.jp")
    assert len(mails) == 1
    assert f"通報 #{submission.id} の受付の連絡の期限" in mails[0]

    # Before the 20-day notice owed to a whistleblower.
    def before_answer() -> Any:
        return submission.answer_due - timedelta(hours=30)

    assert intake_events.send_report_due(db_session, channel, now=before_answer) == 1
    db_session.commit()
    assert intake_events.send_report_due(db_session, channel, now=before_answer) == 0
    db_session.commit()
    assert "調査を行うかどうかの通知" in _mails(sink, "keeper@example.jp")[-1]
    keys = db_session.scalars(
        select(SentReminder.key).where(SentReminder.user_id == officer.id)
    ).all()
    assert sorted(k.split(":")[2] for k in keys) == ["ack_due", "answer_due"]
    for text in sink.texts():
        assert str(BASIC_ANSWERS["what_happened"]) not in text

    # The scheduled command runs the same sweep (nothing is due today).
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert re.search(r"report reminders \d+", result.output)


def test_no_reminder_for_an_acknowledged_report_or_a_far_date(
    mail_app: Flask, client: FlaskClient, db_session: Session, users: UserFactory, channel: Channel
) -> None:
    _user, officer_client = _officer(mail_app, db_session, users, "prompt")
    _tip(client, whistleblower=False)
    submission = _submission(db_session)
    page = officer_client.get(f"/console/intake/{submission.id}")
    officer_client.post(
        f"/console/intake/{submission.id}/reply",
        data={"csrf_token": csrf_from(page.text), "body": "受け付けました"},
    )
    db_session.expire_all()
    submission = _submission(db_session)
    assert submission.answered_at is not None
    # Not a whistleblower report: one internal date, met by the answer.
    assert (
        intake_events.send_report_due(
            db_session, channel, now=lambda: submission.ack_due - timedelta(hours=1)
        )
        == 0
    )
    # Far from any date: nothing.
    assert (
        intake_events.send_report_due(
            db_session, channel, now=lambda: submission.received_at + timedelta(minutes=1)
        )
        == 0
    )
