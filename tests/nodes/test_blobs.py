"""Evidence in the database: chunked, content-addressed, verified; `csirt evidence migrate`."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from csirt.db import get_db
from csirt.ratelimit import BudgetCounter, SharedBudget, budget_for
from csirt.records import service
from csirt.records import validation as v
from csirt.records.blobs import DatabaseEvidenceStore, EvidenceBlob, EvidenceChunk, store_for
from csirt.records.storage import CHUNK, FileEvidenceStore, StorageError
from tests.factories import CaseFactory, UserFactory


class OneWay(io.RawIOBase):
    """A stream that cannot seek (as a socket), read in small pieces."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece = self.inner.read(min(len(buffer), 65536))
        buffer[: len(piece)] = piece
        return len(piece)


def test_put_and_open_in_chunks_deduplicated(db_session: Session) -> None:
    store = DatabaseEvidenceStore(db_session)
    data = os.urandom(2 * CHUNK + 12345)
    sha = hashlib.sha256(data).hexdigest()
    first = store.put(io.BytesIO(data))
    assert (first.key, first.sha256, first.size, first.created) == (
        f"{sha[:2]}/{sha}",
        sha,
        len(data),
        True,
    )
    chunks = db_session.scalars(
        select(func.length(EvidenceChunk.data)).where(EvidenceChunk.sha256 == sha)
    ).all()
    assert sorted(chunks) == [12345, CHUNK, CHUNK]
    with store.open(first.key) as content:
        assert content.read() == data
    again = store.put(OneWay(data))  # type: ignore[arg-type]
    assert again.key == first.key
    assert not again.created
    assert db_session.scalar(select(func.count()).select_from(EvidenceChunk)) == 3


def test_keys_are_checked_and_missing_blobs_are_not_found(db_session: Session, tmp_path) -> None:
    store = DatabaseEvidenceStore(db_session)
    for key in ("../../etc/passwd", "ab/" + "0" * 63, "cd/ab" + "0" * 62, ""):
        with pytest.raises(StorageError):
            store.open(key)
    with pytest.raises(FileNotFoundError):
        store.open("ab/ab" + "0" * 62)
    # A blob not yet migrated is still served from the node's old folder.
    legacy = FileEvidenceStore(tmp_path / "evidence")
    blob = legacy.put(io.BytesIO(b"old file"))
    with DatabaseEvidenceStore(db_session, legacy=legacy).open(blob.key) as content:
        assert content.read() == b"old file"


def test_altered_bytes_are_refused(db_session: Session) -> None:
    store = DatabaseEvidenceStore(db_session)
    blob = store.put(io.BytesIO(b"original evidence"))
    db_session.execute(
        update(EvidenceChunk).where(EvidenceChunk.sha256 == blob.sha256).values(data=b"forged")
    )
    with pytest.raises(StorageError):
        store.open(blob.key)


def test_the_backend_chooses_the_store(app: Flask, db_session: Session) -> None:
    store = store_for(db_session, app.config["CSIRT"].instance_path)
    postgres = db_session.get_bind().dialect.name == "postgresql"
    assert isinstance(store, DatabaseEvidenceStore if postgres else FileEvidenceStore)


@pytest.mark.postgres_only
def test_migrate_moves_files_and_verifies_every_hash(
    app: Flask, db_session: Session, users: UserFactory, cases: CaseFactory, runner: Any
) -> None:
    """Files uploaded when evidence lived in the folder move into the database, hash-checked."""
    folder = FileEvidenceStore(app.config["CSIRT"].instance_path / "evidence")
    actor = users.create(roles=["lead"]).user
    case = cases.create(actor=actor)
    plain = v.EvidenceInput("file", "", "", None, None)
    good = os.urandom(CHUNK + 7)
    row, _blob = service.add_evidence(
        db_session, folder, case, actor, plain, io.BytesIO(good), "good.bin"
    )
    bad_row, bad_blob = service.add_evidence(
        db_session, folder, case, actor, plain, io.BytesIO(b"will be altered"), "bad.bin"
    )
    db_session.flush()
    target = folder.path(bad_blob.key)
    target.chmod(0o600)
    target.write_bytes(b"altered on disk")
    result = runner.invoke(args=["evidence", "migrate"])
    assert result.exit_code == 1, result.output
    assert "1 moved into the database" in result.output
    assert "1 not matching their SHA-256" in result.output
    assert db_session.get(EvidenceBlob, bad_row.sha256) is None
    store = DatabaseEvidenceStore(db_session)  # no folder: the bytes come from the database
    with store.open(row.storage_key) as content:
        assert content.read() == good
    again = runner.invoke(args=["evidence", "migrate"])
    assert "0 moved into the database, 1 already there" in again.output


@pytest.mark.postgres_only
def test_a_shared_budget_counts_in_the_database(app: Flask, db_session: Session) -> None:
    now = [1_000_000.0]
    budgets = [
        SharedBudget("test.budget", 2, 60, lambda: get_db(app).sessionmaker(), clock=lambda: now[0])
        for _node in range(2)
    ]
    assert budgets[0].spend()
    assert budgets[1].spend()
    assert not budgets[0].spend()  # two "nodes", one budget
    assert not budgets[1].spend()
    now[0] += 60
    assert budgets[1].spend()
    now[0] += 120
    assert budgets[0].spend()
    rows = db_session.scalars(
        select(BudgetCounter.bucket).where(BudgetCounter.name == "test.budget")
    )
    assert list(rows) == [int(now[0] // 60)]  # older buckets are dropped
    assert isinstance(budget_for(app, "x", 1, 60), SharedBudget)
