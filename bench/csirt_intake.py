"""Sealed intake submissions per second with 32 submitters, and the server's peak memory.

32 wrk connections POST ``/api/v1/reports`` (JSON) to the intake interface served alone, as in
production. A submission counts only if answered 201 (sealed, stored, receipt issued); 429s
(the receipt hasher's bounded slots, or the per-minute budget) do not count.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bench.harness import Figure, GunicornServer, HttpRequest, LoadPlan, Report, measure, timed
from bench.seed import PASSWORD, bench_env
from csirt.db import make_engine

if TYPE_CHECKING:
    from bench.run import Scale

REPORTS = "/api/v1/reports"
SUBMITTERS = 32
ONE_GIB = 1024**3
TARGET_PER_S = 20.0

REPORT_BODY = json.dumps(
    {
        "answers": {
            "what_happened": (
                "市のホームページから辿れるレンタルサーバーに、選挙人名簿と思われるファイルが"
                "置かれているのを見つけました。氏名・住所・生年月日が含まれています。"
            ),
            "where_seen": "https://example.invalid/files/",
            "persons_estimate": 680000,
            "whistleblower": False,
        },
        "lang": "ja",
    },
    ensure_ascii=False,
)


def add_officer(url: str) -> bool:
    """Add an intake officer holding a key pair, so each report is sealed to a real key."""
    try:
        from csirt.intake import staff_keys
    except ImportError:
        return False
    from config import Config
    from csirt.audit import service as audit
    from csirt.auth import service as auth_service
    from csirt.auth.permissions import Role

    config = Config.from_env(bench_env(url, Path("/nonexistent")))
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            officer = auth_service.create_user(
                session,
                auth_service.Hashing.create(config.secret_key),
                "benchofficer",
                PASSWORD,
                [Role.INTAKE_OFFICER],
                actor=audit.Actor(None, "bench"),
            )
            staff_keys.enrol(officer, PASSWORD, testing=True)
    finally:
        engine.dispose()
    return True


def measure_intake(report: Report, scale: Scale, instance: Path) -> None:
    """Serve the intake and load it with 32 submitters; add the figures and the targets."""
    url = scale.new_database(f"csirt_intake_{scale.name}")
    from csirt.migrate import upgrade

    upgrade(url)
    has_officer = add_officer(url)
    env = bench_env(url, instance)
    env.update(
        CSIRT_DB_POOL_SIZE=str(scale.settings.pool_size),
        CSIRT_DB_MAX_OVERFLOW="0",
        # The default budget (600 a minute per worker) is a brake against floods; the bench
        # measures capacity, so it lifts the brake and reports the default beside the figure.
        CSIRT_INTAKE_SUBMISSIONS_PER_MINUTE="1000000",
    )
    request = HttpRequest(
        REPORTS,
        method="POST",
        body=REPORT_BODY,
        headers={"Content-Type": "application/json"},
    )
    plan = LoadPlan(
        connections=(SUBMITTERS,),
        duration_s=scale.plan.duration_s,
        warmup_s=scale.plan.warmup_s,
        repeats=scale.plan.repeats,
    )
    with GunicornServer(
        "wsgi:intake", settings=scale.settings, env=env, ready_path="/api/v1/health"
    ) as server:
        probe = _post(server.url)
        if probe == 404:
            report.note(f"skipped csirt_intake_{scale.name}: {REPORTS} is not served yet")
            return
        if probe != 201:
            tail = " | ".join(server.log_tail(600).splitlines()[-4:])
            report.note(f"csirt_intake_{scale.name}: one report answered HTTP {probe}: {tail}")
        with timed(f"csirt intake {SUBMITTERS} submitters {scale.name}"):
            result = measure(server, [request], plan)[SUBMITTERS]
        memory = server.memory()
    sealed = (result.requests - result.errors_status) / result.duration_s
    if result.requests == 0:
        report.note(f"csirt_intake_{scale.name}: no report completed within the run")
    prefix = f"csirt_intake_{scale.name}"
    report.add(
        Figure(
            f"{prefix}_sealed_per_s_c{SUBMITTERS}",
            sealed,
            "reports/s",
            note=(
                f"{result.errors_status} refused (429 busy) of {result.requests}; p50 "
                f"{result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms"
                + ("" if has_officer else "; no officer key")
            ),
        )
    )
    report.add_memory(prefix, memory, ONE_GIB)
    report.target_at_least(
        f"intake_{scale.name}_rate",
        f"intake >= 20 sealed submissions/s with {SUBMITTERS} submitters",
        sealed,
        TARGET_PER_S,
        "/s",
        why_missed=(
            "each receipt is hashed with Argon2id (memory-hard, deliberately slow) in a bounded "
            "number of slots per worker (CSIRT_INTAKE_HASH_SLOTS); more cores or slots raise it"
        ),
    )
    report.target_below(
        f"intake_{scale.name}_memory",
        "intake server peak memory < 1 GiB under that load",
        memory.peak_bytes / ONE_GIB,
        1.0,
        " GiB",
        why_missed="Argon2id memory x hash slots x workers: lower CSIRT_INTAKE_HASH_SLOTS",
    )


def _post(base_url: str) -> int:
    from bench.csirt_figures import fetch

    answer = fetch(
        base_url,
        REPORTS,
        method="POST",
        body=REPORT_BODY.encode(),
        headers={"Content-Type": "application/json"},
    )
    return answer.status
