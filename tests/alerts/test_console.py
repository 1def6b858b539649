"""The alert queue in the console (Japanese, no JavaScript): filters, merge, open a case, ignore."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.notify.service import MAILER_KEY
from csirt.observables.models import Observable
from tests.alerts.conftest import alert_body
from tests.conftest import csrf_from


def _raise(client, headers, **changes) -> int:
    response = client.post("/api/v1/alerts", json=alert_body(**changes), headers=headers)
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def test_queue_filters_and_the_alert_page_shows_observables_defanged(
    client, bearer, login_as, app, db_session: Session
):
    _siem, siem = bearer("responder")
    lead = login_as("lead")
    lead.email = "lead@example.jp"
    db_session.commit()
    sent = app.extensions[MAILER_KEY].sent
    before = len(sent)
    high = _raise(client, siem, source_ref="a-1")
    _raise(client, siem, source_ref="a-2", severity="low", source="edr-b", title="EDR 検知")
    mails = [m for m in sent[before:] if m.to == "lead@example.jp"]
    assert len(mails) == 2
    assert "アラート" in mails[0].subject
    assert all("不審" not in m.subject + m.body and "203.0.113" not in m.body for m in mails)

    queue = client.get("/console/alerts/")
    assert queue.status_code == 200
    assert "不審な外部通信" in queue.text
    assert "EDR 検知" in queue.text
    only_high = client.get("/console/alerts/?severity=high")
    assert "不審な外部通信" in only_high.text
    assert "EDR 検知" not in only_high.text
    by_source = client.get("/console/alerts/?source=edr-b")
    assert "EDR 検知" in by_source.text
    assert "不審な外部通信" not in by_source.text
    merged_only = client.get("/console/alerts/?status=merged")
    assert "不審な外部通信" not in merged_only.text

    page = client.get(f"/console/alerts/{high}")
    assert page.status_code == 200
    assert "203[.]0[.]113[.]5" in page.text
    assert "hxxp://c2[.]example[.]com/beacon" in page.text
    assert "203.0.113.5" not in page.text
    for action in ("merge", "open-case", "ignore"):
        assert f'action="/console/alerts/{high}/{action}"' in page.text


def test_merge_from_the_console_keeps_observables(
    client, bearer, login_as, cases, db_session: Session
):
    _siem, siem = bearer("responder")
    lead = login_as("lead")
    case = cases.create(actor=lead, title="既存の事案")
    db_session.commit()
    alert_id = _raise(client, siem)
    page = client.get(f"/console/alerts/{alert_id}")
    assert case.reference in page.text  # the cases the lead may see are offered
    nothing = client.post(
        f"/console/alerts/{alert_id}/merge", data={"csrf_token": csrf_from(page.text)}
    )
    assert nothing.status_code == 400
    unknown = client.post(
        f"/console/alerts/{alert_id}/merge",
        data={"reference": "CSIRT-1999-9999", "csrf_token": csrf_from(page.text)},
    )
    assert unknown.status_code == 400
    merged = client.post(
        f"/console/alerts/{alert_id}/merge",
        data={"reference": case.reference, "csrf_token": csrf_from(page.text)},
    )
    assert merged.status_code == 302
    assert merged.headers["Location"].endswith(f"/console/cases/{case.id}")
    values = set(db_session.scalars(select(Observable.value).where(Observable.case_id == case.id)))
    assert values == {"203.0.113.5", "c2.example.com", "http://c2.example.com/beacon"}
    twice = client.post(
        f"/console/alerts/{alert_id}/merge",
        data={"case_id": str(case.id), "csrf_token": csrf_from(page.text)},
    )
    assert twice.status_code == 302  # back to the alert, with a warning: nothing merged again


def test_open_a_case_and_ignore_from_the_console(client, bearer, login_as, db_session: Session):
    _siem, siem = bearer("responder")
    login_as("lead")
    first = _raise(client, siem, source_ref="o-1")
    page = client.get(f"/console/alerts/{first}")
    opened = client.post(
        f"/console/alerts/{first}/open-case",
        data={"playbook": "malware", "csrf_token": csrf_from(page.text)},
    )
    assert opened.status_code == 302, opened.text
    case_page = client.get(opened.headers["Location"])
    assert "不審な外部通信" in case_page.text
    case_id = int(opened.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert db_session.scalars(select(Observable).where(Observable.case_id == case_id)).first()

    second = _raise(client, siem, source_ref="o-2")
    page = client.get(f"/console/alerts/{second}")
    empty = client.post(
        f"/console/alerts/{second}/ignore", data={"reason": " ", "csrf_token": csrf_from(page.text)}
    )
    assert empty.status_code == 400
    ignored = client.post(
        f"/console/alerts/{second}/ignore",
        data={"reason": "定期スキャンによる誤検知", "csrf_token": csrf_from(page.text)},
    )
    assert ignored.status_code == 302
    assert "定期スキャンによる誤検知" in client.get(f"/console/alerts/{second}").text


def test_only_those_with_the_permission_see_the_queue(client, login_as):
    login_as("pr")
    assert client.get("/console/alerts/").status_code == 403
