"""Every scheduled job takes its advisory lock: a node finding it held skips the round."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from csirt.jobs import lock_id

pytestmark = pytest.mark.postgres_only

JOBS = [
    ("reminders send", ["reminders", "send"]),
    ("reminders digest", ["reminders", "digest"]),
    ("intake purge", ["intake", "purge"]),
    ("audit-review scan", ["audit-review", "scan"]),
    ("webhooks send", ["webhooks", "send"]),
    ("measures remind", ["measures", "remind"]),
]


@pytest.mark.parametrize(("job", "args"), JOBS)
def test_a_job_held_by_another_node_is_skipped(
    job: str, args: list[str], runner: Any, migrated_engine: Engine
) -> None:
    with migrated_engine.connect() as other_node, other_node.begin():
        other_node.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id(job)})
        held = runner.invoke(args=args)
    assert held.exit_code == 0, held.output
    assert f"{job}: another node is running it; skipped" in held.output
    free = runner.invoke(args=args)
    assert free.exit_code == 0, free.output
    assert "skipped" not in free.output


def test_lock_ids_are_stable_and_distinct() -> None:
    assert lock_id("reminders send") == lock_id("reminders send")
    assert len({lock_id(job) for job, _args in JOBS}) == len(JOBS)
