"""Issue 19, item 6: ``grappes.revision``, bumped by the database itself on every write that
changes what a grappe's view shows, in the writing transaction.

The API keeps, per process, the reader-independent part of each grappe's view (members,
names, places, invitation states, who speaks for its OG) keyed by this revision
(``grappes.registry.cache_vues``). A cached view is used only while the revision read in
the database is the one it was built at. Triggers rather than application code bump it, so
that no write path can forget it (bulk ``UPDATE``, foreign-key cascades, a future method):

- any ``UPDATE`` of the grappe's own row (its state, porteur, amount...);
- any insert, update or delete of one of its members or of one of its invitations;
- an update of a member's declaration that changes a column the view shows (owner account,
  OG name, département, région, consent to coordinators). The contact columns are NOT
  cached: every read takes them fresh from the declaration, so that a withdrawn or erased
  contact is never shown (they bump nothing);
- any change of an attachment (``rattachements``) to the FINESS EJ of one of its members
  (who speaks for an OG).

Beware: on SQLite, ``batch_alter_table`` recreates a table and drops its triggers; a later
migration that rebuilds one of these tables must create its triggers again
(``tests/registry/test_registry_cache.py`` fails otherwise).

Self-contained (no import of the live code).

Revision ID: r0008
Revises: r0007
"""

import sqlalchemy as sa
from alembic import op

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None

#: declaration columns shown in a grappe's view (contacts excluded: read fresh)
_SHOWN = ("compte_id", "raison_sociale_ej", "departement", "region",
          "consentement_contacts_coordinateur")

_BUMP_MEMBERS_OF_DECLARATION = ("UPDATE grappes SET revision = revision + 1 WHERE id IN "
                                "(SELECT grappe_id FROM grappe_membres "
                                "WHERE declaration_id = NEW.id)")


def _bump_of_ej(ej: str) -> str:
    return ("UPDATE grappes SET revision = revision + 1 WHERE id IN "
            f"(SELECT grappe_id FROM grappe_membres WHERE finess_ej = {ej})")


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _SHOWN)
    out = [
        # the row's own changes (the inner UPDATE changes the revision: no second bump)
        "CREATE TRIGGER trg_grappes_revision AFTER UPDATE ON grappes "
        "FOR EACH ROW WHEN NEW.revision = OLD.revision BEGIN "
        "UPDATE grappes SET revision = OLD.revision + 1 WHERE id = NEW.id; END",
        "CREATE TRIGGER trg_declarations_revision AFTER UPDATE ON declarations "
        f"FOR EACH ROW WHEN {changed} BEGIN {_BUMP_MEMBERS_OF_DECLARATION}; END",
    ]
    for table in ("grappe_membres", "invitations"):
        out += [
            f"CREATE TRIGGER trg_{table}_revision_ins AFTER INSERT ON {table} "
            "FOR EACH ROW BEGIN "
            "UPDATE grappes SET revision = revision + 1 WHERE id = NEW.grappe_id; END",
            f"CREATE TRIGGER trg_{table}_revision_upd AFTER UPDATE ON {table} "
            "FOR EACH ROW BEGIN UPDATE grappes SET revision = revision + 1 "
            "WHERE id IN (OLD.grappe_id, NEW.grappe_id); END",
            f"CREATE TRIGGER trg_{table}_revision_del AFTER DELETE ON {table} "
            "FOR EACH ROW BEGIN "
            "UPDATE grappes SET revision = revision + 1 WHERE id = OLD.grappe_id; END",
        ]
    out += [
        "CREATE TRIGGER trg_rattachements_revision_ins AFTER INSERT ON rattachements "
        f"FOR EACH ROW BEGIN {_bump_of_ej('NEW.finess_ej')}; END",
        "CREATE TRIGGER trg_rattachements_revision_upd AFTER UPDATE ON rattachements "
        f"FOR EACH ROW BEGIN {_bump_of_ej('NEW.finess_ej')}; "
        f"{_bump_of_ej('OLD.finess_ej')}; END",
        "CREATE TRIGGER trg_rattachements_revision_del AFTER DELETE ON rattachements "
        f"FOR EACH ROW BEGIN {_bump_of_ej('OLD.finess_ej')}; END",
    ]
    return out


