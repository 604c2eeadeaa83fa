"""Choose which grappes an ARS funds from its regional envelope, window by window (exact).

The problem is a multiple-choice knapsack: each admissible grappe costs its grant and
brings its priority points; the call's selection windows cap the *cumulative* spending
(000 « Calendrier » : at most 50 % of the envelope by the end of window 1, 70 % by the end
of window 2, the balance in window 3; unspent credit is carried over, and an admissible
project not chosen stays « en lice » for the next window). Optional balance limits cap
the share of the envelope going to one département, one field or one legal status.

It is solved exactly with OR-Tools CP-SAT on integer euros (never greedily), as a
lexicographic optimisation through the project's one staged solve
(``grappes.core.cpsat``: one worker, fixed seed, deterministic time limit, so the same
input gives the same selection under any load). The stages, in order:

1. the grappes the ARS imposes (``forced``), as many as fit;
2. the ARS's priorities of its rule file (``SelectionPriority``, 004 « Prioriser »): first
   each « au moins N » (``minimum``), then each tier (``palier``: most grappes of the tier
   funded), in their rank order; a priority may apply to some windows only;
3. the most grid points;
4. at equal points, the balance 000 asks for (« favoriser l'équilibre entre les différents
   territoires, les champs d'activité et les statuts »): most départements covered, then
   most fields, then most legal statuses;
5. then the least money (the same points for less leaves credit for later projects);
6. ``global`` only: the money committed as early as the caps allow (window 1, then 2...).

Two modes:

- ``sequentiel`` (the default, the documents' process): at each window, the best set among
  the projects received so far and not yet funded, within the cumulative cap minus what
  has been spent; the others stay « en lice ». A project type eligible from a later window
  only (004: PDS/PDE and AHI/PJM « ÉLIGIBLE EN FENETRE 2 ») waits for it.
- ``global``: a hindsight comparison, with every application known in advance; one model
  decides who is funded and in which window.

Every grappe not funded gets its reason from an exact re-optimisation with that grappe
imposed: the first stage it would lose says why (a priority, the points, « à points
égaux » the balance or the cost).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from ortools.sat.python import cp_model

from grappes.core.columns import flag_column, text_column
from grappes.core.cpsat import StagedSolve
from grappes.core.errors import UnusableInput
from grappes.core.formatting import euros
from grappes.core.model import GroupingRules
from grappes.programme.rules import (
    PriorityCondition,
    ProjectTypology,
    SelectionPriority,
)
from grappes.programme.validate import small_og_mask

#: the documents' process first; ``global`` is the hindsight comparison
MODES: tuple[str, ...] = ("sequentiel", "global")
DEFAULT_MODE = "sequentiel"
#: deterministic time (CP-SAT's work counter, not seconds of the clock) per stage; a knapsack
#: of a few hundred grappes is proven optimal far below it
STAGE_DTIME = 10.0

_BALANCE_WORDS = {"departements": "plus de départements", "champ": "plus de champs d'activité",
                  "statut": "plus de statuts juridiques"}


@dataclass(frozen=True)
class BalanceLimits:
    """Most share of the envelope for one département, one field, one legal status."""

    max_share_departement: float | None = None
    max_share_champ: float | None = None
    max_share_statut: float | None = None

    def items(self) -> list[tuple[str, float]]:
        out = []
        for attr, key in (("max_share_departement", "departements"),
                          ("max_share_champ", "champ"), ("max_share_statut", "statut")):
            share = getattr(self, attr)
            if share is not None:
                out.append((key, float(share)))
        return out


@dataclass(frozen=True)
class ArsDecisions:
    """What the ARS officer decides by hand: grappes imposed or set aside, with a reason."""

    forced: Mapping[str, str] = field(default_factory=dict)
    excluded: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Selection:
    """The funded grappes with their window, and the spending per window."""

    funded: pd.DataFrame
    not_funded: pd.DataFrame
    windows: list[dict[str, Any]]
    envelope: int
    total_cost: int
    total_points: int
    optimal: bool
    mode: str
    notes: list[str] = field(default_factory=list)
    #: one French sentence per ARS priority (and per decision by hand): how it was honoured
    priorities: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "envelope": self.envelope,
            "mode": self.mode,
            "total_cost": self.total_cost,
            "total_points": self.total_points,
            "optimal": self.optimal,
            "windows": self.windows,
            "funded": self.funded.to_dict(orient="records"),
            "not_funded": self.not_funded.to_dict(orient="records"),
            "notes": list(self.notes),
            "priorities": list(self.priorities),
        }


# --------------------------------------------------------------------------- input


def _split_codes(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    elif value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        items = []
    else:
        items = str(value).replace(";", ",").replace("|", ",").replace(" ", ",").split(",")
    return sorted({i.strip() for i in items if i.strip()})


def _text(r: pd.Series, col: str) -> str:
    if col not in r.index or r[col] is None or (isinstance(r[col], float) and math.isnan(r[col])):
        return ""
    return str(r[col]).strip()


def prepare_candidates(grappes: pd.DataFrame, typologies: Sequence[ProjectTypology] = (),
                       n_windows: int | None = None) -> pd.DataFrame:
    """Check and normalise the candidate table.

    Required columns: ``grappe`` (id), ``total`` (grant in euros), ``points``. Optional:
    ``departements`` (codes separated by , ; | or spaces, or a list), ``champ``, ``statut``,
    ``fenetre`` (first window the grappe is applied in, from 1; default 1),
    ``poids_departements`` (dict code -> weight) to split a grappe's cost between its
    départements (default: equal shares), ``nom`` or ``porteur_nom`` (the porteur's name).
    With the call's project types (004), a grappe of a type eligible from a later window
    waits for it (``fenetre_demandee`` keeps the window asked; a selection with fewer windows
    than the type's first one opens it in its last window). Raises ``ValueError`` naming the
    line and field.
    """
    missing = [c for c in ("grappe", "total", "points") if c not in grappes.columns]
    if missing:
        msg = (f"Colonne(s) manquante(s) : {', '.join(missing)} (attendu : grappe, total, "
               "points ; optionnel : departements, champ, statut, fenetre).")
        raise UnusableInput(msg)
    rows = []
    seen: set[str] = set()
    for pos, (_, r) in enumerate(grappes.iterrows(), start=2):
        gid = str(r["grappe"]).strip()
        if not gid or gid.lower() in ("nan", "<na>"):
            msg = f"Ligne {pos}, champ grappe : identifiant vide."
            raise UnusableInput(msg)
        if gid in seen:
            msg = f"Ligne {pos}, champ grappe : identifiant « {gid} » en double."
            raise UnusableInput(msg)
        seen.add(gid)
        values = {}
        for col in ("total", "points"):
            raw = r[col]
            try:
                num = float(str(raw).replace(" ", "").replace("\u202f", "").replace(",", "."))
            except ValueError:
                num = float("nan")
            if math.isnan(num) or num < 0:
                msg = f"Ligne {pos}, champ {col} : nombre positif attendu, lu « {raw} »."
                raise UnusableInput(msg)
            values[col] = num
        fenetre = 1
        if "fenetre" in grappes.columns and not pd.isna(r["fenetre"]) and str(r["fenetre"]).strip():
            try:
                fenetre = int(float(str(r["fenetre"]).strip()))
            except ValueError:
                fenetre = 0
            if fenetre < 1:
                msg = f"Ligne {pos}, champ fenetre : numéro de fenêtre (1, 2, 3…) attendu."
                raise UnusableInput(msg)
        deps = _split_codes(r["departements"]) if "departements" in grappes.columns else []
        weights = None
        if "poids_departements" in grappes.columns and isinstance(r["poids_departements"], dict):
            weights = {str(k): float(v) for k, v in r["poids_departements"].items() if v}
        if weights is None:
            weights = {d: 1.0 for d in deps}
        champ = _text(r, "champ")
        typology = next((t for t in typologies if champ in t.champs), None)
        type_window = typology.first_window if typology is not None else 1
        if n_windows is not None:
            type_window = min(type_window, n_windows)
        rows.append({
            "grappe": gid,
            # a grant is paid in whole euros at most: round up so the envelope is never exceeded
            "cout": math.ceil(values["total"] - 1e-9),
            "points": round(values["points"]),
            "departements": sorted(weights),
            "poids_departements": weights,
            "champ": champ,
            "statut": _text(r, "statut"),
            "fenetre": max(fenetre, type_window),
            "fenetre_demandee": fenetre,
            "typologie": typology.code if typology is not None else "",
            "nom": _text(r, "nom") or _text(r, "porteur_nom"),
        })
    return pd.DataFrame(rows, columns=["grappe", "cout", "points", "departements",
                                       "poids_departements", "champ", "statut", "fenetre",
                                       "fenetre_demandee", "typologie", "nom"])


def balance_groups(cands: pd.DataFrame, limits: BalanceLimits | None,
                   envelope: int) -> list[tuple[str, str, dict[int, int], int]]:
    """Balance constraints as integer data: (kind, value, {row: coefficient}, capacity).

    Coefficients and capacities are in cents; a grappe spread over k départements weighs
    its cost split pro rata of ``poids_departements`` (equal shares by default).
    """
    out: list[tuple[str, str, dict[int, int], int]] = []
    if limits is None:
        return out
    for key, share in limits.items():
        cap = math.floor(share * envelope * 100 + 1e-6)
        groups: dict[str, dict[int, int]] = {}
        for i, r in enumerate(cands.itertuples(index=False)):
            if key == "departements":
                w = r.poids_departements
                total_w = sum(w.values())
                for d, wd in w.items():
                    groups.setdefault(d, {})[i] = round(r.cout * 100 * wd / total_w)
            else:
                value = getattr(r, key)
                if value:
                    groups.setdefault(value, {})[i] = r.cout * 100
        for value in sorted(groups):
            out.append((key, value, groups[value], cap))
    return out


# --------------------------------------------------------------------------- priorities

#: columns of a grappes file the priorities may read, passed through to the candidates.
#: Given by the ARS: ``note`` (its mark out of 15, 004), ``non_retenu`` (oui: not retained
#: in an earlier call); computed by the tool from the members when it has them: ``regions``,
#: ``nb_og``, ``type_projet_code``, ``saad``, ``tous_petits_og`` (see :func:`grappe_traits`)
PRIORITY_COLUMNS: tuple[str, ...] = ("note", "non_retenu", "regions", "nb_og",
                                     "type_projet_code", "saad", "tous_petits_og",
                                     "typologie", "regional")
#: FINESS category of a SAAD (« Service autonomie aide (SAA) », ex-SAAD)
SAAD_CATEGORIES: tuple[str, ...] = ("460",)


def grappe_traits(members: pd.DataFrame, cost: Any, grouping: GroupingRules,
                  names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the priorities read of one grappe, from its members and its costing.

    ``cost`` is the grappe's ``GrappeCost``; ``names`` FINESS EJ -> OG name (default: the
    members' ``raison_sociale_ej``). Per-grappe columns the ARS may have put on the member
    rows (``note``, ``non_retenu``, ``fenetre``) are taken from their first non-empty value.
    """
    ej = text_column(members, "finess_ej")
    own = text_column(members, "raison_sociale_ej")[ej == cost.porteur]
    name = (names or {}).get(cost.porteur, "") or (str(own.iloc[0]) if len(own) else "")
    regions = sorted({r for r in text_column(members, "region") if r})
    out: dict[str, Any] = {
        "nom": name,
        "regions": ",".join(regions),
        "nb_og": int(ej[ej != ""].nunique()),
        "type_projet_code": cost.project_type,
        "saad": bool(text_column(members, "categorie").isin(list(SAAD_CATEGORIES)).any()),
        "tous_petits_og": bool(small_og_mask(members, grouping).all()),
    }
    for col in ("note", "non_retenu", "fenetre"):
        values = [v for v in text_column(members, col) if v]
        if values:
            out[col] = values[0]
    return out



@dataclass(frozen=True)
class Priority:
    """A rule-file priority matched on the candidates: which grappes it concerns."""

    rule: SelectionPriority
    members: frozenset[int]
    #: French: why it cannot be applied (a column the file lacks); '' when it applies
    missing: str = ""

    def applies_in(self, window: int) -> bool:
        return not self.rule.windows or window in self.rule.windows

    @property
    def title(self) -> str:
        return f"priorité {self.rule.rank} « {self.rule.label} »"


def _condition_mask(frame: pd.DataFrame, cond: PriorityCondition) -> pd.Series | None:
    """Rows meeting one condition; None when the column is missing."""
    if cond.column not in frame.columns:
        return None
    if cond.minimum is not None:
        text = text_column(frame, cond.column).str.replace("\u202f", "").str.replace(
            " ", "").str.replace(",", ".", regex=False)
        return pd.to_numeric(text, errors="coerce").fillna(-math.inf) >= cond.minimum - 1e-9
    if cond.values:
        wanted = {v.casefold() for v in cond.values}
        return text_column(frame, cond.column).str.casefold().isin(wanted)
    flags = flag_column(frame, cond.column)
    return flags if cond.truth else ~flags


def derived_columns(grappes: pd.DataFrame,
                    typologies: Sequence[ProjectTypology] = ()) -> pd.DataFrame:
    """The columns the tool computes for the priorities when the file lacks them:
    ``typologie`` (004 project type, from ``champ``) and ``regional`` (« 100 % régional »:
    every member in one région, from ``regions``)."""
    frame = grappes.reset_index(drop=True).copy()
    if "typologie" not in frame.columns and "champ" in frame.columns and typologies:
        champs = text_column(frame, "champ")
        frame["typologie"] = [next((t.code for t in typologies if c in t.champs), "")
                              for c in champs]
    if "regional" not in frame.columns and "regions" in frame.columns:
        frame["regional"] = [len(_split_codes(v)) == 1 for v in frame["regions"]]
    return frame


def match_priorities(grappes: pd.DataFrame,
                     rules: Sequence[SelectionPriority]) -> list[Priority]:
    """Each priority with the rows (positions in ``grappes``) that meet all its conditions."""
    frame = grappes.reset_index(drop=True)
    out = []
    for rule in rules:
        mask = pd.Series(True, index=frame.index)
        absent = []
        for cond in rule.conditions:
            m = _condition_mask(frame, cond)
            if m is None:
                absent.append(cond.column)
            else:
                mask &= m.to_numpy()
        if absent:
            why = (f"la colonne {', '.join(f'« {c} »' for c in absent)} manque au fichier "
                   "des grappes (voir docs/regles.md, « Priorités de l'ARS »)")
            out.append(Priority(rule, frozenset(), why))
        else:
            out.append(Priority(rule, frozenset(int(i) for i in frame.index[mask])))
    return out


# --------------------------------------------------------------------------- one model


@dataclass
class _Problem:
    """One selection model: rows, the windows each may use, caps, and what is already done.

    ``slots[i]`` lists the 0-based windows row ``i`` may be funded in; ``caps`` the
    cumulative cap of each window (sequential: one window, the credit left). ``done`` are the
    rows funded in earlier windows (sequential), which count for the priorities' minimums and
    the balance already covered.
    """

    cands: pd.DataFrame
    rows: list[int]
    slots: dict[int, list[int]]
    caps: dict[int, int]
    groups: list[tuple[str, str, dict[int, int], int]]
    used: dict[tuple[str, str], int]
    priorities: list[Priority]
    forced: set[int]
    done: set[int]
    windows_stage: bool
    dtime: float
    seed: int

    def build(self, imposed: int | None = None):
        """The model, its variables and the stages (kind, coefficients, maximise)."""
        model = cp_model.CpModel()
        variables: list = []
        x: dict[tuple[int, int], Any] = {}
        for i in self.rows:
            for k in self.slots[i]:
                x[(i, k)] = model.new_bool_var(f"x_{i}_{k}")
                variables.append(x[(i, k)])
            if len(self.slots[i]) > 1:
                model.add_at_most_one([x[(i, k)] for k in self.slots[i]])
        costs = self.cands["cout"].tolist()
        points = self.cands["points"].tolist()
        for k, cap in self.caps.items():
            model.add(sum(costs[i] * v for (i, kk), v in x.items() if kk <= k) <= max(cap, 0))
        for kind, value, coefs, cap in self.groups:
            left = cap - self.used.get((kind, value), 0)
            model.add(sum(coefs[i] * v for (i, _k), v in x.items() if i in coefs) <= left)
        if imposed is not None:
            model.add(sum(v for (i, _k), v in x.items() if i == imposed) == 1)

        def funded(rows, window_ok=None) -> dict[Any, int]:
            return {v: 1 for (i, k), v in x.items()
                    if i in rows and (window_ok is None or window_ok(k + 1))}

        stages: list[tuple[Any, dict[Any, int], bool]] = []
        if self.forced:
            stages.append((("imposees",), funded(self.forced), True))
        minima = [p for p in self.priorities if p.rule.kind == "minimum" and not p.missing]
        tiers = [p for p in self.priorities if p.rule.kind == "palier" and not p.missing]
        for p in minima:
            need = p.rule.count - len(p.members & self.done)
            terms = funded(p.members, p.applies_in)
            if need <= 0 or not terms:
                continue
            m = model.new_int_var(0, need, f"min_{p.rule.rank}")
            variables.append(m)
            model.add(m <= sum(terms))
            stages.append((("priorite", p), {m: 1}, True))
        for p in tiers:
            terms = funded(p.members, p.applies_in)
            if terms:
                stages.append((("priorite", p), terms, True))
        stages.append((("points",), {v: points[i] for (i, _k), v in x.items()}, True))
        for key in ("departements", "champ", "statut"):
            covered = set()
            for i in self.done:
                covered.update(self._values(i, key))
            by_value: dict[str, list] = {}
            for (i, _k), v in x.items():
                for value in self._values(i, key):
                    if value not in covered:
                        by_value.setdefault(value, []).append(v)
            if len(by_value) < 1:
                continue
            coefs = {}
            for value in sorted(by_value):
                c = model.new_bool_var(f"cover_{key}_{value}")
                variables.append(c)
                model.add(c <= sum(by_value[value]))
                coefs[c] = 1
            stages.append((("equilibre", key), coefs, True))
        stages.append((("cout",), {v: costs[i] for (i, _k), v in x.items()}, False))
        if self.windows_stage:
            last = max(self.caps) if self.caps else 0
            for w in range(last):
                stages.append((("fenetre", w),
                               {v: costs[i] for (i, k), v in x.items() if k <= w}, True))
        return model, variables, x, stages

    def _values(self, i: int, key: str) -> list[str]:
        if key == "departements":
            return list(self.cands.at[i, "departements"])
        value = str(self.cands.at[i, key])
        return [value] if value else []

    def solve(self, imposed: int | None = None, reference: list | None = None):
        """Stage values and the chosen (row -> window); None when ``imposed`` cannot be
        funded at all (no room). With ``reference`` (the stage values of the selection), the
        solve stops at the first stage that does worse: that stage is the reason."""
        model, variables, x, stages = self.build(imposed)
        staged = StagedSolve(model, variables, seed=self.seed, workers=1)
        index = {id(v): n for n, v in enumerate(variables)}
        values: list[int] = [0] * len(variables)
        bests: list[tuple[Any, int]] = []
        if not stages:
            stages = [(("points",), {}, True)]
        for kind, coefs, maximise in stages:
            c = [0] * len(variables)
            for v, coef in coefs.items():
                c[index[id(v)]] = coef
            result = staged.stage(c, maximise, self.dtime)
            if not result.solved:
                if result.infeasible:
                    return None
                msg = "Le solveur n'a trouvé aucune sélection (problème interne)."
                raise RuntimeError(msg)
            values = result.values
            bests.append((kind, result.best if maximise else -result.best))
            if reference is not None and bests[-1][1] < reference[len(bests) - 1][1]:
                break
        chosen = {i: k for (i, k), v in x.items() if values[index[id(v)]]}
        return bests, chosen, staged.optimal


# --------------------------------------------------------------------------- reasons


def _compare(reference, other, cands: pd.DataFrame, i: int) -> str:
    """Why ``i`` is not funded: the first stage the selection with ``i`` imposed loses."""
    for (kind, best), (_, alt) in zip(reference, other, strict=False):
        if alt >= best:
            continue
        tag = kind[0]
        if tag == "imposees":
            return "non retenue : la financer écarterait une grappe imposée par l'ARS"
        if tag == "priorite":
            p = kind[1]
            verb = "empêcherait" if p.rule.kind == "minimum" else "ferait retirer un projet de"
            return f"non retenue : la financer {verb} la {p.title}"
        if tag == "points":
            return (f"non retenue : d'autres grappes apportent plus de points dans l'enveloppe "
                    f"et les limites (la financer ferait perdre {best - alt} point(s))")
        if tag == "equilibre":
            return (f"non retenue : à points égaux, la sélection retenue couvre "
                    f"{_BALANCE_WORDS[kind[1]]} (équilibre demandé par 000 entre territoires, "
                    "champs d'activité et statuts)")
        if tag == "cout":
            return (f"non retenue : à points égaux et à équilibre égal, la sélection retenue "
                    f"coûte {euros(best - alt)} de moins")
    return "non retenue : à égalité parfaite avec la sélection retenue (points, équilibre, coût)"


def _points_bound(problem: _Problem, reference, i: int) -> str | None:
    """A proof without CP-SAT, when the points stage comes first: the fractional knapsack
    with ``i`` imposed (an upper bound: the balance limits and the windows dropped) already
    gives fewer points than the selection. None when it proves nothing."""
    if not reference or reference[0][0] != ("points",):
        return None
    budget = max(problem.caps.values()) - int(problem.cands.at[i, "cout"])
    if budget < 0:
        return None  # the exact solve says « ne tient pas »
    costs = problem.cands["cout"]
    points = problem.cands["points"]
    others = sorted((r for r in problem.rows if r != i),
                    key=lambda r: (-(points[r] / costs[r]) if costs[r] else -math.inf, r))
    bound = float(points[i])
    for r in others:
        if costs[r] <= budget:
            budget -= int(costs[r])
            bound += float(points[r])
        else:
            bound += float(points[r]) * budget / costs[r]
            break
    best = reference[0][1]
    if math.floor(bound + 1e-9) >= best:
        return None
    return (f"non retenue : d'autres grappes apportent plus de points dans l'enveloppe et les "
            f"limites (la financer ferait perdre au moins {best - math.floor(bound + 1e-9)} "
            "point(s))")


def _why_not(problem: _Problem | None, reference, i: int, cands: pd.DataFrame,
             caps: list[int], late: pd.Series) -> str:
    cost = int(cands.at[i, "cout"])
    if bool(late.at[i]):
        return "annoncée pour une fenêtre qui n'existe pas"
    if cost > caps[-1]:
        return f"coût {euros(cost)} supérieur à l'enveloppe utilisable ({euros(caps[-1])})"
    if problem is None:
        return "non retenue"
    quick = _points_bound(problem, reference, i)
    if quick is not None:
        return quick
    other = problem.solve(imposed=i, reference=reference)
    if other is None:
        return ("non retenue : ne tient pas dans le crédit restant et les limites, avec les "
                "grappes imposées")
    return _compare(reference, other[0], cands, i)


# --------------------------------------------------------------------------- selection


def window_caps(envelope: int, shares: Sequence[float]) -> list[int]:
    """Cumulative caps in euros for each window (floor of share × envelope)."""
    return [math.floor(s * envelope + 1e-6) for s in shares]


def select_funding(
    grappes: pd.DataFrame,
    envelope: float,
    windows: Sequence[float] = (1.0,),
    limits: BalanceLimits | None = None,
    mode: str = DEFAULT_MODE,
    window_labels: Sequence[str] | None = None,
    time_limit: float = STAGE_DTIME,
    seed: int = 0,
    priorities: Sequence[SelectionPriority] = (),
    typologies: Sequence[ProjectTypology] = (),
    decisions: ArsDecisions | None = None,
    explain: bool = True,
) -> Selection:
    """Select the grappes to fund in each window (see the module docstring).

    Parameters
    ----------
    grappes
        One row per admissible grappe (see :func:`prepare_candidates`), with the columns
        the priorities read.
    envelope
        The regional envelope in euros.
    windows
        Cumulative share of the envelope usable by the end of each window, increasing,
        the last one at most 1 (000: 0.5, 0.7, 1.0).
    limits
        Optional balance limits (share of the envelope per département / field / status).
    mode
        ``sequentiel`` (default) or ``global`` (hindsight comparison).
    time_limit
        Deterministic time per stage (CP-SAT work units, independent of the machine's load).
    priorities, typologies
        The ARS's priorities and the call's project types (``RuleSet.priorities``,
        ``RuleSet.typologies``).
    decisions
        Grappes the ARS imposes or sets aside by hand, with its reason.
    explain
        Compute each non-funded grappe's reason (one exact re-optimisation per grappe).
    """
    if mode not in MODES:
        msg = f"Mode inconnu : {mode} (attendu : {', '.join(MODES)})."
        raise UnusableInput(msg)
    if not envelope or envelope <= 0:
        msg = "L'enveloppe doit être un montant positif en euros."
        raise UnusableInput(msg)
    shares = [float(s) for s in windows]
    if not shares or any(not 0 < s <= 1 for s in shares) or shares != sorted(shares):
        msg = ("Fenêtres : parts cumulées croissantes entre 0 et 1 attendues, "
               "par exemple 0.5,0.7,1.0.")
        raise UnusableInput(msg)
    labels = list(window_labels or [f"Fenêtre {k + 1}" for k in range(len(shares))])
    env = math.floor(envelope + 1e-9)
    cands = prepare_candidates(grappes, typologies, len(shares))
    decisions = decisions or ArsDecisions()
    ids = {g: i for i, g in enumerate(cands["grappe"])}
    unknown = sorted(set(decisions.forced) | set(decisions.excluded) - set(ids))
    unknown = [g for g in unknown if g not in ids]
    if unknown:
        msg = f"Grappe(s) inconnue(s) parmi les candidates : {', '.join(unknown)}."
        raise UnusableInput(msg)
    both = sorted(set(decisions.forced) & set(decisions.excluded))
    if both:
        msg = f"Grappe(s) à la fois imposée(s) et écartée(s) : {', '.join(both)}."
        raise UnusableInput(msg)
    forced = {ids[g] for g in decisions.forced}
    excluded = {ids[g] for g in decisions.excluded}
    late = cands["fenetre"] > len(shares)
    notes = []
    if late.any():
        notes.append(f"{int(late.sum())} grappe(s) annoncée(s) pour une fenêtre qui n'existe pas : "
                     "écartée(s).")
    caps = window_caps(env, shares)
    matched = match_priorities(derived_columns(grappes, typologies), priorities)
    groups = balance_groups(cands, limits, env)
    open_rows = [i for i in cands.index if not late.at[i] and i not in excluded]

    chosen, optimal, last_problem, reference = _run(
        cands, open_rows, caps, groups, matched, forced, mode, time_limit, seed)

    reasons: dict[int, str] = {}
    for i in cands.index:
        if i in chosen:
            continue
        if i in excluded:
            motif = decisions.excluded[cands.at[i, "grappe"]]
            reasons[i] = "écartée par l'ARS" + (f" : {motif}" if motif else "")
        elif explain:
            problem = last_problem.get(i)
            reasons[i] = _why_not(problem, reference.get(i), i, cands, caps, late)
        else:
            reasons[i] = "non retenue"
        if i in forced:
            reasons[i] = "imposée par l'ARS mais " + reasons[i].removeprefix("non retenue : ")
        reasons[i] += _deferred(cands, i)

    report = _priority_report(cands, matched, chosen, forced, excluded, decisions)
    if forced or excluded or any(not p.missing for p in matched):
        pure, _, _, _ = _run(cands, [i for i in cands.index if not late.at[i]], caps, groups,
                             [], set(), mode, time_limit, seed)
        pure_points = int(sum(cands.at[i, "points"] for i in pure))
        got = int(sum(cands.at[i, "points"] for i in chosen))
        if pure_points > got:
            report.append(f"Les priorités de l'ARS et ses choix coûtent {pure_points - got} "
                          f"point(s) : {got} points au lieu de {pure_points} pour la meilleure "
                          "sélection aux seuls points.")
        else:
            report.append(f"Les priorités de l'ARS et ses choix ne coûtent aucun point "
                          f"({got} points, autant que la meilleure sélection aux seuls points).")
    return _selection(cands, chosen, reasons, labels, shares, caps, env, optimal, mode, notes,
                      report, matched, forced, decisions)


def _run(cands, open_rows, caps, groups, matched, forced, mode, dtime, seed):
    """Solve in the mode: (row -> window, optimal, row -> last problem, row -> its stages)."""
    if mode == "global":
        last = len(caps) - 1
        by_window = any(p.rule.windows for p in matched if not p.missing)
        if by_window:
            # a priority tied to some windows: one model decides set and windows together
            slots = {i: list(range(int(cands.at[i, "fenetre"]) - 1, len(caps)))
                     for i in open_rows}
            problem = _Problem(cands, open_rows, slots, dict(enumerate(caps)), groups, {},
                               matched, forced & set(open_rows), set(), True, dtime, seed)
        else:
            # the windows never restrict *which* grappes can be funded (any can wait for the
            # last window, whose cap is the largest): the set is chosen on one variable per
            # grappe, then the windows are assigned for that set (_assign_windows)
            problem = _Problem(cands, open_rows, {i: [last] for i in open_rows},
                               {last: caps[-1]}, groups, {}, matched,
                               forced & set(open_rows), set(), False, dtime, seed)
        solved = problem.solve()
        if solved is None:
            msg = "Le solveur n'a trouvé aucune sélection (problème interne)."
            raise RuntimeError(msg)
        bests, chosen, optimal = solved
        if not by_window:
            chosen, ok = _assign_windows(cands, sorted(chosen), caps, dtime, seed)
            optimal &= ok
        return chosen, optimal, dict.fromkeys(open_rows, problem), dict.fromkeys(open_rows,
                                                                                   bests)
    chosen: dict[int, int] = {}
    optimal = True
    spent = 0
    used: dict[tuple[str, str], int] = {}
    last: dict[int, _Problem] = {}
    reference: dict[int, Any] = {}
    for k in range(len(caps)):
        rows = [i for i in open_rows if i not in chosen and cands.at[i, "fenetre"] <= k + 1]
        if not rows:
            continue
        problem = _Problem(cands, rows, {i: [k] for i in rows}, {k: caps[k] - spent}, groups,
                           dict(used), matched, forced & set(rows), set(chosen), False, dtime,
                           seed)
        solved = problem.solve()
        if solved is None:
            msg = "Le solveur n'a trouvé aucune sélection (problème interne)."
            raise RuntimeError(msg)
        bests, picked, ok = solved
        optimal &= ok
        for i in rows:
            if i not in picked:
                last[i] = problem
                reference[i] = bests
        for i in sorted(picked):
            chosen[i] = k
            spent += int(cands.at[i, "cout"])
            for kind, value, coefs, _cap in groups:
                if i in coefs:
                    used[(kind, value)] = used.get((kind, value), 0) + coefs[i]
    return chosen, optimal, last, reference


def _assign_windows(cands: pd.DataFrame, rows: list[int], caps: list[int], dtime: float,
                    seed: int) -> tuple[dict[int, int], bool]:
    """Windows for a chosen set: as much money as possible by the end of window 1, then of
    window 2... within the cumulative caps (all in the last window is always feasible)."""
    if not rows:
        return {}, True
    k_count = len(caps)
    costs = cands["cout"].tolist()
    model = cp_model.CpModel()
    x = {}
    for i in rows:
        for k in range(int(cands.at[i, "fenetre"]) - 1, k_count):
            x[(i, k)] = model.new_bool_var(f"x_{i}_{k}")
        model.add_exactly_one([v for (ii, _k), v in x.items() if ii == i])
    for k in range(k_count):
        model.add(sum(costs[i] * v for (i, kk), v in x.items() if kk <= k) <= caps[k])
    keys = list(x)
    staged = StagedSolve(model, [x[key] for key in keys], seed=seed, workers=1)
    staged.hint([int(k == k_count - 1) for _i, k in keys])
    values = [int(k == k_count - 1) for _i, k in keys]
    for w in range(k_count - 1):
        result = staged.stage([costs[i] if k <= w else 0 for i, k in keys], True, dtime)
        if result.solved:
            values = result.values
    return {i: k for (i, k), v in zip(keys, values, strict=True) if v}, staged.optimal


def _deferred(cands: pd.DataFrame, i: int) -> str:
    if cands.at[i, "fenetre"] > cands.at[i, "fenetre_demandee"]:
        return (f" (type de projet {cands.at[i, 'typologie']} : éligible à partir de la "
                f"fenêtre {cands.at[i, 'fenetre']}, 004 « Typologies de projet »)")
    return ""


def _names(cands: pd.DataFrame, rows) -> str:
    out = []
    for i in sorted(rows, key=lambda r: cands.at[r, "grappe"]):
        name = cands.at[i, "nom"]
        out.append(f"{cands.at[i, 'grappe']} ({name})" if name else str(cands.at[i, "grappe"]))
    return ", ".join(out)


def _priority_report(cands, matched: list[Priority], chosen: dict[int, int], forced: set[int],
                     excluded: set[int], decisions: ArsDecisions) -> list[str]:
    out = []
    for p in matched:
        head = f"Priorité {p.rule.rank} « {p.rule.label} » ({p.rule.source})"
        if p.missing:
            out.append(f"{head} : non appliquée, {p.missing}.")
            continue
        got = [i for i in p.members if i in chosen]
        where = (f", en fenêtre {', '.join(str(w) for w in p.rule.windows)}"
                 if p.rule.windows else "")
        if p.rule.kind == "minimum":
            if len(got) >= p.rule.count:
                out.append(f"{head} : tenue{where}, {_names(cands, got)} financée(s).")
            elif not p.members:
                out.append(f"{head} : non tenue, aucune grappe candidate ne la remplit.")
            else:
                out.append(f"{head} : non tenue, {len(got)} sur {p.rule.count} : les "
                           f"{len(p.members)} grappe(s) qui la remplissent ne tiennent pas "
                           "dans l'enveloppe et les limites.")
        else:
            out.append(f"{head} : {len(got)} grappe(s) financée(s) sur {len(p.members)} "
                       f"candidate(s){where}" + (f" : {_names(cands, got)}." if got else "."))
    if forced:
        kept = [i for i in forced if i in chosen]
        out.append(f"Grappes imposées par l'ARS : {_names(cands, forced)} ; financées : "
                   f"{_names(cands, kept) or 'aucune'}.")
    if excluded:
        out.append(f"Grappes écartées par l'ARS : {_names(cands, excluded)}.")
    return out


def _selection(cands, chosen, reasons, labels, shares, caps, env, optimal, mode, notes, report,
               matched, forced, decisions) -> Selection:
    funded_rows = sorted(chosen, key=lambda i: (chosen[i], cands.at[i, "grappe"]))

    def why_funded(i: int) -> str:
        parts = []
        if i in forced:
            motif = decisions.forced[cands.at[i, "grappe"]]
            parts.append("imposée par l'ARS" + (f" : {motif}" if motif else ""))
        for p in matched:
            if i in p.members and p.applies_in(chosen[i] + 1) and not p.missing:
                parts.append(p.title)
        if not parts:
            parts.append("retenue pour ses points")
        return " ; ".join(parts) + _deferred(cands, i)

    funded = pd.DataFrame({
        "grappe": [cands.at[i, "grappe"] for i in funded_rows],
        "nom": [cands.at[i, "nom"] for i in funded_rows],
        "fenetre": [chosen[i] + 1 for i in funded_rows],
        "libelle_fenetre": [labels[chosen[i]] for i in funded_rows],
        "cout": [int(cands.at[i, "cout"]) for i in funded_rows],
        "points": [int(cands.at[i, "points"]) for i in funded_rows],
        "departements": [",".join(cands.at[i, "departements"]) for i in funded_rows],
        "champ": [cands.at[i, "champ"] for i in funded_rows],
        "statut": [cands.at[i, "statut"] for i in funded_rows],
        "raison": [why_funded(i) for i in funded_rows],
    })
    rest = [i for i in cands.index if i not in chosen]
    not_funded = pd.DataFrame({
        "grappe": [cands.at[i, "grappe"] for i in rest],
        "nom": [cands.at[i, "nom"] for i in rest],
        "cout": [int(cands.at[i, "cout"]) for i in rest],
        "points": [int(cands.at[i, "points"]) for i in rest],
        "raison": [reasons[i] for i in rest],
    })
    win_rows = []
    cumulative = 0
    for k, label in enumerate(labels):
        spent_k = int(funded.loc[funded["fenetre"] == k + 1, "cout"].sum())
        cumulative += spent_k
        win_rows.append({
            "fenetre": k + 1,
            "libelle": label,
            "part_cumulee": shares[k],
            "plafond_cumule": caps[k],
            "depense": spent_k,
            "depense_cumulee": cumulative,
            # credit left under this window's cap, carried over to the next window
            "report": caps[k] - cumulative,
            "grappes": int((funded["fenetre"] == k + 1).sum()),
        })
    return Selection(
        funded=funded,
        not_funded=not_funded,
        windows=win_rows,
        envelope=env,
        total_cost=int(funded["cout"].sum()),
        total_points=int(funded["points"].sum()),
        optimal=optimal,
        mode=mode,
        notes=notes,
        priorities=report,
    )
