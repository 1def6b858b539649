"""An obligation due within 24 hours tells the case's lead and every member with a case role,
once per obligation and person (in the app, and by a content-free mail per their preferences).

Through the periodic job's command (``csirt reminders send``) and a real SMTP sink.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.cases.models import CaseMember
from csirt.db import utcnow
from csirt.notify import reminders, service
from csirt.notify.models import Notification
from csirt.notify.service import Channel
from csirt.triage.models import Obligation
from tests.teams.conftest import Clock, Sink, World

TITLE = "住民基本台帳の誤送信"


def _member(world: World, db_session: Session, case_id: int, name: str, role: str) -> int:
    person = world.person(name)
    db_session.add(CaseMember(case_id=case_id, user_id=person.id, role=role))
    return person.id


def test_obligation_due_tells_the_lead_and_case_roles_once(
    mail_app: Flask, world: World, sink: Sink, db_session: Session
) -> None:
    case = world.case(title=TITLE)
    people = {
        name: _member(world, db_session, case.id, name, role)
        for name, role in (
            ("lead9", "lead"),
            ("inv9", "investigator"),
            ("pr9", "pr"),
            ("creator9", "creator"),
            ("committee9", "committee"),
        )
    }
    outsider = world.person("outsider9")
    service.set_preferences(db_session, people["pr9"], {"deadline_due": False})  # in-app only
    db_session.add_all(
        [
            Obligation(
                case_id=case.id,
                regime="appi",
                kind="ppc_preliminary",
                due_at=utcnow() + timedelta(hours=10),
            ),
            Obligation(
                case_id=case.id,
                regime="appi",
                kind="ppc_final",
                due_at=utcnow() + timedelta(days=3),
            ),
        ]
    )
    db_session.commit()
    sink.messages.clear()

    runner = mail_app.test_cli_runner()
    first = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert "deadline reminders 3" in first.output
    again = runner.invoke(args=["reminders", "send"])
    assert "deadline reminders 0" in again.output

    mailed = sorted(str(m["To"]) for m in sink.messages)
    assert mailed == ["inv9@example.jp", "lead9@example.jp"]  # pr9 chose in-app only
    assert all(TITLE not in m.as_string() for m in sink.messages)  # content-free
    told = set(
        db_session.scalars(
            select(Notification.user_id).where(
                Notification.kind == "deadline_due", Notification.case_id == case.id
            )
        )
    )
    assert told == {people["lead9"], people["inv9"], people["pr9"]}
    assert outsider.id not in told


def test_an_obligation_is_not_told_again_when_it_becomes_overdue(
    world: World, channel: Channel, clock: Clock, db_session: Session
) -> None:
    case = world.case()
    _member(world, db_session, case.id, "lead8", "lead")
    db_session.add(
        Obligation(case_id=case.id, regime="appi", kind="k", due_at=clock() + timedelta(hours=2))
    )
    db_session.flush()
    assert reminders.send_due(db_session, channel, now=clock).deadlines == 1
    clock.advance(hours=5)  # overdue now
    assert reminders.send_due(db_session, channel, now=clock).deadlines == 0
