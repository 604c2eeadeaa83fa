"""What-if: edit a proposed grouping by hand, then re-validate and re-cost it at once.

The ARS or the OGs know things the register does not (an existing partnership, two OGs
that will not work together, an ESMS about to close), so the app lets them lock OGs
together, keep two OGs apart, exclude an ESMS, move an OG to another grappe, change a
porteur and tick the declared criteria of the priority grid. Each edit changes the
grouping immediately (so that its effect is visible) and records a solver constraint
(``grappes.solver.Constraints``) so that :meth:`WhatIf.rerun` can search again around
the locks.

Why it is fast (target < 1 s per edit): the hard rules are checked for the whole grouping
with the vectorised ``grappes.programme.validate.grouping_violations``, and a grappe is re-costed
(``grappes.programme.costing.cost_grappe``) only when its members, porteur or declared criteria
changed; the costs of the proposal seed the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from grappes.core.model import CHAMPS, Grappe
from grappes.core.vocabulary import SOLVER_SET_ASIDE
from grappes.programme.costing import GrappeCost, cost_grappe
from grappes.programme.reach import DEFAULT_MAX_KM
from grappes.programme.rules import RuleSet
from grappes.programme.validate import Violation, check_grouping, counted_mask, text_column
from grappes.scenarios.ids import rename_in_text, sorted_ids, stable_ids
from grappes.solver.graph import GraphWeights
from grappes.solver.settings import RERUN_TIME_LIMIT
from grappes.solver.units import Constraints

EVALUATION_COLUMNS: tuple[str, ...] = (
    "grappe", "champ", "n_esms", "n_og", "porteur", "valide", "regles_enfreintes",
    "points_grille", "points_max", "financement", "delta_points_grille", "delta_financement",
    "modifiee",
)  # fmt: skip


@dataclass
class Evaluation:
    """The grouping after the edits: per-grappe validity, points and funding, and totals.

    Attributes
    ----------
    grappes
        One row per grappe (``EVALUATION_COLUMNS``), deltas against the starting proposal.
    violations
        Grappe id -> hard rules broken (``grappes.programme.validate.Violation``).
    costs
        Grappe id -> ``GrappeCost``.
    members
        Grappe id -> its FINESS ET, sorted.
    new_violations
        ``(grappe id, message)`` broken now and not in the starting proposal.
    lock_issues
        Locks the current grouping does not honour (French), e.g. two OGs locked together
        sitting in different grappes after a later move.
    totals
        ``grappes``, ``valides``, ``esms_places``, ``points_grille`` and ``financement``
        (valid grappes only: what would be funded), ``financement_invalides`` (shown apart)
        and their ``delta_*`` against the starting proposal.
    elapsed_s
        Time taken by the evaluation, seconds.
    """

    grappes: pd.DataFrame
    violations: dict[str, list[Violation]]
    costs: dict[str, GrappeCost]
    members: dict[str, tuple[str, ...]]
    new_violations: list[tuple[str, str]]
    lock_issues: list[str]
    totals: dict[str, float]
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "grappes": self.grappes.to_dict(orient="records"),
            "violations": {g: [v.as_dict() for v in vs] for g, vs in self.violations.items()},
            "new_violations": [list(x) for x in self.new_violations],
            "lock_issues": list(self.lock_issues),
            "totals": dict(self.totals),
            "elapsed_s": self.elapsed_s,
        }


def _key(members: Iterable[str], porteur: str, declared: Mapping[str, bool]) -> tuple:
    return (tuple(sorted(members)), porteur, tuple(sorted((k, bool(v)) for k, v in
                                                          declared.items() if v)))


@dataclass
class WhatIf:
    """A scenario around a proposal: edits, locks, and the evaluation of the result.

    Build it with :meth:`from_grappes` (or :meth:`from_report` for a ``propose`` report),
    call the edit methods (each returns the new :class:`Evaluation`), and :meth:`rerun` to
    let the solver search again under the locks. Edits raise ``ValueError`` with a French
    message when they name an unknown OG, ESMS or grappe.
    """

    etab: pd.DataFrame
    rules: RuleSet
    assignment: dict[str, str]
    champ_of: dict[str, str]
    porteurs: dict[str, str]
    champ: str | None = None
    set_aside: frozenset[str] = frozenset()
    declared: dict[str, dict[str, bool]] = field(default_factory=dict)
    constraints: Constraints = field(default_factory=Constraints)
    history: list[str] = field(default_factory=list)
    baseline: Evaluation | None = None
    _costs: dict[tuple, GrappeCost] = field(default_factory=dict, repr=False)
    _new_ids: int = 0
    _forced_grappes: set[str] = field(default_factory=set)
    #: the latest evaluation (set by every edit)
    current: Evaluation | None = None
    #: the grappes as proposed (their explanations, for the exports), by id
    origin: dict[str, Grappe] = field(default_factory=dict, repr=False)
    #: the solver's unplaced ESMS (reasons and near misses), for the exports
    unplaced: pd.DataFrame | None = field(default=None, repr=False)
    #: FINESS ET outside the région / départements studied (never re-solved)
    out_of_scope: frozenset[str] = frozenset()
    #: the reach rule (km from the grappe's centre), as the solver was run with
    max_km: float = DEFAULT_MAX_KM
    _ej: dict[str, str] = field(default_factory=dict, repr=False)
    _pos: dict[str, int] = field(default_factory=dict, repr=False)
    #: every grappe id handed out in this session: a retired id is never given to another
    #: grappe (see :meth:`rerun` and ``grappes.scenarios.ids``)
    issued_ids: set[str] = field(default_factory=set)
    #: grappe id -> porteur chosen by the user (:meth:`set_porteur`), kept across re-solves
    #: while that OG stays in the grappe; the other grappes take the default porteur
    chosen_porteurs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        et = text_column(self.etab, "finess_et")
        if not self._ej:
            self._ej = dict(zip(et, text_column(self.etab, "finess_ej"), strict=True))
        if not self._pos:
            self._pos = {e: i for i, e in enumerate(et)}

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_grappes(
        cls,
        etab: pd.DataFrame,
        rules: RuleSet,
        grappes: Sequence[Grappe],
        costs: Mapping[str, GrappeCost] | None = None,
        unplaced: pd.DataFrame | None = None,
        champ: str | None = None,
        max_km: float = DEFAULT_MAX_KM,
    ) -> WhatIf:
        """Start from a proposal: its grappes, their costs (reused) and its unplaced ESMS.

        ``unplaced`` (the solver's, with ``finess_et`` and ``code``) tells which ESMS the
        solver set aside before grouping (health, other field, no coordinates...): those take
        no part in the checks, as in the solver.
        """
        etab = etab.reset_index(drop=True)
        et = text_column(etab, "finess_et")
        if et.duplicated().any():
            dup = str(et[et.duplicated()].iloc[0])
            msg = f"FINESS ET {dup} en double dans la table des établissements"
            raise ValueError(msg)
        assignment = {e: g.id for g in grappes for e in g.esms}
        set_aside: set[str] = set()
        if unplaced is not None and len(unplaced) and "code" in unplaced.columns:
            codes = text_column(unplaced, "code")
            set_aside = set(text_column(unplaced, "finess_et")[codes.isin(SOLVER_SET_ASIDE)])
        porteurs = {g.id: str(g.porteur or "") for g in grappes}
        scenario = cls(
            etab=etab,
            rules=rules,
            assignment=assignment,
            champ_of={g.id: g.champ for g in grappes},
            porteurs=porteurs,
            champ=champ,
            set_aside=frozenset(set_aside),
            origin={g.id: g for g in grappes},
            unplaced=unplaced,
            max_km=max_km,
            issued_ids={g.id for g in grappes},
        )
        for g in grappes:
            cost = (costs or {}).get(g.id)
            if cost is not None:
                if not porteurs[g.id]:
                    porteurs[g.id] = cost.porteur
                scenario._costs[_key(g.esms, porteurs[g.id], {})] = cost
        scenario.baseline = scenario.evaluate()
        return scenario

    @classmethod
    def from_report(cls, report: Any) -> WhatIf:
        """Start from a ``grappes.solver.propose.ProposalReport`` (table, rule set, grappes,
        costs).

        The report's typed costs (``GrappeCost``) seed the cache; the ESMS outside the
        report's région / départements stay out of every check and of :meth:`rerun`.
        """
        rules = getattr(report, "ruleset", None) or getattr(report, "rules", None)
        if not isinstance(rules, RuleSet):
            msg = "rapport sans jeu de règles : chiffrage impossible"
            raise ValueError(msg)
        costs = dict(getattr(report, "costs", {}) or {})
        unplaced = (report.unplaced_frame() if hasattr(report, "unplaced_frame")
                    else getattr(report, "unplaced", None))
        scenario = cls.from_grappes(
            report.etablissements,
            rules,
            report.grappes,
            costs=costs,
            unplaced=unplaced,
            champ=getattr(report, "champ", None),
            max_km=float(getattr(report, "max_km", DEFAULT_MAX_KM)),
        )
        scenario.out_of_scope = frozenset(getattr(report, "out_of_scope", {}) or {})
        return scenario

    def copy(self) -> WhatIf:
        """An independent copy (for undo): edits on the copy leave this one as it is."""
        return WhatIf(
            etab=self.etab,
            rules=self.rules,
            assignment=dict(self.assignment),
            champ_of=dict(self.champ_of),
            porteurs=dict(self.porteurs),
            champ=self.champ,
            set_aside=self.set_aside,
            declared={g: dict(d) for g, d in self.declared.items()},
            constraints=Constraints(
                together=list(self.constraints.together),
                apart=list(self.constraints.apart),
                excluded_esms=list(self.constraints.excluded_esms),
                forced=dict(self.constraints.forced),
            ),
            history=list(self.history),
            baseline=self.baseline,
            _costs=self._costs,  # shared on purpose: a cache keyed on content
            _new_ids=self._new_ids,
            _forced_grappes=set(self._forced_grappes),
            current=self.current,
            origin=self.origin,
            unplaced=self.unplaced,
            out_of_scope=self.out_of_scope,
            max_km=self.max_km,
            _ej=self._ej,
            _pos=self._pos,
            issued_ids=set(self.issued_ids),
            chosen_porteurs=dict(self.chosen_porteurs),
        )

    # ------------------------------------------------------------------ saved state

    @property
    def new_grappe_count(self) -> int:
        """How many grappes the user created by hand (numbers ``PA-nouvelle-k``)."""
        return self._new_ids

    @new_grappe_count.setter
    def new_grappe_count(self, value: int) -> None:
        self._new_ids = int(value)

    @property
    def built_grappes(self) -> set[str]:
        """Grappes the user built by moving OGs (forced together on a re-solve when valid)."""
        return set(self._forced_grappes) & set(self.champ_of)

    @built_grappes.setter
    def built_grappes(self, gids: Iterable[str]) -> None:
        self._forced_grappes = set(gids)

    # ------------------------------------------------------------------ lookups

    @property
    def grappe_ids(self) -> list[str]:
        """The grappes' ids in the tables' order (field, then number: ``sorted_ids``)."""
        return sorted_ids(set(self.assignment.values()))

    def members(self, gid: str) -> list[str]:
        """FINESS ET of a grappe, sorted."""
        return sorted(e for e, g in self.assignment.items() if g == gid)

    def og_of(self, finess_et: str) -> str:
        """FINESS EJ of an ESMS ('' when unknown)."""
        return self._ej.get(finess_et, "")

    def ogs(self, gid: str) -> list[str]:
        """FINESS EJ of a grappe's members, sorted."""
        return sorted({self._ej[e] for e in self.members(gid)} - {""})

    def rows_of(self, ets: Iterable[str]) -> pd.DataFrame:
        """Rows of the table for these FINESS ET (unknown ones skipped), in table order."""
        return self.etab.iloc[sorted(self._pos[e] for e in set(ets) if e in self._pos)]

    def og_esms(self, og: str, champ: str) -> list[str]:
        """ESMS of an OG in a field that can be grouped (not set aside, not excluded)."""
        ej = text_column(self.etab, "finess_ej")
        champs = text_column(self.etab, "champ")
        mask = (ej == og) & (champs == champ) & counted_mask(self.etab, self.rules.grouping)
        ets = [e for e in text_column(self.etab, "finess_et")[mask]
               if e not in self.set_aside and e not in self.constraints.excluded_esms]
        return sorted(ets)

    def _check_og(self, og: str) -> str:
        og = str(og).strip()
        if og not in set(text_column(self.etab, "finess_ej")):
            msg = f"OG (FINESS EJ) inconnu : {og}"
            raise ValueError(msg)
        return og

    def _check_grappe(self, gid: str) -> str:
        gid = str(gid).strip()
        if gid not in self.champ_of:
            msg = f"grappe inconnue : {gid} (grappes : {', '.join(self.grappe_ids[:10])} …)"
            raise ValueError(msg)
        return gid

    def _champs_of_og(self, og: str) -> list[str]:
        """Fields in which the OG sits in a grappe."""
        return sorted({self.champ_of[g] for e, g in self.assignment.items()
                       if self._ej.get(e) == og})

    def _new_grappe(self, champ: str) -> str:
        self._new_ids += 1
        gid = f"{champ}-nouvelle-{self._new_ids}"
        while gid in self.issued_ids or gid in self.champ_of:
            self._new_ids += 1
            gid = f"{champ}-nouvelle-{self._new_ids}"
        self.issued_ids.add(gid)
        self.champ_of[gid] = champ
        self.porteurs[gid] = ""
        return gid

    def _place(self, ets: Iterable[str], gid: str | None) -> None:
        for e in ets:
            if gid:
                self.assignment[e] = gid
            else:
                self.assignment.pop(e, None)
        ogs_of: dict[str, set[str]] = {}
        for e, g in self.assignment.items():
            ogs_of.setdefault(g, set()).add(self._ej.get(e, ""))
        for g in list(self.champ_of):
            if g not in ogs_of:
                self.champ_of.pop(g)
                self.porteurs.pop(g, None)
                self.declared.pop(g, None)
                self.chosen_porteurs.pop(g, None)
        for g, ogs in ogs_of.items():
            if self.porteurs.get(g) and self.porteurs[g] not in ogs:
                self.porteurs[g] = ""  # the porteur left: back to the default porteur
                self.chosen_porteurs.pop(g, None)

    # ------------------------------------------------------------------ edits

    def lock_together(self, ogs: Sequence[str], champ: str | None = None) -> Evaluation:
        """Keep these OGs in the same grappe (an existing partnership, a GCSMS).

        At once: in each field where one of them sits in a grappe (or ``champ``), the others
        join the grappe holding most of their ESMS (ties: smallest id); when none is placed,
        they form a new grappe.
        """
        ogs = sorted({self._check_og(o) for o in ogs})
        if len(ogs) < 2:
            msg = "verrouiller ensemble : au moins deux OG différents sont attendus"
            raise ValueError(msg)
        champs = [champ] if champ else sorted({c for o in ogs for c in self._champs_of_og(o)})
        if not champs:
            champs = [self._main_champ(ogs)]
        for c in champs:
            self._check_champ(c)
            ets = {o: self.og_esms(o, c) for o in ogs}
            counts: dict[str, int] = {}
            for o in ogs:
                for e in ets[o]:
                    g = self.assignment.get(e)
                    if g:
                        counts[g] = counts.get(g, 0) + 1
            target = (min(counts, key=lambda g: (-counts[g], g)) if counts
                      else self._new_grappe(c))
            self._place([e for o in ogs for e in ets[o]], target)
        # the latest edit wins over an earlier "keep apart" between the same OGs
        self.constraints.apart = [p for p in self.constraints.apart
                                  if not (p[0] in ogs and p[1] in ogs)]
        self.constraints.together.append(tuple(ogs))
        self.history.append(f"OG verrouillés ensemble : {', '.join(ogs)}")
        return self.evaluate()

    def keep_apart(self, og_a: str, og_b: str) -> Evaluation:
        """Never put these two OGs in the same grappe.

        At once: where they share a grappe, the OG with fewer ESMS there leaves it (ties: the
        larger FINESS EJ) and its ESMS are left without a grappe.
        """
        a, b = self._check_og(og_a), self._check_og(og_b)
        if a == b:
            msg = "séparer : deux OG différents sont attendus"
            raise ValueError(msg)
        for gid in self.grappe_ids:
            rows = self.rows_of(self.members(gid))
            ej = text_column(rows, "finess_ej")
            na, nb = int((ej == a).sum()), int((ej == b).sum())
            if na and nb:
                leaving = a if (na, b) < (nb, a) else b
                self._place(list(text_column(rows, "finess_et")[ej == leaving]), None)
        # the latest edit wins over an earlier lock of the same two OGs
        self.constraints.together = [g for g in self.constraints.together
                                     if not (a in g and b in g)]
        self.constraints.apart.append((a, b))
        self.history.append(f"OG séparés : {a} et {b}")
        return self.evaluate()

    def exclude_esms(self, finess_et: str) -> Evaluation:
        """Leave an ESMS out of every grappe (about to close, already engaged elsewhere...)."""
        et = str(finess_et).strip()
        if et not in set(text_column(self.etab, "finess_et")):
            msg = f"ESMS (FINESS ET) inconnu : {et}"
            raise ValueError(msg)
        self._place([et], None)
        if et not in self.constraints.excluded_esms:
            self.constraints.excluded_esms.append(et)
        self.history.append(f"ESMS exclu : {et}")
        return self.evaluate()

    def move_og(self, og: str, to: str | None, champ: str | None = None) -> Evaluation:
        """Move an OG's ESMS of a field into grappe ``to`` ('' or None: out of every grappe,
        ``"nouvelle"``: a new grappe).

        The field is ``to``'s, else ``champ``, else the field(s) where the OG sits now.
        """
        og = self._check_og(og)
        target: str | None
        if to and to != "nouvelle":
            target = self._check_grappe(to)
            champs = [self.champ_of[target]]
        else:
            target = None
            champs = [champ] if champ else self._champs_of_og(og)
            if not champs:
                champs = [self._main_champ([og])]
        for c in champs:
            self._check_champ(c)
            ets = self.og_esms(og, c)
            if not ets:
                msg = f"l'OG {og} n'a aucun ESMS du champ {c} pouvant entrer dans une grappe"
                raise ValueError(msg)
            gid = self._new_grappe(c) if to == "nouvelle" else target
            self._place(ets, gid)
            if gid:
                self._forced_grappes.add(gid)
        where = f"vers la grappe {target}" if target else (
            "vers une nouvelle grappe" if to == "nouvelle" else "hors de toute grappe")
        self.history.append(f"OG {og} déplacé {where}")
        return self.evaluate()

    def set_porteur(self, gid: str, og: str) -> Evaluation:
        """Change the porteur of a grappe (one of its OGs, FINESS EJ)."""
        gid = self._check_grappe(gid)
        og = str(og).strip()
        if og not in self.ogs(gid):
            msg = f"le porteur {og} n'est pas un OG de la grappe {gid}"
            raise ValueError(msg)
        self.porteurs[gid] = og
        self.chosen_porteurs[gid] = og
        self.history.append(f"Porteur de {gid} : {og}")
        return self.evaluate()

    def declare(self, gid: str, criteria: Mapping[str, bool]) -> Evaluation:
        """Set the declared criteria of the priority grid for a grappe (code -> True)."""
        gid = self._check_grappe(gid)
        known = {c.code: c for c in self.rules.grid.criteria}
        bad = sorted(c for c in criteria if c not in known or known[c].computed)
        if bad:
            allowed = [c.code for c in self.rules.grid.criteria if not c.computed]
            msg = (f"critère(s) non déclarable(s) : {', '.join(bad)} (déclarables : "
                   f"{', '.join(allowed)})")
            raise ValueError(msg)
        self.declared[gid] = {k: bool(v) for k, v in criteria.items() if v}
        ticked = ", ".join(sorted(self.declared[gid])) or "aucun"
        self.history.append(f"Critères déclarés pour {gid} : {ticked}")
        return self.evaluate()

    def _main_champ(self, ogs: Sequence[str]) -> str:
        ej = text_column(self.etab, "finess_ej")
        rows = self.etab[ej.isin(list(ogs)).to_numpy()]
        champs = text_column(rows, "champ")[counted_mask(rows, self.rules.grouping)]
        if self.champ:
            return self.champ
        if champs.empty:
            msg = f"aucun ESMS d'un champ éligible pour les OG {', '.join(ogs)}"
            raise ValueError(msg)
        counts = champs.value_counts()
        return min(counts.index, key=lambda c: (-counts[c], CHAMPS.index(c) if c in CHAMPS else 99))

    def _check_champ(self, champ: str) -> None:
        if champ not in self.rules.grouping.grappe_champs:
            msg = f"champ {champ} non éligible à l'appel {self.rules.name}"
            raise ValueError(msg)

    # ------------------------------------------------------------------ evaluation

    def cost(self, gid: str) -> GrappeCost:
        """The cost of one grappe now (cached on members, porteur and declared criteria)."""
        members = self.members(gid)
        porteur = self.porteurs.get(gid, "")
        declared = self.declared.get(gid, {})
        key = _key(members, porteur, declared)
        if key not in self._costs:
            rows = self.rows_of(members)
            self._costs[key] = cost_grappe(rows, self.rules, porteur=porteur or None,
                                           declared=declared or None)
            if not porteur:
                self._costs[_key(members, self._costs[key].porteur, declared)] = self._costs[key]
        return self._costs[key]

    def cost_detail(self, gid: str) -> GrappeCost:
        """The cost of one grappe (with its per-ESMS project types), for detail views."""
        return self.cost(self._check_grappe(gid))

    def lock_issues(self) -> list[str]:
        """Locks the current grouping does not honour."""
        issues: list[str] = []
        by_og: dict[str, set[str]] = {}
        for e, g in self.assignment.items():
            by_og.setdefault(self._ej.get(e, ""), set()).add(g)
        for group in self.constraints.together:
            for c in sorted({self.champ_of[g] for o in group for g in by_og.get(o, ())}):
                where = {g for o in group for g in by_og.get(o, ()) if self.champ_of[g] == c}
                if len(where) > 1:
                    issues.append(f"OG verrouillés ensemble mais répartis entre les grappes "
                                  f"{', '.join(sorted(where))} (champ {c}).")
        for a, b in self.constraints.apart:
            shared = by_og.get(a, set()) & by_og.get(b, set())
            if shared:
                issues.append(f"OG {a} et {b} à séparer mais réunis dans la grappe "
                              f"{', '.join(sorted(shared))}.")
        placed = sorted(e for e in self.constraints.excluded_esms if e in self.assignment)
        if placed:
            issues.append(f"ESMS exclus mais dans une grappe : {', '.join(placed)}.")
        return issues

    def evaluate(self) -> Evaluation:
        """Re-validate the whole grouping and re-cost the grappes that changed."""
        start = time.perf_counter()
        violations = check_grouping(
            self.etab, self.assignment, self.champ_of, self.rules.grouping, self.max_km,
            self.set_aside | set(self.constraints.excluded_esms) | self.out_of_scope)
        costs = {gid: self.cost(gid) for gid in self.grappe_ids}
        base = self.baseline
        base_rows = base.grappes.set_index("grappe") if base is not None else None
        base_msgs = ({(g, v.message) for g, vs in base.violations.items() for v in vs}
                     if base is not None else set())
        records = []
        members_of: dict[str, tuple[str, ...]] = {}
        for gid in self.grappe_ids:
            members = self.members(gid)
            members_of[gid] = tuple(members)
            cost = costs[gid]
            vs = violations.get(gid, [])
            known = base is not None and base_rows is not None and gid in base_rows.index
            if base is None:
                changed = False
            else:
                old = base.costs[gid] if known else None
                changed = old is None or base.members[gid] != tuple(members) or (
                    (old.total, old.score.total, old.porteur)
                    != (cost.total, cost.score.total, cost.porteur)
                )
            before_pts = int(base_rows.at[gid, "points_grille"]) if known else 0
            before_eur = float(base_rows.at[gid, "financement"]) if known else 0.0
            if base is None:
                before_pts, before_eur = int(cost.score.total), float(cost.total)
            records.append({
                "grappe": gid,
                "champ": self.champ_of[gid],
                "n_esms": len(members),
                "n_og": len(self.ogs(gid)),
                "porteur": cost.porteur,
                "valide": not vs,
                "regles_enfreintes": " | ".join(v.message for v in vs),
                "points_grille": int(cost.score.total),
                "points_max": int(cost.score.max),
                "financement": float(cost.total),
                "delta_points_grille": int(cost.score.total) - before_pts,
                "delta_financement": float(cost.total) - before_eur,
                "modifiee": bool(changed),
            })
        frame = pd.DataFrame(records, columns=list(EVALUATION_COLUMNS))
        new = [(g, v.message) for g, vs in violations.items() for v in vs
               if (g, v.message) not in base_msgs]
        # only what would be funded counts: the invalid grappes are totalled apart
        valid = frame[frame["valide"].astype(bool)] if len(frame) else frame
        invalid = frame[~frame["valide"].astype(bool)] if len(frame) else frame
        totals: dict[str, float] = {
            "grappes": len(frame),
            "valides": len(valid),
            "esms_places": len(self.assignment),
            "points_grille": int(valid["points_grille"].sum()) if len(valid) else 0,
            "financement": float(valid["financement"].sum()) if len(valid) else 0.0,
            "financement_invalides": float(invalid["financement"].sum()) if len(invalid)
            else 0.0,
        }
        if base is not None:
            for k in ("grappes", "valides", "esms_places", "points_grille", "financement",
                      "financement_invalides"):
                totals[f"delta_{k}"] = totals[k] - base.totals[k]
        self.current = Evaluation(
            grappes=frame,
            violations=violations,
            costs=costs,
            members=members_of,
            new_violations=sorted(new),
            lock_issues=self.lock_issues(),
            totals=totals,
            elapsed_s=round(time.perf_counter() - start, 4),
        )
        return self.current

    # ------------------------------------------------------------------ solver

    def solver_constraints(self) -> Constraints:
        """The locks for the solver: together, apart, excluded, and the grappes the user
        built by moving OGs (their OGs forced together) when they are valid now."""
        forced: dict[str, str] = dict(self.constraints.forced)
        if self._forced_grappes:
            current = self.evaluate()
            for gid in sorted(self._forced_grappes):
                if gid in self.champ_of and not current.violations.get(gid):
                    for og in self.ogs(gid):
                        forced.setdefault(og, gid)
        return Constraints(
            together=list(self.constraints.together),
            apart=list(self.constraints.apart),
            excluded_esms=list(self.constraints.excluded_esms),
            forced=forced,
        )

    def rerun(
        self,
        seed: int = 0,
        time_limit: float = RERUN_TIME_LIMIT,
        progress: Callable[[str, float], None] | None = None,
    ) -> Evaluation:
        """Let the solver search again under the locks, keeping the grappe ids.

        The solver numbers its grappes afresh; each new grappe takes the id of the current
        grappe it shares most ESMS with (maximum total overlap, ``grappes.scenarios.ids``),
        the others a fresh id never used in the session. What the user attached to an id
        follows it: declared criteria, and the chosen porteur while that OG is still in the
        grappe (otherwise the default porteur).
        """
        locks = self.solver_constraints()
        from grappes.solver.core import GrappeSolver

        solver = GrappeSolver(self.rules.grouping, seed=seed, time_limit=time_limit,
                              graph_weights=GraphWeights(max_km=self.max_km), progress=progress)
        scoped = self.etab[~text_column(self.etab, "finess_et").isin(
            list(self.out_of_scope)).to_numpy()]
        proposal = solver.solve(scoped, champ=self.champ, locks=locks)
        before = {gid: self.members(gid) for gid in self.grappe_ids}
        ids = stable_ids(before, {g.id: g.esms for g in proposal.grappes}, self.issued_ids)
        grappes = [replace(g, id=ids[g.id],
                           reasons=[rename_in_text(r, ids) for r in g.reasons],
                           warnings=[rename_in_text(w, ids) for w in g.warnings])
                   for g in proposal.grappes]
        unplaced = proposal.unplaced.copy()
        if self.unplaced is not None and len(self.unplaced) and self.out_of_scope:
            # the scope filter's rows (hors_region) are not the solver's: keep their reason
            outside = self.unplaced[text_column(self.unplaced, "finess_et").isin(
                list(self.out_of_scope)).to_numpy()]
            if len(outside):
                unplaced = pd.concat([unplaced, outside.astype(unplaced.dtypes.to_dict())],
                                     ignore_index=True)
        if "near_miss" in unplaced.columns and len(unplaced):
            unplaced["near_miss"] = unplaced["near_miss"].map(
                lambda t: rename_in_text(t, ids) if isinstance(t, str) else t).astype("string")
        self.issued_ids |= set(ids.values())
        self.assignment = {e: g.id for g in grappes for e in g.esms}
        self.champ_of = {g.id: g.champ for g in grappes}
        self.origin = {g.id: g for g in grappes}
        self.unplaced = unplaced
        self.porteurs = {g.id: str(g.porteur or "") for g in grappes}
        self.declared = {g: d for g, d in self.declared.items() if g in self.champ_of}
        dropped = sorted(g for g, og in self.chosen_porteurs.items()
                         if g not in self.champ_of or og not in self.ogs(g))
        self.chosen_porteurs = {g: og for g, og in self.chosen_porteurs.items()
                                if g not in dropped}
        self.porteurs.update(self.chosen_porteurs)
        codes = text_column(unplaced, "code")
        self.set_aside = frozenset(
            set(text_column(unplaced, "finess_et")[codes.isin(SOLVER_SET_ASIDE)])
            | self.out_of_scope
        )
        self._forced_grappes = set()
        kept = sorted(set(before) & set(self.champ_of))
        fresh = sorted(set(self.champ_of) - set(before))
        gone = sorted(set(before) - set(self.champ_of))
        note = f"Nouvelle recherche du solveur avec les verrous : {len(kept)} grappe(s) gardent " \
               "leur identifiant"
        if fresh:
            note += f" ; nouvelle(s) grappe(s) : {', '.join(fresh)}"
        if gone:
            note += f" ; grappe(s) disparue(s) : {', '.join(gone)}"
        if dropped:
            note += (f" ; porteur choisi abandonné (l'OG n'est plus dans la grappe) : "
                     f"{', '.join(dropped)}")
        self.history.append(note)
        return self.evaluate()
