"""A throwaway PostgreSQL server for benchmarks and tests (standard library only).

Usage::

    with ThrowawayPostgres() as pg:
        url = pg.url                      # postgresql+psycopg://postgres@127.0.0.1:PORT/bench
        other = pg.create_database("x")   # another empty database on the same server

The server runs as the ``postgres`` system user when started by root (PostgreSQL refuses to run
as root), keeps its data in a ``mktemp -d /tmp/csirt-pg-*`` folder, listens on 127.0.0.1 only,
trusts local connections (it is throwaway and loopback-only) and is stopped and deleted on
``stop()``, on leaving the ``with`` block, or at interpreter exit, whichever comes first.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

DEFAULT_DATABASE = "bench"
SUPERUSER = "postgres"

# Settings for a disposable server: durability off because the data is thrown away.
FAST_UNSAFE_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL binaries or the postgres system user are missing."""


class PostgresStartError(RuntimeError):
    """The throwaway PostgreSQL server did not start."""


def find_pg_bin_dir() -> Path:
    """Return the newest /usr/lib/postgresql/*/bin holding pg_ctl, or honour $PG_BIN_DIR."""
    override = os.environ.get("PG_BIN_DIR")
    candidates = [Path(override)] if override else []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted(
            (p for p in root.iterdir() if p.name.split(".")[0].isdigit()),
            key=lambda p: [int(part) for part in p.name.split(".") if part.isdigit()],
            reverse=True,
        )
        candidates += [v / "bin" for v in versions]
    for candidate in candidates:
        if (candidate / "pg_ctl").is_file() and (candidate / "initdb").is_file():
            return candidate
    raise PostgresUnavailableError(
        "no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
    )


def postgres_available() -> bool:
    """Tell whether a throwaway server can be started here (binaries and, as root, the user)."""
    try:
        find_pg_bin_dir()
        if os.geteuid() == 0:
            pwd.getpwnam(SUPERUSER)
    except (PostgresUnavailableError, KeyError):
        return False
    return True


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayPostgres:
    """A private PostgreSQL server on 127.0.0.1, started on construction and stopped by stop()."""

    def __init__(
        self,
        database: str = DEFAULT_DATABASE,
        *,
        settings: Mapping[str, str] | None = None,
        start_timeout_s: float = 60.0,
    ) -> None:
        self.bin_dir = find_pg_bin_dir()
        self.database = database
        self._settings = dict(FAST_UNSAFE_SETTINGS if settings is None else settings)
        self._timeout = start_timeout_s
        self._lock = threading.Lock()
        self._running = False
        self._as_postgres = os.geteuid() == 0
        self.base_dir = Path(tempfile.mkdtemp(prefix="csirt-pg-", dir="/tmp"))
        self.data_dir = self.base_dir / "data"
        self.log_file = self.base_dir / "server.log"
        self.port = 0
        try:
            self._prepare_dir()
            self._initdb()
            self._start_with_retries()
            self._running = True
            atexit.register(self.stop)
            self.create_database(database)
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the default database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """Return the SQLAlchemy (psycopg 3) URL of a database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def libpq_dsn(self, database: str | None = None) -> str:
        """Return a libpq connection string (for psql or psycopg.connect)."""
        name = database or self.database
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={name}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name must be alphanumeric or _: {name!r}")
        self._run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                name,
            ]
        )
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database of this server (connections to it must be closed)."""
        self._run(
            [
                str(self.bin_dir / "dropdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "--if-exists",
                name,
            ]
        )

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and delete its folder."""
        with self._lock:
            if self._running:
                self._running = False
                subprocess.run(
                    self._cmd(
                        [
                            str(self.bin_dir / "pg_ctl"),
                            "-D",
                            str(self.data_dir),
                            "-m",
                            "immediate",
                            "-w",
                            "stop",
                        ]
                    ),
                    capture_output=True,
                    check=False,
                    timeout=60,
                )
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _cmd(self, argv: list[str]) -> list[str]:
        if self._as_postgres:
            return ["runuser", "-u", SUPERUSER, "--", *argv]
        return argv

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(
            self._cmd(argv), capture_output=True, text=True, check=False, timeout=self._timeout
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"{Path(argv[0]).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )

    def _prepare_dir(self) -> None:
        self.base_dir.chmod(0o700)
        if self._as_postgres:
            try:
                user = pwd.getpwnam(SUPERUSER)
            except KeyError as error:
                raise PostgresUnavailableError("no 'postgres' system user") from error
            os.chown(self.base_dir, user.pw_uid, user.pw_gid)

    def _initdb(self) -> None:
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )

    def _start_with_retries(self, attempts: int = 3) -> None:
        last_error: PostgresStartError | None = None
        for _ in range(attempts):
            self.port = free_port()
            try:
                self._start()
                return
            except PostgresStartError as error:  # usually a port taken between probe and bind
                last_error = error
        assert last_error is not None
        raise last_error

    def _start(self) -> None:
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-k {self.base_dir}",
            *(f"-c {key}={value}" for key, value in self._settings.items()),
        ]
        argv = [
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(int(self._timeout)),
            "-o",
            " ".join(options),
            "start",
        ]
        result = subprocess.run(
            self._cmd(argv), capture_output=True, text=True, check=False, timeout=self._timeout + 10
        )
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            raise PostgresStartError(f"pg_ctl start failed: {result.stderr.strip()}\n{log[-2000:]}")


def start_postgres(
    database: str = DEFAULT_DATABASE, *, settings: Mapping[str, str] | None = None
) -> ThrowawayPostgres:
    """Start a throwaway PostgreSQL server; stop it with .stop() or use it as a context manager."""
    return ThrowawayPostgres(database, settings=settings)
