"""What the app's views show, computed without Streamlit's page: tables, headline figures, counts.

Each function takes the typed scenario (``grappes.scenarios.scenario.Scenario`` for what is
shown, ``grappes.scenarios.whatif.WhatIf`` for the live edits) and returns a
:class:`grappes.ui.columns.TableView` or a small dataclass, so the tests read exactly what a
user reads: French headers, labels instead of codes, OGs as "Nom (FINESS)", the decisive
columns first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from grappes.core.formatting import euros, euros_short, integer_fr
from grappes.core.vocabulary import (
    CRITERE_LABELS,
    DUI_STATUT_LABELS,
    PARTNER_TYPE_LABELS,
    STATUT_LABELS,
    TYPOLOGIE_LABELS,
    label_of,
)
from grappes.exports.naming import og_labels, with_names
from grappes.exports.tables import TYPE_LABELS, financements_table, grappes_table
from grappes.programme.validate import text_column
from grappes.ui import columns as col
from grappes.ui.columns import TableView

# --------------------------------------------------------------------------- names


def points_text(computed: dict[str, int], declared: dict[str, bool] | None = None,
                implied: dict[str, int] | None = None) -> str:
    """'ESMS autonomes isolés 3 · plusieurs OG de la région 2' (labels, never codes)."""
    parts = {**computed, **(implied or {})}
    for k, v in (declared or {}).items():
        if v:
            parts[k] = v
    return " · ".join(f"{label_of(k, CRITERE_LABELS)} {int(v)}" for k, v in parts.items() if v)


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class Counts:
    """One definition of "the ESMS of the field", used by every figure on the page.

    ``champ`` = ESMS of the field(s) studied, in the territory, that may take part (not set
    aside: already funded, non-Ségur upgrade, no coordinates, no OG, excluded by the user);
    ``places + sans_grappe == champ``. ``ecartes`` = the ESMS of the field in the territory
    that were set aside, counted apart and never in the other two.
    """

    champ: int
    places: int
    sans_grappe: int
    ecartes: int

    @property
    def definition(self) -> str:
        """The sentence shown under the headline figures."""
        n = integer_fr

        return (f"ESMS du champ : les {n(self.champ)} ESMS du champ étudié et du territoire "
                f"qui peuvent entrer dans une grappe ; {n(self.places)} sont placés, "
                f"{n(self.sans_grappe)} sont sans grappe (placés + sans grappe = ESMS du "
                f"champ). {n(self.ecartes)} autres ESMS du champ sont écartés avant le calcul "
                "(déjà financés, éditeur non Ségur, sans coordonnées, sans OG, exclus) et ne "
                "comptent dans aucun de ces nombres.")


def field_mask(scenario: Any) -> pd.Series:
    """ESMS of the studied field(s) inside the territory (set-aside ones included)."""
    etab = scenario.etab
    champs = [scenario.champ] if scenario.champ else list(scenario.rules.grouping.eligible_champs)
    et = text_column(etab, "finess_et")
    return (text_column(etab, "champ").isin(champs)
            & ~et.isin(list(scenario.out_of_scope))).reset_index(drop=True)


def counts(scenario: Any) -> Counts:
    """The page's counts for a ``WhatIf`` (edits included)."""
    et = text_column(scenario.etab, "finess_et").reset_index(drop=True)
    in_field = set(et[field_mask(scenario)])
    aside = (set(scenario.set_aside) | set(scenario.constraints.excluded_esms)) & in_field
    eligible = in_field - aside
    placed = {e for e in scenario.assignment if e in eligible}
    return Counts(champ=len(eligible), places=len(placed), sans_grappe=len(eligible - placed),
                  ecartes=len(aside))


def unplaced_ets(scenario: Any) -> list[str]:
    """The FINESS ET counted in ``Counts.sans_grappe``, sorted."""
    et = text_column(scenario.etab, "finess_et").reset_index(drop=True)
    in_field = set(et[field_mask(scenario)])
    aside = set(scenario.set_aside) | set(scenario.constraints.excluded_esms)
    return sorted(in_field - aside - set(scenario.assignment))


