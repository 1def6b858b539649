"""Every action the audit review watches is written by a real request, and only real requests.

The review used to watch names that nothing wrote (``case.view``, ``submission.open``, ...), so in
real use its signals never fired while its tests, which wrote those names by hand, passed. Here
people sign in and work; the test then asserts that each watched action (iterated from the
review's own set, so that a new watched action without a writer fails) appears in the log.
"""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent
from csirt.audit_review import service
from csirt.intake.base import Upload
from tests.audit_review.conftest import World


def _written(db_session: Session) -> set[str]:
    return set(db_session.scalars(select(AuditEvent.action).distinct()))


def test_every_watched_action_is_written_by_a_real_request(
    app: Flask, db_session: Session, world: World
) -> None:
    officer = world.person("intake_officer")
    custodian = world.person("custodian")  # holds a key before the report comes in
    lead = world.person("lead")
    auditor = world.person("auditor")
    assert _written(db_session) & service.WATCHED_ACTIONS == set()

    # A tip with the reporter's name and a file: the officer decrypts it and opens both copies.
    (report,) = world.tips(
        1,
        **{"identity.name": "山田花子"},
        uploads=[Upload("memo.txt", "text/plain", b"attached note")],
    )
    page = officer.get(f"/console/intake/{report}")
    assert TIP_TEXT in page.text
    attachment = re.search(r"/files/(\d+)\"", page.text)
    assert attachment is not None
    stripped = officer.get(f"/console/intake/{report}/files/{attachment.group(1)}")
    original = officer.get(f"/console/intake/{report}/files/{attachment.group(1)}?original=1")
    assert stripped.data == original.data == b"attached note"
    # The reporter's identity: a reasoned request, a custodian's approval, then the view.
    request = world.request_identity(officer, report)
    world.decide_identity(custodian, request.id, "approve")
    shown = officer.post_form(f"/console/intake/{report}", f"/console/intake/{report}/identity", {})
    assert shown.status_code == 200
    assert "山田花子" in shown.text

    # A case: its page, a tab, its evidence, its timeline as CSV; the API reads it too.
    (case,) = world.cases(1)
    lead.get(f"/console/cases/{case.id}")
    lead.get(f"/console/cases/{case.id}/datasets")
    evidence = world.upload_evidence(lead, case, b"<html>capture</html>")
    download = lead.get(f"/console/cases/{case.id}/evidence/{evidence}/download")
    assert download.data == b"<html>capture</html>"
    download.close()
    lead.get(f"/console/cases/{case.id}/timeline.csv")
    # The case's observables leave as STIX; the personal-data inventory leaves as a register CSV.
    stix = lead.get(f"/console/cases/{case.id}/observables/export/stix")
    assert stix.status_code == 200, stix.text
    register = lead.get("/console/inventory/export.csv")
    assert register.status_code == 200, register.text

    # A press release drafted and exported; the auditor's half-year report downloaded.
    documents = f"/console/cases/{case.id}/documents"
    created = lead.post_form(documents, documents, {"kind": "press_release", "lang": "ja"})
    assert created.status_code == 302, created.text
    document = re.search(r"/console/documents/(\d+)", created.headers["Location"])
    assert document is not None
    detail = f"/console/documents/{document.group(1)}"
    exported = lead.post_form(detail, f"{detail}/export", {})
    assert exported.status_code == 200, exported.text
    auditor.get("/console/audit/report.csv?year=2026&half=2")

    written = _written(db_session)
    missing = sorted(action.value for action in service.WATCHED_ACTIONS if action not in written)
    assert missing == [], f"watched, but no real request wrote: {missing}"
    # The identity steps the half-year report lists were written on the way too.
    assert {
        AuditAction.IDENTITY_REQUEST,
        AuditAction.IDENTITY_APPROVE,
        AuditAction.IDENTITY_VIEW,
    } <= written
    assert audit.verify(db_session).ok


TIP_TEXT = "有権者名簿らしきファイルがレンタルサーバーに置かれている"


def test_each_view_of_a_case_writes_one_row_and_a_list_writes_none(
    db_session: Session, world: World
) -> None:
    responder = world.person("responder")
    cases = world.cases(3, members=[responder])
    before = _count(db_session, AuditAction.CASE_VIEW)
    responder.get("/console/cases/")  # the list: no row per case
    assert _count(db_session, AuditAction.CASE_VIEW) == before
    for tab in ("", "/tasks", "/timeline", "/datasets", "/evidence", "/notes", "/triage"):
        responder.get(f"/console/cases/{cases[0].id}{tab}")
    rows = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == AuditAction.CASE_VIEW)
        .order_by(AuditEvent.seq)
    ).all()[before:]
    assert [(r.actor, r.case_id) for r in rows] == [(responder.username, cases[0].id)] * 7
    assert rows[1].details == {"page": "cases.tasks"}
    # A case the person may not see answers 404 and is not recorded as viewed.
    (hidden,) = world.cases(1)
    responder.get(f"/console/cases/{hidden.id}", status=404)
    assert _count(db_session, AuditAction.CASE_VIEW) == before + 7


def test_the_api_records_its_reads_of_a_case(app: Flask, db_session: Session, world: World) -> None:
    from csirt.auth import service as auth_service
    from tests.factories import FACTORY

    lead = world.users.create(roles=["lead"]).user
    _token, plain = auth_service.create_token(db_session, lead, actor=FACTORY)
    (case,) = world.cases(1)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {plain}"}
    for path in ("", "/timeline", "/tasks", "/datasets", "/evidence", "/obligations"):
        response = api.get(f"/api/v1/cases/{case.id}{path}", headers=headers)
        assert response.status_code == 200, (path, response.text)
    assert api.get("/api/v1/cases", headers=headers).status_code == 200  # a list: no row
    rows = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == AuditAction.CASE_VIEW, AuditEvent.actor == lead.username
        )
    ).all()
    assert [r.details["page"] for r in rows] == [
        "api_cases.get_case",
        "api_cases.get_timeline",
        "api_cases.get_tasks",
        "api_records.list_datasets",
        "api_records.list_evidence",
        "api_triage.case_obligations",
    ]


def _count(db_session: Session, action: AuditAction) -> int:
    return len(db_session.scalars(select(AuditEvent.seq).where(AuditEvent.action == action)).all())
