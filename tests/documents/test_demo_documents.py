"""The demo is the founding story: after `csirt demo seed` on a fresh, migrated database (what
`make run` does), each of the five document kinds is drafted, approved and exported through the
console by the roles that do it in real life, and reads as a public document: the public title,
the organisation's contact, the data sets and the dated timeline, never the internal title."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from csirt import create_app
from csirt.cases.models import Case
from csirt.db import get_db
from csirt.demo import DEMO_CASE_TITLE, DEMO_SUMMARY
from csirt.demo_story import founding_facts
from csirt.documents import blocks
from csirt.migrate import upgrade
from tests.conftest import csrf_from, login, make_config
from tests.documents.helpers import body_text, rows

FACTS = founding_facts("ja")
# The console drafts documents as of today: everything of the story has happened by then.
TODAY = founding_facts("ja", as_of=date.today())
# (kind, who drafts it, who exports it): PR writes what goes out to the press, the persons and
# the regulator; the committee drafts its own report and the progress report; the case's lead
# approves everything (never the author) and exports what the committee may not.
KINDS = (
    ("press_release", "pr", "pr"),
    ("ppc_report", "pr", "pr"),
    ("individual_notice", "pr", "pr"),
    ("committee_report", "committee", "lead"),
    ("prevention_progress", "committee", "lead"),
)
RENDER_DIR = Path(os.environ.get("CSIRT_RENDER_DIR", "test-output/documents"))


def _fresh_url(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    from sqlalchemy import text

    from csirt.db import make_engine

    base, _sep, _name = database_url.rpartition("/")
    engine = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS csirt_demo_documents"))
        conn.execute(text("CREATE DATABASE csirt_demo_documents"))
    engine.dispose()
    return f"{base}/csirt_demo_documents"


@pytest.fixture(scope="module")
def seeded(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh database, migrated, seeded by the real `csirt demo seed` command."""
    tmp_path = tmp_path_factory.mktemp("demo")
    url = _fresh_url(database_url, tmp_path)
    upgrade(url)
    config = make_config(url, tmp_path / "instance")
    app = create_app(config, interface="all")
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    logins = {}
    for line in (config.instance_path / "demo-logins.txt").read_text().splitlines():
        _role, username, password = line.split("\t")
        logins[username] = password
    with get_db(app).session() as session:
        case = session.scalar(select(Case).where(Case.title == DEMO_CASE_TITLE))
        assert case is not None
        case_id = case.id
    exports = _export_all(app, logins, case_id)
    yield {"app": app, "exports": exports, "case_id": case_id}
    get_db(app).engine.dispose()


def _client(app: Flask, logins: dict[str, str], username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username, logins[username]).status_code == 302
    return client


def _errors(html: str) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", html)[:10]


def _export_all(app: Flask, logins: dict[str, str], case_id: int) -> dict[str, bytes]:
    clients = {name: _client(app, logins, name) for name in ("pr", "committee", "lead")}
    lead = clients["lead"]
    case_url = f"/console/cases/{case_id}/documents"
    exports = {}
    for kind, author, exporter in KINDS:
        writer = clients[author]
        page = writer.get(case_url)
        assert page.status_code == 200
        created = writer.post(
            case_url, data={"kind": kind, "lang": "ja", "csrf_token": csrf_from(page.text)}
        )
        assert created.status_code == 302, (kind, created.status_code)
        detail = created.headers["Location"]
        review = lead.get(detail)
        digest = re.search(r'name="facts_sha256" value="([0-9a-f]{64})"', review.text)
        assert digest
        approved = lead.post(
            f"{detail}/approve",
            data={"csrf_token": csrf_from(review.text), "facts_sha256": digest.group(1)},
        )
        assert approved.status_code == 302, (kind, _errors(approved.text))  # the guard passed
        sender = clients[exporter]
        page = sender.get(detail)
        final = sender.post(f"{detail}/export", data={"csrf_token": csrf_from(page.text)})
        assert final.status_code == 200, (kind, _errors(final.text))
        assert "_final.docx" in final.headers["Content-Disposition"]
        exports[kind] = final.data
    return exports


