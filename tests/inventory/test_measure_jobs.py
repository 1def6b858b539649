"""Reminders to measure owners (real SMTP sink, content-free) and the half-yearly progress
report (.docx read back)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from sqlalchemy.orm import Session

from csirt.documents import measures
from csirt.documents.measure_report import half_year
from tests.factories import CaseFactory, UserFactory
from tests.teams.conftest import Sink


def _measure(session: Session, user: Any, case: Any, title: str, days: int, status: str) -> Any:
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    values = measures.validate_measure(
        {
            "title": title,
            "owner": "情報政策課",
            "due": (today + timedelta(days=days)).isoformat(),
            "status": status,
        }
    )
    return measures.save_measure(session, user, values, case=case)


def test_owners_are_reminded_once_before_and_after_the_due_date(
    mail_app: Any,
    sink: Sink,
    users: UserFactory,
    cases: CaseFactory,
    db_session: Session,
    runner: Any,
):
    owner = users.create(roles=["lead"]).user
    owner.email = "owner@city.example.jp"
    case = cases.create(title="選挙システム流出", actor=owner)
    soon = _measure(db_session, owner, case, "秘密の措置名その一", 3, "in_progress")
    late = _measure(db_session, owner, case, "秘密の措置名その二", -2, "planned")
    _measure(db_session, owner, case, "済んだ措置", -30, "done")
    _measure(db_session, owner, case, "先の措置", 90, "planned")
    db_session.commit()

    first = runner.invoke(args=["measures", "remind"])
    assert first.exit_code == 0, first.output
    assert "1 due soon, 1 overdue" in first.output
    texts = sink.texts()
    assert len(texts) == 2
    assert any(f"#{soon.id}" in t and "期限間近" in t for t in texts)
    assert any(f"#{late.id}" in t and "期限超過" in t for t in texts)
    for text in texts:
        assert "秘密の措置名" not in text  # content-free: number, due date and link only
        assert "選挙システム" not in text
    again = runner.invoke(args=["measures", "remind"])
    assert "0 due soon, 0 overdue" in again.output
    assert len(sink.messages) == 2


def test_half_year_report_is_a_docx_of_the_measures(
    users: UserFactory, cases: CaseFactory, db_session: Session, runner: Any, tmp_path: Path
):
    lead = users.create(roles=["lead"]).user
    case = cases.create(title="選挙システム流出", actor=lead)
    _measure(db_session, lead, case, "個人所有サーバーの利用禁止", -5, "in_progress")
    _measure(db_session, lead, case, "全職員研修", 20, "done")
    db_session.commit()
    today = datetime.now().date()
    fiscal = today.year if today.month >= 4 else today.year - 1
    label = f"{fiscal}H{1 if 4 <= today.month <= 9 else 2}"
    out = tmp_path / "progress.docx"
    result = runner.invoke(
        args=["measures", "report", "--case", str(case.id), "--half", label, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    cells = "\n".join(
        cell.text for table in Document(str(out)).tables for row in table.rows for cell in row.cells
    )
    assert "再発防止策の実施状況について" in text
    assert "個人所有サーバーの利用禁止" in cells
    assert "全職員研修" in cells
    bad = runner.invoke(
        args=["measures", "report", "--case", str(case.id), "--half", "H3", "--out", str(out)]
    )
    assert bad.exit_code != 0
    assert "half-year" in bad.output


def test_half_years_follow_the_fiscal_year():
    assert [d.isoformat() for d in half_year("2026H1")] == ["2026-04-01", "2026-09-30"]
    assert [d.isoformat() for d in half_year("2026h2")] == ["2026-10-01", "2027-03-31"]
