"""The shared-mailbox feed: each unseen mail becomes an alert (``csirt alerts fetch``).

IMAP over TLS only (certificate and host name verified); the password comes from a file. A mail
gives the alert its subject (title) and Message-ID (source reference: the same mail fetched
twice is one alert), and the observables found in its text; it is marked seen once its alert is
committed. Nothing of a mail's content is ever logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from config import Config
from csirt.alerts.extract import extract
from csirt.alerts.observables import normalise_all
from csirt.alerts.service import AlertInput

SOURCE = "mailbox"
MAX_MAILS = 200  # per run; the next run takes the rest
MAX_BODY = 20000


class MailboxError(Exception):
    """The mailbox is not configured, or cannot be reached or read."""


@dataclass(frozen=True)
class MailboxSettings:
    host: str
    port: int
    user: str
    password_file: Path
    mailbox: str
    cafile: Path | None

    @classmethod
    def from_config(cls, config: Config) -> MailboxSettings:
        if not config.alerts_imap_host or config.alerts_imap_password_file is None:
            raise MailboxError("no mailbox: set CSIRT_ALERTS_IMAP_HOST, _USER and _PASSWORD_FILE")
        return cls(
            config.alerts_imap_host,
            config.alerts_imap_port,
            config.alerts_imap_user,
            config.alerts_imap_password_file,
            config.alerts_imap_mailbox,
            config.alerts_imap_cafile,
        )

    def tls(self) -> ssl.SSLContext:
        """Verified TLS (the system's CAs, plus CSIRT_ALERTS_IMAP_CAFILE when set)."""
        context = ssl.create_default_context()
        if self.cafile is not None:
            context.load_verify_locations(cafile=str(self.cafile))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = str(part.get_content())
    except (LookupError, ValueError):
        return ""
    if part.get_content_type() == "text/html":
        parser = _Text()
        parser.feed(text)
        text = " ".join(parser.parts)
    return text[:MAX_BODY]


def alert_from_mail(raw: bytes) -> AlertInput:
    """The alert a mail raises."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    ref = " ".join(str(message.get("Message-ID", "")).split())[:255]
    if not ref:
        ref = "sha256:" + hashlib.sha256(raw).hexdigest()
    subject = " ".join(str(message.get("Subject", "")).split())[:200] or "(no subject)"
    occurred = None
    if message.get("Date"):
        try:
            occurred = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            occurred = None
        if occurred is not None and occurred.tzinfo is None:
            occurred = None
    body = _body(message)
    return AlertInput(
        source=SOURCE,
        source_ref=ref,
        type="mail",
        title=subject,
        description=body,
        occurred_at=occurred,
        # What the text seems to hold, kept only if the observables rules accept it.
        observables=normalise_all(extract(f"{subject}\n{body}"), drop_invalid=True)[0],
    )


@dataclass
class FetchResult:
    mails: int = 0
    new: int = 0
    repeats: int = 0


def fetch(
    settings: MailboxSettings,
    keep: Callable[[AlertInput], bool],
    *,
    connect: Callable[..., Any] = imaplib.IMAP4_SSL,
) -> FetchResult:
    """Raise an alert for each unseen mail (``keep`` stores and commits it, True if new), then
    mark it seen. Errors name their kind only, never a mail's content."""
    try:
        password = settings.password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise MailboxError(f"cannot read the password file: {type(exc).__name__}") from None
    result = FetchResult()
    try:
        imap = connect(settings.host, settings.port, ssl_context=settings.tls(), timeout=30)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"cannot connect to the mailbox: {type(exc).__name__}") from None
    try:
        imap.login(settings.user, password)
        status, _data = imap.select(settings.mailbox)
        if status != "OK":
            raise MailboxError("cannot open the mailbox folder")
        status, found = imap.uid("SEARCH", None, "UNSEEN")
        uids = found[0].split()[:MAX_MAILS] if status == "OK" and found and found[0] else []
        for uid in uids:
            status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None) if parts else None
            if status != "OK" or not isinstance(raw, bytes):
                continue
            result.mails += 1
            if keep(alert_from_mail(raw)):
                result.new += 1
            else:
                result.repeats += 1
            imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"mailbox error: {type(exc).__name__}") from None
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
    return result
