"""The shared readers: every bad field is named, good input comes out typed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from csirt.catalog import load_catalog
from csirt.records import validation as v
from csirt.yamlfile import playbooks_dir

SHIPPED_VOCABULARY = load_catalog(playbooks_dir()).vocabulary

TOKYO = ZoneInfo("Asia/Tokyo")


def errors_of(call, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(v.RecordValidationError) as caught:
        call(*args, **kwargs)
    return caught.value.errors


def test_dataset_good_input_is_typed_and_deduplicated():
    data = v.read_dataset(
        {
            "name": " 選挙人名簿 北区 ",
            "holder": "選挙管理委員会",
            "items": ["name", "address", "name", "birth_date"],
            "persons": "680000",
            "persons_estimated": "y",
            "exposure": "public_internet",
            "exposed_from": "2015-04-01T10:00",
            "exposed_until": "2015-06-01T10:00:00+00:00",
            "encrypted": False,
        },
        SHIPPED_VOCABULARY,
        TOKYO,
    )
    assert data.name == "選挙人名簿 北区"
    assert data.items == ("name", "address", "birth_date")
    assert data.persons == 680000
    assert data.persons_estimated is True
    assert data.exposed_from == datetime(2015, 4, 1, 1, 0, tzinfo=UTC)  # read in Tokyo time
    assert data.exposed_until == datetime(2015, 6, 1, 10, 0, tzinfo=UTC)


def test_dataset_bad_input_names_every_field():
    errors = errors_of(
        v.read_dataset,
        {
            "name": "x" * 201,
            "items": ["name", "address", "shoe_size", 7],
            "persons": -1,
            "persons_estimated": "perhaps",
            "exposure": "everywhere",
            "exposed_from": "2015-06-01",
            "exposed_until": "2015-04-01",
            "encrypted": 3,
            "holder": 12,
        },
        SHIPPED_VOCABULARY,
        TOKYO,
    )
    assert errors == {
        "name": "must be at most 200 characters",
        "holder": "must be a string",
        "items.2": "unknown data item",
        "items.3": "unknown data item",
        "persons": "must not be negative",
        "persons_estimated": "must be true or false",
        "exposure": "must be one of " + ", ".join(v.EXPOSURES),
        "exposed_until": "must not be before exposed_from",
        "encrypted": "must be true or false",
    }


@pytest.mark.parametrize(
    ("persons", "message"),
    [
        (None, "is required"),
        (True, "must be a whole number"),
        (1.5, "must be a whole number"),
        ("12a", "must be a whole number"),
        (v.MAX_PERSONS + 1, f"must be at most {v.MAX_PERSONS}"),
    ],
)
def test_persons_must_be_a_sane_whole_number(persons, message):
    payload = {"name": "n", "persons": persons, "exposure": "lost"}
    assert errors_of(v.read_dataset, payload, SHIPPED_VOCABULARY, TOKYO) == {"persons": message}


def test_items_must_be_a_list_and_payload_an_object():
    payload = {"name": "n", "persons": 1, "exposure": "lost", "items": "name"}
    assert errors_of(v.read_dataset, payload, SHIPPED_VOCABULARY, TOKYO) == {
        "items": "must be a list of data items"
    }
    assert errors_of(v.read_dataset, ["x"], SHIPPED_VOCABULARY, TOKYO) == {
        "": "must be a JSON object"
    }
    ok = v.read_dataset({"name": "n", "persons": 0, "exposure": "lost"}, SHIPPED_VOCABULARY, TOKYO)
    assert ok.items == ()
    assert ok.exposed_from is None


def test_bad_datetimes():
    payload = {"name": "n", "persons": 1, "exposure": "lost", "exposed_from": "yesterday"}
    assert errors_of(v.read_dataset, payload, SHIPPED_VOCABULARY, TOKYO) == {
        "exposed_from": "must be an ISO 8601 date-time"
    }
    payload["exposed_from"] = 12
    assert errors_of(v.read_dataset, payload, SHIPPED_VOCABULARY, TOKYO) == {
        "exposed_from": "must be an ISO 8601 date-time"
    }


def test_evidence_capture_needs_url_time_and_file():
    assert errors_of(v.read_evidence, {"kind": "web_capture"}, TOKYO, has_file=False) == {
        "url": "is required",
        "captured_at": "is required",
        "file": "is required",
    }
    assert errors_of(
        v.read_evidence,
        {"kind": "web_capture", "url": "javascript:alert(1)", "captured_at": "2015-05-01T09:00"},
        TOKYO,
        has_file=True,
    ) == {"url": "must be an http(s) URL"}
    plain = v.read_evidence({}, TOKYO, has_file=True)
    assert plain.kind == "file"
    assert plain.url is None
    assert plain.captured_at is None


def test_takedown_reader():
    good = v.read_takedown(
        {"recipient": "Google", "url": "https://example.jp/list", "kind": "cache_removal"}, TOKYO
    )
    assert good.status == "requested"
    assert good.evidence_id is None
    assert errors_of(
        v.read_takedown,
        {
            "recipient": "",
            "url": "ftp://x",
            "status": "gone",
            "requested_at": "2015-05-02T00:00",
            "answered_at": "2015-05-01T00:00",
            "evidence_id": "x",
        },
        TOKYO,
    ) == {
        "recipient": "is required",
        "url": "must be an http(s) URL",
        "status": "must be one of " + ", ".join(v.TAKEDOWN_STATUSES),
        "answered_at": "must not be before requested_at",
        "evidence_id": "must be a whole number",
    }
    answer = v.read_takedown_answer({"status": "removed", "answer": "done"}, TOKYO)
    assert answer.status == "removed"
    assert answer.answered_at is None
    assert errors_of(v.read_takedown_answer, {}, TOKYO) == {
        "status": "must be one of " + ", ".join(v.TAKEDOWN_STATUSES)
    }


def test_custody_note_liaison_inquiry_readers():
    assert v.read_custody({"action": "transferred", "note": "to police"}, TOKYO).action == (
        "transferred"
    )
    assert errors_of(v.read_custody, {"action": "downloaded"}, TOKYO) == {
        "action": "must be one of transferred, other",
        "note": "is required",
    }
    assert v.read_note({"body": "# hi"}, TOKYO) == "# hi"
    assert errors_of(v.read_note, {"body": "  "}, TOKYO) == {"body": "is required"}
    entry = v.read_liaison(
        {"party_kind": "police", "party": "府警", "contact_at": "2015-05-01T10:00+09:00"}, TOKYO
    )
    assert entry.direction == "out"
    assert entry.contact_at.utcoffset() is not None
    assert errors_of(v.read_liaison, {"party_kind": "press", "direction": "up"}, TOKYO) == {
        "party_kind": "must be one of " + ", ".join(v.PARTY_KINDS),
        "party": "is required",
        "contact_at": "is required",
        "direction": "must be one of in, out",
    }
    inquiry = v.read_inquiry({"channel": "phone", "received_on": "2015-06-30"}, TOKYO)
    assert inquiry.received_on == date(2015, 6, 30)
    assert inquiry.answered is False
    assert errors_of(v.read_inquiry, {"channel": "fax", "received_on": "30/6"}, TOKYO) == {
        "channel": "must be one of " + ", ".join(v.CHANNELS),
        "received_on": "must be a date (YYYY-MM-DD)",
    }
    assert errors_of(v.read_inquiry, {"channel": "phone", "received_on": 5}, TOKYO) == {
        "received_on": "must be a date (YYYY-MM-DD)"
    }
    assert errors_of(v.read_inquiry, {"channel": "phone"}, TOKYO) == {"received_on": "is required"}
