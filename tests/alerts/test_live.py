"""Alerts and webhooks through the real server: gunicorn on a real database (the story suite's
server), the real ``csirt`` command, a real dovecot, a real HTTP receiver and SMTP sink.

De-duplication of a SIEM's alert, the mailbox feed, and a webhook posted right after the commit
that caused it, signed, and retried by ``csirt webhooks send`` after a 500 and the back-off (the
story server's ``CSIRT_WEBHOOKS_FIRST_RETRY_S``, shorter than the default 30 s; the mailbox is
fetched while it runs). Every request is timed like the story's (a 5xx or over 2 s fails).
"""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from csirt.webhooks.service import FIRST_RETRY
from tests.alerts import dovecot
from tests.alerts.receiver import Receiver
from tests.alerts.test_mailbox import PHISH
from tests.story.conftest import (
    BIN,
    LATENCIES,
    ROOT,
    WEBHOOK_RETRY_S,
    Server,
    output_dir,
    story_server,
)

pytestmark = [pytest.mark.story, pytest.mark.slow]
__all__ = ["output_dir", "story_server"]  # the story suite's fixtures, used here

SECRET = "live-whsec-0123456789"


@pytest.fixture
def imap() -> Iterator[dovecot.Dovecot]:
    if not dovecot.available():
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    yield from dovecot.start()


def _csirt(server: Server, *args: str, **env: str) -> str:
    result = subprocess.run(
        [str(BIN / "csirt"), *args],
        capture_output=True,
        text=True,
        env={**server.env, **env},
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_alerts_and_webhooks_through_the_real_server(
    story_server: Server, receiver: Receiver, imap: dovecot.Dovecot
):
    server = story_server
    LATENCIES.step = "alerts"
    siem = server.api("siem", server.token("responder", name="siem"))
    lead = server.api("lead", server.token("lead", name="alerts"))
    admin = server.api("admin", server.token("admin", name="hooks"))
    body = {
        "source": "siem-live",
        "source_ref": "rule-7:evt-1",
        "type": "intrusion",
        "title": "管理画面への総当たり攻撃",
        "severity": "high",
        "observables": [{"type": "ip", "value": "198.51.100[.]77", "ioc": True}],
    }

    # The same source reference twice: one alert, counted twice; the leads are told once.
    first = siem.post("/api/v1/alerts", json=body)
    assert first.status_code == 201, first.text
    second = siem.post("/api/v1/alerts", json=body)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["count"] == 2
    listed = lead.get("/api/v1/alerts", params={"source": "siem-live"}).json()["items"]
    assert [a["count"] for a in listed] == [2]
    number = f"#{first.json()['id']}"
    told = server.sink.wait_for("lead@demo.example.jp", match=lambda m: number in str(m["Subject"]))
    assert told
    told = server.sink.to("lead@demo.example.jp")
    assert all("総当たり" not in str(m["Subject"]) for m in told)

    # A webhook; the case opened from the alert is delivered, signed, after one 500.
    hook = admin.post(
        "/api/v1/webhooks",
        json={"name": "SOAR", "url": receiver.url, "secret": SECRET, "events": ["case.created"],
              "max_tlp": "amber"},
    )  # fmt: skip
    assert hook.status_code == 201, hook.text
    receiver.statuses = [500]
    opened = lead.post(
        f"/api/v1/alerts/{first.json()['id']}/open-case", json={"playbook": "unauthorised_access"}
    )
    assert opened.status_code == 201, opened.text
    # Posted right after the commit, by the worker's sender thread (the request did not wait).
    deadline = time.monotonic() + 10
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.received) == 1
    # Backing off after the 500 by the story server's first retry (not the 30 s default).
    deliveries = f"/api/v1/webhooks/{hook.json()['id']}/deliveries"
    (pending,) = admin.get(deliveries).json()["items"]
    assert (pending["status"], pending["attempts"], pending["last_status_code"]) == (
        "pending", 1, 500,
    )  # fmt: skip
    due = datetime.fromisoformat(pending["next_attempt_at"])
    retry = timedelta(seconds=WEBHOOK_RETRY_S)
    assert datetime.fromisoformat(pending["created_at"]) + retry <= due
    assert due <= datetime.now(UTC) + retry  # the attempt is over: due is its time + retry
    assert retry < FIRST_RETRY
    # The command run before the back-off ends sends nothing (checked when it is known to have
    # ended before: on a machine too busy for that it is no proof either way).
    early = _csirt(server, "webhooks", "send")
    if datetime.now(UTC) < due:
        assert "sent 0" in early
        assert len(receiver.received) == 1

    # The shared mailbox (while the back-off runs): the real command against a real IMAP server
    # over TLS.
    imap.deliver("phish", PHISH.encode())
    fetched = _csirt(
        server,
        "alerts",
        "fetch",
        CSIRT_ALERTS_IMAP_HOST="localhost",
        CSIRT_ALERTS_IMAP_PORT=str(imap.port),
        CSIRT_ALERTS_IMAP_USER=dovecot.USER,
        CSIRT_ALERTS_IMAP_PASSWORD_FILE=str(imap.password_file),
        CSIRT_ALERTS_IMAP_CAFILE=str(imap.cafile),
    )
    assert "new alerts 1" in fetched
    mailbox = lead.get("/api/v1/alerts", params={"source": "mailbox"}).json()["items"]
    assert [a["source_ref"] for a in mailbox] == ["<phish-001@soc.example.jp>"]

    # Once the back-off is over, the command sends it (signed), unless the early run already did.
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 1)
    later = _csirt(server, "webhooks", "send")
    assert "sent 1" in later or "sent 1" in early
    assert len(receiver.received) == 2
    headers, raw = receiver.received[-1]
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Csirt-Signature"], signature)
    assert receiver.payloads()[-1]["case"]["reference"] == opened.json()["case_reference"]
    log = admin.get(deliveries).json()["items"]
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("sent", 2, 204)]
    assert LATENCIES.bad("alerts") == []
