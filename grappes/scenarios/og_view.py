"""What one OG (organisme gestionnaire) gets from a scenario: its grappe, its partners, how
far it is, and its share of the grappe's funding, line by line.

An OG director asks « what would we receive? ». The costing
(``grappes.programme.costing.GrappeCost``) answers per grappe, with each line's quantity
and the project type of each member ESMS. This module splits those lines between the
grappe's OGs, without costing anything again:

- a per-ESMS line (``per_esms``, ``per_esms_small_og``) goes to the ESMS it pays for: those
  whose project type (``GrappeCost.esms_types``) and typology the line names, of a small OG
  for the small-OG lines; when the cost paid fewer ESMS than qualify (the cap on funded ESMS
  per project), the ones kept are taken in FINESS order, so the share of an OG can differ
  from the costing's own choice under the cap, never the total;
- a per-project line (AMOA, SAD…) goes to the porteur, who receives and carries it;
- whatever a line pays that no ESMS qualifies for also goes to the porteur.

So the shares of a grappe's OGs add up to the grappe's total, line by line (tested on the
sample proposal for every grappe).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from grappes.programme.costing import PROJECT_TYPE_LABELS, FundingLine, GrappeCost
from grappes.programme.reach import centre_vector, km_between
from grappes.programme.rules import RuleSet
from grappes.programme.validate import small_og_mask, text_column
from grappes.scenarios.partners import search_esms
from grappes.scenarios.scenario import Scenario

PER_ESMS_BASES = ("per_esms", "per_esms_small_og")


@dataclass(frozen=True)
class OgLine:
    """One funding line's part for an OG: for one of its ESMS, or for the project."""

    code: str
    label: str
    basis: str
    quantity: int
    unit_amount: float
    amount: float
    lever: str
    #: the ESMS the line pays for (empty: the project, carried by the porteur)
    finess_et: str = ""
    esms_name: str = ""

    @property
    def in_total(self) -> bool:
        """True for ESMS numérique money (SONS is paid to the vendor, outside the total)."""
        return self.lever == "esms_numerique"


@dataclass(frozen=True)
class OgEsms:
    """One ESMS of the OG in the grappe, with its project type."""

    finess_et: str
    name: str
    commune: str
    project_type: str

    @property
    def project_label(self) -> str:
        return PROJECT_TYPE_LABELS.get(self.project_type, "non financé (exclu)")


@dataclass(frozen=True)
class OgPartner:
    """Another OG of the same grappe."""

    finess_ej: str
    name: str
    n_esms: int
    porteur: bool
    #: from this OG's centre to the partner's centre, km (NaN: no coordinates)
    distance_km: float
    amount: float


@dataclass(frozen=True)
class OgShare:
    """One OG's place and money in one grappe."""

    finess_ej: str
    name: str
    grappe: str
    champ: str
    valid: bool
    violations: tuple[str, ...]
    porteur: bool
    porteur_name: str
    esms: tuple[OgEsms, ...]
    lines: tuple[OgLine, ...]
    grappe_total: float
    grappe_n_esms: int
    #: from the OG's centre to the grappe's centre, km (NaN: no coordinates)
    distance_centre_km: float
    partners: tuple[OgPartner, ...] = field(default_factory=tuple)

    @property
    def amount(self) -> float:
        """ESMS numérique money for this OG (the SONS lines left out, as in the totals)."""
        return float(round(sum(ln.amount for ln in self.lines if ln.in_total), 2))

    @property
    def sons(self) -> float:
        return round(sum(ln.amount for ln in self.lines if not ln.in_total), 2)

    def amount_of(self, basis: str) -> float:
        """ESMS numérique money of the lines on one basis (``per_project``…)."""
        return round(sum(ln.amount for ln in self.lines if ln.in_total and ln.basis == basis), 2)

    @property
    def farthest_partner(self) -> OgPartner | None:
        known = [p for p in self.partners if not math.isnan(p.distance_km)]
        return max(known, key=lambda p: (p.distance_km, p.finess_ej)) if known else None


def _rule_of(rules: RuleSet, line: FundingLine):
    for r in rules.lines:
        if r.code == line.code and r.label == line.label and r.basis == line.basis:
            return r
    return None


