"""The dashboard's trends and their SVG charts: the figures (need-to-know applied), the drawing
(pure, escaped, accessible), and the page through the test client."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from csirt.cases import charts
from csirt.cases.dashboard import DashboardCache, trends
from csirt.records import service as records
from csirt.records.validation import InquiryInput

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_percentiles_steps_and_numbers():
    assert charts.percentile([], 50) is None
    assert charts.percentile([4, 1, 3, 2], 50) == 2.5
    assert charts.percentile(list(range(11)), 90) == 9
    assert charts.percentile([7], 90) == 7
    assert [charts.nice_step(top) for top in (0, 3, 7, 38, 180)] == [1, 1, 2, 10, 50]
    assert [charts.number(v) for v in (None, 3.0, 2.25)] == ["—", "3", "2.2"]


def test_svg_is_accessible_and_escaped():
    chart = charts.Chart(
        key="k",
        title="<script>alert(1)</script>",
        desc='a "quoted" & <b>',
        category_name="Month",
        categories=("1月", "2月", "<3>", "4月"),
        series=(charts.Series("中央値", (1.0, None, 3.0, 4.5), "s-median"),),
        style="lines",
        unit="時間",
    )
    markup = chart.svg
    assert markup.startswith('<svg class="chart chart-lines"')
    assert 'role="img" aria-labelledby="chart-k-t chart-k-d"' in markup
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    assert "&lt;3&gt;" in markup
    assert "<b>" not in markup
    # A gap (None) breaks the line: one point alone, then a line of two.
    assert markup.count("<polyline") == 1
    assert markup.count("<circle") == 3
    assert chart.rows()[1] == ("2月", ["—"])
    bars = charts.Chart("b", "t", "d", "Week", ("a", "b"), (charts.Series("P1", (2, 0)),))
    assert bars.svg.count('<rect class="bar') == 1  # nothing drawn for zero


def test_trends_count_what_the_user_may_see(db_session: Session, cases, lead, users):
    responder = users.create(roles=["responder"]).user
    mine = cases.create(title="見える事案", actor=lead, members=[lead, responder])
    other = cases.create(title="見えない事案", actor=lead, members=[lead])
    for case, days in ((mine, 10), (other, 3)):
        case.created_at = NOW - timedelta(days=days)
        case.acknowledged_at = case.created_at + timedelta(hours=days)
    other.closed_at, other.phase = NOW - timedelta(days=1), "closed"
    for day in (date(2026, 12, 6), date(2026, 12, 6), date(2026, 12, 1)):
        records.add_inquiry(db_session, mine, lead, InquiryInput("phone", day, "問い合わせ", False))
    records.add_inquiry(
        db_session, other, lead, InquiryInput("email", date(2026, 12, 6), "問い合わせ", False)
    )
    db_session.flush()

    seen = trends(db_session, responder, NOW)
    assert seen.inquiries[-1] == 2
    assert seen.inquiries[-6] == 1
    assert sum(seen.inquiries) == 3
    assert sum(counts[-1] for counts in seen.open_by_week.values()) == 1
    assert seen.acknowledge[-2:] == ((10.0, 10.0), (None, None))  # acknowledged in November
    assert seen.close[-1] == (None, None)

    everything = trends(db_session, lead, NOW)
    total = [sum(counts[i] for counts in everything.open_by_week.values()) for i in range(12)]
    # Mine is open at the last two week ends (created ten days ago); the other one was created
    # after the one before last and closed before the last: it is never counted open.
    assert total[-1] == total[-2] == total[-3] + 1
    assert everything.close[-1] == (48.0, 48.0)
    assert sum(everything.inquiries) >= 3
    assert everything.acknowledge[-1] == (3.0, 3.0)


def test_trends_are_cached_per_visibility_until_invalidated(db_session: Session, make_case, lead):
    cache = DashboardCache()
    first = trends(db_session, lead, NOW, cache=cache)
    case = make_case(title="あとから")
    records.add_inquiry(db_session, case, lead, InquiryInput("visit", NOW.date(), "来庁", False))
    db_session.flush()
    assert trends(db_session, lead, NOW + timedelta(minutes=1), cache=cache) is first
    assert trends(db_session, lead, NOW + timedelta(minutes=6), cache=cache) is not first
    cache.invalidate()
    assert trends(db_session, lead, NOW, cache=cache).inquiries[-1] == first.inquiries[-1] + 1


def test_dashboard_page_shows_the_charts(client, login_as):
    login_as("lead")
    page = client.get("/console/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    for key in ("open", "acknowledge", "close", "obligations", "inquiries"):
        assert f'id="fig-{key}"' in page.text
        assert f'<title id="chart-{key}-t">' in page.text
    assert "Show as a table" in page.text
    trends = page.text[
        page.text.index('id="trends-h"') : page.text.index(
            "</section>", page.text.index('id="trends-h"')
        )
    ]
    assert "<script" not in trends  # drawn on the server: no script
