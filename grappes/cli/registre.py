"""``grappes registre …``: the « mise en relation » registry for admins and batch work.

Every command goes through the registry API (``grappes.registry.Registry``), never the
database. Commands other than ``init`` and the creation of the first admin need an account:
``--compte EMAIL`` (or ``GRAPPES_COMPTE``), the password read from ``GRAPPES_MOT_DE_PASSE``,
from stdin (``--mot-de-passe-stdin``) or from a hidden prompt.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grappes.cli.account import MissingCredentials, sign_in
from grappes.cli.french import new_password
from grappes.core.formatting import euros
from grappes.registry import AccesRefuse, RegistreError, Registry
from grappes.solver.settings import DEFAULT_TIME_LIMIT

registre = typer.Typer(
    name="registre",
    help="Registre de mise en relation : comptes, déclarations, appariement, exports.",
    no_args_is_help=True,
    add_completion=False,
)
compte_app = typer.Typer(help="Comptes du registre.", no_args_is_help=True)
registre.add_typer(compte_app, name="compte")

console = Console()
err = Console(stderr=True)

DbOpt = Annotated[str | None, typer.Option("--base", help="URL PostgreSQL ou fichier SQLite "
                                           "(défaut : GRAPPES_DB_URL, sinon grappes.db)")]
FinessOpt = Annotated[str | None, typer.Option(
    "--finess", help="fichier FINESS de contrôle des numéros, ou « sample » (défaut : "
    "GRAPPES_FINESS, sinon celui de « registre init --finess », sinon l'exemple intégré)")]
CompteOpt = Annotated[str | None, typer.Option("--compte", help="votre compte (e-mail) ; "
                                               "défaut : GRAPPES_COMPTE")]
StdinOpt = Annotated[bool, typer.Option("--mot-de-passe-stdin",
                                        help="lire le mot de passe sur l'entrée standard")]
TerrOpt = Annotated[str, typer.Option("--territoire", help="départements (37,41) ou région "
                                      "(R24), séparés par des virgules")]


def _fail(message: str) -> None:
    # the message may carry user text (a rejected cell): printed as text, never as markup
    err.print("[red]Erreur :[/red] ", end="", highlight=False)
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(1)


def _registry(db: str | None, finess: str | None = None) -> Registry:
    try:
        reg = Registry(db, finess=finess)
    except RegistreError as exc:
        _fail(str(exc))
    return reg


def _password(stdin: bool, confirm: bool = False, label: str = "Mot de passe") -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    env = os.environ.get("GRAPPES_MOT_DE_PASSE")
    if env and not confirm:
        return env
    return new_password(label) if confirm else typer.prompt(label, hide_input=True)


def _login(reg: Registry, compte: str | None, stdin: bool) -> str:
    """Sign in by the convention every command group shares (``grappes.cli.account``)."""
    try:
        return sign_in(reg, compte, stdin)
    except MissingCredentials as exc:
        err.print(f"[red]Usage incorrect :[/red] {exc}", highlight=False)
        raise typer.Exit(exc.exit_code) from exc
    except RegistreError as exc:
        _fail(str(exc))
    raise AssertionError  # unreachable


def _run(fn):
    try:
        return fn()
    except RegistreError as exc:
        _fail(str(exc))


@registre.command("init")
def init_cmd(
    db: DbOpt = None,
    finess: Annotated[str | None, typer.Option(
        "--finess", help="fichier FINESS du territoire (ou « sample ») : enregistré dans la "
        "base, il sert à la recherche « Rechercher mon établissement » et au contrôle des "
        "numéros déclarés")] = None,
) -> None:
    """Créer ou mettre à jour le schéma de la base (migrations) ; avec --finess, enregistrer
    le fichier FINESS du registre."""
    reg = _registry(db)
    rev = _run(reg.init)
    console.print(f"Base prête ({reg.db.url.split('@')[-1]}), révision {rev}.", highlight=False)
    if finess is not None:
        valeur, n = _run(lambda: reg.configurer_finess(finess))
        console.print(f"Fichier FINESS enregistré : {valeur} ({n} ESMS).", highlight=False)
    console.print(f"Fichier FINESS utilisé : {reg.source_finess().libelle}.", highlight=False)


@compte_app.command("ajouter")
def compte_ajouter(
    email: str,
    role: Annotated[str, typer.Option("--role", help="declarant, coordinateur, ars ou admin")],
    territoire: Annotated[str, typer.Option("--territoire", help="37,41 ou R24")] = "",
    nom: Annotated[str, typer.Option("--nom")] = "",
    db: DbOpt = None,
    compte: CompteOpt = None,
    stdin: StdinOpt = False,
) -> None:
    """Créer un compte. Le premier administrateur se crée sans --compte ; ensuite un
    administrateur doit se connecter. Le mot de passe est demandé (ou lu sur stdin)."""
    reg = _registry(db)
    _run(reg.db.check_schema)
    codes = [territoire] if territoire else []
    first_admin = role == "admin" and not (compte or os.environ.get("GRAPPES_COMPTE"))
    if first_admin:
        pw = _password(stdin, confirm=not stdin, label="Mot de passe du nouveau compte")
        try:
            v = reg.creer_compte(None, email, role, pw, codes, nom)
        except AccesRefuse:
            _fail("un administrateur existe déjà : se connecter avec --compte ADMIN")
        except RegistreError as exc:
            _fail(str(exc))
    else:
        if stdin:
            _fail("--mot-de-passe-stdin : un seul mot de passe par entrée ; donner celui de "
                  "l'administrateur par GRAPPES_MOT_DE_PASSE")
        jeton = _login(reg, compte, False)
        pw = new_password("Mot de passe du nouveau compte") if sys.stdin.isatty() else \
            sys.stdin.readline().rstrip("\r\n")
        v = _run(lambda: reg.creer_compte(jeton, email, role, pw, codes, nom))
    terr = ", ".join(v.territoires) or "—"
    console.print(f"Compte créé : {v.email} ({v.role}, territoire {terr}).", highlight=False)


@compte_app.command("mot-de-passe")
def compte_mot_de_passe(email: str, db: DbOpt = None, compte: CompteOpt = None) -> None:
    """(Admin) définir le mot de passe d'un compte : active un compte importé, déverrouille."""
    reg = _registry(db)
    jeton = _login(reg, compte, False)
    pw = new_password("Nouveau mot de passe") if sys.stdin.isatty() \
        else sys.stdin.readline().rstrip("\r\n")
    _run(lambda: reg.definir_mot_de_passe(jeton, email, pw))
    console.print(f"Mot de passe défini pour {email}.", highlight=False)


