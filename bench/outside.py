"""The outside check of issue 21: ``python -m bench.outside [--seconds 10] [--repeats 2]``.

``GET /api/v1/cases?limit=50`` at 100,000 cases on SQLite under ``gunicorn -w 2 wsgi:app``
(gunicorn's defaults otherwise: sync workers) against the bare 50-row JSON page under the same
gunicorn settings, in alternating wrk runs of 32 clients; passes when csirt reaches >= 0.5 of
the bare page's req/s with p99 <= 2 x its p99. Prints the load average at start and end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.csirt_figures import CASE_API, HEALTH, P99_FACTOR, RATIO_TARGET, check_page
from bench.harness import GunicornServer, LoadPlan, WorkerSettings, measure_beside
from bench.limits import rows as rows_limit
from bench.run import load_average
from bench.seed import bench_env, seed

PLAIN = WorkerSettings(2, 1, "sync")  # what `gunicorn -w 2` runs


def main(argv: Sequence[str] | None = None) -> int:
    """Seed, serve both, load them alternately, print the figures and PASS/FAIL."""
    parser = argparse.ArgumentParser(prog="python -m bench.outside", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(f"# load average at the start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="csirt-outside-") as folder:
        work = Path(folder)
        limit_url = f"sqlite:///{work / 'limit.sqlite'}"
        rows_limit.prepare_database(limit_url)
        info = seed(f"sqlite:///{work / 'csirt.sqlite'}", work / "instance", args.cases)
        env = bench_env(info.url, work / "instance")
        headers = {"Authorization": f"Bearer {info.token}"}
        plan = LoadPlan(connections=(32,), duration_s=args.seconds, repeats=args.repeats)
        with (
            GunicornServer("wsgi:app", settings=PLAIN, env=env, ready_path=HEALTH) as csirt,
            GunicornServer(
                "bench.limits.rows:app",
                settings=PLAIN,
                env={rows_limit.DB_URL_ENV: limit_url, rows_limit.POOL_SIZE_ENV: "1"},
                ready_path="/rows.json",
            ) as bare,
        ):
            check_page(csirt.url, CASE_API, headers, b"CSIRT-")
            pages, limits = measure_beside(
                bare, "/rows.json", csirt, CASE_API, plan, headers=headers
            )
    page, limit = pages[32], limits[32]
    ratio = page.rps / limit.rps if limit.rps else 0.0
    for name, result in (("bare 50-row JSON page", limit), ("csirt GET " + CASE_API, page)):
        print(
            f"{name}: {result.rps:.0f} req/s, p50 {result.p50_ms:.0f} ms, "
            f"p99 {result.p99_ms:.0f} ms, errors {result.errors}, "
            f"other processes {result.other_cpu_share:.0%} of the CPU"
        )
    passed = ratio >= RATIO_TARGET and page.p99_ms <= P99_FACTOR * limit.p99_ms
    print(
        f"{'PASS' if passed else 'FAIL'}: ratio {ratio:.2f} (needs >= {RATIO_TARGET}), p99 "
        f"{page.p99_ms:.0f} ms (needs <= {P99_FACTOR * limit.p99_ms:.0f} ms)"
    )
    print(f"# load average at the end: {load_average()}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
