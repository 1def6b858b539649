"""triage: runs, case triage state (priority override), obligations, deadline feed tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_triage_runs_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_triage_runs_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_runs")),
    )
    with op.batch_alter_table("triage_runs", schema=None) as batch_op:
        batch_op.create_index("ix_triage_runs_case_id_id", ["case_id", "id"], unique=False)

    op.create_table(
        "case_triage",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("computed_priority", sa.String(length=2), nullable=True),
        sa.Column("computed_score", sa.Integer(), nullable=True),
        sa.Column("override_priority", sa.String(length=2), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("override_by_id", sa.Integer(), nullable=True),
        sa.Column("override_at", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_triage_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["override_by_id"], ["users.id"], name=op.f("fk_case_triage_override_by_id_users")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_triage")),
    )

    op.create_table(
        "obligations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("regime", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("article", sa.String(length=200), nullable=False),
        sa.Column("basis_ja", sa.Text(), nullable=False),
        sa.Column("basis_en", sa.Text(), nullable=False),
        sa.Column("reason_ja", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("checked", sa.Date(), nullable=True),
        sa.Column("due_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_obligations_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"], ["users.id"], name=op.f("fk_obligations_done_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.UniqueConstraint("case_id", "kind", name=op.f("uq_obligations_case_id")),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index("ix_obligations_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "deadline_feed_tokens",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_deadline_feed_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_deadline_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_deadline_feed_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("deadline_feed_tokens")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index("ix_obligations_status_due_at")
    op.drop_table("obligations")
    op.drop_table("case_triage")
    with op.batch_alter_table("triage_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_triage_runs_case_id_id")
    op.drop_table("triage_runs")
