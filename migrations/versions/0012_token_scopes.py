"""API token scopes (read, write, export) and the lockout notice

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 17:20:00

``api_tokens.scopes`` holds the token's scopes separated by spaces (``read``, ``write``,
``export``). Tokens created before this revision get ``read write``: they keep working for
reading and changing data, but exports (``.docx``, ``timeline.csv``) need a new token created
with the ``export`` scope after a fresh re-authentication.

``users.lockout_notice_at`` is when the account was last locked by failed sign-ins (password
or second factor) and the user has not been told yet: the next sign-in shows the notice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.String(length=64), nullable=False, server_default="read write")
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lockout_notice_at", csirt.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("lockout_notice_at")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scopes")
