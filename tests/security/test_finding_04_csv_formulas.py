"""Finding 4: formula injection through timeline.csv (every CSV goes through one helper)."""

from __future__ import annotations

import csv
import io

from csirt import csvsafe

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]


def test_timeline_csv_defuses_every_formula_cell(client, lead_api):
    _lead, headers, case_id = lead_api
    for number, title in enumerate(FORMULAS):
        created = client.post(
            f"/api/v1/cases/{case_id}/timeline",
            json={
                "occurred_at": f"2026-01-0{number + 1}T09:00:00+09:00",
                "title": title,
                "description": "\tTAB" if number == 0 else "ok",
                "source": "\rCR" if number == 1 else "",
            },
            headers=headers,
        )
        assert created.status_code == 201, created.json
    response = client.get(f"/api/v1/cases/{case_id}/timeline.csv", headers=headers)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    cells = [cell for row in rows[1:] for cell in row]
    for cell in cells:
        assert not cell.startswith(csvsafe.FORMULA_START), cell
    titles = {row[2] for row in rows[1:]}
    assert titles == {"'" + t for t in FORMULAS}
    assert any(cell == "'\tTAB" for cell in cells)


def test_round_trip_gives_the_original_text_back(client, lead_api):
    _lead, headers, case_id = lead_api
    client.post(
        f"/api/v1/cases/{case_id}/timeline",
        json={"occurred_at": "2026-01-01", "title": "=1+1", "description": "'quoted"},
        headers=headers,
    )
    exported = client.get(f"/api/v1/cases/{case_id}/timeline.csv", headers=headers).data
    from csirt.cases.timeline_csv import parse

    items = parse(exported, __import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert [(i.title, i.description) for i in items] == [("=1+1", "'quoted")]


def test_no_module_writes_csv_around_the_helper():
    from pathlib import Path

    import csirt

    root = Path(csirt.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "csvsafe.py"
        and ("csv.writer(" in path.read_text() or "csv.DictWriter(" in path.read_text())
    ]
    assert offenders == []
