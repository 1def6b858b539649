"""Backups: encrypted, consistent while writing goes on, restored byte for byte (both backends)."""

from __future__ import annotations

import io
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from csirt import backup, create_app
from csirt.audit import service as audit
from csirt.cases.creation import create_case
from csirt.cases.models import TimelineEvent
from csirt.db import get_db, make_engine
from csirt.migrate import upgrade
from csirt.vault.kdf import KdfParams
from tests.conftest import make_config
from tests.factories import UserFactory

PASSPHRASE = "correct horse battery staple backup"
FAST = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)
MARKER = "堺市選挙人名簿-marker"


def _fresh_url(database_url: str, tmp_path: Path, name: str) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name}.sqlite3"
    base, _sep, _db = database_url.rpartition("/")
    engine = make_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return f"{base}/{name}"


def _populate(app, instance: Path) -> None:
    with app.app_context(), get_db(app).session() as session:
        users = UserFactory(session, app.extensions["csirt.hashing"])
        lead = users.create(["lead"], username="bk-lead", totp=True).user
        users.create(["intake_officer", "custodian"], username="bk-officer")
        case = create_case(session, title=f"Leak {MARKER}", actor=lead, insider=True)
        for i in range(3):
            session.add(
                TimelineEvent(
                    case_id=case.id,
                    occurred_at=datetime(2015, 6, 24, 9, i, 30, 123456, tzinfo=UTC),
                    title=f"出来事 {i}",
                    description=f"{MARKER} detail {i}",
                    created_by_id=lead.id,
                    evidence_ids=[i],
                )
            )
        for i in range(5):
            audit.record(
                session,
                "case.view",
                actor=audit.Actor(lead.id, lead.username),
                object_type="case",
                object_id=case.id,
                case_id=case.id,
                details={"i": i, "note": "日本語"},
            )
    (instance / "evidence" / "ab").mkdir(parents=True, exist_ok=True)
    (instance / "evidence" / "ab" / "blob.bin").write_bytes(secrets.token_bytes(3000) + b"\0\xff")
    (instance / "templates").mkdir(exist_ok=True)
    (instance / "templates" / "org.docx").write_bytes(b"PK\x03\x04 template " + MARKER.encode())


