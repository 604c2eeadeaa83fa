"""The ``propose`` pipeline shared by the CLI and the app: filter, solve, cost, tabulate.

``propose(result, rules_name, ...)`` takes what a reader returned (``LoadResult``), keeps the
région / départements / field asked for, runs the solver, costs every grappe with the rule
set's funding lines (``grappes.programme.costing``, typed ``GrappeCost``), checks them with
``grappes.programme.validate`` and returns a :class:`ProposalReport`. The report becomes a
``grappes.scenarios.scenario.Scenario`` (``Scenario.from_report``), the one object the
exports, the CLI and the app read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from grappes.core.errors import UnusableInput
from grappes.core.model import ETAB_COLUMNS, Grappe, GroupingRules, LoadResult
from grappes.core.vocabulary import SET_ASIDE_TEXT, SOLVER_SET_ASIDE
from grappes.programme.costing import GrappeCost, cost_grappe
from grappes.programme.rules import DEFAULT_RULES, RuleSet, load_rules
from grappes.programme.validate import Violation, check_grouping
from grappes.solver.proposal import Proposal, SolverStats
from grappes.solver.settings import DEFAULT_TIME_LIMIT, SolverSettings
from grappes.solver.units import text

if TYPE_CHECKING:  # the search (OR-Tools) is loaded by propose() only
    from grappes.solver.core import SolverWeights
    from grappes.solver.graph import GraphWeights
    from grappes.solver.units import Constraints


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
        Grappe id -> ``GrappeCost`` (typed; serialised only at the JSON edge).
    violations
        Grappe id -> hard rules broken (``validate.check_grouping``, reach included).
    settings
        The solver settings used (seed, time limit, multi-région, reach).
    out_of_scope
        FINESS ET -> reason for rows left out by the région / département filter.
    """

    proposal: Proposal
    etablissements: pd.DataFrame
    rules_name: str
    rules_title: str
    grouping: GroupingRules
    costs: dict[str, GrappeCost] = field(default_factory=dict)
    out_of_scope: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    departements: tuple[str, ...] = ()
    champ: str | None = None
    load_warnings: list[str] = field(default_factory=list)
    ruleset: RuleSet | None = None
    violations: dict[str, list[Violation]] = field(default_factory=dict)
    settings: SolverSettings = field(default_factory=SolverSettings)

    @property
    def grappes(self) -> list[Grappe]:
        return self.proposal.grappes

    @property
    def stats(self) -> SolverStats:
        return self.proposal.stats

    def members(self, grappe_id: str) -> pd.DataFrame:
        """Rows of the establishments table belonging to one grappe."""
        ids = {g.id: g for g in self.grappes}
        if grappe_id not in ids:
            msg = f"grappe inconnue : {grappe_id}"
            raise KeyError(msg)
        et = set(ids[grappe_id].esms)
        return self.etablissements[text(self.etablissements, "finess_et").isin(et).to_numpy()]

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
        raise UnusableInput(msg)
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
        What ``grappes.ingest.load`` (or ``grappes.ingest.sample.load_sample``) returned.
    rules_name
        Rule set name or ``.toml`` path (default: ``grappes.programme.rules.DEFAULT_RULES``).
    region, departements
        Keep only these (INSEE codes); the other rows are reported as out of scope.
    champ
        One field (PA, PH, ...) or None for every eligible field.
    seed, time_limit, constraints, links, allow_multi_region, weights, graph_weights
        Passed to :class:`grappes.solver.GrappeSolver`.
    declared
        Grappe id -> declared criteria of the priority grid, for the costing's score.

    Raises ``ValueError`` with a French message for unusable parameters (unknown rule set,
    empty perimeter, unknown field).
    """
    from grappes.solver.core import GrappeSolver
    from grappes.solver.graph import GraphWeights

    ruleset = load_rules(rules_name or DEFAULT_RULES)
    grouping = ruleset.grouping
    etab = result.etablissements
    missing = [c for c in ETAB_COLUMNS if c not in etab.columns]
    if missing:
        msg = f"table des établissements incomplète : colonne(s) {', '.join(missing)}"
        raise UnusableInput(msg)
    scoped, out_of_scope = filter_scope(etab, region, departements)
    links, links_note = with_file_links(links, result)
    graph_weights = graph_weights or GraphWeights()
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
        proposal.stats.liens_fichier = len(result.liens) if result.liens is not None else 0
        proposal.stats.warnings.append(links_note)
    settings = SolverSettings(seed=int(seed), time_limit=float(time_limit),
                              allow_multi_region=bool(allow_multi_region),
                              max_km=float(graph_weights.max_km))
    return report_from_proposal(proposal, result, ruleset, settings, out_of_scope=out_of_scope,
                                region=region, departements=departements, champ=champ,
                                declared=declared)


def report_from_proposal(
    proposal: Proposal,
    result: LoadResult,
    ruleset: RuleSet,
    settings: SolverSettings,
    *,
    out_of_scope: dict[str, str],
    region: str | None,
    departements: Sequence[str] | None,
    champ: str | None,
    declared: dict[str, dict[str, bool]] | None = None,
) -> ProposalReport:
    """The costed, checked report of a solver's proposal (the tail of :func:`propose`).

    Kept apart so that a grouping stored earlier (``grappes.scenarios.precomputed``: the
    bundled sample's proposal) is costed and checked by exactly the same code as a fresh
    solve: no stored amount is trusted.
    """
    etab = result.etablissements
    grouping = ruleset.grouping
    report = ProposalReport(
        proposal=proposal,
        etablissements=etab,
        rules_name=ruleset.name,
        rules_title=ruleset.title,
        grouping=grouping,
        out_of_scope=out_of_scope,
        region=region,
        departements=tuple(departements or ()),
        champ=champ,
        load_warnings=list(result.warnings),
        ruleset=ruleset,
        settings=settings,
    )
    report.costs = cost_all(report, declared)
    unplaced = report.unplaced_frame()
    set_aside = set(unplaced.loc[unplaced["code"].isin(list(SOLVER_SET_ASIDE)), "finess_et"])
    report.violations = check_grouping(
        etab, {e: g.id for g in proposal.grappes for e in g.esms},
        {g.id: g.champ for g in proposal.grappes}, grouping, settings.max_km, set_aside)
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
) -> dict[str, GrappeCost]:
    """Cost every grappe of a report (``grappes.programme.costing.cost_grappe``), typed."""
    etab = report.etablissements
    et = text(etab, "finess_et")
    position = pd.Series(range(len(etab)), index=pd.Index(et))
    costs: dict[str, GrappeCost] = {}
    for g in report.grappes:
        members = etab.iloc[position.loc[g.esms].to_numpy()]
        costs[g.id] = cost_grappe(
            members,
            report.ruleset,
            porteur=g.porteur,
            declared=(declared or {}).get(g.id),
        )
    return costs
