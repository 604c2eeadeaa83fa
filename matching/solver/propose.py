"""The ``propose`` pipeline shared by the CLI and the app: filter, solve, cost, tabulate.

``propose(result, rules_name, ...)`` takes what a reader returned (``LoadResult``), keeps the
région / départements / field asked for, runs the solver, costs every grappe with the rule
set's funding lines (``matching.programme.costing``) and returns a :class:`ProposalReport` that
knows
how to become JSON, the ``grappes.csv`` table and the ``etablissements.csv`` table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from matching.core.model import ETAB_COLUMNS, Grappe, GroupingRules, LoadResult
from matching.core.vocabulary import SET_ASIDE_TEXT
from matching.solver import Constraints, GrappeSolver, Proposal, SolverWeights
from matching.solver.graph import GraphWeights
from matching.solver.units import text

#: Default deterministic time budget of the exact selection, seconds.
DEFAULT_TIME_LIMIT = 20.0

#: Columns of ``grappes.csv``, in order.
GRAPPES_COLUMNS: tuple[str, ...] = (
    "grappe",
    "champ",
    "n_esms",
    "n_og",
    "og",
    "departements",
    "regions",
    "statut",
    "points",
    "points_detail",
    "porteur",
    "total",
    "project_type",
    "vendor",
    "mean_km",
    "max_km",
    "vendor_changes",
    "warnings",
)


def _load_ruleset(rules_name: str | None):
    """The rule set (``matching.programme.rules.RuleSet``) or None when the module is missing."""
    try:
        from matching.programme.rules import DEFAULT_RULES, load_rules
    except ImportError:  # pragma: no cover - rules module not installed yet
        return None
    return load_rules(rules_name or DEFAULT_RULES)


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
    return value


@dataclass
class ProposalReport:
    """A proposal with its costs, ready for the CLI, the app and the exports.

    Attributes
    ----------
    proposal
        The solver's output (grappes, unplaced ESMS, statistics).
    etablissements
        The whole loaded table (``ETAB_COLUMNS``), including rows outside the région asked.
    rules_name, rules_title
        The rule set used.
    grouping
        Its grouping rules.
    costs
        Grappe id -> ``GrappeCost.as_dict()`` (empty when costing is unavailable).
    out_of_scope
        FINESS ET -> reason for rows left out by the région / département filter.
    """

    proposal: Proposal
    etablissements: pd.DataFrame
    rules_name: str
    rules_title: str
    grouping: GroupingRules
    costs: dict[str, dict[str, Any]] = field(default_factory=dict)
    out_of_scope: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    departements: tuple[str, ...] = ()
    champ: str | None = None
    load_warnings: list[str] = field(default_factory=list)
    ruleset: Any = None

    @property
    def grappes(self) -> list[Grappe]:
        return self.proposal.grappes

    @property
    def stats(self) -> dict[str, Any]:
        return self.proposal.stats

    def members(self, grappe_id: str) -> pd.DataFrame:
        """Rows of the establishments table belonging to one grappe."""
        ids = {g.id: g for g in self.grappes}
        if grappe_id not in ids:
            msg = f"grappe inconnue : {grappe_id}"
            raise KeyError(msg)
        et = set(ids[grappe_id].esms)
        return self.etablissements[text(self.etablissements, "finess_et").isin(et).to_numpy()]

    # ------------------------------------------------------------------ tables

    def grappes_frame(self) -> pd.DataFrame:
        """One row per grappe (the ``grappes.csv`` table)."""
        rows = []
        statut = text(self.etablissements, "statut_agrege")
        et_col = text(self.etablissements, "finess_et")
        for g in self.grappes:
            cost = self.costs.get(g.id, {})
            mine = statut[et_col.isin(set(g.esms)).to_numpy()]
            counts = mine.value_counts()
            main_statut = (
                min(str(s) for s in counts.index if counts[s] == counts.max()) if len(mine) else ""
            )
            rows.append(
                {
                    "grappe": g.id,
                    "champ": g.champ,
                    "n_esms": g.n_esms,
                    "n_og": len(g.og),
                    "og": ", ".join(g.og),
                    "departements": ", ".join(g.departements),
                    "regions": ", ".join(g.regions),
                    "statut": main_statut,
                    "points": int(sum(g.points.values())),
                    "points_detail": ", ".join(f"{k} {v}" for k, v in g.points.items()),
                    "porteur": cost.get("porteur") or g.porteur or "",
                    "total": float(cost.get("total", float("nan"))),
                    "project_type": cost.get("project_type", ""),
                    "vendor": cost.get("vendor") or "",
                    "mean_km": g.metrics.get("mean_km"),
                    "max_km": g.metrics.get("max_km"),
                    "vendor_changes": int(g.metrics.get("vendor_changes", 0)),
                    "warnings": " | ".join(g.warnings),
                }
            )
        return pd.DataFrame(rows, columns=list(GRAPPES_COLUMNS))

    def etablissements_frame(self) -> pd.DataFrame:
        """Every loaded ESMS with its grappe ('' if none), reason and near miss."""
        table = self.etablissements.copy()
        et = text(table, "finess_et")
        assignment = self.proposal.assignment()
        grappe = et.map(assignment).fillna("").astype("string")
        unplaced = self.proposal.unplaced.set_index("finess_et")
        reason = et.map(unplaced["reason"]).astype("string")
        miss = et.map(unplaced["near_miss"]).astype("string")
        scope = et.map(pd.Series(self.out_of_scope, dtype="string")).astype("string")
        table["grappe"] = grappe
        table["raison"] = reason.fillna(scope).fillna("")
        table["quasi_grappe"] = miss.fillna("")
        return table

    def unplaced_frame(self) -> pd.DataFrame:
        """The ESMS without a grappe with their reason (rows outside the filter included)."""
        frame = self.proposal.unplaced
        if not self.out_of_scope:
            return frame
        extra = self.etablissements[
            text(self.etablissements, "finess_et").isin(list(self.out_of_scope)).to_numpy()
        ]
        rows = pd.DataFrame(
            {
                "finess_et": text(extra, "finess_et"),
                "finess_ej": text(extra, "finess_ej"),
                "champ": text(extra, "champ"),
                "code": "hors_region",
                "reason": text(extra, "finess_et").map(self.out_of_scope),
                "near_miss": "",
                "near_miss_km": float("nan"),
            }
        )
        return pd.concat([frame, rows.astype(frame.dtypes.to_dict())], ignore_index=True)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        """One JSON-ready object: rules, grappes (with costing), unplaced ESMS, statistics."""
        grappes = []
        for g in self.grappes:
            cost = self.costs.get(g.id, {})
            item: dict[str, Any] = {
                "id": g.id,
                "champ": g.champ,
                "og": list(g.og),
                "esms": list(g.esms),
                "n_esms": g.n_esms,
                "departements": list(g.departements),
                "regions": list(g.regions),
                "points": {"total": int(sum(g.points.values())), "detail": dict(g.points)},
                "warnings": list(g.warnings),
                "reasons": list(g.reasons),
                "metrics": dict(g.metrics),
                "porteur": cost.get("porteur") or g.porteur,
                "funding": {
                    k: cost[k]
                    for k in ("total", "lines", "by_region", "schedule", "sons_vendor", "n_funded")
                    if k in cost
                },
                "score": cost.get("score"),
                "project_type": cost.get("project_type"),
                "vendor": cost.get("vendor"),
                "eligibility": cost.get("eligibility", []),
            }
            grappes.append(item)
        unplaced = [
            {
                "finess_et": r.finess_et,
                "finess_ej": r.finess_ej,
                "champ": r.champ,
                "code": r.code,
                "reason": r.reason,
                "near_miss": r.near_miss,
                "near_miss_km": r.near_miss_km,
            }
            for r in self.unplaced_frame().itertuples(index=False)
        ]
        stats = dict(self.stats)
        stats["funding_total"] = float(sum(c.get("total", 0.0) for c in self.costs.values()))
        return _clean(
            {
                "rules": {"name": self.rules_name, "title": self.rules_title}
                | asdict(self.grouping),
                "region": self.region,
                "departements": list(self.departements),
                "champ": self.champ,
                "grappes": grappes,
                "unplaced": unplaced,
                "stats": stats,
                "warnings": list(self.load_warnings),
            }
        )


def filter_scope(
    etab: pd.DataFrame, region: str | None, departements: Sequence[str] | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rows inside the région / départements asked, and a reason for the others."""
    keep = pd.Series(True, index=etab.index)
    where = []
    if region:
        keep &= text(etab, "region") == str(region)
        where.append(f"région {region}")
    if departements:
        keep &= text(etab, "departement").isin([str(d) for d in departements])
        where.append(f"départements {', '.join(departements)}")
    if keep.all():
        return etab, {}
    if not keep.any():
        msg = f"aucun établissement dans le périmètre demandé ({', '.join(where)})"
        raise ValueError(msg)
    reason = f"{SET_ASIDE_TEXT['hors_region']} ({', '.join(where)})"
    out = {str(et): reason for et in text(etab[~keep.to_numpy()], "finess_et")}
    return etab[keep.to_numpy()], out


