"""documents: an approved version keeps what it was approved with (facts, template, digests)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:00:00

An approved export is built from these frozen values, never from today's facts: the serialised
CaseFacts snapshot (tables, timeline, data sets and the document date), the organisation
template in use at approval, and the SHA-256 of the facts and of the approved .docx.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frozen_facts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("frozen_facts_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("frozen_template", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("frozen_docx_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_column("frozen_docx_sha256")
        batch_op.drop_column("frozen_template")
        batch_op.drop_column("frozen_facts_sha256")
        batch_op.drop_column("frozen_facts")
