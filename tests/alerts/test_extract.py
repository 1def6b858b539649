"""Indicators in a mail's text (pure), and the alert a mail raises."""

from __future__ import annotations

from csirt.alerts.extract import extract, refang
from csirt.alerts.mailbox import alert_from_mail


def test_defanged_indicators_are_found_once_each():
    text = (
        "hxxps://evil[.]example/a?b=1 from bad[@]evil[.]example, 203.0.113[.]5 twice 203.0.113.5; "
        "2001:db8::1 and c2.example.org; invoice.exe is a file, not a host; "
        "md5 44D88612FEA8A8F36DE82E1278ABB02F"
    )
    assert refang("evil[.]example") == "evil.example"
    assert extract(text) == [
        {"type": "url", "value": "https://evil.example/a?b=1"},
        {"type": "email", "value": "bad@evil.example"},
        {"type": "ip", "value": "203.0.113.5"},
        {"type": "ip", "value": "2001:db8::1"},
        {"type": "hash", "value": "44d88612fea8a8f36de82e1278abb02f", "hash_algorithm": "md5"},
        {"type": "domain", "value": "c2.example.org"},
    ]


def test_a_mail_keeps_only_what_the_observables_rules_accept():
    raw = (
        b"Subject: =?utf-8?b?5LiN5a+p44Gq44Oh44O844Or?=\r\n"
        b"Message-ID: <m1@example.jp>\r\n"
        b"Date: not a date\r\n\r\n"
        b"see http://[::1 and http://ok.example/x and 999.1.1.1\r\n"
    )
    alert = alert_from_mail(raw)
    assert (alert.source, alert.source_ref, alert.title) == (
        "mailbox",
        "<m1@example.jp>",
        "不審なメール",
    )
    assert alert.occurred_at is None
    assert [(o["type"], o["value"]) for o in alert.observables] == [("url", "http://ok.example/x")]


def test_a_mail_without_message_id_is_known_by_its_hash():
    alert = alert_from_mail(b"Subject: x\r\n\r\nbody\r\n")
    assert alert.source_ref.startswith("sha256:")
    assert alert_from_mail(b"Subject: x\r\n\r\nbody\r\n").source_ref == alert.source_ref
