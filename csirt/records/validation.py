"""Read record payloads (JSON bodies or form data) into typed values, naming every bad field.

The console forms and the API use the same readers, so both refuse exactly the same input.
Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from csirt.dates import OUT_OF_RANGE, DateRangeError, parse_day, parse_instant
from csirt.triage import Vocabulary
from csirt.triage.exposure import Exposure

MAX_PERSONS = 2_000_000_000  # fits a 32-bit INTEGER column on every backend
TRUE_WORDS = frozenset({"true", "1", "y", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "n", "no", "off", ""})

EXPOSURES = tuple(e.value for e in Exposure)
EVIDENCE_KINDS = ("file", "web_capture")
CUSTODY_ACTIONS = ("collected", "downloaded", "transferred", "other")
MANUAL_CUSTODY_ACTIONS = ("transferred", "other")
TAKEDOWN_KINDS = ("takedown", "cache_removal")
TAKEDOWN_STATUSES = ("requested", "acknowledged", "removed", "refused")
PARTY_KINDS = ("police", "regulator", "jpcert", "vendor", "lawyer", "other")
DIRECTIONS = ("in", "out")
CHANNELS = ("phone", "email", "letter", "visit")


class RecordValidationError(ValueError):
    """Some fields are missing or invalid; ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class Reader:
    """Reads typed fields from a payload, collecting one message per bad field."""

    def __init__(self, payload: Mapping[str, Any], tz: tzinfo) -> None:
        if not isinstance(payload, Mapping):
            raise RecordValidationError({"": "must be a JSON object"})
        self.payload = payload
        self.tz = tz
        self.errors: dict[str, str] = {}

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def done(self) -> None:
        """Raise if any field was bad."""
        if self.errors:
            raise RecordValidationError(self.errors)

    def _raw(self, key: str) -> Any:
        value = self.payload.get(key)
        return value.strip() if isinstance(value, str) else value

    def text(self, key: str, *, required: bool = False, max_len: int = 200) -> str:
        value = self._raw(key)
        if value is None or value == "":
            if required:
                self.fail(key, "is required")
            return ""
        if not isinstance(value, str):
            self.fail(key, "must be a string")
            return ""
        if len(value) > max_len:
            self.fail(key, f"must be at most {max_len} characters")
            return ""
        return value

    def integer(self, key: str, *, required: bool = False, maximum: int = MAX_PERSONS) -> int:
        value = self._raw(key)
        if value is None or value == "":
            if required:
                self.fail(key, "is required")
            return 0
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, "must be a whole number")
            return 0
        if value < 0:
            self.fail(key, "must not be negative")
            return 0
        if value > maximum:
            self.fail(key, f"must be at most {maximum}")
            return 0
        return value

    def boolean(self, key: str) -> bool:
        value = self._raw(key)
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        self.fail(key, "must be true or false")
        return False

    def choice(self, key: str, choices: Collection[str], *, default: str | None = None) -> str:
        value = self._raw(key)
        if (value is None or value == "") and default is not None:
            return default
        if not isinstance(value, str) or value not in choices:
            self.fail(key, "must be one of " + ", ".join(choices))
            return default or ""
        return value

    def moment(self, key: str, *, required: bool = False) -> datetime | None:
        """An ISO 8601 date-time; without an offset it is read in the configured zone."""
        value = self._raw(key)
        if value is None or value == "":
            if required:
                self.fail(key, "is required")
            return None
        if not isinstance(value, str):
            self.fail(key, "must be an ISO 8601 date-time")
            return None
        try:
            return parse_instant(value, self.tz)
        except DateRangeError:
            self.fail(key, OUT_OF_RANGE)
            return None
        except ValueError:
            self.fail(key, "must be an ISO 8601 date-time")
            return None

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self._raw(key)
        if value is None or value == "":
            if required:
                self.fail(key, "is required")
            return None
        try:
            if isinstance(value, str):
                return parse_day(value)
        except DateRangeError:
            self.fail(key, OUT_OF_RANGE)
            return None
        except ValueError:
            pass
        self.fail(key, "must be a date (YYYY-MM-DD)")
        return None

    def items(self, key: str, vocabulary: Vocabulary) -> tuple[str, ...]:
        """A list of vocabulary keys (each once, in order)."""
        raw = self.payload.get(key)
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.fail(key, "must be a list of data items")
            return ()
        items: list[str] = []
        for index, item in enumerate(raw):
            if not isinstance(item, str) or item not in vocabulary:
                self.fail(f"{key}.{index}", "unknown data item")
            elif item not in items:
                items.append(item)
        return tuple(items)

    def url(self, key: str, *, required: bool = False) -> str:
        value = self.text(key, required=required, max_len=2000)
        if value:
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                self.fail(key, "must be an http(s) URL")
                return ""
        return value


@dataclass(frozen=True)
class DatasetInput:
    name: str
    holder: str
    items: tuple[str, ...]
    persons: int
    persons_estimated: bool
    exposure: str
    exposed_from: datetime | None
    exposed_until: datetime | None
    encrypted: bool
    secondary_damage: str


