from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from csirt.demo_story import founding_facts
from csirt.documents import blocks
from csirt.documents.builders._common import obligation_assessment, obligation_label
from csirt.documents.facts import MeasureStatus, Obligation, Precision, line_date

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
        (680_000, False, "ja", "680,000人"),  # exact: as it is, without 約
        (680_000, True, "ja", "約68万人"),  # an estimate, rounded the Japanese way
        (681_572, True, "ja", "約68万人"),
        (15_000, True, "ja", "約1.5万人"),
        (1_000, True, "ja", "約1,000人"),
        (1_572, False, "ja", "1,572人"),
        (680_000, True, "en", "about 680,000 persons"),
        (1, False, "en", "1 person"),
    ],
)
def test_persons(persons: int, estimated: bool, lang: str, text: str) -> None:
    assert blocks.format_persons(persons, estimated, lang) == text


def test_persons_upper_bound() -> None:
    assert blocks.format_persons(393, False, "ja", maximum=True) == "最大393人"
    assert blocks.format_persons(393, True, "en", maximum=True) == "up to 393 persons"


@pytest.mark.parametrize(
    ("day", "style", "text"),
    [
        (date(2015, 12, 14), "wareki", "平成27年(2015年)12月14日（月）"),
        (date(2024, 12, 14), "wareki", "令和6年(2024年)12月14日（土）"),
        (date(2019, 5, 1), "wareki", "令和元年(2019年)5月1日（水）"),
        (date(2019, 4, 30), "wareki", "平成31年(2019年)4月30日（火）"),
        (date(2015, 12, 14), "seireki", "2015年12月14日（月）"),
    ],
)
def test_letter_date(day: date, style: str, text: str) -> None:
    assert blocks.format_letter_date(day, "ja", style) == text
    assert blocks.format_letter_date(date(2015, 12, 14), "en") == "Monday 14 December 2015"


def test_precision_carried_through() -> None:
    zone = ZoneInfo("Asia/Tokyo")
    moment = datetime(2015, 6, 24, 20, 0, tzinfo=zone)
    assert blocks.format_datetime(moment, Precision.APPROX, "ja", zone) == "2015年6月24日 午後8時頃"
    assert blocks.format_datetime(moment, Precision.MONTH, "ja", zone) == "2015年6月"
    assert blocks.format_datetime(moment, Precision.MONTH, "en", zone) == "June 2015"
    assert blocks.format_datetime(moment, Precision.MINUTE, "ja", zone) == "2015年6月24日 20:00"
    noon = datetime(2015, 6, 24, 12, 30, tzinfo=zone)
    assert blocks.format_datetime(noon, Precision.APPROX, "ja", zone).endswith("午後12時30分頃")


def test_no_break_joins_dates_and_numbers_only() -> None:
    joined = blocks.no_break("期限2016年3月31日、受講率98%")
    assert joined.replace(blocks.WORD_JOINER, "") == "期限2016年3月31日、受講率98%"
    assert "2\u20600\u20601\u20606\u2060年" in joined
    assert "期\u2060限" not in joined


def test_as_of_leaves_out_what_came_later() -> None:
    facts = founding_facts("ja", as_of=date(2015, 12, 14))
    assert max(e.occurred_at for e in facts.events).date() <= date(2015, 12, 14)
    assert facts.committee is None
    assert facts.recommendations == ()
    assert facts.responses.police == ""
    assert all(m.status is not MeasureStatus.DONE for m in facts.measures)
    later = founding_facts("ja", as_of=date(2016, 3, 31))
    assert later.responses.police.startswith("2016年3月2日")
    assert later.committee is not None
    assert later.recommendations
    assert line_date("2016年3月2日、告訴") == date(2016, 3, 2)
    assert line_date("2015-09-07: desk") == date(2015, 9, 7)
    assert line_date("告訴した") is None


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
    # The city's own figure (overlaps removed), not the sum of the data sets (681,572).
    assert FACTS.total_persons == 680_000
    assert FACTS.persons_total_note == "重複を除く"
    no_total = dataclasses.replace(FACTS, persons_total=None)
    # Without it, data sets within another add nobody: 681,572 - 125 - 393.
    assert no_total.total_persons == 681_054
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
