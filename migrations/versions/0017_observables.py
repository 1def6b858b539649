"""observables of cases and ATT&CK technique tags

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 19:45:00

``observables`` holds a case's indicators, refanged and normalised; ``value_key`` (SHA-256 of
type and value) makes a value unique per case and its sightings in other cases one index seek
(``ix_observables_value_key_case``). ``attack_tags`` tags a case, or one of its timeline events,
with ATT&CK Enterprise techniques (``ix_attack_tags_technique_case`` serves the case search).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_key", sa.String(length=64), nullable=False),
        sa.Column("hash_algorithm", sa.String(length=8), nullable=True),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("pap", sa.String(length=8), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("ioc", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("first_seen", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_observables_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_observables_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observables")),
        sa.UniqueConstraint("case_id", "value_key", name=op.f("uq_observables_case_id")),
    )
    with op.batch_alter_table("observables", schema=None) as batch_op:
        batch_op.create_index("ix_observables_value_key_case", ["value_key", "case_id"])

    op.create_table(
        "attack_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("technique", sa.String(length=16), nullable=False),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attack_tags_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["timeline_events.id"],
            name=op.f("fk_attack_tags_event_id_timeline_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_attack_tags_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attack_tags")),
        sa.UniqueConstraint(
            "case_id", "event_id", "technique", name=op.f("uq_attack_tags_case_id")
        ),
    )
    with op.batch_alter_table("attack_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attack_tags_case_id"), ["case_id"])
        batch_op.create_index(batch_op.f("ix_attack_tags_event_id"), ["event_id"])
        batch_op.create_index("ix_attack_tags_technique_case", ["technique", "case_id"])


def downgrade() -> None:
    op.drop_table("attack_tags")
    op.drop_table("observables")
