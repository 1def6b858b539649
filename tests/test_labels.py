"""Display names and times in the reader's language (csirt.labels, csirt.i18n; issue 18 item 6).

The catalogs' Japanese for strings added this round is merged by the lead, so Japanese is
asserted here only where it comes from the playbooks or from existing catalog entries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from flask import Flask

from csirt import labels
from csirt.i18n import format_day, format_month, format_time

MOMENT = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo


def in_lang(app: Flask, lang: str) -> object:
    return app.test_request_context("/console/", headers={"Accept-Language": lang})


@pytest.mark.parametrize(
    ("lang", "time", "day", "month"),
    [
        ("ja", "2026年12月6日 23:00 JST", "2026年12月6日", "2026年12月"),
        ("en", "6 Dec 2026 23:00 JST", "6 Dec 2026", "Dec 2026"),
    ],
)
def test_one_written_form_of_a_moment_with_its_zone(
    app: Flask, lang: str, time: str, day: str, month: str
) -> None:
    with in_lang(app, lang):  # type: ignore[attr-defined]
        assert format_time(MOMENT) == time
        assert format_time(MOMENT, "short") == time  # old call sites get the same form
        assert format_time(MOMENT.isoformat()) == time  # a stored JSON result
        assert format_time(None) == ""
        assert format_day(MOMENT) == day
        assert format_day(date(2026, 12, 6)) == day
        assert format_month(date(2026, 12, 6)) == month


def test_a_timeline_event_is_shown_as_precisely_as_it_is_known(app: Flask) -> None:
    with in_lang(app, "ja"):  # type: ignore[attr-defined]
        for precision, shown in [
            ("minute", "2026年12月6日 23:00 JST"),
            ("day", "2026年12月6日"),
            ("month", "2026年12月"),
        ]:
            event = SimpleNamespace(occurred_at=MOMENT, precision=precision)
            assert labels.event_time(event) == shown


def test_playbook_text_follows_the_reader_and_what_people_wrote_stays(app: Flask) -> None:
    with in_lang(app, "en"):  # type: ignore[attr-defined]
        assert labels.catalog_text("警察への相談") == "Consult the police"
        assert labels.catalog_text("名簿の件数を確認") == "名簿の件数を確認"
        assert (
            labels.with_catalog_titles("Required task not done: 警察への相談")
            == "Required task not done: Consult the police"
        )
    with in_lang(app, "ja"):  # type: ignore[attr-defined]
        assert labels.catalog_text("Consult the police") == "警察への相談"


def test_code_words_become_words(app: Flask) -> None:
    with in_lang(app, "ja"):  # type: ignore[attr-defined]
        assert labels.case_role_label("privacy_officer") == "個人情報保護担当"
        assert labels.case_role_label("creator") == "作成者"
        assert labels.actor_name("tanaka") == "tanaka"
        assert labels.law_citation("個人情報保護法68条1項") == "個人情報保護法68条1項"
    with in_lang(app, "en"):  # type: ignore[attr-defined]
        assert labels.auto_event_title("Priority P3 → P1") == "Priority P3 → P1"
        assert labels.auto_event_title("Phase detect → closed (resolved)") == (
            "Phase Detect → Closed (Resolved)"
        )
        assert labels.auto_event_title("名簿を誤送信") == "名簿を誤送信"
        assert labels.triage_trigger("case fields: aware_at, insider") == (
            "the case's facts changed"
        )
        assert labels.change_value("facts.insider", True) == "Yes"
        assert labels.law_citation("個人情報保護法68条1項、同法施行規則44条1項") == (
            "APPI Art. 68(1); APPI Enforcement Rules Art. 44(1)"
        )
        assert labels.law_citation("番号法29条の4第2項") == "My Number Act Art. 29-4(2)"
        assert labels.service_message("required: YYYY-MM-DD or an ISO 8601 date and time") == (
            "Enter a day or a time, e.g. 2026-12-06 or 2026-12-06 09:30."
        )
        assert labels.service_message("at most 200 characters") == "At most 200 characters."
        assert labels.service_message("Already translated.") == "Already translated."
        sha = "ab" * 32
        assert labels.custody_note(f"uploaded via console; sha256 {sha}") == (
            f"Uploaded through the console; SHA-256 {sha}"
        )
        assert labels.custody_note("handed to the police") == "handed to the police"
