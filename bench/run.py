"""Run the benchmark suite: ``python -m bench.run [--quick] [--pg-url URL]``.

Measures the machine's limits (bare Flask hello; bare Flask + SQLAlchemy + Jinja 50-row page of
a 100,000-row table) on SQLite and PostgreSQL, then csirt's figures through ``csirt_figures``,
and prints one line per figure followed by the PASS/FAIL summary of the targets.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

from bench import guard
from bench.harness import (
    GunicornServer,
    LoadPlan,
    LoadResult,
    Report,
    WorkerSettings,
    find_wrk,
    measure,
    timed,
)
from bench.limits import rows as rows_limit
from bench.pg import ThrowawayPostgres

HELLO_APP = "bench.limits.hello:app"
ROWS_APP = "bench.limits.rows:app"
CONNECTIONS = (1, 32)
SWEEP_SETTINGS = (
    WorkerSettings(2, 1, "sync"),
    WorkerSettings(3, 1, "sync"),
    WorkerSettings(4, 1, "sync"),
    WorkerSettings(1, 8),
    WorkerSettings(2, 4),
    WorkerSettings(4, 2),
)
GUARD_PAGES = frozenset(
    {"case_list_html", "case_api", "case_page", "timeline", "deadlines", "dashboard"}
)


@dataclass(frozen=True)
class Scale:
    """One half of the run (SQLite or PostgreSQL) and what csirt's figures need to know about it."""

    name: str  # "sqlite" or "postgres": goes into figure names
    cases: int  # how many cases csirt's database should hold at this scale
    quick: bool
    workdir: Path  # scratch folder, deleted at the end of the run
    settings: WorkerSettings  # the gunicorn settings the limits ran with: use the same for csirt
    plan: LoadPlan  # the load the limits got: give csirt's pages the same
    limit_rows: Mapping[int, LoadResult]  # the bare 50-row page, by connection count
    limit_hello: Mapping[int, LoadResult]
    new_database: Callable[[str], str]  # name -> SQLAlchemy URL of an empty database
    pages: frozenset[str] | None = None  # only these pages, no documents/intake (the guard)
    limit_url: str = ""  # the bare 50-row page's database: measured again beside each page


# ---------------------------------------------------------------------------------------------
# csirt hooks: fill these in once the app exists.


def csirt_figures(report: Report, scale: Scale) -> None:
    """Measure csirt at ``scale`` and add its figures and targets to ``report``.

    See bench/csirt_figures.py: seeds ``scale.cases`` cases, serves csirt with the limits'
    worker settings, and measures the case list (HTML and API), a 10,000-event timeline, the
    committee report and the intake; a page not built yet is noted as skipped.
    """
    from bench.csirt_figures import measure_all

    try:
        measure_all(report, scale)
    except Exception as error:
        report.target(
            f"csirt_{scale.name}_ran",
            f"csirt's figures on {scale.name} could be measured",
            False,
            f"{type(error).__name__}: {str(error)[:300]}",
            "csirt did not start or a page failed; see the error above",
        )


# ---------------------------------------------------------------------------------------------
# Limits


def measure_hello(
    report: Report, settings: WorkerSettings, plan: LoadPlan
) -> dict[int, LoadResult]:
    """Serve the bare hello app and add its figures."""
    with (
        timed(f"limit hello ({settings.label})"),
        GunicornServer(HELLO_APP, settings=settings) as server,
    ):
        results = measure(server, "/", plan)
        memory = server.memory()
    for result in results.values():
        report.add_load("limit_hello", result)
    report.add_memory("limit_hello", memory)
    return results


def serve_rows(url: str, settings: WorkerSettings) -> GunicornServer:
    """Start the bare 50-row page against ``url`` (already prepared)."""
    return GunicornServer(
        ROWS_APP,
        settings=settings,
        env={rows_limit.DB_URL_ENV: url, rows_limit.POOL_SIZE_ENV: str(settings.pool_size)},
        ready_path="/rows",
    )


