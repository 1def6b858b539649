"""Issue 13, findings 6 and 7: purge leaves nothing; database files are private.

A report sent through the API, expired and purged with ``csirt intake purge``: no byte of its
sealed answers, its receipt lookup or its key wraps is left in the SQLite file, its WAL or its
shared-memory file. The database file is 0600 in a 0700 folder.
"""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from csirt import create_app
from csirt.db import get_db, utcnow
from csirt.intake.models import Submission, SubmissionKeyWrap
from csirt.migrate import upgrade
from tests.conftest import make_config
from tests.factories import UserFactory


@pytest.mark.sqlite_only
def test_purge_leaves_no_copy_in_any_database_file(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    database = folder / "purge.sqlite3"
    url = f"sqlite:///{database}"
    upgrade(url)
    app = create_app(make_config(url, tmp_path / "instance"), interface="all")
    db = get_db(app)
    with db.session() as session:
        UserFactory(session, app.extensions["csirt.hashing"]).create(
            ["intake_officer"], keypair=True
        )
        session.commit()
    client = app.test_client()
    for _ in range(3):
        sent = client.post("/api/v1/reports", json={"answers": {"what_happened": "x" * 400}})
        assert sent.status_code == 201
    with db.session() as session:
        rows = session.scalars(select(Submission)).all()
        secrets = [bytes(r.answers_sealed) for r in rows] + [bytes(r.lookup) for r in rows]
        secrets += [bytes(w.wrapped) for w in session.scalars(select(SubmissionKeyWrap))]
        session.execute(update(Submission).values(expires_at=utcnow() - timedelta(days=1)))
        session.commit()

    def files() -> bytes:
        return b"".join(
            Path(f"{database}{suffix}").read_bytes()
            for suffix in ("", "-wal", "-shm", "-journal")
            if Path(f"{database}{suffix}").exists()
        )

    assert any(secret in files() for secret in secrets)  # before: there they are
    result = app.test_cli_runner().invoke(args=["intake", "purge"])
    assert result.exit_code == 0, result.output
    assert "deleted: 3" in result.output
    assert "WAL checkpointed" in result.output
    leftover = files()
    for secret in secrets:
        assert secret not in leftover
    # Private files: the database 0600 (its WAL and shm inherit it) in a 0700 folder.
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{database}{suffix}")
        if companion.exists():
            assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0
    db.engine.dispose()
