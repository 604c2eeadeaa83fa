"""Initial schema: accounts, sessions, declarations, proposals, invitations, audit.

Revision ID: r0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comptes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("nom", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("mot_de_passe", sa.String(200), nullable=True),
        sa.Column("actif", sa.Boolean, nullable=False),
        sa.Column("echecs", sa.Integer, nullable=False),
        sa.Column("verrouille_jusqu_a", sa.DateTime, nullable=True),
        sa.Column("cree_le", sa.DateTime, nullable=False),
    )
    op.create_table(
        "compte_territoires",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("compte_id", sa.Integer,
                  sa.ForeignKey("comptes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("niveau", sa.String(12), nullable=False),
        sa.Column("code", sa.String(3), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("jeton_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("compte_id", sa.Integer,
                  sa.ForeignKey("comptes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("cree_le", sa.DateTime, nullable=False),
        sa.Column("expire_le", sa.DateTime, nullable=False),
    )
    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("compte_id", sa.Integer,
                  sa.ForeignKey("comptes.id", ondelete="SET NULL"), nullable=True),
        sa.Column("saisie_par", sa.Integer, nullable=True),
        sa.Column("statut", sa.String(12), nullable=False),
        sa.Column("finess_ej", sa.String(9), nullable=False),
        sa.Column("raison_sociale_ej", sa.Text, nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("dui_editeur", sa.Text, nullable=False),
        sa.Column("dui_statut", sa.String(20), nullable=False),
        sa.Column("editeur_segur", sa.Boolean, nullable=True),
        sa.Column("distance_max_km", sa.Float, nullable=True),
        sa.Column("champs_acceptes", sa.JSON, nullable=False),
        sa.Column("partenaires_souhaites", sa.JSON, nullable=False),
        sa.Column("partenaires_refuses", sa.JSON, nullable=False),
        sa.Column("porteur", sa.String(12), nullable=False),
        sa.Column("contact_nom", sa.Text, nullable=True),
        sa.Column("contact_email", sa.Text, nullable=True),
        sa.Column("contact_telephone", sa.Text, nullable=True),
        sa.Column("texte_libre", sa.Text, nullable=True),
        sa.Column("consentement", sa.Boolean, nullable=False),
        sa.Column("consentement_contacts_coordinateur", sa.Boolean, nullable=False),
        sa.Column("consentement_le", sa.DateTime, nullable=True),
        sa.Column("consentement_version", sa.String(20), nullable=False),
        sa.Column("cree_le", sa.DateTime, nullable=False),
        sa.Column("modifie_le", sa.DateTime, nullable=False),
        sa.Column("retiree_le", sa.DateTime, nullable=True),
        sa.Column("effacee_le", sa.DateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_declarations_departement", "declarations", ["departement"])
    op.create_index("ix_declarations_compte", "declarations", ["compte_id"])
    op.create_table(
        "declaration_esms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("declaration_id", sa.Integer,
                  sa.ForeignKey("declarations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("finess_et", sa.String(9), nullable=False),
        sa.Column("raison_sociale", sa.Text, nullable=False),
        sa.Column("champ", sa.String(10), nullable=False),
        sa.Column("categorie", sa.String(3), nullable=False),
        sa.Column("commune", sa.String(5), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
    )
    op.create_index("ix_declaration_esms_declaration", "declaration_esms", ["declaration_id"])
    op.create_table(
        "appariements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cree_par", sa.Integer, nullable=True),
        sa.Column("cree_le", sa.DateTime, nullable=False),
        sa.Column("territoire", sa.JSON, nullable=False),
        sa.Column("regles", sa.String(100), nullable=False),
        sa.Column("etablissements", sa.JSON, nullable=False),
        sa.Column("non_places", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "grappes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("appariement_id", sa.Integer,
                  sa.ForeignKey("appariements.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("champ", sa.String(10), nullable=False),
        sa.Column("departements", sa.JSON, nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("statut", sa.String(24), nullable=False),
        sa.Column("porteur_ej", sa.String(9), nullable=False),
        sa.Column("total", sa.Float, nullable=True),
        sa.Column("regles_enfreintes", sa.JSON, nullable=False),
        sa.Column("avertissements", sa.JSON, nullable=False),
        sa.Column("constituee_le", sa.DateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "grappe_membres",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("grappe_id", sa.Integer,
                  sa.ForeignKey("grappes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("declaration_id", sa.Integer,
                  sa.ForeignKey("declarations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("finess_ej", sa.String(9), nullable=False),
        sa.Column("esms", sa.JSON, nullable=False),
    )
    op.create_index("ix_grappe_membres_grappe", "grappe_membres", ["grappe_id"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("grappe_id", sa.Integer,
                  sa.ForeignKey("grappes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("declaration_id", sa.Integer,
                  sa.ForeignKey("declarations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("statut", sa.String(12), nullable=False),
        sa.Column("origine", sa.String(14), nullable=False),
        sa.Column("envoyee_le", sa.DateTime, nullable=False),
        sa.Column("repondue_le", sa.DateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_invitations_declaration", "invitations", ["declaration_id"])
    op.create_index("ix_invitations_grappe", "invitations", ["grappe_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("le", sa.DateTime, nullable=False),
        sa.Column("compte_id", sa.Integer, nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("cible", sa.String(40), nullable=False),
        sa.Column("cible_id", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_le", "audit", ["le"])


def downgrade() -> None:
    for table in ("audit", "invitations", "grappe_membres", "grappes", "appariements",
                  "declaration_esms", "declarations", "sessions", "compte_territoires",
                  "comptes"):
        op.drop_table(table)
