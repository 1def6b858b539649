"""Content-addressed evidence storage: paths come from the hash and stay inside the root."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from csirt.records.storage import FileEvidenceStore, StorageError


def test_put_is_content_addressed_and_deduplicated(tmp_path: Path):
    store = FileEvidenceStore(tmp_path / "evidence")
    data = b"%PDF-1.4 evidence" * 1000
    first = store.put(io.BytesIO(data))
    sha = hashlib.sha256(data).hexdigest()
    assert first.sha256 == sha
    assert first.size == len(data)
    assert first.created
    assert first.key == f"{sha[:2]}/{sha}"
    assert store.path(first.key).read_bytes() == data
    again = store.put(io.BytesIO(data))
    assert again.key == first.key
    assert not again.created
    store.discard(again)  # not created by this call: kept
    assert store.path(first.key).exists()
    store.discard(first)
    assert not store.path(first.key).exists()
    # No temporary files are left behind.
    assert [p.name for p in (tmp_path / "evidence").iterdir() if p.is_file()] == []


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "/etc/passwd", "ab/../../x", "ab/" + "0" * 63, "AB/" + "a" * 64, ""],
)
def test_malformed_or_escaping_keys_are_refused(tmp_path: Path, key: str):
    store = FileEvidenceStore(tmp_path / "evidence")
    with pytest.raises(StorageError):
        store.path(key)


def test_symlinked_prefix_cannot_leave_the_root(tmp_path: Path):
    store = FileEvidenceStore(tmp_path / "evidence")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "ab").symlink_to(outside)
    with pytest.raises(StorageError):
        store.path("ab/" + "ab" * 32)


def test_a_failing_stream_leaves_no_file(tmp_path: Path):
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("disk gone")

    store = FileEvidenceStore(tmp_path / "evidence")
    with pytest.raises(OSError, match="disk gone"):
        store.put(Broken())
    assert list((tmp_path / "evidence").iterdir()) == []
