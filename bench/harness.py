"""Benchmark harness: serve a WSGI app under gunicorn, load it with wrk, report figures.

Everything runs on 127.0.0.1. The server and the load generator are separate processes; every
load run is bounded in time. Figures are printed one per line as ``name: value unit``; a figure
measured against a limit also shows the limit and the ratio; targets end in a PASS/FAIL summary.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import TextIO

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO_ROOT / ".venv"
MIB = 1024 * 1024


class BenchError(RuntimeError):
    """A benchmark could not be run (server did not start, wrk failed, ...)."""


# ---------------------------------------------------------------------------------------------
# Server under test


@dataclass(frozen=True)
class WorkerSettings:
    """Gunicorn worker settings shared by csirt and the limits so that they compare fairly."""

    workers: int = 2
    threads: int = 4
    worker_class: str = "gthread"  # or "sync" (threads is then the database pool size only)

    @property
    def label(self) -> str:
        """Return a short label such as ``w2t4`` (gthread) or ``w2sync``."""
        if self.worker_class == "sync":
            return f"w{self.workers}sync"
        return f"w{self.workers}t{self.threads}"

    @property
    def gunicorn_args(self) -> list[str]:
        """Return gunicorn's worker options for these settings."""
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class != "sync":
            args += ["--threads", str(self.threads)]
        return args

    @property
    def pool_size(self) -> int:
        """Return the database connections one worker needs: one per thread, and one for the
        short transaction of its own a request may take (the intake's shared budget on
        PostgreSQL; with one connection in all that request waited for itself)."""
        return 1 + (1 if self.worker_class == "sync" else self.threads)


@dataclass(frozen=True)
class MemoryUsage:
    """Peak resident memory of a server's process tree (master and workers)."""

    hwm_sum_bytes: int
    sampled_peak_bytes: int
    processes: int

    @property
    def peak_bytes(self) -> int:
        """Return the conservative peak: the sum of each process's own high-water mark."""
        return max(self.hwm_sum_bytes, self.sampled_peak_bytes)


