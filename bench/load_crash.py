"""Load the app with submitters and console readers, SIGKILL it mid-load, restart, check it.

Loopback only, bounded in time. ``run_crash(...)`` is shared by the CI test (tests/load, small:
20 submitters, 5 console readers, ~10 s) and by this script's full run (200 submitters, 20
console users, one minute), which prints figures::

    .venv/bin/python -m bench.load_crash [--submitters 200] [--consoles 20] [--seconds 60]

After the kill and a restart it checks: every receipt issued before the kill opens its mailbox,
no 5xx was answered, every submission has its sealed answers and key wraps (no wrap or
attachment without a submission), every case is whole (reference, a member), and
``csirt audit verify`` exits 0. Receipts are never printed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.harness import DEFAULT_VENV, GunicornServer, WorkerSettings
from bench.seed import PASSWORD, bench_env

REPORT_BODY = json.dumps(
    {
        "answers": {
            "what_happened": "選挙人名簿と思われるファイルがレンタルサーバーに置かれていました。",
            "where_seen": "https://example.invalid/files/",
            "persons_estimate": 680000,
            "whistleblower": False,
        },
        "lang": "ja",
    },
    ensure_ascii=False,
).encode()
REQUEST_TIMEOUT_S = 10.0
# What a request may meet when the server is killed: a refused or reset connection (OSError) or
# an answer cut short (http.client.IncompleteRead, BadStatusLine...: HTTPException).
LOST = (OSError, http.client.HTTPException)
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
OFFICERS = 3


@dataclass
class CrashResult:
    """What one load-and-kill run saw, before and after the restart."""

    submitters: int
    consoles: int
    load_seconds: float
    receipts: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    connection_errors: int = 0
    console_reads: int = 0
    cases_created: int = 0
    receipts_failing_after_restart: int = 0
    inconsistencies: list[str] = field(default_factory=list)
    audit_verify_rc: int = -1
    audit_verify_output: str = ""
    restart_seconds: float = 0.0
    server_error_paths: Counter[str] = field(default_factory=Counter)
    server_log_tail: str = ""

    @property
    def server_errors(self) -> int:
        """Return the number of 5xx answers during the load."""
        return sum(n for status, n in self.statuses.items() if status >= 500)


def prepare_database(url: str, instance: Path) -> str:
    """Migrate, add intake officers (with key pairs) and a lead with an API token; return it."""
    from config import Config
    from csirt.audit import service as audit
    from csirt.auth import service as auth_service
    from csirt.auth.permissions import Role
    from csirt.db import make_engine
    from csirt.intake import staff_keys
    from csirt.migrate import upgrade

    upgrade(url)
    config = Config.from_env(bench_env(url, instance))
    hashing = auth_service.Hashing.create(config.secret_key)
    actor = audit.Actor(None, "bench")
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            for index in range(OFFICERS):
                officer = auth_service.create_user(
                    session,
                    hashing,
                    f"officer{index}",
                    PASSWORD,
                    [Role.INTAKE_OFFICER],
                    actor=actor,
                )
                staff_keys.enrol(officer, PASSWORD, testing=True)
            lead = auth_service.create_user(
                session, hashing, "lead", PASSWORD, [Role.LEAD, Role.RESPONDER], actor=actor
            )
            _token, plain = auth_service.create_token(session, lead, actor=actor)
    finally:
        engine.dispose()
    return plain


def _request(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
        error.close()
        return error.code, body


class _Load:
    """The submitter and console threads, sharing counters under one lock."""

    def __init__(self, base: str, token: str, result: CrashResult) -> None:
        self.base = base
        self.token = token
        self.result = result
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def _count(self, status: int | None, path: str = "") -> None:
        with self.lock:
            if status is None:
                self.result.connection_errors += 1
            else:
                self.result.statuses[status] += 1
                if status >= 500:
                    self.result.server_error_paths[path] += 1

    def submitter(self) -> None:
        headers = {"Content-Type": "application/json"}
        while not self.stop.is_set():
            try:
                status, body = _request(
                    f"{self.base}/api/v1/reports", data=REPORT_BODY, headers=headers
                )
            except LOST:
                self._count(None)
                continue
            self._count(status, "POST /api/v1/reports")
            if status == 201:
                receipt = json.loads(body)["receipt"]
                with self.lock:
                    if not self.stop.is_set():  # only receipts answered before the kill count
                        self.result.receipts.append(receipt)
            elif status == 429:
                time.sleep(0.05)

    def _signed_in(self) -> urllib.request.OpenerDirector:
        """Sign the lead in through the real login form; return the opener holding the cookie."""
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with opener.open(f"{self.base}/console/login", timeout=REQUEST_TIMEOUT_S) as page:
            html = page.read().decode()
        match = CSRF_RE.search(html)
        assert match, "no CSRF token on the login page"
        form = urllib.parse.urlencode(
            {"username": "lead", "password": PASSWORD, "csrf_token": match.group(1)}
        ).encode()
        with opener.open(f"{self.base}/console/login", data=form, timeout=REQUEST_TIMEOUT_S):
            pass
        return opener

    def console(self, index: int) -> None:
        """Read the case list (console page and API); every tenth round, open a new case."""
        auth = {"Authorization": f"Bearer {self.token}"}
        opener = None
        while opener is None and not self.stop.is_set():
            try:
                opener = self._signed_in()
            except (*LOST, AssertionError):  # a busy server: try again until the end
                self._count(None)
        rounds = 0
        while opener is not None and not self.stop.is_set():
            rounds += 1
            try:
                status, _ = _request(f"{self.base}/api/v1/cases?limit=50", headers=auth)
                self._count(status, "GET /api/v1/cases")
                url = f"{self.base}/console/cases/"
                with opener.open(url, timeout=REQUEST_TIMEOUT_S) as page:
                    page.read()
                    # Signed out (a redirect to the login page) would not be a case list.
                    status = page.status if page.url == url else 401
                    self._count(status, "GET /console/cases/")
                with self.lock:
                    self.result.console_reads += 1
                if rounds % 10 == index % 10:
                    body = json.dumps({"title": f"Load case {index}-{rounds}", "priority": "P3"})
                    status, _ = _request(
                        f"{self.base}/api/v1/cases",
                        data=body.encode(),
                        headers={**auth, "Content-Type": "application/json"},
                    )
                    self._count(status, "POST /api/v1/cases")
                    if status == 201:
                        with self.lock:
                            self.result.cases_created += 1
            except urllib.error.HTTPError as error:
                self._count(error.code, "GET /console/cases/")
                error.close()
            except LOST:
                self._count(None)


def _start(env: dict[str, str], settings: WorkerSettings) -> GunicornServer:
    return GunicornServer("wsgi:app", settings=settings, env=env, ready_path="/api/v1/health")


def check_consistency(url: str) -> list[str]:
    """Return what is inconsistent in the database (empty when all is well)."""
    from csirt.db import make_engine

    checks = {
        "submission without sealed answers": (
            "SELECT count(*) FROM submissions "
            "WHERE answers_sealed IS NULL OR length(answers_sealed) = 0"
        ),
        "submission without key wraps": (
            "SELECT count(*) FROM submissions s WHERE NOT EXISTS "
            "(SELECT 1 FROM submission_key_wraps w WHERE w.submission_id = s.id)"
        ),
        "key wrap without submission": (
            "SELECT count(*) FROM submission_key_wraps w WHERE NOT EXISTS "
            "(SELECT 1 FROM submissions s WHERE s.id = w.submission_id)"
        ),
        "identity wrap without submission": (
            "SELECT count(*) FROM identity_key_wraps w WHERE NOT EXISTS "
            "(SELECT 1 FROM submissions s WHERE s.id = w.submission_id)"
        ),
        "attachment without submission": (
            "SELECT count(*) FROM submission_attachments a WHERE NOT EXISTS "
            "(SELECT 1 FROM submissions s WHERE s.id = a.submission_id)"
        ),
        "case without reference": (
            "SELECT count(*) FROM cases WHERE reference IS NULL OR reference = ''"
        ),
        "case without a member": (
            "SELECT count(*) FROM cases c WHERE NOT EXISTS "
            "(SELECT 1 FROM case_members m WHERE m.case_id = c.id)"
        ),
        "case reference used twice": ("SELECT count(*) - count(DISTINCT reference) FROM cases"),
    }
    engine = make_engine(url)
    problems = []
    try:
        with engine.connect() as connection:
            for name, query in checks.items():
                found = connection.execute(text(query)).scalar_one()
                if found:
                    problems.append(f"{name}: {found}")
    finally:
        engine.dispose()
    return problems


def run_crash(
    *,
    submitters: int,
    consoles: int,
    load_seconds: float,
    workdir: Path,
    settings: WorkerSettings | None = None,
    warm_token: bool = True,
    enough: Callable[[CrashResult], bool] | None = None,
    max_seconds: float | None = None,
) -> CrashResult:
    """Load, SIGKILL the server's whole process group after load_seconds, restart, verify.

    With ``enough``, the load goes on past ``load_seconds`` until ``enough(result)`` holds (at
    most ``max_seconds`` in all): on a busy machine the kill still comes after enough work to
    prove something, instead of after a fixed time that a loaded machine may not fill.
    """
    settings = settings or WorkerSettings()
    url = f"sqlite:///{workdir / 'crash.sqlite3'}"
    instance = workdir / "instance"
    token = prepare_database(url, instance)
    env = bench_env(url, instance)
    env.update(
        CSIRT_INTAKE_SUBMISSIONS_PER_MINUTE="1000000",
        CSIRT_DB_POOL_SIZE=str(settings.pool_size),
    )
    result = CrashResult(submitters, consoles, load_seconds)
    server = _start(env, settings)
    if warm_token:
        # A token's first use in an hour writes last_used_at inside a GET's read transaction;
        # under concurrent writers SQLite refuses that lock upgrade (500, "database is locked").
        # Reported as a finding; warm_token=False reproduces it.
        _request(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    load = _Load(server.url, token, result)
    threads = [threading.Thread(target=load.submitter, daemon=True) for _ in range(submitters)]
    threads += [
        threading.Thread(target=load.console, args=(i,), daemon=True) for i in range(consoles)
    ]
    try:
        began = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(load_seconds)
        deadline = began + max(load_seconds, max_seconds or 0.0)
        while enough is not None and time.monotonic() < deadline:
            with load.lock:
                if enough(result):
                    break
            time.sleep(0.2)
        result.load_seconds = time.monotonic() - began
        # Mid-load: stop counting new receipts, then kill master and workers at once.
        with load.lock:
            load.stop.set()
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    finally:
        result.server_log_tail = server.log_tail(4000)
        server.stop()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S + 5)
    started = time.monotonic()
    with _start(env, settings) as restarted:
        result.restart_seconds = time.monotonic() - started
        for receipt in result.receipts:
            if not _mailbox_opens(restarted.url, receipt):
                result.receipts_failing_after_restart += 1
    result.inconsistencies = check_consistency(url)
    verify = subprocess.run(
        [str(DEFAULT_VENV / "bin" / "csirt"), "audit", "verify"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    result.audit_verify_rc = verify.returncode
    result.audit_verify_output = (verify.stdout + verify.stderr).strip()[-500:]
    return result


def _mailbox_opens(base: str, receipt: str) -> bool:
    for _attempt in range(20):
        status, _ = _request(f"{base}/api/v1/reports/mailbox", headers={"X-Receipt": receipt})
        if status != 429:
            return status == 200
        time.sleep(0.5)
    return False


def print_figures(result: CrashResult) -> None:
    """Print the run's figures, one ``name: value`` per line."""
    answered = sum(result.statuses.values())
    print(f"submitters: {result.submitters}")
    print(f"console_users: {result.consoles}")
    print(f"load_seconds: {result.load_seconds:.0f} s")
    print(f"requests_answered: {answered}")
    print(f"answers_by_status: {dict(sorted(result.statuses.items()))}")
    print(f"connection_errors: {result.connection_errors}")
    print(f"receipts_issued_before_kill: {len(result.receipts)}")
    print(f"sealed_per_s: {len(result.receipts) / result.load_seconds:.1f} /s")
    print(f"console_reads: {result.console_reads}")
    print(f"cases_created: {result.cases_created}")
    print(f"server_errors_5xx: {result.server_errors} {dict(result.server_error_paths)}")
    print(f"restart_seconds: {result.restart_seconds:.1f} s")
    print(f"receipts_failing_after_restart: {result.receipts_failing_after_restart}")
    print(f"inconsistencies: {result.inconsistencies or 'none'}")
    print(f"audit_verify_exit: {result.audit_verify_rc} ({result.audit_verify_output})")
    ok = (
        result.server_errors == 0
        and result.receipts_failing_after_restart == 0
        and not result.inconsistencies
        and result.audit_verify_rc == 0
    )
    print("PASS" if ok else "FAIL")


def main(argv: list[str] | None = None) -> int:
    """Run the full-size load-and-kill and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submitters", type=int, default=200)
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--cold-token", action="store_true", help="do not use the API token once before the load"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="csirt-crash-") as tmp:
        result = run_crash(
            submitters=args.submitters,
            consoles=args.consoles,
            load_seconds=args.seconds,
            workdir=Path(tmp),
            warm_token=not args.cold_token,
        )
    print_figures(result)
    ok = result.server_errors == 0 and result.receipts_failing_after_restart == 0
    return 0 if ok and not result.inconsistencies and result.audit_verify_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
