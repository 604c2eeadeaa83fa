"""Who speaks for an OG (issue 18): attachments of accounts to OGs, and the invariants the
database itself enforces.

- ``rattachements``: one row per (account, FINESS EJ): requested, approved, refused or
  revoked, with who decided and when. Existing declarations are taken over as approved
  attachments of their owner (``origine = 'reprise'``): two accounts already declaring the
  same OG therefore come out as a contested claim, for the coordinator to settle.
- ``declarations.grappe_engagee_id``: the one grappe in progress (invitations sent,
  accepted) or constituted that a declaration belongs to; set by a conditional ``UPDATE``
  so that two transactions cannot engage it twice.
- ``declarations.cle_import``: the key of an imported declaration (EJ, ET, field, contact),
  unique among active declarations: a re-import finds the same declaration, and two
  concurrent imports of one file cannot both insert it.
- ``comptes.premier_admin``: true on the first admin only, unique: two concurrent
  "first admin" creations cannot both succeed.
- ``comptes.derniere_connexion``: the retention of accounts counts from it.

Self-contained: no import of the application's code.

Revision ID: r0005
Revises: r0004
"""

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rattachements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("compte_id", sa.Integer,
                  sa.ForeignKey("comptes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("finess_ej", sa.String(9), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("statut", sa.String(12), nullable=False),
        sa.Column("origine", sa.String(12), nullable=False),
        sa.Column("demande_le", sa.DateTime, nullable=False),
        sa.Column("decide_le", sa.DateTime, nullable=True),
        sa.Column("decide_par", sa.Integer, nullable=True),
        sa.UniqueConstraint("compte_id", "finess_ej", name="uq_rattachements_compte_ej"),
    )
    op.create_index("ix_rattachements_finess_ej", "rattachements", ["finess_ej"])
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(sa.Column("grappe_engagee_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("cle_import", sa.String(64), nullable=True))
    op.create_index("uq_declarations_cle_import_active", "declarations", ["cle_import"],
                    unique=True, sqlite_where=sa.text("statut = 'active'"),
                    postgresql_where=sa.text("statut = 'active'"))
    with op.batch_alter_table("comptes") as batch:
        batch.add_column(sa.Column("premier_admin", sa.Boolean, nullable=True))
        batch.add_column(sa.Column("derniere_connexion", sa.DateTime, nullable=True))
    op.create_index("uq_comptes_premier_admin", "comptes", ["premier_admin"], unique=True)
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    first = bind.execute(sa.text(
        "SELECT min(id) FROM comptes WHERE role = 'admin'")).scalar()
    if first is not None:
        bind.execute(sa.text("UPDATE comptes SET premier_admin = :t WHERE id = :id"),
                     {"t": True, "id": first})
    rows = bind.execute(sa.text(
        "SELECT compte_id, finess_ej, departement, region, min(cree_le) FROM declarations "
        "WHERE compte_id IS NOT NULL AND statut = 'active' "
        "GROUP BY compte_id, finess_ej, departement, region")).all()
    seen = set()
    for compte_id, ej, dep, reg, le in rows:
        if (compte_id, ej) in seen:
            continue
        seen.add((compte_id, ej))
        bind.execute(sa.text(
            "INSERT INTO rattachements (compte_id, finess_ej, departement, region, statut, "
            "origine, demande_le, decide_le) VALUES (:c, :ej, :dep, :reg, 'approuve', "
            "'reprise', :le, :le)"), {"c": compte_id, "ej": ej, "dep": dep, "reg": reg, "le": le})
    # a grappe already in progress or constituted engages its members (the latest one wins)
    engaged = bind.execute(sa.text(
        "SELECT m.declaration_id, max(g.id) FROM grappe_membres m JOIN grappes g "
        "ON g.id = m.grappe_id WHERE g.statut IN ('invitations_envoyees', 'acceptee', "
        "'constituee') GROUP BY m.declaration_id")).all()
    for declaration_id, grappe_id in engaged:
        bind.execute(sa.text("UPDATE declarations SET grappe_engagee_id = :g WHERE id = :d"),
                     {"g": grappe_id, "d": declaration_id})


def downgrade() -> None:
    op.drop_index("uq_comptes_premier_admin", table_name="comptes")
    with op.batch_alter_table("comptes") as batch:
        batch.drop_column("derniere_connexion")
        batch.drop_column("premier_admin")
    op.drop_index("uq_declarations_cle_import_active", table_name="declarations")
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("cle_import")
        batch.drop_column("grappe_engagee_id")
    op.drop_index("ix_rattachements_finess_ej", table_name="rattachements")
    op.drop_table("rattachements")
