"""A funded grappe from any export the tool writes, read by the names of
``grappes.exports.files``.

Four writers, one vocabulary:

- ``grappes proposer --sortie DIR``: ``grappes.csv``, ``etablissements.csv``,
  ``financements.csv`` and ``scenario.json`` (which names the rule set);
- ``grappes proposer --sortie DIR --xlsx`` and the app's « Classeur XLSX »: ``grappes.xlsx``
  with the same tables as sheets, and one dossier sheet per grappe naming the rule set
  (« Règles appliquées »);
- ``grappes registre exporter DIR``: the same set per proposal in ``appariement-<n>/``,
  plus ``contacts.csv``.

Columns are read by their French headers (« Statut du DUI (code) ») or by their names
(``dui_statut_code``, the first row of files written before issue 20), both through
``files.column_names``. The amount is the ``financement`` column; the project type of each
member (acquisition: 18 months; upgrade: 9, 004) follows from its DUI status **code**
(``dui_statut_code``, never the label beside it) through the rule set's
``type_par_statut``, as in the costing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from grappes.exports.files import (
    DOSSIER_RULES_ROW,
    DOSSIER_SHEET_PREFIX,
    ETABLISSEMENTS_CSV,
    GRAPPES_CSV,
    REGISTRY_RUN_PREFIX,
    SCENARIO_FILE,
    XLSX_FILE,
    code_column,
    column_names,
    sheet_of,
)
from grappes.followup.model import FundedGrappe, Member, build_funded_grappe
from grappes.ingest.errors import IngestError
from grappes.programme.rules import RulesError, RuleSet, load_rules

#: the columns the follow-up reads, by file (names from ``grappes.exports.files``)
GRAPPES_NEEDED: tuple[str, ...] = ("grappe", "valide", "financement", "porteur", "regions")
ETABS_NEEDED: tuple[str, ...] = ("finess_et", "grappe", code_column("dui_statut"))
FILES_READ: tuple[str, ...] = (GRAPPES_CSV, ETABLISSEMENTS_CSV)
SHEETS: tuple[str, ...] = tuple(sheet_of(f) for f in FILES_READ)


@dataclass(frozen=True)
class ExportTables:
    """The grappes and establishments tables of one export, and the rule set it names."""

    grappes: pd.DataFrame
    etablissements: pd.DataFrame
    rules_name: str | None
    where: str


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


def _csv(path: Path, file_name: str) -> pd.DataFrame:
    frame = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame.columns = column_names(list(frame.columns), file_name)
    return frame


def _scenario_rules(folder: Path) -> str | None:
    path = folder / SCENARIO_FILE
    if not path.is_file():
        return None
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("regles", {}).get("nom")
    except (ValueError, AttributeError, OSError):
        return None
    return str(name) if name else None


def _workbook(data: bytes | Path, where: str) -> ExportTables:
    try:
        book = pd.read_excel(io.BytesIO(data) if isinstance(data, bytes) else data,
                             sheet_name=None, dtype=str, header=None)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        msg = f"{where} : classeur illisible ({exc.__class__.__name__})"
        raise IngestError(msg) from exc
    missing = [n for n in SHEETS if n not in book]
    if missing:
        raise IngestError(f"{where} : feuille(s) manquante(s) : {', '.join(missing)}")
    frames = []
    for n, file_name in zip(SHEETS, FILES_READ, strict=True):
        raw = book[n]
        frame = raw.iloc[1:].copy()
        frame.columns = column_names([str(c) for c in raw.iloc[0]], file_name)
        frames.append(frame.fillna(""))
    rules_name = None
    for name, sheet in book.items():
        if not str(name).startswith(DOSSIER_SHEET_PREFIX):
            continue
        for _, row in sheet.iterrows():
            if str(row.iloc[0]).strip() == DOSSIER_RULES_ROW:
                rules_name = str(row.iloc[1]).strip()
                break
        if rules_name:
            break
    return ExportTables(frames[0], frames[1], rules_name, where)


def _folder(folder: Path) -> ExportTables:
    files = {n: folder / n for n in (GRAPPES_CSV, ETABLISSEMENTS_CSV)}
    rules_name = _scenario_rules(folder)
    if rules_name is None and (folder / XLSX_FILE).is_file():
        rules_name = _workbook(folder / XLSX_FILE, str(folder / XLSX_FILE)).rules_name
    return ExportTables(_csv(files[GRAPPES_CSV], GRAPPES_CSV),
                        _csv(files[ETABLISSEMENTS_CSV], ETABLISSEMENTS_CSV), rules_name,
                        str(folder))


def read_exports(source: str | Path | bytes, name: str = "") -> list[ExportTables]:
    """Every export table set at ``source``: a folder of CSV (``proposer --sortie``), a registry
    export (one ``appariement-<n>`` folder per proposal), a ``grappes.xlsx`` file, or the
    bytes of an uploaded workbook (``name``: the uploaded file's name, for messages)."""
    if isinstance(source, bytes):
        return [_workbook(source, name or XLSX_FILE)]
    path = Path(source)
    if path.is_dir():
        if (path / GRAPPES_CSV).is_file():
            if not (path / ETABLISSEMENTS_CSV).is_file():
                msg = f"dossier {path} : fichier manquant : {ETABLISSEMENTS_CSV}"
                raise IngestError(msg)
            return [_folder(path)]
        subs = sorted((p for p in path.iterdir() if p.name.startswith(REGISTRY_RUN_PREFIX)
                       and (p / GRAPPES_CSV).is_file() and (p / ETABLISSEMENTS_CSV).is_file()),
                      key=lambda p: (len(p.name), p.name))  # appariement-2 before -10
        if subs:
            return [_folder(p) for p in subs]
        if (path / XLSX_FILE).is_file():
            return [_workbook(path / XLSX_FILE, str(path / XLSX_FILE))]
        msg = (f"dossier {path} : ni {GRAPPES_CSV} et {ETABLISSEMENTS_CSV} (grappes proposer "
               f"--sortie), ni dossier d'export du registre (appariement-…), ni {XLSX_FILE}")
        raise IngestError(msg)
    if not path.exists():
        raise IngestError(f"fichier introuvable : {path}")
    if path.suffix.lower() != ".xlsx":
        msg = (f"{path.name} : attendu un dossier d'export (grappes.csv…), un export du "
               "registre ou un classeur .xlsx")
        raise IngestError(msg)
    return [_workbook(path, path.name)]


def _check_columns(t: ExportTables) -> None:
    for table, needed, file in ((t.grappes, GRAPPES_NEEDED, GRAPPES_CSV),
                                (t.etablissements, ETABS_NEEDED, ETABLISSEMENTS_CSV)):
        missing = [c for c in needed if c not in table.columns]
        if missing:
            msg = (f"{t.where} : {sheet_of(file)} : colonne(s) manquante(s) : "
                   f"{', '.join(missing)} (fichier écrit par une autre version de grappes ? "
                   "réexportez-le)")
            raise IngestError(msg)


def funded_codes(source: str | Path | bytes, name: str = "") -> list[str]:
    """The valid grappes of an export (the ones an ARS can fund), in file order."""
    out: list[str] = []
    for t in read_exports(source, name):
        _check_columns(t)
        ok = t.grappes[t.grappes["valide"].astype(str).str.strip().str.lower() != "non"]
        out += [str(g).strip() for g in ok["grappe"] if str(g).strip()]
    return out


def _rules(named: str | None, rules: RuleSet | str | None) -> RuleSet:
    if isinstance(rules, RuleSet):
        return rules
    name = rules or named
    if name is None:
        raise IngestError("jeu de règles à préciser (--regles) : l'export ne le dit pas "
                          f"(ni {SCENARIO_FILE} ni {XLSX_FILE} à côté des CSV)")
    try:
        return load_rules(name)
    except RulesError as exc:
        raise IngestError(str(exc)) from exc


def read_funded_grappe(
    source: str | Path | bytes,
    grappe_id: str,
    signature: date,
    rules: RuleSet | str | None = None,
    name: str = "",
) -> FundedGrappe:
    """The grappe ``grappe_id`` of the export at ``source``, starting at ``signature``.

    ``rules`` defaults to the one the export names (``scenario.json`` or the workbook's
    dossier sheet).
    """
    exports = read_exports(source, name)
    for t in exports:
        _check_columns(t)
    found = [t for t in exports
             if (t.grappes["grappe"].astype(str).str.strip() == grappe_id).any()]
    if not found:
        known = ", ".join(str(g) for t in exports for g in t.grappes["grappe"].head(5))
        raise IngestError(f"grappe « {grappe_id} » absente de l'export (par exemple : {known})")
    t = found[-1]  # a registry export: the latest proposal holding the code
    rules_obj = _rules(t.rules_name, rules)
    grappes, etabs = t.grappes, t.etablissements
    g = grappes[grappes["grappe"].astype(str).str.strip() == grappe_id].iloc[0]
    total = _number(g["financement"])
    if total is None or total < 0:
        msg = f"grappe {grappe_id} : financement illisible ({g['financement']!r})"
        raise IngestError(msg)
    rows = etabs[etabs["grappe"].astype(str).str.strip() == grappe_id]
    if rows.empty:
        raise IngestError(f"grappe {grappe_id} : aucun établissement dans l'export")
    statut_col = code_column("dui_statut")
    fallback = rules_obj.type_by_statut.get("inconnu", "acquisition")
    members = []
    for _, e in rows.iterrows():
        statut = str(e.get(statut_col, "") or "").strip() or "inconnu"
        if statut not in rules_obj.type_by_statut and statut != "inconnu":
            msg = (f"grappe {grappe_id}, ESMS {e['finess_et']} : {statut_col} inconnu "
                   f"({statut!r} ; attendu : {', '.join(sorted(rules_obj.type_by_statut))})")
            raise IngestError(msg)
        ptype = rules_obj.type_by_statut.get(statut, fallback)
        members.append(Member(str(e["finess_et"]).strip(), str(e.get("raison_sociale", "")),
                              str(e.get("finess_ej", "")), ptype,
                              str(e.get("departement", ""))))
    region = str(g["regions"]).split(",")[0].strip()
    return build_funded_grappe(grappe_id, rules_obj, signature, members, total, region=region,
                               porteur=str(g["porteur"]).strip(),
                               porteur_nom=str(g.get("porteur_nom", "")).strip())
