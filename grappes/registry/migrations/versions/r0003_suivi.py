"""Follow-up after funding (issue 14): funded grappes, members, tranches, porteurs, monthly
indicators. Tables described by ``grappes.registry.suivi_tables``.

Revision ID: r0003
Revises: r0002
"""

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suivi_grappes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("regles", sa.String(100), nullable=False),
        sa.Column("perimetre", sa.String(10), nullable=True),
        sa.Column("signature", sa.Date, nullable=False),
        sa.Column("region", sa.String(3), nullable=False, index=True),
        sa.Column("porteur_ej", sa.String(9), nullable=False),
        sa.Column("porteur_nom", sa.Text, nullable=False),
        sa.Column("montant_total", sa.Float, nullable=False),
        sa.Column("registre_grappe_id", sa.Integer,
                  sa.ForeignKey("grappes.id", ondelete="SET NULL"), nullable=True),
        sa.Column("cree_le", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "suivi_membres",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("suivi_id", sa.Integer,
                  sa.ForeignKey("suivi_grappes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("finess_et", sa.String(9), nullable=False),
        sa.Column("raison_sociale", sa.Text, nullable=False),
        sa.Column("finess_ej", sa.String(9), nullable=False),
        sa.Column("type_projet", sa.String(20), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
    )
    op.create_table(
        "suivi_tranches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("suivi_id", sa.Integer,
                  sa.ForeignKey("suivi_grappes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rang", sa.Integer, nullable=False),
        sa.Column("libelle", sa.Text, nullable=False),
        sa.Column("part", sa.Float, nullable=False),
        sa.Column("montant", sa.Float, nullable=False),
        sa.Column("declencheur", sa.String(20), nullable=False),
        sa.Column("delai_acquisition_mois", sa.Integer, nullable=True),
        sa.Column("delai_conformite_mois", sa.Integer, nullable=True),
        sa.Column("jalon_le", sa.Date, nullable=True),
        sa.Column("versee_le", sa.Date, nullable=True),
    )
    op.create_table(
        "suivi_porteurs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("suivi_id", sa.Integer,
                  sa.ForeignKey("suivi_grappes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("compte_id", sa.Integer,
                  sa.ForeignKey("comptes.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_table(
        "suivi_indicateurs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("suivi_id", sa.Integer,
                  sa.ForeignKey("suivi_grappes.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("finess_et", sa.String(9), nullable=False),
        sa.Column("mois", sa.Date, nullable=False),
        sa.Column("personnes_accompagnees", sa.Integer, nullable=False),
        sa.Column("messages_mssante", sa.Integer, nullable=False),
        sa.Column("dmp_alimentes", sa.Integer, nullable=False),
        sa.Column("dossiers_actifs", sa.Integer, nullable=False),
        sa.Column("dossiers_projet_personnalise", sa.Integer, nullable=False),
        sa.Column("dossiers_evenement", sa.Integer, nullable=False),
        sa.Column("saisi_le", sa.DateTime, nullable=False),
        sa.Column("saisi_par", sa.Integer, nullable=True),
        sa.UniqueConstraint("suivi_id", "finess_et", "mois"),
    )


def downgrade() -> None:
    for table in ("suivi_indicateurs", "suivi_porteurs", "suivi_tranches", "suivi_membres",
                  "suivi_grappes"):
        op.drop_table(table)