@compte_app.command("debloquer")
def compte_debloquer(email: str, db: DbOpt = None) -> None:
    """Débloquer un compte verrouillé (un administrateur compris), depuis le shell du
    serveur : l'accès local à la base fait foi ; l'action est inscrite au journal."""
    reg = _registry(db)
    _run(reg.db.check_schema)
    v = _run(lambda: reg.debloquer_compte(email))
    console.print(f"Compte débloqué : {v.email} ({v.role}).", highlight=False)


@compte_app.command("liste")
def compte_liste(db: DbOpt = None, compte: CompteOpt = None, stdin: StdinOpt = False) -> None:
    """(Admin) les comptes."""
    reg = _registry(db)
    jeton = _login(reg, compte, stdin)
    table = Table("e-mail", "rôle", "territoire", "actif", "mot de passe")
    for v in _run(lambda: reg.comptes(jeton)):
        table.add_row(Text(v.email), v.role, ", ".join(v.territoires), "oui" if v.actif else "non",
                      "oui" if v.active else "à activer")
    console.print(table)


@registre.command("importer")
def importer_cmd(
    fichier: Path,
    territoire: Annotated[str, typer.Option("--territoire", help="37,41 ou R24")] = "",
    rejets: Annotated[Path | None, typer.Option("--rejets", help="écrire les lignes "
                                                "rejetées dans ce CSV")] = None,
    db: DbOpt = None, finess: FinessOpt = None, compte: CompteOpt = None,
    stdin: StdinOpt = False,
) -> None:
    """Importer un tableur de déclarations (une ligne par ESMS, colonnes du formulaire)."""
    if not fichier.is_file():
        _fail(f"fichier introuvable : {fichier}")
    reg = _registry(db, finess)
    jeton = _login(reg, compte, stdin)
    rep = _run(lambda: reg.importer_csv(jeton, fichier.read_bytes(),
                                        [territoire] if territoire else None))
    console.print(f"{rep.lignes} ligne(s) lue(s) : {len(rep.chargees)} déclaration(s) "
                  f"chargée(s), {len({x.ligne for x in rep.rejets})} ligne(s) rejetée(s) ; "
                  f"{rep.comptes_crees} compte(s) déclarant créé(s) (à activer)"
                  + (f" ; {len(rep.deja_presentes)} déclaration(s) déjà présente(s), "
                     "inchangée(s)" if rep.deja_presentes else "") + ".",
                  highlight=False)
    if rep.rejets:
        table = Table("ligne", "champ", "motif", title="Lignes rejetées", title_justify="left")
        for x in rep.rejets[:200]:
            table.add_row(str(x.ligne), Text(x.champ), Text(x.raison))
        console.print(table)
        if len(rep.rejets) > 200:
            console.print(f"… et {len(rep.rejets) - 200} autre(s) (voir --rejets).")
    if rejets is not None:
        import pandas as pd

        from grappes.registry.adapters import write_csv

        write_csv(pd.DataFrame([{"ligne": x.ligne, "champ": x.champ, "motif": x.raison}
                                for x in rep.rejets], columns=["ligne", "champ", "motif"]),
                  rejets)
    if not rep.chargees and rep.lignes:
        raise typer.Exit(1)  # every line refused: unusable data (exit codes: support.py)


