"""documents in public-document form: as-of date, persons affected, how counts are stated

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 17:40:00

``cases.persons_total`` is the number of persons affected as the organisation states it (data
sets may overlap: postal voters are among all voters), with ``persons_total_note`` (e.g.
重複を除く). Documents use it when set, instead of the sum of the data sets.

``documents.as_of`` is the date a document speaks as of (chosen by its author): events, measures
and responses after it are left out.

``document_contexts`` gains what the public forms need beyond the records: how each data set's
count is stated and which data set it overlaps (``datasets``), contact overrides, the caution
to residents, disciplinary action, future actions, the reporting body and data holder for the
PPC report and a named contact person; the PPC form's
occurrence (date or period), discovery, medium and direct cause.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Free texts of the PPC form and the press release (see csirt.documents.models.DocumentContext).
TEXTS = (
    "caution",
    "discipline",
    "future_actions",
    "occurrence",
    "discovery",
    "medium",
    "direct_cause",
)


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("persons_total", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "persons_total_note", sa.String(length=200), nullable=False, server_default=""
            )
        )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("as_of", sa.Date(), nullable=True))
    with op.batch_alter_table("document_contexts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("datasets", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("contact", sa.JSON(), nullable=True))
        for name in TEXTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        for name in ("reporter", "data_holder", "contact_person"):
            batch_op.add_column(
                sa.Column(name, sa.String(length=200), nullable=False, server_default="")
            )


def downgrade() -> None:
    with op.batch_alter_table("document_contexts", schema=None) as batch_op:
        for name in (
            "contact_person",
            "data_holder",
            "reporter",
            *reversed(TEXTS),
            "contact",
            "datasets",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("as_of")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("persons_total_note")
        batch_op.drop_column("persons_total")
