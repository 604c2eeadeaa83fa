"""The grappe solver: candidates, exact set packing, local search, explanations.

Method (measured on the bundled sample and on national-size synthetic data, see
``README.md``): the table is cut into sub-problems, one per field and région (OGs
spanning régions go to the région holding most of their ESMS). In each, every OG seeds
growths of candidate grappes along the compatibility graph (``candidates``), a greedy
grow-then-attach grouping is added as a warm start (``greedy``), CP-SAT picks the best
disjoint candidates lexicographically (``select``), and local moves improve the result
(``local_search``). The priority order of the objective is documented in ``evaluate``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from grappes.core.model import CHAMPS, GroupingRules
from grappes.core.vocabulary import SET_ASIDE_TEXT
from grappes.programme.validate import counted_mask
from grappes.solver.attach import attach_other_fields, extend_grappe
from grappes.solver.bounds import neighbourhood_bound
from grappes.solver.candidates import CandidateParams, compatible_with, generate
from grappes.solver.evaluate import Evaluator
from grappes.solver.explain import (
    certified_reason,
    describe_grappe,
    explain_unit,
    near_miss,
)
from grappes.solver.graph import GraphWeights, edge_weight, link_pairs, unit_neighbours
from grappes.solver.greedy import greedy_grappes
from grappes.solver.local_search import LocalSearch
from grappes.solver.proposal import Proposal, SolverStats
from grappes.solver.select import select
from grappes.solver.settings import LIBRARY_TIME_LIMIT, ZONE_BUDGET_CAP, ZONE_BUDGET_SHARE
from grappes.solver.subproblem import Subproblem
from grappes.solver.units import (
    Constraints,
    build_units,
    prepare_esms,
    subset_units,
    text,
)
from grappes.solver.zones import certify, reoptimise_zones

#: Columns the solver cannot work without.
REQUIRED_COLUMNS: tuple[str, ...] = ("finess_et", "finess_ej", "champ", "lon", "lat", "og_nb_esms")

UNPLACED_COLUMNS: tuple[str, ...] = (
    "finess_et",
    "finess_ej",
    "champ",
    "code",
    "reason",
    "near_miss",
    "near_miss_km",
)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SolverWeights:
    """How levels 2 (priority points) and 3 (compactness and similarity) are traded.

    Level 1 (ESMS of small OGs placed, then all ESMS placed) always comes first. By default
    (``lexicographic=True``) points come strictly before compactness. With
    ``lexicographic=False`` the solver maximises
    ``points * km_per_point * total_points - compactness * total_cost`` where the cost is in
    kilometre equivalents (``GraphWeights``): with the defaults one point is worth 10 km.
    """

    points: float = 1.0
    compactness: float = 1.0
    lexicographic: bool = True
    km_per_point: float = 10.0

    def points_weight(self) -> float | None:
        """Points weight in cost units for the merged objective (None = lexicographic)."""
        if self.lexicographic:
            return None
        for name in ("points", "compactness", "km_per_point"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                msg = f"SolverWeights.{name} : valeur positive attendue, reçu {value!r}"
                raise ValueError(msg)
        if self.compactness == 0:
            return 1e9
        return self.points * self.km_per_point / self.compactness


def check_table(etab: pd.DataFrame) -> None:
    """Reject a table the solver cannot read, with a French message naming the column/line."""
    if not isinstance(etab, pd.DataFrame):
        msg = "table des établissements attendue (pandas.DataFrame)"
        raise ValueError(msg)
    missing = [c for c in REQUIRED_COLUMNS if c not in etab.columns]
    if missing:
        msg = f"colonne(s) manquante(s) dans la table des établissements : {', '.join(missing)}"
        raise ValueError(msg)
    et = text(etab, "finess_et")
    dup = et[et.duplicated(keep=False) & (et != "")]
    if len(dup):
        first = str(dup.iloc[0])
        where = [i for i, v in enumerate(et) if v == first]
        line = etab["ligne"].iloc[where].tolist() if "ligne" in etab.columns else where
        msg = f"finess_et {first} en double (lignes {', '.join(str(x) for x in line)})"
        raise ValueError(msg)
    empty = et == ""
    if empty.any():
        pos = int(np.flatnonzero(empty.to_numpy())[0])
        line = etab["ligne"].iloc[pos] if "ligne" in etab.columns else pos + 1
        msg = f"ligne {line}, champ finess_et : valeur vide"
        raise ValueError(msg)


def widen_bounds(subs: Sequence[Subproblem]) -> None:
    """Keep the upper bounds valid when leftovers may join another field's grappe.

    A unit the neighbourhood test rules out can still be attached to its OG's grappe of
    another field: its small-OG ESMS go back into the bound whenever its OG has units in
    another sub-problem.
    """
    og_subs: dict[str, set[int]] = {}
    for si, sub in enumerate(subs):
        for ogs in sub.units.ogs:
            for og in ogs:
                og_subs.setdefault(og, set()).add(si)
    for si, sub in enumerate(subs):
        if sub.alive is None:
            continue
        for u in np.flatnonzero(~sub.alive):
            if any(og_subs.get(og, set()) - {si} for og in sub.units.ogs[u]):
                sub.bound_small += int(sub.units.n_small[u])


class GrappeSolver:
    """Propose grappes for a territory (scikit-learn style: parameters here, data in ``solve``).

    Parameters
    ----------
    rules
        Hard rules and points of the call for projects.
    weights
        Trade-off between priority points and compactness (levels 2 and 3).
    graph_weights
        Reach of a grappe (``max_km``) and the cost terms.
    seed
        Seed of the random growths and of CP-SAT: same input and seed, same proposal.
    time_limit
        Deterministic time budget of the exact selection (CP-SAT), seconds; the local search
        stops after ``1.5 * time_limit`` wall seconds at worst.
    allow_multi_region
        Build grappes across régions (one sub-problem per field for the whole table).
    links
        Known partnerships (``finess_ej_a``, ``finess_ej_b``), see
        ``grappes.ingest.links.read_links``.
    progress
        Called with a French message and the share done (0..1).
    workers
        CP-SAT workers. 1 by default: measured twice as fast as 2 interleaved workers on
        these set-packing models (same results), and deterministic; with more than one,
        the interleaved (reproducible) parallel mode is used.
    candidate_params
        How many candidates to grow.
    """

    def __init__(
        self,
        rules: GroupingRules | None = None,
        weights: SolverWeights | None = None,
        graph_weights: GraphWeights | None = None,
        seed: int = 0,
        time_limit: float = LIBRARY_TIME_LIMIT,
        allow_multi_region: bool = False,
        links: pd.DataFrame | None = None,
        progress: Progress | None = None,
        workers: int = 1,
        candidate_params: CandidateParams | None = None,
    ) -> None:
        self.rules = rules or GroupingRules()
        self.weights = weights or SolverWeights()
        self.graph_weights = graph_weights or GraphWeights()
        self.seed = int(seed)
        if not np.isfinite(time_limit) or time_limit <= 0:
            msg = f"limite de temps invalide : {time_limit!r} (secondes > 0 attendues)"
            raise ValueError(msg)
        self.time_limit = float(time_limit)
        self.allow_multi_region = bool(allow_multi_region)
        self.links = links
        self.progress = progress
        self.workers = int(workers)
        self.candidate_params = candidate_params or CandidateParams()

    # ------------------------------------------------------------------ helpers

    def _report(self, message: str, share: float) -> None:
        if self.progress is not None:
            self.progress(message, float(min(max(share, 0.0), 1.0)))

    def _champs(self, etab: pd.DataFrame, champ: str | None) -> tuple[str, ...]:
        if champ is not None:
            if champ not in CHAMPS:
                msg = f"champ inconnu : {champ!r} (attendu : {', '.join(CHAMPS)})"
                raise ValueError(msg)
            return (champ,)
        present = set(text(etab, "champ"))
        return tuple(c for c in CHAMPS if c in present and c in self.rules.grappe_champs)

    def _subproblems(
        self, esms: pd.DataFrame, champs: Sequence[str], locks: Constraints | None
    ) -> list[Subproblem]:
        subs: list[Subproblem] = []
        champ_col = text(esms, "champ")
        for c in champs:
            part = esms[(champ_col == c).to_numpy()]
            if part.empty:
                continue
            units = build_units(part, self.rules, c, locks)
            if self.allow_multi_region:
                groups = {"*": np.arange(len(units))}
            else:
                regions = np.asarray(units.region, dtype=object)
                groups = {r: np.flatnonzero(regions == r) for r in sorted(set(units.region))}
            for region, keep in groups.items():
                sub_units = units if region == "*" else subset_units(units, keep)
                pairs = link_pairs(sub_units, self.links)
                ev = Evaluator(sub_units, self.rules, self.graph_weights, pairs)
                nb, km = unit_neighbours(sub_units, 2.0 * self.graph_weights.max_km)
                subs.append(Subproblem(c, region, sub_units, ev, nb, km))
        return subs

    def _edge_weights(self, sub: Subproblem) -> list[np.ndarray]:
        counts = [len(nb) for nb in sub.neighbours]
        if not sum(counts):
            return [np.empty(0) for _ in counts]
        a = np.repeat(np.arange(len(counts)), counts)
        b = np.concatenate(sub.neighbours)
        d = np.concatenate(sub.km)
        w, _ = edge_weight(sub.units, a, b, d, self.graph_weights, sub.ev.links)
        return np.split(w, np.cumsum(counts)[:-1])

    # ------------------------------------------------------------------ solve

    def solve(
        self,
        etab: pd.DataFrame,
        champ: str | None = None,
        locks: Constraints | None = None,
    ) -> Proposal:
        """Propose grappes for ``etab`` (normalised table, ``grappes.core.model.ETAB_COLUMNS``).

        ``champ`` None solves every eligible field present, each separately. ``locks`` are
        the user's constraints (:class:`Constraints`).
        """
        start = time.perf_counter()
        check_table(etab)
        etab = etab.reset_index(drop=True)
        champs = self._champs(etab, champ)
        esms, set_aside = prepare_esms(etab, self.rules, champs, locks)
        self._report("Préparation des OG", 0.0)
        subs = self._subproblems(esms, champs, locks)
        pw = self.weights.points_weight()
        warnings: list[str] = []
        timings: dict[str, float] = {"preparation": time.perf_counter() - start}
        mark = time.perf_counter()

        # wall-clock safety net only (the descents normally stop by themselves, deterministically)
        safety = start + 10.0 * self.time_limit + 120.0
        self._candidates(subs, pw, safety, timings)  # 1. candidates and greedy warm start
        timings["candidats"] = time.perf_counter() - mark
        mark = time.perf_counter()
        self._select_all(subs, pw, warnings)  # 2. exact selection, budget shared by size
        timings["selection"] = time.perf_counter() - mark
        mark = time.perf_counter()
        moves: dict[str, int] = {}
        self._zones(subs, pw, safety, moves)  # 3. regroupings around every small OG left out
        timings["zones"] = time.perf_counter() - mark
        mark = time.perf_counter()
        self._polish(subs, pw, safety, moves)  # 4. local search, then local certificates
        timings["recherche_locale"] = time.perf_counter() - mark
        mark = time.perf_counter()

        # leftovers of a field join their OG's grappe of another field (at most 20 %)
        apart = {frozenset(p) for p in locks.apart} if locks is not None else set()
        attachments = attach_other_fields(subs, self.rules, apart) if len(champs) > 1 else {}
        if len(champs) > 1:
            widen_bounds(subs)
        moves["rattachement_autre_champ"] = sum(len(v) for v in attachments.values())
        timings["rattachement"] = time.perf_counter() - mark
        mark = time.perf_counter()
        self._report("Explications", 0.95)
        proposal = build_proposal(
            self.rules, etab, set_aside, subs, champs, start, warnings, moves,
            multi_region=self.allow_multi_region, attachments=attachments,
        )
        timings["explications"] = time.perf_counter() - mark
        proposal.stats.timings_s = {k: round(v, 3) for k, v in timings.items()}
        self._report("Terminé", 1.0)
        return proposal

    def _candidates(self, subs: list[Subproblem], pw: float, safety: float,
                    timings: dict[str, float]) -> None:
        """Step 1, per sub-problem: the candidate grappes, the greedy warm start (improved by
        local search; its grappes join the pool, so the exact selection can only do better)
        and the neighbourhood bound."""
        total_units = max(sum(len(s.units) for s in subs), 1)
        done = 0
        for sub in subs:
            base = done / total_units

            def report(share: float, sub: Subproblem = sub, base: float = base) -> None:
                self._report(
                    f"Candidats {sub.champ} région {sub.region}",
                    0.05 + 0.45 * (base + share * len(sub.units) / total_units),
                )

            t0 = time.perf_counter()
            weights = self._edge_weights(sub)
            sub.candidates = generate(
                sub.ev, sub.neighbours, weights, self.candidate_params, self.seed, report
            )
            t1 = time.perf_counter()
            sub.greedy = LocalSearch(sub.ev, sub.neighbours, pw).run(
                greedy_grappes(sub.ev, sub.neighbours, pw), deadline=safety
            )
            t2 = time.perf_counter()
            timings["generation"] = timings.get("generation", 0.0) + t1 - t0
            timings["depart_glouton"] = timings.get("depart_glouton", 0.0) + t2 - t1
            known = set(sub.candidates)
            for g in sub.greedy:
                if tuple(g) not in known:
                    sub.candidates.append(tuple(g))
                    known.add(tuple(g))
            sub.candidates.sort()
            sub.bound_small, bound_placed, sub.alive = neighbourhood_bound(sub.ev, sub.neighbours)
            warm = sub.ev.total(sub.greedy)
            # the warm start already places every ESMS the bound allows: level 1 is solved
            sub.level1_done = (warm.small, warm.placed) == (sub.bound_small, bound_placed)
            done += len(sub.units)

    def _select_all(self, subs: list[Subproblem], pw: float, warnings: list[str]) -> None:
        """Step 2: the exact selection (CP-SAT) of each sub-problem, on a deterministic budget
        in proportion to its candidates; what one leaves unused goes to the next ones. The
        zones (step 3) keep their share."""
        cands_left = max(sum(len(s.candidates) for s in subs), 1)
        remaining = self.time_limit * (1.0 - ZONE_BUDGET_SHARE)
        for k, sub in enumerate(subs):
            self._report(
                f"Sélection exacte {sub.champ} région {sub.region}",
                0.5 + 0.3 * k / max(len(subs), 1),
            )
            values = sub.ev.values(sub.candidates)
            position = {c: i for i, c in enumerate(sub.candidates)}
            hint = [position[tuple(g)] for g in sub.greedy]
            budget = max(remaining * len(sub.candidates) / cands_left, 0.2)
            cands_left = max(cands_left - len(sub.candidates), 1)
            sel = select(
                sub.candidates,
                values,
                sub.units.n,
                sub.units.n_small,
                forced=sub.units.forced,
                points_weight=pw,
                hint=hint,
                time_limit=budget,
                seed=self.seed,
                workers=self.workers,
                hint_level1_optimal=sub.level1_done,
                unit_pos=sub.units.pos,
            )
            warnings.extend(sel.warnings)
            remaining = max(remaining - sel.dtime, 0.0)
            sub.grappes = [list(sub.candidates[i]) for i in sel.chosen]
            sub.candidate_bound = sel.bound_small
            sub.optimal, sub.groups = sel.optimal_groups, sel.groups

    def _zones(self, subs: list[Subproblem], pw: float, safety: float,
               moves: dict[str, int]) -> None:
        """Step 3: zone re-optimisation around every small OG left out.

        Each sub-problem gets its own budget (not a share of the others'): a field's grappes
        must not depend on which other fields are solved in the same run (« tous les champs »
        gives the same PA grappes as PA alone: tests/test_scenario_round_trip.py). Capped:
        with the CLI's 20 s, 30 % per sub-problem made the sample's seven fields spend ~40 s
        in zones (README's first command 12 s -> 46 s, the suite 5.5 -> 17 min)."""
        zone_budget = min(ZONE_BUDGET_SHARE * self.time_limit, ZONE_BUDGET_CAP)
        for k, sub in enumerate(subs):
            self._report(
                f"Regroupements autour des OG laissés de côté {sub.champ} région {sub.region}",
                0.8 + 0.08 * k / max(len(subs), 1),
            )
            sub.grappes, sub.zones = reoptimise_zones(
                sub.ev, sub.neighbours, sub.km, sub.grappes, alive=sub.alive,
                points_weight=pw, seed=self.seed, budget=zone_budget, workers=self.workers,
                deadline=safety,
            )
            moves["zone"] = moves.get("zone", 0) + sub.zones.improved + sub.zones.pool_improved

    def _polish(self, subs: list[Subproblem], pw: float, safety: float,
                moves: dict[str, int]) -> None:
        """Step 4: local search (it also polishes points and cost after the zones), then the
        local certificates on each sub-problem's final grouping."""
        for k, sub in enumerate(subs):
            self._report(
                f"Amélioration locale {sub.champ} région {sub.region}",
                0.88 + 0.07 * k / max(len(subs), 1),
            )
            search = LocalSearch(sub.ev, sub.neighbours, pw)
            before = sub.ev.total(sub.grappes)
            sub.grappes = search.run(sub.grappes, deadline=safety)
            after = sub.ev.total(sub.grappes)
            if (after.small, after.placed) < (before.small, before.placed):  # pragma: no cover
                msg = "recherche locale : dégradation inattendue"
                raise RuntimeError(msg)
            for name, count in search.moves.items():
                moves[name] = moves.get(name, 0) + count
            sub.zones.certified_units, sub.zones.certified = certify(
                sub.ev, sub.neighbours, sub.km, sub.grappes, alive=sub.alive
            )


# ---------------------------------------------------------------------- output


def grappe_id(champ: str, territory: str, number: int, attached: bool = False) -> str:
    """A grappe's id: its field, its territory, its number (``PA-24-003``).

    The number ranks the grappe among its field's grappes of the territory by its smallest
    FINESS ET. A ``+`` after the field marks a grappe that also holds ESMS of other fields
    of its OGs (« tous les champs » only: ``attach.attach_other_fields``), so one id names
    one member set whatever the scope shown (issue 20, item 7): the grappe ``PA-24-002`` of
    the PA view keeps its id on « tous les champs » when nothing is attached to it, and is
    ``PA+-24-002`` there when ESMS of another field join it (another grappe, another id).
    One character, not the list of the fields: an id stays short enough for a sheet name
    (« dossier PA+-24-002 », Excel allows 31 characters) and holds no other grappe's id.
    """
    return f"{champ}{'+' if attached else ''}-{territory}-{number:03d}"


def build_proposal(
    rules: GroupingRules,
    etab: pd.DataFrame,
    set_aside: pd.Series,
    subs: list[Subproblem],
    champs: Sequence[str],
    start: float,
    warnings: list[str],
    moves: dict[str, int],
    multi_region: bool = False,
    attachments: dict[tuple[int, int], list[tuple[int, int]]] | None = None,
) -> Proposal:
    """Grappes with ids and explanations, unplaced ESMS with reasons, statistics.

    ``attachments``: leftover units of another field joined to a grappe of their OG
    (``attach.attach_other_fields``), keyed by (sub-problem, grappe) positions.
    """
    attachments = attachments or {}
    attached_units = {(si, u) for extra in attachments.values() for si, u in extra}
    grappes = []
    unplaced_rows: list[dict[str, Any]] = []
    champ_of = text(etab, "champ")
    for idx, code in set_aside.items():
        champ = str(champ_of.loc[idx])
        unplaced_rows.append(
            {
                "finess_et": str(etab.at[idx, "finess_et"]),
                "finess_ej": str(etab.at[idx, "finess_ej"])
                if pd.notna(etab.at[idx, "finess_ej"])
                else "",
                "champ": champ,
                "code": str(code),
                "reason": SET_ASIDE_TEXT.get(
                    "hors_programme" if code == "hors_champ" and champ not in CHAMPS else code,
                    str(code),
                ).format(champ=champ or "?"),
                "near_miss": "",
                "near_miss_km": float("nan"),
            }
        )
    per_champ: dict[str, dict[str, int]] = {}
    detail: list[dict[str, Any]] = []
    bound = candidate_bound = optimal = groups = 0
    for si, sub in enumerate(subs):
        units = sub.units
        ev = sub.ev
        et_all = units.esms["finess_et"].astype("string").to_numpy(dtype=object)
        order = sorted(
            range(len(sub.grappes)),
            key=lambda i: min(et_all[np.concatenate([units.rows[m] for m in sub.grappes[i]])]),
        )
        ordered = [sub.grappes[i] for i in order]
        label = "multi" if sub.region == "*" else sub.region
        gids = [grappe_id(sub.champ, label, k + 1, attached=bool(attachments.get((si, i))))
                for k, i in enumerate(order)]
        for i, g, gid in zip(order, ordered, gids, strict=True):
            grappe = describe_grappe(ev, g, gid)
            extra = attachments.get((si, i))
            if extra:
                rows = [subs[sj].units.esms["_row"].iloc[subs[sj].units.rows[u]] for sj, u in extra]
                extend_grappe(grappe, etab, np.concatenate(rows), rules)
            grappes.append(grappe)
        placed = np.zeros(len(units), dtype=bool)
        for g in ordered:
            placed[g] = True
        for sj, u in attached_units:
            if sj == si:
                placed[u] = True
        et = units.esms["finess_et"].astype("string").to_numpy(dtype=object)
        ej = units.esms["finess_ej"].astype("string").to_numpy(dtype=object)
        centres = np.array([ev.centre(g) for g in ordered]) if ordered else None
        for u in np.flatnonzero(~placed):
            nb = sub.neighbours[u]
            compat = compatible_with(ev, int(u), nb)
            code, reason = explain_unit(ev, int(u), nb, compat)
            if code == "non_retenu" and int(u) in sub.zones.certified_units:
                code, reason = certified_reason(sub.zones.certified_units[int(u)])
            miss, miss_km = near_miss(ev, int(u), ordered, gids, nb, sub.km[u], centres)
            for r in units.rows[u]:
                unplaced_rows.append(
                    {
                        "finess_et": str(et[r]),
                        "finess_ej": str(ej[r]),
                        "champ": sub.champ,
                        "code": code,
                        "reason": reason,
                        "near_miss": miss,
                        "near_miss_km": round(miss_km, 3),
                    }
                )
        stats = per_champ.setdefault(
            sub.champ, {"esms_groupable": 0, "esms_placed": 0, "grappes": 0}
        )
        stats["esms_groupable"] += int(units.n.sum())
        stats["esms_placed"] += int(units.n[placed].sum())
        stats["grappes"] += len(ordered)
        small_placed = int(units.n_small[placed].sum())
        detail.append(
            {
                "champ": sub.champ,
                "region": sub.region,
                "esms_small_og_placed": small_placed,
                "upper_bound": sub.bound_small,
                "proven_optimal": small_placed >= sub.bound_small,
                "zones": sub.zones.zones,
                "zones_improved": sub.zones.improved,
                "zones_certified": sub.zones.certified,
                "unplaced_certified": len(
                    [u for u in sub.zones.certified_units if not placed[u]]
                ),
            }
        )
        bound += sub.bound_small
        candidate_bound += sub.candidate_bound
        optimal += sub.optimal
        groups += sub.groups

    grappes.sort(key=lambda g: (CHAMPS.index(g.champ) if g.champ in CHAMPS else 99, g.id))
    unplaced = pd.DataFrame(unplaced_rows, columns=list(UNPLACED_COLUMNS))
    unplaced = unplaced.astype(
        {c: "string" for c in UNPLACED_COLUMNS if c != "near_miss_km"} | {"near_miss_km": "float64"}
    )
    order = text(etab, "finess_et").tolist()
    rank = {et: i for i, et in enumerate(order)}
    unplaced = unplaced.sort_values(
        "finess_et", key=lambda s: s.map(rank).astype("int64"), kind="stable"
    ).reset_index(drop=True)

    counted = etab.loc[~etab.index.isin(set_aside.index)]
    eligible_mask = champ_of.isin(list(champs)) & counted_mask(etab, rules)
    eligible = etab[eligible_mask.to_numpy()]
    size = pd.to_numeric(eligible["og_nb_esms"], errors="coerce").fillna(0)
    small = eligible[(size <= rules.petit_og_max).to_numpy()]
    placed_et = {et for g in grappes for et in g.esms}
    stats_out = SolverStats(
        esms_total=len(etab),
        esms_eligible=len(eligible),
        esms_groupable=len(counted),
        esms_placed=len(placed_et),
        esms_small_og=len(small),
        esms_small_og_placed=int(text(small, "finess_et").isin(placed_et).sum()),
        grappes=len(grappes),
        points=int(sum(sum(g.points.values()) for g in grappes)),
        upper_bound=bound,
        candidate_bound=candidate_bound,
        candidates=int(sum(len(s.candidates) for s in subs)),
        subproblems=len(subs),
        selection_groups=groups,
        selection_groups_optimal=optimal,
        moves=moves,
        zones=sum(d["zones"] for d in detail),
        zones_improved=sum(d["zones_improved"] for d in detail),
        zones_certified=sum(d["zones_certified"] for d in detail),
        by_subproblem=detail,
        by_champ=per_champ,
        multi_region=multi_region,
        warnings=warnings,
        runtime_s=round(time.perf_counter() - start, 3),
    )
    return Proposal(grappes=grappes, unplaced=unplaced, stats=stats_out, order=order)


def greedy_baseline(
    etab: pd.DataFrame,
    rules: GroupingRules | None = None,
    champ: str | None = None,
    graph_weights: GraphWeights | None = None,
) -> Proposal:
    """The greedy grow-then-attach grouping alone (no CP-SAT, no local search), for benchmarks."""
    start = time.perf_counter()
    solver = GrappeSolver(rules, graph_weights=graph_weights)
    check_table(etab)
    etab = etab.reset_index(drop=True)
    champs = solver._champs(etab, champ)
    esms, set_aside = prepare_esms(etab, solver.rules, champs, None)
    subs = solver._subproblems(esms, champs, None)
    for sub in subs:
        sub.grappes = greedy_grappes(sub.ev, sub.neighbours)
        sub.bound_small, _, _ = neighbourhood_bound(sub.ev, sub.neighbours)
    return build_proposal(solver.rules, etab, set_aside, subs, champs, start, [], {})
