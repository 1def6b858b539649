"""Timeline CSV: same columns both ways, exact round trip, BOM optional, errors per row."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from csirt.cases import timeline_csv
from csirt.cases.timeline import add_events, list_events, validate_event

ZONE = ZoneInfo("Asia/Tokyo")
SAMPLE = (
    "occurred_at,precision,title,description,category,visibility,source,actor,evidence_ids\r\n"
    '2015-06-24T20:00+09:00,minute,匿名の通報,"改行\r\nと ""引用""",detection,public,フォーム,,\r\n'
    "2015-06-25,day,キャッシュ削除依頼,,action,internal,市,情報政策課,\r\n"
    "2015-06-25T03:00+00:00,minute,UTCで記録,,event,internal,,,\r\n"
)


def test_round_trip_is_exact(db_session: Session, make_case, lead):
    source = make_case()
    items = timeline_csv.parse(SAMPLE.encode("utf-8"), ZONE)
    add_events(db_session, source, lead, items)
    first = timeline_csv.export_text(list_events(db_session, source).items, ZONE)
    assert first.startswith("\ufeffoccurred_at,precision,title")
    assert "2015-06-25T12:00+09:00" in first  # offsets are normalised to the configured zone
    target = make_case()
    add_events(db_session, target, lead, timeline_csv.parse(first.encode("utf-8"), ZONE))
    second = timeline_csv.export_text(list_events(db_session, target).items, ZONE)
    assert second == first
    streamed = "".join(timeline_csv.export_lines(list_events(db_session, target).items, ZONE))
    assert streamed == first


def test_streaming_in_chunks(db_session: Session, make_case, lead):
    case = make_case()
    items = [
        validate_event({"occurred_at": "2020-01-01", "title": f"e{i}"}, ZONE) for i in range(1001)
    ]
    add_events(db_session, case, lead, items)
    events = list_events(db_session, case, limit=None).items
    chunks = list(timeline_csv.export_lines(events, ZONE))
    assert len(chunks) == 4  # header, 500, 500, 1
    assert "".join(chunks) == timeline_csv.export_text(events, ZONE)


def test_errors_name_row_and_field():
    bad = "occurred_at,title,visibility\r\n2015-01-01,ok,public\r\nnever,,secret\r\n"
    with pytest.raises(timeline_csv.CsvImportError) as info:
        timeline_csv.parse(bad.encode(), ZONE)
    assert set(info.value.errors) == {"row 3: occurred_at", "row 3: title", "row 3: visibility"}
    with pytest.raises(timeline_csv.CsvImportError) as info:
        timeline_csv.parse(b"title,colour\r\nx,red\r\n", ZONE)
    assert "header" in info.value.errors
    assert "header " in info.value.errors
    with pytest.raises(timeline_csv.CsvImportError):
        timeline_csv.parse(b"\xff\xfe\x00", ZONE)
    with pytest.raises(timeline_csv.CsvImportError) as info:
        timeline_csv.parse(b"occurred_at,title\r\n2015-01-01,a,extra\r\n", ZONE)
    assert info.value.errors == {"row 2": "more cells than columns"}
    many = "occurred_at,title\r\n" + "x,\r\n" * 60
    with pytest.raises(timeline_csv.CsvImportError) as info:
        timeline_csv.parse(many.encode(), ZONE)
    assert len(info.value.errors) == 50


def test_row_limit(monkeypatch):
    monkeypatch.setattr(timeline_csv, "MAX_ROWS", 2)
    text = "occurred_at,title\r\n" + "2015-01-01,x\r\n" * 3
    with pytest.raises(timeline_csv.CsvImportError) as info:
        timeline_csv.parse(text.encode(), ZONE)
    assert "file" in info.value.errors


def test_bom_optional():
    plain = timeline_csv.parse(SAMPLE.encode("utf-8"), ZONE)
    with_bom = timeline_csv.parse(("\ufeff" + SAMPLE).encode("utf-8"), ZONE)
    assert plain == with_bom
    assert len(plain) == 3
    assert plain[0].description == '改行\r\nと "引用"'  # kept exactly as written