def split_lines(rows: pd.DataFrame, cost: GrappeCost, rules: RuleSet) -> dict[str, list[OgLine]]:
    """The grappe's funding lines split between its OGs (FINESS EJ -> their lines).

    ``rows``: the grappe's members (establishments table rows). See the module docstring
    for the rule; the amounts of each line add up exactly to the line's amount.
    """
    et = text_column(rows, "finess_et").tolist()
    ej = dict(zip(et, text_column(rows, "finess_ej"), strict=True))
    names = dict(zip(et, text_column(rows, "raison_sociale"), strict=True))
    champ = dict(zip(et, text_column(rows, "champ"), strict=True))
    small = dict(zip(et, small_og_mask(rows, rules.grouping).to_numpy(dtype=bool), strict=True))
    porteur = cost.porteur
    out: dict[str, list[OgLine]] = {o: [] for o in dict.fromkeys(ej.values())}
    out.setdefault(porteur, [])
    for ln in cost.lines:
        rule = _rule_of(rules, ln) if ln.basis in PER_ESMS_BASES else None
        paid: list[str] = []
        if rule is not None:
            for e in sorted(et):
                if cost.esms_types.get(e) not in rule.types:
                    continue
                if rule.typologies:
                    typ = rules.typology_of(champ[e])
                    if typ is None or typ.code not in rule.typologies:
                        continue
                if ln.basis == "per_esms_small_og" and not small[e]:
                    continue
                paid.append(e)
            paid = paid[: ln.quantity]
        for e in paid:
            out[ej[e]].append(OgLine(ln.code, ln.label, ln.basis, 1, ln.unit_amount,
                                     round(ln.unit_amount, 2), ln.lever, e, names[e]))
        rest = ln.quantity - len(paid)
        if rest:
            amount = round(ln.amount - len(paid) * ln.unit_amount, 2)
            out[porteur].append(OgLine(ln.code, ln.label, ln.basis, rest, ln.unit_amount,
                                       amount, ln.lever))
    return out


def _km(u: np.ndarray | None, c: np.ndarray | None) -> float:
    """``reach.distance_to_grappe_km`` between two centres already computed, km to 0.1."""
    return float("nan") if u is None or c is None else round(float(km_between(u, c)), 1)


def og_shares(s: Scenario, finess_ej: str | None = None) -> list[OgShare]:
    """Every OG's share in every grappe of the scenario (or one OG's, in each of its
    grappes), by grappe then FINESS EJ."""
    names = s.og_names()
    shares: list[OgShare] = []
    for g in s.grappes:
        cost = s.costs.get(g.id)
        if cost is None or (finess_ej is not None and finess_ej not in g.og):
            continue
        rows = s.members(g.id)
        split = split_lines(rows, cost, s.rules)
        # columns and centres read once per grappe: an OG's partners are the grappe's other
        # OGs, so reading them per pair made the export quadratic (issue 20: XLSX 4.5 s)
        ej_col = text_column(rows, "finess_ej").tolist()
        ets = text_column(rows, "finess_et").tolist()
        esms_names = text_column(rows, "raison_sociale").tolist()
        communes = text_column(rows, "commune_nom").tolist()
        ogs = sorted(set(ej_col))
        sizes = {o: ej_col.count(o) for o in ogs}
        owner, where = np.asarray(ej_col, dtype=object), rows[["lon", "lat"]]
        centres = {o: centre_vector(where[owner == o]) for o in ogs}
        centre = centre_vector(rows)
        amounts = {o: float(round(sum(ln.amount for ln in split.get(o, []) if ln.in_total), 2))
                   for o in ogs}
        violations = tuple(v.message for v in s.violations.get(g.id, []))
        for o in ogs if finess_ej is None else [finess_ej]:
            esms = tuple(OgEsms(e, n, c, cost.esms_types.get(e, "exclu"))
                         for e, n, c, of in zip(ets, esms_names, communes, ej_col, strict=True)
                         if of == o)
            partners = tuple(
                OgPartner(p, names.get(p, p), sizes[p], p == cost.porteur,
                          _km(centres[o], centres[p]), amounts[p])
                for p in ogs if p != o)
            shares.append(OgShare(
                finess_ej=o, name=names.get(o, o), grappe=g.id, champ=g.champ,
                valid=not violations, violations=violations, porteur=o == cost.porteur,
                porteur_name=names.get(cost.porteur, cost.porteur), esms=esms,
                lines=tuple(split.get(o, [])), grappe_total=float(cost.total),
                grappe_n_esms=len(rows),
                distance_centre_km=_km(centres[o], centre),
                partners=partners))
    return shares


def search_ogs(s: Scenario, query: str, limit: int = 20) -> pd.DataFrame:
    """OGs matching a query: OG name, FINESS EJ, FINESS ET of one of its ESMS, ESMS name
    or commune (the search of ``search_esms``, one row per OG).

    Columns: ``finess_ej``, ``raison_sociale_ej``, ``communes``, ``grappes`` (ids, comma
    separated, empty: in no grappe).
    """
    assignment = {e: g.id for g in s.grappes for e in g.esms}
    found = search_esms(s.etablissements, query, assignment, limit=500)
    rows = []
    for ej, part in found.groupby("finess_ej", sort=False):
        rows.append({
            "finess_ej": str(ej),
            "raison_sociale_ej": str(part["raison_sociale_ej"].iloc[0] or ej),
            "communes": ", ".join(sorted(set(part["commune_nom"].astype(str)) - {""})),
            "grappes": ", ".join(g.id for g in s.grappes if str(ej) in g.og),
        })
    table = pd.DataFrame(rows, columns=["finess_ej", "raison_sociale_ej", "communes", "grappes"])
    return table.sort_values(["raison_sociale_ej", "finess_ej"]).head(limit).reset_index(
        drop=True)