def propose(
    result: LoadResult,
    rules_name: str | None = None,
    region: str | None = None,
    champ: str | None = None,
    seed: int = 0,
    time_limit: float = DEFAULT_TIME_LIMIT,
    constraints: Constraints | None = None,
    links: pd.DataFrame | None = None,
    allow_multi_region: bool = False,
    departements: Sequence[str] | None = None,
    weights: SolverWeights | None = None,
    graph_weights: GraphWeights | None = None,
    progress: Callable[[str, float], None] | None = None,
    declared: dict[str, dict[str, bool]] | None = None,
) -> ProposalReport:
    """Propose and cost grappes for a loaded table.

    Parameters
    ----------
    result
        What ``matching.ingest.load`` (or ``matching.ingest.sample.load_sample``) returned.
    rules_name
        Rule set name or ``.toml`` path (default: ``matching.programme.rules.DEFAULT_RULES``).
    region, departements
        Keep only these (INSEE codes); the other rows are reported as out of scope.
    champ
        One field (PA, PH, ...) or None for every eligible field.
    seed, time_limit, constraints, links, allow_multi_region, weights, graph_weights
        Passed to :class:`matching.solver.GrappeSolver`.
    declared
        Grappe id -> declared criteria of the priority grid, for the costing's score.

    Raises ``ValueError`` with a French message for unusable parameters (unknown rule set,
    empty perimeter, unknown field).
    """
    ruleset = _load_ruleset(rules_name)
    grouping = ruleset.grouping if ruleset is not None else GroupingRules()
    etab = result.etablissements
    missing = [c for c in ETAB_COLUMNS if c not in etab.columns]
    if missing:
        msg = f"table des établissements incomplète : colonne(s) {', '.join(missing)}"
        raise ValueError(msg)
    scoped, out_of_scope = filter_scope(etab, region, departements)
    links, links_note = with_file_links(links, result)
    solver = GrappeSolver(
        grouping,
        weights=weights,
        graph_weights=graph_weights,
        seed=seed,
        time_limit=time_limit,
        allow_multi_region=allow_multi_region,
        links=links,
        progress=progress,
    )
    proposal = solver.solve(scoped, champ=champ, locks=constraints)
    if links_note:
        proposal.stats["liens_fichier"] = len(result.liens) if result.liens is not None else 0
        proposal.stats.setdefault("warnings", []).append(links_note)
    report = ProposalReport(
        proposal=proposal,
        etablissements=etab,
        rules_name=ruleset.name if ruleset is not None else "",
        rules_title=ruleset.title if ruleset is not None else "",
        grouping=grouping,
        out_of_scope=out_of_scope,
        region=region,
        departements=tuple(departements or ()),
        champ=champ,
        load_warnings=list(result.warnings),
        ruleset=ruleset,
    )
    if ruleset is not None:
        report.costs = cost_all(report, declared)
    return report


