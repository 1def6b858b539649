"""The regression guard: this run's ratios against those stored in bench/BASELINE.md.

A ratio is csirt's req/s divided by the bare 50-row page's req/s measured in the same run with
the same gunicorn settings, so it cancels most of the machine. The guard fails when a page's
ratio falls more than :data:`TOLERANCE` below its baseline; a run where other processes took a
large share of the CPU is reported as not judged rather than failed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from bench.harness import Report

TOLERANCE = 0.2  # fail below 80% of the baseline ratio
BUSY = 0.25  # other processes took this share of the CPU: the run measured them, not csirt
_ROW = re.compile(r"^\|\s*`?([a-z0-9_]+)`?\s*\|\s*([0-9]+(?:\.[0-9]+)?)\s*\|")
_START = "<!-- guard:begin -->"
_END = "<!-- guard:end -->"


def read_baseline(path: Path) -> dict[str, float]:
    """Read the ratios between the guard markers of ``path`` (a Markdown table)."""
    text = path.read_text()
    if _START not in text or _END not in text:
        raise ValueError(f"{path}: no {_START} ... {_END} block of baseline ratios")
    block = text.split(_START, 1)[1].split(_END, 1)[0]
    ratios = {m.group(1): float(m.group(2)) for m in map(_ROW.match, block.splitlines()) if m}
    if not ratios:
        raise ValueError(f"{path}: the guard block holds no '| name | ratio |' rows")
    return ratios


def render_baseline(ratios: Mapping[str, tuple[float, float]]) -> str:
    """The block to paste into BASELINE.md for this run's ratios."""
    rows = [_START, "| page | ratio |", "|---|---|"]
    rows += [f"| {name} | {value:.2f} |" for name, (value, _busy) in sorted(ratios.items())]
    return "\n".join([*rows, _END])


def check(report: Report, baseline: Mapping[str, float]) -> None:
    """Add one guard target per baseline ratio to ``report``."""
    for name, expected in sorted(baseline.items()):
        floor = expected * (1 - TOLERANCE)
        measured = report.ratios.get(name)
        if measured is None:
            report.target(
                f"guard_{name}",
                f"{name} measured (baseline ratio {expected:.2f})",
                False,
                "not measured in this run",
                "the page failed or is no longer measured: see the log above",
            )
            continue
        value, busy = measured
        if value < floor and busy >= BUSY:
            report.target(
                f"guard_{name}",
                f"{name} ratio >= {floor:.2f} (baseline {expected:.2f} - {TOLERANCE:.0%})",
                True,
                f"{value:.2f}, NOT JUDGED: other processes took {busy:.0%} of the CPU",
            )
            continue
        report.target(
            f"guard_{name}",
            f"{name} ratio >= {floor:.2f} (baseline {expected:.2f} - {TOLERANCE:.0%})",
            value >= floor,
            f"{value:.2f}",
            "a change made this page slower relative to the bare page: profile it "
            "(python -m bench.profile) before raising or lowering the baseline",
        )
