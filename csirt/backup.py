"""Encrypted, consistent backups: ``csirt backup PATH`` and ``csirt restore PATH``.

A backup is a tar archive holding ``manifest.json``, the database (``database.sqlite3`` made with
SQLite's online backup API, or ``database.pgdump`` from ``pg_dump --format=custom``, both a
consistent snapshot while the app keeps running) and every file of the instance folder
(``files/...``: evidence on SQLite, templates, keys). On PostgreSQL the evidence bytes are rows
of the database (``csirt.records.blobs``), so the dump carries them. The database is copied
first: files are written before the rows that name them are committed, so every row in the
snapshot finds its file.

The archive is encrypted in 1 MiB chunks with PyNaCl's SecretBox (XSalsa20-Poly1305) under a key
derived from a passphrase by Argon2id. Each chunk's plaintext starts with the file's random id,
the chunk number and a last-chunk flag, so chunks cannot be reordered, dropped, cut off at the
end or spliced in from another backup without the restore failing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

import click
from flask import current_app
from flask.cli import with_appcontext
from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from config import Config
from csirt.db import make_engine, utcnow
from csirt.vault.kdf import KdfParams, argon2id

MAGIC = b"CSIRTBK1"
CHUNK = 1024 * 1024
FILE_ID_BYTES = 16
_CHUNK_HEADER = struct.Struct(">16sQ?")  # file id, chunk number, last chunk
MIN_PASSPHRASE = 12
PASSPHRASE_ENV = "CSIRT_BACKUP_PASSPHRASE"  # noqa: S105 (a variable name)
# Argon2id, 256 MiB, 3 passes: a backup key is derived once per backup or restore, so it can be
# far costlier than a login hash; a lost archive then resists offline guessing much longer.
DEFAULT_PARAMS = KdfParams(time_cost=3, memory_kib=256 * 1024, parallelism=2)
# The SQLite files that are the live database (copied through the backup API, never as files).
SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or restore cannot proceed; the message says why."""


class WrongPassphraseError(BackupError):
    """The passphrase is wrong or the archive was altered (indistinguishable by design)."""


class NotEmptyError(BackupError):
    """The target database already holds tables (use --force to replace them)."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    backend: str
    files: int
    size: int


# --- encryption ------------------------------------------------------------------------------


def _derive(passphrase: str, salt: bytes, params: KdfParams) -> SecretBox:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    return SecretBox(argon2id(passphrase.encode("utf-8"), salt, params, SecretBox.KEY_SIZE))


def encrypt_stream(
    source: BinaryIO, target: BinaryIO, passphrase: str, params: KdfParams = DEFAULT_PARAMS
) -> None:
    """Encrypt ``source`` into ``target`` (header, then authenticated chunks)."""
    salt = secrets.token_bytes(16)
    box = _derive(passphrase, salt, params)
    header = json.dumps(
        {"t": params.time_cost, "m": params.memory_kib, "p": params.parallelism}
    ).encode()
    target.write(MAGIC + salt + struct.pack(">H", len(header)) + header)
    file_id = secrets.token_bytes(FILE_ID_BYTES)
    number = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        sealed = box.encrypt(_CHUNK_HEADER.pack(file_id, number, last) + chunk)
        target.write(struct.pack(">I", len(sealed)) + bytes(sealed))
        if last:
            return
        chunk, number = following, number + 1


def decrypt_stream(source: BinaryIO, target: BinaryIO, passphrase: str) -> None:
    """Decrypt what :func:`encrypt_stream` wrote; raise on any alteration or truncation."""
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a csirt backup (unknown format)")
    salt = source.read(16)
    (length,) = struct.unpack(">H", _exactly(source, 2))
    try:
        raw = json.loads(_exactly(source, length))
        params = KdfParams(time_cost=raw["t"], memory_kib=raw["m"], parallelism=raw["p"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError("the backup header is damaged") from exc
    box = _derive(passphrase, salt, params)
    file_id: bytes | None = None
    expected = 0
    while True:
        size_raw = source.read(4)
        if len(size_raw) < 4:
            raise WrongPassphraseError("the backup ends early (truncated)")
        (size,) = struct.unpack(">I", size_raw)
        if size > CHUNK + 1024:
            raise WrongPassphraseError("the backup is damaged")
        try:
            plain = box.decrypt(_exactly(source, size))
        except CryptoError as exc:
            raise WrongPassphraseError("wrong passphrase, or the backup was altered") from exc
        chunk_id, number, last = _CHUNK_HEADER.unpack_from(plain)
        file_id = file_id or chunk_id
        if chunk_id != file_id or number != expected:
            raise WrongPassphraseError("the backup's chunks were reordered or mixed")
        target.write(plain[_CHUNK_HEADER.size :])
        if last:
            if source.read(1):
                raise WrongPassphraseError("data after the end of the backup")
            return
        expected += 1


def _exactly(source: IO[bytes], size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise WrongPassphraseError("the backup ends early (truncated)")
    return data


# --- database snapshots ------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL (in-memory databases cannot be backed up)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def pg_binary(name: str) -> str:
    """Find ``pg_dump`` / ``pg_restore``: $CSIRT_PG_BIN_DIR, the PATH, then the newest Debian."""
    override = os.environ.get("CSIRT_PG_BIN_DIR")
    if override and (Path(override) / name).is_file():
        return str(Path(override) / name)
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted(
            (p for p in root.iterdir() if p.name.split(".")[0].isdigit()),
            key=lambda p: [int(part) for part in p.name.split(".") if part.isdigit()],
            reverse=True,
        )
        for version in versions:
            if (version / "bin" / name).is_file():
                return str(version / "bin" / name)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"{name} not found (install postgresql-client or set CSIRT_PG_BIN_DIR)")


def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL tools; the password goes in the environment."""
    parsed = make_url(url)
    args = ["--dbname", parsed.database or ""]
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


