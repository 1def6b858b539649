"""The story suite's world: a real gunicorn on a real database, a real SMTP sink, real clients.

The server is a subprocess (``gunicorn wsgi:app``, 2 sync workers, as ``make run``) on a
database file migrated and seeded with the real CLI (``csirt db upgrade``, ``csirt demo
seed``), or on a throwaway PostgreSQL when ``CSIRT_TEST_BACKEND=postgres``. Nothing is shared
with the test process but the database and the mail: no rolled-back connection.

Every request of every client is timed (:class:`Latencies`); the table is printed in the
terminal summary, and any 5xx or any request over 2 s fails the step that made it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
OUTPUT = ROOT / "test-output" / "story"
BACKEND = os.environ.get("CSIRT_TEST_BACKEND", "sqlite")
SLOW_S = 2.0  # any request slower than this fails the suite (on a machine not overloaded)
TIMEOUT_S = 30.0  # a client gives up (and records a 599) after this
WEBHOOK_RETRY_S = 12  # the server's first webhook back-off (CSIRT_WEBHOOKS_FIRST_RETRY_S)


# --- latencies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    step: str
    client: str
    method: str
    path: str
    status: int
    seconds: float
    limit: float = SLOW_S


def slow_limit() -> float:
    """``SLOW_S``, stretched while the machine has more work than cores (the one-minute load
    average per core, when over 1): a request that waited for a core because another suite
    shares the machine is not one that csirt made slow. A quiet machine keeps the 2 s."""
    return SLOW_S * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


@dataclass
class Latencies:
    """Every request of the story, by step."""

    hits: list[Hit] = field(default_factory=list)
    step: str = "setup"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, client: str, method: str, url: str, status: int, seconds: float) -> None:
        path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
        with self._lock:
            self.hits.append(Hit(self.step, client, method, path, status, seconds, slow_limit()))

    def bad(self, step: str | None = None) -> list[Hit]:
        """The 5xx answers and the requests over their limit (of one step, or of all)."""
        return [
            h
            for h in self.hits
            if (step is None or h.step == step) and (h.status >= 500 or h.seconds > h.limit)
        ]

    def table(self) -> list[str]:
        steps: dict[str, list[float]] = {}
        for hit in self.hits:
            steps.setdefault(hit.step, []).append(hit.seconds)
        lines = [f"{'step':<44} {'count':>5} {'median':>8} {'p95':>8} {'max':>8}"]
        for name, values in [*steps.items(), ("ALL", [h.seconds for h in self.hits])]:
            if not values:
                continue
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            lines.append(
                f"{name[:44]:<44} {len(values):>5} {statistics.median(values) * 1000:>6.0f}ms"
                f" {p95 * 1000:>6.0f}ms {max(values) * 1000:>6.0f}ms"
            )
        stretched = max((h.limit for h in self.hits), default=SLOW_S)
        if stretched > SLOW_S:
            lines.append(f"limit {SLOW_S:.0f} s, up to {stretched:.1f} s while overloaded")
        return lines


LATENCIES = Latencies()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not LATENCIES.hits:
        return
    terminalreporter.section(f"story latencies ({BACKEND}, gunicorn 2 sync workers)")
    for line in LATENCIES.table():
        terminalreporter.write_line(line)
    for hit in LATENCIES.bad():
        terminalreporter.write_line(
            f"BAD: [{hit.step}] {hit.client} {hit.method} {hit.path} -> {hit.status}"
            f" in {hit.seconds:.2f} s (limit {hit.limit:.1f} s)"
        )


class TimedSession(requests.Session):
    """A requests session that records every request (redirects included) in LATENCIES."""

    def __init__(self, base: str, name: str) -> None:
        super().__init__()
        self.base = base
        self.name = name
        self.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        LATENCIES.record(
            self.name,
            response.request.method or "?",
            response.url,
            response.status_code,
            response.elapsed.total_seconds(),
        )

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT_S)
        full = urljoin(self.base, url if isinstance(url, str) else url.decode())
        started = time.perf_counter()
        try:
            return super().request(method, full, *args, **kwargs)
        except requests.Timeout:
            verb = method if isinstance(method, str) else method.decode()
            LATENCIES.record(self.name, verb, full, 599, time.perf_counter() - started)
            raise


def record_browser(context: Any, name: str) -> None:
    """Record each finished request of a Playwright context with its own timing."""

    def finished(request: Any) -> None:
        response = request.response()
        timing = request.timing
        end = timing.get("responseEnd", -1)
        seconds = end / 1000 if end and end > 0 else 0.0
        status = response.status if response is not None else 0
        LATENCIES.record(name, request.method, request.url, status, seconds)

    def failed(request: Any) -> None:
        # A download ends its navigation with net::ERR_ABORTED although the server answered:
        # keep the answer's status; a request with no answer at all counts as a 599.
        if request.response() is not None:
            finished(request)
        else:
            LATENCIES.record(name, request.method, request.url, 599, 0.0)

    context.on("requestfinished", finished)
    context.on("requestfailed", failed)


# --- HTML forms ---------------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, Any]
    names: list[str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower(), {}, []))
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            form.names.append(name)
            kind = a.get("type", "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    if kind == "checkbox":
                        form.fields.setdefault(name, []).append(a.get("value", "on"))
                    else:
                        form.fields[name] = a.get("value", "on")
            elif kind not in {"submit", "button", "file"}:
                form.fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            form.names.append(name)
            self._textarea = name
            form.fields[name] = ""
        elif tag == "select" and name:
            form.names.append(name)
            self._select = name
        elif (
            tag == "option"
            and self._select
            and ("selected" in a or self._select not in form.fields)
        ):
            form.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def links_of(html: str) -> list[str]:
    parser = _FormParser()
    parser.feed(html)
    return parser.links


def form_ending(html: str, suffix: str) -> Form:
    """The (first) POST form whose action ends with ``suffix`` (an empty action posts to the page
    itself: pass the page's path as ``suffix``)."""
    found = [
        f
        for f in forms_of(html)
        if f.method == "post" and (f.action or suffix).split("?")[0].endswith(suffix)
    ]
    assert found, f"no form with an action ending in {suffix!r} on the page"
    return found[0]


def sign_in(client: TimedSession, username: str, password: str) -> requests.Response:
    """Sign in at /console/login with its real form (username, password, csrf_token)."""
    page = client.get("/console/login")
    form = next(f for f in forms_of(page.text) if "password" in f.names)
    response = client.post(
        "/console/login",
        data={**form.fields, "username": username, "password": password},
        allow_redirects=False,
    )
    assert response.status_code == 302, f"sign-in of {username} failed: {response.status_code}"
    return response


# --- the SMTP sink ------------------------------------------------------------------------------


@dataclass
class MailSink:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m.get("To", ""))]

    def wait_for(
        self,
        address: str,
        count: int = 1,
        timeout: float = 30.0,
        match: Callable[[EmailMessage], bool] | None = None,
    ) -> list[EmailMessage]:
        """The mails to ``address`` (those ``match`` accepts), once ``count`` have arrived or
        ``timeout`` has passed: generous, as it ends when they arrive (a busy machine is slow)."""

        def found() -> list[EmailMessage]:
            return [m for m in self.to(address) if match is None or match(m)]

        deadline = time.monotonic() + timeout
        while len(found()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return found()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    content = body.get_content() if body is not None else ""
    return f"{message['Subject']}\n{content}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    env: dict[str, str]
    instance: Path
    sink: MailSink
    logins: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run the real ``csirt`` command against the server's database; return stdout."""
        result = subprocess.run(
            [str(BIN / "csirt"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        last = "\n".join(result.stderr.strip().splitlines()[-3:])
        assert result.returncode == 0, f"csirt {' '.join(args)} failed: {last}"
        return result.stdout

    def token(self, username: str, name: str = "story", scopes: tuple[str, ...] = ()) -> str:
        """Mint a bearer token with the real CLI (default scopes: read and write)."""
        options = [arg for scope in scopes for arg in ("--scope", scope)]
        output = self.cli("token", "create", username, "--name", name, *options)
        return output.strip().splitlines()[-1]

    def client(self, name: str) -> TimedSession:
        return TimedSession(self.url, name)

    def api(self, name: str, token: str) -> TimedSession:
        client = TimedSession(self.url, name)
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    def log_tail(self, limit: int | None = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text if limit is None else text[-limit:]


@contextlib.contextmanager
def _database(tmp: Path) -> Iterator[str]:
    if BACKEND == "postgres":
        from bench.pg import ThrowawayPostgres, postgres_available

        if not postgres_available():
            pytest.skip("PostgreSQL is not installed")
        with ThrowawayPostgres("story") as pg:
            yield pg.url
        return
    yield f"sqlite:///{tmp / 'csirt.sqlite3'}"


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited ({process.returncode}):\n{log.read_text()[-3000:]}"
            )
        try:
            if requests.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """test-output/story/<backend>: screenshots and the server's log of this run."""
    folder = OUTPUT / BACKEND
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def story_server(tmp_path_factory: pytest.TempPathFactory, output_dir: Path) -> Iterator[Server]:
    """`make run`, for real: migrate and seed with the CLI, then gunicorn on a free port."""
    from aiosmtpd.controller import Controller

    tmp = tmp_path_factory.mktemp("story")
    instance = tmp / "instance"
    instance.mkdir()
    sink = MailSink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with _database(tmp) as database_url:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("CSIRT_")},
                "CSIRT_DATABASE_URL": database_url,
                "CSIRT_INSTANCE_PATH": str(instance),
                "CSIRT_BASE_URL": url,
                "CSIRT_COOKIE_SECURE": "false",
                "CSIRT_MAIL_BACKEND": "smtp",
                "CSIRT_SMTP_HOST": "127.0.0.1",
                "CSIRT_SMTP_PORT": str(smtp_port),
                "CSIRT_SMTP_FROM": "csirt@city.example.jp",
                "CSIRT_SMTP_TLS": "off",  # the sink is plain SMTP on loopback
                # tests/alerts/test_live.py waits out one webhook back-off: not the 30 s default
                "CSIRT_WEBHOOKS_FIRST_RETRY_S": str(WEBHOOK_RETRY_S),
            }
            server = Server(url, env, instance, sink, {}, output_dir / "gunicorn.log", None)  # type: ignore[arg-type]
            server.cli("db", "upgrade")
            server.cli("demo", "seed")
            for line in (instance / "demo-logins.txt").read_text(encoding="utf-8").splitlines():
                _role, username, password = line.split("\t")
                server.logins[username] = password
            with server.log.open("wb") as log:
                server.process = subprocess.Popen(
                    [
                        str(BIN / "gunicorn"),
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "2",
                        "--worker-class",
                        "sync",  # the production default, as `make run` (issue 21)
                        "--no-control-socket",
                        "wsgi:app",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                _wait_ready(url, server.process, server.log)
                yield server
            finally:
                _stop(server.process)
    finally:
        controller.stop()
        # Content-free by design; kept so that a reader can see who was told what, and when.
        (output_dir / "mail.txt").write_text(
            "\n\n".join(f"To: {m['To']}\n{text_of(m)}" for m in sink.messages), encoding="utf-8"
        )


@pytest.fixture(scope="session")
def shots(output_dir: Path) -> Any:
    """Save a full-page screenshot under test-output/story/<backend>/NN-name.png."""
    folder = output_dir
    counter = iter(range(1, 100))

    def shot(page: Any, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot
