"""The hash chain catches any altered, removed or reordered row."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from csirt.audit import service as audit
from csirt.audit.actions import AuditAction
from csirt.audit.models import AuditEvent, AuditHead

ACTOR = audit.Actor(7, "alice")


def _fill(session: Session, n: int = 5) -> None:
    for i in range(n):
        audit.record(
            session,
            AuditAction.CASE_VIEW,
            actor=ACTOR,
            object_type="case",
            object_id=i,
            case_id=i,
            details={"n": i, "note": "日本語"},
        )
    session.commit()


def test_intact_chain_verifies(db_session: Session):
    _fill(db_session)
    result = audit.verify(db_session)
    assert result.ok
    assert result.checked >= 5


def test_altered_row_is_named(db_session: Session):
    _fill(db_session)
    head = db_session.get(AuditHead, 1)
    target = head.seq - 2
    db_session.execute(update(AuditEvent).where(AuditEvent.seq == target).values(actor="mallory"))
    db_session.commit()
    result = audit.verify(db_session)
    assert not result.ok
    assert result.bad_seq == target
    assert "altered" in result.reason


def test_altered_details_are_caught(db_session: Session):
    _fill(db_session)
    target = db_session.get(AuditHead, 1).seq
    db_session.execute(
        update(AuditEvent).where(AuditEvent.seq == target).values(details={"n": 999})
    )
    db_session.commit()
    assert audit.verify(db_session).bad_seq == target


def test_removed_row_is_named(db_session: Session):
    _fill(db_session)
    target = db_session.get(AuditHead, 1).seq - 1
    db_session.execute(delete(AuditEvent).where(AuditEvent.seq == target))
    db_session.commit()
    result = audit.verify(db_session)
    assert not result.ok
    assert result.bad_seq == target


def test_removed_tail_is_caught(db_session: Session):
    _fill(db_session)
    last = db_session.get(AuditHead, 1).seq
    db_session.execute(delete(AuditEvent).where(AuditEvent.seq == last))
    db_session.commit()
    result = audit.verify(db_session)
    assert not result.ok
    assert result.bad_seq == last


def test_reordered_rows_are_caught(db_session: Session):
    _fill(db_session)
    last = db_session.get(AuditHead, 1).seq
    a, b = last - 1, last - 2
    # Swap two rows' sequence numbers (the content moves, the hashes travel with it).
    db_session.execute(update(AuditEvent).where(AuditEvent.seq == a).values(seq=-1))
    db_session.execute(update(AuditEvent).where(AuditEvent.seq == b).values(seq=a))
    db_session.execute(update(AuditEvent).where(AuditEvent.seq == -1).values(seq=b))
    db_session.commit()
    result = audit.verify(db_session)
    assert not result.ok
    assert result.bad_seq == b


def test_missing_head_is_an_error(db_session: Session):
    db_session.execute(delete(AuditHead))
    with pytest.raises(audit.AuditChainError):
        audit.record(db_session, AuditAction.CASE_VIEW, actor=ACTOR)
    assert not audit.verify(db_session).ok


def test_cli_verify_exits_non_zero_and_names_the_row(runner, db_session: Session):
    _fill(db_session)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    target = db_session.get(AuditHead, 1).seq - 1
    db_session.execute(
        text("UPDATE audit_events SET action = 'tampered' WHERE seq = :s"), {"s": target}
    )
    db_session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert f"row {target}" in bad.output
