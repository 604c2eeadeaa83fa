"""Exports of a scenario: the CSV set for French Excel and an XLSX workbook with one dossier
per grappe.

The dossier sheet holds what a call for projects asks each grappe to file (000 « Critères
d'éligibilité » : « Fournir le nom de l'OG porteur du projet, sa typologie et la liste des
établissements qui bénéficieront de la solution mutualisée et leur typologie », the
typology of the project, the public, the funding plan and the payment schedule), so that a
porteur starts from a filled-in draft.

The three tables come from ``grappes.exports.tables`` (one builder each) and are written by
``grappes.exports.french_excel`` (CSV: ``;``, BOM, decimal comma, oui/non; XLSX with
xlsxwriter: euro format, filters, frozen header). The same functions serve ``grappes proposer
--sortie`` (:func:`write_exports`) and the app (:func:`csv_files`, :func:`workbook_bytes`), always
from a :class:`grappes.scenarios.scenario.Scenario`: same scenario, same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from grappes.core.errors import UnusableInput
from grappes.core.model import Grappe
from grappes.core.vocabulary import DUI_STATUT_LABELS, STATUT_LABELS, label_of
from grappes.exports.files import (
    DOSSIER_RULES_ROW,
    DOSSIER_SHEET_PREFIX,
    FILES,
    XLSX_FILE,
    header_kinds,
    sheet_of,
)
from grappes.exports.french_excel import WorkbookWriter, csv_bytes, write_csv
from grappes.exports.naming import esms_labels, og_labels, with_names
from grappes.exports.safe_write import write_bytes_safely
from grappes.exports.tables import (
    BASIS_LABELS,
    LEVER_LABELS,
    TYPE_LABELS,
    TYPOLOGIE_LABELS,
    tables,
    written_table,
)
from grappes.programme.costing import GrappeCost
from grappes.programme.rules import RuleSet
from grappes.scenarios.scenario import Scenario

#: the CSV files of an export, in order (also the first sheets of the workbook)
CSV_FILES: tuple[str, ...] = tuple(FILES)
#: dossier sheet: number of columns of the layout and their widths
DOSSIER_WIDTH = 8
DOSSIER_WIDTHS: tuple[int, ...] = (46, 42, 14, 30, 16, 26, 30, 26)


def _join(values: list[Any]) -> str:
    return ", ".join(str(v) for v in values)


# --------------------------------------------------------------------------- dossier sheet


def _project_typology(members: pd.DataFrame, rules: RuleSet) -> str:
    """000 « Typologie de projet » : « Gros/moyen OG ou Grappes de petites structures »."""
    size = pd.to_numeric(members["og_nb_esms"], errors="coerce").fillna(0)
    if bool((size > rules.grouping.petit_og_max).any()):
        return "Gros / moyen OG (avec d'autres structures rattachées)"
    return "Grappe de petites structures"


class _Sheet:
    """Rows of ``DOSSIER_WIDTH`` cells, and the cells the layout pass styles (``marks``:
    ``title``, ``section``, ``header`` row indexes and ``euro`` ``(row, column)`` pairs)."""

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.marks: dict[str, list[Any]] = {"title": [], "section": [], "header": [], "euro": []}

    def add(self, *cells: Any, mark: str | None = None, euro: tuple[int, ...] = ()) -> None:
        row = list(cells) + [""] * (DOSSIER_WIDTH - len(cells))
        if mark:
            self.marks[mark].append(len(self.rows))
        self.marks["euro"].extend((len(self.rows), c) for c in euro)
        self.rows.append(row[:DOSSIER_WIDTH])


def _summary(sheet: _Sheet, data: Scenario, grappe: Grappe, members: pd.DataFrame,
             cost: GrappeCost | None) -> None:
    rules = data.rules
    add = sheet.add
    add(f"Dossier de candidature — grappe {grappe.id}", mark="title")
    add("Appel à projets", rules.title)
    add(DOSSIER_RULES_ROW, rules.name)
    add("Typologie de projet", _project_typology(members, rules))
    add("Type de public (champ)", grappe.champ)
    add("Nombre de structures concernées (ESMS)", len(grappe.esms))
    add("Nombre d'OG", len(grappe.og))
    add("Départements", _join(grappe.departements))
    add("Régions", _join(grappe.regions))
    add("Valide (règles dures de l'appel)", data.valid(grappe.id))
    if cost is not None:
        add("Type de projet", TYPE_LABELS.get(cost.project_type, cost.project_type))
        segur = {True: "oui", False: "non", None: "inconnu"}[cost.vendor_segur]
        add("Solution DUI commune", cost.vendor or "à choisir", "Référencée Ségur", segur)
    add()


def _porteur_section(sheet: _Sheet, data: Scenario, porteur: str,
                     names: dict[str, str]) -> None:
    add = sheet.add
    add("OG porteur", mark="section")
    add("FINESS EJ", "Raison sociale", "Typologie", "ESMS gérés", "Statut juridique",
        mark="header")
    prow = data.og_rows(porteur).head(1)
    if len(prow):
        p = prow.iloc[0]
        add(porteur, names.get(porteur, ""),
            TYPOLOGIE_LABELS.get(str(p["og_typologie"]), str(p["og_typologie"])),
            int(p["og_nb_esms"]),
            f"{p['statut_juridique']} ({STATUT_LABELS.get(str(p['statut_agrege']), '')})")
    else:
        add(porteur or "à désigner")
    add()


def _members_sections(sheet: _Sheet, members: pd.DataFrame, names: dict[str, str],
                      ogs: dict[str, str], cost: GrappeCost | None) -> None:
    """The grappe's OGs, then its ESMS (« Établissements bénéficiaires »)."""
    add = sheet.add
    add("OG de la grappe", mark="section")
    add("FINESS EJ", "Raison sociale", "Typologie", "ESMS gérés", "ESMS dans la grappe",
        "Statut", mark="header")
    for og, part in members.groupby("finess_ej", sort=True):
        p = part.iloc[0]
        add(str(og), names.get(str(og), ""),
            TYPOLOGIE_LABELS.get(str(p["og_typologie"]), str(p["og_typologie"])),
            int(p["og_nb_esms"]), len(part),
            STATUT_LABELS.get(str(p["statut_agrege"]), str(p["statut_agrege"])))
    add()
    add("Établissements bénéficiaires", mark="section")
    add("FINESS ET", "Raison sociale", "Catégorie", "Typologie (catégorie)", "OG (FINESS EJ)",
        "Commune", "Statut DUI / éditeur", "Type de projet", mark="header")
    types = cost.esms_types if cost is not None else {}
    for r in members.astype(object).to_dict("records"):
        dui = label_of(str(r["dui_statut"]), DUI_STATUT_LABELS) \
            + (f" / {r['dui_editeur']}" if str(r["dui_editeur"]) else "")
        add(str(r["finess_et"]), str(r["raison_sociale"]), str(r["categorie"]),
            str(r["categorie_libelle"]), ogs.get(str(r["finess_ej"]), str(r["finess_ej"])),
            f"{r['commune_nom']} ({r['departement']})", dui,
            TYPE_LABELS.get(types.get(str(r["finess_et"]), ""),
                            types.get(str(r["finess_et"]), "")))
    add()


