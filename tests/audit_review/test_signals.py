"""Signals of misuse: peers, own baseline, working hours, bulk exports; explained in words."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.models import AuditEvent
from csirt.audit_review import service
from csirt.audit_review.explain import explain, kind_label
from csirt.audit_review.models import ReviewSignal, SignalKind, SignalStatus
from tests.audit_review.conftest import DAY_10AM, TOKYO, Writer
from tests.factories import UserFactory

DAY = date(2026, 3, 10)
SETTINGS = service.SignalSettings()
REVIEWER = audit.Actor(None, "test-reviewer")


def _scan(db_session: Session, day: date = DAY) -> list[ReviewSignal]:
    raised = service.scan(db_session, settings=SETTINGS, actor=REVIEWER, days=[day])
    db_session.commit()
    return raised


def test_thirty_cases_in_an_hour_against_peers_viewing_three(
    app: Flask, db_session: Session, users: UserFactory, write_events: Writer
):
    snoop = users.create(["responder"], username="snoop").user
    peers = [users.create(["responder"]).user for _ in range(3)]
    db_session.commit()
    write_events(snoop, "case.view", 30, every=timedelta(minutes=2))  # 30 cases within the hour
    for n, peer in enumerate(peers):
        write_events(peer, "case.view", 3, start=DAY_10AM + timedelta(minutes=n * 5))

    raised = _scan(db_session)

    assert [(s.kind, s.subject_name) for s in raised] == [(SignalKind.PEER_VOLUME, "snoop")]
    signal = raised[0]
    assert signal.facts["count"] == 30
    assert signal.facts["peer_median"] == 3
    assert signal.facts["peers"] == 3
    with app.test_request_context():
        text = explain(signal.kind, signal.subject_name, signal.facts, TOKYO)
        assert kind_label(signal.kind) == "Far more views than peers"
    assert text.startswith("snoop viewed 30 different cases within 60 minutes")
    assert "other 3 users" in text
    assert "median of 3" in text
    assert "3 times the median and at 10 or more" in text
    # Raising the signal is itself audited, and the chain still verifies.
    raised_rows = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit_review.signal_raise")
    ).all()
    assert [r.details["subject"] for r in raised_rows] == ["snoop"]
    assert audit.verify(db_session).ok


def test_peers_viewing_alike_raise_nothing(
    db_session: Session, users: UserFactory, write_events: Writer
):
    people = [users.create(["responder"]).user for _ in range(4)]
    db_session.commit()
    for person in people:
        write_events(person, "case.view", 9)  # nine each: below any threshold
    assert _scan(db_session) == []


def test_many_views_below_the_minimum_raise_nothing(
    db_session: Session, users: UserFactory, write_events: Writer
):
    busy, calm = users.create().user, users.create().user
    db_session.commit()
    write_events(busy, "case.view", 9)
    write_events(calm, "case.view", 1)
    assert _scan(db_session) == []


def test_the_same_object_viewed_again_counts_once(
    db_session: Session, users: UserFactory, write_events: Writer
):
    repeat, peer = users.create().user, users.create().user
    db_session.commit()
    for _ in range(15):
        write_events(repeat, "case.view", 1)  # the same case, fifteen times
    write_events(peer, "case.view", 1)
    assert _scan(db_session) == []


def test_views_spread_over_the_day_do_not_count_as_one_hour(
    db_session: Session, users: UserFactory, write_events: Writer
):
    spread, peer = users.create().user, users.create().user
    db_session.commit()
    write_events(spread, "case.view", 8, every=timedelta(minutes=61))
    write_events(peer, "case.view", 1)
    assert _scan(db_session) == []


def test_sealed_items_are_compared_separately(
    app: Flask, db_session: Session, users: UserFactory, write_events: Writer
):
    officer = users.create(["intake_officer"], username="officer-a").user
    other = users.create(["intake_officer"]).user
    db_session.commit()
    write_events(officer, "submission.view", 12, object_type="submission")
    write_events(other, "submission.view", 2, object_type="submission")
    write_events(other, "case.view", 40)  # many case views do not hide sealed-item views
    raised = _scan(db_session)
    assert [(s.kind, s.facts["category"]) for s in raised] == [("peer_volume", "sealed")]
    with app.test_request_context():
        text = explain(raised[0].kind, "officer-a", raised[0].facts, TOKYO)
    assert "viewed 12 different sealed items" in text


def test_own_baseline(app: Flask, db_session: Session, users: UserFactory, write_events: Writer):
    usual = users.create(username="usual").user
    db_session.commit()
    for back in range(1, 29):  # one view a day for four weeks
        write_events(usual, "case.view", 1, start=DAY_10AM - timedelta(days=back))
    write_events(usual, "case.view", 25, every=timedelta(minutes=15))
    raised = _scan(db_session)
    assert [s.kind for s in raised] == [SignalKind.BASELINE_VOLUME]
    assert raised[0].facts["usual"] == 1.0
    with app.test_request_context():
        text = explain(raised[0].kind, "usual", raised[0].facts, TOKYO)
    assert text.startswith("usual viewed cases 25 times that day")
    assert "averaged 1 a day" in text


def test_no_history_means_no_baseline_signal(
    db_session: Session, users: UserFactory, write_events: Writer
):
    newcomer = users.create().user
    db_session.commit()
    write_events(newcomer, "case.view", 25, every=timedelta(minutes=15))
    assert _scan(db_session) == []


def test_outside_working_hours(
    app: Flask, db_session: Session, users: UserFactory, write_events: Writer
):
    night = users.create(username="night").user
    db_session.commit()
    late = datetime.combine(DAY, time(23, 0), tzinfo=TOKYO)
    write_events(night, "case.view", 3, start=late)
    saturday = datetime(2026, 3, 14, 11, 0, tzinfo=TOKYO)
    write_events(night, "case.view", 2, start=saturday)
    raised = _scan(db_session)
    assert [s.kind for s in raised] == [SignalKind.OFF_HOURS]
    assert raised[0].facts["count"] == 3
    with app.test_request_context():
        text = explain(raised[0].kind, "night", raised[0].facts, TOKYO)
    assert "3 times outside working hours (08:00–19:00, Mon–Fri, Asia/Tokyo)" in text
    # Saturday is outside the working days, but two events stay below the minimum of three.
    assert _scan(db_session, date(2026, 3, 14)) == []


def test_bulk_exports(app: Flask, db_session: Session, users: UserFactory, write_events: Writer):
    exporter = users.create(["pr"], username="exporter").user
    db_session.commit()
    write_events(exporter, "document.export", 10, object_type="document")
    raised = _scan(db_session)
    assert [s.kind for s in raised] == [SignalKind.BULK_EXPORT]
    with app.test_request_context():
        text = explain(raised[0].kind, "exporter", raised[0].facts, TOKYO)
        assert kind_label("bulk_export") == "Bulk exports"
        assert explain("other", "x", {}, TOKYO) == "Unknown signal other for x."
        assert kind_label("other") == "other"
    assert text.startswith("exporter exported 10 times within 60 minutes")


def test_scanning_again_raises_once_and_updates_open_signals(
    db_session: Session, users: UserFactory, write_events: Writer
):
    exporter = users.create(["pr"]).user
    db_session.commit()
    write_events(exporter, "document.export", 10, object_type="document")
    assert len(_scan(db_session)) == 1
    write_events(
        exporter,
        "document.export",
        2,
        object_type="document",
        start=DAY_10AM + timedelta(minutes=10),
    )
    assert _scan(db_session) == []
    signal = service.list_signals(db_session)[0]
    assert signal.facts["count"] == 12
    service.close_signal(db_session, signal.id, "checked: press day", actor=REVIEWER)
    db_session.commit()
    write_events(
        exporter,
        "document.export",
        3,
        object_type="document",
        start=DAY_10AM + timedelta(minutes=20),
    )
    assert _scan(db_session) == []
    assert db_session.get(ReviewSignal, signal.id).facts["count"] == 12  # closed: left alone


def test_close_signal_needs_a_note_and_is_audited(
    db_session: Session, users: UserFactory, write_events: Writer
):
    exporter = users.create(["pr"]).user
    db_session.commit()
    write_events(exporter, "document.export", 10, object_type="document")
    signal = _scan(db_session)[0]
    with pytest.raises(service.EmptyNoteError):
        service.close_signal(db_session, signal.id, "   ", actor=REVIEWER)
    closed = service.close_signal(db_session, signal.id, "approved campaign", actor=REVIEWER)
    db_session.commit()
    assert closed.status == SignalStatus.CLOSED.value
    assert closed.close_note == "approved campaign"
    with pytest.raises(service.SignalClosedError):
        service.close_signal(db_session, signal.id, "again", actor=REVIEWER)
    with pytest.raises(service.SignalNotFoundError):
        service.get_signal(db_session, 10**9)
    row = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit_review.signal_close")
    ).one()
    assert row.details["note"] == "approved campaign"
    assert service.list_signals(db_session) == []
    assert service.list_signals(db_session, status=None) == [closed]
    assert audit.verify(db_session).ok


def test_scan_defaults_to_yesterday_and_today(
    db_session: Session, users: UserFactory, write_events: Writer
):
    exporter = users.create(["pr"]).user
    db_session.commit()
    write_events(exporter, "document.export", 10, object_type="document")
    now = DAY_10AM + timedelta(days=1)
    raised = service.scan(db_session, settings=SETTINGS, actor=REVIEWER, now=now)
    assert len(raised) == 1


def test_settings_from_environment():
    settings = service.SignalSettings.from_env(
        {
            "CSIRT_AUDIT_WORK_HOURS": "09:30-18:00",
            "CSIRT_AUDIT_WORK_DAYS": "0-5",
            "CSIRT_AUDIT_PEER_FACTOR": "4",
            "CSIRT_AUDIT_PEER_MINIMUM": "x",
            "CSIRT_AUDIT_BULK_EXPORT_MINIMUM": "-3",
        },
        "Europe/Paris",
    )
    assert settings.work_start == time(9, 30)
    assert settings.work_end == time(18, 0)
    assert settings.work_days == frozenset(range(6))
    assert settings.peer_factor == 4.0
    assert settings.peer_minimum == 10  # not a number: the default
    assert settings.bulk_export_minimum == 10  # not positive: the default
    assert settings.tz.key == "Europe/Paris"
    odd = service.SignalSettings.from_env(
        {"CSIRT_AUDIT_WORK_HOURS": "18:00-09:00", "CSIRT_AUDIT_WORK_DAYS": "9"}, "UTC"
    )
    assert (odd.work_start, odd.work_end, odd.work_days) == (
        time(8, 0),
        time(19, 0),
        frozenset(range(5)),
    )
    bad = service.SignalSettings.from_env({"CSIRT_AUDIT_WORK_HOURS": "late-early"}, "UTC")
    assert bad.work_start == time(8, 0)
    single = service.SignalSettings.from_env({"CSIRT_AUDIT_WORK_DAYS": "3"}, "UTC")
    assert single.work_days == frozenset({3})
    assert single.is_working_time(datetime(2026, 3, 12, 10, 0, tzinfo=TOKYO)) is False
