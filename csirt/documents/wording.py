"""How documents write dates, times and numbers of persons (Japanese public-document style)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from csirt.documents.facts import DataSet, MeasureStatus, Precision

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(day: date, lang: str) -> str:
    """2015年6月24日 / 24 June 2015 (the compact form tables use)."""
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


# The first day of each era (元号), newest first.
_ERAS = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1868, 10, 23), "明治"),
)
_WEEKDAYS_JA = "月火水木金土日"
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def wareki_year(day: date) -> str:
    """平成27年 / 令和元年: the era year of a day."""
    for start, name in _ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年"
    return f"{day.year}年"


def format_letter_date(day: date, lang: str, style: str = "wareki") -> str:
    """The date a public document is issued on, with its weekday: 平成27年(2015年)12月14日（月）
    (style "wareki", as cities write it) or 2015年12月14日（月）; Monday 14 December 2015."""
    if lang != "ja":
        return f"{_WEEKDAYS_EN[day.weekday()]} {format_date(day, lang)}"
    weekday = f"（{_WEEKDAYS_JA[day.weekday()]}）"
    if style == "wareki":
        return f"{wareki_year(day)}({day.year}年){day.month}月{day.day}日{weekday}"
    return f"{format_date(day, lang)}{weekday}"


def _clock_ja(local: datetime) -> str:
    half = "午前" if local.hour < 12 else "午後"
    hour = local.hour % 12 if local.hour % 12 or local.hour < 12 else 12
    minutes = f"{local.minute}分" if local.minute else ""
    return f"{half}{hour}時{minutes}"


def format_datetime(moment: datetime, precision: Precision, lang: str, zone: ZoneInfo) -> str:
    """A timeline date in the document's zone, as precise as the source: the month only
    (2015年4月), the day, an approximate time (午後8時頃) or HH:MM."""
    local = moment.astimezone(zone)
    if precision is Precision.MONTH:
        if lang == "ja":
            return f"{local.year}年{local.month}月"
        return f"{_MONTHS_EN[local.month - 1]} {local.year}"
    text = format_date(local.date(), lang)
    if precision is Precision.MINUTE:
        text += f" {local:%H:%M}"
    elif precision is Precision.APPROX:
        text += f" {_clock_ja(local)}頃" if lang == "ja" else f", about {local:%H:%M}"
    return text


def format_persons(persons: int, estimated: bool, lang: str, *, maximum: bool = False) -> str:
    """A number of persons as a public body states it: exact figures as they are (1,572人),
    estimates rounded the Japanese way (約68万人; under 10,000: 約1,000人), upper bounds as
    最大393人. English: 1,572 persons / about 680,000 persons / up to 393 persons."""
    if lang == "ja":
        if maximum:
            return f"最大{persons:,}人"
        if estimated and persons >= 10_000:
            man, rest = divmod(persons, 10_000)
            if rest and man < 10:  # one decimal under 100,000: 約1.5万人
                return f"約{persons / 10_000:.1f}万人".replace(".0万", "万")
            return f"約{round(persons / 10_000):,}万人"
        return f"{'約' if estimated else ''}{persons:,}人"
    unit = "person" if persons == 1 else "persons"
    prefix = "up to " if maximum else "about " if estimated else ""
    return f"{prefix}{persons:,} {unit}"


def data_set_persons(data_set: DataSet, lang: str) -> str:
    """A data set's count as stated (its overlap is noted under the table)."""
    return format_persons(
        data_set.persons, data_set.persons_estimated, lang, maximum=data_set.persons_max
    )


def item_labels(data_set: DataSet, lang: str) -> str:
    """The items of a data set joined the way each language lists them."""
    labels = [item.label_ja if lang == "ja" else item.label_en for item in data_set.items]
    return "、".join(labels) if lang == "ja" else ", ".join(labels)


STATUS_LABELS: dict[str, dict[MeasureStatus, str]] = {
    "ja": {
        MeasureStatus.PLANNED: "予定",
        MeasureStatus.IN_PROGRESS: "実施中",
        MeasureStatus.DONE: "実施済み",
    },
    "en": {
        MeasureStatus.PLANNED: "Planned",
        MeasureStatus.IN_PROGRESS: "In progress",
        MeasureStatus.DONE: "Done",
    },
}
