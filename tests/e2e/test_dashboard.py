"""The dashboard's charts in Chromium: server-drawn SVG with titles and a table fallback, in
Japanese and English, with JavaScript off; screenshots in test-output/e2e/test_dashboard_*."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from csirt.cases.models import Priority
from csirt.db import utcnow
from csirt.records import service as records
from csirt.records.validation import InquiryInput
from tests.e2e.conftest import sign_in
from tests.factories import CaseFactory

pytestmark = pytest.mark.browser

CHARTS = ("open", "acknowledge", "close", "obligations", "inquiries")


def _seed_history(live_app: Flask, live_users: Any, lead: Any) -> None:
    """Cases over the last months (created, acknowledged, closed at earlier times), obligations
    from triage, and inquiries on the open cases: what a team's dashboard shows after a season."""
    session = live_users.session
    cases = CaseFactory(session, live_users, live_app)
    now = utcnow()
    with live_app.app_context():
        for n in range(24):
            case = cases.create(
                title=f"傾向確認用の事案 {n + 1}",
                actor=lead,
                priority=Priority(("P1", "P2", "P3", "P3", "P4")[n % 5]),
                aware_at=now - timedelta(hours=2),
                triaged=n < 4,  # triage sets obligations due within the next weeks
            )
            created = now - timedelta(days=4 * n + 1)
            case.created_at = created
            case.acknowledged_at = created + timedelta(hours=2 + (n * 7) % 40)
            if n % 3 == 0 and n > 3:
                case.phase = "closed"
                case.closed_at = created + timedelta(days=2 + n % 9)
            elif n < 6:
                for day in range(0, 20, 2 + n):
                    received = (now - timedelta(days=day)).date()
                    data = InquiryInput("phone", received, "問い合わせ", False)
                    records.add_inquiry(session, case, lead, data)
        session.commit()  # a case added: the dashboard's cache is emptied on commit


def test_dashboard_charts(
    browser: Any, live_app: Flask, live_server: str, live_users: Any, shots: Any
):
    created = live_users.create(roles=["lead"], username="e2e-dashboard-lead")
    live_users.session.commit()
    _seed_history(live_app, live_users, created.user)

    context = browser.new_context(
        locale="ja-JP",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=False,
        device_scale_factor=2,  # legible chart screenshots
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        sign_in(page, live_server, created.user.username, created.password)

        for key in CHARTS:
            figure = page.locator(f"#fig-{key}")
            svg = figure.locator("svg[role=img]")
            assert svg.count() == 1, key
            labelled = (svg.get_attribute("aria-labelledby") or "").split()
            assert labelled == [f"chart-{key}-t", f"chart-{key}-d"]
            assert figure.locator(f"#chart-{key}-t").text_content()
        open_chart = page.locator("#fig-open svg")
        assert open_chart.locator("rect.bar").count() >= 12  # a bar for every week, stacked
        assert page.locator("#fig-acknowledge svg polyline.line").count() >= 2  # median, p90
        assert page.locator("#fig-inquiries svg rect.bar").count() >= 5
        assert page.locator("#fig-obligations svg rect.bar").count() >= 1
        full = shots(page, "dashboard-charts-ja")
        for key in CHARTS:
            page.locator(f"#fig-{key}").screenshot(path=str(full.parent / f"chart-{key}-ja.png"))

        # The same figures as a table, for screen readers and print (no script needed).
        page.locator("#fig-inquiries summary").click()
        table = page.locator("#fig-inquiries table")
        expect(table).to_be_visible()
        assert table.locator("tbody tr").count() == 30

        page.get_by_role("button", name="English").click()
        page.wait_for_url("**/console/")
        caption = page.locator("#fig-open figcaption").text_content() or ""
        assert caption.startswith("Open cases by priority"), caption
        assert page.locator("#fig-acknowledge svg text", has_text="Median").count() == 1
        shots(page, "dashboard-charts-en")
    finally:
        context.close()
