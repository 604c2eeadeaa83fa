"""One scenario: the single typed hand-off between the solver, what-if, exports, CLI and app.

A :class:`Scenario` is a grouping as it stands, with everything needed to show it, total it
or write it: the establishments table, the rule set, the scope (région, départements,
field(s)), the solver settings, the user's edits, the grappes, their typed costs
(``grappes.programme.costing.GrappeCost``: funding lines, schedule, per-ESMS project types)
and their hard-rule breaks (``grappes.programme.validate``, the 50 km reach included).

It is built from a ``propose`` report (:meth:`Scenario.from_report`) or from a what-if
session after edits (:meth:`Scenario.from_whatif`); nothing between those layers passes as a
dict. JSON is produced at the very edge (:meth:`Scenario.to_json`, for ``--json``).

Totals count only the valid grappes, those that would be funded (:meth:`Scenario.totals`);
the invalid ones are listed apart with their breaks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from grappes.core.model import Grappe
from grappes.programme.costing import GrappeCost
from grappes.programme.reach import grappe_distances
from grappes.programme.rules import RuleSet
from grappes.programme.validate import Violation, text_column
from grappes.scenarios.ids import grappe_sort_key
from grappes.solver.settings import SolverSettings

if TYPE_CHECKING:
    from grappes.scenarios.whatif import WhatIf
    from grappes.solver.propose import ProposalReport

MODIFIED_REASON = "Grappe modifiée à la main (et si…)."
REMOVED_REASON = "retiré de sa grappe par une modification (et si…)"
EXCLUDED_REASON = "exclu par l'utilisateur"


@dataclass(frozen=True)
class Scope:
    """Where the grouping was asked: région, départements, field(s) (empty: every field)."""

    region: str | None = None
    departements: tuple[str, ...] = ()
    champs: tuple[str, ...] = ()

    def text(self) -> str:
        """French, for titles: 'région 24, champ PA'."""
        parts = [f"région {self.region}" if self.region else "toutes régions"]
        if self.departements:
            parts.append(f"départements {', '.join(self.departements)}")
        parts.append(f"champ {', '.join(self.champs)}" if self.champs else "tous les champs")
        return ", ".join(parts)


@dataclass
class Edits:
    """The user's edits of a proposal (what-if): locks, separations, exclusions, moves,
    porteurs and declared criteria, and their history in French."""

    together: list[tuple[str, ...]] = field(default_factory=list)
    apart: list[tuple[str, str]] = field(default_factory=list)
    exclusions: list[str] = field(default_factory=list)
    #: OG (FINESS EJ) -> grappe it was moved into and kept in by the solver
    moves: dict[str, str] = field(default_factory=dict)
    #: grappe id -> porteur chosen by the user (the grappes carry the effective porteur)
    porteurs: dict[str, str] = field(default_factory=dict)
    declared: dict[str, dict[str, bool]] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Totals:
    """Headline figures: funding and grid points of the valid grappes only."""

    grappes: int
    valides: int
    esms_places: int
    points_grille: int
    financement: float
    #: funding the invalid grappes would have asked for (not in ``financement``)
    financement_invalides: float
    invalides: tuple[str, ...]


@dataclass
class Scenario:
    """A grouping with its typed costs and rule breaks (see the module docstring)."""

    etablissements: pd.DataFrame
    rules: RuleSet
    scope: Scope
    settings: SolverSettings
    grappes: list[Grappe]
    costs: dict[str, GrappeCost]
    violations: dict[str, list[Violation]]
    #: ESMS in no grappe: ``finess_et``, ``code``, ``reason``, ``near_miss``, ``near_miss_km``
    unplaced: pd.DataFrame
    edits: Edits = field(default_factory=Edits)
    #: FINESS ET outside the région / départements asked
    out_of_scope: frozenset[str] = frozenset()
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _index: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_report(cls, report: ProposalReport) -> Scenario:
        """The scenario of a ``propose`` report (typed costs, violations checked again)."""
        if report.ruleset is None:
            msg = "rapport sans jeu de règles : chiffrage impossible"
            raise ValueError(msg)
        settings = report.settings
        violations = report.violations
        return cls(
            etablissements=report.etablissements,
            rules=report.ruleset,
            scope=Scope(report.region, tuple(report.departements),
                        (report.champ,) if report.champ else ()),
            settings=settings,
            grappes=sorted(report.grappes, key=lambda g: grappe_sort_key(g.id)),
            costs=dict(report.costs),
            violations={g.id: list(violations.get(g.id, [])) for g in report.grappes},
            unplaced=report.unplaced_frame(),
            out_of_scope=frozenset(report.out_of_scope),
            stats=dict(report.stats),
            warnings=list(report.load_warnings),
        )

    @classmethod
    def from_whatif(cls, whatif: WhatIf, scope: Scope | None = None,
                    settings: SolverSettings | None = None) -> Scenario:
        """The scenario of a what-if session as it stands after the edits.

        Grappes are rebuilt from the current members, porteurs and costs; the solver's
        explanations are kept for the grappes the user did not change.
        """
        evaluation = whatif.current or whatif.evaluate()
        grappes = []
        for gid in whatif.grappe_ids:
            members = whatif.members(gid)
            rows = whatif.rows_of(members)
            cost = evaluation.costs[gid]
            before = whatif.origin.get(gid)
            same = before is not None and sorted(before.esms) == members
            grappes.append(Grappe(
                id=gid,
                champ=whatif.champ_of[gid],
                og=whatif.ogs(gid),
                esms=members,
                departements=sorted(set(text_column(rows, "departement")) - {""}),
                regions=sorted(set(text_column(rows, "region")) - {""}),
                points={k: int(v) for k, v in cost.score.computed.items()},
                warnings=list(before.warnings) if same else [],
                porteur=cost.porteur,
                reasons=list(before.reasons) if same else [MODIFIED_REASON],
                metrics=dict(before.metrics) if same else {},
            ))
        placed = set(whatif.assignment)
        et = text_column(whatif.etab, "finess_et")
        unplaced = pd.DataFrame({"finess_et": [e for e in et if e not in placed]},
                                dtype="string")
        known = (whatif.unplaced.drop_duplicates("finess_et").set_index("finess_et")
                 if whatif.unplaced is not None and len(whatif.unplaced) else None)
        excluded = set(whatif.constraints.excluded_esms)
        for col, default in (("code", "retire"), ("reason", REMOVED_REASON), ("near_miss", "")):
            mapped = (unplaced["finess_et"].map(known[col].astype("string"))
                      if known is not None and col in known.columns
                      else pd.Series(pd.NA, index=unplaced.index, dtype="string"))
            unplaced[col] = mapped.astype("string").fillna(default)
        km = (unplaced["finess_et"].map(known["near_miss_km"])
              if known is not None and "near_miss_km" in known.columns else math.nan)
        unplaced["near_miss_km"] = pd.to_numeric(pd.Series(km, index=unplaced.index),
                                                 errors="coerce")
        out = unplaced["finess_et"].isin(list(excluded))
        unplaced.loc[out, "code"] = "exclu"
        unplaced.loc[out, "reason"] = EXCLUDED_REASON
        unplaced.loc[out, "near_miss"] = ""
        unplaced.loc[out, "near_miss_km"] = math.nan
        edits = Edits(
            together=[tuple(g) for g in whatif.constraints.together],
            apart=[tuple(p) for p in whatif.constraints.apart],
            exclusions=list(whatif.constraints.excluded_esms),
            moves=dict(whatif.constraints.forced),
            porteurs=dict(whatif.chosen_porteurs),
            declared={g: dict(d) for g, d in whatif.declared.items()},
            history=list(whatif.history),
        )
        return cls(
            etablissements=whatif.etab,
            rules=whatif.rules,
            scope=scope or Scope(champs=(whatif.champ,) if whatif.champ else ()),
            settings=settings or SolverSettings(max_km=whatif.max_km),
            grappes=grappes,
            costs=dict(evaluation.costs),
            violations={g: list(evaluation.violations.get(g, [])) for g in whatif.grappe_ids},
            unplaced=unplaced,
            edits=edits,
            out_of_scope=frozenset(whatif.out_of_scope),
        )

    # ------------------------------------------------------------------ reading

    def valid(self, gid: str) -> bool:
        """True when the grappe breaks no hard rule."""
        return not self.violations.get(gid)

    def totals(self) -> Totals:
        """Funding and points of the valid grappes; the invalid ones counted apart."""
        valid = [g.id for g in self.grappes if self.valid(g.id)]
        invalid = tuple(g.id for g in self.grappes if not self.valid(g.id))
        return Totals(
            grappes=len(self.grappes),
            valides=len(valid),
            esms_places=sum(len(g.esms) for g in self.grappes),
            points_grille=sum(int(self.costs[g].score.total) for g in valid if g in self.costs),
            financement=float(sum(self.costs[g].total for g in valid if g in self.costs)),
            financement_invalides=float(sum(self.costs[g].total for g in invalid
                                            if g in self.costs)),
            invalides=invalid,
        )

    def members(self, gid: str) -> pd.DataFrame:
        """Rows of the establishments table belonging to one grappe (table order)."""
        grappe = next((g for g in self.grappes if g.id == gid), None)
        if grappe is None:
            msg = f"grappe inconnue : {gid}"
            raise KeyError(msg)
        look = self._lookup()
        pos = look["et"]
        return look["plain"].iloc[sorted(pos[e] for e in grappe.esms if e in pos)]

    def og_rows(self, og: str) -> pd.DataFrame:
        """Rows of the establishments table of one OG (FINESS EJ)."""
        look = self._lookup()
        return look["plain"].iloc[look["ej"].get(og, [])]

    def og_names(self) -> dict[str, str]:
        """FINESS EJ -> OG name (first non-empty in the table)."""
        return self._lookup()["names"]

    def _lookup(self) -> dict[str, Any]:
        """Positions by FINESS ET / EJ and OG names, computed once (the exports ask often)."""
        if self._index is None:
            et = text_column(self.etablissements, "finess_et").tolist()
            ej = text_column(self.etablissements, "finess_ej").tolist()
            names = text_column(self.etablissements, "raison_sociale_ej").tolist()
            by_ej: dict[str, list[int]] = {}
            og_name: dict[str, str] = {}
            for i, (o, n) in enumerate(zip(ej, names, strict=True)):
                by_ej.setdefault(o, []).append(i)
                if n and o not in og_name:
                    og_name[o] = n
            # plain object columns: taking a few rows of Arrow-backed text is slow, and the
            # exports take rows once per grappe
            self._index = {"et": {e: i for i, e in enumerate(et)}, "ej": by_ej,
                           "names": og_name, "plain": self.etablissements.astype(object)}
        return self._index

    # ------------------------------------------------------------------ JSON (the edge)

    def to_json(self) -> dict[str, Any]:
        """One JSON-ready object: rules, scope, grappes with typed costs made plain, unplaced
        ESMS, totals (valid grappes only) and statistics."""
        grappes = []
        for g in self.grappes:
            cost = self.costs.get(g.id)
            mean_km, max_km = grappe_distances(self.members(g.id))
            item: dict[str, Any] = {
                "id": g.id,
                "champ": g.champ,
                "og": list(g.og),
                "esms": list(g.esms),
                "n_esms": g.n_esms,
                "departements": list(g.departements),
                "regions": list(g.regions),
                "valide": self.valid(g.id),
                "regles_enfreintes": [v.as_dict() for v in self.violations.get(g.id, [])],
                "criteres_calcules": {"total": int(sum(g.points.values())),
                                      "detail": dict(g.points)},
                "points_grille": int(cost.score.total) if cost else None,
                "points_max": int(cost.score.max) if cost else None,
                "distance_moyenne_km": mean_km,
                "distance_max_km": max_km,
                "warnings": list(g.warnings),
                "reasons": list(g.reasons),
                "metrics": dict(g.metrics),
                "porteur": (cost.porteur if cost else "") or g.porteur,
            }
            if cost is not None:
                item.update({
                    "funding": {
                        "total": cost.total,
                        "lines": [ln.as_dict() for ln in cost.lines],
                        "by_region": dict(cost.by_region),
                        "schedule": [i.as_dict() for i in cost.schedule],
                        "sons_vendor": cost.sons_vendor,
                        "n_funded": cost.n_funded,
                    },
                    "score": cost.score.as_dict(),
                    "project_type": cost.project_type,
                    "vendor": cost.vendor,
                    "eligibility": list(cost.eligibility),
                    "esms_types": dict(cost.esms_types),
                })
            grappes.append(item)
        unplaced = [
            {k: getattr(r, k) for k in ("finess_et", "finess_ej", "champ", "code", "reason",
                                        "near_miss", "near_miss_km") if hasattr(r, k)}
            for r in self.unplaced.itertuples(index=False)
        ]
        totals = self.totals()
        stats = dict(self.stats)
        stats["funding_total"] = totals.financement
        stats["funding_invalid"] = totals.financement_invalides
        return _clean({
            "rules": {"name": self.rules.name, "title": self.rules.title}
            | asdict(self.rules.grouping),
            "region": self.scope.region,
            "departements": list(self.scope.departements),
            "champ": self.scope.champs[0] if len(self.scope.champs) == 1 else None,
            "scope": asdict(self.scope),
            "settings": asdict(self.settings),
            "grappes": grappes,
            "unplaced": unplaced,
            "totals": asdict(totals),
            "stats": stats,
            "warnings": list(self.warnings),
        })


def _clean(value: Any) -> Any:
    """JSON-friendly value: NaN -> None, numpy scalars -> Python."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return _clean(value.item())
        except (ValueError, AttributeError):
            return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if value is pd.NA:
        return None
    return value