def read_dataset(payload: Mapping[str, Any], vocabulary: Vocabulary, tz: tzinfo) -> DatasetInput:
    """A data set: name, holder, vocabulary items, persons, exposure and its window."""
    r = Reader(payload, tz)
    name = r.text("name", required=True)
    holder = r.text("holder")
    items = r.items("items", vocabulary)
    persons = r.integer("persons", required=True)
    persons_estimated = r.boolean("persons_estimated")
    exposure = r.choice("exposure", EXPOSURES)
    exposed_from = r.moment("exposed_from")
    exposed_until = r.moment("exposed_until")
    if exposed_from and exposed_until and exposed_until < exposed_from:
        r.fail("exposed_until", "must not be before exposed_from")
    encrypted = r.boolean("encrypted")
    secondary_damage = r.text("secondary_damage", max_len=10_000)
    r.done()
    return DatasetInput(
        name=name,
        holder=holder,
        items=items,
        persons=persons,
        persons_estimated=persons_estimated,
        exposure=exposure,
        exposed_from=exposed_from,
        exposed_until=exposed_until,
        encrypted=encrypted,
        secondary_damage=secondary_damage,
    )


@dataclass(frozen=True)
class EvidenceInput:
    kind: str
    title: str
    description: str
    url: str | None
    captured_at: datetime | None


def read_evidence(payload: Mapping[str, Any], tz: tzinfo, *, has_file: bool) -> EvidenceInput:
    """Evidence metadata; a web capture needs its URL and capture time. The file is required."""
    r = Reader(payload, tz)
    kind = r.choice("kind", EVIDENCE_KINDS, default="file")
    title = r.text("title")
    description = r.text("description", max_len=10_000)
    is_capture = kind == "web_capture"
    url = r.url("url", required=is_capture)
    captured_at = r.moment("captured_at", required=is_capture)
    if not has_file:
        r.fail("file", "is required")
    r.done()
    return EvidenceInput(kind, title, description, url or None, captured_at)


@dataclass(frozen=True)
class CustodyInput:
    action: str
    note: str


def read_custody(payload: Mapping[str, Any], tz: tzinfo) -> CustodyInput:
    """A hand-made custody entry (transfer or other), with a note saying what happened."""
    r = Reader(payload, tz)
    action = r.choice("action", MANUAL_CUSTODY_ACTIONS)
    note = r.text("note", required=True, max_len=2000)
    r.done()
    return CustodyInput(action, note)


@dataclass(frozen=True)
class TakedownInput:
    kind: str
    recipient: str
    url: str
    requested_at: datetime | None
    status: str
    answer: str
    answered_at: datetime | None
    evidence_id: int | None


def read_takedown(payload: Mapping[str, Any], tz: tzinfo) -> TakedownInput:
    """A takedown or search-cache removal request."""
    r = Reader(payload, tz)
    kind = r.choice("kind", TAKEDOWN_KINDS, default="takedown")
    recipient = r.text("recipient", required=True)
    url = r.url("url", required=True)
    requested_at = r.moment("requested_at")
    status = r.choice("status", TAKEDOWN_STATUSES, default="requested")
    answer = r.text("answer", max_len=10_000)
    answered_at = r.moment("answered_at")
    if requested_at and answered_at and answered_at < requested_at:
        r.fail("answered_at", "must not be before requested_at")
    evidence_id = r.integer("evidence_id", maximum=2**31 - 1) or None
    r.done()
    return TakedownInput(
        kind, recipient, url, requested_at, status, answer, answered_at, evidence_id
    )


@dataclass(frozen=True)
class TakedownAnswer:
    status: str
    answer: str
    answered_at: datetime | None


def read_takedown_answer(payload: Mapping[str, Any], tz: tzinfo) -> TakedownAnswer:
    """A new status for a request and the answer received."""
    r = Reader(payload, tz)
    status = r.choice("status", TAKEDOWN_STATUSES)
    answer = r.text("answer", max_len=10_000)
    answered_at = r.moment("answered_at")
    r.done()
    return TakedownAnswer(status, answer, answered_at)


def read_note(payload: Mapping[str, Any], tz: tzinfo) -> str:
    """A note's Markdown body."""
    r = Reader(payload, tz)
    body = r.text("body", required=True, max_len=100_000)
    r.done()
    return body


@dataclass(frozen=True)
class LiaisonInput:
    party_kind: str
    party: str
    contact_at: datetime
    direction: str
    summary: str


def read_liaison(payload: Mapping[str, Any], tz: tzinfo) -> LiaisonInput:
    """A contact with police, the regulator, JPCERT/CC, a vendor, a lawyer or another party."""
    r = Reader(payload, tz)
    party_kind = r.choice("party_kind", PARTY_KINDS)
    party = r.text("party", required=True)
    contact_at = r.moment("contact_at", required=True)
    direction = r.choice("direction", DIRECTIONS, default="out")
    summary = r.text("summary", max_len=20_000)
    r.done()
    assert contact_at is not None
    return LiaisonInput(party_kind, party, contact_at, direction, summary)


@dataclass(frozen=True)
class InquiryInput:
    channel: str
    received_on: date
    topic: str
    answered: bool


def read_inquiry(payload: Mapping[str, Any], tz: tzinfo) -> InquiryInput:
    """A public inquiry: channel, day received, topic, answered."""
    r = Reader(payload, tz)
    channel = r.choice("channel", CHANNELS)
    received_on = r.day("received_on", required=True)
    topic = r.text("topic")
    answered = r.boolean("answered")
    r.done()
    assert received_on is not None
    return InquiryInput(channel, received_on, topic, answered)