def _money_sections(sheet: _Sheet, cost: GrappeCost, rules: RuleSet) -> None:
    """The funding plan, the payment schedule and the priority grid."""
    add = sheet.add
    add("Plan de financement", mark="section")
    add("Ligne", "Base", "Quantité", "Montant unitaire", "Montant", "Levier", mark="header")
    for ln in cost.lines:
        add(ln.label, BASIS_LABELS.get(ln.basis, ln.basis), int(ln.quantity),
            float(ln.unit_amount), float(ln.amount), LEVER_LABELS.get(ln.lever, ln.lever),
            euro=(3, 4))
    add("Total ESMS numérique", "", "", "", float(cost.total), euro=(4,))
    if cost.sons_vendor:
        add("SONS versé à l'éditeur (hors total)", "", "", "", float(cost.sons_vendor),
            euro=(4,))
    for region, amount in sorted(cost.by_region.items()):
        add(f"Part de la région {region}", "", "", "", float(amount), euro=(4,))
    add()
    add("Échéancier de versement", mark="section")
    add("Versement", "Part", "Montant", mark="header")
    for inst in cost.schedule:
        add(inst.label, f"{inst.share:.0%}", float(inst.amount), euro=(2,))
    add()
    add("Grille de priorisation", mark="section")
    add("Critère", "Groupe", "Points obtenus", "Points possibles", "Origine", mark="header")
    got = {**cost.score.computed, **cost.score.declared}
    for c in rules.grid.criteria:
        add(c.label, c.group, int(got.get(c.code, 0)), int(c.points),
            "calculé" if c.computed else "déclaré")
    add("Total", "", int(cost.score.total), int(cost.score.max))
    add()