def measure_rows(
    report: Report,
    db_name: str,
    url: str,
    settings: WorkerSettings,
    plan: LoadPlan,
    table_rows: int,
) -> dict[int, LoadResult]:
    """Fill the limit table if needed, serve the 50-row page, and add its figures."""
    with timed(f"limit rows table on {db_name} ({table_rows} rows)"):
        rows_limit.prepare_database(url, table_rows)
    plan_text = rows_limit.explain_page(url)
    report.note(f"limit rows {db_name} plan: " + " | ".join(plan_text.splitlines()[:2]))
    with (
        timed(f"limit rows on {db_name} ({settings.label})"),
        serve_rows(url, settings) as server,
    ):
        results = measure(server, "/rows", plan)
        memory = server.memory()
    for result in results.values():
        report.add_load(f"limit_rows_{db_name}", result)
    report.add_memory(f"limit_rows_{db_name}", memory)
    return results


def sweep_settings(report: Report, sqlite_url: str, plan: LoadPlan) -> WorkerSettings:
    """Measure both limits at 32 clients under several worker settings; return the best.

    Settings are measured in interleaved rounds (each round runs every setting once) and each
    keeps its best round, so a burst of load from other processes does not sink one setting.
    """
    one_run = replace(plan, connections=(32,), repeats=1)
    hello: dict[WorkerSettings, LoadResult] = {}
    rows: dict[WorkerSettings, LoadResult] = {}
    for round_number in range(1, max(1, plan.repeats) + 1):
        for settings in SWEEP_SETTINGS:
            with timed(f"sweep round {round_number} {settings.label}"):
                with GunicornServer(HELLO_APP, settings=settings) as server:
                    h = measure(server, "/", one_run)[32]
                with serve_rows(sqlite_url, settings) as server:
                    r = measure(server, "/rows", one_run)[32]
            if settings not in hello or h.rps > hello[settings].rps:
                hello[settings] = h
            if settings not in rows or r.rps > rows[settings].rps:
                rows[settings] = r
    for settings in SWEEP_SETTINGS:
        report.add_load(f"sweep_{settings.label}_hello", hello[settings])
        report.add_load(f"sweep_{settings.label}_rows_sqlite", rows[settings])
    best = max(SWEEP_SETTINGS, key=lambda s: rows[s].rps)
    report.note(
        f"best worker settings for the 50-row page at 32 clients: {best.label} "
        f"({rows[best].rps:.0f} req/s, p99 {rows[best].p99_ms:.0f} ms)"
    )
    return best


def limit_targets(report: Report, results: Sequence[LoadResult]) -> None:
    """Sanity target: every limit request answered 2xx/3xx without socket errors."""
    errors = sum(r.errors for r in results)
    total = sum(r.requests for r in results)
    report.target(
        "limits_error_free",
        "every limit request answered without error",
        errors == 0,
        f"{errors} errors in {total} requests",
        "see gunicorn's log: a failing limit makes every ratio meaningless",
    )


# ---------------------------------------------------------------------------------------------
# Machine description


