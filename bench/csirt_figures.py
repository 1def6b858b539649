"""csirt's own figures, each beside the machine's limit measured in the same run.

Called by ``bench.run.csirt_figures`` once per scale (SQLite 100,000 cases, PostgreSQL
1,000,000): the pages of :data:`PAGES` under load (targets: >= 0.5 of the bare 50-row page's
req/s at 32 clients, p99 <= 2 x its p99), the committee report and the intake.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import (
    Figure,
    GunicornServer,
    LoadResult,
    Report,
    measure,
    measure_beside,
    timed,
)
from bench.seed import SeedInfo, bench_env, seed

if TYPE_CHECKING:
    from bench.run import Scale

CASE_LIST = "/console/cases/"
CASE_API = "/api/v1/cases?limit=50"
HEALTH = "/api/v1/health"
ONE_GIB = 1024**3
RATIO_TARGET = 0.5  # csirt req/s >= half the bare 50-row page's, same run, same settings
P99_FACTOR = 2.0  # csirt p99 <= 2 x the bare page's p99
REPORT_S = 2.0
INTAKE_RPS = 20.0


class PageCheckError(RuntimeError):
    """A page answered something other than what the benchmark expects (e.g. a login redirect)."""


@dataclass(frozen=True)
class Answer:
    """One plain HTTP answer."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    seconds: float


def fetch(
    base_url: str,
    path: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """Send one request (no redirects followed) and return the answer."""
    parsed = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
    began = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - began
        # Several Set-Cookie headers are joined; the session cookie is what we read.
        merged = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, data, merged, elapsed)
    finally:
        connection.close()


def _cookie(answer: Answer, name: str) -> str | None:
    match = re.search(rf"{name}=([^;,\s]+)", answer.headers.get("set-cookie", ""))
    return match.group(1) if match else None


def login(base_url: str, username: str, password: str) -> str:
    """Sign in through the real login form; return the ``Cookie`` header value."""
    page = fetch(base_url, "/console/login")
    cookie = _cookie(page, "csirt_session")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.body)
    if page.status != 200 or cookie is None or token is None:
        raise PageCheckError(f"login page: HTTP {page.status}, no session cookie or CSRF token")
    form = urllib.parse.urlencode(
        {"csrf_token": token.group(1).decode(), "username": username, "password": password}
    ).encode()
    answer = fetch(
        base_url,
        "/console/login",
        method="POST",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csirt_session={cookie}",
        },
    )
    signed_in = _cookie(answer, "csirt_session")
    if answer.status != 302 or signed_in is None:
        raise PageCheckError(f"login failed: HTTP {answer.status}")
    return f"csirt_session={signed_in}"


def check_page(base_url: str, path: str, headers: Mapping[str, str], needle: bytes) -> Answer:
    """GET ``path`` once and insist on 200 with ``needle`` in the body (not a login redirect)."""
    answer = fetch(base_url, path, headers=headers)
    if answer.status != 200 or needle not in answer.body:
        raise PageCheckError(
            f"{path}: HTTP {answer.status}, {len(answer.body)} bytes, missing {needle!r}"
        )
    return answer


def serve_console(scale: Scale, info: SeedInfo, instance: Path) -> GunicornServer:
    """Serve csirt's console with the limits' worker settings and a pool of one per thread."""
    env = bench_env(info.url, instance)
    env["CSIRT_DB_POOL_SIZE"] = str(scale.settings.pool_size)
    env["CSIRT_DB_MAX_OVERFLOW"] = "0"
    return GunicornServer("wsgi:console", settings=scale.settings, env=env, ready_path=HEALTH)


def add_loads(
    report: Report, prefix: str, results: Mapping[int, LoadResult], limits: Mapping[int, LoadResult]
) -> None:
    """Add the figures of every client count beside the limit at that count."""
    for clients, result in sorted(results.items()):
        report.add_load(prefix, result, limits.get(clients))