# --------------------------------------------------------------------------- headline


@dataclass(frozen=True)
class Metric:
    """One headline figure: a short value that fits its box, the exact one in ``help``."""

    label: str
    value: str
    help: str
    delta: str | None = None


def _delta_int(totals: dict[str, float], key: str) -> str | None:
    value = totals.get(f"delta_{key}")
    return f"{int(value):+d}" if value else None


def headline(totals: dict[str, float], n: Counts) -> list[Metric]:
    """Grappes, valid ones, ESMS placed, points, funding: short units, exact in the tooltip."""
    funding = float(totals["financement"])
    delta_eur = totals.get("delta_financement")
    return [
        Metric("Grappes", f"{int(totals['grappes'])}", "Grappes proposées (valides ou non).",
               _delta_int(totals, "grappes")),
        Metric("Grappes valides", f"{int(totals['valides'])}",
               "Grappes qui respectent toutes les règles dures de l'appel.",
               _delta_int(totals, "valides")),
        Metric("ESMS placés", f"{integer_fr(n.places)} / {integer_fr(n.champ)}", n.definition,
               _delta_int(totals, "esms_places")),
        Metric("Points grille", f"{int(totals['points_grille'])}",
               "Somme des points de la grille de priorisation des grappes valides.",
               _delta_int(totals, "points_grille")),
        Metric("Financement", euros_short(funding),
               f"Financement ESMS numérique des grappes valides : {euros(funding)} "
               "(hors SONS versé aux éditeurs).",
               euros_short(delta_eur) if delta_eur else None),
    ]


# --------------------------------------------------------------------------- tables


def grappes_view(data: Any) -> TableView:
    """The proposal's grappes: decision first (valid, points, funding), then who and where."""
    table = grappes_table(data)
    names = og_labels(data.etablissements)
    detail = []
    for g in data.grappes:
        cost = data.costs.get(g.id)
        detail.append(points_text(cost.score.computed, cost.score.declared) if cost
                      else points_text(dict(g.points)))
    frame = pd.DataFrame({
        "grappe": table["grappe"],
        "valide": table["valide"].astype(bool),
        "points": table["points_grille"],
        "financement": table["financement"],
        # the porteur names the grappe for people: on the first screen, not off to the right
        "porteur": table["porteur"].map(lambda e: names.get(e, e) if e else ""),
        "esms": table["nb_esms"],
        "og": table["nb_og"],
        "departements": table["departements"],
        "editeur": table["editeur"],
        "detail": detail,
        "regles": table["regles_enfreintes"],
        "alertes": table["alertes"],
    })
    config = {
        "grappe": col.text("grappe", width=100),
        "valide": col.check("valide", "Respecte toutes les règles dures de l'appel."),
        "points": col.integer("points grille", "Points de la grille de priorisation."),
        "financement": col.euros("financement", "Financement ESMS numérique (hors SONS)."),
        "esms": col.integer("ESMS"),
        "og": col.integer("OG"),
        "porteur": col.text("porteur", "Organisme gestionnaire qui porte le projet.", "large"),
        "departements": col.text("départements", width="small"),
        "editeur": col.text("éditeur DUI commun"),
        "detail": col.text("détail des points", width="large"),
        "regles": col.text("règles enfreintes", width="large"),
        "alertes": col.text("avertissements", width="large"),
    }
    return TableView(frame, config)


