"""hardening: signals of misuse raised from the audit log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("subject_name", sa.String(length=64), nullable=False),
        sa.Column("period_start", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_review_signals_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["users.id"], name=op.f("fk_review_signals_subject_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_signals")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_review_signals_fingerprint")),
    )
    with op.batch_alter_table("review_signals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_signals_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_signals_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_review_signals_subject_id"), ["subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_signals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_signals_subject_id"))
        batch_op.drop_index(batch_op.f("ix_review_signals_status"))
        batch_op.drop_index(batch_op.f("ix_review_signals_kind"))

    op.drop_table("review_signals")
