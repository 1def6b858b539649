"""One paging rule for every API list, through real requests: limit 1-200 (default 50), an
opaque cursor that walks the whole list once, and a 422 (never a clamp or a restart) for a bad
limit, a damaged cursor or a cursor of another list."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from csirt.auth import service as auth_service
from tests.factories import FACTORY, UserFactory

# list path (under the case) -> a body that adds one item to it
LISTS: dict[str, dict[str, Any]] = {
    "timeline": {"occurred_at": "2015-06-01T09:00:00+09:00", "title": "copied"},
    "datasets": {"name": "名簿", "persons": 10, "exposure": "internal"},
    "takedowns": {"recipient": "BBS", "url": "https://bbs.example/1"},
    "notes": {"body": "note"},
    "liaison": {"party_kind": "police", "party": "府警", "contact_at": "2015-06-30T10:00:00+09:00"},
    "inquiries": {"channel": "phone", "received_on": "2015-07-01"},
}


@pytest.fixture
def api(client: FlaskClient, users: UserFactory, db_session: Session) -> tuple[FlaskClient, Any]:
    lead = users.create(roles=["lead"]).user
    _row, plain = auth_service.create_token(
        db_session, lead, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    case = client.post("/api/v1/cases", json={"title": "paging"})
    assert case.status_code == 201
    return client, case.json["id"]


def _walk(client: FlaskClient, path: str, limit: int) -> list[int]:
    seen: list[int] = []
    url = f"{path}?limit={limit}"
    while True:
        page = client.get(url)
        assert page.status_code == 200, page.json
        assert len(page.json["items"]) <= limit
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return seen
        assert isinstance(cursor, str)
        url = f"{path}?limit={limit}&cursor={cursor}"


@pytest.mark.parametrize("name", list(LISTS))
def test_every_case_list_pages_by_the_one_rule(api: tuple[FlaskClient, Any], name: str) -> None:
    client, case_id = api
    path = f"/api/v1/cases/{case_id}/{name}"
    for index in range(5):
        body = dict(LISTS[name])
        if name == "timeline":
            body["occurred_at"] = f"2015-06-0{index + 1}T09:00:00+09:00"
        created = client.post(path, json=body)
        assert created.status_code == 201, created.json
    everything = client.get(path).json["items"]
    walked = _walk(client, path, 2)
    assert sorted(walked) == sorted(item["id"] for item in everything)
    assert len(walked) == len(set(walked))
    for bad in ("limit=0", "limit=201", "limit=x", "cursor=nope", "cursor=%C2%B2"):
        refused = client.get(f"{path}?{bad}")
        assert refused.status_code == 422, bad
        assert refused.mimetype == "application/problem+json"
        assert set(refused.json["errors"]) == {bad.split("=")[0]}
    other = "notes" if name != "notes" else "liaison"
    foreign = client.get(f"/api/v1/cases/{case_id}/{other}?limit=1").json["next_cursor"]
    if foreign is None:  # the other list has one page: take a cursor of the case list
        client.post("/api/v1/cases", json={"title": "second"})
        foreign = client.get("/api/v1/cases?limit=1").json["next_cursor"]
    assert client.get(f"{path}?cursor={foreign}").status_code == 422


def test_the_case_list_pages_by_the_same_rule(api: tuple[FlaskClient, Any]) -> None:
    client, _case_id = api
    for index in range(4):
        assert client.post("/api/v1/cases", json={"title": f"c{index}"}).status_code == 201
    walked = _walk(client, "/api/v1/cases", 2)
    assert len(walked) == len(set(walked)) == 5
    assert client.get("/api/v1/cases?limit=201").status_code == 422
    assert client.get("/api/v1/cases?limit=200").status_code == 200
    assert client.get("/api/v1/cases?cursor=MTIz").status_code == 422  # base64 of "123"
