"""search over everything written on a case: the texts table, and a backfill of the index

Revision ID: 0020_search
Revises: 0019
Create Date: 2026-12-06 19:45:00

``case_search_docs`` holds each searchable text of a case (title, summary, ``involved``, notes,
timeline events, data sets, tags, observables, ATT&CK techniques), normalised, with its kind and
record id: the bigrams of ``case_search_terms`` find candidate cases, these rows confirm the
words and name the source.
The upgrade rebuilds both for every case, 500 cases at a time.

The chain: this revision follows 0019 (inventory).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_search"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_search_docs_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_search_docs")),
        sa.UniqueConstraint(
            "case_id", "kind", "source_id", name=op.f("uq_case_search_docs_case_id")
        ),
    )
    from csirt.cases import search

    search.reindex_all(op.get_bind())


def downgrade() -> None:
    op.drop_table("case_search_docs")