def _snapshot_database(url: str, folder: Path) -> tuple[str, Path]:
    if url.startswith("sqlite"):
        source = sqlite_path(url)
        if not source.is_file():
            raise BackupError(f"no database at {source}")
        target = folder / "database.sqlite3"
        # The online backup API copies a consistent snapshot while others keep writing.
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
        return "sqlite", target
    target = folder / "database.pgdump"
    # pg_dump runs in one repeatable-read transaction: a consistent snapshot.
    _run_pg("pg_dump", url, "--format=custom", "--no-owner", "--file", str(target))
    return "postgresql", target


def _run_pg(binary: str, url: str, *options: str, last: str | None = None) -> None:
    """Run a PostgreSQL client tool against ``url`` (connection in its arguments and
    environment, ``last`` after them); its error output, cut short, in :class:`BackupError`."""
    args, env = _libpq(url)
    command = [pg_binary(binary), *options, *args, *([last] if last is not None else [])]
    result = subprocess.run(  # noqa: S603 (fixed binary, arguments from our own config)
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{binary} failed: {result.stderr.strip()[:500]}")


def _instance_files(config: Config, exclude: set[Path]) -> Iterator[Path]:
    root = config.instance_path
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.resolve() not in exclude:
            yield path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def create_backup(
    config: Config, target: Path, passphrase: str, *, params: KdfParams = DEFAULT_PARAMS
) -> BackupSummary:
    """Write an encrypted snapshot of the database and the instance files to ``target``."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    target = target.resolve()
    # The organisation intake key's KEK opens every report together with the database: it is
    # never put into the same archive (README, "How every report reaches the officers").
    exclude = {target, config.escrow_key_path.resolve()}
    if config.database_url.startswith("sqlite"):
        db_file = sqlite_path(config.database_url).resolve()
        exclude |= {Path(f"{db_file}{suffix}") for suffix in SQLITE_SIDE_FILES}
    with tempfile.TemporaryDirectory(prefix="csirt-backup-") as tmp:
        folder = Path(tmp)
        backend, db_copy = _snapshot_database(config.database_url, folder)
        files = list(_instance_files(config, exclude))
        manifest: dict[str, Any] = {
            "format": 1,
            "created_at": utcnow().isoformat(),
            "backend": backend,
            "database": {"name": db_copy.name, "sha256": _sha256(db_copy)},
            "files": {
                path.relative_to(config.instance_path).as_posix(): _sha256(path) for path in files
            },
        }
        archive = folder / "backup.tar"
        with tarfile.open(archive, "w") as tar:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(db_copy, arcname=db_copy.name)
            for path in files:
                rel = path.relative_to(config.instance_path).as_posix()
                tar.add(path, arcname=f"files/{rel}", recursive=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        # Owner-only from the first byte, then renamed into place: never a half-written backup.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out, archive.open("rb") as plain:
            encrypt_stream(plain, out, passphrase, params)
        partial.replace(target)
    return BackupSummary(target, backend, len(files), target.stat().st_size)


# --- restore -----------------------------------------------------------------------------------


def database_is_empty(url: str) -> bool:
    """True if the database has no tables (a SQLite file that does not exist yet counts)."""
    if url.startswith("sqlite") and not sqlite_path(url).exists():
        return True
    engine = make_engine(url)
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"unsafe entry in the backup: {member.name!r}")
    return members


def _manifest_path(rel: object) -> PurePosixPath:
    """A manifest entry as a plain relative path (no absolute, no .., no control characters)."""
    if not isinstance(rel, str) or not rel or len(rel) > 1024:
        raise BackupError("the manifest names an unusable path")
    path = PurePosixPath(rel)
    if (
        path.is_absolute()
        or "\\" in rel
        or ":" in path.parts[0]
        or any(part in ("", ".", "..") for part in rel.split("/"))
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in rel)
    ):
        raise BackupError(f"unsafe path in the manifest: {rel!r}")
    return path


def _check_manifest(manifest: object, unpacked: Path, instance: Path) -> dict[str, str]:
    """Every file of the manifest, checked before anything is restored; BackupError otherwise.

    Each path must stay inside the instance folder once resolved, and neither the file in the
    backup nor anything on its way in the instance folder may be a link: the whole backup is
    refused at the first bad entry, so that nothing is written anywhere.
    """
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BackupError("the manifest is not a csirt backup manifest")
    database = manifest.get("database")
    if not isinstance(database, dict) or not isinstance(database.get("name"), str):
        raise BackupError("the manifest does not name its database")
    if len(_manifest_path(database["name"]).parts) != 1:
        raise BackupError(f"unsafe database name in the manifest: {database['name']!r}")
    root = instance.resolve()
    files: dict[str, str] = {}
    for rel, digest in manifest["files"].items():
        path = _manifest_path(rel)
        destination = instance.joinpath(*path.parts)
        if not destination.resolve().is_relative_to(root):
            raise BackupError(f"{rel!r} would be written outside the instance folder")
        step = instance
        for part in path.parts:
            step = step / part
            if step.is_symlink():
                raise BackupError(f"{rel!r} goes through a link in the instance folder")
        packed = unpacked.joinpath("files", *path.parts)
        if packed.is_symlink() or not packed.is_file():
            raise BackupError(f"{rel!r} is not a plain file in the backup")
        if not isinstance(digest, str):
            raise BackupError(f"{rel!r} has no digest in the manifest")
        files[str(path)] = digest
    return files


def restore_backup(
    config: Config, source: Path, passphrase: str, *, force: bool = False
) -> BackupSummary:
    """Bring a backup back into the configured (empty, unless ``force``) database and folder."""
    url = config.database_url
    if not force and not database_is_empty(url):
        raise NotEmptyError("the target database is not empty (use --force to replace it)")
    with tempfile.TemporaryDirectory(prefix="csirt-restore-") as tmp:
        folder = Path(tmp)
        archive = folder / "backup.tar"
        with source.open("rb") as sealed, archive.open("wb") as plain:
            decrypt_stream(sealed, plain, passphrase)
        unpacked = folder / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, members=_safe_members(tar), filter="data")
        try:
            manifest = json.loads((unpacked / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise BackupError("the backup has no readable manifest") from exc
        files = _check_manifest(manifest, unpacked, config.instance_path)
        db_copy = unpacked / manifest["database"]["name"]
        if not db_copy.is_file() or _sha256(db_copy) != manifest["database"].get("sha256"):
            raise BackupError("the database in the backup does not match its manifest")
        for rel, digest in files.items():
            if _sha256(unpacked / "files" / rel) != digest:
                raise BackupError(f"{rel} does not match the manifest")
        backend = "sqlite" if url.startswith("sqlite") else "postgresql"
        if manifest.get("backend") != backend:
            raise BackupError(
                f"this is a {manifest.get('backend')} backup; the target database is {backend}"
            )
        if backend == "sqlite":
            _restore_sqlite(db_copy, sqlite_path(url))
        else:
            _restore_postgres(db_copy, url, force=force)
        for rel in files:
            destination = config.instance_path / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.is_symlink():  # appeared since the check: refuse, never follow
                raise BackupError(f"{rel!r} goes through a link in the instance folder")
            shutil.copyfile(unpacked / "files" / rel, destination)
            os.chmod(destination, 0o600)
    return BackupSummary(source, backend, len(files), source.stat().st_size)


def _restore_sqlite(copy: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # The backup API writes into the live file safely (other connections see all or nothing).
    with (
        contextlib.closing(sqlite3.connect(copy)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def _restore_postgres(dump: Path, url: str, *, force: bool) -> None:
    if force:
        engine = make_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        finally:
            engine.dispose()
    _run_pg(
        "pg_restore", url, "--no-owner", "--exit-on-error", "--single-transaction", last=str(dump)
    )


# --- commands ----------------------------------------------------------------------------------


def _passphrase(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value = os.environ.get(PASSPHRASE_ENV, "")
    if not value:
        raise click.ClickException(f"set {PASSPHRASE_ENV} or use --passphrase-stdin")
    return value


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="Read the passphrase from standard input.")
@with_appcontext
def backup_command(path: Path, passphrase_stdin: bool) -> None:
    """Write an encrypted snapshot of the database and instance files to PATH."""
    config: Config = current_app.config["CSIRT"]
    try:
        summary = create_backup(config, path, _passphrase(passphrase_stdin))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"backup written: {summary.path} ({summary.backend}, {summary.files} files, "
        f"{summary.size} bytes)"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-stdin", is_flag=True, help="Read the passphrase from standard input.")
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@with_appcontext
def restore_command(path: Path, passphrase_stdin: bool, force: bool) -> None:
    """Restore the backup at PATH into the configured database and instance folder."""
    config: Config = current_app.config["CSIRT"]
    try:
        summary = restore_backup(config, path, _passphrase(passphrase_stdin), force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"restored {summary.backend} database and {summary.files} files; "
        "restart the app, then run `csirt audit verify`"
    )
