"""A lead opens a P1 case's triage panel, overrides the priority, marks an obligation done."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from csirt.auth.models import User
from csirt.db import get_db, utcnow
from tests.triage.integration import founding_case

pytestmark = pytest.mark.browser


def test_triage_panel_override_and_obligation_done(
    page: Any, live_app: Flask, live_server: str, live_users: Any, shots: Any
) -> None:
    created = live_users.create(roles=["lead"], username="e2e-triage-lead")
    created.user.lang = "en"  # the Japanese catalog is merged separately
    live_users.session.commit()
    session = get_db(live_app).sessionmaker()
    case = founding_case(
        live_app,
        session,
        session.get(User, created.user.id),
        aware_at=utcnow() - dt.timedelta(days=1),
        title="Voter list posted online (e2e)",
    )
    session.commit()
    case_id = case.id
    session.close()

    page.goto(f"{live_server}/console/login")
    page.get_by_label("ユーザー名").fill(created.user.username)
    page.get_by_label("パスワード").fill(created.password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url("**/console/")

    page.goto(f"{live_server}/console/cases/{case_id}/triage")
    expect(page.get_by_role("heading", name="Estimated damages (JNSA model)")).to_be_visible()
    jnsa = page.locator("table.jnsa")
    assert "4,080,000,000 yen" in jnsa.inner_text()
    assert "500 × 2 × 6 × 1 × 1 = 6,000" in jnsa.inner_text()
    assert page.locator(".case-head .prio").inner_text() == "P1"
    shots(page, "panel-p1")

    page.get_by_text("Override the priority").click()
    page.get_by_role("combobox", name="Priority").select_option("P2")
    page.get_by_label("Reason for the override").fill("Files taken down; no further copies found")
    page.get_by_role("button", name="Override priority").click()
    page.wait_for_url(f"**/console/cases/{case_id}/triage")
    assert page.locator(".case-head .prio").inner_text() == "P2"
    expect(page.get_by_text("Files taken down; no further copies found")).to_be_visible()
    shots(page, "overridden")

    row = page.locator("tr", has_text="Preliminary report to the PPC")
    row.locator("summary").click()
    row.get_by_label("Evidence (what was sent, to whom, receipt number)").fill(
        "Reported through the PPC form; receipt 2026-0001"
    )
    row.get_by_role("button", name="Mark done").click()
    page.wait_for_url(f"**/console/cases/{case_id}/triage")
    done_row = page.locator("tr.status-done")
    assert "receipt 2026-0001" in done_row.inner_text()
    expect(page.get_by_text("The obligation was marked done.")).to_be_visible()
    shots(page, "obligation-done")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deadlines").click()
    page.wait_for_url("**/console/deadlines")
    expect(page.get_by_role("heading", name="Deadlines", exact=True)).to_be_visible()
    assert "Final report to the PPC" in page.locator("main").inner_text()
    shots(page, "deadlines")
