"""Console pages: PR staff reach a case's documents without its other tabs; create, edit, diff,
comment, approve by another lead, export; facts, measures and the organisation settings."""

from __future__ import annotations

import io
import re
from typing import Any

import docx
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.models import Case
from csirt.catalog.current import current_catalog
from csirt.documents import blocks, service, snapshot
from csirt.documents.models import Document, DocumentContext, PreventionMeasure
from tests.conftest import csrf_from, login
from tests.documents.conftest import PUBLIC_PHONE, DemoCase, make_demo_case
from tests.factories import UserFactory, assign_to_case

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _client_for(app: Flask, users: UserFactory, db_session: Session, *roles: str) -> Any:
    created = users.create(roles=list(roles))
    db_session.commit()
    client = app.test_client()
    assert login(client, created.user.username, created.password).status_code == 302
    return client, created.user


def _post(client: FlaskClient, page_url: str, url: str, data: dict[str, Any]) -> Any:
    page = client.get(page_url)
    return client.post(url, data={**data, "csrf_token": csrf_from(page.text)})


def _english(client: FlaskClient) -> None:
    page = client.get("/console/account")
    client.post("/language", data={"lang": "en", "csrf_token": csrf_from(page.text), "next": "/"})


def _demo(db_session: Session, users: UserFactory) -> DemoCase:
    creator = users.create(roles=["lead"]).user
    demo = make_demo_case(db_session, creator)
    db_session.commit()
    return demo


def _document_id(response: Any) -> int:
    match = re.search(r"/console/documents/(\d+)", response.headers["Location"])
    assert match
    return int(match.group(1))


