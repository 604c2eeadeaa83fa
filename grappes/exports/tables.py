"""The one builder of each output table: ``grappes.csv``, ``etablissements.csv``,
``financements.csv``.

``grappes proposer --sortie`` (with or without ``--xlsx``) and the app's downloads all call these
functions on a :class:`grappes.scenarios.scenario.Scenario`, so the same scenario gives the
same files byte for byte. Every column is declared once, with its kind and meaning, in
``grappes.exports.files`` (the vocabulary the readers use too); ``docs/formats-sorties.md``
lists them all and a test keeps the two in step.

Values stay typed here (bool, int, float, text); ``grappes.exports.french_excel`` turns them
into what French Excel reads (``oui``/``non``, decimal comma, whole euros, euro format in the
workbook). Text columns carry labels ("à mettre à niveau"); where a program needs the code it
sits in its own ``*_code`` column, which ``grappes chiffrer`` reads first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from grappes.core.formatting import euros
from grappes.core.model import ETAB_COLUMNS
from grappes.core.vocabulary import DUI_STATUT_LABELS, STATUT_LABELS, TYPOLOGIE_LABELS
from grappes.exports.files import (
    ETABLISSEMENTS_COLUMNS,
    ETABLISSEMENTS_CSV,
    FINANCEMENTS_COLUMNS,
    FINANCEMENTS_CSV,
    FINANCEMENTS_OG_COLUMNS,
    FINANCEMENTS_OG_CSV,
    GRAPPES_COLUMNS,
    GRAPPES_CSV,
    LABELLED_COLUMNS,
    RENAMED,
    code_column,
    written_columns,
)
from grappes.exports.naming import og_labels, with_names
from grappes.programme.costing import PROJECT_TYPE_LABELS
from grappes.programme.reach import grappe_distances
from grappes.programme.validate import text_column
from grappes.scenarios.og_view import OgShare, og_shares
from grappes.scenarios.scenario import Scenario

# --------------------------------------------------------------------------- labels

COORD_LABELS: dict[str, str] = {
    "fichier": "coordonnées du fichier",
    "centroide_commune": "centroïde de la commune",
    "aucune": "aucune",
}
TYPE_LABELS: dict[str, str] = {**PROJECT_TYPE_LABELS, "exclu": "non financé (exclu)"}
BASIS_LABELS: dict[str, str] = {
    "per_esms": "par ESMS financé",
    "per_esms_small_og": "par ESMS financé d'un petit OG",
    "per_project": "par projet",
}
LEVER_LABELS: dict[str, str] = {
    "esms_numerique": "ESMS numérique",
    "sons": "SONS (versé à l'éditeur, hors total)",
}
#: establishments columns written as a label, with the code in ``<name>_code``
#: (the names: ``files.LABELLED_COLUMNS``)
LABELLED: dict[str, dict[str, str]] = dict(zip(LABELLED_COLUMNS, (
    {k: v for k, v in STATUT_LABELS.items() if k},
    DUI_STATUT_LABELS,
    TYPOLOGIE_LABELS,
    COORD_LABELS,
), strict=True))


# --------------------------------------------------------------------------- builders


def _join(values: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _labels(codes: pd.Series, labels: Mapping[str, str]) -> pd.Series:
    return codes.map(lambda c: labels.get(c, c)).astype("string")


def og_names(etab: pd.DataFrame) -> dict[str, str]:
    """FINESS EJ -> OG name (first non-empty)."""
    frame = pd.DataFrame({"ej": text_column(etab, "finess_ej"),
                          "nom": text_column(etab, "raison_sociale_ej")})
    frame = frame[frame["nom"] != ""].drop_duplicates("ej")
    return dict(zip(frame["ej"], frame["nom"], strict=True))


def grappes_table(s: Scenario) -> pd.DataFrame:
    """``grappes.csv``: one row per grappe (``GRAPPES_COLUMNS``)."""
    # criteria read by people: the grid's own wording, not the code
    criterion_labels = {c.code: c.label for c in s.rules.grid.criteria}
    criterion_labels.update({c.computed: c.label for c in s.rules.grid.criteria if c.computed})
    names = s.og_names()
    labels = og_labels(s.etablissements)  # « OG 360405005 à 51,9 km » -> « Nom (FINESS) … »
    rows = []
    for g in s.grappes:
        members = s.members(g.id)
        cost = s.costs.get(g.id)
        vs = s.violations.get(g.id, [])
        counts = text_column(members, "statut_agrege").value_counts()
        statut = min((str(k) for k in counts.index if counts[k] == counts.max()), default="")
        detail = dict(g.points)
        if cost is not None:
            detail = {**cost.score.computed, **{k: v for k, v in cost.score.declared.items() if v}}
        porteur = (cost.porteur if cost is not None else "") or (g.porteur or "")
        mean_km, max_km = grappe_distances(members)
        rows.append({
            "grappe": g.id,
            "champ": g.champ,
            "valide": not vs,
            "regles_enfreintes": " | ".join(with_names(v.message, labels) for v in vs),
            "nb_esms": len(g.esms),
            "nb_og": len(g.og),
            "og": _join(g.og),
            "departements": _join(g.departements),
            "regions": _join(g.regions),
            "statut": STATUT_LABELS.get(statut, statut),
            "statut_code": statut,
            "criteres_calcules": int(sum(g.points.values())),
            "points_grille": int(cost.score.total) if cost is not None else None,
            "points_max": int(cost.score.max) if cost is not None else None,
            "detail_points": " | ".join(
                f"{criterion_labels.get(k, k).rstrip('. ')} : {v}" for k, v in detail.items()
            ),
            "porteur": porteur,
            "porteur_nom": names.get(porteur, ""),
            "financement": float(cost.total) if cost is not None else None,
            "sons_editeur": float(cost.sons_vendor) if cost is not None else None,
            "type_projet": TYPE_LABELS.get(cost.project_type, cost.project_type) if cost else "",
            "type_projet_code": cost.project_type if cost is not None else "",
            "editeur": (cost.vendor or "") if cost is not None else "",
            "distance_moyenne_km": mean_km,
            "distance_max_km": max_km,
            "alertes": " | ".join(with_names(w, labels) for w in g.warnings),
        })
    return pd.DataFrame(rows, columns=[c.name for c in GRAPPES_COLUMNS])


def etablissements_table(s: Scenario) -> pd.DataFrame:
    """``etablissements.csv``: every loaded establishment, its grappe and porteur, or why it
    has none (``ETABLISSEMENTS_COLUMNS``). ``grappes chiffrer`` reads it back as it is."""
    table = s.etablissements.rename(columns=RENAMED).copy()
    table = table[[RENAMED.get(c, c) for c in ETAB_COLUMNS]]
    for col, labels in LABELLED.items():
        codes = text_column(table, col)
        table[col] = _labels(codes, labels)
        table.insert(table.columns.get_loc(col) + 1, code_column(col), codes)
    et = text_column(table, "finess_et")
    grappe_of = {e: g.id for g in s.grappes for e in g.esms}
    porteur_of = {g.id: ((s.costs[g.id].porteur if g.id in s.costs else "") or g.porteur or "")
                  for g in s.grappes}
    types: dict[str, str] = {}
    for g in s.grappes:
        if g.id in s.costs:
            types.update({e: t for e, t in s.costs[g.id].esms_types.items() if e in g.esms})
    grappe = et.map(grappe_of).astype("string").fillna("")
    porteur = grappe.map(porteur_of).astype("string").fillna("")
    table["grappe"] = grappe
    table["porteur"] = porteur
    table["og_porteur"] = (porteur != "") & (porteur == text_column(table, "finess_ej"))
    type_code = et.map(types).astype("string").fillna("")
    table["type_projet"] = _labels(type_code, TYPE_LABELS)
    table["type_projet_code"] = type_code
    un = s.unplaced.drop_duplicates("finess_et").set_index("finess_et")
    none = grappe == ""
    labels = og_labels(s.etablissements)
    for out, col in (("raison", "reason"), ("raison_code", "code"), ("quasi_grappe", "near_miss")):
        values = (et.map(un[col].astype("string")) if col in un.columns
                  else pd.Series(pd.NA, index=et.index))
        values = values.astype("string").fillna("").where(none, "")
        # texts for people (not the code): OGs by name (« Nom (FINESS) à 51,9 km »)
        table[out] = values if out == "raison_code" else values.map(
            lambda v: with_names(v, labels) if v else v).astype("string")
    km = (et.map(pd.to_numeric(un["near_miss_km"], errors="coerce"))
          if "near_miss_km" in un.columns else pd.Series(float("nan"), index=et.index))
    table["quasi_grappe_km"] = km.astype("float64").where(none).round(1)
    return table.reset_index(drop=True)[[c.name for c in ETABLISSEMENTS_COLUMNS]]


def financements_table(s: Scenario) -> pd.DataFrame:
    """``financements.csv``: one row per funding line of each grappe
    (``FINANCEMENTS_COLUMNS``)."""
    rows = []
    for g in s.grappes:
        cost = s.costs.get(g.id)
        if cost is None:
            continue
        for ln in cost.lines:
            rows.append({
                "grappe": g.id,
                "valide": s.valid(g.id),
                "code": ln.code,
                "ligne": ln.label,
                "base": BASIS_LABELS.get(ln.basis, ln.basis),
                "base_code": ln.basis,
                "quantite": int(ln.quantity),
                "montant_unitaire": float(ln.unit_amount),
                "montant": float(ln.amount),
                "levier": LEVER_LABELS.get(ln.lever, ln.lever),
                "levier_code": ln.lever,
                "beneficiaire": ln.beneficiary,
            })
    return pd.DataFrame(rows, columns=[c.name for c in FINANCEMENTS_COLUMNS])


def og_share_row(share: OgShare) -> dict[str, Any]:
    """One row of ``financements_og.csv`` (``FINANCEMENTS_OG_COLUMNS``)."""
    far = share.farthest_partner
    details = [f"{ln.label}{f' ({ln.esms_name})' if ln.finess_et else ''} : "
               f"{euros(ln.amount)}" for ln in share.lines]
    return {
        "grappe": share.grappe,
        "og_nom": share.name,
        "finess_ej": share.finess_ej,
        "valide": share.valid,
        "porteur": share.porteur,
        "nb_esms": len(share.esms),
        "financement_og": share.amount,
        "par_esms": share.amount_of("per_esms"),
        "equipement_petits_og": share.amount_of("per_esms_small_og"),
        "par_projet": share.amount_of("per_project"),
        "sons_editeur": share.sons,
        "financement_grappe": share.grappe_total,
        "distance_centre_km": share.distance_centre_km,
        "partenaire_le_plus_loin": f"{far.name} ({far.finess_ej})" if far else "",
        "partenaire_le_plus_loin_km": far.distance_km if far else None,
        "detail_lignes": " | ".join(details),
    }


def financements_og_table(s: Scenario) -> pd.DataFrame:
    """``financements_og.csv``: one row per OG of each grappe, its share of the funding
    (``FINANCEMENTS_OG_COLUMNS``); the shares of a grappe add up to its total."""
    rows = [og_share_row(share) for share in og_shares(s)]
    table = pd.DataFrame(rows, columns=[c.name for c in FINANCEMENTS_OG_COLUMNS])
    table["partenaire_le_plus_loin_km"] = table["partenaire_le_plus_loin_km"].astype("float64")
    return table


def written_table(file_name: str, table: pd.DataFrame) -> pd.DataFrame:
    """A table as its file holds it: French headers, code columns last
    (``files.written_columns``). The builders above keep the names, which the app and the
    GeoPackage read."""
    columns = written_columns(file_name)
    return table[[c.name for c in columns]].rename(columns={c.name: c.header for c in columns})


def tables(s: Scenario) -> dict[str, pd.DataFrame]:
    """The four tables, by file name, in order."""
    return {GRAPPES_CSV: grappes_table(s), ETABLISSEMENTS_CSV: etablissements_table(s),
            FINANCEMENTS_CSV: financements_table(s), FINANCEMENTS_OG_CSV: financements_og_table(s)}
