"""Every console page with the demo data, as a lead, at modest concurrency: p50 and p99 per page.

    .venv/bin/python -m bench.console_pages [--requests 40] [--clients 4] [--cases 0]

What it does: a fresh SQLite database in a temporary folder, migrated and seeded as ``make run``
seeds it (``csirt demo seed``: the founding case with its records, teams, one user per role;
``--cases N`` adds N bulk cases with ``--events`` events each), served by gunicorn as ``make run``
serves it (2 sync workers); signed in as the demo lead through the real login form, it
crawls every console page reachable from the dashboard (HTML answers only, each route shape once)
plus a case search, then loads each page ``--requests`` times from ``--clients`` threads with
keep-alive connections. It prints one line per page (p50, p99, max in ms) and the pages whose
p99 is over the target (300 ms); the exit status is 1 if any page is over it or answered an error.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.csirt_figures import fetch, login
from bench.harness import (
    GunicornServer,
    WorkerSettings,
    _machine_busy_s,
    _own_cpu_s,
    _tree_cpu_s,
)
from bench.seed import bench_config, bench_env

TARGET_MS = 300.0
START = "/console/"
EXTRA = ("/console/cases/?q=名簿", "/console/cases/?q=漏えい 会計")
SKIP = re.compile(r"/(logout|download|export|raw|open)(/|$)|\.(csv|docx|ics|atom|json|txt)$")
HREF = re.compile(rb'href="(/console/[^"#]*)')


@dataclass(frozen=True)
class PageFigures:
    path: str
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    cpu_ms: float  # the server's CPU time per request (all workers): the page's own cost
    others: float  # share of the machine's CPUs other processes took meanwhile (0..1)


def shape(path: str) -> str:
    """The route shape of a path: numbers become N, the query keeps its keys only."""
    parts = urllib.parse.urlsplit(path)
    keys = ",".join(sorted(k for k, _v in urllib.parse.parse_qsl(parts.query)))
    return re.sub(r"\d+", "N", parts.path) + ("?" + keys if keys else "")


def crawl(base: str, cookie: str, limit: int) -> list[str]:
    """Console pages reachable from the dashboard (GET, HTML, one per route shape)."""
    seen_shapes: set[str] = set()
    pages: list[str] = []
    queue = deque([START])
    while queue and len(pages) < limit:
        path = queue.popleft()
        if shape(path) in seen_shapes or SKIP.search(urllib.parse.urlsplit(path).path):
            continue
        seen_shapes.add(shape(path))
        answer = fetch(base, path, headers={"Cookie": cookie})
        if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
            continue
        pages.append(path)
        for href in HREF.findall(answer.body):
            queue.append(href.decode().replace("&amp;", "&"))
    return pages


def _percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q / 100))]


def load(
    server: GunicornServer, cookie: str, path: str, requests: int, clients: int
) -> PageFigures:
    """``requests`` GETs of ``path`` from ``clients`` threads, one keep-alive connection each."""
    base = server.url
    parsed = urllib.parse.urlsplit(base)
    timings: list[float] = []
    errors = 0
    lock = threading.Lock()
    quoted = urllib.parse.quote(path, safe="/?&=%")

    def worker(count: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        try:
            for _ in range(count):
                began = time.perf_counter()
                connection.request("GET", quoted, headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    timings.append(elapsed)
                    errors += response.status >= 400
        finally:
            connection.close()

    shares = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    pid = server.process.pid
    began = (time.perf_counter(), _machine_busy_s(), _tree_cpu_s(pid), _own_cpu_s())
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, [n for n in shares if n]))
    wall = time.perf_counter() - began[0]
    served = _tree_cpu_s(pid) - began[2]
    other = _machine_busy_s() - began[1] - served - (_own_cpu_s() - began[3])
    return PageFigures(
        path,
        statistics.median(timings),
        _percentile(timings, 99),
        max(timings),
        errors,
        served * 1000 / len(timings),
        max(0.0, other) / (wall * (os.cpu_count() or 1)),
    )


def seed(url: str, instance: Path, cases: int, events: int) -> tuple[str, str]:
    """Migrate and seed as ``make run`` does; return the demo lead's username and password."""
    from csirt import create_app, demo
    from csirt.auth.permissions import Role
    from csirt.db import get_db
    from csirt.migrate import upgrade

    upgrade(url)
    config = bench_config(url, instance)
    app = create_app(config, interface="console")
    with app.app_context(), get_db(app).session() as session:
        logins = demo.seed(session, app.extensions["csirt.hashing"], config)
        if cases:
            demo.bulk_seed(session, cases, events)
    lead = next(x for x in logins if x.role is Role.LEAD)
    return lead.username, lead.password


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per page")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--cases", type=int, default=0, help="bulk cases on top of the demo")
    parser.add_argument("--events", type=int, default=5, help="events per bulk case")
    parser.add_argument("--pages", type=int, default=120, help="at most this many pages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
        instance = Path(folder) / "instance"
        url = f"sqlite:///{Path(folder) / 'csirt.sqlite3'}"
        began = time.perf_counter()
        username, password = seed(url, instance, args.cases, args.events)
        print(f"seed: demo + {args.cases} bulk cases, {time.perf_counter() - began:.1f} s")
        env = bench_env(url, instance)
        settings = WorkerSettings(workers=2, worker_class="sync")  # as `make run`
        with GunicornServer(
            "wsgi:app", settings=settings, env=env, ready_path="/api/v1/health"
        ) as server:
            cookie = login(server.url, username, password)
            pages = crawl(server.url, cookie, args.pages) + list(EXTRA)
            print(
                f"pages: {len(pages)}, {args.requests} requests each from {args.clients} "
                f"clients, gunicorn {settings.label}, as the demo lead"
            )
            for path in pages:  # warm each page once (template compilation, caches)
                fetch(
                    server.url, urllib.parse.quote(path, safe="/?&=%"), headers={"Cookie": cookie}
                )
            load_before = os.getloadavg()[0]
            figures = [load(server, cookie, p, args.requests, args.clients) for p in pages]
    print(f"load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print(
        f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU ms':>7} {'others':>6} {'errors':>6}  page"
    )
    for f in sorted(figures, key=lambda f: f.p99_ms, reverse=True):
        print(
            f"{f.p50_ms:8.1f} {f.p99_ms:8.1f} {f.max_ms:8.1f} {f.cpu_ms:7.1f} {f.others:6.0%} "
            f"{f.errors:6d}  {f.path}"
        )
    print("CPU ms: the server's CPU per request; others: the machine's CPUs taken by other")
    print("processes meanwhile (a p99 far above CPU ms with others high is the neighbours' doing)")
    over = [f for f in figures if f.p99_ms > TARGET_MS]
    failed = [f for f in figures if f.errors]
    print(f"pages over {TARGET_MS:.0f} ms p99: {len(over)} of {len(figures)}")
    print(f"pages with errors: {len(failed)}")
    print("PASS" if not over and not failed else "FAIL")
    return 0 if not over and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
