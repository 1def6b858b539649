"""The records API: GET/POST per collection, 422 naming every bad field, nothing half-written."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.cases.models import (
    AffectedDataset,
    CustodyEntry,
    Evidence,
    Inquiry,
    LiaisonEntry,
    Note,
    TakedownRequest,
)
from tests.records.conftest import Api


def url(case: Any, tail: str) -> str:
    return f"/api/v1/cases/{case.id}/{tail}"


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


GOOD = {
    "datasets": {
        "name": "選挙人名簿 北区",
        "holder": "選挙管理委員会",
        "items": ["name", "address", "birth_date", "sex"],
        "persons": 68000,
        "persons_estimated": False,
        "exposure": "public_internet",
        "exposed_from": "2015-04-01T10:00:00+09:00",
    },
    "takedowns": {"kind": "takedown", "recipient": "BBS operator", "url": "https://bbs.example/1"},
    "notes": {"body": "# 初動\n\n- 通報受付"},
    "liaison": {
        "party_kind": "police",
        "party": "大阪府警",
        "contact_at": "2015-06-30T10:00:00+09:00",
        "direction": "out",
        "summary": "相談",
    },
    "inquiries": {"channel": "letter", "received_on": "2015-07-01", "topic": "自分は含まれるか"},
}
BAD = {
    "datasets": (
        {"name": "", "items": ["name", "address", "shoe_size"], "persons": "many", "exposure": "x"},
        {"name", "items.2", "persons", "exposure"},
        AffectedDataset,
    ),
    "takedowns": ({"recipient": "", "url": "file:///etc"}, {"recipient", "url"}, TakedownRequest),
    "notes": ({"body": 5}, {"body"}, Note),
    "liaison": (
        {"party_kind": "press", "contact_at": "soon"},
        {"party_kind", "party", "contact_at"},
        LiaisonEntry,
    ),
    "inquiries": (
        {"channel": "fax", "answered": "maybe"},
        {"channel", "received_on", "answered"},
        Inquiry,
    ),
}


@pytest.mark.parametrize("collection", list(GOOD))
def test_post_then_get(api: Api, case, collection: str):
    created = api.post(url(case, collection), json=GOOD[collection])
    assert created.status_code == 201, created.json
    body = created.json
    listed = api.get(url(case, collection))
    assert listed.status_code == 200
    assert listed.json["items"][0]["id"] == body["id"]
    assert listed.json["next_cursor"] is None
    for key, value in GOOD[collection].items():
        if key not in {"exposed_from", "contact_at"}:
            assert body[key] == value


@pytest.mark.parametrize("collection", list(BAD))
def test_bad_input_is_422_and_writes_nothing(api: Api, case, db_session: Session, collection):
    payload, fields, model = BAD[collection]
    before = count(db_session, model)
    response = api.post(url(case, collection), json=payload)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == fields
    not_json = api.post(url(case, collection), data="nope", content_type="text/plain")
    assert not_json.status_code == 422
    assert "body" in not_json.json["errors"]
    assert count(db_session, model) == before


def test_unknown_item_is_named(api: Api, case):
    payload = {**GOOD["datasets"], "items": ["name", "address", "blood"]}
    response = api.post(url(case, "datasets"), json=payload)
    assert response.json["errors"] == {"items.2": "unknown data item"}


@pytest.mark.parametrize("collection", [*GOOD, "evidence"])
def test_invisible_or_unknown_cases_are_404(api: Api, other_case, collection):
    for case_id in (other_case.id, 10**8):
        got = api.get(f"/api/v1/cases/{case_id}/{collection}")
        assert got.status_code == 404
        assert got.mimetype == "application/problem+json"
        posted = api.post(f"/api/v1/cases/{case_id}/{collection}", json=GOOD.get(collection, {}))
        assert posted.status_code == 404


def test_no_token_is_401(client, case):
    assert client.get(url(case, "datasets")).status_code == 401


def test_pagination(api: Api, case):
    for day in range(1, 6):
        api.post(
            url(case, "inquiries"), json={"channel": "phone", "received_on": f"2015-07-0{day}"}
        )
    first = api.get(url(case, "inquiries") + "?limit=2").json
    assert len(first["items"]) == 2
    assert isinstance(first["next_cursor"], str)  # opaque: passed back as it came
    rest = api.get(url(case, "inquiries") + f"?limit=10&cursor={first['next_cursor']}").json
    assert len(rest["items"]) == 3
    assert rest["next_cursor"] is None
    assert [d["total"] for d in rest["per_day"]] == [1, 1, 1, 1, 1]
    bad = api.get(url(case, "notes") + "?limit=0&cursor=x")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"limit", "cursor"}
    # A cursor of another list is refused, never a silent restart at the first page.
    other = api.get(url(case, "notes") + f"?cursor={first['next_cursor']}")
    assert other.status_code == 422
    assert set(other.json["errors"]) == {"cursor"}
    assert api.get(url(case, "notes") + "?limit=201").status_code == 422


def test_evidence_upload_and_download(api: Api, case, db_session: Session, blobs):
    pdf = b"%PDF-1.4\n" + b"x" * 2000
    response = api.post(
        url(case, "evidence"),
        data={
            "kind": "web_capture",
            "title": "掲示板のスクリーンショット",
            "url": "https://bbs.example/t/1",
            "captured_at": "2015-05-01T12:00:00+09:00",
            "file": (io.BytesIO(pdf), "../../etc/passwd"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["size"] == len(pdf)
    assert body["content_type"] == "application/pdf"
    assert body["filename"] == "passwd"
    assert len(body["sha256"]) == 64
    assert blobs.read(body["sha256"]) == pdf
    assert api.get(url(case, "evidence")).json["items"][0]["sha256"] == body["sha256"]
    content = api.get(body["content_url"])
    assert content.status_code == 200
    assert content.data == pdf
    assert content.headers["Content-Disposition"].startswith("attachment")
    content.close()
    actions = db_session.scalars(
        select(CustodyEntry.action).where(CustodyEntry.evidence_id == body["id"])
    ).all()
    assert actions == ["collected", "downloaded"]
    assert api.get(url(case, "evidence/999999/content")).status_code == 404
    takedown = api.post(
        url(case, "takedowns"),
        json={**GOOD["takedowns"], "kind": "cache_removal", "evidence_id": body["id"]},
    )
    assert takedown.status_code == 201
    assert takedown.json["evidence_id"] == body["id"]


def test_bad_evidence_writes_no_row_and_no_file(api: Api, case, db_session: Session, blobs):
    missing = api.post(url(case, "evidence"), data={"kind": "web_capture"})
    assert missing.status_code == 422
    assert set(missing.json["errors"]) == {"url", "captured_at", "file"}
    wrong_type = api.post(
        url(case, "evidence"),
        data={
            "kind": "web_capture",
            "url": "https://x.example",
            "captured_at": "2015-05-01T12:00",
            "file": (io.BytesIO(b"MZ\x90\x00"), "x.exe"),
        },
        content_type="multipart/form-data",
    )
    assert wrong_type.status_code == 422
    assert set(wrong_type.json["errors"]) == {"file"}
    empty = api.post(
        url(case, "evidence"),
        data={"file": (io.BytesIO(b""), "empty.txt")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 422
    assert count(db_session, Evidence) == 0
    assert blobs.none()


def test_openapi_lists_the_record_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for tail in ("datasets", "evidence", "takedowns", "notes", "liaison", "inquiries"):
        ops = paths[f"/api/v1/cases/{{case_id}}/{tail}"]
        assert set(ops) == {"get", "post"}
    upload = paths["/api/v1/cases/{case_id}/evidence"]["post"]["requestBody"]
    assert "multipart/form-data" in upload["content"]
    assert "get" in paths["/api/v1/cases/{case_id}/evidence/{evidence_id}/content"]