def _text_sections(sheet: _Sheet, data: Scenario, grappe: Grappe, cost: GrappeCost | None,
                   labels: dict[str, str]) -> None:
    """« Points d'attention » (broken rules, eligibility, warnings), « Pourquoi ces membres »,
    with every OG and ESMS named « Nom (FINESS) »."""
    vs = list(data.violations.get(grappe.id, []))
    findings = [*(f"Règle non respectée : {v.message}" for v in vs),
                *(cost.eligibility if cost is not None else []), *grappe.warnings]
    if findings:
        sheet.add("Points d'attention", mark="section")
        for text in findings:
            sheet.add(with_names(text, labels))
        sheet.add()
    if grappe.reasons:
        sheet.add("Pourquoi ces membres", mark="section")
        for text in grappe.reasons:
            sheet.add(with_names(text, labels))


def dossier_rows(data: Scenario, grappe: Grappe) -> tuple[list[list[Any]], dict[str, list]]:
    """The dossier of one grappe as rows of ``DOSSIER_WIDTH`` cells, and the cells to style.

    Returns ``(rows, marks)`` where ``marks`` has ``title``, ``section``, ``header`` (row
    indexes, 0-based) and ``euro`` (``(row, column)`` pairs, 0-based) for the layout pass.
    """
    members = data.members(grappe.id).sort_values(["finess_ej", "finess_et"])
    cost = data.costs.get(grappe.id)
    names = data.og_names()
    ogs = og_labels(members)  # « Nom (FINESS) » of the member OGs and ESMS, for the texts
    porteur = (cost.porteur if cost is not None else "") or (grappe.porteur or "")
    sheet = _Sheet()
    _summary(sheet, data, grappe, members, cost)
    _porteur_section(sheet, data, porteur, names)
    _members_sections(sheet, members, names, ogs, cost)
    if cost is not None:
        _money_sections(sheet, cost, data.rules)
    # (ET and EJ numbers never coincide: one mapping names both)
    _text_sections(sheet, data, grappe, cost, {**esms_labels(members), **ogs})
    return sheet.rows, sheet.marks


def dossier_sheet_name(grappe_id: str) -> str:
    return f"{DOSSIER_SHEET_PREFIX}{grappe_id}"


# --------------------------------------------------------------------------- files


def csv_files(scenario: Scenario) -> dict[str, bytes]:
    """The CSV set as bytes (file name -> content), for downloads."""
    return {name: csv_bytes(written_table(name, df), header_kinds(name))
            for name, df in tables(scenario).items()}


def workbook_bytes(scenario: Scenario) -> bytes:
    """The XLSX workbook: sheets ``grappes``, ``etablissements``, ``financements``,
    ``financements_og`` (the same tables as the CSV files), then one ``dossier <id>`` sheet
    per grappe.

    Written in one pass with xlsxwriter (``french_excel.WorkbookWriter``): amounts in euro
    format, distances with one decimal, header filters and frozen header on table sheets.
    """
    buffer = io.BytesIO()
    writer = WorkbookWriter(buffer)
    for name, df in tables(scenario).items():
        writer.table(sheet_of(name), written_table(name, df), header_kinds(name))
    for g in scenario.grappes:
        rows, marks = dossier_rows(scenario, g)
        writer.rows(dossier_sheet_name(g.id), rows, marks, DOSSIER_WIDTHS)
    writer.close()
    return buffer.getvalue()


def write_exports(scenario: Scenario, out_dir: str | Path, xlsx: bool = True) -> list[Path]:
    """Write the CSV set (and the XLSX workbook when ``xlsx``) into ``out_dir``; returns the
    written paths, in order."""
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"dossier de sortie impossible à créer : {folder} ({exc.strerror})"
        raise UnusableInput(msg) from exc
    written = [write_csv(written_table(name, df), folder / name, header_kinds(name))
               for name, df in tables(scenario).items()]
    if xlsx:
        path = folder / XLSX_FILE
        write_bytes_safely(path, workbook_bytes(scenario))
        written.append(path)
    return written
