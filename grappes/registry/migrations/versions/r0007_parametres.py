"""Issue 19, item 4: ``parametres``, a small key/value table of the registry's settings.

Its first key is ``finess``: the FINESS file given at ``grappes registre init --finess
FICHIER``, so that the registry (CLI and pages) finds it without any environment variable
(``grappes.registry.finess_source``). Self-contained (no import of the live code).

Revision ID: r0007
Revises: r0006
"""

import sqlalchemy as sa
from alembic import op

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parametres",
        sa.Column("cle", sa.String(60), primary_key=True),
        sa.Column("valeur", sa.Text, nullable=False),
        sa.Column("modifie_le", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("parametres")
