"""``grappes regles``, ``grappes chiffrer`` and ``grappes selectionner``: rule sets, costing,
funding choice.

``cost`` re-costs a grouping edited by hand (the ``etablissements.csv`` written by
``grappes proposer``, with its ``grappe`` column) and reports the broken rules per grappe
instead of failing; ``select`` picks the grappes an ARS funds from its envelope.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from matching.cli.support import (
    JsonFlag,
    SystemOutFlag,
    UsageError,
    check_number,
    fail,
    json_default,
    prepare_out,
    print_written,
)
from matching.core.columns import FALSE_WORDS, TRUE_WORDS, text_column
from matching.core.errors import GrappesError
from matching.core.formatting import euros, number_fr
from matching.core.model import ETAB_COLUMNS
from matching.core.numbers import NumberError, parse_amount
from matching.core.vocabulary import MODE_LABELS, label_of
from matching.exports.files import ETABLISSEMENTS_CSV, GRAPPES_CSV, column_names, header_of
from matching.exports.french_excel import write_csv
from matching.ingest.grouping import candidate_problems, grouping_problems, problems_message
from matching.programme.costing import PROJECT_TYPE_LABELS, GrappeCost, cost_grappe
from matching.programme.funding_select import (
    DEFAULT_MODE,
    MODES,
    PRIORITY_COLUMNS,
    STAGE_DTIME,
    ArsDecisions,
    BalanceLimits,
    Selection,
    grappe_traits,
    select_funding,
)
from matching.programme.rules import DEFAULT_RULES, RulesError, RuleSet, load_all, load_rules
from matching.programme.validate import dominant_champ, grouping_violations

#: columns ``cost`` needs; the others of ETAB_COLUMNS get defaults when absent
REQUIRED_COLUMNS: tuple[str, ...] = ("finess_et", "finess_ej", "champ", "grappe")
RULES_HELP = "Jeu de règles : nom (grappes regles) ou fichier .toml."


class InputError(GrappesError, ValueError):
    """A user file cannot be used; the message names the line and the field (exit code 1,
    2 for a missing file)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------- reading


def _read_csv(path: Path) -> pd.DataFrame:
    import csv
    import io

    from matching.ingest.base import decode_text, read_bytes
    from matching.ingest.errors import IngestError

    if not path.is_file():
        msg = f"{path} : fichier introuvable."
        raise InputError(msg, exit_code=2)
    try:
        # French refusal of binary, empty or mixed-up files (line ends, encodings, BOM)
        text = decode_text(read_bytes(path, 300_000_000, path.name), path.name).text
        return pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    except IngestError as exc:
        raise InputError(str(exc)) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        msg = f"{path} : CSV illisible (séparateur « ; » attendu) : {exc}"
        raise InputError(msg) from exc


