"""An auditor reviews a misuse signal and closes it with a note, in Chromium (English UI)."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from csirt.audit import service as audit
from csirt.audit_review import service
from csirt.db import utcnow

pytestmark = pytest.mark.browser


def test_auditor_reviews_and_closes_a_signal(
    browser: Any, live_server: str, live_users: Any, shots: Any, live_app: Any
) -> None:
    session = live_users.session
    snoop = live_users.create(roles=["responder"], username="e2e-snoop").user
    peers = [live_users.create(roles=["responder"]).user for _ in range(3)]
    # Yesterday 10:00 local time: inside the scan's range and the working day, whatever the hour
    # the suite runs (a burst that crosses local midnight is split between two days' peers).
    tz = live_app.config["CSIRT"].tz
    local_start = (utcnow().astimezone(tz) - timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    start = local_start.astimezone(UTC)
    for i in range(30):
        audit.record(
            session,
            "case.view",
            actor=audit.Actor(snoop.id, snoop.username),
            object_type="case",
            object_id=1000 + i,
            at=start + timedelta(minutes=i),
        )
    for peer in peers:
        for i in range(3):
            audit.record(
                session,
                "case.view",
                actor=audit.Actor(peer.id, peer.username),
                object_type="case",
                object_id=2000 + i,
                at=start + timedelta(minutes=i),
            )
    auditor = live_users.create(roles=["auditor"], username="e2e-auditor")
    session.commit()
    service.scan(session, settings=service.SignalSettings(), actor=audit.SYSTEM)
    session.commit()

    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server}/console/login")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Username").fill(auditor.user.username)
    page.get_by_label("Password").fill(auditor.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    page.wait_for_url("**/console/audit/")
    page.get_by_label("Who (username)").fill("e2e-snoop")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit-log tbody tr")).to_have_count(30)
    shots(page, "audit-log")
    page.get_by_role("link", name="Signals").click()
    expect(page.get_by_text("e2e-snoop viewed 30 different cases").first).to_be_visible()
    shots(page, "signals")
    page.get_by_role("link", name="Far more views than peers — e2e-snoop").click()
    page.get_by_label("Review note").fill("Checked with the lead: not assigned. Escalated.")
    shots(page, "signal-close")
    page.get_by_role("button", name="Close the signal").click()
    page.wait_for_url("**/console/audit/signals")
    expect(page.get_by_text("The signal was closed.")).to_be_visible()
    page.get_by_role("link", name="Half-year report").click()
    shots(page, "report")
    context.close()
