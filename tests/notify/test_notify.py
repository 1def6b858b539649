"""Mail through a real SMTP sink: content-free for sensitive cases; reminders once; digest."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from csirt.cases.models import CaseMember, Priority, Task, TaskAssignee
from csirt.notify import reminders, service
from csirt.notify.mail import LogMailer, Mail, SmtpMailer, mailer_from_settings
from csirt.notify.messages import Kind
from csirt.notify.service import Channel, Settings
from tests.teams.conftest import Clock, Sink, World

TITLE = "CANARY-TITLE 選挙人名簿"
SUMMARY = "CANARY-SUMMARY 68万人"
TIP = "CANARY-TIP 通報本文"


def _canary_case(world: World, tlp: str):
    return world.case(title=TITLE, summary=f"{SUMMARY}\n{TIP}", tlp=tlp, priority=Priority.P1)


@pytest.mark.parametrize("tlp", ["amber", "amber+strict", "red"])
def test_sensitive_case_mail_carries_no_title_summary_or_tip(
    world: World, channel: Channel, sink: Sink, db_session: Session, tlp: str
):
    person = world.person("reader")
    case = _canary_case(world, tlp)
    for kind in (Kind.PAGE, Kind.ESCALATION, Kind.ASSIGNMENT, Kind.TASK_DUE, Kind.DEADLINE_DUE):
        service.notify_case(
            db_session,
            channel,
            person,
            kind,
            case,
            path="/console/x",
            role="lead",
            due="2026-01-01 09:00",
        )
    db_session.commit()
    assert len(sink.messages) == 5
    for message in sink.messages:
        raw = message.as_string()
        text = str(message["Subject"]) + message.get_content()
        assert case.reference in text
        assert "https://csirt.example.jp/console/x" in text
        for canary in ("CANARY", "選挙人名簿", "68万人", "通報本文"):
            assert canary not in text
            assert canary not in raw
    in_app = service.recent(db_session, person.id)
    assert all("CANARY" not in n.subject + n.body for n in in_app)


def test_clear_case_mail_may_name_the_title(
    world: World, channel: Channel, sink: Sink, db_session: Session
):
    person = world.person("reader", email=True)
    person.lang = "en"
    case = _canary_case(world, "green")
    service.notify_case(db_session, channel, person, Kind.ASSIGNMENT, case, path="/p", role="pr")
    db_session.commit()
    body = sink.messages[0].get_content()
    assert TITLE in body
    assert SUMMARY not in body
    assert TIP not in body
    assert "as public relations" in body


def test_preferences_and_no_mail_without_commit(
    world: World, channel: Channel, sink: Sink, db_session: Session
):
    person = world.person("quiet")
    case = world.case()
    db_session.commit()
    assert service.preferences(db_session, person.id)[Kind.ASSIGNMENT] is True
    service.set_preferences(db_session, person.id, {Kind.ASSIGNMENT: False})
    service.set_preferences(db_session, person.id, {Kind.ASSIGNMENT: False, Kind.PAGE: True})
    with pytest.raises(ValueError, match="unknown"):
        service.set_preferences(db_session, person.id, {"spam": True})
    service.notify_case(db_session, channel, person, Kind.ASSIGNMENT, case, path="/p")
    service.set_preferences(db_session, person.id, {Kind.PAGE: True})
    db_session.commit()
    service.notify_case(db_session, channel, person, Kind.PAGE, case, path="/p")
    db_session.rollback()  # the page's transaction failed: nothing is sent
    db_session.commit()
    assert sink.messages == []
    service.notify_case(db_session, channel, person, Kind.ASSIGNMENT, case, path="/p")
    db_session.commit()
    assert sink.messages == []  # email off for assignments; the in-app ones remain
    assert service.unread_count(db_session, person.id) == 2


def test_read_and_unread(world: World, channel: Channel, db_session: Session):
    person = world.person("r")
    other = world.person("o")
    case = world.case()
    first = service.notify_case(db_session, channel, person, Kind.PAGE, case, path="/a")
    service.notify_case(db_session, channel, person, Kind.PAGE, case, path="/b")
    assert first is not None
    assert service.unread_count(db_session, person.id) == 2
    service.mark_read(db_session, person.id, first.id)
    service.mark_read(db_session, person.id, first.id)
    assert service.unread_count(db_session, person.id) == 1
    with pytest.raises(service.NotificationNotFoundError):
        service.mark_read(db_session, other.id, first.id)
    service.mark_read(db_session, person.id, None)
    assert service.unread_count(db_session, person.id) == 0


def test_due_task_and_deadline_reminders_are_sent_once(
    world: World, channel: Channel, sink: Sink, clock: Clock, db_session: Session
):
    lead = world.person("lead1", roles=("lead",))
    worker = world.person("worker")
    case = world.case(title=TITLE, actor=lead)
    db_session.add(CaseMember(case_id=case.id, user_id=lead.id, role="lead"))
    task = Task(
        case_id=case.id, title="CANARY task", status="open", due_at=clock() + timedelta(hours=3)
    )
    orphan = Task(
        case_id=case.id, title="nobody's", status="open", due_at=clock() + timedelta(hours=5)
    )
    later = Task(case_id=case.id, title="later", status="open", due_at=clock() + timedelta(days=5))
    db_session.add_all([task, orphan, later])
    db_session.flush()
    db_session.add(TaskAssignee(task_id=task.id, user_id=worker.id))
    model = reminders.obligation_model()
    assert model is not None
    db_session.add(
        model(
            case_id=case.id,
            regime="appi",
            kind="ppc_preliminary",
            due_at=clock() + timedelta(hours=10),
        )
    )
    db_session.flush()

    sent = reminders.send_due(db_session, channel, now=clock)
    assert (sent.tasks, sent.deadlines) == (2, 1)
    assert reminders.send_due(db_session, channel, now=clock) == reminders.Sent(0, 0)
    clock.advance(hours=4)  # the task is now overdue: one more reminder, once
    assert reminders.send_due(db_session, channel, now=clock).tasks == 1
    assert reminders.send_due(db_session, channel, now=clock).tasks == 0
    db_session.commit()
    recipients = sorted(str(m["To"]) for m in sink.messages)
    assert recipients == ["lead1@example.jp"] * 2 + ["worker@example.jp"] * 2
    assert all("CANARY" not in m.as_string() for m in sink.messages)
    assert reminders.open_obligations(db_session, [case.id])[0][1] == case
    assert reminders.open_obligations(db_session, []) == []


def test_daily_digest_once_a_day(
    world: World, channel: Channel, sink: Sink, clock: Clock, db_session: Session
):
    worker = world.person("digester")
    world.person("idle")
    world.person("nomail", email=False)
    case = world.case()
    db_session.add(CaseMember(case_id=case.id, user_id=worker.id, role="investigator"))
    task = Task(case_id=case.id, title="t", status="open", due_at=clock() + timedelta(days=2))
    db_session.add(task)
    db_session.flush()
    db_session.add(TaskAssignee(task_id=task.id, user_id=worker.id))
    model = reminders.obligation_model()
    db_session.add(
        model(case_id=case.id, regime="appi", kind="k", due_at=clock() + timedelta(days=1))
    )
    db_session.flush()
    assert reminders.send_digest(db_session, channel, now=clock) == 1
    assert reminders.send_digest(db_session, channel, now=clock) == 0
    clock.advance(days=1)
    assert reminders.send_digest(db_session, channel, now=clock) == 1
    db_session.commit()
    assert len(sink.messages) == 2
    body = sink.messages[0].get_content()
    assert case.reference in body
    assert "(legal)" in body


def test_mailers_from_settings(tmp_path):
    from config import Config, ConfigError

    def config(env: dict[str, str]) -> Config:
        return Config.from_env(env, instance_path=tmp_path)

    assert isinstance(mailer_from_settings(config({})), LogMailer)
    smtp = mailer_from_settings(
        config(
            {
                "CSIRT_MAIL_BACKEND": "smtp",
                "CSIRT_SMTP_HOST": "mail",
                "CSIRT_SMTP_PORT": "587",
                "CSIRT_SMTP_FROM": "csirt@city.example.jp",
            }
        )
    )
    assert smtp == SmtpMailer("mail", 587, "csirt@city.example.jp")
    with pytest.raises(ConfigError, match="CSIRT_MAIL_BACKEND"):
        config({"CSIRT_MAIL_BACKEND": "pigeon"})
    with pytest.raises(ConfigError, match="CSIRT_SMTP_PORT"):
        config({"CSIRT_MAIL_BACKEND": "smtp", "CSIRT_SMTP_PORT": "x"})
    out = io.StringIO()
    console = LogMailer(stream=out)
    console.send(Mail("a@example.jp", "件名", "本文"))
    assert console.sent
    # Only that a mail was sent (issue 14): no recipient, subject or body in the log.
    assert out.getvalue() == "csirt mail: sent kind=mail recipients=1\n"


def test_a_failing_smtp_server_does_not_break_the_commit(world: World, db_session: Session):
    dead = Channel(
        SmtpMailer("127.0.0.1", 1, "x@example.jp", timeout=1), Settings("http://x", "en", "UTC")
    )
    person = world.person("p")
    service.notify_case(
        db_session,
        dead,
        person,
        Kind.PAGE,
        world.case(),
        path="/p",
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    db_session.commit()
    assert service.unread_count(db_session, person.id) == 1


def test_cli_commands(runner, mail_app, sink: Sink, world: World, db_session: Session):
    db_session.commit()
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "escalated 0" in result.output
    result = runner.invoke(args=["reminders", "digest"])
    assert result.exit_code == 0
    assert "digests sent" in result.output


def test_escalation_minutes_setting(tmp_path):
    from config import Config, ConfigError

    assert Config.from_env({}, instance_path=tmp_path).escalation_minutes == 15
    five = Config.from_env({"CSIRT_ESCALATION_MINUTES": "5"}, instance_path=tmp_path)
    assert five.escalation_minutes == 5
    with pytest.raises(ConfigError, match="CSIRT_ESCALATION_MINUTES"):
        Config.from_env({"CSIRT_ESCALATION_MINUTES": "soon"}, instance_path=tmp_path)