def _proc_status_kib(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def process_tree(root_pid: int) -> list[int]:
    """Return root_pid and all its live descendants (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    tree, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


class _MemorySampler:
    """Polls the server's process tree; remembers each process's VmHWM and the peak VmRSS sum."""

    def __init__(self, root_pid: int, interval_s: float = 0.1) -> None:
        self._root = root_pid
        self._interval = interval_s
        self._hwm_kib: dict[int, int] = {}
        self._peak_sum_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def sample(self) -> None:
        total = 0
        for pid in process_tree(self._root):
            total += _proc_status_kib(pid, "VmRSS")
            hwm = _proc_status_kib(pid, "VmHWM")
            if hwm:
                self._hwm_kib[pid] = max(self._hwm_kib.get(pid, 0), hwm)
        self._peak_sum_kib = max(self._peak_sum_kib, total)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def usage(self) -> MemoryUsage:
        self.sample()
        return MemoryUsage(
            hwm_sum_bytes=sum(self._hwm_kib.values()) * 1024,
            sampled_peak_bytes=self._peak_sum_kib * 1024,
            processes=len(self._hwm_kib),
        )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


class GunicornServer:
    """A WSGI app under gunicorn (the settings' worker class) on 127.0.0.1, as a context manager.

    The listening socket is bound here (port 0) and handed to gunicorn as ``fd://`` so no port
    race is possible. ``url`` is ready once the constructor returns; ``stop()`` is idempotent
    and kills the whole process group if gunicorn does not leave on SIGTERM.
    """

    def __init__(
        self,
        app: str,
        *,
        settings: WorkerSettings | None = None,
        env: Mapping[str, str] | None = None,
        ready_path: str = "/",
        ready_headers: Mapping[str, str] | None = None,
        venv: Path = DEFAULT_VENV,
        extra_args: Sequence[str] = (),
        start_timeout_s: float = 60.0,
        cwd: Path = REPO_ROOT,
    ) -> None:
        self.app = app
        self.settings = settings or WorkerSettings()
        self._log_dir = Path(tempfile.mkdtemp(prefix="bench-gunicorn-"))
        self.log_path = self._log_dir / "error.log"
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(2048)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        fd = self._listener.fileno()
        gunicorn = venv / "bin" / "gunicorn"
        if not gunicorn.exists():
            raise BenchError(f"gunicorn not found at {gunicorn}")
        argv = [
            str(gunicorn),
            "--bind",
            f"fd://{fd}",
            *self.settings.gunicorn_args,
            "--worker-tmp-dir",
            "/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir(),
            "--timeout",
            "60",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
            # gunicorn 27 puts every server of one user on one control socket (~/.gunicorn):
            # servers started side by side (tests, bench, make run) would contend for it.
            "--no-control-socket",
            "--error-logfile",
            str(self.log_path),
            *extra_args,
            app,
        ]
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p
        )
        full_env.update(env or {})
        self._stopped = False
        self._sampler: _MemorySampler | None = None
        self._ready = (ready_path, dict(ready_headers or {}))
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=full_env,
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() can kill every worker at once
        )
        atexit.register(self.stop)
        try:
            self._wait_ready(ready_path, ready_headers or {}, start_timeout_s)
            self._sampler = _MemorySampler(self.process.pid)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, path: str, headers: Mapping[str, str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"gunicorn {self.app} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            request = urllib.request.Request(self.url + path, headers=dict(headers))
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    response.read()
                    return
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}"
                if error.code < 500:
                    return  # the app answers; a 4xx is the app's business
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            time.sleep(0.1)
        raise BenchError(
            f"gunicorn {self.app} not ready after {timeout_s}s ({last}):\n{self.log_tail()}"
        )

    def drain(self, timeout_s: float = 60.0) -> None:
        """Wait until the requests a finished load run left queued have been answered.

        wrk stops at the end of a run, but the connections it left in the listen queue are
        still served (a sync worker takes them one by one): the next run would otherwise
        measure the previous run's backlog. The readiness request queues behind them.
        """
        path, headers = self._ready
        request = urllib.request.Request(self.url + path, headers=headers)
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(request, timeout=timeout_s) as response,
        ):
            response.read()

    def log_tail(self, chars: int = 3000) -> str:
        """Return the end of gunicorn's error log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def memory(self) -> MemoryUsage:
        """Return the peak memory of master and workers since start."""
        if self._sampler is None:
            return MemoryUsage(0, 0, 0)
        return self._sampler.usage()

    def stop(self) -> None:
        """Stop gunicorn: SIGTERM, then SIGKILL to the whole process group after 10 s."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if self._sampler is not None:
            self._sampler.close()
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        # Workers may outlive a master that was killed: clear the whole group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=5)
        self._listener.close()
        shutil.rmtree(self._log_dir, ignore_errors=True)

    def __enter__(self) -> GunicornServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Load generator


@dataclass(frozen=True)
class HttpRequest:
    """One request wrk sends; several are sent round-robin."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadResult:
    """What one wrk run measured."""

    connections: int
    duration_s: float
    requests: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors_socket: int
    errors_status: int
    # Share of the machine's CPU used during the run by anything but server, wrk and harness.
    other_cpu_share: float = 0.0

    @property
    def rps(self) -> float:
        """Return completed requests per second."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def errors(self) -> int:
        """Return socket errors plus non-2xx/3xx answers."""
        return self.errors_socket + self.errors_status


def _lua_string(text: str) -> str:
    # Lua 5.1 (wrk's LuaJIT) has no \u escape: emit UTF-8 bytes, escaping all but printable ASCII.
    out = []
    for byte in text.encode():
        char = chr(byte)
        if 32 <= byte < 127 and char not in '"\\':
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def _lua_table(mapping: Mapping[str, str]) -> str:
    return (
        "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in mapping.items()) + "}"
    )


# Follows the server's Set-Cookie as a browser does: the cookie of every request is replaced by
# the one the server last set (per wrk thread). Without it a signed-in session's cookie never
# changed on the client, so each request after a minute re-wrote the session's "last seen" time
# and the server signed and sent a new cookie on every request, which no browser causes.
_FOLLOW_COOKIES = """
response = function(status, headers, body)
  local set = headers["Set-Cookie"] or headers["set-cookie"]
  if set == nil then return end
  local pair = string.match(set, "^%s*([^;]+)")
  local name = pair and string.match(pair, "^([^=]+)=")
  if name == nil then return end
  for i, r in ipairs(reqs) do
    local cookie = r[3]["Cookie"]
    if cookie ~= nil then
      local kept = {}
      for part in string.gmatch(cookie, "[^;]+") do
        part = string.match(part, "^%s*(.-)%s*$")
        if string.match(part, "^([^=]+)=") ~= name then table.insert(kept, part) end
      end
      table.insert(kept, pair)
      r[3]["Cookie"] = table.concat(kept, "; ")
    end
  end
  prepare()
end
"""


def wrk_script(requests: Sequence[HttpRequest], *, follow_cookies: bool = False) -> str:
    """Return a wrk Lua script sending ``requests`` round-robin and printing a parseable result;
    with ``follow_cookies`` the requests' ``Cookie`` follows the server's ``Set-Cookie``."""
    entries = ",\n".join(
        f"  {{{_lua_string(r.method)}, {_lua_string(r.path)}, {_lua_table(r.headers)}, "
        f"{_lua_string(r.body)}}}"
        for r in requests
    )
    return f"""-- generated by bench/harness.py
local reqs = {{
{entries}
}}
local prepared = {{}}
local n = 0

function prepare()
  for i, r in ipairs(reqs) do
    local body = nil
    if r[4] ~= "" then body = r[4] end
    prepared[i] = wrk.format(r[1], r[2], r[3], body)
  end
end

init = function(args)
  prepare()
end

request = function()
  n = n + 1
  return prepared[(n % #prepared) + 1]
end
{_FOLLOW_COOKIES if follow_cookies else ""}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.1f max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


_RESULT_RE = re.compile(r"^BENCH_RESULT (.*)$", re.MULTILINE)


def parse_wrk_output(output: str, connections: int) -> LoadResult:
    """Parse the line printed by the script's done callback."""
    match = _RESULT_RE.search(output)
    if match is None:
        raise BenchError(f"wrk printed no result line:\n{output[-2000:]}")
    values = {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}
    return LoadResult(
        connections=connections,
        duration_s=values["duration_us"] / 1e6,
        requests=int(values["requests"]),
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        mean_ms=values["mean_us"] / 1000,
        max_ms=values["max_us"] / 1000,
        errors_socket=int(
            values["err_connect"] + values["err_read"] + values["err_write"] + values["err_timeout"]
        ),
        errors_status=int(values["err_status"]),
    )


def find_wrk() -> str:
    """Return the wrk executable (Debian package ``wrk``)."""
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    return path


def run_wrk(
    base_url: str,
    requests: Sequence[HttpRequest] | str,
    *,
    connections: int,
    duration_s: float = 5.0,
    threads: int | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 5.0,
) -> LoadResult:
    """Load ``base_url`` with wrk as a separate process for ``duration_s`` and return the figures.

    ``requests`` is a path or a list of requests sent round-robin; ``headers`` (e.g. a session
    Cookie or ``Authorization: Bearer ...``) are added to every request.
    """
    if isinstance(requests, str):
        requests = [HttpRequest(requests)]
    common = dict(headers or {})
    merged = [
        HttpRequest(r.path, r.method, r.body, {**common, **dict(r.headers)}) for r in requests
    ]
    wrk_threads = threads if threads is not None else min(connections, 2)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-", delete=False) as fh:
        # A request with a cookie is a signed-in browser's: it keeps the cookie it is sent.
        follow = any("Cookie" in r.headers for r in merged)
        fh.write(wrk_script(merged, follow_cookies=follow))
        script = fh.name
    try:
        argv = [
            find_wrk(),
            "-t",
            str(wrk_threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, math.ceil(duration_s))}s",
            "--timeout",
            f"{max(1, math.ceil(timeout_s))}s",
            "-s",
            script,
            base_url + merged[0].path,
        ]
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                check=False,
                timeout=duration_s + timeout_s + 30,
            )
        except subprocess.TimeoutExpired as error:
            raise BenchError(f"wrk did not finish: {error}") from error
        if done.returncode != 0:
            raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return parse_wrk_output(done.stdout + done.stderr, connections)
    finally:
        os.unlink(script)


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    # /proc/stat "cpu" line: user nice system idle iowait irq softirq steal ...
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / _clock_ticks()


def _tree_cpu_s(root_pid: int) -> float:
    total = 0
    for pid in process_tree(root_pid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _clock_ticks()


def _own_cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once waited for
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_wrk_against(
    server: GunicornServer,
    requests: Sequence[HttpRequest] | str,
    *,
    connections: int,
    duration_s: float,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """Run wrk against ``server`` and also record how much CPU other processes took meanwhile."""
    started = time.monotonic()
    busy, server_cpu, own = _machine_busy_s(), _tree_cpu_s(server.process.pid), _own_cpu_s()
    result = run_wrk(
        server.url, requests, connections=connections, duration_s=duration_s, headers=headers
    )
    wall = time.monotonic() - started
    other = (
        (_machine_busy_s() - busy)
        - (_tree_cpu_s(server.process.pid) - server_cpu)
        - (_own_cpu_s() - own)
    )
    capacity = wall * (os.cpu_count() or 1)
    return replace(result, other_cpu_share=max(0.0, other / capacity) if capacity else 0.0)


@dataclass(frozen=True)
class LoadPlan:
    """How to load a page: client counts, seconds per run, warm-up, best-of-N repeats."""

    connections: tuple[int, ...] = (1, 32)
    duration_s: float = 5.0
    warmup_s: float = 1.0
    repeats: int = 1


def measure(
    server: GunicornServer,
    requests: Sequence[HttpRequest] | str,
    plan: LoadPlan | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> dict[int, LoadResult]:
    """Warm the server up, then run wrk at each connection count; return results by count.

    With ``plan.repeats`` > 1 each count is run that many times and the run with the most
    requests/s is kept (best-of-N, like timeit): on a shared machine slower runs measure the
    neighbours rather than the server.
    """
    plan = plan or LoadPlan()
    if plan.warmup_s > 0:
        run_wrk(
            server.url,
            requests,
            connections=max(plan.connections),
            duration_s=plan.warmup_s,
            headers=headers,
        )
        server.drain()
    results: dict[int, LoadResult] = {}
    for c in plan.connections:
        runs = []
        for _ in range(max(1, plan.repeats)):
            runs.append(
                run_wrk_against(
                    server, requests, connections=c, duration_s=plan.duration_s, headers=headers
                )
            )
            server.drain()
        results[c] = max(runs, key=lambda r: r.rps)
    return results


def measure_beside(
    limit: GunicornServer,
    limit_path: str,
    server: GunicornServer,
    requests: Sequence[HttpRequest] | str,
    plan: LoadPlan,
    *,
    headers: Mapping[str, str] | None = None,
) -> tuple[dict[int, LoadResult], dict[int, LoadResult]]:
    """Load the limit and the page in alternating runs; return (page, limit) results by count.

    On a machine others share, the load changes from one minute to the next: a limit measured
    once at the start of the run does not describe the page measured two minutes later. Runs
    alternate (limit, page, limit, page, ...) and each keeps its best, so the ratio compares
    the two under the same conditions.
    """
    for target, what, extra in ((limit, limit_path, None), (server, requests, headers)):
        if plan.warmup_s > 0:
            run_wrk(
                target.url,
                what,
                connections=max(plan.connections),
                duration_s=plan.warmup_s,
                headers=extra,
            )
            target.drain()
    page: dict[int, LoadResult] = {}
    bare: dict[int, LoadResult] = {}
    for c in plan.connections:
        pages: list[LoadResult] = []
        bares: list[LoadResult] = []
        for _ in range(max(1, plan.repeats)):
            bares.append(
                run_wrk_against(limit, limit_path, connections=c, duration_s=plan.duration_s)
            )
            limit.drain()
            pages.append(
                run_wrk_against(
                    server, requests, connections=c, duration_s=plan.duration_s, headers=headers
                )
            )
            server.drain()
        page[c] = max(pages, key=lambda r: r.rps)
        bare[c] = max(bares, key=lambda r: r.rps)
    return page, bare


def timed(label: str, stream: TextIO = sys.stderr) -> _Timer:
    """Return a context manager that prints how long a step took (to stderr)."""
    return _Timer(label, stream)


class _Timer:
    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.elapsed_s = 0.0
        self._start = 0.0

    def __enter__(self) -> _Timer:
        self._start = time.monotonic()
        print(f"# {self.label} ...", file=self.stream, flush=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.elapsed_s = time.monotonic() - self._start
        state = "done" if exc is None else f"failed ({exc_type.__name__ if exc_type else '?'})"
        print(f"# {self.label}: {state} in {self.elapsed_s:.1f}s", file=self.stream, flush=True)


# ---------------------------------------------------------------------------------------------
# Figures, targets, report


def _format_value(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


@dataclass(frozen=True)
class Figure:
    """One measured value, optionally beside the limit it is compared against."""

    name: str
    value: float
    unit: str
    limit: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Return value / limit (1.0 = as fast as the limit for req/s; as slow for latency)."""
        if self.limit is None or self.limit == 0:
            return None
        return self.value / self.limit

    def render(self) -> str:
        """Return ``name: value unit`` plus the limit and ratio when there is one."""
        line = f"{self.name}: {_format_value(self.value)} {self.unit}"
        if self.limit is not None:
            ratio = self.ratio
            ratio_text = f"{ratio:.2f}" if ratio is not None else "n/a"
            line += f" (limit {_format_value(self.limit)} {self.unit}, ratio {ratio_text})"
        if self.note:
            line += f"  # {self.note}"
        return line


@dataclass(frozen=True)
class Target:
    """A pass/fail goal; ``why_missed`` explains a failure and what it would take."""

    name: str
    description: str
    passed: bool
    detail: str
    why_missed: str = ""

    def render(self) -> str:
        """Return the summary line."""
        line = (
            f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.description} ({self.detail})"
        )
        if not self.passed and self.why_missed:
            line += f"\n     why: {self.why_missed}"
        return line


class Report:
    """Collects figures and targets; prints figures as they come if given a stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.figures: list[Figure] = []
        self.targets: list[Target] = []
        self.notes: list[str] = []
        # name -> (csirt req/s / bare page req/s, share of the CPU other processes took)
        self.ratios: dict[str, tuple[float, float]] = {}
        self._stream = stream
        self._by_name: dict[str, Figure] = {}

    def add(self, figure: Figure) -> Figure:
        """Record a figure (and print it at once when streaming)."""
        if figure.name in self._by_name:
            raise ValueError(f"duplicate figure {figure.name}")
        self.figures.append(figure)
        self._by_name[figure.name] = figure
        if self._stream is not None:
            print(figure.render(), file=self._stream, flush=True)
        return figure

    def figure(self, name: str) -> Figure:
        """Return a recorded figure by name."""
        return self._by_name[name]

    def note(self, text: str) -> None:
        """Record a free-text line (machine description, caveats)."""
        self.notes.append(text)
        if self._stream is not None:
            print(f"# {text}", file=self._stream, flush=True)

    def add_load(
        self, prefix: str, result: LoadResult, limit: LoadResult | None = None
    ) -> tuple[Figure, Figure, Figure]:
        """Add ``<prefix>_rps_c<N>``, ``_p50_c<N>`` and ``_p99_c<N>`` (beside the limit if any)."""
        c = result.connections
        notes = []
        if result.errors:
            notes.append(f"{result.errors} errors of {result.requests} requests")
        if result.other_cpu_share >= 0.1:
            notes.append(f"other processes used {result.other_cpu_share:.0%} of the CPU")
        note = "; ".join(notes)
        rps = self.add(
            Figure(f"{prefix}_rps_c{c}", result.rps, "req/s", limit.rps if limit else None, note)
        )
        p50 = self.add(
            Figure(f"{prefix}_p50_c{c}", result.p50_ms, "ms", limit.p50_ms if limit else None)
        )
        p99 = self.add(
            Figure(f"{prefix}_p99_c{c}", result.p99_ms, "ms", limit.p99_ms if limit else None)
        )
        return rps, p50, p99

    def ratio(self, name: str, value: float, *, disturbed: float = 0.0) -> None:
        """Record a page's ratio to the limit (what the regression guard compares)."""
        self.ratios[name] = (value, disturbed)

    def add_memory(self, prefix: str, usage: MemoryUsage, limit_bytes: int | None = None) -> Figure:
        """Add ``<prefix>_peak_rss`` in MiB."""
        return self.add(
            Figure(
                f"{prefix}_peak_rss",
                usage.peak_bytes / MIB,
                "MiB",
                limit_bytes / MIB if limit_bytes is not None else None,
                f"{usage.processes} processes",
            )
        )

    def target(
        self, name: str, description: str, passed: bool, detail: str, why_missed: str = ""
    ) -> Target:
        """Record a target with its outcome."""
        target = Target(name, description, passed, detail, why_missed)
        self.targets.append(target)
        return target

    def target_at_least(
        self,
        name: str,
        description: str,
        value: float,
        threshold: float,
        unit: str = "",
        why_missed: str = "",
    ) -> Target:
        """Record ``value >= threshold``."""
        detail = f"{_format_value(value)}{unit}, needs >= {_format_value(threshold)}{unit}"
        return self.target(name, description, value >= threshold, detail, why_missed)

    def target_below(
        self,
        name: str,
        description: str,
        value: float,
        threshold: float,
        unit: str = "",
        why_missed: str = "",
    ) -> Target:
        """Record ``value < threshold``."""
        detail = f"{_format_value(value)}{unit}, needs < {_format_value(threshold)}{unit}"
        return self.target(name, description, value < threshold, detail, why_missed)

    def summary(self) -> str:
        """Return the summary block: one PASS/FAIL line per target and the totals."""
        lines = ["summary:"]
        lines += [t.render() for t in self.targets] or ["(no targets recorded)"]
        passed = sum(t.passed for t in self.targets)
        lines.append(f"targets: {passed} passed, {len(self.targets) - passed} failed")
        return "\n".join(lines)

    def render(self) -> str:
        """Return the whole report: notes, figures, summary."""
        lines = [f"# {n}" for n in self.notes] + [f.render() for f in self.figures]
        return "\n".join([*lines, "", self.summary()])

    @property
    def all_passed(self) -> bool:
        """Tell whether every target passed."""
        return all(t.passed for t in self.targets)
