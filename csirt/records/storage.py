"""Content-addressed evidence storage: a folder for SQLite installs, the database on PostgreSQL.

A blob's key is derived from its SHA-256 only (``<first two hex>/<sha256>``), never from the
name the client sent. :class:`FileEvidenceStore` keeps the blob under the instance folder (one
node); :class:`csirt.records.blobs.DatabaseEvidenceStore` keeps it in the database in chunks, so
that every node of a PostgreSQL deployment serves it and the database's backups carry it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

CHUNK = 1024 * 1024
KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}$")


class StorageError(Exception):
    """A storage key is malformed or points outside the storage root."""


@dataclass(frozen=True)
class StoredBlob:
    """What was stored: its key, hash and size, and whether this call created the file."""

    key: str
    sha256: str
    size: int
    created: bool


class EvidenceStore(Protocol):
    """Where evidence bytes live."""

    def put(self, stream: IO[bytes]) -> StoredBlob:
        """Store the stream's bytes; return their key, hash and size."""

    def open(self, key: str) -> IO[bytes]:
        """The bytes of ``key`` as a readable file; :class:`FileNotFoundError` if missing."""

    def discard(self, blob: StoredBlob) -> None:
        """Remove a blob that this call created (used when its database row fails)."""


class FileEvidenceStore:
    """Evidence files in a folder, named by their SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _root(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.root.resolve()

    def path(self, key: str) -> Path:
        """The file of ``key``; refuses malformed keys and anything outside the root."""
        if not KEY_RE.fullmatch(key):
            raise StorageError("malformed storage key")
        root = self._root()
        candidate = (root / key).resolve()
        if not candidate.is_relative_to(root):
            raise StorageError("storage key leaves the evidence folder")
        return candidate

    def open(self, key: str) -> IO[bytes]:
        """The stored file of ``key``, opened for reading."""
        return self.path(key).open("rb")

    def put(self, stream: IO[bytes]) -> StoredBlob:
        """Copy the stream to a temporary file while hashing, then move it to its hash's path."""
        root = self._root()
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", dir=root)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            key = f"{sha[:2]}/{sha}"
            target = self.path(key)
            if target.exists():
                # Same bytes already stored: content addressing makes this a no-op.
                os.unlink(tmp_name)
                return StoredBlob(key, sha, size, created=False)
            target.parent.mkdir(exist_ok=True, mode=0o700)
            os.replace(tmp_name, target)
            os.chmod(target, 0o400)
            return StoredBlob(key, sha, size, created=True)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def discard(self, blob: StoredBlob) -> None:
        """Remove the blob's file if this upload created it."""
        if blob.created:
            self.path(blob.key).unlink(missing_ok=True)
