"""personal-data inventory (個人情報ファイル簿) and the public follow-up of measures

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 19:29:08

``inventory_files`` (with ``inventory_places``: the systems and media where a file lives, one
row each so that "every file on 選挙システム" is an index hit), ``inventory_overlaps`` (persons
in two files), ``inventory_file_versions`` (history of changes) and ``inventory_dataset_links``
(a case's data set taken from a file, with the count's date).

``measure_public_updates``: what the public follow-up page says about a measure, proposed by a
lead and shown only once a second lead approved it; ``measure_publications``: the cases whose
measures are published, under a public title.

Follows 0018 (alerts).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import csirt.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("persons_estimated", sa.Boolean(), nullable=False),
        sa.Column("counted_on", sa.Date(), nullable=True),
        sa.Column("take_out", sa.String(length=300), nullable=False),
        sa.Column("retention", sa.String(length=200), nullable=False),
        sa.Column("register_ref", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_files")),
    )
    with op.batch_alter_table("inventory_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inventory_files_holder"), ["holder"], unique=False)
        batch_op.create_index("ix_inventory_files_name", ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inventory_files_register_ref"), ["register_ref"], unique=False
        )

    op.create_table(
        "inventory_file_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_inventory_file_versions_changed_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["inventory_files.id"],
            name=op.f("fk_inventory_file_versions_file_id_inventory_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_file_versions")),
    )
    with op.batch_alter_table("inventory_file_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_file_versions_file", ["file_id", "number"], unique=False
        )

    op.create_table(
        "inventory_overlaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_a_id", sa.Integer(), nullable=False),
        sa.Column("file_b_id", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("file_a_id < file_b_id", name=op.f("ck_inventory_overlaps_ordered")),
        sa.ForeignKeyConstraint(
            ["file_a_id"],
            ["inventory_files.id"],
            name=op.f("fk_inventory_overlaps_file_a_id_inventory_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_b_id"],
            ["inventory_files.id"],
            name=op.f("fk_inventory_overlaps_file_b_id_inventory_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_overlaps")),
        sa.UniqueConstraint("file_a_id", "file_b_id", name=op.f("uq_inventory_overlaps_file_a_id")),
    )
    with op.batch_alter_table("inventory_overlaps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventory_overlaps_file_a_id"), ["file_a_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inventory_overlaps_file_b_id"), ["file_b_id"], unique=False
        )

    op.create_table(
        "inventory_places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["inventory_files.id"],
            name=op.f("fk_inventory_places_file_id_inventory_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_places")),
        sa.UniqueConstraint("file_id", "system", name=op.f("uq_inventory_places_file_id")),
    )
    with op.batch_alter_table("inventory_places", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inventory_places_system"), ["system"], unique=False)

    op.create_table(
        "measure_publications",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_measure_publications_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_measure_publications_published_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_measure_publications")),
    )
    op.create_table(
        "inventory_dataset_links",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("counted_on", sa.Date(), nullable=True),
        sa.Column("created_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_inventory_dataset_links_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["affected_datasets.id"],
            name=op.f("fk_inventory_dataset_links_dataset_id_affected_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["inventory_files.id"],
            name=op.f("fk_inventory_dataset_links_file_id_inventory_files"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_inventory_dataset_links")),
    )
    with op.batch_alter_table("inventory_dataset_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventory_dataset_links_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inventory_dataset_links_file_id"), ["file_id"], unique=False
        )

    op.create_table(
        "measure_public_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", csirt.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", csirt.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_measure_public_updates_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["prevention_measures.id"],
            name=op.f("fk_measure_public_updates_measure_id_prevention_measures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["users.id"],
            name=op.f("fk_measure_public_updates_proposed_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_public_updates")),
    )
    with op.batch_alter_table("measure_public_updates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_measure_public_updates_measure", ["measure_id", "decision", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("measure_public_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_measure_public_updates_measure")

    op.drop_table("measure_public_updates")
    with op.batch_alter_table("inventory_dataset_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_dataset_links_file_id"))
        batch_op.drop_index(batch_op.f("ix_inventory_dataset_links_case_id"))

    op.drop_table("inventory_dataset_links")
    op.drop_table("measure_publications")
    with op.batch_alter_table("inventory_places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_places_system"))

    op.drop_table("inventory_places")
    with op.batch_alter_table("inventory_overlaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_overlaps_file_b_id"))
        batch_op.drop_index(batch_op.f("ix_inventory_overlaps_file_a_id"))

    op.drop_table("inventory_overlaps")
    with op.batch_alter_table("inventory_file_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_file_versions_file")

    op.drop_table("inventory_file_versions")
    with op.batch_alter_table("inventory_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_files_register_ref"))
        batch_op.drop_index("ix_inventory_files_name")
        batch_op.drop_index(batch_op.f("ix_inventory_files_holder"))

    op.drop_table("inventory_files")
