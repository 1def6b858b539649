"""Finding 8: a manifest entry ``../escaped.txt`` in a crafted backup was written where it said.
Driven through the real ``csirt restore`` command on a real (crafted, encrypted) backup."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from csirt import backup, create_app
from csirt.migrate import upgrade
from csirt.vault.kdf import KdfParams
from tests.conftest import make_config

PASSPHRASE = "correct horse battery staple backup"
ABSOLUTE = "/tmp/escaped-abs.txt"  # noqa: S108 (a path the restore must never write)
FAST = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)


def _craft(tmp_path: Path, instance: Path, entries: dict[str, bytes], *, link: str = "") -> Path:
    """A real backup of an empty SQLite database, then its manifest and files replaced."""
    url = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    upgrade(url)
    config = make_config(url, instance)
    made = tmp_path / "made.backup"
    backup.create_backup(config, made, PASSPHRASE, params=FAST)
    plain = io.BytesIO()
    with made.open("rb") as sealed:
        backup.decrypt_stream(sealed, plain, PASSPHRASE)
    plain.seek(0)
    out = io.BytesIO()
    with tarfile.open(fileobj=plain) as original, tarfile.open(fileobj=out, mode="w") as tar:
        manifest = json.loads(original.extractfile("manifest.json").read())  # type: ignore[union-attr]
        for member in original.getmembers():
            if member.name.startswith("files/") or member.name == "manifest.json":
                continue
            tar.addfile(member, original.extractfile(member))
        manifest["files"] = {}
        for rel, data in entries.items():
            manifest["files"][rel] = hashlib.sha256(data).hexdigest()
            # Where the old restore read it from: files/<rel>, normalised (../x is at the top).
            info = tarfile.TarInfo(os.path.normpath("files/" + rel.lstrip("/")))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(f"files/{link}")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
            manifest["files"][link] = hashlib.sha256(b"").hexdigest()
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    crafted = tmp_path / "crafted.backup"
    with crafted.open("wb") as target:
        backup.encrypt_stream(io.BytesIO(out.getvalue()), target, PASSPHRASE, FAST)
    return crafted


def _restore(tmp_path: Path, archive: Path):
    target_url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    app = create_app(make_config(target_url, tmp_path / "target" / "instance"))
    return app.test_cli_runner().invoke(
        args=["restore", str(archive)], env={backup.PASSPHRASE_ENV: PASSPHRASE}
    )


@pytest.mark.parametrize(
    "rel",
    ["../escaped.txt", "evidence/../../escaped.txt", ABSOLUTE, "a\\..\\..\\x.txt"],
)
def test_a_path_outside_the_instance_refuses_the_whole_backup(tmp_path: Path, rel: str):
    archive = _craft(tmp_path, tmp_path / "src", {"evidence/ok.bin": b"fine", rel: b"escaped!"})
    result = _restore(tmp_path, archive)
    assert result.exit_code != 0
    assert any(word in result.output for word in ("manifest", "instance folder", "unsafe"))
    assert not (tmp_path / "target" / "escaped.txt").exists()
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path(ABSOLUTE).exists()
    # Nothing at all was restored: not the good file, not the database.
    assert not (tmp_path / "target" / "instance" / "evidence" / "ok.bin").exists()
    assert not (tmp_path / "target.sqlite3").exists() or backup.database_is_empty(
        f"sqlite:///{tmp_path / 'target.sqlite3'}"
    )


def test_a_link_in_the_instance_folder_is_refused(tmp_path: Path):
    archive = _craft(tmp_path, tmp_path / "src", {"templates/org.docx": b"PK"})
    instance = tmp_path / "target" / "instance"
    instance.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (instance / "templates").symlink_to(outside, target_is_directory=True)
    result = _restore(tmp_path, archive)
    assert result.exit_code != 0
    assert "link" in result.output or "outside the instance folder" in result.output
    assert list(outside.iterdir()) == []


def test_a_link_in_the_backup_is_refused(tmp_path: Path):
    archive = _craft(tmp_path, tmp_path / "src", {}, link="evil")
    result = _restore(tmp_path, archive)
    assert result.exit_code != 0


def test_a_clean_crafted_backup_still_restores(tmp_path: Path):
    archive = _craft(tmp_path, tmp_path / "src", {"evidence/ok.bin": b"fine"})
    result = _restore(tmp_path, archive)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "target" / "instance" / "evidence" / "ok.bin").read_bytes() == b"fine"
