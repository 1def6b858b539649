"""The auditor's pages: browsing with filters and keyset pages, signals, report downloads.

The events browsed and reported are written by real requests (tests/audit_review/conftest.py).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import docx
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.models import AuditEvent
from csirt.audit_review import service
from csirt.audit_review.models import ReviewSignal
from tests.audit_review.conftest import DAY_10AM, TOKYO, World
from tests.conftest import csrf_from


def _actions(db_session: Session, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_only_auditors_see_the_log(client: FlaskClient, login_as):
    login_as("lead")
    assert client.get("/console/audit/").status_code == 403
    assert client.get("/console/audit/signals").status_code == 403


def test_browse_filters_and_pages_without_offset(
    client: FlaskClient, login_as, db_session: Session, world: World
):
    viewer = world.person("lead", "intake_officer", username="viewer-x")
    cases = world.cases(60)
    world.view_cases(viewer, cases)
    reports = world.tips(2, **{"identity.name": "通報者"})
    for report in reports:
        world.request_identity(viewer, report)
    login_as("auditor")
    first = client.get("/console/audit/?actor=viewer-x&action=case.")
    assert first.status_code == 200
    assert first.text.count("<code>case.view</code>") == 50
    assert "Older events" in first.text
    oldest_on_first = service.browse(
        db_session, service.AuditQuery(actor="viewer-x", action="case.")
    ).next_before
    second = client.get(f"/console/audit/?actor=viewer-x&action=case.&before={oldest_on_first}")
    assert second.text.count("<code>case.view</code>") == 10
    assert "Older events" not in second.text
    only_identity = client.get("/console/audit/?action=identity.")
    assert only_identity.text.count("<code>identity.request</code>") == 2
    by_case = client.get(f"/console/audit/?case={cases[6].id}&since=2026-03-10&until=2026-03-10")
    assert by_case.text.count("<code>case.view</code>") == 1
    by_object = client.get(f"/console/audit/?object_type=submission&object_id={reports[1]}")
    assert by_object.text.count("<code>identity.request</code>") == 1
    none = client.get("/console/audit/?since=2030-01-01")
    assert "No events match." in none.text
    # Browsing the log is itself audited, with the filter used.
    browses = _actions(db_session, "audit_review.browse")
    assert {"actor": "viewer-x", "action": "case."} in [b.details for b in browses]


def test_like_wildcards_in_filters_are_literal(client: FlaskClient, login_as, world: World):
    lead = world.person("lead")
    world.view_cases(lead, world.cases(1), start=None)
    login_as("auditor")
    client.get("/console/audit/")  # writes audit_review.browse
    page = client.get("/console/audit/?action=case%5F")  # "case_": the underscore is literal
    assert "<code>case.view</code>" not in page.text
    assert "No events match." in page.text
    page = client.get("/console/audit/?action=audit%5Freview.")
    assert "<code>audit_review.browse</code>" in page.text
    assert "<code>case.view</code>" not in page.text


def test_bad_filters_are_named_with_400(client: FlaskClient, login_as):
    login_as("auditor")
    response = client.get("/console/audit/?since=yesterday&case=abc&actor=" + "x" * 80)
    assert response.status_code == 400
    assert "Enter a date, e.g. 2026-12-06." in response.text
    assert "Enter a case number." in response.text
    assert "At most 64 characters." in response.text


def test_signal_review_and_closing(
    client: FlaskClient, login_as, db_session: Session, world: World
):
    snoop = world.person("responder", username="snoop-v")
    peers = [world.person("responder") for _ in range(3)]
    cases = world.cases(30, members=[snoop, *peers])
    world.view_cases(snoop, cases)
    for peer in peers:
        world.view_cases(peer, cases[:3])
    service.scan(
        db_session,
        settings=service.SignalSettings(),
        actor=audit.SYSTEM,
        days=[DAY_10AM.date()],
    )
    db_session.commit()
    auditor = login_as("auditor")
    listing = client.get("/console/audit/signals")
    assert "Far more views than peers — snoop-v" in listing.text
    assert "snoop-v viewed 30 different cases within 60 minutes" in listing.text
    signal = db_session.scalars(select(ReviewSignal)).one()
    page = client.get(f"/console/audit/signals/{signal.id}")
    assert page.status_code == 200
    empty = client.post(
        f"/console/audit/signals/{signal.id}", data={"note": "", "csrf_token": csrf_from(page.text)}
    )
    assert empty.status_code == 400
    blank = client.post(
        f"/console/audit/signals/{signal.id}",
        data={"note": "   ", "csrf_token": csrf_from(page.text)},
    )
    assert blank.status_code == 400
    closed = client.post(
        f"/console/audit/signals/{signal.id}",
        data={
            "note": "Assigned to the audit of case 7; checked.",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert closed.status_code == 302
    db_session.expire_all()
    assert signal.status == "closed"
    assert signal.closed_by_id == auditor.id
    again = client.post(
        f"/console/audit/signals/{signal.id}",
        data={"note": "again", "csrf_token": csrf_from(page.text)},
    )
    assert again.status_code == 302
    assert "No signals." in client.get("/console/audit/signals").text
    shown = client.get("/console/audit/signals?status=closed")
    assert "snoop-v" in shown.text
    assert "No signals." in client.get("/console/audit/signals?status=nonsense").text
    assert "snoop-v" in client.get("/console/audit/signals?status=all").text
    assert (
        "Assigned to the audit of case 7" in client.get(f"/console/audit/signals/{signal.id}").text
    )
    assert client.get("/console/audit/signals/999999").status_code == 404
    assert audit.verify(db_session).ok


def test_scan_button(client: FlaskClient, login_as, db_session: Session, world: World):
    exporter = world.person("lead", username="exp-now")
    now = datetime.now(TOKYO).replace(hour=3)  # before working hours, today
    world.export_timelines(exporter, world.cases(10), start=now, every=timedelta(seconds=5))
    login_as("auditor")
    page = client.get("/console/audit/signals")
    assert client.post("/console/audit/signals/scan").status_code == 400  # no CSRF token
    response = client.post("/console/audit/signals/scan", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 302
    listing = client.get("/console/audit/signals").text
    assert "Bulk exports — exp-now" in listing
    assert "Access outside working hours — exp-now" in listing


def test_cli_scan(runner, db_session: Session):
    result = runner.invoke(args=["audit-review", "scan"])
    assert result.exit_code == 0
    assert "new signals" in result.output


def test_report_downloads(client: FlaskClient, login_as, db_session: Session, world: World):
    officer = world.person("intake_officer", username="officer-r")
    custodian = world.person("custodian", username="custodian-r")
    pr = world.person("pr")
    reports = world.tips(4, **{"identity.name": "通報者"})
    world.open_reports(officer, reports)
    world.clock.now = DAY_10AM + timedelta(minutes=30)
    request = world.request_identity(officer, reports[2])  # opens the report once more
    world.clock.now = DAY_10AM + timedelta(hours=1)
    world.decide_identity(custodian, request.id, "approve")
    # A press officer whose name looks like a spreadsheet formula exports ten times.
    pr.user.username = "=pr-formula"
    db_session.commit()
    (case,) = world.cases(1, members=[pr])  # PR works on the cases it is assigned to
    documents = f"/console/cases/{case.id}/documents"
    created = pr.post_form(documents, documents, {"kind": "press_release", "lang": "ja"})
    assert created.status_code == 302, created.text
    detail = created.headers["Location"]
    for n in range(10):
        world.clock.now = DAY_10AM + timedelta(minutes=2 * n)
        assert pr.post_form(detail, f"{detail}/export", {}).status_code == 200
    world.clock.now = None
    service.scan(
        db_session, settings=service.SignalSettings(), actor=audit.SYSTEM, days=[DAY_10AM.date()]
    )
    db_session.commit()
    login_as("auditor")
    page = client.get("/console/audit/report?year=2026&half=1")
    assert page.status_code == 200
    assert client.get("/console/audit/report?year=x").status_code == 400
    assert client.get("/console/audit/report").status_code == 200
    assert client.get("/console/audit/report.csv?year=2026&half=3").status_code == 400

    csv_response = client.get("/console/audit/report.csv?year=2026&half=1&lang=en")
    assert csv_response.status_code == 200
    assert csv_response.mimetype == "text/csv"
    text = csv_response.data.decode("utf-8-sig")
    lines = text.replace("\r", "").splitlines()
    header = "User,case.view,document.export,identity.approve,identity.request,intake.open,Total"
    assert header in lines
    assert "officer-r,0,0,0,1,5,6" in lines  # four reports opened, one again to ask
    assert "custodian-r,0,0,1,0,0,1" in lines
    # The reasons come from the request's own row (the log holds no free text).
    assert f"officer-r,identity.request,submission {reports[2]},,需要: 事実確認のため" in text
    assert f"custodian-r,identity.approve,submission {reports[2]},,確認済み" in text
    assert "'=pr-formula" in text  # a cell that would be a formula is neutralised
    assert "Bulk exports" in text

    docx_response = client.get("/console/audit/report.docx?year=2026&half=1")
    assert docx_response.status_code == 200
    assert "attachment" in docx_response.headers["Content-Disposition"]
    document = docx.Document(io.BytesIO(docx_response.data))
    body = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "Test City CSIRT" in body
    assert "officer-r" in cells
    assert "identity.request" in cells
    assert "需要: 事実確認のため" in cells
    assert "=pr-formula exported 10 times" in body
    empty = client.get("/console/audit/report.docx?year=2025&half=2&lang=en")
    assert "None in this period." in "\n".join(
        p.text for p in docx.Document(io.BytesIO(empty.data)).paragraphs
    )
    exports = _actions(db_session, "audit_review.export")
    assert [(e.object_id, e.details["format"]) for e in exports] == [
        ("2026-H1", "csv"),
        ("2026-H1", "docx"),
        ("2025-H2", "docx"),
    ]


def test_report_half_year_bounds_are_local():
    from zoneinfo import ZoneInfo

    import pytest

    start, end = service.half_year_bounds(2026, 2, ZoneInfo("Asia/Tokyo"))
    assert start.isoformat() == "2026-06-30T15:00:00+00:00"
    assert end.isoformat() == "2026-12-31T15:00:00+00:00"
    with pytest.raises(service.ReviewError):
        service.half_year_bounds(2026, 3, ZoneInfo("UTC"))
