"""« Vérification de service régulier » of a usage tranche (004, issue 14): whether the
tranche needs it (copied from the rule set when the grappe is recorded, like its label and
delays), the date it was signed and the account that recorded it.

Existing tranches get the flag from the rule set their grappe names, as the bundled rule
files said when this revision was written (``SERVICE_CHECK``, copied here: a migration must
give the same result whatever the live rule code becomes, so it imports none of it). A grappe
recorded under another rule set (a custom file) keeps its tranches without the check, as
before this revision.

Revision ID: r0004
Revises: r0003
"""

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

#: Bundled rule set -> ranks (1-based) of its usage tranches that need the « vérification de
#: service régulier », from data/rules/*.toml at r0004 (``verification_service_regulier``):
#: only the 2022 generalisation's second tranche; the 2021 seed funding calls need none.
SERVICE_CHECK: dict[str, frozenset[int]] = {
    "generalisation-2022": frozenset({2}),
    "amorcage-t1-2021": frozenset(),
    "amorcage-t2-2021": frozenset(),
}


def upgrade() -> None:
    with op.batch_alter_table("suivi_tranches") as batch:
        batch.add_column(sa.Column("verification_requise", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("verifiee_le", sa.Date, nullable=True))
        batch.add_column(sa.Column("verifiee_par", sa.Integer,
                                   sa.ForeignKey("comptes.id", ondelete="SET NULL",
                                                 name="fk_suivi_tranches_verifiee_par"),
                                   nullable=True))
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT t.id, t.rang, g.regles FROM suivi_tranches t "
        "JOIN suivi_grappes g ON g.id = t.suivi_id WHERE t.declencheur = 'cibles_usage'"))
    needs = [tranche_id for tranche_id, rang, regles in rows
             if rang in SERVICE_CHECK.get(regles, frozenset())]
    for tranche_id in needs:
        bind.execute(sa.text("UPDATE suivi_tranches SET verification_requise = :v "
                             "WHERE id = :id"), {"v": True, "id": tranche_id})


def downgrade() -> None:
    with op.batch_alter_table("suivi_tranches") as batch:
        batch.drop_constraint("fk_suivi_tranches_verifiee_par", type_="foreignkey")
        batch.drop_column("verifiee_par")
        batch.drop_column("verifiee_le")
        batch.drop_column("verification_requise")