@dataclass(frozen=True)
class Page:
    """A csirt page measured under load against the bare 50-row page of the same run."""

    name: str  # figure and target names: csirt_<name>_<scale>_..., <name>_<scale>_ratio_c32
    path: Callable[[SeedInfo], str]
    needle: bytes  # must be in the answer (not a login page, not an empty list)
    token: bool = False  # bearer token (the API) instead of the signed-in session cookie
    what: str = ""
    limit_path: str = "/rows"  # the bare page it is compared with (HTML, or /rows.json)


PAGES: tuple[Page, ...] = (
    Page("case_list_html", lambda _i: CASE_LIST, b"<table", what="case list (HTML)"),
    Page(
        "case_api",
        lambda _i: CASE_API,
        b"CSIRT-",
        token=True,
        what="case list (API)",
        limit_path="/rows.json",
    ),
    Page("case_page", lambda i: f"/console/cases/{i.report_case_id}", b"CSIRT-", what="case page"),
    Page(
        "timeline",
        lambda i: f"/console/cases/{i.timeline_case_id}/timeline",
        "対応記録".encode(),
        what="timeline page (10,000 events)",
    ),
    Page("deadlines", lambda _i: "/console/deadlines", b"</main>", what="deadlines board"),
    Page("dashboard", lambda _i: "/console/", b"</main>", what="dashboard"),
)


def page_targets(
    report: Report, page: Page, scale: Scale, result: LoadResult, limit: LoadResult
) -> None:
    """At 32 clients: >= 50% of the bare page's req/s, p99 <= 2 x the bare page's p99."""
    ratio = result.rps / limit.rps if limit.rps else 0.0
    report.ratio(f"{page.name}_{scale.name}", ratio, disturbed=max_other(result, limit))
    report.target_at_least(
        f"{page.name}_{scale.name}_ratio_c32",
        f"{page.what} req/s >= {RATIO_TARGET:.0%} of the bare 50-row page at 32 clients "
        f"({scale.cases:,} cases)",
        ratio,
        RATIO_TARGET,
        why_missed=(
            f"{result.rps:.0f} vs {limit.rps:.0f} req/s: csirt does per request what the bare "
            "page does not (see bench/PROFILE.md)"
        ),
    )
    p99 = result.p99_ms if result.requests else float("inf")
    report.target(
        f"{page.name}_{scale.name}_p99_c32",
        f"{page.what} p99 <= {P99_FACTOR:g} x the bare page's p99 at 32 clients",
        p99 <= P99_FACTOR * limit.p99_ms,
        f"{p99:.0f} ms, needs <= {P99_FACTOR * limit.p99_ms:.0f} ms",
        "at 32 clients on 2 cores p99 is about 32 x the service time: it follows the ratio",
    )
    if result.errors:
        report.target(
            f"{page.name}_{scale.name}_error_free",
            f"{page.what} answered every request with 2xx/3xx",
            False,
            f"{result.errors} errors of {result.requests}",
            "see the gunicorn error log",
        )


def max_other(*results: LoadResult) -> float:
    """The largest share of the CPU other processes took during any of these runs."""
    return max(r.other_cpu_share for r in results)


def measure_page(
    report: Report,
    scale: Scale,
    server: GunicornServer,
    limit: GunicornServer | None,
    page: Page,
    info: SeedInfo,
    cookie: str,
) -> None:
    """Check that ``page`` answers as expected, load it (beside the bare page when ``limit``
    is given), add its figures and targets."""
    path = page.path(info)
    headers = {"Authorization": f"Bearer {info.token}"} if page.token else {"Cookie": cookie}
    probe = fetch(server.url, path, headers=headers)
    if probe.status == 404 and not page.token and page.name in {"deadlines", "dashboard"}:
        report.note(f"skipped csirt_{page.name}_{scale.name}: {path} is not served")
        return
    check_page(server.url, path, headers, page.needle)
    with timed(f"csirt {page.name} {scale.name}"):
        if limit is None:
            results, limits = measure(server, path, scale.plan, headers=headers), scale.limit_rows
        else:
            results, limits = measure_beside(
                limit, page.limit_path, server, path, scale.plan, headers=headers
            )
            for result in limits.values():
                report.add_load(f"limit_rows_{scale.name}_beside_{page.name}", result)
    check_page(server.url, path, headers, page.needle)  # still signed in after the load
    add_loads(report, f"csirt_{page.name}_{scale.name}", results, limits)
    clients = max(results)
    page_targets(report, page, scale, results[clients], limits[clients])


