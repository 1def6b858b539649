"""law 2026: internal targets beside legal deadlines, deadline kinds, contractor notices

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:00:00

``obligations.due_at`` stays the legal deadline (now after the roll-forward of 確報 past
administrative holidays); ``target_at`` is the organisation's earlier internal target;
``deadline`` says what ``due_at`` is (legal, guidance, internal, window); ``source`` where the
rule was checked. ``case_triage`` records a contractor's notice (who notified whom, when).
``identity_requests.justification`` is the good reason (正当な理由) for identifying a reporter,
stated on its own (searching for a reporter without one is prohibited from 2026-12-01).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target_at", csirt.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("deadline", sa.String(length=16), nullable=False, server_default="legal")
        )
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("case_triage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contractor_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "contractor_notified", sa.String(length=200), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column("contractor_notice_at", csirt.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("identity_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("justification", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_requests", schema=None) as batch_op:
        batch_op.drop_column("justification")
    with op.batch_alter_table("case_triage", schema=None) as batch_op:
        batch_op.drop_column("contractor_notice_at")
        batch_op.drop_column("contractor_notified")
        batch_op.drop_column("contractor_name")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("deadline")
        batch_op.drop_column("target_at")
