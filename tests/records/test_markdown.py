"""Notes render Markdown safely: no raw HTML, no script URLs, links marked nofollow."""

from __future__ import annotations

from csirt.records.markdown import render_markdown


def test_markdown_renders():
    html = render_markdown(
        "# 経緯\n\n**重要** *注意*\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h1>経緯</h1>" in html
    assert "<strong>重要</strong>" in html
    assert "<em>注意</em>" in html
    assert "<li>a</li>" in html
    assert "<td>1</td>" in html


def test_script_tags_and_raw_html_are_not_rendered():
    html = render_markdown('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">')
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html  # shown as text, harmless


def test_dangerous_links_are_removed_and_safe_ones_marked():
    html = render_markdown(
        "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](data:text/html,x) "
        "[d](vbscript:x) [e](/console/admin) [f](https://example.jp/p?q=1) <mailto:x@example.jp>"
    )
    lowered = html.lower()
    assert 'href="javascript' not in lowered
    assert 'href="data:' not in lowered
    assert 'href="vbscript' not in lowered
    assert 'href="/console' not in lowered
    assert 'href="https://example.jp/p?q=1"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert 'href="mailto:x@example.jp"' in html


def test_images_are_dropped():
    html = render_markdown("![tracker](https://evil.example/pixel.png)")
    assert "<img" not in html
