"""intake escrow: each report's key is also sealed to the organisation intake key

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:00:00

``submissions.escrow_wrap`` holds the submission key sealed to the organisation's public key
(csirt.intake.escrow); NULL in strict mode (CSIRT_INTAKE_ESCROW=off) and for older reports.
The organisation key itself is a row in ``settings`` (public key, private key sealed under a
key kept in a file outside the database), so no other table changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escrow_wrap", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("escrow_wrap")
    op.execute("DELETE FROM settings WHERE key = 'intake.escrow_key'")
