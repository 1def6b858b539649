"""``csirt alerts fetch`` against a real local IMAP server (dovecot over TLS)."""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Config, ConfigError
from csirt.alerts.models import Alert
from csirt.audit.models import AuditEvent
from tests.alerts import dovecot

pytestmark = pytest.mark.slow

PHISH = (
    "From: SOC <soc@example.jp>\r\n"
    "To: csirt-alerts@example.jp\r\n"
    "Subject: =?utf-8?b?44OV44Kj44OD44K344Oz44Kw44Oh44O844Or44Gu5aCx5ZGK?=\r\n"
    "Message-ID: <phish-001@soc.example.jp>\r\n"
    "Date: Sun, 06 Dec 2026 10:00:00 +0900\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Link hxxps://login.evil[.]example/path?id=7 from attacker[@]evil-mail[.]example\r\n"
    "Sender IP 198.51.100[.]23, payload sha256 "
    "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\r\n"
    "C2 domain c2.evil.example\r\n"
)
HTML = (
    "From: EDR <edr@example.jp>\r\n"
    "Subject: EDR detection\r\n"
    "Message-ID: <edr-77@edr.example.jp>\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><body><p>Blocked <b>203.0.113.77</b></p></body></html>\r\n"
)


@pytest.fixture
def imap() -> Iterator[dovecot.Dovecot]:
    if not dovecot.available():
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    yield from dovecot.start()


@pytest.fixture
def config(database_url: str, tmp_path: Path, imap: dovecot.Dovecot) -> Config:
    env = {
        "CSIRT_DATABASE_URL": database_url,
        "CSIRT_SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "CSIRT_COOKIE_SECURE": "false",
        "CSIRT_ALERTS_IMAP_HOST": "localhost",
        "CSIRT_ALERTS_IMAP_PORT": str(imap.port),
        "CSIRT_ALERTS_IMAP_USER": dovecot.USER,
        "CSIRT_ALERTS_IMAP_PASSWORD_FILE": str(imap.password_file),
        "CSIRT_ALERTS_IMAP_CAFILE": str(imap.cafile),
    }
    return Config.from_env(env, instance_path=tmp_path / "instance").with_(testing=True)


def _unseen(imap: dovecot.Dovecot) -> list[bytes]:
    context = ssl.create_default_context(cafile=str(imap.cafile))
    client = imaplib.IMAP4_SSL("localhost", imap.port, ssl_context=context)
    try:
        client.login(dovecot.USER, dovecot.PASSWORD)
        client.select("INBOX")
        _status, found = client.uid("SEARCH", None, "UNSEEN")
        return found[0].split()
    finally:
        client.logout()


def test_fetch_turns_unseen_mail_into_alerts_once(
    imap, runner, db_session: Session, users, caplog: pytest.LogCaptureFixture
):
    lead = users.create(roles=["lead"]).user
    db_session.commit()
    imap.deliver("phish", PHISH.encode())
    imap.deliver("edr", HTML.encode())
    caplog.set_level(logging.DEBUG)

    result = runner.invoke(args=["alerts", "fetch"])
    assert result.exit_code == 0, result.output
    assert "mails 2, new alerts 2, repeats 0" in result.output
    alerts = {a.source_ref: a for a in db_session.scalars(select(Alert))}
    phish = alerts["<phish-001@soc.example.jp>"]
    assert phish.source == "mailbox"
    assert phish.title == "フィッシングメールの報告"
    assert phish.occurred_at is not None
    assert phish.occurred_at.isoformat().startswith("2026-12-06T01:00")
    assert {(o["type"], o["value"]) for o in phish.observables} >= {
        ("url", "https://login.evil.example/path?id=7"),
        ("email", "attacker@evil-mail.example"),
        ("ip", "198.51.100.23"),
        ("hash", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"),
        ("domain", "c2.evil.example"),
    }
    edr = alerts["<edr-77@edr.example.jp>"]
    assert ("ip", "203.0.113.77") in {(o["type"], o["value"]) for o in edr.observables}
    assert "<" not in edr.description  # the HTML's text, not its markup
    assert _unseen(imap) == []  # both marked seen
    # Nothing of the mails' content in the log or the command's output.
    logged = caplog.text + result.output
    for secret in ("evil", "phish", "フィッシング", "203.0.113", "EDR detection"):
        assert secret not in logged
    fetched = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "alert.fetch"))
    assert fetched is not None
    assert fetched.details == {"mails": 2, "new": 2, "repeats": 0}

    # Nothing unseen: nothing new. The same mail delivered again is counted, not added.
    assert "mails 0, new alerts 0" in runner.invoke(args=["alerts", "fetch"]).output
    imap.deliver("phish-again", PHISH.encode())
    again = runner.invoke(args=["alerts", "fetch"])
    assert "mails 1, new alerts 0, repeats 1" in again.output
    db_session.expire_all()
    assert db_session.get(Alert, phish.id).count == 2
    assert lead.id is not None


def test_a_wrong_password_fails_clearly(imap, runner, config):
    imap.password_file.write_text("wrong-password\n", encoding="utf-8")
    result = runner.invoke(args=["alerts", "fetch"])
    assert result.exit_code != 0
    assert "mailbox error: error" in result.output


def test_the_mailbox_settings_are_checked_at_start(tmp_path: Path):
    base = {"CSIRT_SECRET_KEY": "test-secret-key-0123456789abcdef0123456789"}
    with pytest.raises(ConfigError, match="CSIRT_ALERTS_IMAP_USER"):
        Config.from_env(
            {**base, "CSIRT_ALERTS_IMAP_HOST": "imap.example.jp"}, instance_path=tmp_path
        )
    with pytest.raises(ConfigError, match="CSIRT_ALERTS_IMAP_PASSWORD_FILE"):
        Config.from_env(
            {**base, "CSIRT_ALERTS_IMAP_PASSWORD_FILE": str(tmp_path / "missing")},
            instance_path=tmp_path,
        )
    with pytest.raises(ConfigError, match="CSIRT_ALERTS_IMAP_PORT"):
        Config.from_env({**base, "CSIRT_ALERTS_IMAP_PORT": "99999"}, instance_path=tmp_path)
