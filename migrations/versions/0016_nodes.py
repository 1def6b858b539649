"""several nodes on one database: evidence blobs and global budgets in the database

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 18:10:00

``evidence_blobs`` / ``evidence_chunks`` hold evidence bytes in 1 MiB chunks, keyed by their
SHA-256 (the same keys as the ``instance/evidence`` folder), so that every node of a PostgreSQL
deployment serves them and the database's backups carry them. ``csirt evidence migrate`` moves
existing files in, verifying every hash.

``budget_counters`` counts the global budgets (intake submissions, mailbox lookups) per name
and time bucket, shared by every node (no client identifier).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "evidence_chunks",
        sa.Column(
            "sha256",
            sa.String(64),
            sa.ForeignKey("evidence_blobs.sha256", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )

    op.create_table(
        "budget_counters",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("bucket", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("used", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("budget_counters")
    op.drop_table("evidence_chunks")
    op.drop_table("evidence_blobs")
