"""The benchmark regression guard (issue 21): the committed baseline parses, and a ratio more
than 20% below it fails unless the machine was busy during that run."""

from __future__ import annotations

from pathlib import Path

from bench.guard import check, read_baseline, render_baseline
from bench.harness import Report

BASELINE = Path(__file__).resolve().parent.parent / "bench" / "BASELINE.md"


def test_the_committed_baseline_names_every_guarded_page() -> None:
    from bench.run import GUARD_PAGES

    ratios = read_baseline(BASELINE)
    assert {name.removesuffix("_sqlite") for name in ratios} == GUARD_PAGES
    assert all(0 < value < 5 for value in ratios.values())


def _guard(measured: dict[str, tuple[float, float]], baseline: dict[str, float]) -> Report:
    report = Report()
    report.ratios.update(measured)
    check(report, baseline)
    return report


def test_a_ratio_more_than_20_percent_below_the_baseline_fails() -> None:
    baseline = {"case_api_sqlite": 0.50, "case_page_sqlite": 0.20}
    report = _guard({"case_api_sqlite": (0.41, 0.0), "case_page_sqlite": (0.15, 0.0)}, baseline)
    passed = {t.name: t.passed for t in report.targets}
    assert passed == {"guard_case_api_sqlite": True, "guard_case_page_sqlite": False}


def test_a_busy_run_is_not_judged_and_a_missing_page_fails() -> None:
    report = _guard({"case_api_sqlite": (0.10, 0.6)}, {"case_api_sqlite": 0.5, "timeline": 0.1})
    by_name = {t.name: t for t in report.targets}
    assert by_name["guard_case_api_sqlite"].passed
    assert "NOT JUDGED" in by_name["guard_case_api_sqlite"].detail
    assert not by_name["guard_timeline"].passed


def test_the_printed_block_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "b.md"
    path.write_text("x\n" + render_baseline({"a_sqlite": (0.4567, 0.0)}) + "\n")
    assert read_baseline(path) == {"a_sqlite": 0.46}