def load_average() -> str:
    """Return the 1, 5 and 15-minute load averages."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def describe_machine(report: Report, settings: WorkerSettings, plan: LoadPlan) -> None:
    """Record what the figures were measured on."""
    cpu = "unknown CPU"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    mem = ""
    try:
        match = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        mem = f", {int(match.group(1)) / 1024 / 1024:.1f} GiB RAM" if match else ""
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    wrk_version = (
        subprocess.run([find_wrk(), "--version"], capture_output=True, text=True, check=False)
        .stdout.split(" [")[0]
        .strip()
        or "wrk"
    )
    report.note(
        f"load average at the start: {load_average()} (other work on the machine skews figures)"
    )
    report.note(f"machine: {cpu}, {cores} cores{mem}; {platform.platform()}")
    report.note(
        f"python {platform.python_version()}, flask {version('flask')}, "
        f"sqlalchemy {version('sqlalchemy')}, gunicorn {version('gunicorn')}, "
        f"sqlite {sqlite3.sqlite_version}, {wrk_version}"
    )
    clients = " and ".join(f"{c} client{'s' if c > 1 else ''}" for c in plan.connections)
    report.note(
        f"gunicorn {settings.label} ({settings.workers} {settings.worker_class} workers"
        f"{'' if settings.worker_class == 'sync' else f' x {settings.threads} threads'}); "
        f"wrk on the same machine, {plan.duration_s:g}s per run after a {plan.warmup_s:g}s "
        f"warm-up, best of {plan.repeats} runs, {clients}"
    )


# ---------------------------------------------------------------------------------------------
# Entry point


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="SQLite half only, short runs")
    parser.add_argument(
        "--pg-url",
        help="use this PostgreSQL (SQLAlchemy URL) instead of a "
        "throwaway server; also enables the PostgreSQL half in --quick",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread only")
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread"),
        default="sync",
        help="gunicorn worker class for csirt and the limits (default sync, as production)",
    )
    parser.add_argument(
        "--guard",
        type=Path,
        metavar="BASELINE_MD",
        help="regression guard: SQLite pages only, compare each ratio with the baseline "
        "in this file and exit 1 when one is more than 20%% below it",
    )
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 5, quick 3)")
    parser.add_argument(
        "--repeats", type=int, help="best-of-N runs per figure (default 3, quick 2)"
    )
    parser.add_argument(
        "--sweep",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="compare several worker settings (default: on unless --quick)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL half")
    parser.add_argument("--limit-rows", type=int, default=rows_limit.DEFAULT_ROWS)
    parser.add_argument("--sqlite-cases", type=int, default=100_000)
    parser.add_argument("--pg-cases", type=int, default=1_000_000)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    return parser.parse_args(argv)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # Turn SIGTERM into SystemExit so servers and PostgreSQL are stopped by their finally blocks.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite and print the report; return the exit status."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    settings = WorkerSettings(args.workers, args.threads, args.worker_class)
    quick = args.quick or args.guard is not None
    plan = LoadPlan(
        # The ratios are taken at 32 clients: quick runs skip the single-client figures.
        connections=(32,) if quick else CONNECTIONS,
        # The guard alternates 2 s runs of the bare page and each page: about a minute in all.
        duration_s=args.duration or (2.0 if args.guard else 3.0 if quick else 5.0),
        warmup_s=1.0,
        repeats=args.repeats or (2 if quick else 3),
    )
    baseline = guard.read_baseline(args.guard) if args.guard is not None else None
    sweep = args.sweep if args.sweep is not None else not quick
    with_postgres = not args.no_postgres and (not quick or args.pg_url is not None)
    report = Report(stream=sys.stdout)
    describe_machine(report, settings, plan)
    limit_results: list[LoadResult] = []

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="csirt-bench-")))
        if baseline is None:
            hello = measure_hello(report, settings, plan)
            limit_results += hello.values()
        else:
            hello = {}  # the guard compares with the 50-row page only

        def sqlite_database(name: str) -> str:
            return f"sqlite:///{workdir / name}.sqlite"

        halves: list[tuple[str, int, str, Callable[[str], str]]] = [
            ("sqlite", args.sqlite_cases, sqlite_database("limit_rows"), sqlite_database)
        ]
        if with_postgres:
            if args.pg_url:
                given: str = args.pg_url
                halves.append(("postgres", args.pg_cases, given, lambda _name: given))
            else:
                with timed("throwaway PostgreSQL"):
                    pg = stack.enter_context(ThrowawayPostgres())
                halves.append(("postgres", args.pg_cases, pg.url, pg.create_database))

        for name, cases, limit_url, new_database in halves:
            if baseline is None:
                rows = measure_rows(report, name, limit_url, settings, plan, args.limit_rows)
                limit_results += rows.values()
            else:  # the guard measures the bare page beside each page only
                rows_limit.prepare_database(limit_url, args.limit_rows)
                rows = {}
            scale = Scale(
                name=name,
                cases=cases,
                quick=quick,
                workdir=workdir,
                settings=settings,
                plan=plan,
                limit_rows=rows,
                limit_hello=hello,
                new_database=new_database,
                pages=GUARD_PAGES if baseline is not None else None,
                limit_url=limit_url,
            )
            csirt_figures(report, scale)

        if sweep:
            # Shorter runs: the sweep only ranks settings against each other.
            sweep_plan = replace(plan, duration_s=min(plan.duration_s, 3.0), repeats=2)
            sweep_settings(report, sqlite_database("limit_rows"), sweep_plan)

    report.note(f"load average at the end: {load_average()}")
    limit_targets(report, limit_results)
    print()
    print("ratios of this run (paste into bench/BASELINE.md to make them the baseline):")
    print(guard.render_baseline(report.ratios))
    if baseline is not None:
        guard.check(report, baseline)
    print()
    print(report.summary())
    if baseline is not None:  # the guard fails on its own targets only
        return 0 if all(t.passed for t in report.targets if t.name.startswith("guard_")) else 1
    return 1 if args.strict and not report.all_passed else 0


if __name__ == "__main__":
    sys.exit(main())
