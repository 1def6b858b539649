"""machine alerts and outgoing webhooks

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 19:40:00

``alerts`` holds one row per ``(source, source_ref)`` (unique: a repeat from the SIEM counts the
alert instead of adding one, also when two requests race), with the observables it carried.
``webhooks`` are the admin's outgoing hooks (signing secret sealed with a key derived from
CSIRT_SECRET_KEY); ``webhook_deliveries`` is each event per hook, unique per event key, with
its attempts and next attempt (exponential back-off).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _user(table: str, column: str) -> sa.Column[int]:
    """A nullable reference to a staff member."""
    fk = sa.ForeignKey("users.id", name=f"fk_{table}_{column}_users")
    return sa.Column(column, sa.Integer(), fk, nullable=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_ref", sa.String(255), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("occurred_at", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_seen", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("observables", sa.JSON(), nullable=False),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("cases.id", name="fk_alerts_case_id_cases", ondelete="SET NULL"),
            nullable=True,
        ),
        _user("alerts", "raised_by_id"),
        _user("alerts", "decided_by_id"),
        sa.Column("decided_at", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ignore_reason", sa.String(500), nullable=False),
        sa.UniqueConstraint("source", "source_ref", name="uq_alerts_source"),
    )
    op.create_index("ix_alerts_status_id", "alerts", ["status", "id"])
    op.create_index("ix_alerts_case_id", "alerts", ["case_id"])

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("max_tlp", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _user("webhooks", "created_by_id"),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "webhook_id",
            sa.Integer(),
            sa.ForeignKey(
                "webhooks.id", name="fk_webhook_deliveries_webhook_id_webhooks", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("event_key", sa.String(160), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=False),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("webhook_id", "event_key", name="uq_webhook_deliveries_webhook_id"),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_id_id", "webhook_deliveries", ["webhook_id", "id"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_index("ix_alerts_case_id", table_name="alerts")
    op.drop_index("ix_alerts_status_id", table_name="alerts")
    op.drop_table("alerts")
