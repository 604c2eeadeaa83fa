"""Issue 19, item 6: ``grappes.revision_membres``, bumped by the database itself, in the
writing transaction, on every write that changes a grappe's COMPOSITION as its view shows it:
its members, a member's declaration (owner account, OG name, département, région, consent
to coordinators), an attachment to one of its members' FINESS EJ (who speaks for an OG).

``grappes.revision`` (r0008) still moves on every change of the view, invitation answers
included; this second counter lets the views' cache (``grappes.registry.cache_vues``) keep
a grappe's members while only its state and its invitation states changed: an answer
makes the other processes read again the grappe's row and its invitations (two small
queries), not its members, their declarations and the attachments of their OGs. Each
trigger's ``UPDATE grappes`` also bumps ``revision`` (through r0008's trigger on the
grappe's own row), so that ``revision`` moves whenever ``revision_membres`` does.

Same beware as r0008: on SQLite, ``batch_alter_table`` recreates a table and drops its
triggers. Self-contained (no import of the live code).

Revision ID: r0009
Revises: r0008
"""

import sqlalchemy as sa
from alembic import op

revision = "r0009"
down_revision = "r0008"
branch_labels = None
depends_on = None

#: declaration columns shown in a grappe's view (as in r0008; contacts excluded)
_SHOWN = ("compte_id", "raison_sociale_ej", "departement", "region",
          "consentement_contacts_coordinateur")
_BUMP = "UPDATE grappes SET revision_membres = revision_membres + 1 WHERE id IN "


def _of_declaration(ref: str) -> str:
    return _BUMP + f"(SELECT grappe_id FROM grappe_membres WHERE declaration_id = {ref})"


def _of_ej(ref: str) -> str:
    return _BUMP + f"(SELECT grappe_id FROM grappe_membres WHERE finess_ej = {ref})"


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _SHOWN)
    return [
        "CREATE TRIGGER trg_declarations_revision_membres AFTER UPDATE ON declarations "
        f"FOR EACH ROW WHEN {changed} BEGIN {_of_declaration('NEW.id')}; END",
        "CREATE TRIGGER trg_grappe_membres_revision_membres_ins AFTER INSERT ON grappe_membres "
        f"FOR EACH ROW BEGIN {_BUMP}(NEW.grappe_id); END",
        "CREATE TRIGGER trg_grappe_membres_revision_membres_upd AFTER UPDATE ON grappe_membres "
        f"FOR EACH ROW BEGIN {_BUMP}(OLD.grappe_id, NEW.grappe_id); END",
        "CREATE TRIGGER trg_grappe_membres_revision_membres_del AFTER DELETE ON grappe_membres "
        f"FOR EACH ROW BEGIN {_BUMP}(OLD.grappe_id); END",
        "CREATE TRIGGER trg_rattachements_revision_membres_ins AFTER INSERT ON rattachements "
        f"FOR EACH ROW BEGIN {_of_ej('NEW.finess_ej')}; END",
        "CREATE TRIGGER trg_rattachements_revision_membres_upd AFTER UPDATE ON rattachements "
        f"FOR EACH ROW BEGIN {_of_ej('NEW.finess_ej')}; {_of_ej('OLD.finess_ej')}; END",
        "CREATE TRIGGER trg_rattachements_revision_membres_del AFTER DELETE ON rattachements "
        f"FOR EACH ROW BEGIN {_of_ej('OLD.finess_ej')}; END",
    ]


_SQLITE_NAMES = ["trg_declarations_revision_membres"] + [
    f"trg_{t}_revision_membres_{k}" for t in ("grappe_membres", "rattachements")
    for k in ("ins", "upd", "del")]


def _postgresql() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _SHOWN)
    return [
        "CREATE FUNCTION grappes_revision_membres_membre() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN {_BUMP}"
        "(CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.grappe_id END, "
        " CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.grappe_id END); "
        "RETURN NULL; END $$",
        "CREATE TRIGGER trg_grappe_membres_revision_membres AFTER INSERT OR UPDATE OR DELETE "
        "ON grappe_membres FOR EACH ROW EXECUTE FUNCTION grappes_revision_membres_membre()",
        "CREATE FUNCTION grappes_revision_membres_declaration() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {_of_declaration('NEW.id')}; RETURN NULL; END $$",
        "CREATE TRIGGER trg_declarations_revision_membres AFTER UPDATE ON declarations "
        f"FOR EACH ROW WHEN ({changed}) "
        "EXECUTE FUNCTION grappes_revision_membres_declaration()",
        "CREATE FUNCTION grappes_revision_membres_rattachement() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {_BUMP}"
        "(SELECT grappe_id FROM grappe_membres WHERE finess_ej IN "
        "(CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.finess_ej END, "
        " CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.finess_ej END)); "
        "RETURN NULL; END $$",
        "CREATE TRIGGER trg_rattachements_revision_membres AFTER INSERT OR UPDATE OR DELETE "
        "ON rattachements FOR EACH ROW EXECUTE FUNCTION grappes_revision_membres_rattachement()",
    ]


_PG_TRIGGERS = [("trg_grappe_membres_revision_membres", "grappe_membres"),
                ("trg_declarations_revision_membres", "declarations"),
                ("trg_rattachements_revision_membres", "rattachements")]
_PG_FUNCTIONS = ["grappes_revision_membres_membre", "grappes_revision_membres_declaration",
                 "grappes_revision_membres_rattachement"]


def upgrade() -> None:
    # a plain ADD COLUMN (no batch: on SQLite a batch rebuild would drop r0008's triggers)
    op.add_column("grappes", sa.Column("revision_membres", sa.Integer, nullable=False,
                                       server_default="0"))
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
    # a plain DROP COLUMN (SQLite >= 3.35), not a batch rebuild that would drop r0008's
    # triggers
    op.execute("ALTER TABLE grappes DROP COLUMN revision_membres")
