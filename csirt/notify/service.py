"""Notify people: an in-app notification, and an email if they want one, sent after commit."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from csirt.auth.models import User
from csirt.cases.models import Case
from csirt.db import utcnow
from csirt.notify.mail import Mail, Mailer, mailer_from_settings
from csirt.notify.messages import KINDS, CaseRef, Text, case_text
from csirt.notify.models import Notification, NotificationPreference, SentReminder

log = logging.getLogger(__name__)
MAILER_KEY = "csirt.mailer"
OUTBOX_KEY = "csirt.outbox"


class NotifyError(Exception):
    """Base of notification errors shown to the user."""


class NotificationNotFoundError(NotifyError):
    """No such notification for this user."""


@dataclass(frozen=True)
class Settings:
    """What messages need from the configuration."""

    base_url: str
    default_lang: str
    timezone: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


@dataclass(frozen=True)
class Channel:
    """Where notifications go: the mailer and the settings to write them with."""

    mailer: Mailer
    settings: Settings


def install(app: Flask) -> None:
    """Give the app its mailer (CSIRT_MAIL_BACKEND) unless one was installed already."""
    config = app.config["CSIRT"]
    app.extensions.setdefault(MAILER_KEY, mailer_from_settings(config))


def channel_for(app: Flask) -> Channel:
    """The app's channel: its mailer and settings."""
    config = app.config["CSIRT"]
    settings = Settings(config.base_url, config.default_lang, config.timezone)
    mailer: Mailer = app.extensions[MAILER_KEY]
    return Channel(mailer, settings)


# --- the outbox: mail leaves only when the transaction that caused it commits --------------


def queue_mail(session: Session, mailer: Mailer, mail: Mail) -> None:
    """Send ``mail`` once ``session`` commits; drop it if the session rolls back."""
    session.info.setdefault(OUTBOX_KEY, []).append((mailer, mail))


def send_outbox(session: Session) -> None:
    """Session ``after_commit`` reaction (csirt/wiring.py): send the mail the commit released."""
    outbox: list[tuple[Mailer, Mail]] = session.info.pop(OUTBOX_KEY, [])
    for mailer, mail in outbox:
        try:
            mailer.send(mail)
        except (OSError, smtplib.SMTPException) as exc:
            # Never log the message: the in-app notification remains.
            log.warning("mail not sent: %s", type(exc).__name__)


def drop_outbox(session: Session) -> None:
    """Session ``after_rollback`` reaction (csirt/wiring.py): drop the mail of a rollback."""
    session.info.pop(OUTBOX_KEY, None)


# --- preferences ----------------------------------------------------------------------------


