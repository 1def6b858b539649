"""Record services: data sets tell triage, custody, takedowns, notes, per-day inquiry counts."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases.creation import create_case
from csirt.cases.models import AffectedDataset, CustodyEntry, Evidence
from csirt.cases.signals import facts_changed
from csirt.catalog import load_catalog
from csirt.records import service
from csirt.records import validation as v
from csirt.records.storage import FileEvidenceStore
from csirt.yamlfile import playbooks_dir
from tests.factories import UserFactory

SHIPPED_VOCABULARY = load_catalog(playbooks_dir()).vocabulary

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def actor(users: UserFactory) -> Any:
    return users.create(roles=["responder"]).user


@pytest.fixture
def a_case(db_session: Session, actor: Any) -> Any:
    return create_case(db_session, title="Leak", actor=actor)


def dataset(**overrides: Any) -> v.DatasetInput:
    payload = {"name": "選挙人名簿 北区", "items": ["name", "address"], "persons": 1000}
    payload |= {"exposure": "public_internet", **overrides}
    return v.read_dataset(payload, SHIPPED_VOCABULARY, TOKYO)


def audit_actions(session: Session, case_id: int) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    return list(session.scalars(query))


def test_dataset_changes_are_audited_and_tell_triage(db_session: Session, a_case, actor):
    heard: list[tuple[Any, dict[str, Any]]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        # Triage reads the data sets from the same session: they must be visible already.
        count = kwargs["session"].scalar(
            select(func.count())
            .select_from(AffectedDataset)
            .where(AffectedDataset.case_id == sender.id)
        )
        heard.append((sender, {**kwargs, "count": count}))

    with facts_changed.connected_to(listener):
        row = service.add_dataset(db_session, a_case, actor, dataset())
        service.update_dataset(db_session, a_case, actor, row.id, dataset(persons=5))
        service.delete_dataset(db_session, a_case, actor, row.id, "重複")
    assert [h[1]["reason"] for h in heard] == ["datasets"] * 3
    assert all(h[0] is a_case and h[1]["actor"] is actor for h in heard)
    assert [h[1]["count"] for h in heard] == [1, 1, 0]
    assert [a for a in audit_actions(db_session, a_case.id) if a.startswith("dataset.")] == [
        "dataset.create",
        "dataset.update",
        "dataset.delete",
    ]
    with pytest.raises(service.RecordNotFoundError):
        service.update_dataset(db_session, a_case, actor, row.id, dataset())


def test_totals(db_session: Session, a_case, actor):
    service.add_dataset(db_session, a_case, actor, dataset(items=["name", "medical_history"]))
    service.add_dataset(
        db_session,
        a_case,
        actor,
        dataset(items=["address", "name"], persons=20, persons_estimated=True),
    )
    rows = service.list_datasets(db_session, a_case)
    totals = service.dataset_totals(rows, SHIPPED_VOCABULARY.sensitive_keys())
    assert totals.datasets == 2
    assert totals.persons == 1020
    assert totals.any_estimated
    assert totals.items == ("name", "medical_history", "address")
    assert totals.sensitive_items == ("medical_history",)


def test_records_of_another_case_are_not_found(db_session: Session, a_case, actor):
    other = create_case(db_session, title="Other", actor=actor)
    row = service.add_dataset(db_session, other, actor, dataset())
    with pytest.raises(service.RecordNotFoundError):
        service.get_record(db_session, AffectedDataset, a_case, row.id)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"%PDF-1.7", "application/pdf"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html>", "text/html"),
        (b"<HTML><body>", "text/html"),
        (b"MZ\x90\x00", "application/octet-stream"),
    ],
)
def test_content_type_comes_from_the_bytes(head: bytes, expected: str):
    assert service.sniff_content_type(head) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\名簿.xlsx", "名簿.xlsx"),
        ("..hidden\x00\x07", "hidden"),
        (None, ""),
    ],
)
def test_client_filenames_are_display_names_only(name, expected):
    assert service.clean_filename(name) == expected


def test_evidence_and_custody(db_session: Session, a_case, actor, tmp_path):
    store = FileEvidenceStore(tmp_path / "ev")
    data = v.read_evidence(
        {
            "kind": "web_capture",
            "url": "https://bbs.example/t/1",
            "captured_at": "2015-05-01T12:00",
        },
        TOKYO,
        has_file=True,
    )
    row, blob = service.add_evidence(
        db_session, store, a_case, actor, data, io.BytesIO(b"<html>leak</html>"), "../../etc/passwd"
    )
    assert blob.created
    assert store.path(row.storage_key).read_bytes() == b"<html>leak</html>"
    assert row.filename == "passwd"
    assert row.title == "passwd"
    assert row.content_type == "text/html"
    assert row.size == 17
    assert row.captured_at == datetime(2015, 5, 1, 3, 0, tzinfo=UTC)
    service.add_custody(
        db_session, a_case, actor, row.id, v.CustodyInput("transferred", "to the police")
    )
    service.open_for_download(db_session, a_case, actor, row.id)
    chain = service.custody_of(db_session, row)
    assert [e.action for e, _u in chain] == ["collected", "transferred", "downloaded"]
    assert all(u is not None and u.id == actor.id for _e, u in chain)
    assert audit_actions(db_session, a_case.id)[-3:] == [
        "evidence.add",
        "evidence.custody",
        "evidence.download",
    ]


def test_capture_must_be_html_png_jpeg_or_pdf_and_files_not_empty(
    db_session: Session, a_case, actor, tmp_path
):
    store = FileEvidenceStore(tmp_path / "ev")
    capture = v.EvidenceInput("web_capture", "", "", "https://x.example", datetime.now(UTC))
    with pytest.raises(v.RecordValidationError) as caught:
        service.add_evidence(db_session, store, a_case, actor, capture, io.BytesIO(b"MZ"), "a.exe")
    assert caught.value.errors == {"file": "a capture must be HTML, PNG, JPEG or PDF"}
    plain = v.EvidenceInput("file", "", "", None, None)
    with pytest.raises(v.RecordValidationError):
        service.add_evidence(db_session, store, a_case, actor, plain, io.BytesIO(b""), "e.txt")
    assert not (tmp_path / "ev").exists() or not any((tmp_path / "ev").rglob("*/*"))


def test_a_failed_row_removes_the_new_file(db_session: Session, a_case, actor, tmp_path):
    store = FileEvidenceStore(tmp_path / "ev")
    data = v.EvidenceInput("file", "x" * 300, "", None, None)  # too long for the column on PG
    a_case.id  # noqa: B018 - loaded before the failure
    bad_case = type("C", (), {"id": 10**9})()  # a case id that violates the foreign key
    with pytest.raises(Exception):  # noqa: B017,PT011 - the backend's integrity error
        service.add_evidence(db_session, store, bad_case, actor, data, io.BytesIO(b"bytes"), "f")
    assert not any((tmp_path / "ev").rglob("*/*"))
    assert db_session.scalar(select(func.count()).select_from(Evidence)) is not None


def test_discard_keeps_a_blob_another_row_uses(db_session: Session, a_case, actor, tmp_path):
    store = FileEvidenceStore(tmp_path / "ev")
    plain = v.EvidenceInput("file", "", "", None, None)
    row, blob = service.add_evidence(
        db_session, store, a_case, actor, plain, io.BytesIO(b"same"), "a.txt"
    )
    db_session.commit()
    service.discard_blob(db_session, store, blob)  # created, but the row was committed
    assert store.path(row.storage_key).exists()
    _row2, blob2 = service.add_evidence(
        db_session, store, a_case, actor, plain, io.BytesIO(b"same"), "b.txt"
    )
    assert not blob2.created
    service.discard_blob(db_session, store, blob2)
    assert store.path(row.storage_key).exists()
    assert db_session.scalar(select(func.count()).select_from(CustodyEntry)) >= 1


def test_takedowns(db_session: Session, a_case, actor, tmp_path):
    row = service.add_takedown(
        db_session,
        a_case,
        actor,
        v.read_takedown({"recipient": "Google", "url": "https://x.example"}, TOKYO),
    )
    assert row.status == "requested"
    assert row.requested_at is not None
    answered = service.answer_takedown(
        db_session, a_case, actor, row.id, v.TakedownAnswer("removed", "deleted", None)
    )
    assert answered.status == "removed"
    assert answered.answered_at is not None
    with pytest.raises(v.RecordValidationError):
        service.answer_takedown(
            db_session,
            a_case,
            actor,
            row.id,
            v.TakedownAnswer("refused", "", datetime(2000, 1, 1, tzinfo=UTC)),
        )
    with pytest.raises(v.RecordValidationError) as caught:
        service.add_takedown(
            db_session,
            a_case,
            actor,
            v.read_takedown(
                {"recipient": "G", "url": "https://x.example", "evidence_id": 10**6}, TOKYO
            ),
        )
    assert caught.value.errors == {"evidence_id": "no such evidence in this case"}
    assert [t.id for t in service.list_takedowns(db_session, a_case)] == [row.id]


def test_only_authors_edit_notes(db_session: Session, a_case, actor, users: UserFactory):
    note = service.add_note(db_session, a_case, actor, "first")
    assert service.edit_note(db_session, a_case, actor, note.id, "second").body == "second"
    stranger = users.create(roles=["responder"]).user
    with pytest.raises(service.NotAuthorError):
        service.edit_note(db_session, a_case, stranger, note.id, "mine now")
    assert service.list_notes(db_session, a_case)[0].body == "second"


def test_liaison_is_listed_by_contact_time(db_session: Session, a_case, actor):
    early = v.read_liaison(
        {"party_kind": "police", "party": "府警", "contact_at": "2015-05-01T10:00"}, TOKYO
    )
    late = v.read_liaison(
        {
            "party_kind": "regulator",
            "party": "個人情報保護委員会",
            "contact_at": "2015-06-01T10:00",
        },
        TOKYO,
    )
    service.add_liaison(db_session, a_case, actor, early)
    service.add_liaison(db_session, a_case, actor, late)
    assert [r.party_kind for r in service.list_liaison(db_session, a_case)] == [
        "regulator",
        "police",
    ]


def test_inquiry_counts_per_day(db_session: Session, a_case, actor):
    other = create_case(db_session, title="Other", actor=actor)
    days = {date(2015, 6, 30): 5, date(2015, 7, 1): 3, date(2015, 7, 3): 1}
    made = []
    for day, n in days.items():
        for i in range(n):
            made.append(
                service.add_inquiry(
                    db_session, a_case, actor, v.InquiryInput("phone", day, f"t{i}", i == 0)
                )
            )
    service.add_inquiry(
        db_session, other, actor, v.InquiryInput("email", date(2015, 6, 30), "", False)
    )
    counts = service.inquiry_counts(db_session, a_case)
    assert [(c.day, c.total, c.answered) for c in counts] == [
        (date(2015, 6, 30), 5, 1),
        (date(2015, 7, 1), 3, 1),
        (date(2015, 7, 3), 1, 1),
    ]
    service.mark_answered(db_session, a_case, actor, made[1].id)
    service.mark_answered(db_session, a_case, actor, made[1].id)  # idempotent
    assert service.inquiry_counts(db_session, a_case)[0].answered == 2
    filled = service.fill_days(counts)
    assert [c.day.day for c in filled] == [30, 1, 2, 3]
    assert filled[2].total == 0
    chart = service.inquiry_chart(counts, max_width=500)
    assert [b.total_width for b in chart.bars] == [500, 300, 0, 100]
    assert chart.peak == 5
    assert chart.height == 4 * 22
    assert service.inquiry_chart([]).bars == []
    far = [service.DayCount(date(2000, 1, 1), 1, 0), service.DayCount(date(2015, 1, 1), 2, 2)]
    assert len(service.fill_days(far)) == 2
    rows, cursor = service.page_of(db_session, service.Inquiry, a_case, limit=4, cursor=None)
    assert len(rows) == 4
    assert cursor == rows[-1].id
    rest, end = service.page_of(db_session, service.Inquiry, a_case, limit=10, cursor=cursor)
    assert len(rest) == 5
    assert end is None


def test_user_names(db_session: Session, actor):
    assert service.user_names(db_session, set()) == {}
    assert service.user_names(db_session, {actor.id, None}) == {actor.id: actor.username}
