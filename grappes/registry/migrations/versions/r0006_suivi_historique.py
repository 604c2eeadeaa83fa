"""Issue 19, two new tables (no change to the others):

- ``suivi_verifications``: history of the « vérification de service régulier »; each
  recording of a tranche's verification is a row, recording it again adds a row instead of
  replacing the date. Existing verifications become the first row of their history.
- ``courriels``: the outbox of e-mail notifications (``grappes.registry.outbox``),
  written in the same transaction as the event, sent later through SMTP.

Self-contained. Written after r0004; the lead
re-chains it after r0005 at merge.

Revision ID: r0006
Revises: r0004
"""

import sqlalchemy as sa
from alembic import op

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suivi_verifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tranche_id", sa.Integer,
                  sa.ForeignKey("suivi_tranches.id", ondelete="CASCADE"), nullable=False),
        sa.Column("signee_le", sa.Date, nullable=False),
        sa.Column("enregistree_le", sa.DateTime, nullable=False),
        sa.Column("enregistree_par", sa.Integer,
                  sa.ForeignKey("comptes.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_suivi_verifications_tranche_id", "suivi_verifications", ["tranche_id"])
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT t.id, t.verifiee_le, t.verifiee_par, g.cree_le FROM suivi_tranches t "
        "JOIN suivi_grappes g ON g.id = t.suivi_id WHERE t.verifiee_le IS NOT NULL")).all()
    for tranche_id, le, par, cree_le in rows:
        bind.execute(sa.text(
            "INSERT INTO suivi_verifications (tranche_id, signee_le, enregistree_le, "
            "enregistree_par) VALUES (:t, :le, :at, :par)"),
            {"t": tranche_id, "le": le, "at": cree_le, "par": par})


    op.create_table(
        "courriels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cree_le", sa.DateTime, nullable=False),
        sa.Column("evenement", sa.String(40), nullable=False),
        sa.Column("cle", sa.String(120), nullable=False, server_default=""),
        sa.Column("destinataire", sa.String(254), nullable=False),
        sa.Column("sujet", sa.Text, nullable=False),
        sa.Column("corps", sa.Text, nullable=False),
        sa.Column("envoye_le", sa.DateTime, nullable=True),
        sa.Column("tentatives", sa.Integer, nullable=False, server_default="0"),
        sa.Column("prochain_essai", sa.DateTime, nullable=True),
        sa.Column("derniere_erreur", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_courriels_cle", "courriels", ["cle"])
    op.create_index("ix_courriels_destinataire", "courriels", ["destinataire"])


def downgrade() -> None:
    op.drop_index("ix_courriels_destinataire", "courriels")
    op.drop_index("ix_courriels_cle", "courriels")
    op.drop_table("courriels")
    op.drop_index("ix_suivi_verifications_tranche_id", "suivi_verifications")
    op.drop_table("suivi_verifications")
