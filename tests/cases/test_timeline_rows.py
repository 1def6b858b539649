"""The timeline page's rows written in Python (timeline_pages.rows_html) read exactly as the
template's loop wrote them, escaping included (issue 21)."""

from __future__ import annotations

from flask import Flask

from csirt.cases.timeline_pages import EventRow, rows_html

# The loop cases/timeline.html had before the rows were written in Python.
TEMPLATE_ROWS = (
    "{% set correct = _('Correct') %}{% set evidence_label = _('Evidence') %}"
    "{% for id, css, when, title, description, evidence, category, visibility, who, edit_label"
    ' in rows %}<tr class="{{ css }}"><td class="when">{{ when }}</td><th scope="row">'
    '{{ title }}{% if description %}<p class="desc">{{ description }}</p>{% endif %}'
    '{% if evidence %}<p class="muted">{{ evidence_label }}: {{ evidence }}</p>{% endif %}'
    "</th><td>{{ category }}</td><td>{{ visibility }}</td><td>{{ who }}</td>{% if can_edit %}"
    '<td><a href="{{ events_base }}/{{ id }}/edit" aria-label="{{ edit_label }}">'
    "{{ correct }}</a></td>{% endif %}</tr>\n  {% endfor %}"
)

ROWS = [
    EventRow(1, " vis-internal", "6 Jan 2025 09:00 JST", "plain", "", "", "Event", "Internal",
             "bench / alice", "Correct or delete: plain"),
    EventRow(2, "auto vis-public", "Jan 2025", "Priority P3 → P1", "by the triage", "3, 7",
             "Legal", "Public", "System", "Correct or delete: Priority P3 → P1"),
    EventRow(3, ' vis-"x"', "about 6 Jan 2025 <b>", "<script>&\"'", "a & b <i>", "",
             "cat<&>", "vis'\"", "<b>x</b> / y&z", "Correct or delete: <script>&\"'"),
    EventRow(4, " vis-public", "7 Jan 2025", "対応記録 4", "関係部署と協議した。", "", "Event",
             "Public", "対応担当", "Correct or delete: 対応記録 4"),
]  # fmt: skip


def test_rows_html_is_what_the_templates_loop_wrote(app: Flask) -> None:
    for lang in ("ja", "en"):
        with app.test_request_context("/console/", headers={"Accept-Language": lang}):
            template = app.jinja_env.from_string(TEMPLATE_ROWS)
            for can_edit in (True, False):
                for base in ("/console/cases/7/timeline", '/root&"/cases/7/timeline'):
                    rows = ROWS if can_edit else [r._replace(edit_label="") for r in ROWS]
                    expected = template.render(rows=rows, can_edit=can_edit, events_base=base)
                    assert str(rows_html(rows, base, can_edit)) == expected, (lang, can_edit)
            assert "&lt;script&gt;&amp;&#34;&#39;" in rows_html(ROWS, "/t", True)
            assert str(rows_html([], "/t", True)) == ""
