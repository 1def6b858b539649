"""Profile csirt's case list under load: ``python -m bench.profile [--db URL] [--seconds 10]``.

Serves csirt's console with one sync gunicorn worker under ``py-spy record`` (Python frames
only, raw collapsed stacks), loads ``GET /api/v1/cases?limit=50`` (bearer token) and the HTML
case list (session cookie) with wrk, and prints the top entries as Markdown tables: by own
time, by inclusive time, and by where the time goes (session, access, template, JSON, SQL...).
Needs py-spy in the venv (``pip install py-spy``); the database is seeded unless given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.csirt_figures import CASE_API, CASE_LIST, HEALTH, login
from bench.harness import DEFAULT_VENV, REPO_ROOT, BenchError, run_wrk
from bench.run import load_average
from bench.seed import LEAD, PASSWORD, SeedInfo, bench_env, seed

# Where a request's time goes: the first bucket (in this order) with a frame matching one of its
# patterns names a sample. Only samples inside a request (gunicorn's handle_request) count.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("token lookup (token, user, roles)", ("_load_from_token",)),
    ("user load from the session (user, roles)", ("_load_from_session",)),
    ("notification count", ("unread_notifications",)),
    ("case list queries (page, overdue, tags)", ("cases/listing.py", "cases/tagging.py")),
    (
        "JSON serialisation",
        ("api/pagination.py", "api/schema.py", "json/provider", "orjson", "case_items"),
    ),
    ("template rendering", ("render_template",)),
    ("CSRF", ("flask_wtf/csrf",)),
    ("session cookie (open, save)", ("save_session", "open_session")),
    ("access hook (rest)", ("_enforce",)),
    ("security headers", ("security_headers",)),
    ("locale and time zone", ("babel", "get_locale")),
    ("session close (teardown)", ("_close_session", "do_teardown")),
    ("Flask and werkzeug (routing, context, response)", ("wsgi_app",)),
    ("gunicorn (parse the request, write the answer)", ("handle_request",)),
)
IN_REQUEST = "handle_request ("


def parse_raw(path: Path) -> list[tuple[list[str], int]]:
    """Read py-spy's raw output: one ``frame;frame;... count`` line per stack."""
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        frames, _sep, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def _short(frame: str) -> str:
    """``fn (/long/path/site-packages/pkg/mod.py:12)`` -> ``fn (pkg/mod.py)``."""
    name, _sep, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", str(REPO_ROOT) + "/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where})"


def summarise(stacks: Sequence[tuple[list[str], int]], top: int = 25) -> str:
    """Return Markdown tables of the top own-time and inclusive entries and the buckets."""
    everything = sum(count for _frames, count in stacks) or 1
    stacks = [(f, n) for f, n in stacks if any(IN_REQUEST in frame for frame in f)]
    total = sum(count for _frames, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    for frames, count in stacks:
        own[_short(frames[-1])] += count
        start = next(i for i, frame in enumerate(frames) if IN_REQUEST in frame)
        for frame in set(map(_short, frames[start + 1 :])):
            inclusive[frame] += count
        joined = ";".join(frames)
        bucket = next((b for b, pats in BUCKETS if any(p in joined for p in pats)), "other")
        buckets[bucket] += count

    def table(title: str, counts: Iterable[tuple[str, int]]) -> list[str]:
        rows = [f"| {title} | share |", "|---|---|"]
        rows += [f"| `{name}` | {n / total:.1%} |" for name, n in counts]
        return rows

    lines = [
        f"{total} samples in requests ({total / everything:.0%} of {everything}), shares of those",
        "",
    ]
    lines += [*table("where the time goes", buckets.most_common()), ""]
    lines += [*table("own time (top)", own.most_common(top)), ""]
    lines += table("inclusive time (top)", inclusive.most_common(top))
    return "\n".join(lines)


def record(
    info: SeedInfo, instance: Path, page: str, seconds: float, clients: int, out: Path
) -> None:
    """Serve csirt under py-spy and load ``page`` (``api`` or ``html``) for ``seconds``."""
    spy = DEFAULT_VENV / "bin" / "py-spy"
    if not spy.exists():
        raise BenchError("py-spy is not installed: .venv/bin/pip install py-spy")
    port = 18000 + os.getpid() % 1000 + (page == "html")
    env = dict(os.environ, **bench_env(info.url, instance), CSIRT_DB_POOL_SIZE="1")
    env["PYTHONPATH"] = str(REPO_ROOT)
    argv = [str(spy), "record", "--format", "raw", "--rate", "200", "--subprocesses", "-o"]
    argv += [str(out), "--", str(DEFAULT_VENV / "bin" / "gunicorn"), "-w", "1", "-k", "sync"]
    argv += ["--bind", f"127.0.0.1:{port}", "--no-control-socket", "--log-level", "warning"]
    argv += ["wsgi:console"]
    process = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if run_wrk(base, HEALTH, connections=1, duration_s=1).requests:
                    break
            except BenchError:
                pass
            if time.monotonic() > deadline:
                raise BenchError("csirt did not start under py-spy")
        if page == "api":
            path, headers = CASE_API, {"Authorization": f"Bearer {info.token}"}
        else:
            path, headers = CASE_LIST, {"Cookie": login(base, info.username, info.password)}
        result = run_wrk(base, path, connections=clients, duration_s=seconds, headers=headers)
        print(f"# {path}: {result.rps:.0f} req/s under py-spy", file=sys.stderr)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # py-spy writes its file when the program ends
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def main(argv: Sequence[str] | None = None) -> int:
    """Seed (or reuse) a database, record a profile and print its summary."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--info", type=Path, help="JSON of a SeedInfo (reuse a seeded database)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw stacks in this folder")
    parser.add_argument("--pages", nargs="+", choices=("api", "html"), default=["api", "html"])
    args = parser.parse_args(argv)
    print(f"# load average at the start: {load_average()}", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="csirt-profile-"))
    try:
        if args.info:
            info = SeedInfo(**json.loads(args.info.read_text()))
            instance = workdir / "instance"
        else:
            instance = workdir / "instance"
            info = seed(f"sqlite:///{workdir / 'csirt.sqlite'}", instance, args.cases)
        assert (info.username, info.password) == (LEAD, PASSWORD)
        for page in args.pages:
            raw = args.raw / f"{page}.txt" if args.raw else workdir / f"{page}.txt"
            record(info, instance, page, args.seconds, args.clients, raw)
            print(f"\n### {CASE_API if page == 'api' else CASE_LIST}\n")
            print(summarise(parse_raw(raw)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
