"""Dashboard charts as inline SVG, drawn on the server (pure: no Flask, no database, no script).

A :class:`Chart` is data (categories along the x axis, one or more :class:`Series`) plus words
the caller has already translated; :func:`svg` returns the markup. Each chart is an accessible
image (``role="img"``, a ``<title>`` and a ``<desc>`` named by ``aria-labelledby``; every bar and
point carries its own ``<title>``, which browsers show as a tooltip without JavaScript) and the
template offers the same figures as a table (:meth:`Chart.rows`). Colours come from CSS classes
(``csirt/static/css/charts.css``): the console's CSP allows no inline style.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 270
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 40, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
DASH = "—"


@dataclass(frozen=True)
class Series:
    """One named row of values (None: no value), coloured by the CSS class ``css``."""

    name: str
    values: tuple[float | None, ...]
    css: str = "s1"


@dataclass(frozen=True)
class Chart:
    """What to draw; ``style`` is ``bars`` (stacked when several series) or ``lines``."""

    key: str
    title: str
    desc: str
    category_name: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    style: str = "bars"
    unit: str = ""

    def rows(self) -> list[tuple[str, list[str]]]:
        """The table fallback: one row per category, one formatted cell per series."""
        return [
            (label, [number(s.values[i]) for s in self.series])
            for i, label in enumerate(self.categories)
        ]

    @property
    def svg(self) -> str:
        return svg(self)


def number(value: float | None) -> str:
    """A figure as shown: a dash for none, whole numbers without decimals, else one decimal."""
    if value is None:
        return DASH
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def ranked_percentile(ranked: Mapping[int, float], n: int, q: int) -> float | None:
    """The ``q``-th percentile (0..100, linear interpolation) of ``n`` sorted values of which
    ``ranked`` holds at least those at ranks ``(n - 1) * q // 100`` and the one after it."""
    if n == 0:
        return None
    low = (n - 1) * q // 100
    fraction = (n - 1) * q / 100 - low
    below = ranked[low]
    above = ranked.get(low + 1, below)
    return below + (above - below) * fraction


def percentile(values: Sequence[float], q: int) -> float | None:
    """The ``q``-th percentile (0..100) of the values with linear interpolation; None for none."""
    return ranked_percentile(dict(enumerate(sorted(values))), len(values), q)


def nice_step(top: float, ticks: int = 4) -> float:
    """A step of 1, 2 or 5 times a power of ten (at least 1) covering ``top`` in about ``ticks``."""
    raw = max(top / ticks, 1.0)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _text_width(text: str) -> float:
    return sum(13.0 if unicodedata.east_asian_width(ch) in "WF" else 7.5 for ch in text)


def _label_stride(labels: Sequence[str]) -> int:
    if not labels:
        return 1
    widest = max(_text_width(label) for label in labels) + 8
    return max(1, math.ceil(widest * len(labels) / PLOT_W))


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _top(chart: Chart) -> float:
    if chart.style == "bars":
        sums = [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.categories))]
        return max(sums, default=0)
    return max((v for s in chart.series for v in s.values if v is not None), default=0)


def _legend(chart: Chart) -> list[str]:
    parts, x = [], float(LEFT)
    for s in chart.series:
        parts.append(
            f'<rect class="key {_attr(s.css)}" x="{x:.0f}" y="9" width="13" height="13"/>'
            f'<text x="{x + 18:.0f}" y="20">{escape(s.name)}</text>'
        )
        x += 18 + _text_width(s.name) + 20
    if chart.unit:
        parts.append(f'<text class="unit" x="{WIDTH - RIGHT}" y="20">{escape(chart.unit)}</text>')
    return parts


def _axes(chart: Chart, top: float, step: float) -> list[str]:
    parts = []
    value = 0.0
    while value <= top + 1e-9:
        y = TOP + PLOT_H - value / top * PLOT_H
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 7}" y="{y + 4.5:.1f}">{number(value)}</text>'
        )
        value += step
    band = PLOT_W / max(len(chart.categories), 1)
    stride = _label_stride(chart.categories)
    last = len(chart.categories) - 1
    for i, label in enumerate(chart.categories):
        if (last - i) % stride:  # keep the newest label: count the stride from the right
            continue
        x = LEFT + band * (i + 0.5)
        parts.append(
            f'<text class="cat" x="{x:.1f}" y="{HEIGHT - BOTTOM + 20}">{escape(label)}</text>'
        )
    base = TOP + PLOT_H
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>')
    return parts


def _bars(chart: Chart, top: float) -> list[str]:
    parts = []
    band = PLOT_W / max(len(chart.categories), 1)
    width = band * 0.68
    for i, label in enumerate(chart.categories):
        x = LEFT + band * i + (band - width) / 2
        bottom = float(TOP + PLOT_H)
        for s in chart.series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            height = value / top * PLOT_H
            bottom -= height
            tip = f"{label} {s.name}: {number(value)}{chart.unit}"
            parts.append(
                f'<rect class="bar {_attr(s.css)}" x="{x:.1f}" y="{bottom:.1f}" '
                f'width="{width:.1f}" height="{height:.1f}"><title>{escape(tip)}</title></rect>'
            )
    return parts


def _lines(chart: Chart, top: float) -> list[str]:
    parts = []
    band = PLOT_W / max(len(chart.categories), 1)
    for s in chart.series:
        runs: list[list[tuple[float, float]]] = [[]]
        dots = []
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x, y = LEFT + band * (i + 0.5), TOP + PLOT_H - value / top * PLOT_H
            runs[-1].append((x, y))
            tip = f"{chart.categories[i]} {s.name}: {number(value)}{chart.unit}"
            dots.append(
                f'<circle class="dot {_attr(s.css)}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                f"<title>{escape(tip)}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline class="line {_attr(s.css)}" points="{points}"/>')
        parts += dots
    return parts


def svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (every text escaped)."""
    highest = _top(chart)
    step = nice_step(highest)
    top = step * max(1, math.ceil(highest / step))
    ids = f"chart-{_attr(chart.key)}"
    body = [
        f'<svg class="chart chart-{_attr(chart.style)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{ids}-t {ids}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ids}-t">{escape(chart.title)}</title>',
        f'<desc id="{ids}-d">{escape(chart.desc)}</desc>',
        *_legend(chart),
        *_axes(chart, top, step),
        *(_bars(chart, top) if chart.style == "bars" else _lines(chart, top)),
        "</svg>",
    ]
    return "\n".join(body)
