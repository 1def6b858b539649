"""The triage panel, priority override, obligations done, the deadlines board and the feed."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.models import CaseMember
from csirt.db import utcnow
from csirt.triage import service
from tests.conftest import csrf_from, login
from tests.factories import UserFactory

from .integration import add_dataset, founding_case, make_case


def _text(response: Any) -> str:
    return html.unescape(response.text)


def test_panel_explains_the_founding_case_line_by_line(
    app: Flask, client: FlaskClient, db_session: Session, login_as: Any
) -> None:
    lead = login_as("lead")
    case = founding_case(app, db_session, lead)
    db_session.commit()
    page = client.get(f"/console/cases/{case.id}/triage", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = _text(page)
    assert 'aria-current="page"' in text
    assert "css/triage.css" in text
    # The JNSA estimate, line by line: 500 × 2 × 6 × 1 × 1 = 6,000 per person × 680,000.
    jnsa = text[text.index('class="jnsa"') : text.index("</table>", text.index('class="jnsa"'))]
    for line in (
        "base value of one person's data: 500 yen",
        "sensitivity = 10^(1-1) + 5^(1-1) = 2",
        "identifiability = 6",
        "social responsibility = 1",
        "post-incident response = 1",
        "500 × 2 × 6 × 1 × 1 = 6,000",
        "6,000 yen",
        "680,000",
        "4,080,000,000 yen",
    ):
        assert line in jnsa, line
    # Each factor with its points and reason.
    assert "680,000 persons affected" in text
    assert "insider involved" in text
    assert "exposure: Public on the internet" in text  # the catalog's name
    assert re.search(r"<td class=\"num\">\+\d+</td>", text)
    # The obligations with due dates and a mark-done form each.
    for label in ("Preliminary report to the PPC", "Final report to the PPC", "Notice to the"):
        assert label in text
    assert text.count('class="done-form"') == 3
    assert "Triage history" in text
    assert "First triage" in text


def test_panel_speaks_japanese(
    app: Flask, client: FlaskClient, db_session: Session, login_as: Any
) -> None:
    lead = login_as("lead")
    lead.lang = "ja"
    case = founding_case(app, db_session, lead)
    db_session.commit()
    text = _text(client.get(f"/console/cases/{case.id}/triage"))
    assert "影響を受ける本人 680,000人" in text
    assert "機微情報度 = 10^(1-1) + 5^(1-1) = 2" in text
    assert "合計 4,080,000,000円（680,000人）" in text


def test_panel_before_any_run_is_a_preview(
    client: FlaskClient, db_session: Session, login_as: Any
) -> None:
    lead = login_as("lead")
    case = make_case(db_session, lead, insider=True)
    add_dataset(db_session, case)
    db_session.commit()
    text = _text(client.get(f"/console/cases/{case.id}/triage", headers={"Accept-Language": "en"}))
    assert "Not run yet" in text
    assert "Preliminary report to the PPC" in text  # listed from the live result
    assert service.latest_run(db_session, case) is None  # a GET writes nothing
    page = client.get(f"/console/cases/{case.id}/triage")
    response = client.post(
        f"/console/cases/{case.id}/triage/run", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302
    db_session.expire_all()
    run = service.latest_run(db_session, case)
    assert run is not None
    assert run.reason == "manual re-run"
    assert client.post(f"/console/cases/{case.id}/triage/run", data={}).status_code == 400


def test_override_and_clear_through_the_forms(
    app: Flask, client: FlaskClient, db_session: Session, login_as: Any
) -> None:
    lead = login_as("lead")
    case = founding_case(app, db_session, lead)
    db_session.commit()
    url = f"/console/cases/{case.id}/triage"
    token = csrf_from(client.get(url).text)
    bad = client.post(
        f"{url}/override",
        data={"priority": "P3", "reason": "", "csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 400
    assert "Give a reason." in bad.text
    response = client.post(
        f"{url}/override",
        data={"priority": "P3", "reason": "Only a test list, confirmed", "csrf_token": token},
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(type(case), case.id).priority == "P3"
    text = _text(client.get(url, headers={"Accept-Language": "en"}))
    assert "Only a test list, confirmed" in text
    assert "overridden" in text
    assert client.post(f"{url}/override/clear", data={}).status_code == 400
    assert client.post(f"{url}/override/clear", data={"csrf_token": token}).status_code == 302
    db_session.expire_all()
    assert db_session.get(type(case), case.id).priority == "P1"
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.case_id == case.id)
    ).all()
    assert "triage.priority_override" in actions
    assert "triage.priority_override_cleared" in actions


def test_responder_cannot_override(
    app: Flask, client: FlaskClient, db_session: Session, login_as: Any
) -> None:
    responder = login_as("responder")
    case = founding_case(app, db_session, responder)
    db_session.commit()
    url = f"/console/cases/{case.id}/triage"
    page = client.get(url)
    assert page.status_code == 200
    assert "override-form" not in page.text
    response = client.post(
        f"{url}/override",
        data={"priority": "P4", "reason": "no", "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 403


def test_mark_done_through_the_form(
    app: Flask, client: FlaskClient, db_session: Session, login_as: Any
) -> None:
    lead = login_as("lead")
    case = founding_case(app, db_session, lead)
    db_session.commit()
    obligation = next(
        o for o in service.obligations_of(db_session, case) if o.kind == "ppc_preliminary"
    )
    url = f"/console/cases/{case.id}/triage"
    token = csrf_from(client.get(url).text)
    prefix = f"ob{obligation.id}-"
    done_url = f"/console/cases/{case.id}/obligations/{obligation.id}/done"
    missing = client.post(done_url, data={"csrf_token": token}, headers={"Accept-Language": "en"})
    assert missing.status_code == 400
    assert "Describe the evidence." in missing.text
    assert "Give the date and time it was done." in missing.text
    future = (utcnow() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    late = client.post(
        done_url,
        data={"csrf_token": token, prefix + "done_at": future, prefix + "evidence": "x"},
        headers={"Accept-Language": "en"},
    )
    assert late.status_code == 400
    assert "must not be in the future" in late.text
    ok = client.post(
        done_url,
        data={
            "csrf_token": token,
            prefix + "done_at": "2015-06-26T15:00",
            prefix + "evidence": "Filed through the PPC form, receipt 2015-0042",
        },
    )
    assert ok.status_code == 302
    db_session.expire_all()
    row = service.get_obligation(db_session, case, obligation.id)
    assert row.status == "done"
    assert row.done_at == dt.datetime(2015, 6, 26, 6, 0, tzinfo=dt.UTC)  # 15:00 in Tokyo
    text = _text(client.get(url, headers={"Accept-Language": "en"}))
    assert "receipt 2015-0042" in text
    assert text.count('class="done-form"') == 2
    again = client.post(
        done_url,
        data={
            "csrf_token": token,
            prefix + "done_at": "2015-06-26T15:00",
            prefix + "evidence": "y",
        },
        headers={"Accept-Language": "en"},
    )
    assert again.status_code == 400
    assert "already done" in again.text
    other = make_case(db_session, lead)
    db_session.commit()
    wrong = f"/console/cases/{other.id}/obligations/{obligation.id}/done"
    assert client.post(wrong, data={"csrf_token": token}).status_code == 404


def test_cases_outside_need_to_know_are_404(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory, login_as: Any
) -> None:
    owner = users.create(roles=["lead"]).user
    case = founding_case(app, db_session, owner)
    db_session.commit()
    login_as("responder")
    assert client.get(f"/console/cases/{case.id}/triage").status_code == 404
    assert client.get("/console/cases/999999/triage").status_code == 404


def test_deadlines_board_and_calendar_feed(
    app: Flask, client: FlaskClient, db_session: Session, users: UserFactory
) -> None:
    owner = users.create(roles=["lead"]).user
    member = users.create(roles=["responder"])
    now = utcnow()
    visible = founding_case(
        app, db_session, owner, aware_at=now - dt.timedelta(days=5), title="Visible case"
    )
    db_session.add(CaseMember(case_id=visible.id, user_id=member.user.id, role="investigator"))
    hidden = founding_case(app, db_session, owner, title="Hidden case")
    db_session.commit()
    login(client, member.user.username, member.password)

    board = client.get("/console/deadlines", headers={"Accept-Language": "en"})
    assert board.status_code == 200
    text = _text(board)
    assert visible.reference in text
    assert "Visible case" in text
    assert hidden.reference not in text
    assert "Hidden case" not in text
    overdue = text[text.index('id="h-overdue"') : text.index('id="h-week"')]
    assert "Preliminary report to the PPC" in overdue
    later = text[text.index('id="h-later"') : text.index('id="h-feed"')]
    assert "Final report to the PPC" in later

    token_form = csrf_from(board.text)
    issued = client.post("/console/deadlines/feed", data={"csrf_token": token_form})
    assert issued.status_code == 200
    match = re.search(r'value="([^"]*/console/deadlines\.ics\?token=[^"]+)"', issued.text)
    assert match, "the feed address is shown once"
    feed_path = html.unescape(match.group(1)).split("://", 1)[1].split("/", 1)[1]
    assert client.post("/console/deadlines/feed", data={}).status_code == 400

    anonymous = app.test_client()
    feed = anonymous.get("/" + feed_path)
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    body = feed.text.replace("\r\n ", "")
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    # One event per obligation, plus one per internal target earlier than the legal deadline.
    legal = re.findall(r"^UID:obligation-\d+@", body, re.MULTILINE)
    targets = re.findall(r"^UID:obligation-\d+-target@", body, re.MULTILINE)
    assert len(legal) == 3
    assert body.count("BEGIN:VEVENT") == 3 + len(targets)
    assert visible.reference in body
    assert hidden.reference not in body
    assert "Visible case" not in body
    assert len(re.findall(r"^DTSTART;VALUE=DATE:\d{8}\r$", body, re.MULTILINE)) == 3 + len(targets)
    assert anonymous.get("/console/deadlines.ics?token=nope").status_code == 404
    assert anonymous.get("/console/deadlines.ics").status_code == 404

    again = client.get("/console/deadlines", headers={"Accept-Language": "en"})
    assert "A feed address exists since" in again.text
    revoked = client.post("/console/deadlines/feed/revoke", data={"csrf_token": token_form})
    assert revoked.status_code == 302
    assert client.post("/console/deadlines/feed/revoke", data={}).status_code == 400
    assert anonymous.get("/" + feed_path).status_code == 404


def test_empty_deadlines_board(client: FlaskClient, login_as: Any) -> None:
    login_as("responder")
    text = _text(client.get("/console/deadlines", headers={"Accept-Language": "en"}))
    assert "Nothing is overdue." in text
    assert "No later deadlines." in text
    assert "Create a feed address" in text