@registre.command("apparier")
def apparier_cmd(
    territoire: TerrOpt,
    avec_finess: Annotated[bool, typer.Option("--avec-finess", help="données du fichier FINESS "
                                              "pour les ESMS déclarés")] = False,
    regles: Annotated[str | None, typer.Option("--regles", help="jeu de règles")] = None,
    time_limit: Annotated[float, typer.Option("--limite-temps")] = DEFAULT_TIME_LIMIT,
    db: DbOpt = None, finess: FinessOpt = None, compte: CompteOpt = None,
    stdin: StdinOpt = False,
) -> None:
    """Lancer l'appariement (le solveur) sur les déclarations d'un territoire."""
    reg = _registry(db, finess)
    jeton = _login(reg, compte, stdin)
    run = _run(lambda: reg.apparier(jeton, [territoire], avec_finess=avec_finess,
                                    regles=regles, time_limit=time_limit))
    table = Table("id", "grappe", "champ", "ESMS", "OG", "porteur", "financement",
                  "avertissements", title=f"Appariement {run.id} ({run.regles})",
                  title_justify="left")
    for g in run.grappes:
        total = "" if g.total is None else euros(g.total)
        table.add_row(str(g.id), Text(g.code), g.champ, str(g.n_esms), str(len(g.membres)),
                      g.porteur_ej, total, Text(" | ".join(g.avertissements)[:120]))
    console.print(table)
    console.print(f"{len(run.grappes)} grappe(s) proposée(s), {len(run.non_places)} ESMS "
                  "sans grappe.", highlight=False)
    for w in run.avertissements:
        console.print(Text(w, style="yellow"), highlight=False)