def _tables(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, ordered by primary key, as the database stores it."""
    contents = {}
    with engine.connect() as conn:
        inspector = inspect(conn)  # one connection: SQLite writers would wait on each other
        for table in sorted(inspector.get_table_names()):
            columns = [c["name"] for c in inspector.get_columns(table)]
            order = inspector.get_pk_constraint(table)["constrained_columns"] or columns
            order_sql = ", ".join(f'"{c}"' for c in order)
            if engine.dialect.name == "postgresql":
                # The row's text form: every byte of every value, compared as text.
                sql = f'SELECT t::text FROM "{table}" t ORDER BY {order_sql}'
            else:
                sql = f'SELECT * FROM "{table}" ORDER BY {order_sql}'
            contents[table] = [tuple(row) for row in conn.execute(text(sql))]
    return contents


def test_round_trip_is_byte_for_byte_and_the_chain_verifies(database_url: str, tmp_path: Path):
    source_url = _fresh_url(database_url, tmp_path, "csirt_backup_source")
    target_url = _fresh_url(database_url, tmp_path, "csirt_backup_target")
    upgrade(source_url)
    source_instance = tmp_path / "instance"
    source_config = make_config(source_url, source_instance)
    app = create_app(source_config)
    _populate(app, source_instance)

    # The app keeps writing while the backup runs: the snapshot must still be consistent.
    stop = threading.Event()

    def keep_writing() -> None:
        with app.app_context():
            while not stop.is_set():
                with get_db(app).session() as session:
                    audit.record(session, "test.background", actor=audit.SYSTEM)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        archive = tmp_path / "out" / "csirt.backup"
        summary = backup.create_backup(source_config, archive, PASSPHRASE, params=FAST)
    finally:
        stop.set()
        writer.join()
    assert summary.files == 2
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    sealed = archive.read_bytes()
    assert MARKER.encode() not in sealed
    assert b"bk-lead" not in sealed
    assert not list(archive.parent.glob("*.partial"))

    target_instance = tmp_path / "restored"
    target_config = make_config(target_url, target_instance)
    backup.restore_backup(target_config, archive, PASSPHRASE)

    restored = make_engine(target_url)
    after = _tables(restored)
    source_engine = make_engine(source_url)
    before = _tables(source_engine)
    # Every row that the backup holds is byte for byte the source's; the source only has more
    # background audit rows (written after the snapshot), at the end of the chain.
    assert set(after) == set(before)
    for table, rows in after.items():
        if table in ("audit_events", "audit_head"):
            continue
        assert rows == before[table], table
    assert after["audit_events"] == before["audit_events"][: len(after["audit_events"])]
    assert len(after["audit_events"]) >= 5 + 3  # users, case, views (and background rows)
    for rel in ("evidence/ab/blob.bin", "templates/org.docx"):
        assert (target_instance / rel).read_bytes() == (source_instance / rel).read_bytes()

    target_app = create_app(target_config)
    result = target_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit log OK" in result.output
    # The restored database keeps working: its sequences and the chain's head are right.
    with target_app.app_context(), get_db(target_app).session() as session:
        audit.record(session, "test.after_restore", actor=audit.SYSTEM)
        UserFactory(session, target_app.extensions["csirt.hashing"]).create(username="bk-new")
    with target_app.app_context(), get_db(target_app).session() as session:
        assert audit.verify(session).ok

    # Now the target is not empty: a second restore is refused unless forced.
    with pytest.raises(backup.NotEmptyError):
        backup.restore_backup(target_config, archive, PASSPHRASE)
    backup.restore_backup(target_config, archive, PASSPHRASE, force=True)
    assert _tables(restored) == after
    restored.dispose()
    source_engine.dispose()
    get_db(app).engine.dispose()
    get_db(target_app).engine.dispose()


def test_commands_read_the_passphrase(database_url: str, tmp_path: Path):
    source_url = _fresh_url(database_url, tmp_path, "csirt_backup_cli")
    upgrade(source_url)
    app = create_app(make_config(source_url, tmp_path / "instance"))
    _populate(app, tmp_path / "instance")
    runner = app.test_cli_runner()
    archive = tmp_path / "cli.backup"
    missing = runner.invoke(args=["backup", str(archive)], env={backup.PASSPHRASE_ENV: ""})
    assert missing.exit_code != 0
    assert backup.PASSPHRASE_ENV in missing.output
    short = runner.invoke(args=["backup", str(archive), "--passphrase-stdin"], input="short\n")
    assert short.exit_code != 0
    assert "at least 12" in short.output
    made = runner.invoke(args=["backup", str(archive)], env={backup.PASSPHRASE_ENV: PASSPHRASE})
    assert made.exit_code == 0, made.output
    assert "backup written" in made.output
    assert "2 files" in made.output
    refused = runner.invoke(
        args=["restore", str(archive), "--passphrase-stdin"], input=PASSPHRASE + "\n"
    )
    assert refused.exit_code != 0
    assert "not empty" in refused.output
    wrong = runner.invoke(
        args=["restore", str(archive), "--force", "--passphrase-stdin"],
        input="a wrong passphrase!\n",
    )
    assert wrong.exit_code != 0
    assert "wrong passphrase" in wrong.output
    forced = runner.invoke(
        args=["restore", str(archive), "--force"], env={backup.PASSPHRASE_ENV: PASSPHRASE}
    )
    assert forced.exit_code == 0, forced.output
    assert "audit verify" in forced.output
    get_db(app).engine.dispose()


def _encrypt(data: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(data), out, passphrase, FAST)
    return out.getvalue()


def _decrypt(sealed: bytes, passphrase: str = PASSPHRASE) -> bytes:
    out = io.BytesIO()
    backup.decrypt_stream(io.BytesIO(sealed), out, passphrase)
    return out.getvalue()


def _chunks(sealed: bytes) -> tuple[bytes, list[bytes]]:
    """Split an encrypted file into its header and its length-prefixed chunks."""
    header_len = 8 + 16 + 2 + int.from_bytes(sealed[24:26], "big")
    header, rest, chunks = sealed[:header_len], sealed[header_len:], []
    while rest:
        size = int.from_bytes(rest[:4], "big")
        chunks.append(rest[: 4 + size])
        rest = rest[4 + size :]
    return header, chunks


def test_encryption_detects_every_kind_of_tampering():
    data = os.urandom(backup.CHUNK * 2 + 1000)  # three chunks
    sealed = _encrypt(data)
    assert _decrypt(sealed) == data
    assert _decrypt(_encrypt(b"")) == b""
    header, chunks = _chunks(sealed)
    assert len(chunks) == 3
    with pytest.raises(backup.WrongPassphraseError, match="wrong passphrase"):
        _decrypt(sealed, "another passphrase entirely")
    flipped = bytearray(sealed)
    flipped[len(header) + 100] ^= 1
    with pytest.raises(backup.WrongPassphraseError):
        _decrypt(bytes(flipped))
    with pytest.raises(backup.WrongPassphraseError, match="reordered"):
        _decrypt(header + chunks[1] + chunks[0] + chunks[2])
    with pytest.raises(backup.WrongPassphraseError, match="truncated"):
        _decrypt(header + chunks[0] + chunks[1])  # the last chunk cut off
    with pytest.raises(backup.WrongPassphraseError, match="truncated"):
        _decrypt(sealed[:-10])
    with pytest.raises(backup.WrongPassphraseError, match="after the end"):
        _decrypt(sealed + b"x")
    _other_header, other_chunks = _chunks(_encrypt(data))
    with pytest.raises(backup.WrongPassphraseError):
        _decrypt(header + chunks[0] + other_chunks[1] + chunks[2])  # spliced from another backup
    with pytest.raises(backup.BackupError, match="not a csirt backup"):
        _decrypt(b"PK\x03\x04 something else")
    with pytest.raises(backup.BackupError, match="header is damaged"):
        _decrypt(backup.MAGIC + b"s" * 16 + (2).to_bytes(2, "big") + b"{}")
    with pytest.raises(backup.WrongPassphraseError, match="damaged"):
        _decrypt(header + (10**8).to_bytes(4, "big"))
    with pytest.raises(backup.BackupError, match="at least 12"):
        _encrypt(b"x", "short")


def test_unusable_sources_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.sqlite_path("sqlite://")
    config = make_config(f"sqlite:///{tmp_path / 'none.sqlite3'}", tmp_path / "i")
    with pytest.raises(backup.BackupError, match="no database"):
        backup.create_backup(config, tmp_path / "x.backup", PASSPHRASE, params=FAST)
    with pytest.raises(backup.BackupError, match="at least 12"):
        backup.create_backup(config, tmp_path / "x.backup", "short", params=FAST)
    assert backup.database_is_empty(config.database_url)
    monkeypatch.setenv("CSIRT_PG_BIN_DIR", str(tmp_path))
    (tmp_path / "pg_dump").write_text("#!/bin/sh\n")
    assert backup.pg_binary("pg_dump") == str(tmp_path / "pg_dump")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(backup, "Path", _NoDebianPath)
    with pytest.raises(backup.BackupError, match="not found"):
        backup.pg_binary("pg_restore")


class _NoDebianPath(type(Path())):  # type: ignore[misc]
    """A Path that pretends /usr/lib/postgresql does not exist."""

    def is_dir(self) -> bool:
        return False if str(self) == "/usr/lib/postgresql" else super().is_dir()


def test_archive_with_unsafe_names_is_refused(tmp_path: Path):
    archive = tmp_path / "evil.backup"
    archive.write_bytes(_sealed_archive({"../escape.txt": b"x"}))
    config = make_config(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", tmp_path / "i")
    with pytest.raises(backup.BackupError, match="unsafe entry"):
        backup.restore_backup(config, archive, PASSPHRASE)
    assert not (tmp_path / "escape.txt").exists()


def _sealed_archive(members: dict[str, bytes]) -> bytes:
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return _encrypt(raw.getvalue())


def test_a_backup_of_one_backend_is_not_restored_into_the_other(tmp_path: Path, database_url: str):
    import hashlib
    import json

    url = _fresh_url(database_url, tmp_path, "csirt_backup_other")
    other = "postgresql" if url.startswith("sqlite") else "sqlite"
    dump = b"not really a database"
    manifest = {
        "backend": other,
        "database": {"name": "database.bin", "sha256": hashlib.sha256(dump).hexdigest()},
        "files": {},
    }
    archive = tmp_path / "other.backup"
    archive.write_bytes(
        _sealed_archive({"manifest.json": json.dumps(manifest).encode(), "database.bin": dump})
    )
    config = make_config(url, tmp_path / "i")
    with pytest.raises(backup.BackupError, match=f"this is a {other} backup"):
        backup.restore_backup(config, archive, PASSPHRASE)
    manifest["database"]["sha256"] = "0" * 64
    archive.write_bytes(
        _sealed_archive({"manifest.json": json.dumps(manifest).encode(), "database.bin": dump})
    )
    with pytest.raises(backup.BackupError, match="does not match its manifest"):
        backup.restore_backup(config, archive, PASSPHRASE)
    manifest["database"]["sha256"] = hashlib.sha256(dump).hexdigest()
    manifest["files"] = {"evidence/x": "0" * 64}
    archive.write_bytes(
        _sealed_archive(
            {
                "manifest.json": json.dumps(manifest).encode(),
                "database.bin": dump,
                "files/evidence/x": b"changed",
            }
        )
    )
    with pytest.raises(backup.BackupError, match="evidence/x does not match"):
        backup.restore_backup(config, archive, PASSPHRASE)


def _fake_tool(folder: Path, name: str, message: str) -> None:
    tool = folder / name
    tool.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    tool.chmod(0o700)


def test_postgres_tool_failures_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    args, env = backup._libpq("postgresql+psycopg://csirt:s3cret@db.internal:5433/csirt")
    assert args == [
        "--dbname",
        "csirt",
        "--host",
        "db.internal",
        "--port",
        "5433",
        "--username",
        "csirt",
    ]
    assert env["PGPASSWORD"] == "s3cret"
    assert "s3cret" not in " ".join(args)  # never on a command line others can read
    _fake_tool(tmp_path, "pg_dump", "connection refused")
    _fake_tool(tmp_path, "pg_restore", "bad archive")
    monkeypatch.setenv("CSIRT_PG_BIN_DIR", str(tmp_path))
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    config = make_config(url, tmp_path / "i")
    with pytest.raises(backup.BackupError, match="pg_dump failed: connection refused"):
        backup.create_backup(config, tmp_path / "x.backup", PASSPHRASE, params=FAST)
    with pytest.raises(backup.BackupError, match="pg_restore failed: bad archive"):
        backup._restore_postgres(tmp_path / "dump", url, force=False)
