"""Signals of misuse: peers, own baseline, working hours, bulk exports; explained in words.

Every event is written by a real request (a case page, a report opened, a timeline exported) of
people signed in through the login form; only the audit clock is set, to replay a day's pattern.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent
from csirt.audit_review import service
from csirt.audit_review.explain import explain, kind_label
from csirt.audit_review.models import ReviewSignal, SignalKind, SignalStatus
from tests.audit_review.conftest import DAY_10AM, TOKYO, World

DAY = date(2026, 3, 10)
SETTINGS = service.SignalSettings()
REVIEWER = audit.Actor(None, "test-reviewer")


def _scan(db_session: Session, day: date = DAY) -> list[ReviewSignal]:
    raised = service.scan(db_session, settings=SETTINGS, actor=REVIEWER, days=[day])
    db_session.commit()
    return raised


def test_thirty_cases_in_an_hour_against_peers_viewing_three(
    app: Flask, db_session: Session, world: World
):
    snoop = world.person("responder", username="snoop")
    peers = [world.person("responder") for _ in range(3)]
    cases = world.cases(30, members=[snoop, *peers])
    world.view_cases(snoop, cases, every=timedelta(minutes=2))  # 30 cases within the hour
    for n, peer in enumerate(peers):
        world.view_cases(peer, cases[:3], start=DAY_10AM + timedelta(minutes=n * 5))

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
        select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_REVIEW_SIGNAL_RAISE)
    ).all()
    assert [r.details["subject"] for r in raised_rows] == ["snoop"]
    assert audit.verify(db_session).ok


def test_the_audit_review_scan_command_raises_it_too(db_session: Session, world: World, runner):
    snoop = world.person("responder", username="snoop-cli")
    peers = [world.person("responder") for _ in range(2)]
    cases = world.cases(12, members=[snoop, *peers])
    # Real time: the command scans yesterday and today.
    world.view_cases(snoop, cases, start=None)
    for peer in peers:
        world.view_cases(peer, cases[:2], start=None)
    result = runner.invoke(args=["audit-review", "scan"])
    assert result.exit_code == 0, result.output
    assert "new signals" in result.output
    signals = db_session.scalars(select(ReviewSignal)).all()
    assert ("peer_volume", "snoop-cli") in [(s.kind, s.subject_name) for s in signals]


def test_peers_viewing_alike_raise_nothing(db_session: Session, world: World):
    people = [world.person("responder") for _ in range(4)]
    cases = world.cases(9, members=people)
    for person in people:
        world.view_cases(person, cases)  # nine each: below any threshold
    assert _scan(db_session) == []


def test_many_views_below_the_minimum_raise_nothing(db_session: Session, world: World):
    busy, calm = world.person("responder"), world.person("responder")
    cases = world.cases(9, members=[busy, calm])
    world.view_cases(busy, cases)
    world.view_cases(calm, cases[:1])
    assert _scan(db_session) == []


def test_the_same_object_viewed_again_counts_once(db_session: Session, world: World):
    repeat, peer = world.person("responder"), world.person("responder")
    (case,) = world.cases(1, members=[repeat, peer])
    world.view_cases(repeat, [case] * 15)  # the same case, fifteen times
    world.view_cases(peer, [case])
    assert _scan(db_session) == []


def test_views_spread_over_the_day_do_not_count_as_one_hour(db_session: Session, world: World):
    spread, peer = world.person("responder"), world.person("responder")
    cases = world.cases(8, members=[spread, peer])
    world.view_cases(
        spread, cases, start=DAY_10AM - timedelta(hours=2), every=timedelta(minutes=61)
    )
    world.view_cases(peer, cases[:1])
    assert _scan(db_session) == []


def test_sealed_items_are_compared_separately(app: Flask, db_session: Session, world: World):
    officer = world.person("intake_officer", username="officer-a")
    other = world.person("intake_officer")
    reports = world.tips(12)
    world.open_reports(officer, reports)
    world.open_reports(other, reports[:2])
    cases = world.cases(12, members=[other])
    world.view_cases(other, cases)  # many case views do not hide sealed-item views
    raised = _scan(db_session)
    assert [(s.kind, s.facts["category"]) for s in raised] == [("peer_volume", "sealed")]
    assert raised[0].subject_name == "officer-a"
    with app.test_request_context():
        text = explain(raised[0].kind, "officer-a", raised[0].facts, TOKYO)
    assert "viewed 12 different sealed items" in text


def test_own_baseline(app: Flask, db_session: Session, world: World):
    usual = world.person("responder", username="usual")
    cases = world.cases(25, members=[usual])
    for back in range(1, 29):  # one view a day for four weeks
        world.view_cases(usual, cases[:1], start=DAY_10AM - timedelta(days=back))
    world.view_cases(usual, cases, every=timedelta(minutes=15))
    raised = _scan(db_session)
    assert [s.kind for s in raised] == [SignalKind.BASELINE_VOLUME]
    assert raised[0].facts["usual"] == 1.0
    with app.test_request_context():
        text = explain(raised[0].kind, "usual", raised[0].facts, TOKYO)
    assert text.startswith("usual viewed cases 25 times that day")
    assert "averaged 1 a day" in text


def test_no_history_means_no_baseline_signal(db_session: Session, world: World):
    newcomer = world.person("responder")
    cases = world.cases(25, members=[newcomer])
    world.view_cases(newcomer, cases, every=timedelta(minutes=15))
    assert _scan(db_session) == []


def test_outside_working_hours(app: Flask, db_session: Session, world: World):
    night = world.person("responder", username="night")
    cases = world.cases(3, members=[night])
    world.view_cases(night, cases, start=datetime.combine(DAY, time(23, 0), tzinfo=TOKYO))
    saturday = datetime(2026, 3, 14, 11, 0, tzinfo=TOKYO)
    world.view_cases(night, cases[:2], start=saturday)
    raised = _scan(db_session)
    assert [s.kind for s in raised] == [SignalKind.OFF_HOURS]
    assert raised[0].facts["count"] == 3
    with app.test_request_context():
        text = explain(raised[0].kind, "night", raised[0].facts, TOKYO)
    assert "3 times outside working hours (08:00–19:00, Mon–Fri, Asia/Tokyo)" in text
    # Saturday is outside the working days, but two events stay below the minimum of three.
    assert _scan(db_session, date(2026, 3, 14)) == []


def test_bulk_exports(app: Flask, db_session: Session, world: World):
    exporter = world.person("lead", username="exporter")
    cases = world.cases(10)
    world.export_timelines(exporter, cases)
    raised = _scan(db_session)
    assert [s.kind for s in raised] == [SignalKind.BULK_EXPORT]
    with app.test_request_context():
        text = explain(raised[0].kind, "exporter", raised[0].facts, TOKYO)
        assert kind_label("bulk_export") == "Bulk exports"
        assert explain("other", "x", {}, TOKYO) == "Unknown signal other for x."
        assert kind_label("other") == "other"
    assert text.startswith("exporter exported 10 times within 60 minutes")


def test_scanning_again_raises_once_and_updates_open_signals(db_session: Session, world: World):
    exporter = world.person("lead")
    cases = world.cases(15)
    world.export_timelines(exporter, cases[:10])
    assert len(_scan(db_session)) == 1
    world.export_timelines(exporter, cases[10:12], start=DAY_10AM + timedelta(minutes=10))
    assert _scan(db_session) == []
    signal = service.list_signals(db_session)[0]
    assert signal.facts["count"] == 12
    service.close_signal(db_session, signal.id, "checked: press day", actor=REVIEWER)
    db_session.commit()
    world.export_timelines(exporter, cases[12:], start=DAY_10AM + timedelta(minutes=20))
    assert _scan(db_session) == []
    db_session.expire_all()
    assert db_session.get(ReviewSignal, signal.id).facts["count"] == 12  # closed: left alone


def test_close_signal_needs_a_note_and_is_audited(db_session: Session, world: World):
    exporter = world.person("lead")
    world.export_timelines(exporter, world.cases(10))
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
        select(AuditEvent).where(AuditEvent.action == AuditAction.AUDIT_REVIEW_SIGNAL_CLOSE)
    ).one()
    assert row.details["note"] == "approved campaign"
    assert service.list_signals(db_session) == []
    assert service.list_signals(db_session, status=None) == [closed]
    assert audit.verify(db_session).ok


def test_scan_defaults_to_yesterday_and_today(db_session: Session, world: World):
    exporter = world.person("lead")
    world.export_timelines(exporter, world.cases(10))
    now = DAY_10AM + timedelta(days=1)
    raised = service.scan(db_session, settings=SETTINGS, actor=REVIEWER, now=now)
    assert len(raised) == 1


def test_settings_from_environment(tmp_path: Path) -> None:
    from config import Config, ConfigError

    def settings_of(env: dict[str, str], zone: str = "UTC") -> service.SignalSettings:
        config = Config.from_env({**env, "CSIRT_TIMEZONE": zone}, instance_path=tmp_path)
        return service.SignalSettings.from_config(config)

    settings = settings_of(
        {
            "CSIRT_AUDIT_WORK_HOURS": "09:30-18:00",
            "CSIRT_AUDIT_WORK_DAYS": "0-5",
            "CSIRT_AUDIT_PEER_FACTOR": "4",
        },
        "Europe/Paris",
    )
    assert settings.work_start == time(9, 30)
    assert settings.work_end == time(18, 0)
    assert settings.work_days == frozenset(range(6))
    assert settings.peer_factor == 4.0
    assert settings.peer_minimum == 10
    assert settings.tz.key == "Europe/Paris"
    default = settings_of({})
    assert (default.work_start, default.work_end, default.work_days) == (
        time(8, 0),
        time(19, 0),
        frozenset(range(5)),
    )
    single = settings_of({"CSIRT_AUDIT_WORK_DAYS": "3"})
    assert single.work_days == frozenset({3})
    assert single.is_working_time(datetime(2026, 3, 12, 10, 0, tzinfo=TOKYO)) is False
    # A bad value stops the start with the variable's name (no silent default).
    for variable, value in (
        ("CSIRT_AUDIT_PEER_MINIMUM", "x"),
        ("CSIRT_AUDIT_BULK_EXPORT_MINIMUM", "-3"),
        ("CSIRT_AUDIT_PEER_FACTOR", "0"),
        ("CSIRT_AUDIT_WORK_HOURS", "18:00-09:00"),
        ("CSIRT_AUDIT_WORK_HOURS", "late-early"),
        ("CSIRT_AUDIT_WORK_DAYS", "9"),
    ):
        with pytest.raises(ConfigError) as caught:
            settings_of({variable: value})
        assert caught.value.variable == variable
