"""cases extra: bigram search index, manual checklist ticks, phase/priority index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_search_terms",
        sa.Column("term", sa.String(length=8), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_search_terms_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "case_id", name=op.f("pk_case_search_terms")),
    )
    with op.batch_alter_table("case_search_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_search_terms_case_id"), ["case_id"], unique=False)
    op.create_table(
        "checklist_ticks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=140), nullable=False),
        sa.Column("ticked_by_id", sa.Integer(), nullable=True),
        sa.Column("ticked_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_checklist_ticks_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticked_by_id"], ["users.id"], name=op.f("fk_checklist_ticks_ticked_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_ticks")),
        sa.UniqueConstraint("case_id", "item", name=op.f("uq_checklist_ticks_case_id")),
    )
    with op.batch_alter_table("checklist_ticks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checklist_ticks_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_phase_priority", ["phase", "priority"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_phase_priority")
    with op.batch_alter_table("checklist_ticks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_ticks_case_id"))
    op.drop_table("checklist_ticks")
    with op.batch_alter_table("case_search_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_search_terms_case_id"))
    op.drop_table("case_search_terms")