def read_grouping_csv(path: str | Path) -> pd.DataFrame:
    """The normalised establishments table + ``grappe`` from an ``etablissements.csv``.

    Codes stay strings; booleans accept true/false, vrai/faux, oui/non, 1/0; numbers accept
    a decimal comma. Missing optional columns get defaults (``og_nb_esms`` is counted from
    the file). Raises :class:`InputError` naming the line (header = line 1) and the field.
    """
    path = Path(path)
    raw = _read_csv(path)
    # French headers (« FINESS ET ») or the names of earlier files (finess_et)
    written = [str(c).strip().lstrip("'") for c in raw.columns]
    raw.columns = column_names(written, ETABLISSEMENTS_CSV)
    # messages name a column as the user's file does
    as_written = dict(zip(raw.columns, written, strict=True))
    raw = _codes_back(raw)
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        named = ", ".join(f"« {header_of(ETABLISSEMENTS_CSV, c)} » ({c})" for c in missing)
        msg = (f"{path.name} : colonne(s) manquante(s) : {named} "
               "(le fichier etablissements.csv écrit par « grappes proposer » les contient).")
        raise InputError(msg)
    out: dict[str, pd.Series] = {}
    n = len(raw)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        if col not in raw.columns:
            continue
        values = raw[col].astype(str).str.strip().str.lstrip("'")
        if dtype == "string":
            out[col] = values.astype("string")
        elif dtype == "boolean":
            low = values.str.lower()
            bad = ~(low.isin(TRUE_WORDS | FALSE_WORDS) | (low == "") | (low == "<na>"))
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                msg = (f"{path.name}, ligne {i + 2}, champ {as_written.get(col, col)} : "
                       f"« {values.iloc[i]} » n'est pas un booléen (oui / non, true / false, "
                       "1 / 0).")
                raise InputError(msg)
            out[col] = low.map(lambda v: True if v in TRUE_WORDS else
                               (False if v in FALSE_WORDS else pd.NA)).astype("boolean")
        else:
            num = pd.to_numeric(values.str.replace(",", ".", regex=False)
                                .replace({"": None, "<NA>": None, "nan": None}), errors="coerce")
            bad = num.isna() & ~values.isin(["", "<NA>", "nan"])
            if bad.any():
                i = int(bad.to_numpy().nonzero()[0][0])
                msg = (f"{path.name}, ligne {i + 2}, champ {as_written.get(col, col)} : "
                       f"« {values.iloc[i]} » n'est pas un nombre.")
                raise InputError(msg)
            out[col] = num.astype("float64")
    table = pd.DataFrame(out, index=raw.index)
    problems = [replace(p, field=as_written.get(p.field, p.field))
                for p in grouping_problems(table)]
    if problems:
        raise InputError(problems_message(path.name, problems))
    for col, (dtype, _) in ETAB_COLUMNS.items():
        if col in table.columns and dtype != "int64":
            continue
        if col == "ligne":
            table[col] = pd.Series(range(2, n + 2), index=raw.index, dtype="int64")
        elif col == "og_nb_esms":
            counts = table["finess_ej"].map(table["finess_ej"].value_counts())
            given = table[col] if col in table.columns else pd.Series(math.nan, index=raw.index)
            table[col] = given.fillna(counts).astype("int64")
        elif dtype == "string":
            table[col] = pd.Series("", index=raw.index, dtype="string")
        elif dtype == "boolean":
            table[col] = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        else:
            table[col] = pd.Series(math.nan, index=raw.index, dtype="float64")
    if "dui_statut" not in raw.columns:
        table["dui_statut"] = "inconnu"
    empty_et = table["finess_et"] == ""
    if empty_et.any():
        i = int(empty_et.to_numpy().nonzero()[0][0])
        msg = f"{path.name}, ligne {i + 2}, champ finess_et : numéro FINESS vide."
        raise InputError(msg)
    dup = table["finess_et"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        msg = (f"{path.name}, ligne {i + 2}, champ finess_et : « {table['finess_et'].iloc[i]} » "
               "apparaît deux fois.")
        raise InputError(msg)
    table = table[list(ETAB_COLUMNS)]
    table["grappe"] = raw["grappe"].astype(str).str.strip().str.lstrip("'").astype("string")
    porteur = _porteur_column(raw, table)
    if porteur is not None:
        table["porteur"] = porteur
    return table.reset_index(drop=True)


def _codes_back(raw: pd.DataFrame) -> pd.DataFrame:
    """Columns written for people back to the codes the library reads.

    ``etablissements.csv`` carries labels ("à mettre à niveau") with the code in
    ``<name>_code``: the code wins when present, else a known label is mapped back; a column
    renamed for the file (``source_coordonnees``) gets its library name back.
    """
    from matching.exports.tables import LABELLED, RENAMED

    raw = raw.copy()
    for col, labels in LABELLED.items():
        code_col = f"{col}_code"
        if code_col in raw.columns:
            raw[col] = raw[code_col]
        elif col in raw.columns:
            back = {label.casefold(): code for code, label in labels.items()}
            raw[col] = raw[col].map(lambda v, back=back: back.get(str(v).strip().casefold(), v))
    for library, written in RENAMED.items():
        if written in raw.columns and library not in raw.columns:
            raw[library] = raw[written]
    return raw


def _porteur_column(raw: pd.DataFrame, table: pd.DataFrame) -> pd.Series | None:
    """The porteur (FINESS EJ) of each row's grappe, from ``porteur`` and/or ``og_porteur``.

    ``porteur`` holds a FINESS EJ (or ET); older files wrote ``oui`` on the rows of the
    porteur's ESMS instead: both are read, as is ``og_porteur`` (oui/non, True/False).
    """
    flag = None
    for col in ("og_porteur", "porteur"):
        if col in raw.columns:
            low = raw[col].astype(str).str.strip().str.lower()
            if low.isin(TRUE_WORDS | FALSE_WORDS | {""}).all():
                flag = low.isin(TRUE_WORDS) if flag is None else (flag | low.isin(TRUE_WORDS))
    given = None
    if "porteur" in raw.columns:
        values = raw["porteur"].astype(str).str.strip().str.lstrip("'")
        if not values.str.lower().isin(TRUE_WORDS | FALSE_WORDS | {""}).all():
            given = values.where(~values.str.lower().isin(TRUE_WORDS | FALSE_WORDS), "")
    if given is None and flag is None:
        return None
    if given is None:
        given = pd.Series("", index=raw.index)
        grappe = table["grappe"].astype(str)
        ej = table["finess_ej"].astype(str)
        chosen = pd.DataFrame({"g": grappe[flag], "ej": ej[flag]}).drop_duplicates("g")
        given = grappe.map(dict(zip(chosen["g"], chosen["ej"], strict=True))).fillna("")
    return given.astype("string")


def read_declarations(path: str | Path) -> dict[str, dict[str, bool]]:
    """Declared criteria per grappe from a CSV ``grappe;critere`` (optional ``valeur`` oui/non)."""
    path = Path(path)
    raw = _read_csv(path)
    for col in ("grappe", "critere"):
        if col not in raw.columns:
            msg = f"{path.name} : colonne « {col} » manquante (attendu : grappe;critere;valeur)."
            raise InputError(msg)
    out: dict[str, dict[str, bool]] = {}
    for i, r in raw.iterrows():
        value = str(r.get("valeur", "oui") or "oui").strip().lower()
        if value not in TRUE_WORDS | FALSE_WORDS:
            msg = f"{path.name}, ligne {int(i) + 2}, champ valeur : oui ou non attendu."
            raise InputError(msg)
        out.setdefault(str(r["grappe"]).strip(), {})[str(r["critere"]).strip()] = (
            value in TRUE_WORDS)
    return out


# --------------------------------------------------------------------------- costing a file


def cost_grouping(
    etab: pd.DataFrame,
    rules: RuleSet,
    declarations: Mapping[str, Mapping[str, bool]] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Cost and check every grappe of a grouping: one dict per grappe, and warnings.

    Keys starting with ``_`` hold the Python objects (cost, members) and are dropped from
    the JSON output.
    """
    grappe = text_column(etab, "grappe")
    violations = grouping_violations(etab, grappe, rules.grouping)
    declarations = declarations or {}
    unknown = sorted(set(declarations) - set(violations))
    out = []
    for gid, vs in violations.items():
        members = etab[grappe == gid]
        porteur = None
        if "porteur" in members.columns:
            given = [p for p in text_column(members, "porteur") if p]
            porteur = given[0] if given else None
        try:
            cost = cost_grappe(members, rules, porteur=porteur, declared=declarations.get(gid))
        except ValueError as exc:
            msg = f"Grappe {gid} : {exc}"
            raise InputError(msg) from exc
        out.append({
            "id": gid,
            "champ": dominant_champ(members, rules.grouping) or "",
            "n_membres": len(members),
            "og": sorted(set(text_column(members, "finess_ej")) - {""}),
            "departements": sorted(set(text_column(members, "departement")) - {""}),
            "statut": _porteur_statut(members, cost.porteur),
            "violations": [v.as_dict() for v in vs],
            **cost.as_dict(),
            "_cost": cost,
            "_members": members,
        })
    warnings = []
    if unknown:
        warnings.append(f"Déclarations pour des grappes absentes : {', '.join(unknown)}.")
    return out, warnings


def _porteur_statut(members: pd.DataFrame, porteur: str) -> str:
    statut = text_column(members, "statut_agrege")[text_column(members, "finess_ej") == porteur]
    return str(statut.iloc[0]) if len(statut) else ""


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


# --------------------------------------------------------------------------- candidates


def candidates_from_file(path: str | Path, rules: RuleSet) -> pd.DataFrame:
    """The ``select`` input from a ``grappes.csv``, an ``etablissements.csv`` or propose JSON."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, json.JSONDecodeError) as exc:
            msg = f"{path.name} : JSON illisible ({exc})."
            raise InputError(msg) from exc
        items = data.get("grappes") if isinstance(data, dict) else data
        skipped: list[str] = []
        if not isinstance(items, list):
            msg = f"{path.name} : liste « grappes » attendue (sortie de grappes proposer --json)."
            raise InputError(msg)
        rows = []
        for i, g in enumerate(items, 1):
            if not isinstance(g, dict):
                msg = f"{path.name} : grappes[{i}] : objet attendu."
                raise InputError(msg)
            if g.get("valide") is False:
                skipped.append(str(g.get("id", g.get("grappe"))))
                continue  # only a valid grappe can be funded
            funding = g.get("funding") if isinstance(g.get("funding"), dict) else g
            score = g.get("score") if isinstance(g.get("score"), dict) else None
            points = g.get("points_grille", score.get("total") if score else g.get("points"))
            if isinstance(points, dict):
                points = sum(v for v in points.values() if isinstance(v, int | float))
            rows.append({"grappe": g.get("id", g.get("grappe")), "total": funding.get("total"),
                         "points": points, "departements": g.get("departements", []),
                         "champ": g.get("champ", ""), "statut": g.get("statut", ""),
                         "fenetre": g.get("fenetre", 1),
                         "nom": g.get("porteur_nom", g.get("nom", "")),
                         **{k: g[k] for k in PRIORITY_COLUMNS if k in g}})
        return _with_skipped(pd.DataFrame(rows), skipped)
    raw = _read_csv(path)
    raw.columns = column_names(list(raw.columns), GRAPPES_CSV, ETABLISSEMENTS_CSV)
    if "finess_et" in raw.columns and "grappe" in raw.columns:
        etab = read_grouping_csv(path)
        etab = etab[text_column(etab, "grappe") != ""]
        rows = []
        skipped = []
        for g in cost_grouping(etab, rules)[0]:
            if g["violations"]:
                skipped.append(g["id"])
                continue  # only a valid grappe can be funded
            cost: GrappeCost = g["_cost"]
            members = g["_members"]
            deps = text_column(members, "departement")[text_column(members, "departement") != ""]
            rows.append({"grappe": g["id"], "total": cost.total, "points": cost.score.total,
                         "champ": g["champ"], "statut": g["statut"],
                         "departements": sorted(set(deps)),
                         "poids_departements": {str(k): float(v)
                                                for k, v in deps.value_counts().items()},
                         **grappe_traits(members, cost, rules.grouping)})
        return _with_skipped(pd.DataFrame(rows), skipped)
    aliases = {"grappe": ("grappe", "id"),
               "total": ("financement", "total", "funding_total", "financement_total", "montant"),
               "points": ("points_grille", "points", "score", "points_total"),
               "statut": ("statut_code", "statut", "statut_agrege")}
    skipped = []
    if "valide" in raw.columns:
        # only a valid grappe can be funded: the others are left out of the candidates
        bad = raw["valide"].astype(str).str.strip().str.lower().isin(FALSE_WORDS)
        skipped = [str(x) for x in raw.loc[bad, "grappe"]] if "grappe" in raw.columns else []
        raw = raw[~bad]
    out = pd.DataFrame(index=raw.index)
    for target, names in aliases.items():
        for name in names:
            if name in raw.columns:
                out[target] = raw[name]
                break
    for col in ("departements", "champ", "fenetre", "regions", *PRIORITY_COLUMNS):
        if col in raw.columns and col not in out.columns:
            out[col] = raw[col]
    if "porteur_nom" in raw.columns:
        out["nom"] = raw["porteur_nom"]
    for col in ("total", "points"):
        if col in out.columns:
            out[col] = pd.to_numeric(out[col].astype(str).str.strip().str.replace(
                "\u202f", "").str.replace(" ", "").str.replace(",", ".", regex=False),
                errors="coerce")
    return _with_skipped(out, skipped)


def _with_skipped(frame: pd.DataFrame, skipped: list[str]) -> pd.DataFrame:
    """Remember the invalid grappes left out of the candidates (printed by ``select``)."""
    frame.attrs["invalides"] = list(skipped)
    return frame


# --------------------------------------------------------------------------- printing


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


def _print_costs(console: Console, rows: list[dict[str, Any]], warnings: list[str],
                 rules: RuleSet) -> None:
    t = Table(title=f"Coût des grappes ({rules.name})", title_justify="left")
    for col in ("Grappe", "Champ", "ESMS comptés", "Financés", "Type", "Éditeur", "Porteur",
                "Financement", "SONS éditeur", "Points grille", "Règles enfreintes"):
        t.add_column(col, justify="right" if col in ("ESMS comptés", "Financés", "Financement",
                                                     "SONS éditeur", "Points grille")
                     else "left")
    for g in rows:
        t.add_row(g["id"], g["champ"], str(g["n_esms"]), str(g["n_funded"]),
                  PROJECT_TYPE_LABELS.get(g["project_type"], g["project_type"]),
                  g["vendor"] or "—", g["porteur"], euros(g["total"]),
                  euros(g["sons_vendor"]), f"{g['score']['total']}/{g['score']['max']}",
                  str(len(g["violations"])) if g["violations"] else "aucune")
    console.print(t)
    total = sum(g["total"] for g in rows if not g["violations"])
    invalid = [g for g in rows if g["violations"]]
    console.print(f"Total ESMS numérique des grappes valides : [bold]{euros(total)}[/bold].")
    if invalid:
        console.print(f"Grappes invalides, hors total : {', '.join(g['id'] for g in invalid)} "
                      f"({euros(sum(g['total'] for g in invalid))}).")
    for w in warnings:
        console.print(f"[yellow]{w}[/yellow]")
    for g in rows:
        for v in g["violations"]:
            console.print(f"[red]Grappe {g['id']}[/red] ({v['code']}) : {v['message']}")
        for finding in g["eligibility"]:
            console.print(f"[yellow]Grappe {g['id']}[/yellow] : {finding}")


def _write_cost_outputs(out: Path, rows: list[dict[str, Any]]) -> list[Path]:
    grappes, lines, schedule, violations, findings = [], [], [], [], []
    for g in rows:
        grappes.append({
            "grappe": g["id"], "champ": g["champ"], "valide": not g["violations"],
            "nb_membres": g["n_membres"], "nb_esms_comptes": g["n_esms"],
            "nb_finances": g["n_funded"],
            "type_projet": PROJECT_TYPE_LABELS.get(g["project_type"], g["project_type"]),
            "type_projet_code": g["project_type"], "editeur": g["vendor"] or "",
            "editeur_segur": g["vendor_segur"],
            "porteur": g["porteur"], "financement": g["total"], "sons_editeur": g["sons_vendor"],
            "points_grille": g["score"]["total"], "points_max": g["score"]["max"],
            "departements": ", ".join(g["departements"]),
            "par_region": ", ".join(f"{k} : {number_fr(v, 2)}"
                                    for k, v in g["by_region"].items()),
            "nb_regles_enfreintes": len(g["violations"]),
        })
        for ln in g["lines"]:
            lines.append({"grappe": g["id"], "code": ln["code"], "ligne": ln["label"],
                          "base_code": ln["basis"], "quantite": ln["quantity"],
                          "montant_unitaire": ln["unit_amount"], "montant": ln["amount"],
                          "levier_code": ln["lever"], "beneficiaire": ln["beneficiary"]})
        for inst in g["schedule"]:
            schedule.append({"grappe": g["id"], "versement": inst["label"],
                             "part": inst["share"], "montant": inst["amount"]})
        for v in g["violations"]:
            violations.append({"grappe": g["id"], "code": v["code"], "message": v["message"],
                               "esms": ",".join(v["esms"])})
        for f in g["eligibility"]:
            findings.append({"grappe": g["id"], "constat": f})
    euros = {"financement": "euros", "sons_editeur": "euros", "montant": "euros",
             "montant_unitaire": "euros"}
    written = [
        write_csv(pd.DataFrame(grappes), out / "couts.csv", euros),
        write_csv(pd.DataFrame(lines), out / "lignes_financement.csv", euros),
        write_csv(pd.DataFrame(schedule), out / "versements.csv", euros),
        write_csv(pd.DataFrame(violations, columns=["grappe", "code", "message", "esms"]),
                  out / "violations.csv"),
        write_csv(pd.DataFrame(findings, columns=["grappe", "constat"]), out / "eligibilite.csv"),
    ]
    return written


def _decisions(values: list[str] | None, option: str) -> dict[str, str]:
    """``ID`` or ``ID:motif`` repeated -> {id: motif}."""
    out: dict[str, str] = {}
    for value in values or []:
        gid, _, motif = value.partition(":")
        if not gid.strip():
            msg = f"{option} : identifiant de grappe attendu (ex. {option} PA-24-002)."
            raise UsageError(msg)
        out[gid.strip()] = motif.strip()
    return out


def _print_selection(console: Console, sel: Selection) -> None:
    t = Table(title=f"Fenêtres (enveloppe {euros(sel.envelope)}, mode "
                    f"{label_of(sel.mode, MODE_LABELS)})", title_justify="left")
    for col in ("Fenêtre", "Plafond cumulé", "Dépensé", "Cumulé", "Report", "Grappes"):
        t.add_column(col, justify="left" if col == "Fenêtre" else "right")
    for w in sel.windows:
        t.add_row(w["libelle"], euros(w["plafond_cumule"]), euros(w["depense"]),
                  euros(w["depense_cumulee"]), euros(w["report"]), str(w["grappes"]))
    console.print(t)
    t = Table(title="Grappes financées", title_justify="left")
    for col in ("Grappe", "Porteur", "Fenêtre", "Coût", "Points", "Départements", "Champ",
                "Pourquoi"):
        t.add_column(col, justify="right" if col in ("Coût", "Points") else "left")
    for r in sel.funded.itertuples(index=False):
        t.add_row(r.grappe, r.nom, r.libelle_fenetre, euros(r.cout), str(r.points),
                  r.departements, r.champ, r.raison)
    console.print(t)
    console.print(f"{len(sel.funded)} grappe(s) financée(s) pour {euros(sel.total_cost)}, "
                  f"[bold]{sel.total_points}[/bold] points"
                  + ("" if sel.optimal else " (limite de temps atteinte : optimum non prouvé)")
                  + ".")
    for r in sel.not_funded.itertuples(index=False):
        name = f" {r.nom}" if r.nom else ""
        console.print(f"  non financée : {r.grappe}{name} ({euros(r.cout)}, {r.points} points) "
                      f"— {r.raison}", highlight=False)
    for line in sel.priorities:
        console.print(f"  {line}", highlight=False)
    for note in sel.notes:
        console.print(f"[yellow]{note}[/yellow]")


# --------------------------------------------------------------------------- commands


def register(app: typer.Typer) -> None:
    """Add ``rules``, ``cost`` and ``select`` to the ``grappes`` app."""

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

    @app.command("chiffrer")
    def cost_cmd(
        file: Annotated[Path, typer.Argument(help="etablissements.csv avec une colonne grappe.")],
        rules: Annotated[str, typer.Option("--regles", help=RULES_HELP)] = DEFAULT_RULES,
        declarations: Annotated[Path | None, typer.Option(
            "--declarations", help="CSV grappe;critere[;valeur] des critères déclarés.")] = None,
        as_json: JsonFlag = False,
        out: Annotated[Path | None,
                       typer.Option("--sortie", help="Dossier des fichiers CSV.")] = None,
        system_out: SystemOutFlag = False,
    ) -> None:
        """Recalculer le coût et vérifier les règles d'un regroupement modifié à la main."""
        console = Console(stderr=as_json)
        try:
            before = prepare_out(out, system_out) if out is not None else set()
            rule_set = load_rules(rules)
            etab = read_grouping_csv(file)
            decl = read_declarations(declarations) if declarations else None
            etab = etab[text_column(etab, "grappe") != ""]
            rows, warnings = cost_grouping(etab, rule_set, decl)
            written = _write_cost_outputs(out, rows) if out is not None else []
        except GrappesError as exc:  # RulesError, InputError, UsageError
            fail(console, exc, as_json=as_json)
        if as_json:
            print(json.dumps({"rules": rule_set.name, "grappes": [_public(g) for g in rows],
                              "warnings": warnings}, ensure_ascii=False, indent=2,
                             default=json_default))
        else:
            _print_costs(console, rows, warnings, rule_set)
        print_written(console, written, before)

    @app.command("selectionner")
    def select_cmd(
        file: Annotated[Path, typer.Argument(
            help="grappes.csv, etablissements.csv ou JSON de grappes propose.")],
        envelope_text: Annotated[str, typer.Option(
            "--enveloppe", help="Enveloppe régionale (€), écrite à la française : 6000000, "
                               "« 6 000 000 », « 6 000 000,50 » ou « 6,5 M€ ».")],
        windows: Annotated[str | None, typer.Option(
            "--fenetres", help="Parts cumulées par fenêtre, ex. 0.5,0.7,1.0 "
                              "(par défaut : celles du jeu de règles).")] = None,
        rules: Annotated[str, typer.Option("--regles", help=RULES_HELP)] = DEFAULT_RULES,
        max_share_departement: Annotated[float | None, typer.Option(
            "--part-max-departement", help="Part maximale de l'enveloppe par département.")
        ] = None,
        max_share_champ: Annotated[float | None, typer.Option(
            "--part-max-champ", help="Part maximale de l'enveloppe par champ.")] = None,
        max_share_statut: Annotated[float | None, typer.Option(
            "--part-max-statut", help="Part maximale par statut juridique.")] = None,
        mode: Annotated[str, typer.Option(
            "--mode", help="sequentiel (fenêtre par fenêtre, le processus des documents) ou "
                           "global (comparaison a posteriori, toutes les candidatures connues "
                           "d'avance).")
        ] = DEFAULT_MODE,
        forcer: Annotated[list[str] | None, typer.Option(
            "--forcer", help="Imposer une grappe (répétable) ; motif possible après « : », "
                             "ex. --forcer PA-24-002:projet structurant.")] = None,
        exclure: Annotated[list[str] | None, typer.Option(
            "--exclure", help="Écarter une grappe (répétable) ; motif possible après « : ».")
        ] = None,
        time_limit: Annotated[float, typer.Option(
            "--limite-temps", help="Limite de calcul par étape, en temps déterministe de CP-SAT "
                                 "(indépendant de la charge de la machine).")] = STAGE_DTIME,
        as_json: JsonFlag = False,
        out: Annotated[Path | None,
                       typer.Option("--sortie", help="Dossier des fichiers CSV.")] = None,
        system_out: SystemOutFlag = False,
    ) -> None:
        """Choisir les grappes à financer dans l'enveloppe, fenêtre par fenêtre (optimum exact)."""
        console = Console(stderr=as_json)
        try:
            try:
                envelope = parse_amount(envelope_text, "--enveloppe")
            except NumberError as exc:
                raise UsageError(str(exc)) from exc
            check_number("--enveloppe", envelope, above=0, maximum=1e11)
            check_number("--limite-temps", time_limit, above=0, maximum=86_400)
            for name, v in (("--part-max-departement", max_share_departement),
                            ("--part-max-champ", max_share_champ),
                            ("--part-max-statut", max_share_statut)):
                check_number(name, v, above=0, maximum=1)
            if mode not in MODES:
                msg = f"--mode : {' ou '.join(MODES)} attendu (reçu {mode!r})"
                raise UsageError(msg)
            decisions = ArsDecisions(_decisions(forcer, "--forcer"),
                                     _decisions(exclure, "--exclure"))
            before = prepare_out(out, system_out) if out is not None else set()
            rule_set = load_rules(rules)
            if windows:
                try:
                    shares = [float(s) for s in windows.split(",") if s.strip()]
                except ValueError as exc:
                    msg = "--fenetres : nombres séparés par des virgules attendus (0.5,0.7,1.0)."
                    raise UsageError(msg) from exc
                for share in shares:
                    check_number("--fenetres", share, above=0, maximum=1)
                if not shares:
                    msg = "--fenetres : au moins une part attendue (ex. 0.5,0.7,1.0)."
                    raise UsageError(msg)
                labels = None
            elif rule_set.windows:
                shares = [w.share for w in rule_set.windows]
                labels = [w.label for w in rule_set.windows]
            else:
                shares, labels = [1.0], ["Fenêtre unique"]
            cands = candidates_from_file(file, rule_set)
            skipped = list(cands.attrs.get("invalides", []))
            problems = candidate_problems(cands)
            if problems:
                raise InputError(problems_message(Path(file).name, problems))
            limits = BalanceLimits(max_share_departement, max_share_champ, max_share_statut)
            for name, v in (("--part-max-departement", max_share_departement),
                            ("--part-max-champ", max_share_champ),
                            ("--part-max-statut", max_share_statut)):
                if v is not None and not 0 < v <= 1:
                    msg = f"{name} : part entre 0 et 1 attendue."
                    raise InputError(msg)
            sel = select_funding(cands, envelope, shares, limits, mode=mode,
                                 window_labels=labels, time_limit=time_limit,
                                 priorities=rule_set.priorities,
                                 typologies=rule_set.typologies, decisions=decisions)
            written = [write_csv(df, out / name) for name, df in (
                ("selection.csv", sel.funded), ("non_retenues.csv", sel.not_funded),
                ("fenetres.csv", pd.DataFrame(sel.windows)))] if out is not None else []
        except GrappesError as exc:  # RulesError, InputError, UsageError
            fail(console, exc, as_json=as_json)
        if as_json:
            print(json.dumps(sel.as_dict() | {"invalides_non_candidates": skipped},
                             ensure_ascii=False, indent=2, default=json_default))
        else:
            _print_selection(console, sel)
            if skipped:
                console.print(f"[yellow]Grappes invalides, non candidates : "
                              f"{', '.join(skipped)}.[/yellow]", highlight=False)
        print_written(console, written, before)


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
