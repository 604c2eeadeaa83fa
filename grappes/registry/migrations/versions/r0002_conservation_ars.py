"""Per-declaration retention period, and grappes submitted to the ARS.

Revision ID: r0002
Revises: r0001

Existing declarations get the default retention (24 months); existing grappes are not
submitted.
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(
            sa.Column("conservation_mois", sa.Integer, nullable=False, server_default="24")
        )
    with op.batch_alter_table("grappes") as batch:
        batch.add_column(
            sa.Column("soumise_ars", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("grappes") as batch:
        batch.drop_column("soumise_ars")
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("conservation_mois")
