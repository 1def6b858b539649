"""Mentions reach people, in Chromium with JavaScript off: a lead writes ``@member`` in a task
comment; the member gets a content-free mail (a real SMTP sink) and sees it under the bell."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import Flask

from csirt.cases.creation import create_case
from csirt.cases.models import CaseMember
from csirt.cases.tasks import add_task
from csirt.notify.mail import SmtpMailer
from csirt.notify.service import MAILER_KEY
from tests.teams.conftest import Sink

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_a_mention_in_a_task_comment_reaches_the_member(
    browser: Any, live_app: Flask, live_server: str, live_users: Any, shots: Any
) -> None:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    before = live_app.extensions.get(MAILER_KEY)
    live_app.extensions[MAILER_KEY] = SmtpMailer("127.0.0.1", port, "csirt@example.jp", tls="off")

    lead = live_users.create(roles=["lead"], username="e2e-mention-lead")
    member = live_users.create(roles=["responder"], username="e2e-mention-member")
    member.user.email = "e2e-mention-member@example.jp"
    session = live_users.session
    session.commit()
    case = create_case(session, title="名簿の掲載（e2e メンション）", actor=lead.user)
    session.add(CaseMember(case_id=case.id, user_id=member.user.id, role="investigator"))
    add_task(session, case, lead.user, title="証拠保全（e2e）")
    session.commit()
    case_id, reference = case.id, case.reference

    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/console/login")
        page.get_by_label("ユーザー名").fill(lead.user.username)
        page.get_by_label("パスワード").fill(lead.password)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url("**/console/")
        page.goto(f"{live_server}/console/cases/{case_id}/tasks")
        page.locator("details:has(textarea[name=body]) > summary").first.click()
        page.locator("textarea[name=body]").first.fill(
            "@e2e-mention-member ログの保全をお願いします"
        )
        shots(page, "mention-written")
        page.locator("form[action$='/comments'] button[type=submit]").first.click()
        page.wait_for_url("**/tasks*")
    finally:
        context.close()

    mails = [m for m in sink.messages if m["To"] == "e2e-mention-member@example.jp"]
    assert len(mails) == 1
    text = str(mails[0]["Subject"]) + mails[0].get_content()
    assert reference in text
    assert "ログの保全" not in text  # content-free
    assert "名簿の掲載" not in text

    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/console/login")
        page.get_by_label("ユーザー名").fill(member.user.username)
        page.get_by_label("パスワード").fill(member.password)
        page.get_by_role("button", name="サインイン").click()
        page.wait_for_url("**/console/")
        page.goto(f"{live_server}/console/notifications/")
        assert page.get_by_text(f"事案 {reference} であなた宛ての書き込みがあります").is_visible()
        shots(page, "member-notifications")
    finally:
        context.close()
        controller.stop()
        if before is not None:
            live_app.extensions[MAILER_KEY] = before
