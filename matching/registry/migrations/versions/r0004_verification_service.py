"""« Vérification de service régulier » of a usage tranche (004, issue 14): whether the
tranche needs it (copied from the rule set when the grappe is recorded, like its label and
delays), the date it was signed and the account that recorded it.

Existing tranches get the flag from the rule file their grappe names (a rule file that no
longer loads leaves them without the check, as before this revision).

Revision ID: r0004
Revises: r0003
"""

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


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
    from matching.programme.rules import RulesError, load_rules

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT t.id, t.rang, g.regles FROM suivi_tranches t "
        "JOIN suivi_grappes g ON g.id = t.suivi_id WHERE t.declencheur = 'cibles_usage'"))
    needs = []
    for tranche_id, rang, regles in rows:
        try:
            schedule = load_rules(regles).schedule
        except (RulesError, OSError, ValueError):
            continue
        if 0 < rang <= len(schedule) and schedule[rang - 1].service_check:
            needs.append(tranche_id)
    for tranche_id in needs:
        bind.execute(sa.text("UPDATE suivi_tranches SET verification_requise = :v "
                             "WHERE id = :id"), {"v": True, "id": tranche_id})


def downgrade() -> None:
    with op.batch_alter_table("suivi_tranches") as batch:
        batch.drop_constraint("fk_suivi_tranches_verifiee_par", type_="foreignkey")
        batch.drop_column("verifiee_par")
        batch.drop_column("verifiee_le")
        batch.drop_column("verification_requise")