_SQLITE_NAMES = ["trg_grappes_revision", "trg_declarations_revision"] + [
    f"trg_{t}_revision_{k}" for t in ("grappe_membres", "invitations", "rattachements")
    for k in ("ins", "upd", "del")]


def _postgresql() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _SHOWN)
    return [
        # the row's own changes: bumped in place, before the row is written
        "CREATE FUNCTION grappes_revision_propre() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.revision := OLD.revision + 1; RETURN NEW; END $$",
        "CREATE TRIGGER trg_grappes_revision BEFORE UPDATE ON grappes FOR EACH ROW "
        "WHEN (NEW.revision = OLD.revision) EXECUTE FUNCTION grappes_revision_propre()",
        # a member or an invitation of the grappe (OLD is NULL on INSERT, NEW on DELETE)
        "CREATE FUNCTION grappes_revision_enfant() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE grappes SET revision = revision + 1 WHERE id IN "
        "(CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.grappe_id END, "
        " CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.grappe_id END); "
        "RETURN NULL; END $$",
        "CREATE TRIGGER trg_grappe_membres_revision AFTER INSERT OR UPDATE OR DELETE ON "
        "grappe_membres FOR EACH ROW EXECUTE FUNCTION grappes_revision_enfant()",
        "CREATE TRIGGER trg_invitations_revision AFTER INSERT OR UPDATE OR DELETE ON "
        "invitations FOR EACH ROW EXECUTE FUNCTION grappes_revision_enfant()",
        "CREATE FUNCTION grappes_revision_declaration() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN {_BUMP_MEMBERS_OF_DECLARATION}; RETURN NULL; END $$",
        "CREATE TRIGGER trg_declarations_revision AFTER UPDATE ON declarations "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION grappes_revision_declaration()",
        "CREATE FUNCTION grappes_revision_rattachement() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN UPDATE grappes SET revision = revision + 1 WHERE id IN "
        "(SELECT grappe_id FROM grappe_membres WHERE finess_ej IN "
        "(CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.finess_ej END, "
        " CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.finess_ej END)); "
        "RETURN NULL; END $$",
        "CREATE TRIGGER trg_rattachements_revision AFTER INSERT OR UPDATE OR DELETE ON "
        "rattachements FOR EACH ROW EXECUTE FUNCTION grappes_revision_rattachement()",
    ]


_PG_TRIGGERS = [("trg_grappes_revision", "grappes"),
                ("trg_grappe_membres_revision", "grappe_membres"),
                ("trg_invitations_revision", "invitations"),
                ("trg_declarations_revision", "declarations"),
                ("trg_rattachements_revision", "rattachements")]
_PG_FUNCTIONS = ["grappes_revision_propre", "grappes_revision_enfant",
                 "grappes_revision_declaration", "grappes_revision_rattachement"]


def upgrade() -> None:
    # a plain ADD COLUMN (no batch: on SQLite a batch rebuild would drop triggers)
    op.add_column("grappes", sa.Column("revision", sa.Integer, nullable=False,
                                       server_default="0"))
    op.create_index("ix_grappe_membres_declaration", "grappe_membres", ["declaration_id"])
    op.create_index("ix_grappe_membres_finess_ej", "grappe_membres", ["finess_ej"])
    dialect = op.get_bind().dialect.name
    for statement in (_sqlite_triggers() if dialect == "sqlite" else _postgresql()):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in _SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_grappe_membres_finess_ej", table_name="grappe_membres")
    op.drop_index("ix_grappe_membres_declaration", table_name="grappe_membres")
    with op.batch_alter_table("grappes") as batch:
        batch.drop_column("revision")
