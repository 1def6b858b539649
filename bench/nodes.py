"""Issue 20 figures: the case-list API on one node, then on two nodes, against one PostgreSQL.

``.venv/bin/python -m bench.nodes [--cases 1000000] [--duration 5]`` starts a throwaway
PostgreSQL, seeds it (bench/seed.py), starts node A (``wsgi:console``, 2 workers x 4 threads,
its own instance folder) and loads ``GET /api/v1/cases?limit=50`` with 32 wrk clients; then
starts node B (same settings, another empty instance folder, same database) and loads both at
once with 16 clients each (32 in all). Requests/s are summed; p99 is the worse of the two.
Both nodes run on this machine (with PostgreSQL and wrk): the figure shows what a second node
gains on the same cores, not what a second machine would add.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from bench.harness import GunicornServer, LoadResult, WorkerSettings, run_wrk, timed
from bench.pg import ThrowawayPostgres
from bench.seed import bench_env, seed

CASE_API = "/api/v1/cases?limit=50"


def _node_env(url: str, instance: Path) -> dict[str, str]:
    instance.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSIRT_")}
    return {**env, **bench_env(url, instance)}


def _line(label: str, rps: float, p99: float, errors: int) -> str:
    return f"{label:<36} {rps:>9.0f} req/s   p99 {p99:>7.1f} ms   errors {errors}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args(argv)
    settings = WorkerSettings(workers=2, threads=4)
    work = Path(tempfile.mkdtemp(prefix="bench-nodes-"))
    with ThrowawayPostgres("nodes") as pg:
        url = pg.url
        with timed(f"seed {args.cases:,} cases"):
            info = seed(url, work / "instance-a", args.cases)
        headers = {"Authorization": f"Bearer {info.token}"}
        with GunicornServer(
            "wsgi:console",
            settings=settings,
            env=_node_env(url, work / "instance-a"),
            ready_path="/api/v1/health",
        ) as node_a:
            run_wrk(node_a.url, CASE_API, connections=4, duration_s=1, headers=headers)  # warm
            one = run_wrk(
                node_a.url,
                CASE_API,
                connections=args.clients,
                duration_s=args.duration,
                headers=headers,
            )
            with GunicornServer(
                "wsgi:console",
                settings=settings,
                env=_node_env(url, work / "instance-b"),  # empty: nothing copied from A
                ready_path="/api/v1/health",
            ) as node_b:
                run_wrk(node_b.url, CASE_API, connections=4, duration_s=1, headers=headers)
                halves: dict[str, LoadResult] = {}

                def load(name: str, base: str) -> None:
                    halves[name] = run_wrk(
                        base,
                        CASE_API,
                        connections=args.clients // 2,
                        duration_s=args.duration,
                        headers=headers,
                    )

                threads = [
                    threading.Thread(target=load, args=("a", node_a.url)),
                    threading.Thread(target=load, args=("b", node_b.url)),
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
    cpus = os.cpu_count() or 1
    print(f"# case-list API ({CASE_API}), {args.cases:,} cases, PostgreSQL, {cpus} CPUs here")
    print(
        _line(f"1 node x {settings.label}, {args.clients} clients", one.rps, one.p99_ms, one.errors)
    )
    total = halves["a"].rps + halves["b"].rps
    worst = max(halves["a"].p99_ms, halves["b"].p99_ms)
    errors = halves["a"].errors + halves["b"].errors
    print(_line(f"2 nodes x {settings.label}, {args.clients} clients", total, worst, errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
