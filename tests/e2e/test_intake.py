"""A reporter with JavaScript off: send a tip, keep the receipt, come back, read, answer."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from csirt import vault
from csirt.db import get_db
from csirt.intake import handling, web
from csirt.intake.models import Submission

pytestmark = pytest.mark.browser


def test_reporter_without_javascript(
    browser: Any, live_server: str, live_app: Flask, live_users: Any, shots: Any
) -> None:
    officer = live_users.create(roles=["intake_officer"], keypair=True, username="e2e-intake")
    live_users.session.commit()
    context = browser.new_context(
        java_script_enabled=False, locale="en-US", viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    page.goto(f"{live_server}/report/")
    form_url = page.url
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Report a concern")).to_be_visible()
    shots(page, "form")
    page.get_by_label("What happened?").fill("A voter list is on a rental server (e2e).")
    page.get_by_label("Where did you see it? (URL or place)").fill("https://example.invalid/")
    page.get_by_label("When did you see it?").fill("2015-06-24")
    page.get_by_label("Name").first.check()
    page.get_by_label("About how many people's data is involved?").fill("680000")
    page.get_by_role(
        "group", name="Do you want this treated as a whistleblower report?"
    ).get_by_label("Yes").check()
    page.get_by_role("button", name="Send the report").click()

    assert page.url == form_url  # the URL never changes through the flow
    expect(page.get_by_role("heading", name="Your report was received")).to_be_visible()
    groups = page.locator(".receipt .group").all_inner_texts()
    assert len(groups) == 6
    receipt = "-".join(groups)
    shots(page, "receipt")
    page.get_by_label("Type the last group of your receipt from your note").fill("0000")
    page.get_by_role("button", name="I kept it").click()
    expect(page.get_by_role("alert")).to_be_visible()  # not confirmed: receipt shown again
    assert "-".join(page.locator(".receipt .group").all_inner_texts()) == receipt
    page.get_by_label("Type the last group of your receipt from your note").fill(groups[-1].lower())
    page.get_by_label("I have written down or saved my receipt somewhere safe.").check()
    page.get_by_role("button", name="I kept it").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert page.url == form_url
    shots(page, "confirmed")

    # An officer replies (through the service, as the console would).
    session = get_db(live_app).sessionmaker()
    with live_app.app_context():
        settings = web.settings(session, live_app)
        row = session.scalars(select(Submission).order_by(Submission.id.desc())).first()
        assert row is not None
        private = vault.unwrap_private_key(officer.user.wrapped_private_key, officer.password)
        handling.officer_reply(
            session, officer.user, private, row.id, "We will investigate. 調査します。"
        )
        session.commit()
    assert settings.hasher is not None
    session.close()

    page.goto(f"{live_server}/report/mailbox")
    mailbox_url = page.url
    page.get_by_label("Receipt").fill(receipt.lower().replace("-", " "))
    page.get_by_role("button", name="Open").click()
    assert page.url == mailbox_url
    expect(page.get_by_text("We will investigate.")).to_be_visible()
    shots(page, "mailbox")
    page.get_by_label("Your message").fill("Thank you. The file is still online today.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message was sent.")).to_be_visible()
    expect(page.get_by_text("The file is still online today.")).to_be_visible()
    assert receipt not in page.url
    shots(page, "mailbox-replied")
    context.close()
