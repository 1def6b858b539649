"""Sending mail behind a Protocol: SMTP (smtplib) in production, the console in development.

SMTP uses STARTTLS (``CSIRT_SMTP_TLS=starttls``, the default) or implicit TLS (``tls``) with the
system's trusted certificates and host-name verification; ``off`` (plain text) is for a relay
on the same host only. The log mailer writes only that a mail was sent (its kind and the
number of recipients), never its recipient, subject or body: the server log is not a mailbox.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from config import Config


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


TLS_MODES = ("starttls", "tls", "off")


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    timeout: float = 10.0
    tls: str = "starttls"
    # None: the system's trusted certificates. Tests pass a context trusting their own CA.
    context: ssl.SSLContext | None = field(default=None, compare=False)

    def _context(self) -> ssl.SSLContext:
        # create_default_context verifies the certificate and the host name (CERT_REQUIRED).
        return self.context or ssl.create_default_context()

    def send(self, mail: Mail) -> None:
        """Deliver over SMTP (one connection per message: reminders are few)."""
        message = build_message(mail, self.sender)
        if self.tls == "tls":
            with smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            ) as smtp:
                smtp.send_message(message)
            return
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.tls == "starttls":
                # Refuses to go on in clear text if the server does not offer STARTTLS.
                smtp.starttls(context=self._context())
            smtp.send_message(message)


@dataclass
class LogMailer:
    """Development: log that a mail was sent instead of sending it; keep it in ``sent``.

    Only the kind (the first word of the subject's bracketed tag, or "mail") and the number of
    recipients are printed: subjects and bodies can name cases and people.
    """

    sender: str = "csirt@localhost"
    stream: TextIO | None = None
    sent: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> None:
        """Write one line to the stream (stderr by default): kind and recipient count only."""
        self.sent.append(mail)
        out = self.stream or sys.stderr
        recipients = len([a for a in mail.to.split(",") if a.strip()])
        out.write(f"csirt mail: sent kind={mail_kind(mail)} recipients={recipients}\n")


def mail_kind(mail: Mail) -> str:
    """A content-free label of a mail: ``reminder``, ``digest``... from a ``[csirt:kind]`` tag."""
    subject = mail.subject
    if subject.startswith("[csirt:") and "]" in subject:
        return subject[7 : subject.index("]")].strip() or "mail"
    return "mail"


def mailer_from_settings(config: Config) -> Mailer:
    """The mailer that CSIRT_MAIL_BACKEND (smtp | log, default log) selects."""
    if config.mail_backend == "log":
        return LogMailer(sender=config.smtp_from)
    return SmtpMailer(
        host=config.smtp_host, port=config.smtp_port, sender=config.smtp_from, tls=config.smtp_tls
    )