def _table(document: Any, first_header: str) -> list[list[str]]:
    for table in document.tables:
        if table.rows and table.rows[0].cells[0].text == first_header:
            return rows(table)
    raise AssertionError(f"no table headed {first_header!r}")


@pytest.mark.parametrize("kind", [k for k, _a, _e in KINDS])
def test_each_kind_exports_the_founding_story(seeded: dict[str, Any], kind: str) -> None:
    document = docx.Document(io.BytesIO(seeded["exports"][kind]))
    text = body_text(document)
    assert not blocks.has_watermark(document)
    # Never the internal title or summary.
    assert DEMO_CASE_TITLE not in text
    assert DEMO_SUMMARY[:30] not in text
    assert "匿名通報）—" not in text
    # The public facts: title or summary, and the data sets with their counts.
    assert FACTS.title.removesuffix("について") in text or FACTS.summary in text
    if kind == "prevention_progress":  # its table is the measures' (below)
        assert len(_table(document, "No.")) == len(TODAY.measures)
        return
    data = _table(document, "情報の名称")
    names = [row[0] for row in data]
    for data_set in FACTS.data_sets:
        assert data_set.name in names
    roll = data[names.index(FACTS.data_sets[0].name)]
    assert roll[2] == "氏名、性別、生年月日、住所"
    assert roll[3] == "約68万人"
    assert all(row[2] for row in data[:-1])  # every data set names its items
    # The case's stated number (persons_total, overlaps removed), never the sum.
    assert "681,572" not in text
    if kind != "individual_notice":
        assert data[-1][3] == "約68万人\n（重複を除く）"
    # The organisation's contact is never empty where a document gives one.
    if kind in {"press_release", "ppc_report", "individual_notice"}:
        contact = FACTS.organisation.contact
        assert f"電話：{contact.phone}" in text
        assert f"電子メール：{contact.email}" in text
        assert contact.department in text


@pytest.mark.parametrize("kind", ["press_release", "committee_report"])
def test_the_dated_public_timeline_is_there(seeded: dict[str, Any], kind: str) -> None:
    document = docx.Document(io.BytesIO(seeded["exports"][kind]))
    timeline = _table(document, "日時")
    assert len(timeline) == len(TODAY.events)
    assert timeline[0][0] == "2015年4月"  # known to the month only
    assert timeline[1][0] == "2015年6月24日 午後8時頃"
    assert timeline[1][1].startswith("匿名の通報を受付")
    assert timeline[-1][0] == "2016年3月2日"
    text = body_text(document)
    assert "通報者への連絡が約3か月なかったことを確認" not in text  # an internal event


def test_measures_and_committee_are_seeded(seeded: dict[str, Any]) -> None:
    progress = docx.Document(io.BytesIO(seeded["exports"]["prevention_progress"]))
    measures = _table(progress, "No.")
    assert [row[1] for row in measures] == [m.title for m in TODAY.measures]
    report = body_text(docx.Document(io.BytesIO(seeded["exports"]["committee_report"])))
    assert TODAY.committee is not None
    assert TODAY.committee.name in report
    assert "2015年12月21日から2016年2月25日まで" in report
    assert "報告書の取りまとめ" in report  # the meetings (開催経過)
    for recommendation in TODAY.recommendations:
        assert recommendation.title in report


@pytest.mark.slow
def test_the_press_release_renders(seeded: dict[str, Any], tmp_path: Path) -> None:
    """LibreOffice renders the exported press release; the page images are kept for a look."""
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice (soffice) and poppler-utils are not installed")
    source = tmp_path / "demo_press_release.docx"
    source.write_bytes(seeded["exports"]["press_release"])
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    pdf = tmp_path / "demo_press_release.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert FACTS.title in text
    assert FACTS.organisation.contact.phone in text
    RENDER_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", str(pdf), str(RENDER_DIR / "demo_press_release")],
        check=True,
        timeout=120,
    )
    pages = sorted(RENDER_DIR.glob("demo_press_release*.png"))
    assert pages
    assert all(page.stat().st_size > 10_000 for page in pages)  # not blank
