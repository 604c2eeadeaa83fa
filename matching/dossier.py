"""Exports of a grouping: CSV set for French Excel and an XLSX workbook with one dossier per grappe.

The dossier sheet holds what a call for projects asks each grappe to file (000 « Critères
d'éligibilité » : « Fournir le nom de l'OG porteur du projet, sa typologie et la liste des
établissements qui bénéficieront de la solution mutualisée et leur typologie », the
typology of the project, the public, the funding plan and the payment schedule), so that a
porteur starts from a filled-in draft.

Every CSV goes through ``matching.exports`` (``;`` + BOM, formula neutralisation); the
workbook's cells are neutralised the same way (``exports.neutralise_frame``) and laid out
(bold titles, euro format, widths) with openpyxl in the same pass.

The same functions serve the command line (:func:`write_exports`, from a ``propose``
report) and the app (:func:`csv_files`, :func:`workbook_bytes`, from a report or from a
what-if scenario through :func:`export_set`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from matching.costing import PROJECT_TYPE_LABELS, GrappeCost, cost_grappe
from matching.exports import (
    csv_bytes,
    neutralise_frame,
    sheet_name,
    write_bytes_safely,
    write_csv,
)
from matching.model import Grappe
from matching.rules import RuleSet
from matching.solver.explain import STATUT_LABELS
from matching.validate import Violation, text_column

#: the CSV files of an export, in order (also the first sheets of the workbook)
CSV_FILES: tuple[str, ...] = ("grappes.csv", "etablissements.csv", "financements.csv")
XLSX_FILE = "grappes.xlsx"

#: ``grappes.csv``: the columns of ``matching.propose.GRAPPES_COLUMNS`` (same names, same
#: meaning: ``points`` are the computed criteria) plus the grid score with declared and
#: implied criteria (``points_grille`` out of ``points_max``), the porteur's name, SONS
#: money, and the validity after what-if edits
GRAPPE_COLUMNS: tuple[str, ...] = (
    "grappe", "champ", "n_esms", "n_og", "og", "departements", "regions", "statut", "points",
    "points_grille", "points_max", "points_detail", "porteur", "porteur_nom", "total",
    "sons_editeur",
    "project_type", "vendor", "mean_km", "max_km", "vendor_changes", "valide",
    "regles_enfreintes", "warnings",
)  # fmt: skip
FUNDING_COLUMNS: tuple[str, ...] = (
    "grappe", "code", "ligne", "base", "quantite", "montant_unitaire", "montant", "levier",
    "beneficiaire",
)  # fmt: skip
BASIS_LABELS: dict[str, str] = {
    "per_esms": "par ESMS financé",
    "per_esms_small_og": "par ESMS financé d'un petit OG",
    "per_project": "par projet",
}
LEVER_LABELS: dict[str, str] = {
    "esms_numerique": "ESMS numérique",
    "sons": "SONS (versé à l'éditeur, hors total)",
}
TYPOLOGIE_LABELS: dict[str, str] = {"petit": "petit OG", "moyen": "OG moyen", "gros": "gros OG"}
EURO_FORMAT = '#,##0 "€"'
#: dossier sheet: number of columns of the layout and their widths
DOSSIER_WIDTH = 8
DOSSIER_WIDTHS: tuple[int, ...] = (46, 42, 14, 30, 16, 26, 30, 26)


@dataclass
class ExportSet:
    """Everything the exports need, whatever produced the grouping (proposal or what-if)."""

    etablissements: pd.DataFrame
    grappes: list[Grappe]
    costs: dict[str, GrappeCost]
    rules: RuleSet
    #: ESMS in no grappe: ``finess_et``, ``reason``, ``near_miss`` (any extra column ignored)
    unplaced: pd.DataFrame | None = None
    #: grappe id -> hard rules broken (what-if edits can break them)
    violations: Mapping[str, Sequence[Violation]] | None = None


# --------------------------------------------------------------------------- building the set


def export_set(source: Any) -> ExportSet:
    """An :class:`ExportSet` from a ``propose`` report or a ``matching.whatif.WhatIf``.

    A what-if scenario is exported as it stands after the edits (its grappes are rebuilt
    from the current members, porteurs and costs; the solver's explanations are kept for
    the grappes the user did not change).
    """
    from matching.whatif import WhatIf, cost_from_dict

    if isinstance(source, ExportSet):
        return source
    if isinstance(source, WhatIf):
        return _from_whatif(source)
    rules = getattr(source, "ruleset", None) or getattr(source, "rules", None)
    for attr in ("etablissements", "grappes", "costs"):
        if not hasattr(source, attr):
            msg = f"export impossible : l'objet {type(source).__name__} n'a pas d'attribut {attr}"
            raise TypeError(msg)
    if not isinstance(rules, RuleSet):
        msg = "export impossible : pas de jeu de règles (chiffrage indisponible)"
        raise TypeError(msg)
    unplaced = (source.unplaced_frame() if hasattr(source, "unplaced_frame")
                else getattr(source, "unplaced", None))
    return ExportSet(
        etablissements=source.etablissements,
        grappes=list(source.grappes),
        costs={gid: cost_from_dict(c) for gid, c in dict(source.costs).items()},
        rules=rules,
        unplaced=unplaced,
    )


def _from_whatif(scenario: Any) -> ExportSet:
    evaluation = scenario.current or scenario.evaluate()
    original = getattr(scenario, "origin", {}) or {}
    grappes = []
    for gid in scenario.grappe_ids:
        members = scenario.members(gid)
        rows = scenario.rows_of(members)
        cost = evaluation.costs[gid]
        before = original.get(gid)
        same = before is not None and sorted(before.esms) == members
        grappes.append(Grappe(
            id=gid,
            champ=scenario.champ_of[gid],
            og=scenario.ogs(gid),
            esms=members,
            departements=sorted(set(text_column(rows, "departement")) - {""}),
            regions=sorted(set(text_column(rows, "region")) - {""}),
            points={k: int(v) for k, v in cost.score.computed.items()},
            warnings=list(before.warnings) if same else [],
            porteur=cost.porteur,
            reasons=list(before.reasons) if same else ["Grappe modifiée à la main (et si…)."],
            metrics=dict(before.metrics) if same else {},
        ))
    placed = set(scenario.assignment)
    et = text_column(scenario.etab, "finess_et")
    unplaced = pd.DataFrame({"finess_et": [e for e in et if e not in placed]}, dtype="string")
    reason = pd.Series("retiré de sa grappe par une modification (et si…)",
                       index=unplaced.index, dtype="string")
    near = pd.Series("", index=unplaced.index, dtype="string")
    before = scenario.unplaced
    if before is not None and len(before):
        known = before.drop_duplicates("finess_et").set_index("finess_et")
        if "reason" in known.columns:
            found = map_text(unplaced["finess_et"],
                              known["reason"].astype("string").fillna("").to_dict())
            reason = found.where(found != "", reason).astype("string")
        if "near_miss" in known.columns:
            near = map_text(unplaced["finess_et"],
                             known["near_miss"].astype("string").fillna("").to_dict())
    excluded = unplaced["finess_et"].isin(list(scenario.constraints.excluded_esms))
    unplaced["reason"] = reason.where(~excluded, "exclu par l'utilisateur")
    unplaced["near_miss"] = near.where(~excluded, "")
    return ExportSet(
        etablissements=scenario.etab,
        grappes=grappes,
        costs=dict(evaluation.costs),
        rules=scenario.rules,
        unplaced=unplaced,
        violations=evaluation.violations,
    )


# --------------------------------------------------------------------------- tables


def map_text(keys: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """``keys`` mapped through ``mapping`` as text, '' where missing (empty mapping included)."""
    lookup = pd.Series(dict(mapping), dtype="string")
    return keys.astype("string").map(lookup).astype("string").fillna("")


def _join(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _og_names(etab: pd.DataFrame) -> dict[str, str]:
    ej = text_column(etab, "finess_ej")
    names = text_column(etab, "raison_sociale_ej")
    frame = pd.DataFrame({"ej": ej, "nom": names})
    frame = frame[frame["nom"] != ""].drop_duplicates("ej")
    return dict(zip(frame["ej"], frame["nom"], strict=True))


def grappes_frame(data: ExportSet) -> pd.DataFrame:
    """One row per grappe (``GRAPPE_COLUMNS``)."""
    names = _og_names(data.etablissements)
    statut = text_column(data.etablissements, "statut_agrege")
    et_col = text_column(data.etablissements, "finess_et")
    rows = []
    for g in data.grappes:
        cost = data.costs.get(g.id)
        vs = list((data.violations or {}).get(g.id, []))
        mine = statut[et_col.isin(list(g.esms)).to_numpy()]
        counts = mine.value_counts()
        main_statut = min((str(k) for k in counts.index if counts[k] == counts.max()), default="")
        detail = dict(g.points)
        if cost is not None:
            detail = {**cost.score.computed, **{k: v for k, v in cost.score.declared.items() if v}}
        porteur = (cost.porteur if cost is not None else "") or (g.porteur or "")
        rows.append({
            "grappe": g.id,
            "champ": g.champ,
            "n_esms": len(g.esms),
            "n_og": len(g.og),
            "og": _join(g.og),
            "departements": _join(g.departements),
            "regions": _join(g.regions),
            "statut": main_statut,
            "points": int(sum(cost.score.computed.values())) if cost is not None
            else int(sum(g.points.values())),
            "points_grille": int(cost.score.total) if cost is not None else None,
            "points_max": int(cost.score.max) if cost is not None else None,
            "points_detail": ", ".join(f"{k} {v}" for k, v in detail.items()),
            "porteur": porteur,
            "porteur_nom": names.get(porteur, ""),
            "total": float(cost.total) if cost is not None else None,
            "sons_editeur": float(cost.sons_vendor) if cost is not None else None,
            "project_type": cost.project_type if cost is not None else "",
            "vendor": (cost.vendor or "") if cost is not None else "",
            "mean_km": g.metrics.get("mean_km"),
            "max_km": g.metrics.get("max_km"),
            "vendor_changes": g.metrics.get("vendor_changes"),
            "valide": "non" if vs else "oui",
            "regles_enfreintes": " | ".join(v.message for v in vs),
            "warnings": " | ".join(g.warnings),
        })
    return pd.DataFrame(rows, columns=list(GRAPPE_COLUMNS))


def etablissements_frame(data: ExportSet) -> pd.DataFrame:
    """One row per establishment of the table: normalised columns + ``grappe``, ``porteur``
    (the ESMS belongs to its grappe's porteur), ``type_projet``, ``raison``, ``quasi_grappe``."""
    table = data.etablissements.copy()
    et = text_column(table, "finess_et")
    grappe_of = {e: g.id for g in data.grappes for e in g.esms}
    porteur_of = {g.id: (data.costs[g.id].porteur if g.id in data.costs else g.porteur or "")
                  for g in data.grappes}
    types: dict[str, str] = {}
    for cost in data.costs.values():
        types.update(cost.esms_types)
    table["grappe"] = map_text(et, grappe_of)
    table["porteur"] = [
        "oui" if g and porteur_of.get(g) == ej else ""
        for g, ej in zip(table["grappe"], text_column(table, "finess_ej"), strict=True)
    ]
    table["type_projet"] = map_text(et, types)
    reason = pd.Series("", index=table.index, dtype="string")
    near = pd.Series("", index=table.index, dtype="string")
    if data.unplaced is not None and len(data.unplaced):
        un = data.unplaced.drop_duplicates("finess_et").set_index("finess_et")
        if "reason" in un.columns:
            reason = map_text(et, un["reason"].astype("string").fillna("").to_dict())
        if "near_miss" in un.columns:
            near = map_text(et, un["near_miss"].astype("string").fillna("").to_dict())
    table["raison"] = reason.where(table["grappe"] == "", "")
    table["quasi_grappe"] = near.where(table["grappe"] == "", "")
    return table.reset_index(drop=True)


def funding_frame(data: ExportSet) -> pd.DataFrame:
    """One row per funding line of each grappe (``FUNDING_COLUMNS``)."""
    rows = []
    for g in data.grappes:
        cost = data.costs.get(g.id)
        if cost is None:
            continue
        for ln in cost.lines:
            rows.append({
                "grappe": g.id,
                "code": ln.code,
                "ligne": ln.label,
                "base": BASIS_LABELS.get(ln.basis, ln.basis),
                "quantite": int(ln.quantity),
                "montant_unitaire": float(ln.unit_amount),
                "montant": float(ln.amount),
                "levier": LEVER_LABELS.get(ln.lever, ln.lever),
                "beneficiaire": ln.beneficiary,
            })
    return pd.DataFrame(rows, columns=list(FUNDING_COLUMNS))


# --------------------------------------------------------------------------- dossier sheet


def _project_typology(members: pd.DataFrame, rules: RuleSet) -> str:
    """000 « Typologie de projet » : « Gros/moyen OG ou Grappes de petites structures »."""
    size = pd.to_numeric(members["og_nb_esms"], errors="coerce").fillna(0)
    if bool((size > rules.grouping.petit_og_max).any()):
        return "Gros / moyen OG (avec d'autres structures rattachées)"
    return "Grappe de petites structures"


def dossier_rows(data: ExportSet, grappe: Grappe) -> tuple[list[list[Any]], dict[str, list]]:
    """The dossier of one grappe as rows of ``DOSSIER_WIDTH`` cells, and the cells to style.

    Returns ``(rows, marks)`` where ``marks`` has ``title``, ``section``, ``header`` (row
    indexes, 0-based) and ``euro`` (``(row, column)`` pairs, 0-based) for the layout pass.
    """
    etab = data.etablissements
    et = text_column(etab, "finess_et")
    members = etab[et.isin(list(grappe.esms)).to_numpy()]
    members = members.sort_values(["finess_ej", "finess_et"])
    cost = data.costs.get(grappe.id)
    rules = data.rules
    names = _og_names(etab)
    porteur = (cost.porteur if cost is not None else "") or (grappe.porteur or "")
    rows: list[list[Any]] = []
    marks: dict[str, list[Any]] = {"title": [], "section": [], "header": [], "euro": []}

    def add(*cells: Any, mark: str | None = None, euro: tuple[int, ...] = ()) -> None:
        row = list(cells) + [""] * (DOSSIER_WIDTH - len(cells))
        if mark:
            marks[mark].append(len(rows))
        marks["euro"].extend((len(rows), c) for c in euro)
        rows.append(row[:DOSSIER_WIDTH])

    add(f"Dossier de candidature — grappe {grappe.id}", mark="title")
    add("Appel à projets", rules.title)
    add("Règles appliquées", rules.name)
    add("Typologie de projet", _project_typology(members, rules))
    add("Type de public (champ)", grappe.champ)
    add("Nombre de structures concernées (ESMS)", len(grappe.esms))
    add("Nombre d'OG", len(grappe.og))
    add("Départements", _join(grappe.departements))
    add("Régions", _join(grappe.regions))
    if cost is not None:
        add("Type de projet", PROJECT_TYPE_LABELS.get(cost.project_type, cost.project_type))
        segur = {True: "oui", False: "non", None: "inconnu"}[cost.vendor_segur]
        add("Solution DUI commune", cost.vendor or "à choisir", "Référencée Ségur", segur)
    add()

    add("OG porteur", mark="section")
    add("FINESS EJ", "Raison sociale", "Typologie", "ESMS gérés", "Statut juridique",
        mark="header")
    prow = etab[(text_column(etab, "finess_ej") == porteur).to_numpy()].head(1)
    if len(prow):
        p = prow.iloc[0]
        add(porteur, names.get(porteur, ""),
            TYPOLOGIE_LABELS.get(str(p["og_typologie"]), str(p["og_typologie"])),
            int(p["og_nb_esms"]),
            f"{p['statut_juridique']} ({STATUT_LABELS.get(str(p['statut_agrege']), '')})")
    else:
        add(porteur or "à désigner")
    add()

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
    add("FINESS ET", "Raison sociale", "Catégorie", "Typologie (catégorie)", "FINESS EJ (OG)",
        "Commune", "Statut DUI / éditeur", "Type de projet", mark="header")
    types = cost.esms_types if cost is not None else {}
    if cost is not None and not types and len(members):
        # a report keeps costs as dicts without the per-ESMS project types: recompute them
        types = cost_grappe(members, rules, porteur=cost.porteur or None).esms_types
    for _, r in members.iterrows():
        dui = str(r["dui_statut"]) + (f" / {r['dui_editeur']}" if str(r["dui_editeur"]) else "")
        add(str(r["finess_et"]), str(r["raison_sociale"]), str(r["categorie"]),
            str(r["categorie_libelle"]), str(r["finess_ej"]),
            f"{r['commune_nom']} ({r['departement']})", dui,
            PROJECT_TYPE_LABELS.get(types.get(str(r["finess_et"]), ""),
                                    types.get(str(r["finess_et"]), "")))
    add()

    if cost is not None:
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
    vs = list((data.violations or {}).get(grappe.id, []))
    findings = [*(f"Règle non respectée : {v.message}" for v in vs),
                *(cost.eligibility if cost is not None else []), *grappe.warnings]
    if findings:
        add("Points d'attention", mark="section")
        for text in findings:
            add(text)
        add()
    if grappe.reasons:
        add("Pourquoi ces membres", mark="section")
        for text in grappe.reasons:
            add(text)
    return rows, marks


def dossier_frame(data: ExportSet, grappe: Grappe) -> tuple[pd.DataFrame, dict[str, list]]:
    """The dossier rows as a DataFrame (placeholder column names, dropped in the workbook)."""
    rows, marks = dossier_rows(data, grappe)
    columns = [f"c{i}" for i in range(DOSSIER_WIDTH)]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return frame, marks


def dossier_sheet_name(grappe_id: str) -> str:
    return f"dossier {grappe_id}"


# --------------------------------------------------------------------------- files


def csv_files(source: Any) -> dict[str, bytes]:
    """The CSV set as bytes (file name -> content), for downloads."""
    data = export_set(source)
    frames = (grappes_frame(data), etablissements_frame(data), funding_frame(data))
    return {name: csv_bytes(df) for name, df in zip(CSV_FILES, frames, strict=True)}


def workbook_bytes(source: Any) -> bytes:
    """The XLSX workbook: sheets ``grappes``, ``etablissements``, ``financements``, then one
    ``dossier <id>`` sheet per grappe, laid out for reading and printing.

    Written in one pass (pandas + openpyxl, text cells neutralised by
    ``matching.exports.neutralise_frame``) and styled before saving: re-opening a workbook
    with openpyxl to style it would triple the time on a région's establishments sheet.
    """
    from openpyxl.styles import Font, PatternFill

    data = export_set(source)
    tables = {
        "grappes": grappes_frame(data),
        "etablissements": etablissements_frame(data),
        "financements": funding_frame(data),
    }
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE4F0")
    used: set[str] = set()
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, df in tables.items():
            sheet = sheet_name(name, used)
            neutralise_frame(df).to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for i, col in enumerate(df.columns, 1):
                sample = [str(col), *(str(v) for v in df[col].head(200))]
                width = min(max(max(len(v) for v in sample) + 2, 8), 60)
                ws.column_dimensions[_letter(i)].width = width
                ws.cell(1, i).font = bold
        for g in data.grappes:
            frame, marks = dossier_frame(data, g)
            sheet = sheet_name(dossier_sheet_name(g.id), used)
            neutralise_frame(frame).to_excel(writer, sheet_name=sheet, index=False, header=False)
            ws = writer.sheets[sheet]
            for r in marks["title"]:
                ws.cell(r + 1, 1).font = Font(bold=True, size=14)
            for r in marks["section"]:
                ws.cell(r + 1, 1).font = Font(bold=True, size=12)
            for r in marks["header"]:
                for c in range(1, DOSSIER_WIDTH + 1):
                    cell = ws.cell(r + 1, c)
                    if cell.value not in (None, ""):
                        cell.font = bold
                        cell.fill = fill
            for r, c in marks["euro"]:
                ws.cell(r + 1, c + 1).number_format = EURO_FORMAT
            for i, w in enumerate(DOSSIER_WIDTHS, 1):
                ws.column_dimensions[_letter(i)].width = w
    return buffer.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def write_exports(report: Any, out_dir: str | Path, xlsx: bool = True) -> list[Path]:
    """Write the CSV set (and the XLSX workbook when ``xlsx``) into ``out_dir``.

    ``report`` is a ``matching.propose`` report, a ``matching.whatif.WhatIf`` or an
    :class:`ExportSet`. Returns the written paths, in order.
    """
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"dossier de sortie impossible à créer : {folder} ({exc.strerror})"
        raise ValueError(msg) from exc
    data = export_set(report)
    written = []
    frames = (grappes_frame(data), etablissements_frame(data), funding_frame(data))
    for name, df in zip(CSV_FILES, frames, strict=True):
        written.append(write_csv(df, folder / name))
    if xlsx:
        path = folder / XLSX_FILE
        write_bytes_safely(path, workbook_bytes(data))
        written.append(path)
    return written