def members_view(scenario: Any, gid: str) -> TableView:
    """The ESMS of one grappe, with their OG by name."""
    rows = scenario.rows_of(scenario.members(gid))
    names = og_labels(scenario.etab)
    cost = scenario.cost_detail(gid)
    types = {e: TYPE_LABELS.get(t, t) for e, t in cost.esms_types.items()}
    editeur = text_column(rows, "dui_editeur")
    frame = pd.DataFrame({
        "etablissement": text_column(rows, "raison_sociale") + " (" + text_column(
            rows, "finess_et") + ")",
        "type": text_column(rows, "finess_et").map(types).fillna(""),
        "categorie": text_column(rows, "categorie_libelle"),
        "og": text_column(rows, "finess_ej").map(names),
        "typologie": text_column(rows, "og_typologie").map(
            lambda c: TYPOLOGIE_LABELS.get(c, c)),
        "statut": text_column(rows, "statut_agrege").map(lambda c: STATUT_LABELS.get(c, c)),
        "dui": text_column(rows, "dui_statut").map(lambda c: DUI_STATUT_LABELS.get(c, c))
        + editeur.map(lambda v: f" ({v})" if v else ""),
        "commune": text_column(rows, "commune_nom"),
    }).reset_index(drop=True)
    config = {
        "etablissement": col.text("établissement (FINESS)", width="large"),
        "type": col.text("type de projet"),
        "categorie": col.text("catégorie"),
        "og": col.text("OG (FINESS)", width="large"),
        "typologie": col.text("taille de l'OG", width="small"),
        "statut": col.text("statut"),
        "dui": col.text("DUI"),
        "commune": col.text("commune"),
    }
    return TableView(frame, config)


def funding_view(data: Any, gid: str) -> TableView:
    """One grappe's funding plan: line, quantity, unit amount, amount, lever."""
    lines = financements_table(data)
    lines = lines[lines["grappe"] == gid]
    frame = pd.DataFrame({
        "ligne": lines["ligne"], "montant": lines["montant"], "quantite": lines["quantite"],
        "unitaire": lines["montant_unitaire"], "levier": lines["levier"],
    }).reset_index(drop=True)
    config = {
        "ligne": col.text("ligne de financement", width="large"),
        "montant": col.euros("montant"),
        "quantite": col.integer("quantité"),
        "unitaire": col.euros("montant unitaire"),
        "levier": col.text("levier", width="small"),
    }
    return TableView(frame, config)


def unplaced_view(data: Any, scenario: Any) -> TableView:
    """The ESMS of the field without a grappe (``Counts.sans_grappe`` of them), their reason
    and the grappe they nearly joined."""
    ets = unplaced_ets(scenario)
    etab = scenario.etab
    et = text_column(etab, "finess_et")
    info = etab.assign(_et=et).drop_duplicates("_et").set_index("_et")
    un = data.unplaced.drop_duplicates("finess_et").set_index("finess_et") \
        if data.unplaced is not None and len(data.unplaced) else pd.DataFrame()
    names = og_labels(etab)

    def pick(column: str, source: pd.DataFrame, default: Any = "") -> list[Any]:
        if column not in source.columns:
            return [default] * len(ets)
        values = source[column].reindex(ets)
        return [default if pd.isna(v) else v for v in values]

    reason = pick("reason", un, "pas de grappe valide à portée")
    reason = [r or "pas de grappe valide à portée" for r in reason]
    frame = pd.DataFrame({
        "finess_et": ets,
        "etablissement": [f"{n} ({e})" for n, e in zip(pick("raison_sociale", info), ets,
                                                        strict=True)],
        # decisive first: why it has no grappe and what it nearly joined (issue 20 item 5)
        "raison": [with_names(str(r), names) for r in reason],
        "quasi": [with_names(str(q), names) for q in pick("near_miss", un)],
        "quasi_km": pd.to_numeric(pd.Series(pick("near_miss_km", un, float("nan"))),
                                  errors="coerce").round(1),
        "og": [names.get(str(e), str(e)) for e in pick("finess_ej", info)],
        "commune": pick("commune_nom", info),
    })
    config = {
        "finess_et": None,
        "etablissement": col.text("établissement (FINESS)", width="large"),
        "raison": col.text("pourquoi sans grappe", width="large"),
        "quasi": col.text("grappe la plus proche", width="large"),
        "quasi_km": col.km("distance (km)"),
        "og": col.text("OG (FINESS)", width="large"),
        "commune": col.text("commune"),
    }
    return TableView(frame, config, row_height=col.WRAP_ROW_HEIGHT)


