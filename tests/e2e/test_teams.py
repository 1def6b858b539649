"""A P1 arrives; the on-call lead forms the team in one screen; the second person acknowledges."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from csirt.cases.creation import create_case
from csirt.cases.models import Priority
from csirt.db import get_db, utcnow
from csirt.teams.oncall import set_rotation
from csirt.teams.people import add_member, create_team

pytestmark = pytest.mark.browser
# Japanese once the catalogs are merged; English until then.
MY_WORK = re.compile("自分の作業|My work")
ASSIGN = re.compile("チェックした人を割り当てる|Assign the ticked people")
ACKNOWLEDGED = re.compile("確認済み|Acknowledged")


def _sign_in(page: Any, live_server: str, username: str, password: str) -> None:
    page.goto(f"{live_server}/console/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url("**/console/")


def test_p1_first_response(page: Any, live_app: Any, live_server: str, live_users: Any, shots: Any):
    lead = live_users.create(roles=["lead"], username="oncall-lead")
    second = live_users.create(roles=["responder"], username="second-responder")
    suspect = live_users.create(roles=["responder"], username="suspect-staff", department="会計室")
    session = live_users.session
    lead.user.display_name, second.user.display_name = "当番 責任者", "調査 担当"
    suspect.user.display_name = "会計室 職員"
    today = utcnow().astimezone(live_app.config["CSIRT"].tz).date()
    team = create_team(
        session, name="CSIRT（コア）", slug="e2e-core", actor=None, first_response=True
    )
    add_member(session, team, lead.user, actor=None, skills=["management", "forensics"])
    add_member(session, team, second.user, actor=None, skills=["forensics", "systems"])
    add_member(
        session, team, suspect.user, actor=None, skills=["forensics", "systems", "management"]
    )
    set_rotation(
        session,
        team,
        start=today - timedelta(days=today.weekday()),
        order=[m.id for m in team.members],
        actor=None,
    )
    session.commit()
    # The case is opened as P1 inside the served app: the cases service sends priority_raised,
    # and the wiring pages the on-call lead (nothing is sent by hand).
    with live_app.app_context():
        db = get_db(live_app).sessionmaker()
        case = create_case(
            db,
            title="匿名通報：名簿流出の疑い",
            actor=None,
            priority=Priority.P1,
            involved=["会計室"],
        )
        db.commit()
        db.close()

    # The on-call lead signs in: the page is waiting.
    _sign_in(page, live_server, lead.user.username, lead.password)
    assert page.locator(".who .badge").inner_text() == "1"
    page.get_by_role("navigation", name=re.compile("メイン|Main")).get_by_role(
        "link", name=MY_WORK
    ).click()
    shots(page, "lead-my-work")
    page.get_by_role("link", name=case.reference).first.click()
    page.wait_for_url(f"**/console/cases/{case.id}/team")
    form = page.locator("form.first-response")
    # The suspect's department is involved: never suggested, whatever their skills.
    assert "suspect-staff" not in form.inner_text()
    assert page.locator('input[value="lead:oncall-lead"]').is_checked()
    assert page.locator('input[value="investigator:second-responder"]').is_checked()
    shots(page, "first-response")
    page.get_by_role("button", name=ASSIGN).click()
    page.wait_for_url(f"**/console/cases/{case.id}/team")
    team_table = page.locator("table.case-team").inner_text()
    assert "当番 責任者" in team_table
    assert "調査 担当" in team_table
    shots(page, "team-formed")
    page.get_by_role("button", name="サインアウト").click()

    # The second person signs in and acknowledges.
    _sign_in(page, live_server, second.user.username, second.password)
    page.get_by_role("navigation", name=re.compile("メイン|Main")).get_by_role(
        "link", name=MY_WORK
    ).click()
    shots(page, "second-my-work")
    page.get_by_role("button", name=re.compile(re.escape(case.reference))).click()
    page.wait_for_url("**/console/my-work")
    assert page.locator("section.pending").count() == 0
    assert page.locator(".who .badge").count() == 0  # the notification is read
    shots(page, "second-acknowledged")
    page.goto(f"{live_server}/console/cases/{case.id}/team")
    assert ACKNOWLEDGED.search(page.locator("table.acks").inner_text())
    shots(page, "acknowledgements")
