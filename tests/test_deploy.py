"""The production recipe works: gunicorn with deploy/gunicorn.conf.py serves a short smoke load.

A CI step: each interface is started exactly as the systemd units start it (``gunicorn -c
deploy/gunicorn.conf.py`` with ``CSIRT_INTERFACE`` and ``CSIRT_BIND``) on 127.0.0.1 against a
migrated SQLite database, then loaded by a few client threads for a bounded few seconds.
"""

from __future__ import annotations

import http.client
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from gunicorn.config import Config as GunicornConfig

from csirt.db import pool_options
from csirt.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
GUNICORN = Path(sys.executable).parent / "gunicorn"
SMOKE_SECONDS = 3.0
SMOKE_CLIENTS = 8


def load_conf(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Evaluate deploy/gunicorn.conf.py as gunicorn does, under ``env``."""
    for name in list(os.environ):
        if name.startswith("CSIRT_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_intake_writes_no_access_log(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf({"CSIRT_INTERFACE": "intake"}, monkeypatch)
    assert conf["accesslog"] is None
    assert conf["wsgi_app"] == "wsgi:intake"
    assert conf["bind"] == ["127.0.0.1:8001"]


def test_console_and_all_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load_conf(
        {"CSIRT_INTERFACE": "console", "CSIRT_GUNICORN_WORKERS": "3", "CSIRT_BIND": "unix:/s"},
        monkeypatch,
    )
    assert conf["wsgi_app"] == "wsgi:console"
    assert (conf["workers"], conf["threads"], conf["bind"]) == (3, 1, ["unix:/s"])
    assert conf["worker_class"] == "sync"  # issue 21: measured faster than gthread on 2 cores
    assert load_conf({}, monkeypatch)["wsgi_app"] == "wsgi:app"
    threaded = load_conf({"CSIRT_GUNICORN_WORKER_CLASS": "gthread"}, monkeypatch)
    assert (threaded["worker_class"], threaded["threads"]) == ("gthread", 4)


def test_every_setting_is_one_gunicorn_knows(monkeypatch: pytest.MonkeyPatch) -> None:
    # gunicorn silently ignores unknown names: a typo would drop a setting without a word.
    conf = load_conf({"CSIRT_INTERFACE": "intake"}, monkeypatch)
    known = set(GunicornConfig().settings)
    ours = {
        name
        for name, value in conf.items()
        if not name.startswith("_")
        and name not in {"annotations", "os", "interface"}
        and not callable(value)
    }
    assert ours <= known, ours - known
    assert callable(conf["post_fork"])


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CSIRT_INTERFACE": "public"}, "CSIRT_INTERFACE must be one of"),
        ({"CSIRT_GUNICORN_WORKERS": "0"}, "CSIRT_GUNICORN_WORKERS must be at least 1"),
    ],
)
def test_bad_settings_stop_the_start(
    env: Mapping[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match=message):
        load_conf(env, monkeypatch)


def test_pool_sizes_come_from_the_environment(tmp_path: Path) -> None:
    from config import Config, ConfigError

    def options(env: dict[str, str]) -> dict[str, int]:
        return pool_options(Config.from_env(env, instance_path=tmp_path))

    assert options({}) == {}
    assert options({"CSIRT_DB_POOL_SIZE": "4", "CSIRT_DB_MAX_OVERFLOW": "0"}) == {
        "pool_size": 4,
        "max_overflow": 0,
    }
    with pytest.raises(ConfigError, match="CSIRT_DB_POOL_SIZE"):
        options({"CSIRT_DB_POOL_SIZE": "four"})
    with pytest.raises(ConfigError, match="CSIRT_DB_MAX_OVERFLOW: must be at least 0"):
        options({"CSIRT_DB_MAX_OVERFLOW": "-1"})


# --- the smoke load ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    url_host: str
    port: int
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("deploy")
    upgrade(f"sqlite:///{folder / 'csirt.sqlite3'}")
    return folder


def serve(interface: str, instance: Path) -> Iterator[Served]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSIRT_")}
    env.update(
        CSIRT_INTERFACE=interface,
        CSIRT_BIND=f"127.0.0.1:{port}",
        CSIRT_GUNICORN_WORKERS="2",
        CSIRT_GUNICORN_THREADS="4",
        CSIRT_DATABASE_URL=f"sqlite:///{instance / 'csirt.sqlite3'}",
        CSIRT_INSTANCE_PATH=str(instance),
        CSIRT_SECRET_KEY="deploy-smoke-secret-0123456789abcdefghijklmnop",
        CSIRT_COOKIE_SECURE="false",
        CSIRT_DB_POOL_SIZE="4",
        CSIRT_DB_MAX_OVERFLOW="2",
    )
    process = subprocess.Popen(
        [str(GUNICORN), "-c", str(GUNICORN_CONF)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"gunicorn {interface} exited {process.returncode}:\n{output}")
            try:
                if get("127.0.0.1", port, "/api/v1/health") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn {interface} did not answer within 30 s")
            time.sleep(0.1)
        yield Served("127.0.0.1", port, process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def get(host: str, port: int, path: str) -> int:
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def smoke_load(served: Served, paths: Sequence[str]) -> Counter[tuple[str, int]]:
    """GET ``paths`` round-robin from several keep-alive clients for SMOKE_SECONDS."""
    statuses: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + SMOKE_SECONDS

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection(served.url_host, served.port, timeout=10)
        n = offset
        try:
            while time.monotonic() < stop_at:
                path = paths[n % len(paths)]
                n += 1
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    status = 599  # a dropped connection counts as a server failure
                    connection.close()
                    connection = http.client.HTTPConnection(
                        served.url_host, served.port, timeout=10
                    )
                with lock:
                    statuses[(path, status)] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(SMOKE_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SMOKE_SECONDS + 30)
    return statuses


def server_output(served: Served) -> str:
    """Stop the server and return what it wrote (its error log), to explain a failure."""
    os.killpg(served.process.pid, 15)
    output, _ = served.process.communicate(timeout=20)
    return output.decode(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def intake_server(instance: Path) -> Iterator[Served]:
    yield from serve("intake", instance)


@pytest.fixture(scope="module")
def console_server(instance: Path) -> Iterator[Served]:
    yield from serve("console", instance)


@pytest.mark.slow
def test_intake_serves_a_smoke_load_without_errors_or_log_lines(intake_server: Served) -> None:
    paths = ["/api/v1/health", "/report/", "/"]
    statuses = smoke_load(intake_server, paths)
    failures = {key: n for key, n in statuses.items() if key[1] >= 500}
    assert not failures, (failures, server_output(intake_server))
    assert {path for path, _status in statuses} == set(paths)
    assert statuses[("/report/", 200)] > 0
    assert statuses[("/api/v1/health", 200)] > 0
    assert sum(statuses.values()) >= 10  # hundreds on an idle 2-core machine
    # The console is not part of the intake service.
    assert get(intake_server.url_host, intake_server.port, "/console/login") == 404
    # No access log: gunicorn wrote nothing about the requests (errorlog is this pipe).
    os.killpg(intake_server.process.pid, 15)
    output, _ = intake_server.process.communicate(timeout=20)
    assert b"GET /report" not in output
    assert b"/api/v1/health" not in output


@pytest.mark.slow
def test_console_serves_a_smoke_load_without_errors(console_server: Served) -> None:
    paths = ["/api/v1/health", "/console/login", "/console/"]
    statuses = smoke_load(console_server, paths)
    failures = {key: n for key, n in statuses.items() if key[1] >= 500}
    assert not failures, (failures, server_output(console_server))
    assert statuses[("/console/login", 200)] > 0
    assert statuses[("/console/", 302)] > 0  # anonymous: sent to the login page
    assert get(console_server.url_host, console_server.port, "/report/") == 404


def test_the_loaded_app_is_kept_out_of_full_garbage_collections(instance: Path) -> None:
    # wsgi freezes what loading the app made (gc.freeze): a full collection no longer walks it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSIRT_")}
    env.update(
        CSIRT_DATABASE_URL=f"sqlite:///{instance / 'csirt.sqlite3'}",
        CSIRT_INSTANCE_PATH=str(instance),
        CSIRT_SECRET_KEY="deploy-smoke-secret-0123456789abcdefghijklmnop",
    )
    script = (
        "import gc, wsgi\n"
        "before = gc.get_freeze_count()\n"
        "wsgi.console\n"
        "print(before, gc.get_freeze_count())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = map(int, done.stdout.split())
    assert before == 0
    assert after > 100_000  # the app's code, routes, templates and catalogs