#: what « invalide après » says when the rules give no message of their own
INVALID_WITHOUT_MESSAGE = "règles de l'appel non respectées"


def partners_view(frame: pd.DataFrame, names: dict[str, str] | None = None) -> TableView:
    """The partner finder's options, decisive columns first (target, valid after and why not,
    points, funding), the reasons wrapped and their OGs named (``names``: « Nom (FINESS) »)."""
    valid = frame["valide_apres"].astype(bool)
    why = frame["regles_enfreintes"].fillna("").astype(str).map(
        lambda t: with_names(t, names or {}).replace(" | ", " ; "))
    out = pd.DataFrame({
        "rang": frame["rang"],
        "cible": frame["libelle"],
        "valide_apres": valid,
        "regles": why.where(valid | (why != ""), INVALID_WITHOUT_MESSAGE).where(~valid, ""),
        "points_apres": frame["points_apres"],
        "financement_apres": frame["financement_apres"],
        "distance": pd.to_numeric(frame["distance_km"], errors="coerce").round(1),
        "type": frame["type"].map(lambda t: label_of(t, PARTNER_TYPE_LABELS)),
        "editeur": frame["editeur"],
        "valide_avant": frame["valide_avant"].map(
            lambda v: "" if v is None or pd.isna(v) else ("oui" if v else "non")),
        "points_avant": frame["points_avant"],
        "financement_avant": frame["financement_avant"],
        "esms_apres": frame["n_esms_apres"],
        "statut": frame["statut"],
    })
    config = {
        "rang": col.integer("rang", width=60),
        "cible": col.text("grappe ou OG cible", width="large"),
        "valide_apres": col.check("valide après"),
        "regles": col.text("pourquoi invalide après", width="large"),
        "points_apres": col.integer("points après"),
        "financement_apres": col.euros("financement après"),
        "distance": col.km("distance au centre (km)"),
        "type": col.text("type", width="small"),
        "editeur": col.text("éditeur DUI"),
        "valide_avant": col.text("valide avant", width="small"),
        "points_avant": col.integer("points avant"),
        "financement_avant": col.euros("financement avant"),
        "esms_apres": col.integer("ESMS après"),
        "statut": col.text("statuts des OG"),
    }
    return TableView(out, config, row_height=col.WRAP_ROW_HEIGHT)


def changes_view(grappes: pd.DataFrame, labels: dict[str, str]) -> TableView:
    """The grappes an edit changed, with their deltas."""
    frame = pd.DataFrame({
        "grappe": grappes["grappe"],
        "valide": grappes["valide"].astype(bool),
        "points": grappes["points_grille"],
        "delta_points": grappes["delta_points_grille"],
        "financement": grappes["financement"],
        "delta_financement": grappes["delta_financement"],
        "esms": grappes["n_esms"],
        "porteur": grappes["porteur"].map(lambda e: labels.get(e, e)),
        "regles": grappes["regles_enfreintes"],
    }).reset_index(drop=True)
    config = {
        "grappe": col.text("grappe", width="small"),
        "valide": col.check("valide"),
        "points": col.integer("points grille"),
        "delta_points": col.integer("écart de points"),
        "financement": col.euros("financement"),
        "delta_financement": col.euros("écart de financement"),
        "esms": col.integer("ESMS"),
        "porteur": col.text("porteur", width="large"),
        "regles": col.text("règles enfreintes", width="large"),
    }
    return TableView(frame, config)


def count_view(counts: dict[str, int], key_label: str, value_label: str,
               labels: dict[str, str] | None = None) -> TableView:
    """A two-column count table (establishments by field, ESMS by département)."""
    frame = pd.DataFrame({"cle": [label_of(k, labels or {}) for k in counts],
                          "n": [int(v) for v in counts.values()]})
    return TableView(frame, {"cle": col.text(key_label), "n": col.integer(value_label)})
