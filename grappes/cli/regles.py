"""``grappes regles``: list the installed rule sets (calls for projects) or show one, each
figure with its source."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from grappes.cli.support import (
    JsonFlag,
)
from grappes.core.formatting import euros
from grappes.programme.rules import RulesError, RuleSet, load_all, load_rules


def _rules_table(loaded: list[RuleSet]) -> Table:
    """One row per rule set; the title under the name, so the table reads in 80 columns."""
    from rich.text import Text

    table = Table(title="Jeux de règles installés", title_justify="left", show_lines=True)
    table.add_column("Jeu de règles", ratio=1, min_width=22)
    for col in ("Sources", "ESMS min\n(Corse, OM)", "Taille\nnominale", "OG\nmin",
                "Petit OG\n(ESMS)"):
        table.add_column(col, no_wrap=True)
    for r in loaded:
        g = r.grouping
        name = Text(r.name, style="bold")
        name.append(f"\n{r.title}", style="")
        table.add_row(name, "\n".join(s.code for s in r.sources),
                      f"{g.min_esms} ({g.min_esms_derogatoire})",
                      "aucune" if g.max_esms is None else str(g.max_esms), str(g.min_og),
                      f"≤ {g.petit_og_max}")
    return table


def show_rules(console: Console, r: RuleSet) -> None:
    """Print one rule set in detail, each figure with its source."""
    g = r.grouping
    console.print(f"[bold]{r.name}[/bold] — {r.title}")
    console.print(f"Fichier : {r.path}" + (f" (hérite de {r.parent})" if r.parent else ""))
    for s in r.sources:
        console.print(f"  [{s.code}] {s.document}" + (f" <{s.url}>" if s.url else ""))

    def cite(key: str) -> str:
        return r.citations.get(key, "")

    t = Table(title="Règles de regroupement", title_justify="left", show_lines=True)
    for col in ("Règle", "Valeur", "Source"):
        t.add_column(col)
    rows = [
        ("ESMS minimum", str(g.min_esms), "regroupement.min_esms"),
        ("ESMS minimum, Corse et outre-mer", str(g.min_esms_derogatoire),
         "regroupement.min_esms_derogatoire"),
        ("Taille nominale du solveur (pas une limite de la grappe)",
         "aucune" if g.max_esms is None else str(g.max_esms), "regroupement.max_esms"),
        ("OG minimum (grappe de petits OG)", str(g.min_og), "regroupement.min_og"),
        ("Petit OG : au plus", f"{g.petit_og_max} ESMS", "regroupement.petit_og"),
        ("Gros OG : au moins", f"{r.gros_og_min} ESMS", "regroupement.gros_og"),
        ("Part maximale d'un autre champ", f"{g.max_other_field_share:.0%}",
         "regroupement.part_autre_champ_max"),
        ("Champs éligibles", ", ".join(g.eligible_champs), "regroupement.champs_eligibles"),
        ("Majorité d'ESMS médicalisés", "oui" if g.medicalise_majority else "non",
         "regroupement.majorite_medicalises"),
        ("ESMS déjà financés exclus", "oui" if g.exclude_deja_finance else "non",
         "regroupement.exclure_deja_finances"),
    ]
    if g.dominant_champs is not None:
        rows.insert(8, ("Champ dominant de la grappe", " ou ".join(g.dominant_champs),
                        "regroupement.champs_dominants"))
    if g.deja_finance_small_og_counts:
        rows.append(("ESMS déjà financés des petits OG : comptés (équipement, AMOA)", "oui",
                     "regroupement.compter_deja_finances_petits_og"))
    if r.petit_og_max_derogatoire is not None:
        rows.insert(5, ("Petit OG en Corse et outre-mer : au plus",
                        f"{r.petit_og_max_derogatoire} ESMS", "regroupement.petit_og_derogatoire"))
    for label, value, key in rows:
        t.add_row(label, value, cite(key))
    console.print(t)

    t = Table(title="Lignes de financement", title_justify="left", show_lines=True)
    for col in ("Ligne", "Base", "Types", "Taille", "Ségur", "Montant", "Source"):
        t.add_column(col)
    for ln in r.lines:
        size = ("toutes" if ln.size_min is None and ln.size_max is None else
                f"{ln.size_min or 0}–{ln.size_max if ln.size_max is not None else '∞'}")
        segur = "indifférent" if ln.segur is None else ("oui" if ln.segur else "non")
        extra = " (SONS, à l'éditeur)" if ln.lever == "sons" else (
            " (à l'éditeur)" if ln.beneficiary == "editeur" else "")
        cond = f" ; {ln.condition}" if ln.condition else ""
        cap = f" ; plafond {ln.cap}" if ln.cap is not None else ""
        t.add_row(ln.label + extra, ln.basis + cond + cap, ", ".join(ln.types), size, segur,
                  euros(ln.amount), ln.source)
    console.print(t)
    cap = "aucun" if r.max_funded_esms is None else f"{r.max_funded_esms} ESMS"
    console.print(f"Plafond d'ESMS financés par projet : {cap}. Type de projet par statut DUI : "
                  + ", ".join(f"{k} → {v}" for k, v in r.type_by_statut.items()))
    console.print("Versements : " + " ; ".join(f"{i.share:.0%} {i.label}" for i in r.schedule))
    if r.eligibility:
        console.print("Exclusions : " + ", ".join(e.code for e in r.eligibility))
    t = Table(title=f"{r.grid.title} — total {r.grid.max}", title_justify="left")
    for col in ("Groupe", "Critère", "Points", "Calcul"):
        t.add_column(col)
    for c in r.grid.criteria:
        how = (f"calculé ({c.computed})" if c.computed else
               "déclaré" + (f", acquis si {', '.join(c.implied_by)}" if c.implied_by else ""))
        t.add_row(c.group, c.label, str(c.points), how)
    console.print(t)
    if r.windows:
        console.print("Fenêtres : " + " ; ".join(f"{w.label} ≤ {w.share:.0%} cumulé"
                                                 for w in r.windows))
    for typ in r.typologies:
        console.print(f"Type de projet {typ.code} ({', '.join(typ.champs)}) : dès la fenêtre "
                      f"{typ.first_window} ; SAD : {'oui' if typ.sad else 'non'} ; prérequis "
                      f"d'une acquisition : {typ.prerequisite.replace('_', ' ')}",
                      highlight=False)
    if r.priorities:
        console.print("[bold]Priorités de sélection de l'ARS[/bold]")
        for p in r.priorities:
            when = f" (fenêtre {', '.join(map(str, p.windows))})" if p.windows else ""
            kind = f"au moins {p.count}" if p.kind == "minimum" else "palier"
            tests = " et ".join(c.describe() for c in p.conditions)
            console.print(f"  {p.rank}. {p.label}{when} — {kind} : {tests}", highlight=False)
    if r.usage_targets:
        console.print("Cibles d'usage : " + " ; ".join(f"{u.label} {u.target:.0%}"
                                                       for u in r.usage_targets))
    if r.choices:
        console.print("[bold]Choix faits là où les documents sont ambigus[/bold]")
        for key, text in r.choices.items():
            console.print(f"  {key} : {text}")


def _rules_json(r: RuleSet, brief: bool = False) -> dict[str, Any]:
    g = r.grouping
    data: dict[str, Any] = {
        "name": r.name, "title": r.title, "year": r.year,
        "sources": [{"code": s.code, "document": s.document, "url": s.url} for s in r.sources],
        "min_esms": g.min_esms, "min_esms_derogatoire": g.min_esms_derogatoire,
        "max_esms": g.max_esms,
    }
    if brief:
        return data
    data.update({
        "grouping": {k: (list(v) if isinstance(v, tuple) else v) for k, v in g.__dict__.items()},
        "petit_og_max_derogatoire": r.petit_og_max_derogatoire,
        "max_funded_esms": r.max_funded_esms,
        "type_by_statut": r.type_by_statut,
        "lines": [{**ln.__dict__, "types": list(ln.types)} for ln in r.lines],
        "schedule": [i.__dict__ for i in r.schedule],
        "eligibility": [e.__dict__ for e in r.eligibility],
        "grid": {"title": r.grid.title, "max": r.grid.max,
                 "criteria": [{**c.__dict__, "implied_by": list(c.implied_by)}
                              for c in r.grid.criteria]},
        "windows": [w.__dict__ for w in r.windows],
        "project_types": [{**t.__dict__, "champs": list(t.champs)} for t in r.typologies],
        "priorities": [{**p.__dict__, "windows": list(p.windows),
                        "conditions": [c.__dict__ for c in p.conditions]}
                       for p in r.priorities],
        "citations": r.citations, "choices": r.choices,
    })
    return data

def register(app: typer.Typer) -> None:
    """Add ``regles`` to the ``grappes`` app."""

    @app.command("regles")
    def rules_cmd(
        show: Annotated[str | None, typer.Option(
            "--afficher",
            help="Afficher un jeu de règles en détail (nom ou fichier .toml).")] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Lister les jeux de règles installés (appels à projets) ou en afficher un."""
        console = Console()
        if show:
            try:
                r = load_rules(show)
            except RulesError as exc:
                console.print(f"[red]{exc}[/red]")
                raise typer.Exit(1) from exc
            if as_json:
                print(json.dumps(_rules_json(r), ensure_ascii=False, indent=2))
            else:
                show_rules(console, r)
            return
        loaded, failed = load_all()
        if as_json:
            print(json.dumps({"rules": [_rules_json(r, brief=True) for r in loaded],
                              "errors": failed}, ensure_ascii=False, indent=2))
            return
        console.print(_rules_table(loaded))
        for _name, err in failed.items():
            console.print(f"[red]{err}[/red]")
