"""The inventory API and a case's data sets from it (the issue's outside check)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.inventory.models import InventoryFile
from tests.factories import CaseFactory
from tests.records.conftest import Api

VOTERS = {
    "name": "選挙人名簿",
    "holder": "選挙管理委員会事務局",
    "items": ["name", "address", "birth_date", "sex"],
    "persons": 680000,
    "persons_estimated": False,
    "systems": ["選挙システム", "USBメモリ"],
    "counted_on": "2015-06-01",
}


def _patch(api: Api, path: str, body: dict[str, Any]) -> Any:
    return api.client.patch(path, headers=api.headers, json=body)


def test_create_answers_201_with_id_and_a_case_data_set_takes_its_items_and_persons(
    lead_api: Api, cases: CaseFactory, db_session: Session
):
    created = lead_api.post("/api/v1/inventory", json=VOTERS)
    assert created.status_code == 201, created.json
    file_id = created.json["id"]
    assert created.json["systems"] == ["選挙システム", "USBメモリ"]
    case = cases.create(title="選挙システムからの流出", actor=lead_api.user, commit=True)  # type: ignore[attr-defined]
    added = lead_api.post(
        f"/api/v1/cases/{case.id}/datasets",
        json={"inventory_id": file_id, "exposure": "public_internet"},
    )
    assert added.status_code == 201, added.json
    assert added.json["items"] == VOTERS["items"]
    assert added.json["persons"] == 680000
    assert added.json["name"] == "選挙人名簿"
    assert added.json["holder"] == "選挙管理委員会事務局"
    assert added.json["inventory_id"] == file_id  # marked as from the inventory
    assert added.json["counted_on"] == "2015-06-01"
    listed = lead_api.get(f"/api/v1/cases/{case.id}/datasets").json["items"]
    assert listed[0]["inventory_id"] == file_id
    # Triage ran through the records service, as for any data set.
    triage = lead_api.get(f"/api/v1/cases/{case.id}/triage")
    assert triage.status_code == 200
    assert triage.json["priority"] in {"P1", "P2"}


def test_bad_input_is_422_and_writes_nothing(
    lead_api: Api, cases: CaseFactory, db_session: Session
):
    before = db_session.scalar(select(func.count()).select_from(InventoryFile))
    bad = lead_api.post(
        "/api/v1/inventory", json={"name": "", "items": ["shoe_size"], "persons": -1}
    )
    assert bad.status_code == 422
    assert {"name", "items.0", "persons"} <= set(bad.json["errors"])
    assert db_session.scalar(select(func.count()).select_from(InventoryFile)) == before
    case = cases.create(actor=lead_api.user, commit=True)  # type: ignore[attr-defined]
    missing = lead_api.post(
        f"/api/v1/cases/{case.id}/datasets", json={"inventory_id": 999999, "exposure": "internal"}
    )
    assert missing.status_code == 422
    assert "inventory_id" in missing.json["errors"]
    # Beyond PostgreSQL's integer: a 422, not a 500 (found by schemathesis on PostgreSQL).
    huge = lead_api.post(
        f"/api/v1/cases/{case.id}/datasets", json={"inventory_id": 2**31, "exposure": "lost"}
    )
    assert huge.status_code == 422
    assert "inventory_id" in huge.json["errors"]
    assert lead_api.get("/api/v1/inventory/999999").status_code == 404


def test_search_by_system_lists_every_file_with_the_exposure(lead_api: Api, register_csv: bytes):
    imported = lead_api.post("/api/v1/inventory/import", data=register_csv, content_type="text/csv")
    assert imported.status_code == 200, imported.json
    assert imported.json == {"created": 3, "updated": 0}
    ids = {f["name"]: f["id"] for f in lead_api.get("/api/v1/inventory?q=名簿").json["items"]}
    overlap = lead_api.post(
        f"/api/v1/inventory/{ids['選挙人名簿']}/overlaps",
        json={"other_id": ids["期日前投票者名簿"], "persons": 110000},
    )
    assert overlap.status_code == 201
    found = lead_api.get("/api/v1/inventory?system=選挙システム").json
    assert [f["name"] for f in found["items"]] == ["選挙人名簿", "期日前投票者名簿"]
    assert found["exposure"]["persons"] == 680000 + 120000 - 110000
    assert found["exposure"]["summed"] == 800000
    assert found["exposure"]["estimated"] is True
    assert set(found["exposure"]["items"]) == {"name", "address", "birth_date", "sex"}
    usb = lead_api.get("/api/v1/inventory?system=USBメモリ").json
    assert [f["name"] for f in usb["items"]] == ["選挙人名簿"]
    by_holder = lead_api.get("/api/v1/inventory?holder=人事").json["items"]
    assert [f["name"] for f in by_holder] == ["職員名簿"]


def test_patch_keeps_history_and_import_updates_by_register_number(
    lead_api: Api, register_csv: bytes, db_session: Session
):
    lead_api.post("/api/v1/inventory/import", data=register_csv, content_type="text/csv")
    file_id = lead_api.get("/api/v1/inventory?q=SEN-001").json["items"][0]["id"]
    changed = _patch(
        lead_api,
        f"/api/v1/inventory/{file_id}",
        {"persons": 690000, "counted_on": "2015-09-01", "reason": "再集計"},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["persons"] == 690000
    assert changed.json["version"] == 2
    one = lead_api.get(f"/api/v1/inventory/{file_id}").json
    assert one["history"][0]["number"] == 1
    assert one["history"][0]["reason"] == "再集計"
    again = lead_api.post("/api/v1/inventory/import", data=register_csv, content_type="text/csv")
    assert again.json == {"created": 0, "updated": 3}
    assert lead_api.get(f"/api/v1/inventory/{file_id}").json["persons"] == 680000
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert {"inventory.import", "inventory.update", "inventory.create"} <= actions


def test_import_refuses_a_bad_row_and_writes_nothing(lead_api: Api, db_session: Session):
    text = (
        "個人情報ファイルの名称,記録項目,本人の数\r\n"
        "住民基本台帳,氏名、靴のサイズ,100\r\n"
        ",氏名,x\r\n"
    )
    before = db_session.scalar(select(func.count()).select_from(InventoryFile))
    refused = lead_api.post("/api/v1/inventory/import", data=text.encode(), content_type="text/csv")
    assert refused.status_code == 422
    assert {"row 2.items.1", "row 3.name", "row 3.persons"} <= set(refused.json["errors"])
    assert db_session.scalar(select(func.count()).select_from(InventoryFile)) == before
    not_utf8 = lead_api.post(
        "/api/v1/inventory/import", data="名簿".encode("cp932"), content_type="text/csv"
    )
    assert not_utf8.status_code == 422


def test_export_is_the_register_layout_with_formulas_defused(lead_api: Api, register_csv: bytes):
    lead_api.post("/api/v1/inventory/import", data=register_csv, content_type="text/csv")
    exported = lead_api.get("/api/v1/inventory/export.csv")
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    text = exported.data.decode("utf-8")
    assert text.startswith("\ufeff個人情報ファイルの名称,ファイル簿の番号")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    voters = next(r for r in rows if r[0] == "選挙人名簿")
    assert voters[4] == "氏名、住所、生年月日、性別"
    assert voters[8] == "選挙システム、USBメモリ"
    staff = next(r for r in rows if r[0] == "職員名簿")
    assert staff[10] == '\'=HYPERLINK("x")'
    # The export reads back as the same register (round trip).
    again = lead_api.post("/api/v1/inventory/import", data=exported.data, content_type="text/csv")
    assert again.json == {"created": 0, "updated": 3}
    assert lead_api.get("/api/v1/inventory/export.csv").data == exported.data


def test_a_responder_may_not_read_the_inventory(app: Any, users: Any, db_session: Session):
    from csirt.auth import service as auth_service
    from tests.factories import FACTORY

    user = users.create(roles=["responder"]).user
    _token, plain = auth_service.create_token(db_session, user, actor=FACTORY)
    db_session.commit()
    api = Api(app.test_client(), plain)
    assert api.get("/api/v1/inventory").status_code == 403
    assert api.post("/api/v1/inventory", json=VOTERS).status_code == 403
