"""A funded grappe from the files the tool writes: the CSV set or the XLSX workbook.

``grappes propose --out DIR [--xlsx]`` writes ``grappes.csv`` (one row per grappe: total,
porteur, régions), ``etablissements.csv`` (one row per ESMS with its grappe and DUI status)
and ``financements.csv``, and ``grappes.xlsx`` with the same sheets plus one dossier sheet
per grappe that names the rule set (« Règles appliquées »). The project type of each
member (acquisition: 18 months; upgrade: 9) follows from its DUI status through the rule
set's ``type_par_statut``, as in the costing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from matching.followup.model import FundedGrappe, Member, build_funded_grappe
from matching.ingest.errors import IngestError
from matching.programme.rules import RulesError, RuleSet, load_rules

SHEETS = ("grappes", "etablissements")


def _number(value: object) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    text = text.replace("€", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _read_tables(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """(grappes, etablissements, rule-set name if the workbook says it)."""
    if path.is_dir():
        files = {n: path / f"{n}.csv" for n in SHEETS}
        missing = [f.name for f in files.values() if not f.exists()]
        if missing:
            msg = f"dossier {path} : fichier(s) manquant(s) : {', '.join(missing)}"
            raise IngestError(msg)
        frames = [pd.read_csv(files[n], sep=";", dtype=str, encoding="utf-8-sig",
                              keep_default_na=False) for n in SHEETS]
        return frames[0], frames[1], None
    if path.suffix.lower() != ".xlsx":
        msg = f"{path.name} : attendu un dossier de CSV (grappes.csv…) ou un classeur .xlsx"
        raise IngestError(msg)
    if not path.exists():
        raise IngestError(f"fichier introuvable : {path}")
    try:
        book = pd.read_excel(path, sheet_name=None, dtype=str, header=None)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise IngestError(f"{path.name} : classeur illisible ({exc.__class__.__name__})") from exc
    missing = [n for n in SHEETS if n not in book]
    if missing:
        raise IngestError(f"{path.name} : feuille(s) manquante(s) : {', '.join(missing)}")
    frames = []
    for n in SHEETS:
        raw = book[n]
        frame = raw.iloc[1:].copy()
        frame.columns = [str(c) for c in raw.iloc[0]]
        frames.append(frame.fillna(""))
    rules_name = None
    for name, sheet in book.items():
        if not str(name).startswith("dossier"):
            continue
        for _, row in sheet.iterrows():
            if str(row.iloc[0]).strip() == "Règles appliquées":
                rules_name = str(row.iloc[1]).strip()
                break
        if rules_name:
            break
    return frames[0], frames[1], rules_name


def read_funded_grappe(
    path: str | Path,
    grappe_id: str,
    signature: date,
    rules: RuleSet | str | None = None,
) -> FundedGrappe:
    """The grappe ``grappe_id`` of the export at ``path``, starting at ``signature``.

    ``rules`` defaults to the one the workbook names; a CSV set needs it given.
    """
    path = Path(path)
    grappes, etabs, named = _read_tables(path)
    if isinstance(rules, str):
        rules_obj = load_rules(rules)
    elif rules is None:
        if named is None:
            raise IngestError("jeu de règles à préciser (--regles) : les CSV ne le disent pas")
        try:
            rules_obj = load_rules(named)
        except RulesError as exc:
            raise IngestError(str(exc)) from exc
    else:
        rules_obj = rules
    for col in ("grappe", "total", "porteur", "regions"):
        if col not in grappes.columns:
            raise IngestError(f"grappes : colonne manquante : {col}")
    for col in ("finess_et", "grappe", "dui_statut"):
        if col not in etabs.columns:
            raise IngestError(f"etablissements : colonne manquante : {col}")
    row = grappes[grappes["grappe"].astype(str).str.strip() == grappe_id]
    if row.empty:
        known = ", ".join(grappes["grappe"].astype(str).head(5))
        raise IngestError(f"grappe « {grappe_id} » absente de l'export (par exemple : {known})")
    g = row.iloc[0]
    total = _number(g["total"])
    if total is None or total < 0:
        raise IngestError(f"grappe {grappe_id} : montant total illisible ({g['total']!r})")
    rows = etabs[etabs["grappe"].astype(str).str.strip() == grappe_id]
    if rows.empty:
        raise IngestError(f"grappe {grappe_id} : aucun établissement dans l'export")
    members = []
    for _, e in rows.iterrows():
        statut = str(e.get("dui_statut", "") or "inconnu").strip() or "inconnu"
        ptype = rules_obj.type_by_statut.get(statut, rules_obj.type_by_statut.get("inconnu",
                                                                                 "acquisition"))
        members.append(Member(str(e["finess_et"]).strip(), str(e.get("raison_sociale", "")),
                              str(e.get("finess_ej", "")), ptype,
                              str(e.get("departement", ""))))
    region = str(g["regions"]).split(",")[0].strip()
    return build_funded_grappe(grappe_id, rules_obj, signature, members, total, region=region,
                               porteur=str(g["porteur"]), porteur_nom=str(g.get("porteur_nom", "")))
