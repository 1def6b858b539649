"""Sightings lookup with 1,000,000 observables on PostgreSQL, beside the bare limit page.

``python -m bench.observables_sightings [--observables N] [--cases N] [--duration S]``

Starts a throwaway PostgreSQL, measures the bare 50-row limit page (bench.limits.rows) on it,
seeds csirt (bench.seed) with ``--cases`` cases and ``--observables`` observables (IP addresses,
each value on two cases, value keys computed by PostgreSQL exactly as csirt computes them), shows
the plan of the lookup (an index seek on ``ix_observables_value_key_case``), then loads
``GET /api/v1/observables/sightings?type=ip&value=...`` (200 different values, round robin; each
request also appends its audit row) and a case's observable list with its sightings, with wrk
at 32 clients, and prints p50/p99 beside the limit's.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg

from bench.csirt_figures import check_page
from bench.harness import (
    GunicornServer,
    HttpRequest,
    LoadPlan,
    Report,
    WorkerSettings,
    measure,
    timed,
)
from bench.pg import ThrowawayPostgres
from bench.run import measure_rows
from bench.seed import bench_env, seed

LOOKUP = "/api/v1/observables/sightings?type=ip&value={value}"
HEALTH = "/api/v1/health"

# Value i (0 <= i < observables/2) is 10.a.b.c; rows 2i and 2i+1 hold it on two cases.
SEED_SQL = """
INSERT INTO observables (case_id, type, value, value_key, hash_algorithm, tlp, pap, tags, ioc,
                         description, source, created_at, updated_at)
SELECT (n %% %(cases)s) + 1, 'ip', v.value,
       encode(sha256(convert_to('ip', 'UTF8') || '\\x00'::bytea || convert_to(v.value, 'UTF8')),
              'hex'),
       NULL, 'amber', 'amber', '[]'::json, n %% 3 = 0, '', 'bench', now(), now()
FROM generate_series(0, %(total)s - 1) AS n,
     LATERAL (SELECT '10.' || ((n / 2) / 65536 %% 256) || '.' || ((n / 2) / 256 %% 256) || '.'
                     || ((n / 2) %% 256) AS value) AS v
"""


def value_of(i: int) -> str:
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"


def seed_observables(dsn: str, total: int, cases: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SEED_SQL, {"total": total, "cases": cases})  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE observables")


def explain(dsn: str, value: str) -> str:
    from csirt.observables.normalise import value_key

    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "EXPLAIN SELECT case_id FROM observables WHERE value_key = %s",
            (value_key("ip", value),),
        ).fetchall()
    return " | ".join(str(row[0]).strip() for row in rows[:2])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observables", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=2)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = WorkerSettings()
    plan = LoadPlan(connections=(32,), duration_s=args.duration, warmup_s=1.0, repeats=args.repeats)
    report = Report(stream=sys.stdout)
    with tempfile.TemporaryDirectory(prefix="csirt-bench-obs-") as work, ThrowawayPostgres() as pg:
        limit = measure_rows(report, "postgres", pg.url, settings, plan, 100_000)
        url = pg.create_database("csirt_obs")
        with timed(f"seed {args.cases} cases"):
            info = seed(url, Path(work) / "instance", args.cases, timeline_events=10,
                        report_events=10)  # fmt: skip
        dsn = pg.libpq_dsn("csirt_obs")
        with timed(f"seed {args.observables} observables"):
            seed_observables(dsn, args.observables, args.cases)
        report.note(f"sightings lookup plan: {explain(dsn, value_of(7))}")
        headers = {"Authorization": f"Bearer {info.token}"}
        rng = random.Random(19)
        values = [value_of(rng.randrange(args.observables // 2)) for _ in range(200)]
        lookups = [HttpRequest(LOOKUP.format(value=v), headers=headers) for v in values]
        env = bench_env(url, Path(work) / "instance")
        env["CSIRT_DB_POOL_SIZE"] = str(settings.pool_size)
        env["CSIRT_DB_MAX_OVERFLOW"] = "0"
        with (
            timed("csirt sightings lookup"),
            GunicornServer("wsgi:console", settings=settings, env=env, ready_path=HEALTH) as server,
        ):
            check_page(server.url, lookups[0].path, headers, b'"sightings"')
            check_page(server.url, "/api/v1/cases/1/observables?limit=50", headers, b'"sightings"')
            results = measure(server, lookups, plan)
            listing = [HttpRequest(f"/api/v1/cases/{c}/observables?limit=50", headers=headers)
                       for c in range(1, 101)]  # fmt: skip
            lists = measure(server, listing, plan)
        for result in [*results.values(), *lists.values()]:
            if result.errors_status or result.errors_socket:
                report.note(f"errors: {result.errors_status} status, {result.errors_socket} socket")
        for c, result in results.items():
            report.add_load("csirt_sightings_lookup_postgres", result, limit[c])
        for c, result in lists.items():
            report.add_load("csirt_observable_list_postgres", result, limit[c])
    return 0


if __name__ == "__main__":
    sys.exit(main())
