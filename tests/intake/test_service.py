"""Sealing, mailbox, officers, identity, conflicts, retention: through the real service."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt import vault
from csirt.audit.models import AuditEvent
from csirt.cases.models import AffectedDataset, Case
from csirt.catalog import load_catalog
from csirt.db import utcnow
from csirt.intake import disclosure, handling, handoff, reporter, retention
from csirt.intake.base import (
    AnswersInvalidError,
    BadReceiptError,
    IdentityError,
    IntakeBusyError,
    IntakeError,
    IntakeSettings,
    NoKeyError,
    NotVisibleError,
    Upload,
)
from csirt.intake.models import (
    IdentityKeyWrap,
    StaffKeySession,
    Submission,
    SubmissionAttachment,
    SubmissionKeyWrap,
    SubmissionMessage,
)
from csirt.ratelimit import Budget
from csirt.yamlfile import playbooks_dir
from tests.intake.conftest import BASIC_ANSWERS, Staff, jpeg_with_exif, submit

VOCABULARY = load_catalog(playbooks_dir()).vocabulary


def _actions(db_session: Session) -> list[str]:
    return [e.action for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_submission_is_sealed_to_officers_and_receipt(
    db_session: Session, settings: IntakeSettings, officer: Staff
) -> None:
    result = submit(db_session, settings)
    row = db_session.get(Submission, result.submission_id)
    assert row is not None
    assert len(result.receipt) == 29
    assert result.receipt.count("-") == 5
    assert row.lookup == settings.hasher.derive(result.receipt).lookup
    assert "有権者" not in row.answers_sealed.decode("latin-1")
    assert row.involved == ["選挙管理委員会事務局"]
    assert row.whistleblower is True
    assert row.received_at.minute == 0
    assert row.received_at.second == 0
    opened = handling.open_submission(db_session, officer.user, officer.private, row.id)
    assert opened.answers["what_happened"] == BASIC_ANSWERS["what_happened"]
    assert opened.has_identity is False
    box = reporter.open_mailbox(db_session, settings, result.receipt.lower().replace("-", " "))
    assert box.submission.id == row.id
    assert "intake.open" in _actions(db_session)


def test_wrong_and_malformed_receipts_are_the_same_error(
    db_session: Session, settings: IntakeSettings
) -> None:
    submit(db_session, settings)
    with pytest.raises(BadReceiptError) as wrong:
        reporter.open_mailbox(db_session, settings, vault.new_receipt())
    with pytest.raises(BadReceiptError) as malformed:
        reporter.open_mailbox(db_session, settings, "not a receipt")
    assert str(wrong.value) == str(malformed.value)


def test_answer_dates_japan_and_eu(settings: IntakeSettings) -> None:
    # Not at 00:00 local time: a period starting then counts its first day (民法140条但書).
    received = (utcnow() - timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    ack, answer, feedback = reporter.answer_dates(received, True, settings)
    local = received.astimezone(settings.tz).date()
    assert answer.astimezone(settings.tz).date() == local + timedelta(days=20)
    assert ack.astimezone(settings.tz).date() == local + timedelta(days=settings.ack_days)
    assert feedback is None
    tip_ack, tip_answer, _ = reporter.answer_dates(received, False, settings)
    assert tip_ack == tip_answer
    from dataclasses import replace

    eu = replace(settings, jurisdictions=frozenset({"JP", "EU"}), ack_days=30)
    ack, answer, feedback = reporter.answer_dates(received, True, eu)
    assert ack.astimezone(settings.tz).date() == local + timedelta(days=7)
    assert feedback is not None
    assert feedback > answer


def test_invalid_answers_and_uploads_are_named(
    db_session: Session, settings: IntakeSettings
) -> None:
    with pytest.raises(AnswersInvalidError) as exc:
        reporter.submit(
            db_session,
            settings,
            {"persons_estimate": "many", "bogus": "x"},
            "en",
            [Upload("a.exe", "application/x-msdownload", b"MZ")],
        )
    assert {"what_happened", "persons_estimate", "bogus", "attachments"} <= set(exc.value.errors)
    too_many = [Upload(f"{i}.txt", "text/plain", b"x") for i in range(6)]
    assert "attachments" in reporter.check_uploads(settings.questionnaire, too_many)
    big = [Upload("big.txt", "text/plain", b"x" * (20 * 1024 * 1024 + 1))]
    assert "20 MB" in reporter.check_uploads(settings.questionnaire, big)["attachments"]
    with pytest.raises(AnswersInvalidError):
        submit(db_session, settings, uploads=[Upload("fake.png", "image/png", b"not a png")])
    assert db_session.scalar(select(Submission)) is None


def test_budget_and_busy_hasher_give_busy_error(
    db_session: Session, settings: IntakeSettings
) -> None:
    from dataclasses import replace

    spent = replace(settings, submission_budget=Budget(0, 60))
    with pytest.raises(IntakeBusyError):
        submit(db_session, spent)
    hasher = vault.ReceiptHasher(b"0123456789abcdef", memory_kib=8, max_concurrent=1)
    hasher._slots.acquire()  # one slot, held: the next derive must give up at once
    busy = replace(settings, hasher=replace_wait(hasher))
    with pytest.raises(IntakeBusyError):
        submit(db_session, busy)
    with pytest.raises(IntakeBusyError):
        reporter.derive_keys(busy, vault.new_receipt())


def replace_wait(hasher: vault.ReceiptHasher) -> vault.ReceiptHasher:
    hasher.wait_timeout = 0
    return hasher


def test_messages_both_ways_and_attachments_stripped(
    db_session: Session, settings: IntakeSettings, officer: Staff
) -> None:
    photo = jpeg_with_exif("Taro Secret-Author")
    result = submit(
        db_session, settings, uploads=[Upload("C:\\Users\\me\\p.jpg", "image/jpeg", photo)]
    )
    sid = result.submission_id
    handling.officer_reply(db_session, officer.user, officer.private, sid, "調査を行います")
    box = reporter.open_mailbox(db_session, settings, result.receipt)
    assert [m.body for m in box.messages] == ["調査を行います"]
    assert box.submission.status == "answered"
    assert box.submission.answered_at is not None
    reporter.reporter_reply(
        db_session, settings, box, "追加の情報です", [Upload("n.txt", "text/plain", b"more")]
    )
    opened = handling.open_submission(db_session, officer.user, officer.private, sid)
    assert [m.from_reporter for m in opened.messages] == [False, True]
    assert opened.messages[1].attachments[0].filename == "n.txt"
    info = opened.attachments[0]
    assert info.filename == "p.jpg"
    assert info.content_type == "image/jpeg"
    _, stripped = handling.download_attachment(
        db_session, officer.user, officer.private, sid, info.id
    )
    _, original = handling.download_attachment(
        db_session, officer.user, officer.private, sid, info.id, original=True
    )
    assert original == photo
    assert b"Secret-Author" in original
    assert b"Secret-Author" not in stripped
    actions = _actions(db_session)
    assert "intake.attachment.stripped" in actions
    assert "intake.attachment.original" in actions
    with pytest.raises(AnswersInvalidError):
        reporter.reporter_reply(db_session, settings, box, "   ")
    with pytest.raises(AnswersInvalidError):
        reporter.reporter_reply(db_session, settings, box, "x" * 20_001)
    with pytest.raises(AnswersInvalidError):
        handling.officer_reply(db_session, officer.user, officer.private, sid, "")
    with pytest.raises(NotVisibleError):
        handling.download_attachment(db_session, officer.user, officer.private, sid, 999_999)


def test_responder_cannot_see_a_submission(
    db_session: Session, settings: IntakeSettings, staff: Any
) -> None:
    responder = staff("responder")
    result = submit(db_session, settings)
    with pytest.raises(NotVisibleError):
        handling.open_submission(
            db_session, responder.user, responder.private, result.submission_id
        )
    assert (
        db_session.scalar(
            select(SubmissionKeyWrap).where(SubmissionKeyWrap.user_id == responder.user.id)
        )
        is None
    )
    assert "intake.denied" in _actions(db_session)
    with pytest.raises(NotVisibleError):
        handling.open_submission(db_session, responder.user, responder.private, 999_999)


def test_conflicted_officer_never_sees_the_submission(
    db_session: Session, settings: IntakeSettings, officer: Staff, staff: Any
) -> None:
    suspect = staff("intake_officer", department="選挙管理委員会事務局")
    named = staff("intake_officer", username="yamada", display_name="山田 太郎")
    answers = dict(BASIC_ANSWERS, involved="選挙管理委員会事務局の職員\n山田太郎")
    result = submit(db_session, settings, answers)
    sid = result.submission_id
    holders = {w.user_id for w in db_session.scalars(select(SubmissionKeyWrap))}
    assert holders == {officer.user.id}
    for person in (suspect, named):
        assert handling.inbox(db_session, person.user, settings) == []
        with pytest.raises(NotVisibleError):
            handling.open_submission(db_session, person.user, person.private, sid)
        with pytest.raises(NotVisibleError):
            handling.grant(db_session, officer.user, officer.private, sid, person.user)
    assert _actions(db_session).count("intake.denied") >= 2
    assert [r.submission.id for r in handling.inbox(db_session, officer.user, settings)] == [sid]


def test_grant_reseals_to_a_new_officer(
    db_session: Session, settings: IntakeSettings, officer: Staff, staff: Any
) -> None:
    result = submit(db_session, settings)
    newcomer = staff("intake_officer")
    sid = result.submission_id
    rows = handling.inbox(db_session, newcomer.user, settings)
    assert rows[0].has_key is False
    with pytest.raises(NoKeyError):
        handling.open_submission(db_session, newcomer.user, newcomer.private, sid)
    assert handling.officers_without_key(db_session, db_session.get(Submission, sid)) == [
        newcomer.user
    ]
    assert handling.grant_all(db_session, officer.user, officer.private, newcomer.user) == 1
    assert handling.grant_all(db_session, officer.user, officer.private, newcomer.user) == 0
    handling.grant(db_session, officer.user, officer.private, sid, newcomer.user)  # re-seal again
    opened = handling.open_submission(db_session, newcomer.user, newcomer.private, sid)
    assert opened.answers["involved"] == "選挙管理委員会事務局"
    assert "intake.grant" in _actions(db_session)
    responder = staff("responder")
    with pytest.raises(NotVisibleError):
        handling.grant(db_session, responder.user, responder.private, sid, newcomer.user)


def test_identity_needs_a_custodians_approval(
    db_session: Session, settings: IntakeSettings, officer: Staff, custodian: Staff, staff: Any
) -> None:
    answers = dict(BASIC_ANSWERS, **{"identity.name": "堺 花子", "identity.contact": "090-0000"})
    result = submit(db_session, settings, answers)
    sid = result.submission_id
    row = db_session.get(Submission, sid)
    assert row is not None
    assert row.identity_sealed is not None
    assert "堺" not in row.identity_sealed.decode("latin-1")
    opened = handling.open_submission(db_session, officer.user, officer.private, sid)
    assert "identity.name" not in opened.answers
    assert opened.has_identity
    assert opened.may_view_identity is False
    with pytest.raises(IdentityError):
        disclosure.view_identity(db_session, officer.user, officer.private, sid)
    # The officer's own key cannot open the custodian's identity wrap either.
    wrap = db_session.scalar(select(IdentityKeyWrap))
    assert wrap is not None
    assert wrap.user_id == custodian.user.id
    with pytest.raises(vault.TamperedError):
        vault.open_identity_key(officer.private, wrap.wrapped)
    with pytest.raises(AnswersInvalidError):
        disclosure.request_identity(db_session, officer.user, sid, "short")
    request = disclosure.request_identity(
        db_session,
        officer.user,
        sid,
        "需要確認通報者身份以保護其不受報復",
        justification="the mailbox went unanswered and the facts need the reporter",
    )
    with pytest.raises(IdentityError):  # an officer is no custodian
        disclosure.decide_identity(
            db_session, officer.user, officer.private, request.id, approve=True
        )
    both = staff("custodian", "intake_officer")
    own = disclosure.request_identity(
        db_session,
        both.user,
        sid,
        "the custodian asks for herself",
        justification="the mailbox went unanswered and the facts need the reporter",
    )
    with pytest.raises(IdentityError):
        disclosure.decide_identity(db_session, both.user, both.private, own.id, approve=True)
    with pytest.raises(IdentityError):  # holds no identity wrap (enrolled after the report)
        disclosure.decide_identity(db_session, both.user, both.private, request.id, approve=True)
    assert disclosure.pending_identity_requests(db_session) == [request, own]
    disclosure.decide_identity(db_session, custodian.user, custodian.private, own.id, approve=False)
    box = reporter.open_mailbox(db_session, settings, result.receipt)
    assert box.submission.identity_disclosed_at is None
    disclosure.decide_identity(
        db_session, custodian.user, custodian.private, request.id, approve=True, note="ok"
    )
    with pytest.raises(IdentityError):
        disclosure.decide_identity(
            db_session, custodian.user, custodian.private, request.id, approve=True
        )
    identity = disclosure.view_identity(db_session, officer.user, officer.private, sid)
    assert identity == {"identity.name": "堺 花子", "identity.contact": "090-0000"}
    assert db_session.get(Submission, sid).identity_disclosed_at is not None  # type: ignore[union-attr]
    actions = _actions(db_session)
    for action in ("identity.request", "identity.deny", "identity.approve", "identity.view"):
        assert action in actions
    plain = submit(db_session, settings)
    with pytest.raises(IdentityError):
        disclosure.request_identity(
            db_session,
            officer.user,
            plain.submission_id,
            "a good reason here",
            justification="the mailbox went unanswered and the facts need the reporter",
        )


def test_promote_gives_the_case_only_structured_facts(
    db_session: Session, settings: IntakeSettings, officer: Staff
) -> None:
    result = submit(db_session, settings)
    sid = result.submission_id
    with pytest.raises(AnswersInvalidError):
        handoff.promote(db_session, officer.user, officer.private, sid, "  ", vocabulary=VOCABULARY)
    case_id = handoff.promote(
        db_session, officer.user, officer.private, sid, "名簿の掲載", vocabulary=VOCABULARY
    )
    case = db_session.get(Case, case_id)
    assert case is not None
    assert case.insider is True
    assert case.involved == ["選挙管理委員会事務局"]
    assert BASIC_ANSWERS["what_happened"] not in (case.summary or "")
    dataset = db_session.scalar(select(AffectedDataset).where(AffectedDataset.case_id == case_id))
    assert dataset is not None
    assert dataset.persons == 680000
    assert dataset.items == ["name", "address"]
    assert db_session.get(Submission, sid).case_id == case_id  # type: ignore[union-attr]
    with pytest.raises(IntakeError):
        handoff.promote(
            db_session, officer.user, officer.private, sid, "again", vocabulary=VOCABULARY
        )
    with pytest.raises(IntakeError):
        handoff.attach_to_case(db_session, officer.user, sid, case_id)
    other = submit(db_session, settings)
    with pytest.raises(AnswersInvalidError):
        handoff.attach_to_case(db_session, officer.user, other.submission_id, 999_999)
    handoff.attach_to_case(db_session, officer.user, other.submission_id, case_id)
    assert db_session.get(Submission, other.submission_id).status == "attached"  # type: ignore[union-attr]
    assert handling.inbox(db_session, officer.user, settings) == []
    assert len(handling.inbox(db_session, officer.user, settings, include_closed=True)) == 2


def test_retention_warns_then_deletes_for_real(
    db_session: Session, settings: IntakeSettings, officer: Staff, custodian: Staff
) -> None:
    answers = dict(BASIC_ANSWERS, **{"identity.name": "x"})
    old = submit(db_session, settings, answers, [Upload("a.txt", "text/plain", b"abc")])
    kept = submit(db_session, settings)
    box = reporter.open_mailbox(db_session, settings, old.receipt)
    reporter.reporter_reply(db_session, settings, box, "hello")
    row = db_session.get(Submission, old.submission_id)
    assert row is not None
    row.expires_at = utcnow() + timedelta(days=1)
    assert retention.warn_expiring(db_session, settings) == [old.submission_id]
    assert retention.warn_expiring(db_session, settings) == []
    assert handling.inbox(db_session, officer.user, settings)[0].expiring is True
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.add(
        StaffKeySession(
            id="stale",
            user_id=officer.user.id,
            protected_key=b"x",
            created_at=utcnow() - timedelta(days=2),
        )
    )
    db_session.flush()
    assert retention.purge_expired(db_session) == 1
    db_session.expire_all()
    assert db_session.get(Submission, old.submission_id) is None
    for model in (SubmissionAttachment, SubmissionMessage, SubmissionKeyWrap, IdentityKeyWrap):
        assert all(r.submission_id != old.submission_id for r in db_session.scalars(select(model)))
    assert db_session.get(Submission, kept.submission_id) is not None
    assert db_session.get(StaffKeySession, "stale") is None
    with pytest.raises(BadReceiptError):
        reporter.open_mailbox(db_session, settings, old.receipt)


def test_reporter_activity_postpones_expiry(db_session: Session, settings: IntakeSettings) -> None:
    result = submit(db_session, settings)
    row = db_session.get(Submission, result.submission_id)
    assert row is not None
    row.expires_at = utcnow() + timedelta(days=1)
    row.expiry_warned_at = utcnow()
    box = reporter.open_mailbox(db_session, settings, result.receipt)
    reporter.reporter_reply(db_session, settings, box, "まだ掲載されています")
    assert row.expires_at > utcnow() + timedelta(days=settings.retention_days - 1)
    assert row.expiry_warned_at is None


def test_no_officer_still_accepts_reports(
    db_session: Session, settings: IntakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # Strict mode (no escrow): the report waits for an officer, and the log says so.
    strict = dataclasses.replace(settings, escrow=None)
    result = submit(db_session, strict)
    assert db_session.scalar(select(SubmissionKeyWrap)) is None
    assert reporter.open_mailbox(db_session, strict, result.receipt).submission.escrow_wrap is None
    assert "no intake officer" in caplog.text


def test_no_officer_report_is_sealed_to_the_organisation_key(
    db_session: Session, settings: IntakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    # With the escrow (the default) the report is sealed to the organisation key instead: it
    # reaches the first officer who gets a key pair (tests/intake/test_escrow.py).
    result = submit(db_session, settings)
    row = db_session.get(Submission, result.submission_id)
    assert row is not None
    assert row.escrow_wrap is not None
    assert db_session.scalar(select(SubmissionKeyWrap)) is None
    assert "no intake officer" not in caplog.text


def test_answers_json_round_trip(
    db_session: Session, settings: IntakeSettings, officer: Staff
) -> None:
    result = submit(db_session, settings, {"what_happened": "短い", "data_items": []}, lang="en")
    opened = handling.open_submission(
        db_session, officer.user, officer.private, result.submission_id
    )
    assert opened.answers == {"what_happened": "短い"}
    assert json.dumps(opened.answers, ensure_ascii=False)
