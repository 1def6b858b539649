"""`csirt backup` / `restore` carry the evidence that lives in the database (PostgreSQL)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from csirt import backup, create_app
from csirt.db import get_db
from csirt.migrate import upgrade
from csirt.records.blobs import DatabaseEvidenceStore
from csirt.records.storage import CHUNK
from csirt.vault.kdf import KdfParams
from tests.conftest import make_config
from tests.test_backup import PASSPHRASE, _fresh_url

FAST = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)


@pytest.mark.postgres_only
def test_backup_and_restore_carry_database_evidence(database_url: str, tmp_path: Path) -> None:
    source_url = _fresh_url(database_url, tmp_path, "csirt_nodes_backup_source")
    target_url = _fresh_url(database_url, tmp_path, "csirt_nodes_backup_target")
    upgrade(source_url)
    source = make_config(source_url, tmp_path / "node-a")
    app = create_app(source)
    data = os.urandom(2 * CHUNK + 99)
    with app.app_context(), get_db(app).session() as session:
        blob = DatabaseEvidenceStore(session).put(io.BytesIO(data))
    get_db(app).engine.dispose()
    archive = tmp_path / "out" / "csirt.backup"
    backup.create_backup(source, archive, PASSPHRASE, params=FAST)
    target = make_config(target_url, tmp_path / "node-b")  # another, empty instance folder
    backup.restore_backup(target, archive, PASSPHRASE)
    restored = create_app(target)
    with (
        restored.app_context(),
        get_db(restored).session() as session,
        DatabaseEvidenceStore(session).open(blob.key) as content,
    ):
        assert content.read() == data
    get_db(restored).engine.dispose()
