from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from csirt.demo_story import founding_facts
from csirt.documents import blocks
from csirt.documents.builders._common import obligation_assessment, obligation_label
from csirt.documents.facts import Obligation, Precision

TOKYO = ZoneInfo("Asia/Tokyo")
FACTS = founding_facts()


def test_dates_in_both_languages_and_in_the_documents_zone() -> None:
    moment = datetime(2015, 6, 24, 11, 0, tzinfo=UTC)  # 20:00 in Tokyo
    assert blocks.format_datetime(moment, Precision.MINUTE, "ja", TOKYO) == "2015年6月24日 20:00"
    assert blocks.format_datetime(moment, Precision.DAY, "ja", TOKYO) == "2015年6月24日"
    assert blocks.format_datetime(moment, Precision.MINUTE, "en", TOKYO) == "24 June 2015 20:00"
    late = datetime(2015, 6, 24, 16, 0, tzinfo=UTC)  # already the 25th in Tokyo
    assert blocks.format_datetime(late, Precision.DAY, "ja", TOKYO) == "2015年6月25日"
    assert blocks.format_date(date(2016, 12, 1), "en") == "1 December 2016"


@pytest.mark.parametrize(
    ("persons", "estimated", "lang", "text"),
    [
        (680_000, False, "ja", "680,000人"),
        (680_000, True, "ja", "約680,000人"),
        (680_000, True, "en", "approx. 680,000 persons"),
        (1, False, "en", "1 person"),
    ],
)
def test_persons(persons: int, estimated: bool, lang: str, text: str) -> None:
    assert blocks.format_persons(persons, estimated, lang) == text


def _obligation(due_day: int, done_day: int | None) -> Obligation:
    def at(day: int) -> datetime:
        return datetime(2016, 1, day, 3, 0, tzinfo=UTC)

    return Obligation("ppc_final", at(due_day), at(done_day) if done_day else None)


@pytest.mark.parametrize(
    ("due", "done", "document_day", "ja", "en"),
    [
        (10, 9, 20, "期限内", "On time"),
        (10, 10, 20, "期限内", "On time"),
        (10, 13, 20, "3日遅延", "3 days late"),
        (10, None, 20, "未実施（10日超過）", "Not done (10 days overdue)"),
        (10, None, 5, "未実施", "Not done"),
    ],
)
def test_obligation_assessment(
    due: int, done: int | None, document_day: int, ja: str, en: str
) -> None:
    facts = dataclasses.replace(FACTS, document_date=date(2016, 1, document_day))
    obligation = _obligation(due, done)
    assert obligation_assessment(facts, obligation, "ja") == ja
    assert obligation_assessment(facts, obligation, "en") == en


def test_obligation_labels() -> None:
    due = datetime(2016, 1, 1, tzinfo=UTC)
    assert obligation_label(Obligation("ppc_final", due), "ja") == "個人情報保護委員会への確報"
    assert obligation_label(Obligation("ppc_final", due), "en") == "Final report to the PPC"
    assert obligation_label(Obligation("custom", due), "ja") == "custom"
    assert obligation_label(Obligation("custom", due, label="独自"), "en") == "独自"


def test_demo_case_numbers() -> None:
    assert FACTS.data_sets[0].persons == 680_000
    assert FACTS.data_sets[1].persons == 1_000
    assert FACTS.total_persons == 681_572
    assert FACTS.total_estimated
    assert FACTS.days_to_first_contact == 92
    assert [e.occurred_at for e in FACTS.timeline] == sorted(e.occurred_at for e in FACTS.events)
    assert founding_facts("en").title == "Misconduct by a city employee"


def test_facts_validation() -> None:
    with pytest.raises(ValueError, match="lang"):
        dataclasses.replace(FACTS, lang="fr")
    with pytest.raises(Exception, match="Nowhere"):
        dataclasses.replace(FACTS, timezone="Nowhere/Town")
    assert dataclasses.replace(FACTS, first_report_at=None).days_to_first_contact is None


def test_facts_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        FACTS.title = "x"  # type: ignore[misc]