def preferences(session: Session, user_id: int) -> dict[str, bool]:
    """Email on/off for every kind (default on)."""
    stored = {
        p.kind: p.email
        for p in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    return {kind: stored.get(kind, True) for kind in KINDS}


def set_preferences(session: Session, user_id: int, email: Mapping[str, bool]) -> None:
    """Store email on/off per kind; unknown kinds raise ValueError."""
    unknown = set(email) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown notification kinds: {sorted(unknown)}")
    rows = {
        p.kind: p
        for p in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    for kind, wanted in email.items():
        if kind in rows:
            rows[kind].email = wanted
        else:
            session.add(NotificationPreference(user_id=user_id, kind=kind, email=wanted))
    session.flush()


def wants_email(session: Session, user_id: int, kind: str) -> bool:
    """Whether this person wants email for this kind."""
    return preferences(session, user_id)[kind]


# --- sending --------------------------------------------------------------------------------


def case_ref(case: Case) -> CaseRef:
    """The only case fields a message may use."""
    return CaseRef(case.id, case.reference, case.tlp, case.title)


def deliver(
    session: Session,
    channel: Channel,
    user: User,
    kind: str,
    text: Text,
    *,
    link: str,
    case_id: int | None = None,
    in_app: bool = True,
    now: datetime | None = None,
    in_app_text: Text | None = None,
) -> Notification | None:
    """Record the in-app notification and queue the email (if the person wants it).

    ``in_app_text``: the in-app row's text where it differs from the mail's (the intake's
    carries a path where the mail carries the absolute link)."""
    row = None
    if in_app:
        shown = in_app_text if in_app_text is not None else text
        row = Notification(
            user_id=user.id,
            kind=kind,
            case_id=case_id,
            subject=shown.subject[:300],
            body=shown.body,
            link=link,
            created_at=now or utcnow(),
        )
        session.add(row)
        auth_service.forget_value(session, UNREAD_KEY)
    if user.email and user.active and wants_email(session, user.id, kind):
        queue_mail(session, channel.mailer, Mail(user.email, text.subject, text.body))
    session.flush()
    return row


def notify_case(
    session: Session,
    channel: Channel,
    user: User,
    kind: str,
    case: Case,
    *,
    path: str,
    role: str | None = None,
    due: str = "",
    now: datetime | None = None,
) -> Notification | None:
    """Tell one person about a case (content-free unless the case is TLP:CLEAR/GREEN)."""
    lang = user.lang or channel.settings.default_lang
    text = case_text(kind, case_ref(case), channel.settings.url(path), lang, role=role, due=due)
    return deliver(session, channel, user, kind, text, link=path, case_id=case.id, now=now)


# --- reading --------------------------------------------------------------------------------


def _unread_of(user_id: ColumnElement[int]) -> Select[tuple[int]]:
    return select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )


# Built once (its compiled form is cached by the engine).
_UNREAD = _unread_of(bindparam("user_id"))
UNREAD_KEY = "csirt.notify.unread"


def unread_column(user_id: ColumnElement[int]) -> ColumnElement[int]:
    """The unread count of the user ``user_id`` names, as a column of another statement: the
    statement that loads the signed-in user reads it (auth.service.read_with_user)."""
    return _unread_of(user_id).scalar_subquery()


def unread_count(session: Session, user_id: int) -> int:
    """How many notifications this person has not read (the nav's badge, on every page): the
    count read with the signed-in user in this transaction if nothing changed it since, else
    counted now."""
    read = auth_service.read_value(session, UNREAD_KEY, user_id)
    if read is not None:
        return int(read)
    return int(session.scalar(_UNREAD, {"user_id": user_id}) or 0)


def recent(session: Session, user_id: int, *, limit: int = 50) -> list[Notification]:
    """The newest notifications of this person."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(
    session: Session, user_id: int, notification_id: int | None, now: datetime | None = None
) -> Notification | None:
    """Mark one notification (or, with None, all of them) as read."""
    auth_service.forget_value(session, UNREAD_KEY)
    moment = now or utcnow()
    if notification_id is None:
        for row in session.scalars(
            select(Notification).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        ):
            row.read_at = moment
        session.flush()
        return None
    found = session.get(Notification, notification_id)
    if found is None or found.user_id != user_id:
        raise NotificationNotFoundError(notification_id)
    if found.read_at is None:
        found.read_at = moment
    session.flush()
    return found


# --- reminders sent once --------------------------------------------------------------------


def already_sent(session: Session, key: str, user_id: int) -> bool:
    """Whether the reminder ``key`` went to this person already."""
    return (
        session.scalar(
            select(SentReminder.id).where(SentReminder.key == key, SentReminder.user_id == user_id)
        )
        is not None
    )


def record_sent(session: Session, key: str, user_id: int, now: datetime) -> None:
    """Remember that the reminder ``key`` went to this person."""
    session.add(SentReminder(key=key[:160], user_id=user_id, sent_at=now))
    session.flush()


def mark_case_read(session: Session, user_id: int, case_id: int, now: datetime) -> None:
    """Mark a person's notifications about one case as read (they have taken it up)."""
    auth_service.forget_value(session, UNREAD_KEY)
    for row in session.scalars(
        select(Notification).where(
            Notification.user_id == user_id,
            Notification.case_id == case_id,
            Notification.read_at.is_(None),
        )
    ):
        row.read_at = now