def measure_committee_report(report: Report, scale: Scale, info: SeedInfo) -> None:
    """Build the committee report .docx for the case with 1,000 public events (< 2 s)."""
    builder = committee_report_builder()
    if builder is None:
        report.note("committee report from the database not built yet: timing the pure builder")
        from bench.bench_documents import EVENTS, facts_with_events
        from csirt.documents.builders import build_document, to_bytes

        facts = facts_with_events(EVENTS)

        def build() -> bytes:
            return to_bytes(build_document("committee_report", facts, draft=True))

    else:

        def build() -> bytes:
            return builder(info.url, info.report_case_id)

    build()  # warm-up: imports, template parsing
    runs = []
    size = 0
    for _ in range(3):
        began = time.perf_counter()
        size = len(build())
        runs.append(time.perf_counter() - began)
    seconds = min(runs)
    report.add(
        Figure(
            f"csirt_committee_report_1000_events_{scale.name}",
            seconds * 1000,
            "ms",
            note=f"{size // 1024} KiB .docx, best of 3",
        )
    )
    report.target_below(
        f"committee_report_{scale.name}",
        "committee report < 2 s at 1,000 public events",
        seconds,
        REPORT_S,
        " s",
        why_missed="python-docx builds the document in memory; profile the table rows",
    )


def committee_report_builder() -> Callable[[str, int], bytes] | None:
    """Return 'the committee report of a case, from the database', if the code exists yet.

    Times what a user waits for: reading the case's public facts (snapshot) and building the
    .docx.
    """
    try:
        from csirt.documents import snapshot
        from csirt.documents.builders import build_document, to_bytes
    except ImportError:
        return None
    build_case_facts = getattr(snapshot, "build_case_facts", None)
    if not callable(build_case_facts):
        return None

    def build(url: str, case_id: int) -> bytes:
        from sqlalchemy.orm import Session

        from csirt.cases.models import Case
        from csirt.db import make_engine

        engine = make_engine(url)
        try:
            with Session(engine) as session:
                case = session.get(Case, case_id)
                facts = build_case_facts(
                    session, case, lang="ja", org_name="Bench City", timezone="Asia/Tokyo"
                )
                return to_bytes(build_document("committee_report", facts, draft=True))
        finally:
            engine.dispose()

    return build


def measure_all(report: Report, scale: Scale) -> None:
    """Seed ``scale.cases`` cases and measure every csirt figure at this scale."""
    instance = scale.workdir / f"instance-{scale.name}"
    url = scale.new_database(f"csirt_{scale.name}")
    with timed(f"seed {scale.cases:,} cases on {scale.name}") as timer:
        info = seed(url, instance, scale.cases)
    report.note(f"seeded {scale.cases:,} cases on {scale.name} in {timer.elapsed_s:.0f}s")
    with ExitStack() as servers:
        server = servers.enter_context(serve_console(scale, info, instance))
        limit = None
        if scale.limit_url:
            from bench.run import serve_rows

            limit = servers.enter_context(serve_rows(scale.limit_url, scale.settings))
        cookie = login(server.url, info.username, info.password)
        for page in PAGES:
            if scale.pages is not None and page.name not in scale.pages:
                continue
            try:
                measure_page(report, scale, server, limit, page, info, cookie)
            except PageCheckError as error:
                report.target(
                    f"{page.name}_{scale.name}_answers",
                    f"{page.what} answers 200 with its content",
                    False,
                    str(error)[:200],
                    "the page is broken (see the server log): nothing to measure",
                )
    if scale.pages is not None:
        return  # the regression guard: pages only
    measure_committee_report(report, scale, info)
    from bench.csirt_intake import measure_intake

    measure_intake(report, scale, instance)


__all__ = ["PageCheckError", "login", "measure_all"]