@registre.command("inviter")
def inviter_cmd(
    declaration: int,
    grappe: Annotated[int, typer.Option("--grappe", help="n° de la grappe")],
    db: DbOpt = None, compte: CompteOpt = None, stdin: StdinOpt = False,
) -> None:
    """(ARS) inviter une déclaration isolée dans une grappe (partenaire suggéré)."""
    reg = _registry(db)
    jeton = _login(reg, compte, stdin)
    g = _run(lambda: reg.inviter_suggestion(jeton, declaration, grappe))
    console.print(f"Déclaration {declaration} invitée dans la grappe {g.code} "
                  f"({len(g.membres)} OG, en attente de sa réponse).", highlight=False)


@registre.command("rattachements")
def rattachements_cmd(
    territoire: TerrOpt,
    db: DbOpt = None, compte: CompteOpt = None, stdin: StdinOpt = False,
) -> None:
    """(Coordinateur, ARS) les demandes de rattachement des OG du territoire."""
    reg = _registry(db)
    jeton = _login(reg, compte, stdin)
    table = Table("n°", "OG (FINESS EJ)", "compte", "état", "origine", "contestée")
    for v in _run(lambda: reg.rattachements(jeton, [territoire])):
        table.add_row(str(v.id), v.finess_ej, Text(v.email), v.statut, v.origine,
                      "oui" if v.conteste else "non")
    console.print(table)


@registre.command("rattachement")
def rattachement_cmd(
    numero: int,
    decision: Annotated[str, typer.Argument(help="approuver ou refuser")],
    db: DbOpt = None, compte: CompteOpt = None, stdin: StdinOpt = False,
) -> None:
    """(Coordinateur, ARS) approuver ou refuser une demande de rattachement."""
    if decision not in ("approuver", "refuser"):
        _fail("décision attendue : approuver ou refuser")
    reg = _registry(db)
    jeton = _login(reg, compte, stdin)
    v = _run(lambda: reg.decider_rattachement(jeton, numero, decision == "approuver"))
    console.print(f"Rattachement {v.id} (OG {v.finess_ej}, {v.email}) : {v.statut}.",
                  highlight=False)


@registre.command("exporter")
def exporter_cmd(
    dossier: Path, territoire: TerrOpt,
    db: DbOpt = None, compte: CompteOpt = None, stdin: StdinOpt = False,
) -> None:
    """Exporter les grappes constituées (dossier XLSX, CSV, contacts autorisés)."""
    reg = _registry(db)
    jeton = _login(reg, compte, stdin)
    for path in _run(lambda: reg.exporter(jeton, [territoire], dossier)):
        console.print(f"écrit : {path}", highlight=False)


@registre.command("purger")
def purger_cmd(db: DbOpt = None, compte: CompteOpt = None, stdin: StdinOpt = False) -> None:
    """(Admin) appliquer la durée de conservation : efface les données personnelles échues."""
    reg = _registry(db)
    jeton = _login(reg, compte, stdin)
    rep = _run(lambda: reg.purger(jeton))
    ids = ", ".join(map(str, rep.declarations_effacees)) or "aucune"
    console.print(f"Coordonnées effacées : {len(rep.declarations_effacees)} déclaration(s) "
                  f"({ids}). Sessions expirées supprimées : {rep.sessions_supprimees}. "
                  f"Entrées du journal supprimées : {rep.audit_supprime}.", highlight=False)


@registre.command("journal")
def journal_cmd(
    limite: Annotated[int, typer.Option("--limite")] = 50,
    db: DbOpt = None, compte: CompteOpt = None, stdin: StdinOpt = False,
) -> None:
    """(Admin) le journal d'audit (qui a lu ou modifié quoi, quand)."""
    reg = _registry(db)
    jeton = _login(reg, compte, stdin)
    table = Table("quand (UTC)", "compte", "rôle", "action", "cible", "id", "détail")
    for a in _run(lambda: reg.journal(jeton, limite)):
        table.add_row(f"{a.le:%Y-%m-%d %H:%M:%S}", str(a.compte_id or ""), a.role, a.action,
                      a.cible, a.cible_id, a.detail[:60])
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``grappes registre …`` to the main command."""
    app.add_typer(registre, name="registre")