def test_pr_reaches_documents_but_not_the_other_tabs(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    assign_to_case(db_session, login_as("pr"), demo.case.id, "pr")
    _english(client)
    page = client.get(f"/console/cases/{demo.case.id}/documents")
    assert page.status_code == 200
    assert "Public facts only" in page.text
    assert "匿名の通報を受付" in page.text  # a public event
    assert "内部メモ" not in page.text  # an internal one
    assert f"/console/cases/{demo.case.id}/timeline" not in page.text
    assert "documents.css" in page.text
    # The case's own pages stay closed to PR.
    assert client.get(f"/console/cases/{demo.case.id}").status_code in (403, 404)
    index = client.get("/console/documents/")
    assert index.status_code == 200
    assert demo.case.reference in index.text


def test_case_worker_sees_the_case_tabs(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    login_as("lead")
    _english(client)
    page = client.get(f"/console/cases/{demo.case.id}/documents")
    assert page.status_code == 200
    assert 'class="case-tabs"' in page.text
    assert "Public facts only" not in page.text


def test_outsiders_get_404(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    login_as("responder")
    assert client.get(f"/console/cases/{demo.case.id}/documents").status_code == 404
    assert client.get("/console/cases/999999/documents").status_code == 404


def test_full_workflow_pr_drafts_lead_approves_pr_exports(app, db_session, users) -> None:
    demo = _demo(db_session, users)
    pr, pr_user = _client_for(app, users, db_session, "pr")
    assign_to_case(db_session, pr_user, demo.case.id, "pr")
    case_url = f"/console/cases/{demo.case.id}/documents"
    created = _post(pr, case_url, case_url, {"kind": "press_release", "lang": "ja"})
    assert created.status_code == 302
    doc_id = _document_id(created)
    detail_url = f"/console/documents/{doc_id}"
    detail = pr.get(detail_url)
    assert detail.status_code == 200
    assert "doc-status-draft" in detail.text

    edit_url = f"{detail_url}/edit"
    edit_page = pr.get(edit_url)
    assert edit_page.status_code == 200
    assert edit_page.text.count("<textarea") == len(service.SECTIONS["press_release"])
    assert 'name="s_lead"' in edit_page.text
    form = {
        f"s_{k}": v
        for k, v in service.version(db_session, db_session.get(Document, doc_id)).sections.items()
    }
    form["s_cause"] = "規程が守られていなかったことが原因です。"
    form["base_version"] = "1"
    saved = _post(pr, edit_url, edit_url, form)
    assert saved.status_code == 302
    stale = _post(pr, edit_url, edit_url, {**form, "s_cause": "別の文", "base_version": "1"})
    assert stale.status_code == 409

    diff = pr.get(f"{detail_url}/diff?from=1&to=2")
    assert diff.status_code == 200
    assert "<ins>" in diff.text
    assert "<del>" in diff.text
    assert pr.get(f"{detail_url}/diff?from=1&to=9").status_code == 404

    comment = _post(
        pr, detail_url, f"{detail_url}/comments", {"section": "cause", "body": "確認お願いします"}
    )
    assert comment.status_code == 302
    assert "確認お願いします" in pr.get(detail_url).text
    empty = _post(pr, detail_url, f"{detail_url}/comments", {"section": "", "body": ""})
    assert empty.status_code == 400

    # PR cannot approve; the draft exports watermarked.
    assert _post(pr, detail_url, f"{detail_url}/approve", {}).status_code == 403
    draft = _post(pr, detail_url, f"{detail_url}/export", {})
    assert draft.status_code == 200
    assert draft.mimetype == DOCX
    assert "_draft.docx" in draft.headers["Content-Disposition"]
    assert blocks.has_watermark(docx.Document(io.BytesIO(draft.data)))

    lead, _lead_user = _client_for(app, users, db_session, "lead")
    approved = _post(lead, detail_url, f"{detail_url}/approve", {})
    assert approved.status_code == 302
    again = _post(lead, detail_url, f"{detail_url}/approve", {})
    assert again.status_code == 302  # already approved: a notice, no change

    final = _post(pr, detail_url, f"{detail_url}/export", {})
    assert final.status_code == 200
    assert "_v2_final.docx" in final.headers["Content-Disposition"]
    built = docx.Document(io.BytesIO(final.data))
    assert not blocks.has_watermark(built)
    assert any("規程が守られていなかった" in p.text for p in built.paragraphs)
    exports = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.export")
    ).all()
    assert [(e.details["version"], e.details["final"]) for e in exports] == [(2, False), (2, True)]
    assert exports[-1].actor == pr_user.username


def test_self_approval_is_a_named_error(client, login_as, db_session, users, app) -> None:
    demo = _demo(db_session, users)
    login_as("lead")
    case_url = f"/console/cases/{demo.case.id}/documents"
    _english(client)
    doc_id = _document_id(_post(client, case_url, case_url, {"kind": "ppc_report", "lang": "ja"}))
    detail_url = f"/console/documents/{doc_id}"
    assert "another lead must approve" in client.get(detail_url).text
    refused = _post(client, detail_url, f"{detail_url}/approve", {})
    assert refused.status_code == 400
    assert "another lead must approve it" in refused.text


def test_export_refusal_names_the_section(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    user = login_as("lead")
    access = service.get_case_for_documents(db_session, user, demo.case.id)
    env = service.Environment(
        "Test City",
        "Asia/Tokyo",
        client.application.config["CSIRT"].instance_path,
        current_catalog(client.application).vocabulary,
    )
    document = service.create_document(db_session, user, access, "press_release", "ja", env)
    service.save_sections(db_session, user, document, {"overview": "Call 090-1234-5678."})
    db_session.commit()
    detail_url = f"/console/documents/{document.id}"
    _english(client)
    refused = _post(client, detail_url, f"{detail_url}/export", {})
    assert refused.status_code == 400
    assert "Overview" in refused.text
    assert "a phone number" in refused.text
    # The refusal names the matched text (issue 14), and a lead may let it pass.
    assert "090-1234-5678" in refused.text.split("Refused")[1].split("</ul>")[0]
    assert 'name="guard_override"' in refused.text
    approve = _post(client, detail_url, f"{detail_url}/approve", {})
    assert approve.status_code == 400  # the lead wrote it; and the guard would refuse too
    missing = _post(client, detail_url, f"{detail_url}/export", {"version": "7"})
    assert missing.status_code == 404


def test_create_with_a_bad_kind_shows_the_form(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    assign_to_case(db_session, login_as("pr"), demo.case.id, "pr")
    case_url = f"/console/cases/{demo.case.id}/documents"
    response = _post(client, case_url, case_url, {"kind": "memo", "lang": "fr"})
    assert response.status_code == 400
    assert db_session.scalars(select(Document)).all() == []


def test_committee_sees_only_its_kinds(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    lead = users.create(roles=["lead"]).user
    access = service.get_case_for_documents(db_session, lead, demo.case.id)
    env = service.Environment(
        "T",
        "Asia/Tokyo",
        client.application.config["CSIRT"].instance_path,
        current_catalog(client.application).vocabulary,
    )
    press = service.create_document(db_session, lead, access, "press_release", "ja", env)
    report = service.create_document(db_session, lead, access, "committee_report", "ja", env)
    db_session.commit()
    assign_to_case(db_session, login_as("committee"), demo.case.id, "committee")
    page = client.get(f"/console/cases/{demo.case.id}/documents")
    assert 'value="committee_report"' in page.text
    assert 'value="press_release"' not in page.text
    assert client.get(f"/console/documents/{press.id}").status_code == 404
    assert client.get(f"/console/documents/{report.id}").status_code == 200
    # Committee members may not export (no DOCUMENT_EXPORT).
    page = client.get(f"/console/documents/{report.id}")
    assert (
        client.post(
            f"/console/documents/{report.id}/export", data={"csrf_token": csrf_from(page.text)}
        ).status_code
        == 403
    )


def test_case_facts_form(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    login_as("lead")
    url = f"/console/cases/{demo.case.id}/documents/facts"
    page = client.get(url)
    assert page.status_code == 200
    assert "会計室" in page.text
    assert "委員長 甲" in page.text
    bad = _post(client, url, url, {"staff_age": "5", "ppc_stage": "final"})
    assert bad.status_code == 400
    ok = _post(
        client,
        url,
        url,
        {
            "public_title": "個人情報の流出について",
            "causes": "原因一\n\n原因二",
            "ppc_stage": "final",
            "first_report_at": "2015-06-24T20:00",
            "committee_name": "検証委員会",
            "committee_period_start": "2015-12-01",
            "committee_members": "委員 丙 | 大学 | 委員長",
            "committee_meetings": "2015-12-21 | 第1回",
            "recommendations": "管理 | 持出しを管理する | 総務局\n通報 | 連絡する",
            "occurrence": "2015年4月から6月までの間",
            "reporter": "堺市長",
            "contact_phone": "072-111-2222",
            "caution": "不審な電話にご注意ください。",
        },
    )
    assert ok.status_code == 302
    db_session.expire_all()
    context = db_session.get(DocumentContext, demo.case.id)
    assert context is not None
    assert context.causes == ["原因一", "原因二"]
    assert context.ppc_stage == "final"
    assert context.first_report_at is not None
    assert context.first_report_at.hour == 11
    assert context.committee is not None
    assert context.committee["members"][0]["role"] == "委員長"
    assert context.recommendations[1] == {
        "number": 2,
        "title": "通報",
        "text": "連絡する",
        "owner": "",
        "finding": "",
    }
    assert context.staff_department == ""
    assert context.committee["meetings"] == [{"day": "2015-12-21", "summary": "第1回"}]
    assert (context.occurrence, context.reporter) == ("2015年4月から6月までの間", "堺市長")
    assert context.contact == {"phone": "072-111-2222"}
    assert context.caution == "不審な電話にご注意ください。"
    assert "2015-12-21 | 第1回" in client.get(url).text
    undated = _post(client, url, url, {"ppc_stage": "final", "committee_meetings": "第1回 | 選任"})
    assert undated.status_code == 400


def test_committee_report_dated_before_the_committee_ends_is_a_form_error(
    client, login_as, db_session, users
) -> None:
    demo = _demo(db_session, users)
    login_as("lead")
    case_url = f"/console/cases/{demo.case.id}/documents"
    early = _post(
        client,
        case_url,
        case_url,
        {"kind": "committee_report", "lang": "ja", "as_of": "2016-01-31"},
    )
    assert early.status_code == 400
    assert "committee" in early.text or "委員会" in early.text
    english = _post(client, case_url, case_url, {"kind": "press_release", "lang": "en"})
    assert english.status_code == 400


def test_measures_pages(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    assign_to_case(db_session, login_as("committee"), demo.case.id, "committee")
    listing = client.get("/console/measures")
    assert listing.status_code == 200
    assert "USBメモリの使用制限" in listing.text
    new_url = f"/console/measures/new?case_id={demo.case.id}"
    assert client.get(new_url).status_code == 200
    bad = _post(client, new_url, "/console/measures/new", {"title": "", "status": "planned"})
    assert bad.status_code == 400
    created = _post(
        client,
        new_url,
        "/console/measures/new",
        {
            "title": "点検の実施",
            "owner": "監査課",
            "due": "2026-03-31",
            "status": "planned",
            "case_id": str(demo.case.id),
            "evidence": "",
        },
    )
    assert created.status_code == 302
    measure = db_session.scalars(
        select(PreventionMeasure).where(PreventionMeasure.title == "点検の実施")
    ).one()
    assert measure.case_id == demo.case.id
    edit_url = f"/console/measures/{measure.id}"
    assert client.get(edit_url).status_code == 200
    edited = _post(
        client, edit_url, edit_url, {"title": "点検の実施", "status": "done", "evidence": "報告書"}
    )
    assert edited.status_code == 302
    bad_edit = _post(client, edit_url, edit_url, {"title": "", "status": "done"})
    assert bad_edit.status_code == 400
    assert client.get("/console/measures/999999").status_code == 404
    org = _post(
        client,
        "/console/measures/new",
        "/console/measures/new",
        {"title": "全庁点検", "status": "planned", "case_id": ""},
    )
    assert org.status_code == 302
    case_page = f"/console/cases/{demo.case.id}/documents"
    adopted = _post(
        client, case_page, f"/console/cases/{demo.case.id}/documents/adopt-recommendations", {}
    )
    assert adopted.status_code == 302
    db_session.expire_all()
    numbers = db_session.scalars(
        select(PreventionMeasure.recommendation_number).where(
            PreventionMeasure.case_id == demo.case.id
        )
    ).all()
    assert sorted(n for n in numbers if n) == [1, 2]


def _template() -> bytes:
    template = docx.Document()
    template.sections[0].header.paragraphs[0].text = "ORG HEADER"
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def test_settings_and_template_upload(client, login_as, db_session, users) -> None:
    login_as("admin", totp=True)
    _english(client)
    url = "/console/documents/settings"
    page = client.get(url)
    assert page.status_code == 200
    assert "No template" in page.text
    bad = _post(client, url, url, {"name": ""})
    assert bad.status_code == 400
    ok = _post(
        client,
        url,
        url,
        {
            "name": "堺市",
            "department": "人事課",
            "phone": PUBLIC_PHONE,
            "email": "a@city.example.lg.jp",
            "public_body": "y",
            "head": "堺市長 竹山 修身",
            "date_style": "seireki",
        },
    )
    assert ok.status_code == 302
    saved = snapshot.organisation_settings(db_session, "x")
    assert (saved.head, saved.date_style) == ("堺市長 竹山 修身", "seireki")
    refused = _post(
        client, url, f"{url}/template", {"template": (io.BytesIO(b"not a docx"), "t.docx")}
    )
    assert refused.status_code == 400
    assert "refused" in refused.text
    uploaded = _post(
        client, url, f"{url}/template", {"template": (io.BytesIO(_template()), "org.docx")}
    )
    assert uploaded.status_code == 302
    instance = client.application.config["CSIRT"].instance_path
    assert service.load_template(instance) == _template() or service.load_template(instance)
    assert "A template is in use" in client.get(url).text
    missing = _post(client, url, f"{url}/template", {})
    assert missing.status_code == 400
    removed = _post(client, url, f"{url}/template/delete", {})
    assert removed.status_code == 302
    assert service.load_template(instance) is None
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert {"document.template_upload", "document.template_delete", "settings.change"} <= actions


def test_pr_cannot_manage_settings(client, login_as) -> None:
    login_as("pr")
    assert client.get("/console/documents/settings").status_code == 403


def test_case_edit_form_states_the_persons_total(client, login_as, db_session, users) -> None:
    demo = _demo(db_session, users)
    login_as("lead")
    url = f"/console/cases/{demo.case.id}/edit"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="persons_total"' in page.text
    fields = {"title": demo.case.title, "tlp": "amber", "persons_total_note": "重複を除く"}
    negative = _post(client, url, url, {**fields, "persons_total": "-5"})
    assert negative.status_code == 400
    saved = _post(client, url, url, {**fields, "persons_total": "680000"})
    assert saved.status_code == 302
    db_session.expire_all()
    case = db_session.get(Case, demo.case.id)
    assert case is not None
    assert (case.persons_total, case.persons_total_note) == (680_000, "重複を除く")
    cleared = _post(client, url, url, {**fields, "persons_total": ""})
    assert cleared.status_code == 302
    db_session.expire_all()
    assert db_session.get(Case, demo.case.id).persons_total is None
