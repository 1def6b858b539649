"""Scheduled jobs that are safe on every node: one PostgreSQL advisory lock per job.

Every node runs the same timers. A job first takes its transaction-scoped advisory lock
(``pg_try_advisory_xact_lock``); a node that finds it taken skips this round, because another
node is doing the work right now. The lock ends with the job's transaction, so a node that
starts just after sees every send the other recorded (sends are recorded in the transaction,
and the mail leaves only after its commit: ``csirt.notify.service.send_outbox``). On SQLite
(one node) the write transaction already serialises jobs.

A ``csirt`` command runs its job in ``with job_session("<job>") as session:``; a command whose
whole work is one transaction is declared with ``@job_command(group, name)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.orm import Session

from csirt.db import get_db


def lock_id(job: str) -> int:
    """A stable signed 64-bit key for ``job`` (the same on every node and every release)."""
    return int.from_bytes(hashlib.sha256(f"csirt:{job}".encode()).digest()[:8], "big", signed=True)


def try_job_lock(session: Session, job: str) -> bool:
    """Take the job's lock for this transaction; False if another node holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id(job)})
    return bool(taken)


@contextmanager
def job_session(job: str) -> Iterator[Session]:
    """The job's transaction (committed at the end of the block) holding its lock. When another
    node holds the lock, this says so and ends the command here (exit status 0): the block
    and what follows it in the command do not run."""
    with get_db().session() as session:
        if not try_job_lock(session, job):
            click.echo(f"{job}: another node is running it; skipped")
            raise click.exceptions.Exit(0)
        yield session


def job_command(
    group: click.Group, name: str
) -> Callable[[Callable[[Session], str]], click.Command]:
    """Declare the scheduled command ``csirt <group> <name>``: the decorated function does the
    job in the job's transaction (:func:`job_session`, the lock named after the command) and
    returns what the command prints once that transaction is committed."""

    def declare(job: Callable[[Session], str]) -> click.Command:
        def run() -> None:
            with job_session(f"{group.name} {name}") as session:
                said = job(session)
            click.echo(said)

        run.__doc__ = job.__doc__
        return group.command(name)(with_appcontext(run))

    return declare
