"""The inventory's console pages: list and search, register and edit with history, import
errors, and "which files?" on a case (real requests through the test client)."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.inventory.models import InventoryDatasetLink, InventoryFile
from tests.conftest import csrf_from
from tests.factories import CaseFactory


def _import(client: FlaskClient, data: bytes) -> Any:
    token = csrf_from(client.get("/console/inventory/import").text)
    return client.post(
        "/console/inventory/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "register.csv")},
        content_type="multipart/form-data",
    )


def test_register_edit_with_history_and_search(
    client: FlaskClient, login_as: Any, db_session: Session
):
    login_as("lead")
    token = csrf_from(client.get("/console/inventory/new").text)
    bad = client.post(
        "/console/inventory/new", data={"csrf_token": token, "name": "", "persons": "x"}
    )
    assert bad.status_code == 400
    created = client.post(
        "/console/inventory/new",
        data={
            "csrf_token": token,
            "name": "住民基本台帳",
            "holder": "市民課",
            "items": ["name", "address"],
            "persons": "830000",
            "counted_on": "2015-04-01",
            "systems": "住記システム\nバックアップテープ",
        },
    )
    assert created.status_code == 302, created.text
    row = db_session.scalars(
        select(InventoryFile).where(InventoryFile.name == "住民基本台帳")
    ).one()
    assert row.systems == ["住記システム", "バックアップテープ"]
    page = client.get(f"/console/inventory/{row.id}")
    edited = client.post(
        f"/console/inventory/{row.id}",
        data={
            "csrf_token": csrf_from(page.text),
            "name": "住民基本台帳",
            "holder": "市民課",
            "items": ["name", "address", "birth_date"],
            "persons": "831000",
            "systems": "住記システム",
            "reason": "年度更新",
        },
    )
    assert edited.status_code == 302
    detail = client.get(f"/console/inventory/{row.id}").text
    assert "年度更新" in detail  # the earlier version and why it changed
    found = client.get("/console/inventory?system=住記システム").text
    assert "住民基本台帳" in found
    assert "住民基本台帳" not in client.get("/console/inventory?system=USB").text
    assert "住民基本台帳" in client.get("/console/inventory?holder=市民").text


def test_import_errors_are_shown_and_nothing_saved(
    client: FlaskClient, login_as: Any, db_session: Session
):
    login_as("lead")
    refused = _import(client, "個人情報ファイルの名称,本人の数\r\n名簿,-1\r\n".encode())
    assert refused.status_code == 400
    assert "row 2.persons" in refused.text
    assert db_session.scalars(select(InventoryFile).where(InventoryFile.name == "名簿")).all() == []
    export = client.get("/console/inventory/export.csv")
    assert export.status_code == 200
    assert export.data.startswith("\ufeff".encode())


def test_pick_files_into_a_case(
    client: FlaskClient, login_as: Any, cases: CaseFactory, register_csv: bytes, db_session: Session
):
    lead = login_as("lead")
    assert _import(client, register_csv).status_code == 302
    case = cases.create(title="選挙システム流出", actor=lead, commit=True)
    # The case's title names 選挙システム: the tab shows every file on it before any search.
    named = client.get(f"/console/cases/{case.id}/datasets").text
    assert "named-system" in named
    assert "期日前投票者名簿" not in named  # files are listed once a search is made
    assert "800,000" in named  # persons at stake on 選挙システム
    tab = client.get(f"/console/cases/{case.id}/datasets?inv_system=選挙システム")
    assert tab.status_code == 200
    assert "期日前投票者名簿" in tab.text
    assert "職員名簿" not in tab.text.split("inventory-pick")[1]
    ids = [
        str(f.id)
        for f in db_session.scalars(
            select(InventoryFile).where(InventoryFile.register_ref.in_(["SEN-001", "SEN-002"]))
        )
    ]
    picked = client.post(
        f"/console/cases/{case.id}/inventory/pick",
        data={"csrf_token": csrf_from(tab.text), "file_id": ids, "exposure": "public_internet"},
    )
    assert picked.status_code == 302
    links = db_session.scalars(
        select(InventoryDatasetLink).where(InventoryDatasetLink.case_id == case.id)
    ).all()
    assert len(links) == 2
    assert {str(link.counted_on) for link in links} == {"2015-06-01", "2015-04-12"}
    page = client.get(f"/console/cases/{case.id}/datasets").text
    assert "800,000" in page
    # Declare the overlap: the tab shows the deduplicated total, which can become the stated one.
    first, second = sorted(int(i) for i in ids)
    detail = client.get(f"/console/inventory/{first}")
    declared = client.post(
        f"/console/inventory/{first}/overlaps",
        data={
            "csrf_token": csrf_from(detail.text),
            "overlap-other_id": str(second),
            "overlap-persons": "110000",
        },
    )
    assert declared.status_code == 302
    page = client.get(f"/console/cases/{case.id}/datasets").text
    assert "690,000" in page
    stated = client.post(
        f"/console/cases/{case.id}/inventory/state-total", data={"csrf_token": csrf_from(page)}
    )
    assert stated.status_code == 302
    db_session.expire_all()
    assert db_session.get(type(case), case.id).persons_total == 690000


def test_a_responder_sees_no_inventory(client: FlaskClient, login_as: Any, cases: CaseFactory):
    user = login_as("responder")
    case = cases.create(actor=user, commit=True)
    assert client.get("/console/inventory").status_code == 403
    tab = client.get(f"/console/cases/{case.id}/datasets?inv_system=x")
    assert tab.status_code == 200
    assert "inventory-pick" not in tab.text
