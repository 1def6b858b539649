"""CSIRT_PLAYBOOKS_PATH is the one source: forms, documents and triage read the configured copy.

The copy relabels ``name`` and makes ``email`` 要配慮 (sensitive); a case with one leaked
e-mail address then shows the new label in the records form and in a document draft, and triage
finds the APPI duty that only a sensitive item brings for a single person.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from config import Config
from csirt.catalog import load_catalog
from csirt.triage import evaluate, load_rules
from csirt.triage import service as triage
from csirt.yamlfile import playbooks_dir
from tests.conftest import csrf_from, make_config

NEW_JA = "氏名（設定した語彙）"


@pytest.fixture
def config(database_url: str, tmp_path: Path) -> Config:
    folder = tmp_path / "playbooks"
    shutil.copytree(playbooks_dir(), folder)
    vocabulary = folder / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    text = text.replace("label: {ja: 氏名, en: Name}", f"label: {{ja: {NEW_JA}, en: Full name}}")
    text = re.sub(
        r"(  email:\n    label: \{[^}]*\}\n    sensitive: )false", r"\1true", text, count=1
    )
    vocabulary.write_text(text, encoding="utf-8")
    catalog = load_catalog(folder)
    assert catalog.vocabulary["name"].label("ja") == NEW_JA
    assert catalog.vocabulary["email"].sensitive
    return make_config(database_url, tmp_path / "instance", playbooks_path=folder)


def _add_dataset(client: FlaskClient, case_id: int) -> None:
    page = client.get(f"/console/cases/{case_id}/datasets")
    assert page.status_code == 200
    # The form lists the configured labels, and flags the item the copy made sensitive.
    assert NEW_JA in page.text
    assert "メールアドレス (要配慮)" in page.text
    response = client.post(
        f"/console/cases/{case_id}/datasets",
        data={
            "csrf_token": csrf_from(page.text),
            "name": "問い合わせ名簿",
            "holder": "市民課",
            "items": ["name", "email"],
            "persons": "1",
            "exposure": "lost",
        },
    )
    assert response.status_code == 302, response.text


def test_forms_documents_and_triage_use_the_configured_vocabulary(
    app: Flask, client: FlaskClient, login_as: Any, cases: Any, db_session: Session
) -> None:
    lead = login_as("lead")
    case = cases.create(actor=lead, commit=True)
    _add_dataset(client, case.id)
    assert NEW_JA in client.get(f"/console/cases/{case.id}/datasets").text

    # Triage ran on the new data set with the configured rules: one person's sensitive item
    # is reportable to the PPC (APPI Art. 26); with the shipped vocabulary it is not.
    panel = client.get(f"/console/cases/{case.id}/triage")
    assert panel.status_code == 200
    kinds = {o.kind for o in triage.obligations_of(db_session, case)}
    assert "ppc_preliminary" in kinds
    facts = triage.case_facts(db_session, case, app.config["CSIRT"])
    shipped = evaluate(facts, load_rules(playbooks_dir()), ZoneInfo("Asia/Tokyo"))
    assert shipped.obligation("ppc_preliminary") is None

    # The documents snapshot labels data items from the same catalog.
    page = client.get(f"/console/cases/{case.id}/documents")
    created = client.post(
        f"/console/cases/{case.id}/documents",
        data={"csrf_token": csrf_from(page.text), "kind": "ppc_report", "lang": "ja"},
    )
    assert created.status_code == 302, created.text
    detail = client.get(created.headers["Location"])
    assert detail.status_code == 200
    exported = client.post(
        created.headers["Location"] + "/export", data={"csrf_token": csrf_from(detail.text)}
    )
    assert exported.status_code == 200, exported.text
    document = docx.Document(io.BytesIO(exported.data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert NEW_JA in text
