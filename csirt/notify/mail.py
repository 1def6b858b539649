"""Sending mail behind a Protocol: SMTP (smtplib) in production, the console in development."""

from __future__ import annotations

import smtplib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol, TextIO


class MailConfigError(ValueError):
    """A CSIRT_MAIL_* / CSIRT_SMTP_* setting cannot be used."""


@dataclass(frozen=True)
class Mail:
    """One plain-text message to one recipient."""

    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None:
        """Deliver one message (raise OSError / smtplib.SMTPException on failure)."""


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The RFC 5322 message for a Mail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "csirt.invalid")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    timeout: float = 10.0

    def send(self, mail: Mail) -> None:
        """Deliver over SMTP (one connection per message: reminders are few)."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(build_message(mail, self.sender))


@dataclass
class ConsoleMailer:
    """Development: print the message instead of sending it, and keep it in ``sent``."""

    sender: str = "csirt@localhost"
    stream: TextIO | None = None
    sent: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> None:
        """Write the message to the stream (stderr by default)."""
        self.sent.append(mail)
        out = self.stream or sys.stderr
        out.write(build_message(mail, self.sender).as_string() + "\n")


def mailer_from_settings(settings: Mapping[str, Any]) -> Mailer:
    """The mailer that CSIRT_MAIL_BACKEND (smtp | console, default console) selects."""
    backend = str(settings.get("CSIRT_MAIL_BACKEND", "console")).strip() or "console"
    sender = str(settings.get("CSIRT_SMTP_FROM", "csirt@localhost")).strip()
    if backend == "console":
        return ConsoleMailer(sender=sender)
    if backend != "smtp":
        raise MailConfigError(f"CSIRT_MAIL_BACKEND: must be smtp or console, not {backend!r}")
    host = str(settings.get("CSIRT_SMTP_HOST", "localhost")).strip()
    raw_port = str(settings.get("CSIRT_SMTP_PORT", "25")).strip()
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise MailConfigError(f"CSIRT_SMTP_PORT: must be a port number, not {raw_port!r}")
    return SmtpMailer(host=host, port=int(raw_port), sender=sender)
