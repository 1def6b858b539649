"""Fixtures for teams and notifications: a real SMTP sink, teams, a frozen clock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from csirt.cases.creation import create_case
from csirt.cases.models import Case, Priority
from csirt.notify.mail import SmtpMailer
from csirt.notify.service import MAILER_KEY, Channel, Settings
from csirt.teams.models import Team
from csirt.teams.oncall import set_rotation
from csirt.teams.people import add_member, create_team, profile_for
from tests.factories import UserFactory


@dataclass
class Sink:
    """Messages received by the SMTP sink."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def texts(self) -> list[str]:
        return [str(m["Subject"]) + "\n" + m.get_content() for m in self.messages]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def mail_app(app: Flask, smtp_sink: tuple[Sink, int]) -> Flask:
    """The app with an SMTP mailer pointed at the sink."""
    # The sink speaks plain SMTP on loopback; TLS is tested in tests/security.
    mailer = SmtpMailer("127.0.0.1", smtp_sink[1], "csirt@example.jp", tls="off")
    app.extensions[MAILER_KEY] = mailer
    return app


@pytest.fixture
def sink(smtp_sink: tuple[Sink, int]) -> Sink:
    return smtp_sink[0]


@pytest.fixture
def channel(mail_app: Flask) -> Channel:
    return Channel(
        mail_app.extensions[MAILER_KEY], Settings("https://csirt.example.jp", "ja", "Asia/Tokyo")
    )


class Clock:
    """A frozen, movable clock."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    # A Wednesday noon in Tokyo.
    return Clock(datetime(2026, 3, 4, 3, 0, tzinfo=UTC))


class World:
    """Builders for teams, people and cases."""

    def __init__(self, session: Session, users: UserFactory) -> None:
        self.session = session
        self.users = users

    def person(
        self,
        username: str,
        skills: tuple[str, ...] = (),
        *,
        roles: tuple[str, ...] = ("responder",),
        department: str | None = None,
        email: bool = True,
        display_name: str = "",
    ) -> Any:
        user = self.users.create(roles=list(roles), username=username, department=department).user
        user.email = f"{username}@example.jp" if email else None
        user.display_name = display_name or username
        if skills:
            profile_for(self.session, user).skills = list(skills)
        return user

    def team(
        self, slug: str, members: list[Any], *, first_response: bool = False, start: Any = None
    ) -> Team:
        team = create_team(
            self.session, name=slug.title(), slug=slug, actor=None, first_response=first_response
        )
        for user in members:
            add_member(self.session, team, user, actor=None)
        set_rotation(
            self.session, team, start=start, order=[m.id for m in team.members], actor=None
        )
        return team

    def case(
        self,
        *,
        title: str = "Case",
        summary: str = "",
        priority: Priority = Priority.P3,
        involved: tuple[str, ...] = (),
        tlp: str = "amber",
        actor: Any = None,
    ) -> Case:
        case = create_case(
            self.session,
            title=title,
            summary=summary,
            actor=actor,
            priority=priority,
            involved=involved,
        )
        case.tlp = tlp
        self.session.flush()
        return case


@pytest.fixture
def world(db_session: Session, users: UserFactory) -> World:
    return World(db_session, users)
