"""Evidence bytes in the database, in 1 MiB chunks: what every node of a deployment can read.

On PostgreSQL this is the evidence store (``store_for``): a blob uploaded through one node is
downloaded through any other, and ``pg_dump`` (hence ``csirt backup``) carries it. Blobs are
content-addressed like the folder store (same keys), written in the uploading request's
transaction (a failed upload leaves nothing) and never held whole in memory: the upload is read
twice chunk by chunk (hash, then write, re-hashed to prove it did not change in between) and a
download is copied chunk by chunk to a temporary file that the response streams.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from csirt.cases.models import Evidence
from csirt.db import Base, utcnow
from csirt.records.storage import (
    CHUNK,
    KEY_RE,
    EvidenceStore,
    FileEvidenceStore,
    StorageError,
    StoredBlob,
)


class EvidenceBlob(Base):
    """One stored blob: its SHA-256 (the key), size and number of chunks."""

    __tablename__ = "evidence_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvidenceChunk(Base):
    """Bytes ``seq * 1 MiB`` to ``(seq + 1) * 1 MiB`` of a blob."""

    __tablename__ = "evidence_chunks"

    sha256: Mapped[str] = mapped_column(
        ForeignKey("evidence_blobs.sha256", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


def _sha_of(key: str) -> str:
    if not KEY_RE.fullmatch(key) or key[:2] != key[3:5]:
        raise StorageError("malformed storage key")
    return key[3:]


class DatabaseEvidenceStore:
    """Evidence blobs in ``evidence_blobs`` / ``evidence_chunks``, in the caller's transaction.

    ``legacy`` is the node's old evidence folder: a blob not yet moved by ``csirt evidence
    migrate`` is still served from it.
    """

    def __init__(self, session: Session, legacy: FileEvidenceStore | None = None) -> None:
        self.session = session
        self.legacy = legacy

    def has(self, sha256: str) -> bool:
        """Whether the database holds the blob of ``sha256``."""
        return self.session.get(EvidenceBlob, sha256) is not None

    def put(self, stream: IO[bytes]) -> StoredBlob:
        """Hash the stream, then (if the blob is new) write it chunk by chunk, re-hashing."""
        with tempfile.SpooledTemporaryFile(max_size=CHUNK) as spool:
            if not stream.seekable():
                while chunk := stream.read(CHUNK):
                    spool.write(chunk)
                spool.seek(0)
                stream = spool
            start = stream.tell()
            digest = hashlib.sha256()
            size = 0
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
            sha = digest.hexdigest()
            key = f"{sha[:2]}/{sha}"
            chunks = -(-size // CHUNK)
            dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
            # A concurrent upload of the same bytes waits on the key, then finds it taken.
            inserted = self.session.execute(
                dialect.insert(EvidenceBlob)
                .values(sha256=sha, size=size, chunks=chunks, created_at=utcnow())
                .on_conflict_do_nothing()
                .returning(EvidenceBlob.sha256)
            ).first()
            if inserted is None:
                return StoredBlob(key, sha, size, created=False)
            stream.seek(start)
            again = hashlib.sha256()
            seq = 0
            while chunk := stream.read(CHUNK):
                again.update(chunk)
                self.session.execute(insert(EvidenceChunk).values(sha256=sha, seq=seq, data=chunk))
                seq += 1
            if again.hexdigest() != sha or seq != chunks:
                raise StorageError("the upload changed while it was stored")
            return StoredBlob(key, sha, size, created=True)

    def open(self, key: str) -> IO[bytes]:
        """The blob copied chunk by chunk into a temporary file (verified against its hash)."""
        sha = _sha_of(key)
        blob = self.session.get(EvidenceBlob, sha)
        if blob is None:
            if self.legacy is not None:
                return self.legacy.open(key)
            raise FileNotFoundError(key)
        out = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
        try:
            digest = hashlib.sha256()
            for seq in range(blob.chunks):
                data = self.session.scalar(
                    select(EvidenceChunk.data).where(
                        EvidenceChunk.sha256 == sha, EvidenceChunk.seq == seq
                    )
                )
                if data is None:
                    raise StorageError(f"chunk {seq} of {sha} is missing")
                digest.update(data)
                out.write(data)
            if digest.hexdigest() != sha:
                raise StorageError(f"the stored bytes of {sha} do not match their hash")
            out.seek(0)
        except BaseException:
            out.close()
            raise
        return out

    def discard(self, blob: StoredBlob) -> None:
        """Nothing to do: the blob's rows were in the transaction that was rolled back."""


@dataclass
class MigrationReport:
    """What ``csirt evidence migrate`` did: blobs moved, already there, missing, corrupt."""

    moved: int = 0
    present: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)


def migrate_folder(session: Session, folder: FileEvidenceStore) -> MigrationReport:
    """Copy every evidence file the rows name into the database, verifying each SHA-256.

    One commit per blob, so an interrupted run resumes where it stopped. A file whose bytes do
    not hash to its row's SHA-256 is not copied and is reported (the folder is left untouched).
    """
    store = DatabaseEvidenceStore(session)
    report = MigrationReport()
    rows = session.execute(
        select(Evidence.storage_key, Evidence.sha256).distinct().order_by(Evidence.storage_key)
    ).all()
    for key, sha in rows:
        if store.has(sha):
            report.present += 1
            continue
        try:
            source = folder.open(key)
        except (FileNotFoundError, StorageError):
            report.missing.append(key)
            continue
        with source:
            blob = store.put(source)
        if blob.sha256 != sha or blob.key != key:
            session.rollback()
            report.corrupt.append(key)
            continue
        session.commit()
        report.moved += 1
    return report


def store_for(session: Session, instance_path: Path) -> EvidenceStore:
    """The database on PostgreSQL (every node sees it), the instance folder on SQLite."""
    folder = FileEvidenceStore(Path(instance_path) / "evidence")
    if session.get_bind().dialect.name == "postgresql":
        return DatabaseEvidenceStore(session, legacy=folder)
    return folder
