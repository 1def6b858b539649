"""record versions: earlier versions and soft-deleted case records, one table for every kind

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06 18:05:00

``record_versions`` keeps the previous version of a timeline event (and, later, of other case
records) on every edit, who made the change, when and why. A deletion moves the record here
(``change = 'delete'``); a lead's restore puts it back with the same id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_record_versions_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_record_versions_changed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_versions")),
    )
    with op.batch_alter_table("record_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_versions_record", ["kind", "record_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_record_versions_case", ["case_id", "kind", "change"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("record_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_record_versions_case")
        batch_op.drop_index("ix_record_versions_record")
    op.drop_table("record_versions")
