"""The ARS envelope in the app: which valid grappes the regional envelope funds, window by window.

The same computation as ``grappes selectionner`` (``grappes.programme.funding_select``, exact
CP-SAT), fed from the scenario as shown (edits included) instead of a file: the candidates are
the valid grappes with their funding and grid points; invalid grappes are listed as not
funded with the rules they break. The result comes back as French tables with their column
settings, and as one CSV for French Excel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from grappes.core.formatting import euros, percent_fr
from grappes.core.vocabulary import MODE_LABELS
from grappes.exports.french_excel import csv_bytes
from grappes.programme.funding_select import (
    DEFAULT_MODE,
    ArsDecisions,
    Selection,
    grappe_traits,
    select_funding,
)
from grappes.programme.validate import text_column
from grappes.scenarios.ids import grappe_sort_key
from grappes.solver.settings import FUNDING_TIME_LIMIT
from grappes.ui import columns as col
from grappes.ui.columns import TableView

#: 000 « Calendrier »: cumulative shares of the envelope by the end of each window
DEFAULT_WINDOWS: tuple[float, ...] = (0.5, 0.7, 1.0)


#: the headers of the selection's CSV
SELECTION_HEADERS: tuple[str, ...] = ("Grappe", "Porteur", "Décision", "Financement",
                                      "Points de la grille", "Pourquoi")


@dataclass(frozen=True)
class EnvelopeRequest:
    """What the ARS officer enters."""

    envelope: float
    windows: tuple[float, ...] = DEFAULT_WINDOWS
    mode: str = DEFAULT_MODE
    #: deterministic time per stage (``funding_select.STAGE_DTIME`` units)
    time_limit: float = FUNDING_TIME_LIMIT
    #: grappes the ARS imposes / sets aside, as (id, reason) pairs (hashable: memo key)
    forced: tuple[tuple[str, str], ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()


@dataclass
class EnvelopeResult:
    """The selection and what the page shows of it."""

    selection: Selection
    funded: TableView
    not_funded: TableView
    windows: TableView
    remaining: float
    summary: str
    notes: list[str] = field(default_factory=list)
    #: how each ARS priority and decision by hand was honoured (French sentences)
    priorities: list[str] = field(default_factory=list)

    def csv(self) -> bytes:
        """One file: every grappe with its porteur, funded (window, amount) or not (why).
        French headers, like the other exports (issue 20)."""
        rows = [(r.grappe, r.porteur, f"financée — {r.fenetre}", r.financement, r.points,
                 r.raison) for r in self.funded.frame.itertuples()]
        rows += [(r.grappe, r.porteur, "non financée", r.financement, r.points, r.raison)
                 for r in self.not_funded.frame.itertuples()]
        frame = pd.DataFrame(rows, columns=list(SELECTION_HEADERS))
        return csv_bytes(frame, {"Financement": "euros", "Points de la grille": "entier"})


def titled(grappe: str, porteur: str) -> str:
    """« PA-24-001 — Nom du porteur »: an ARS officer knows the porteur, not the id."""
    return f"{grappe} — {porteur}" if porteur else str(grappe)


def candidates(data) -> tuple[pd.DataFrame, list[tuple[str, float, int, str]]]:
    """The ``select_funding`` input from a ``Scenario`` (valid grappes only, with what the
    rule set's priorities read, ``grappe_traits``), and the invalid grappes as (id, porteur
    name, funding, points, why)."""
    rows, invalid = [], []
    names = data.og_names()
    for g in data.grappes:
        cost = data.costs.get(g.id)
        if cost is None:
            continue
        if not data.valid(g.id):
            why = " | ".join(v.message for v in data.violations.get(g.id, []))
            invalid.append((g.id, names.get(cost.porteur, ""), float(cost.total),
                            int(cost.score.total), f"grappe invalide : {why}"))
            continue
        members = data.members(g.id)
        deps = text_column(members, "departement")
        deps = deps[deps != ""]
        statuts = text_column(members, "statut_agrege").value_counts()
        rows.append({"grappe": g.id, "total": float(cost.total),
                     "points": int(cost.score.total), "champ": g.champ,
                     "statut": str(statuts.index[0]) if len(statuts) else "",
                     "departements": sorted(set(deps)),
                     "poids_departements": {str(k): float(v)
                                            for k, v in deps.value_counts().items()},
                     **grappe_traits(members, cost, data.rules.grouping, names)})
    columns = ["grappe", "total", "points", "champ", "statut", "departements",
               "poids_departements"]
    return pd.DataFrame(rows, columns=columns + [c for c in (rows[0] if rows else {})
                                                 if c not in columns]), invalid


def run_envelope(data, request: EnvelopeRequest, labels: list[str] | None = None,
                 seed: int = 0) -> EnvelopeResult:
    """Select the grappes to fund; raises ``ValueError`` (French) on a bad envelope/windows."""
    cands, invalid = candidates(data)
    windows = tuple(float(w) for w in request.windows)
    if labels is None or len(labels) != len(windows):
        labels = [f"Fenêtre {k + 1} ({percent_fr(w)})" for k, w in enumerate(windows)]
    if cands.empty:
        msg = "Aucune grappe valide à financer."
        raise ValueError(msg)
    valid = set(cands["grappe"])
    stale = [g for g, _ in (*request.forced, *request.excluded) if g not in valid]
    decisions = ArsDecisions({g: m for g, m in request.forced if g in valid},
                             {g: m for g, m in request.excluded if g in valid})
    sel = select_funding(cands, request.envelope, windows, mode=request.mode,
                         window_labels=labels, time_limit=request.time_limit, seed=seed,
                         priorities=data.rules.priorities, typologies=data.rules.typologies,
                         decisions=decisions)
    funded = pd.DataFrame({
        "intitule": [titled(g, n) for g, n in zip(sel.funded["grappe"], sel.funded["nom"],
                                                  strict=True)],
        "fenetre": sel.funded["libelle_fenetre"],
        "financement": sel.funded["cout"], "points": sel.funded["points"],
        "raison": sel.funded["raison"],
        "departements": sel.funded["departements"].str.replace(",", ", "),
        "grappe": sel.funded["grappe"], "porteur": sel.funded["nom"],
    }).reset_index(drop=True)
    # window by window, then the grappes in the tables' order (field, then number)
    rank = {label: k for k, label in enumerate(labels)}
    funded = funded.iloc[sorted(range(len(funded)), key=lambda i: (
        rank.get(funded["fenetre"].iat[i], len(rank)),
        grappe_sort_key(str(funded["grappe"].iat[i]))))].reset_index(drop=True)
    passed_over = sorted(((r.grappe, r.nom, r.cout, r.points, r.raison)
                          for r in sel.not_funded.itertuples()),
                         key=lambda row: grappe_sort_key(str(row[0])))
    not_funded = pd.DataFrame(
        [*passed_over, *sorted(invalid, key=lambda row: grappe_sort_key(row[0]))],
        columns=["grappe", "porteur", "financement", "points", "raison"])
    # decisive first: which grappe (by its porteur) and why it is not funded
    not_funded.insert(0, "intitule", [titled(g, n) for g, n in
                                      zip(not_funded["grappe"], not_funded["porteur"],
                                          strict=True)])
    not_funded = not_funded[["intitule", "raison", "financement", "points", "grappe",
                             "porteur"]]
    wins = pd.DataFrame(sel.windows)
    windows_frame = pd.DataFrame({
        "fenetre": wins["libelle"], "grappes": wins["grappes"], "depense": wins["depense"],
        "cumul": wins["depense_cumulee"], "plafond": wins["plafond_cumule"],
        "report": wins["report"],
    })
    remaining = float(sel.envelope - sel.total_cost)
    summary = (f"{len(funded)} grappe(s) financée(s) sur {len(funded) + len(not_funded)}, "
               f"{sel.total_points} points, {euros(sel.total_cost)} engagés sur "
               f"{euros(sel.envelope)} ; reste {euros(remaining)}. Mode "
               f"{MODE_LABELS.get(sel.mode, sel.mode)}"
               + ("." if sel.optimal else " (optimum non prouvé dans le temps imparti)."))
    return EnvelopeResult(
        selection=sel,
        funded=TableView(funded, {
            "intitule": col.text("grappe — porteur", width="large"),
            "grappe": None, "porteur": None,  # in the title; kept for the CSV
            "fenetre": col.text("fenêtre"),
            "financement": col.euros("financement"),
            "points": col.integer("points grille"),
            "raison": col.text("pourquoi financée", width="large"),
            "departements": col.text("départements", width="small")},
            row_height=col.WRAP_ROW_HEIGHT),
        not_funded=TableView(not_funded, {
            "intitule": col.text("grappe — porteur", width="large"),
            "raison": col.text("pourquoi non financée", width="large"),
            "financement": col.euros("financement demandé"),
            "points": col.integer("points grille"),
            "grappe": None, "porteur": None},
            row_height=col.WRAP_ROW_HEIGHT),
        windows=TableView(windows_frame, {
            "fenetre": col.text("fenêtre"), "grappes": col.integer("grappes financées"),
            "depense": col.euros("dépense de la fenêtre"),
            "cumul": col.euros("dépense cumulée"),
            "plafond": col.euros("plafond cumulé"),
            "report": col.euros("crédit reporté")}),
        remaining=remaining,
        summary=summary,
        notes=list(sel.notes) + [f"Grappe {g} imposée ou écartée, mais invalide ou absente de "
                                 "la proposition : décision ignorée." for g in stale],
        priorities=list(sel.priorities),
    )
