"""The alert queue in Chromium with JavaScript off: filter, open an alert (observables shown
defanged), merge it into a case chosen from the list; screenshots in test-output/e2e."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from csirt.alerts import service
from csirt.cases.creation import create_case
from csirt.observables.models import Observable
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_lead_filters_the_queue_and_merges_an_alert(
    browser: Any, live_app: Flask, live_server: str, live_users: Any, shots: Any
) -> None:
    lead = live_users.create(roles=["lead"], username="e2e-alerts-lead")
    session = live_users.session
    session.commit()
    case = create_case(session, title="不正アクセス（e2e アラート）", actor=lead.user)
    raised = service.raise_alert(
        session,
        service.AlertInput(
            source="siem-e2e",
            source_ref="e2e-1",
            type="intrusion",
            title="管理画面への不審なログイン（e2e）",
            severity="critical",
            observables=[{"type": "url", "value": "hxxp://bad.example[.]net/login"}],
        ),
        None,
    )
    service.raise_alert(
        session,
        service.AlertInput(
            source="siem-e2e", source_ref="e2e-2", type="scan", title="ポートスキャン（e2e）",
            severity="low",
        ),
        None,
    )  # fmt: skip
    session.commit()
    alert_id, case_id = raised.alert.id, case.id

    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        sign_in(page, live_server, lead.user.username, lead.password)
        page.goto(f"{live_server}/console/alerts/")
        assert page.locator("text=ポートスキャン（e2e）").count() == 1
        page.select_option("#f-severity", "critical")
        page.locator("form.filters button[type=submit]").click()
        page.wait_for_url("**severity=critical**")
        assert page.locator("text=ポートスキャン（e2e）").count() == 0
        shots(page, "queue-critical")
        page.locator("text=管理画面への不審なログイン（e2e）").click()
        page.wait_for_url(f"**/console/alerts/{alert_id}")
        assert page.locator("code", has_text="hxxp://bad[.]example[.]net/login").count() == 1
        shots(page, "alert")
        merge = page.locator(f'form[action="/console/alerts/{alert_id}/merge"]')
        merge.locator("select").select_option(str(case_id))
        merge.locator("button[type=submit]").click()
        page.wait_for_url(f"**/console/cases/{case_id}")
        shots(page, "merged-case")
    finally:
        context.close()
    session.expire_all()
    values = set(session.scalars(select(Observable.value).where(Observable.case_id == case_id)))
    assert values == {"http://bad.example.net/login"}
