"""Fuzzing fixtures: real rows to aim at, a bearer token, row counts, and an example counter.

Every example that reaches the app is counted; the totals per test are printed at the end of the
run (``pytest_terminal_summary``) so CI shows how much fuzzing actually happened.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

import csirt.models  # noqa: F401  (registers every table on the metadata)
from csirt.auth import service as auth_service
from csirt.db import Base
from tests.factories import FACTORY, UserFactory

EXAMPLES: Counter[str] = Counter()

# Tables that may legitimately grow on a refused request: the audit trail records refusals.
GROWS_ON_REFUSAL = frozenset({"audit_events", "audit_head"})


def count_example(name: str) -> None:
    """Count one generated example that was sent to the app."""
    EXAMPLES[name] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how many fuzzing examples ran, in total and per test."""
    if not EXAMPLES:
        return
    terminalreporter.section("fuzzing examples")
    for name, count in sorted(EXAMPLES.items()):
        terminalreporter.write_line(f"{name}: {count}")
    terminalreporter.write_line(f"fuzzing examples run: {sum(EXAMPLES.values())}")


RowCounts = dict[str, int]


def row_counts(connection: Connection) -> RowCounts:
    """Return the number of rows of every table (audit excepted), in one query."""
    tables = [t for name, t in sorted(Base.metadata.tables.items()) if name not in GROWS_ON_REFUSAL]
    query = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    values = connection.execute(query).one()
    return {t.name: int(v) for t, v in zip(tables, values, strict=True)}


def changed(before: RowCounts, after: RowCounts) -> dict[str, tuple[int, int]]:
    """Return the tables whose row count differs."""
    return {k: (before[k], after[k]) for k in before if before[k] != after[k]}


@dataclass
class Targets:
    """Ids of real rows that the generated requests aim at."""

    case_id: int
    document_id: int
    team_id: int
    evidence_id: int
    receipt: str
    token: str
    username: str
    password: str
    totp_seed: str | None


def _json(response: Any, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.text[:500])
    return response.get_json()


def seed_targets(client: FlaskClient, users: UserFactory, db_session: Session) -> Targets:
    """Create a lead/admin with a token, an officer, a case with records, a team, a report."""
    lead = users.create(
        ["admin", "lead", "responder", "custodian", "pr", "auditor"], totp=True, department="総務課"
    )
    users.create(["intake_officer"], keypair=True, department="監査室")
    _token, plain = auth_service.create_token(
        db_session, lead.user, actor=FACTORY, scopes=("read", "write", "export")
    )
    db_session.commit()
    auth = {"Authorization": f"Bearer {plain}"}
    case = _json(
        client.post(
            "/api/v1/cases",
            json={"title": "Voter roll on a rented server", "priority": "P2", "insider": True},
            headers=auth,
        ),
        201,
    )
    case_id = case["id"]
    for path, body in (
        ("timeline", {"occurred_at": "2015-04-01T09:00:00+09:00", "title": "Copied"}),
        ("tasks", {"title": "Preserve the server logs"}),
        ("notes", {"body": "First note"}),
        ("inquiries", {"channel": "phone", "received_on": "2015-06-01", "topic": "leak"}),
    ):
        response = client.post(f"/api/v1/cases/{case_id}/{path}", json=body, headers=auth)
        assert response.status_code == 201, (path, response.text[:500])
    evidence = _json(
        client.post(
            f"/api/v1/cases/{case_id}/evidence",
            data={"kind": "file", "title": "log", "file": (_bytes_io(b"log line\n"), "a.log")},
            headers=auth,
            content_type="multipart/form-data",
        ),
        201,
    )
    document = _json(
        client.post(
            f"/api/v1/cases/{case_id}/documents", json={"kind": "press_release"}, headers=auth
        ),
        201,
    )
    team = _json(
        client.post("/api/v1/teams", json={"name": "On call", "slug": "on-call"}, headers=auth),
        201,
    )
    report = _json(
        client.post("/api/v1/reports", json={"answers": {"what_happened": "名簿が漏れた"}}),
        201,
    )
    return Targets(
        case_id=case_id,
        document_id=document["id"],
        team_id=team["id"],
        evidence_id=evidence["id"],
        receipt=report["receipt"],
        token=plain,
        username=lead.user.username,
        password=lead.password,
        totp_seed=lead.totp_seed,
    )


def _bytes_io(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


@pytest.fixture
def targets(client: FlaskClient, users: UserFactory, db_session: Session) -> Targets:
    return seed_targets(client, users, db_session)


@pytest.fixture
def counts(connection: Connection) -> Callable[[], RowCounts]:
    return lambda: row_counts(connection)
