"""Mentions reach people, in Chromium with JavaScript off: a lead writes ``@member`` in a task
comment; the member gets a content-free mail (a real SMTP sink) and sees it under the bell."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from csirt.cases.creation import create_case
from csirt.cases.models import CaseMember
from csirt.cases.tasks import add_task
from csirt.notify.mail import SmtpMailer
from csirt.notify.service import MAILER_KEY
from tests.documents.conftest import make_demo_case
from tests.e2e.conftest import sign_in
from tests.factories import assign_to_case
from tests.teams.conftest import Sink

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_sink(live_app: Flask) -> Iterator[Sink]:
    """A real SMTP server (aiosmtpd) that the live app mails to, for the test's length."""
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    before = live_app.extensions.get(MAILER_KEY)
    live_app.extensions[MAILER_KEY] = SmtpMailer("127.0.0.1", port, "csirt@example.jp", tls="off")
    try:
        yield sink
    finally:
        controller.stop()
        if before is not None:
            live_app.extensions[MAILER_KEY] = before


def _context(browser: Any, locale: str = "ja-JP") -> Any:
    context = browser.new_context(
        locale=locale, viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(30_000)
    return context


def test_a_mention_in_a_task_comment_reaches_the_member(
    browser: Any, live_app: Flask, live_server: str, live_users: Any, shots: Any
) -> None:
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

    with smtp_sink(live_app) as sink:
        context = _context(browser)
        page = context.new_page()
        try:
            sign_in(page, live_server, lead.user.username, lead.password)
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

    context = _context(browser)
    page = context.new_page()
    try:
        sign_in(page, live_server, member.user.username, member.password)
        page.goto(f"{live_server}/console/notifications/")
        expect(
            page.get_by_text(f"事案 {reference} であなた宛ての書き込みがあります")
        ).to_be_visible()
        shots(page, "member-notifications")
    finally:
        context.close()


REASON = "被害人数を確報の数字に直してください"


def _sign_in_en(page: Any, live_server: str, created: Any) -> None:
    sign_in(page, live_server, created.user.username, created.password)
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/console/")


def test_approval_request_reaches_the_lead_and_the_refusal_the_author(
    browser: Any, live_app: Flask, live_server: str, live_users: Any, shots: Any
) -> None:
    writer = live_users.create(roles=["pr"], username="e2e-approval-writer")
    writer.user.email = "e2e-approval-writer@example.jp"
    lead = live_users.create(roles=["lead"], username="e2e-approval-lead")
    lead.user.email = "e2e-approval-lead@example.jp"
    creator = live_users.create(roles=["lead"], username="e2e-approval-case-lead")
    demo = make_demo_case(live_users.session, creator.user)
    live_users.session.commit()
    assign_to_case(live_users.session, writer.user, demo.case.id, "pr")
    reference, title = demo.case.reference, demo.case.title

    with smtp_sink(live_app) as sink:
        context = _context(browser)
        page = context.new_page()
        try:
            _sign_in_en(page, live_server, writer)
            page.goto(f"{live_server}/console/cases/{demo.case.id}/documents")
            page.get_by_label("Kind of document").select_option("press_release")
            page.get_by_label("Language of the document").select_option("ja")
            page.get_by_role("button", name="Create draft").click()
            page.wait_for_url("**/console/documents/*")
            document_url = page.url
            page.get_by_label("Approver").select_option(lead.user.username)
            page.get_by_role("button", name="Request approval").click()
            page.wait_for_url(document_url)
            expect(page.get_by_text("Approval requested from")).to_be_visible()
            shots(page, "approval-requested")
        finally:
            context.close()
        asked = [m for m in sink.messages if m["To"] == "e2e-approval-lead@example.jp"]
        assert len(asked) == 1
        text = str(asked[0]["Subject"]) + asked[0].get_content()
        assert reference in text
        assert title not in text  # content-free
        assert document_url.removeprefix(live_server) in text

        context = _context(browser)
        page = context.new_page()
        try:
            _sign_in_en(page, live_server, lead)
            page.goto(document_url)
            page.get_by_label("Reason for sending it back").fill(REASON)
            shots(page, "lead-sends-back")
            page.get_by_role("button", name="Send back without approving").click()
            page.wait_for_url(document_url)
            expect(page.get_by_text("Sent back to its authors with your reason.")).to_be_visible()
        finally:
            context.close()
        refused = [m for m in sink.messages if m["To"] == "e2e-approval-writer@example.jp"]
        assert len(refused) == 1
        assert REASON not in refused[0].as_string()  # the reason stays in the app

    context = _context(browser)
    page = context.new_page()
    try:
        _sign_in_en(page, live_server, writer)
        page.goto(f"{live_server}/console/notifications/")
        expect(page.get_by_text(REASON)).to_be_visible()
        shots(page, "author-reads-the-reason")
    finally:
        context.close()
