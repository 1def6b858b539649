"""Sealed submissions per second with 32 concurrent submitters, and the server's peak memory.

The intake (``wsgi:intake``) runs under gunicorn with the production Argon2id receipt parameters
(32 MiB, t=1, 2 hashing slots per worker) on SQLite and, when available, a throwaway PostgreSQL.
Three intake officers and a custodian hold key pairs, so every report is sealed four times.
A second short run with a small global budget shows that a flood gets 429s, never 500s.

    .venv/bin/python -m bench.bench_intake [--seconds 20] [--no-postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness import MIB, GunicornServer, WorkerSettings

SUBMITTERS = 32
FLOOD_BUDGET = 60  # per minute: small on purpose, so that the flood run must answer 429s
SECRET = "bench-secret-key-0123456789abcdef0123456789"
BODY = json.dumps(
    {
        "answers": {
            "what_happened": "有権者名簿らしきファイルがレンタルサーバーで公開されている。" * 12,
            "where_seen": "https://example.invalid/files/list.csv",
            "when_seen": "2015-06-24",
            "data_items": ["name", "address", "birth_date", "sex"],
            "persons_estimate": 680000,
            "reporter_is_insider": False,
            "involved": "選挙管理委員会事務局",
            "whistleblower": True,
        },
        "identity": {"contact": "090-0000-0000"},
        "lang": "ja",
    },
    ensure_ascii=False,
).encode()


def seed(url: str, instance: Path) -> None:
    """Migrate and create the officers and custodian with key pairs (cheap KDF: seeding only)."""
    from config import Config
    from csirt import create_app
    from csirt.audit.service import Actor
    from csirt.auth import service as auth
    from csirt.auth.permissions import Role
    from csirt.db import get_db
    from csirt.intake.staff_keys import enrol
    from csirt.migrate import upgrade

    upgrade(url)
    env = {"CSIRT_DATABASE_URL": url, "CSIRT_SECRET_KEY": SECRET, "CSIRT_COOKIE_SECURE": "false"}
    app = create_app(Config.from_env(env, instance_path=instance), interface="console")
    hashing = auth.Hashing.create(SECRET, fast=True)
    with get_db(app).session() as session:
        for name, role in (
            ("o1", Role.INTAKE_OFFICER),
            ("o2", Role.INTAKE_OFFICER),
            ("o3", Role.INTAKE_OFFICER),
            ("c1", Role.CUSTODIAN),
        ):
            user = auth.create_user(
                session,
                hashing,
                f"bench-{name}",
                "bench password 1234",
                [role],
                actor=Actor(None, "bench"),
            )
            enrol(user, "bench password 1234", testing=True)
    get_db(app).engine.dispose()


def load(url: str, seconds: float, submitters: int) -> tuple[Counter[int], float]:
    """POST reports from `submitters` threads (keep-alive) for `seconds`; count statuses."""
    host, port = url.removeprefix("http://").split(":")
    counts: Counter[int] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        local: Counter[int] = Counter()
        while time.monotonic() < stop_at:
            try:
                connection.request(
                    "POST",
                    "/api/v1/reports",
                    body=BODY,
                    headers={"Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
                local[response.status] += 1
                if response.will_close:
                    connection.close()
                    connection = http.client.HTTPConnection(host, int(port), timeout=60)
            except (OSError, http.client.HTTPException):
                local[0] += 1
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.close()
        with lock:
            counts.update(local)

    began = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(submitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts, time.monotonic() - began


@contextmanager
def serve(url: str, instance: Path, budget_per_minute: int | None) -> Iterator[GunicornServer]:
    env = {
        "CSIRT_DATABASE_URL": url,
        "CSIRT_SECRET_KEY": SECRET,
        "CSIRT_INSTANCE_PATH": str(instance),
        "CSIRT_COOKIE_SECURE": "false",
    }
    if budget_per_minute is not None:
        env["CSIRT_INTAKE_SUBMISSIONS_PER_MINUTE"] = str(budget_per_minute)
    with GunicornServer(
        "wsgi:intake",
        settings=WorkerSettings(workers=2, threads=4),
        env=env,
        ready_path="/report/",
    ) as server:
        yield server


def run(label: str, url: str, instance: Path, seconds: float) -> None:
    with serve(url, instance, 1_000_000) as server:
        counts, elapsed = load(server.url, seconds, SUBMITTERS)
        memory = server.memory()
        errors = server.log_tail()
    sealed = counts.get(201, 0)
    print(
        f"{label}_sealed_submissions_per_s: {sealed / elapsed:.1f} /s "
        f"({sealed} in {elapsed:.1f} s, {SUBMITTERS} submitters, statuses {dict(counts)})"
    )
    print(
        f"{label}_peak_server_memory: {memory.peak_bytes / MIB:.0f} MiB "
        f"({memory.processes} processes, 2 workers x 4 threads)"
    )
    if errors.strip():
        print(f"{label}_server_log_tail: {errors.strip()[-500:]}")
    with serve(url, instance, FLOOD_BUDGET) as server:
        counts, elapsed = load(server.url, min(seconds, 8), SUBMITTERS)
    print(
        f"{label}_flood_over_{FLOOD_BUDGET}_per_minute: statuses {dict(counts)} in {elapsed:.1f} s "
        f"(no 5xx: {not any(code >= 500 or code == 0 for code in counts)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'intake.sqlite3'}"
        seed(url, root / "instance")
        run("sqlite", url, root / "instance", args.seconds)
        if args.no_postgres:
            return
        from bench.pg import ThrowawayPostgres, postgres_available

        if not postgres_available():
            print("postgres: not installed, skipped")
            return
        with ThrowawayPostgres() as pg:
            pg_url = pg.create_database("bench_intake")
            seed(pg_url, root / "instance-pg")
            run("postgres", pg_url, root / "instance-pg", args.seconds)


if __name__ == "__main__":
    main()
