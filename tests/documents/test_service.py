"""The document workflow against the database: facts snapshot, each kind through the export path
(read back with python-docx), the public-text guard, versions and diff, approval, measures,
the organisation template and the closing check."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth.models import User
from csirt.cases.closing import closing_checks, register_checklist_resolver
from csirt.cases.errors import CaseNotFoundError
from csirt.cases.models import AffectedDataset, CaseMember, TimelineEvent
from csirt.documents import approval, blocks, service
from csirt.documents.builders import (
    KINDS,
    SECTIONS,
    committee_report,
    individual_notice,
    ppc_report,
    press_release,
    prevention_progress,
)
from csirt.documents.guard import FindingKind, PublicTextRefusedError
from csirt.documents.models import Document, DocumentStatus, PreventionMeasure
from csirt.triage.models import Obligation
from tests.documents.conftest import (
    INTERNAL_ACTOR,
    PUBLIC_EMAIL,
    PUBLIC_PHONE,
    DemoCase,
    full_access,
    make_demo_case,
)
from tests.documents.helpers import body_text, header, headings, rows, title
from tests.factories import UserFactory

TOTAL_JA = "約68万人"  # the sum of the three data sets, 681,011 (no persons_total set)


def _reopen(data: bytes) -> DxDoc:
    return docx.Document(io.BytesIO(data))


DxDoc = DxDocument = DocxDocument


def _table_with_header(document: DxDoc, first: str) -> Table:
    return next(t for t in document.tables if first in header(t)[:2])


def _create(
    session: Session,
    user: User,
    demo: DemoCase,
    kind: str,
    env: service.Environment,
    lang: str = "ja",
) -> Document:
    return service.create_document(session, user, full_access(demo), kind, lang, env)


def _approved(
    session: Session, demo: DemoCase, kind: str, env: service.Environment, approver: User
) -> Document:
    document = _create(session, demo.lead, demo, kind, env)
    approval.approve(session, approver, document, env)
    return document


# --- the facts snapshot -------------------------------------------------------------------------


def test_snapshot_takes_public_events_only(db_session: Session, demo: DemoCase, env) -> None:
    facts = service.facts_for(db_session, demo.case, "ja", env)
    assert len(facts.events) == demo.public_events
    assert [e.title for e in facts.timeline] == [e.title for e in demo.facts_demo.timeline]
    assert all("内部メモ" not in e.title for e in facts.events)
    assert facts.organisation.contact.phone == PUBLIC_PHONE
    assert facts.staff is not None
    assert facts.staff.post == "課長補佐級"
    assert facts.days_to_first_contact == 92
    assert facts.committee is not None
    assert len(facts.committee.members) == 2
    assert [r.number for r in facts.recommendations] == [1, 2]


def test_snapshot_labels_data_items_from_the_vocabulary(
    db_session: Session, demo: DemoCase, env
) -> None:
    facts = service.facts_for(db_session, demo.case, "en", env)
    assert [i.label_ja for i in facts.data_sets[0].items] == ["氏名", "性別", "生年月日", "住所"]
    assert facts.data_sets[0].items[0].label_en.lower().startswith("name")
    assert facts.total_persons == 681_011
    assert facts.data_sets[0].exposure.startswith("Readable on the internet (1 April 2015")
    # The case's measure and the organisation-wide one.
    assert {m.title for m in facts.measures} == {"USBメモリの使用制限", "全職員への研修"}


def test_snapshot_reads_triage_obligations(db_session: Session, demo: DemoCase, env) -> None:
    due = datetime(2015, 6, 27, tzinfo=UTC)
    db_session.add(
        Obligation(
            case_id=demo.case.id,
            regime="appi",
            kind="ppc_preliminary",
            due_at=due,
            done_at=due + timedelta(days=80),
            status="done",
        )
    )
    db_session.add(
        Obligation(
            case_id=demo.case.id,
            regime="appi",
            kind="special",
            article="第1条",
            due_at=due,
            status="pending",
        )
    )
    db_session.add(
        Obligation(
            case_id=demo.case.id, regime="gdpr", kind="dpa", due_at=due, status="not_applicable"
        )
    )
    db_session.flush()
    facts = service.facts_for(db_session, demo.case, "ja", env)
    assert facts.triage is not None
    assert [o.kind for o in facts.triage.obligations] == ["ppc_preliminary", "special"]
    assert facts.triage.obligations[0].label == ""
    assert facts.triage.obligations[1].label == "第1条"


def test_snapshot_defaults_without_context(db_session: Session, lead: User, env) -> None:
    from csirt.cases.creation import create_case

    case = create_case(db_session, title="Lost laptop", actor=lead, summary="A laptop was lost.")
    facts = service.facts_for(db_session, case, "en", env, today=date(2025, 1, 2))
    # Never the internal title or summary: a neutral title until a public one is written.
    assert facts.title == "An incident involving personal data"
    assert facts.summary == ""
    assert facts.committee is None
    assert facts.staff is None
    assert facts.organisation.name == "Test City"
    assert facts.document_date == date(2025, 1, 2)
    assert facts.events == ()
    assert facts.data_sets == ()


# --- each kind from the database, through the export path ---------------------------------------


def _export_final(db_session: Session, demo: DemoCase, kind: str, env, approver: User) -> DxDoc:
    document = _approved(db_session, demo, kind, env, approver)
    result = service.export_document(db_session, approver, document, env)
    assert result.final
    assert result.filename == f"{demo.case.reference}_{kind}_ja_v1_final.docx"
    built = _reopen(result.data)
    assert not blocks.has_watermark(built)
    return built


def _timeline_rows_match(document: DxDoc, demo: DemoCase) -> None:
    timeline = _table_with_header(document, "日時")
    found = rows(timeline)
    assert len(found) == demo.public_events
    assert found[0][0] == "2015年4月"  # known to the month only
    assert all("内部メモ" not in cell for row in found for cell in row)


def _data_rows_match(document: DxDoc, *, total: bool = True) -> None:
    data = _table_with_header(document, "情報の名称")
    found = rows(data)
    assert len(found) == 3 + total  # three data sets and the total (a letter has none)
    assert found[0][2] == "氏名、性別、生年月日、住所"
    assert found[0][3] == "約68万人"
    assert found[2][3] == "11人"
    if total:
        assert found[-1][-1] == TOTAL_JA


def test_press_release_from_the_database(db_session, demo, env, lead_b) -> None:
    document = _export_final(db_session, demo, "press_release", env, lead_b)
    facts = service.facts_for(db_session, demo.case, "ja", env)
    assert [h.split("　", 1)[1] for h in headings(document)] == press_release.headings(facts, "ja")
    assert title(document) == "職員の不祥事案の発生について"
    _timeline_rows_match(document, demo)
    _data_rows_match(document)
    text = body_text(document)
    assert "会計室 課長補佐級職員（59歳）" in text
    assert PUBLIC_PHONE in text


def test_committee_report_from_the_database(db_session, demo, env, lead_b) -> None:
    document = _export_final(db_session, demo, "committee_report", env, lead_b)
    found = [h.split("　", 1)[-1] for h in headings(document)]
    expected = committee_report.headings("ja")
    assert [h for h in found if h in expected] == expected
    _timeline_rows_match(document, demo)
    _data_rows_match(document)
    members = _table_with_header(document, "役職")
    assert [r[1] for r in rows(members)] == ["委員長 甲", "委員 乙"]
    evaluation = _table_with_header(document, "項目")
    assert rows(evaluation)[0] == [
        "通報から通報者への最初の連絡",
        "2015年6月24日",
        "2015年9月24日",
        "92日",
    ]
    measures = _table_with_header(document, "再発防止策")
    assert len(rows(measures)) == 2
    assert "提言1　持出し管理" in [p.text for p in document.paragraphs]


def test_ppc_report_from_the_database(db_session, demo, env, lead_b) -> None:
    document = _export_final(db_session, demo, "ppc_report", env, lead_b)
    facts = service.facts_for(db_session, demo.case, "ja", env)
    assert [h.split("　", 1)[1] for h in headings(document)] == ppc_report.item_headings(
        facts, "ja"
    )
    assert "速報" in title(document)
    _data_rows_match(document)
    assert demo.case.reference in body_text(document)


def test_individual_notice_from_the_database(db_session, demo, env, lead_b) -> None:
    document = _export_final(db_session, demo, "individual_notice", env, lead_b)
    assert [h.split("　", 1)[1] for h in headings(document)] == individual_notice.headings("ja")
    _data_rows_match(document, total=False)


def test_prevention_progress_from_the_database(db_session, demo, env, lead_b) -> None:
    document = _export_final(db_session, demo, "prevention_progress", env, lead_b)
    assert [h.split("　", 1)[1] for h in headings(document)] == prevention_progress.headings("ja")
    measures = _table_with_header(document, "再発防止策")
    found = rows(measures)
    assert [r[1] for r in found] == ["USBメモリの使用制限", "全職員への研修"]
    assert found[0][5] == "全庁で設定済み"
    counts = _table_with_header(document, "状況")
    assert rows(counts)[-1][-1] == "2"


def test_english_refused_while_the_facts_are_japanese(db_session, demo, env) -> None:
    with pytest.raises(service.DocumentValidationError) as refused:
        _create(db_session, demo.lead, demo, "press_release", env, lang="en")
    assert "Japanese only" in refused.value.errors["lang"]
    assert "public_title" in refused.value.errors["lang"]


def test_english_export_and_draft_watermark(db_session, demo, env) -> None:
    english = {
        "public_title": "Misconduct by a city employee",
        "public_summary": "Personal data was readable on the internet.",
        "causes": ["Data could be taken out without approval."],
        "findings": [],
        "recommendations": [],
        "committee": None,
    }
    service.save_context(db_session, demo.lead, demo.case, english)
    for event in db_session.scalars(
        select(TimelineEvent).where(TimelineEvent.case_id == demo.case.id)
    ):
        event.visibility = "internal"
    for data_set in db_session.scalars(
        select(AffectedDataset).where(AffectedDataset.case_id == demo.case.id)
    ):
        data_set.name = "Electoral roll"
    for measure in db_session.scalars(select(PreventionMeasure)):
        measure.title = "Training"
    db_session.flush()
    document = _create(db_session, demo.lead, demo, "press_release", env, lang="en")
    result = service.export_document(db_session, demo.lead, document, env)
    assert not result.final
    assert result.filename.endswith("_press_release_en_v1_draft.docx")
    built = _reopen(result.data)
    assert blocks.has_watermark(built)
    assert title(built).startswith("DRAFT")
    assert headings(built)[0] == "1　Overview"


def test_export_uses_the_edited_sections(db_session, demo, env, lead_b) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    service.save_sections(db_session, lead_b, document, {"cause": "規程違反が原因です。"})
    result = service.export_document(db_session, demo.lead, document, env)
    assert "規程違反が原因です。" in body_text(_reopen(result.data))


def test_every_export_is_audited(db_session, demo, env, lead_b) -> None:
    document = _approved(db_session, demo, "press_release", env, lead_b)
    service.export_document(db_session, lead_b, document, env)
    service.save_sections(db_session, demo.lead, document, {"lead": "改訂"})
    service.export_document(db_session, lead_b, document, env)
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "document.export").order_by(AuditEvent.seq)
    ).all()
    assert [(e.details["kind"], e.details["version"], e.details["final"]) for e in events] == [
        ("press_release", 1, True),
        ("press_release", 2, False),
    ]
    assert all(e.case_id == demo.case.id and e.actor == "lead-b" for e in events)


# --- the public-text guard at export ------------------------------------------------------------

FORBIDDEN = {
    FindingKind.PHONE: "連絡先は090-1234-5678です。",
    FindingKind.EMAIL: "tipster@example.com へ返信",
    FindingKind.MY_NUMBER: "個人番号 1234 5678 9018",
    FindingKind.RECEIPT: "受付番号 7K3M-9QXA-2B4C-HW8N-5TZR",
}


def _my_number() -> str:
    from csirt.documents.guard import is_my_number

    body = "12345678901"
    for check in range(10):
        if is_my_number(body + str(check)):
            return f"個人番号 {body[:4]} {body[4:8]} {body[8:]}{check}"
    raise AssertionError("no check digit")  # pragma: no cover


FORBIDDEN[FindingKind.MY_NUMBER] = _my_number()


@pytest.mark.parametrize("kind", list(FORBIDDEN))
def test_guard_refuses_pattern_in_every_section(db_session, demo, env, kind) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    clean = dict(service.version(db_session, document).sections)
    for section in SECTIONS["press_release"]:
        service.save_sections(
            db_session, demo.lead, document, {section: "本文。" + FORBIDDEN[kind]}
        )
        with pytest.raises(PublicTextRefusedError) as refused:
            service.export_document(db_session, demo.lead, document, env)
        assert {(f.section, f.kind) for f in refused.value.findings} == {(section, kind)}
        assert service.describe_findings(refused.value.findings) == {section: kind.value}
        service.save_sections(db_session, demo.lead, document, {section: clean[section]})
    refusals = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "document.export_refused")
        .order_by(AuditEvent.seq)
    ).all()
    assert [e.details["found"] for e in refusals] == [
        [f"{section}:{kind.value}"] for section in SECTIONS["press_release"]
    ]
    assert "090" not in str([e.details for e in refusals])
    assert service.export_document(db_session, demo.lead, document, env).data


@pytest.mark.parametrize(
    "term",
    ["lead-a", "Hanako Member", "member@internal.example", INTERNAL_ACTOR, "involved-user"],
)
def test_guard_refuses_internal_names_in_every_section(
    db_session, demo, env, users: UserFactory, term
) -> None:
    member = users.create(roles=["responder"], username="member-x").user
    member.display_name = "Hanako Member"
    member.email = "member@internal.example"
    db_session.add(CaseMember(case_id=demo.case.id, user_id=member.id))
    users.create(roles=["responder"], username="involved-user")
    demo.case.involved = [*demo.case.involved, "involved-user"]
    db_session.flush()
    document = _create(db_session, demo.lead, demo, "committee_report", env)
    clean = dict(service.version(db_session, document).sections)
    for section in SECTIONS["committee_report"]:
        service.save_sections(db_session, demo.lead, document, {section: f"担当は {term} である。"})
        with pytest.raises(PublicTextRefusedError) as refused:
            service.export_document(db_session, demo.lead, document, env)
        assert {(f.section, f.kind) for f in refused.value.findings} == {
            (section, FindingKind.SEALED_DATA)
        }
        assert term not in str(refused.value)
        service.save_sections(db_session, demo.lead, document, {section: clean[section]})


def test_guard_checks_public_facts_too(db_session, demo, env) -> None:
    db_session.add(
        TimelineEvent(
            case_id=demo.case.id,
            occurred_at=datetime(2015, 9, 1, tzinfo=UTC),
            title=f"{INTERNAL_ACTOR}が説明",
            visibility="public",
        )
    )
    db_session.flush()
    document = _create(db_session, demo.lead, demo, "press_release", env)
    with pytest.raises(PublicTextRefusedError) as refused:
        service.export_document(db_session, demo.lead, document, env)
    assert {f.section for f in refused.value.findings} >= {"facts.timeline"}


def test_guard_allows_the_public_contact_and_departments(db_session, demo, env) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    service.save_sections(
        db_session,
        demo.lead,
        document,
        {"contact": f"北区選挙管理委員会事務局 {PUBLIC_PHONE} {PUBLIC_EMAIL}"},
    )
    result = service.export_document(db_session, demo.lead, document, env)
    assert PUBLIC_EMAIL in body_text(_reopen(result.data))


def test_approval_is_refused_by_the_guard(db_session, demo, env, lead_b) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    service.save_sections(db_session, demo.lead, document, {"lead": FORBIDDEN[FindingKind.EMAIL]})
    with pytest.raises(PublicTextRefusedError):
        approval.approve(db_session, lead_b, document, env)
    assert document.approved_version is None


# --- versions, diff, approval -------------------------------------------------------------------


def test_every_save_is_a_version_and_unchanged_text_saves_nothing(db_session, demo, env) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    first = service.version(db_session, document)
    assert tuple(first.sections) == SECTIONS["press_release"]
    assert (
        service.save_sections(db_session, demo.lead, document, {"lead": first.sections["lead"]})
        is None
    )
    saved = service.save_sections(
        db_session, demo.lead, document, {"lead": "新しい文\r\n二行目"}, note="n"
    )
    assert saved is not None
    assert saved.number == 2
    assert document.current_version == 2
    assert saved.sections["lead"] == "新しい文\n二行目"
    assert saved.sections["overview"] == first.sections["overview"]


def test_section_validation_names_each_bad_field(db_session, demo, env) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    with pytest.raises(service.DocumentValidationError) as bad:
        service.save_sections(
            db_session,
            demo.lead,
            document,
            {"nope": "x", "lead": 3, "cause": "x" * (service.MAX_SECTION_CHARS + 1)},
        )
    assert set(bad.value.errors) == {"sections.nope", "sections.lead", "sections.cause"}
    assert document.current_version == 1


def test_stale_base_version_is_refused(db_session, demo, env) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    service.save_sections(db_session, demo.lead, document, {"lead": "A"}, base_version=1)
    with pytest.raises(service.StaleVersionError):
        service.save_sections(db_session, demo.lead, document, {"lead": "B"}, base_version=1)


def test_diff_marks_changed_characters_and_lines() -> None:
    old = {"lead": "一行目\n二行目です\n三行目", "cause": "同じ"}
    new = {"lead": "一行目\n二行目でした\n追加行", "cause": "同じ"}
    diff = service.diff_versions(old, new, ("lead", "cause"))
    assert [d.key for d in diff] == ["lead"]
    tags = [r.tag for r in diff[0].rows]
    assert tags[0] == "equal"
    replaced = diff[0].rows[1]
    assert replaced.tag == "replace"
    assert [s.text for s in replaced.old if s.changed] == ["す"]
    assert [s.text for s in replaced.new if s.changed] == ["した"]
    only_old = service.diff_versions({"a": "x\ny"}, {"a": ""}, ("a",))[0].rows
    assert [r.tag for r in only_old] == ["delete", "delete"]
    only_new = service.diff_versions({"a": ""}, {"a": "x"}, ("a",))[0].rows
    assert [r.tag for r in only_new] == ["insert"]
    uneven = service.diff_versions({"a": "p\nq"}, {"a": "r\ns\nt"}, ("a",))[0].rows
    assert [r.tag for r in uneven] == ["replace", "replace", "insert"]
    shrink = service.diff_versions({"a": "p\nq\nr"}, {"a": "s"}, ("a",))[0].rows
    assert [r.tag for r in shrink] == ["replace", "delete", "delete"]


def test_diff_document_between_versions(db_session, demo, env) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    service.save_sections(db_session, demo.lead, document, {"cause": "原因は調査中です。"})
    diff = service.diff_document(db_session, document, 1, 2)
    assert [d.key for d in diff] == ["cause"]
    with pytest.raises(service.DocumentValidationError):
        service.diff_document(db_session, document, 1, 9)


def test_the_last_editor_may_not_approve(db_session, demo, env, lead_b) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    with pytest.raises(service.SelfApprovalError):
        approval.approve(db_session, demo.lead, document, env)
    service.save_sections(db_session, lead_b, document, {"lead": "B wrote this"})
    with pytest.raises(service.SelfApprovalError):
        approval.approve(db_session, lead_b, document, env)
    approval.approve(db_session, demo.lead, document, env)
    assert document.status is DocumentStatus.APPROVED
    assert document.approved_version == 2
    with pytest.raises(service.AlreadyApprovedError):
        approval.approve(db_session, lead_b, document, env)


def test_approval_needs_the_permission(db_session, demo, env, users) -> None:
    responder = users.create(roles=["responder"]).user
    document = _create(db_session, demo.lead, demo, "press_release", env)
    with pytest.raises(service.KindNotAllowedError):
        approval.approve(db_session, responder, document, env)


def test_only_the_approved_version_exports_final(db_session, demo, env, lead_b) -> None:
    document = _approved(db_session, demo, "press_release", env, lead_b)
    service.save_sections(db_session, demo.lead, document, {"lead": "改訂版"})
    assert document.status is DocumentStatus.DRAFT
    newest = service.export_document(db_session, lead_b, document, env)
    assert not newest.final
    assert newest.version == 2
    assert blocks.has_watermark(_reopen(newest.data))
    approved = service.export_document(db_session, lead_b, document, env, number=1)
    assert approved.final
    assert approved.version == 1
    assert not blocks.has_watermark(_reopen(approved.data))


def test_comments(db_session, demo, env) -> None:
    document = _create(db_session, demo.lead, demo, "press_release", env)
    comment = service.add_comment(db_session, demo.lead, document, "  要確認  ", "cause")
    assert (comment.body, comment.section, comment.version) == ("要確認", "cause", 1)
    with pytest.raises(service.DocumentValidationError) as bad:
        service.add_comment(db_session, demo.lead, document, " ", "nope")
    assert set(bad.value.errors) == {"body", "section"}
    with pytest.raises(service.DocumentValidationError):
        service.add_comment(db_session, demo.lead, document, "x" * 5000)


def test_create_validates_kind_and_language(db_session, demo, env) -> None:
    with pytest.raises(service.DocumentValidationError) as bad:
        service.create_document(db_session, demo.lead, full_access(demo), "memo", "fr", env)
    assert set(bad.value.errors) == {"kind", "lang"}
    limited = service.CaseAccess(demo.case, False, service.COMMITTEE_KINDS)
    with pytest.raises(service.KindNotAllowedError):
        service.create_document(db_session, demo.lead, limited, "press_release", "ja", env)


# --- who may reach a case's documents -----------------------------------------------------------


def test_access_for_roles(db_session, demo, users: UserFactory) -> None:
    pr = users.create(roles=["pr"]).user
    committee = users.create(roles=["committee"]).user
    outsider = users.create(roles=["responder"]).user
    member = users.create(roles=["responder"]).user
    auditor = users.create(roles=["auditor"]).user
    db_session.add(CaseMember(case_id=demo.case.id, user_id=member.id))
    db_session.flush()
    # PR and committee reach a case only once assigned to it (issue 14).
    with pytest.raises(CaseNotFoundError):
        service.get_case_for_documents(db_session, pr, demo.case.id)
    assert service.reachable_cases(db_session, pr) == []
    db_session.add(CaseMember(case_id=demo.case.id, user_id=pr.id, role="pr"))
    db_session.add(CaseMember(case_id=demo.case.id, user_id=committee.id, role="committee"))
    db_session.flush()
    pr_access = service.get_case_for_documents(db_session, pr, demo.case.id)
    assert not pr_access.full
    assert pr_access.kinds == frozenset(KINDS)
    committee_access = service.get_case_for_documents(db_session, committee, demo.case.id)
    assert committee_access.kinds == service.COMMITTEE_KINDS
    assert service.get_case_for_documents(db_session, member, demo.case.id).full
    assert service.get_case_for_documents(db_session, demo.lead, demo.case.id).full
    for nobody in (outsider, auditor):
        with pytest.raises(CaseNotFoundError):
            service.get_case_for_documents(db_session, nobody, demo.case.id)
    with pytest.raises(CaseNotFoundError):
        service.get_case_for_documents(db_session, pr, 10**6)
    assert service.reachable_cases(db_session, outsider) == []
    assert service.reachable_cases(db_session, auditor) == []
    assert [c.id for c in service.reachable_cases(db_session, member)] == [demo.case.id]


def test_documents_are_filtered_by_kind(db_session, demo, env, users) -> None:
    committee = users.create(roles=["committee"]).user
    db_session.add(CaseMember(case_id=demo.case.id, user_id=committee.id, role="committee"))
    press = _create(db_session, demo.lead, demo, "press_release", env)
    report = _create(db_session, demo.lead, demo, "committee_report", env)
    assert [d.id for d in service.documents_for(db_session, committee)] == [report.id]
    with pytest.raises(service.DocumentNotFoundError):
        service.get_document_for(db_session, committee, press.id)
    with pytest.raises(service.DocumentNotFoundError):
        service.get_document_for(db_session, committee, 10**6)
    outsider = users.create(roles=["responder"]).user
    with pytest.raises(service.DocumentNotFoundError):
        service.get_document_for(db_session, outsider, report.id)
    assert service.documents_for(db_session, outsider) == []


# --- organisation template ----------------------------------------------------------------------


def _template_bytes(header_text: str) -> bytes:
    template = docx.Document()
    template.sections[0].header.paragraphs[0].text = header_text
    template.add_paragraph("body text that the builders clear")
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def test_template_is_validated_stored_and_used(db_session, demo, env, lead_b) -> None:
    with pytest.raises(service.TemplateInvalidError, match="empty"):
        service.save_template(db_session, lead_b, b"", env.instance_path)
    with pytest.raises(service.TemplateInvalidError, match="docx"):
        service.save_template(db_session, lead_b, b"PK\x03\x04 not a docx", env.instance_path)
    with pytest.raises(service.TemplateInvalidError, match="larger"):
        service.save_template(
            db_session, lead_b, b"x" * (service.MAX_TEMPLATE_BYTES + 1), env.instance_path
        )
    assert service.load_template(env.instance_path) is None
    service.save_template(db_session, lead_b, _template_bytes("堺市 ORG HEADER"), env.instance_path)
    assert service.template_path(env.instance_path).is_file()
    document = _create(db_session, demo.lead, demo, "press_release", env)
    built = _reopen(service.export_document(db_session, lead_b, document, env).data)
    assert built.sections[0].header.paragraphs[0].text == "堺市 ORG HEADER"
    assert "body text that the builders clear" not in body_text(built)
    assert service.delete_template(db_session, lead_b, env.instance_path)
    assert not service.delete_template(db_session, lead_b, env.instance_path)


# --- measures -----------------------------------------------------------------------------------


def test_measure_validation_names_each_field() -> None:
    with pytest.raises(service.DocumentValidationError) as bad:
        service.validate_measure(
            {"title": "", "owner": "o" * 201, "status": "lost", "due": "31/12/2025"}
        )
    assert set(bad.value.errors) == {"title", "owner", "status", "due"}
    with pytest.raises(service.DocumentValidationError) as bad:
        service.validate_measure({"title": "t" * 301, "due": 5})
    assert set(bad.value.errors) == {"title", "due"}
    ok = service.validate_measure({"title": " 研修 ", "due": "2025-12-31", "status": "done"})
    assert (ok.title, ok.due, ok.status) == ("研修", date(2025, 12, 31), "done")
    assert service.validate_measure({"title": "x", "due": ""}).due is None


def test_measures_save_list_and_adopt(db_session, demo, users, lead_b) -> None:
    values = service.validate_measure({"title": "点検", "owner": "課", "due": date(2026, 3, 31)})
    measure = service.save_measure(db_session, lead_b, values, case=demo.case)
    assert measure.case_id == demo.case.id
    service.save_measure(
        db_session,
        lead_b,
        service.validate_measure({"title": "点検済", "status": "done"}),
        measure=measure,
    )
    assert measure.status == "done"
    assert measure.title == "点検済"
    created = service.adopt_recommendations(db_session, lead_b, demo.case)
    assert [(m.recommendation_number, m.title, m.owner) for m in created] == [
        (1, "持出し管理", "総務局"),
        (2, "通報対応", "市政情報課"),
    ]
    assert service.adopt_recommendations(db_session, lead_b, demo.case) == []
    outsider = users.create(roles=["responder"]).user
    titles = [m.title for m in service.measures_for(db_session, outsider)]
    assert titles == ["全職員への研修"]
    with pytest.raises(service.DocumentNotFoundError):
        service.get_measure_for(db_session, outsider, measure.id)
    with pytest.raises(service.DocumentNotFoundError):
        service.get_measure_for(db_session, outsider, 10**6)
    assert service.get_measure_for(db_session, lead_b, measure.id) is measure
    assert len(service.measures_for(db_session, lead_b)) >= 5
    assert db_session.scalars(select(PreventionMeasure)).all()


# --- context and closing ------------------------------------------------------------------------


def test_save_context_refuses_unknown_fields(db_session, demo) -> None:
    with pytest.raises(service.DocumentValidationError):
        service.save_context(db_session, demo.lead, demo.case, {"case_id": 5})


def test_closing_check_lists_unapproved_documents(db_session, demo, env, lead_b) -> None:
    # The app fixture built the app, and csirt.wiring registered the check.
    assert service.unapproved_documents_check in closing_checks()
    assert service.unapproved_documents_check(db_session, demo.case) == []
    document = _create(db_session, demo.lead, demo, "press_release", env)
    missing = service.unapproved_documents_check(db_session, demo.case)
    assert [m.key for m in missing] == [f"document:{document.id}"]
    assert "報道提供資料" in missing[0].text("ja")
    assert "press release" in missing[0].text("en")
    assert service.document_checklist_resolver(db_session, demo.case, "press_release") is False
    approval.approve(db_session, lead_b, document, env)
    assert service.unapproved_documents_check(db_session, demo.case) == []
    assert service.document_checklist_resolver(db_session, demo.case, "press_release") is True
    assert service.document_checklist_resolver(db_session, demo.case, "memo") is None
    register_checklist_resolver("document", service.document_checklist_resolver)


def test_bigger_case_builds(db_session, users: UserFactory, env, tmp_path: Path) -> None:
    creator = users.create(roles=["lead"]).user
    approver = users.create(roles=["lead"]).user
    big = make_demo_case(db_session, creator, extra_events=200)
    document = service.create_document(
        db_session, creator, full_access(big), "committee_report", "ja", env
    )
    approval.approve(db_session, approver, document, env)
    built = _reopen(service.export_document(db_session, approver, document, env).data)
    assert len(rows(_table_with_header(built, "日時"))) == big.public_events


def test_documents_for_is_one_query(db_session, demo, env, users) -> None:
    """The access rule is in the SQL: one SELECT however many cases and documents there are."""
    from sqlalchemy import event

    pr = users.create(roles=["pr"]).user
    db_session.add(CaseMember(case_id=demo.case.id, user_id=pr.id, role="pr"))
    created = [_create(db_session, demo.lead, demo, "press_release", env) for _ in range(3)]
    db_session.flush()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        found = service.documents_for(db_session, pr)
        lead_found = service.documents_for(db_session, demo.lead)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert {d.id for d in found} == {d.id for d in created}
    assert {d.id for d in lead_found} >= {d.id for d in created}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
