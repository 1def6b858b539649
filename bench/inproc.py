"""Work per request in process (issue 21): CPU time and Python function calls per page.

Load-independent figures for a busy machine: the app is called through the Flask test client
(no server, no network), signed in through the real login form, on a bench database made by
``bench.seed`` (made once under ``--dir`` and reused). For each page: CPU time per request
(``time.process_time``, best of ``--batches`` batches of ``--requests``) and the deterministic
count of Python function calls per request (cProfile over one batch), with ``--top`` functions
by own time when asked.

    .venv/bin/python -m bench.inproc --cases 100000 --dir /tmp/csirt-inproc [--top 15]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import time
from collections.abc import Sequence
from pathlib import Path

from flask.testing import FlaskClient

from bench.seed import LEAD, PASSWORD, SeedInfo, bench_config, seed
from csirt import create_app


def pages(info: SeedInfo) -> dict[str, str]:
    """Return the measured pages by name."""
    return {
        "case_list": "/console/cases/",
        "case_list_api": "/api/v1/cases?limit=50",
        "case_page": f"/console/cases/{info.report_case_id}",
        "timeline": f"/console/cases/{info.timeline_case_id}/timeline",
        "deadlines": "/console/deadlines",
        "dashboard": "/console/",
    }


def sign_in(client: FlaskClient) -> None:
    """Sign in as the bench lead through the login form."""
    page = client.get("/console/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.data)
    assert token is not None, "no CSRF token on the login page"
    answer = client.post(
        "/console/login",
        data={"csrf_token": token.group(1).decode(), "username": LEAD, "password": PASSWORD},
    )
    assert answer.status_code == 302, answer.status_code


def measure(
    client: FlaskClient, path: str, headers: dict[str, str], batches: int, requests: int, top: int
) -> tuple[float, float]:
    """Return (best CPU ms per request, function calls per request) for ``path``."""
    for _ in range(5):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.status_code)
    best = float("inf")
    for _ in range(batches):
        began = time.process_time()
        for _ in range(requests):
            client.get(path, headers=headers)
        best = min(best, (time.process_time() - began) / requests)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        client.get(path, headers=headers)
    profile.disable()
    stats = pstats.Stats(profile)
    calls = stats.total_calls / requests  # type: ignore[attr-defined]
    if top:
        stats.sort_stats("tottime").print_stats(top)
    return best * 1000, calls


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/csirt-inproc"))
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--top", type=int, default=0, help="print the top N functions")
    parser.add_argument("--page", action="append", help="only these pages (by name)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database = args.dir / f"cases-{args.cases}.sqlite3"
    url = f"sqlite:///{database}"
    instance = args.dir / "instance"
    info_file = args.dir / f"cases-{args.cases}.token"
    if not database.exists():
        args.dir.mkdir(parents=True, exist_ok=True)
        info = seed(url, instance, args.cases)
        info_file.write_text(info.token)
    info = SeedInfo(
        url, args.cases, LEAD, PASSWORD, info_file.read_text(), args.cases, args.cases - 1, 0.0
    )
    app = create_app(bench_config(url, instance))
    client = app.test_client()
    sign_in(client)
    bearer = {"Authorization": f"Bearer {info.token}"}
    for name, path in pages(info).items():
        if args.page and name not in args.page:
            continue
        headers = bearer if "/api/" in path else {}
        cpu, calls = measure(client, path, headers, args.batches, args.requests, args.top)
        print(f"{name:14} {cpu:7.2f} ms CPU  {calls:9,.0f} calls  {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