def with_file_links(
    links: pd.DataFrame | None, result: LoadResult
) -> tuple[pd.DataFrame | None, str]:
    """The known partnerships to use: the user's (``--liens``) plus the file's own groups.

    A FINESS+ file lists groups of OGs (``gcc``/``gco``, ``LoadResult.liens``): members of an
    existing group fit together, so they are added to the links without any option. The
    second value is the sentence that says so in the output ('' when the file has none).
    """
    own = getattr(result, "liens", None)
    if own is None or not len(own):
        return links, ""
    merged = own if links is None else pd.concat([links, own], ignore_index=True)
    merged = merged.astype("string").drop_duplicates().reset_index(drop=True)
    note = (
        f"{len(own)} partenariat(s) connu(s) entre OG tiré(s) des groupes FINESS+ (gcc/gco) du "
        "fichier, pris en compte automatiquement (comme --liens)."
    )
    return merged, note


def cost_all(
    report: ProposalReport, declared: dict[str, dict[str, bool]] | None = None
) -> dict[str, dict[str, Any]]:
    """Cost every grappe of a report (``matching.programme.costing.cost_grappe``)."""
    try:
        from matching.programme.costing import cost_grappe
    except ImportError:  # pragma: no cover - costing module not installed yet
        return {}
    etab = report.etablissements
    et = text(etab, "finess_et")
    position = pd.Series(range(len(etab)), index=pd.Index(et))
    costs: dict[str, dict[str, Any]] = {}
    for g in report.grappes:
        members = etab.iloc[position.loc[g.esms].to_numpy()]
        cost = cost_grappe(
            members,
            report.ruleset,
            porteur=g.porteur,
            declared=(declared or {}).get(g.id),
        )
        costs[g.id] = cost.as_dict()
    return costs
