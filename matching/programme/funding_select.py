"""Choose which grappes an ARS funds from its regional envelope, window by window (exact).

The problem is a multiple-choice knapsack: each admissible grappe costs its grant and
brings its priority points; the call's selection windows cap the *cumulative* spending
(000 « Calendrier » : at most 50 % of the envelope by the end of window 1, 70 % by the end
of window 2, the balance in window 3; unspent credit is carried over, and an admissible
project not chosen stays in the running for the next window). Optional balance limits cap
the share of the envelope going to one département, one field or one legal status
(000 and 004 ask for « l'équilibre entre les différents territoires, les champs d'activité
et les statuts »).

It is solved exactly with OR-Tools CP-SAT on integer euros (never greedily), as a
lexicographic optimisation: (1) most points; (2) among those, least money (the same points
for less leaves credit for later projects); then, for the chosen grappes, (3) the windows
that commit the most money by the end of window 1, then of window 2, and so on. Any
remaining tie between sets of equal points and cost is settled by CP-SAT run with one
worker and a fixed seed, which is deterministic for the same input.

Two modes:

- ``global``: all grappes are known (each may carry the first window it is admissible
  in); one model decides who is funded and in which window.
- ``sequentiel``: what an ARS does in practice, not knowing later applications: at each
  window, the best set among the projects received so far and not yet funded, within the
  cumulative cap minus what has been spent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

MODES: tuple[str, ...] = ("global", "sequentiel")


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


def prepare_candidates(grappes: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise the candidate table.

    Required columns: ``grappe`` (id), ``total`` (grant in euros), ``points``. Optional:
    ``departements`` (codes separated by , ; | or spaces, or a list), ``champ``, ``statut``,
    ``fenetre`` (first window the grappe is admissible in, from 1; default 1), and
    ``poids_departements`` (dict code -> weight) to split a grappe's cost between its
    départements (default: equal shares). Raises ``ValueError`` naming the line and field.
    """
    missing = [c for c in ("grappe", "total", "points") if c not in grappes.columns]
    if missing:
        msg = (f"Colonne(s) manquante(s) : {', '.join(missing)} (attendu : grappe, total, "
               "points ; optionnel : departements, champ, statut, fenetre).")
        raise ValueError(msg)
    rows = []
    seen: set[str] = set()
    for pos, (_, r) in enumerate(grappes.iterrows(), start=2):
        gid = str(r["grappe"]).strip()
        if not gid or gid.lower() in ("nan", "<na>"):
            msg = f"Ligne {pos}, champ grappe : identifiant vide."
            raise ValueError(msg)
        if gid in seen:
            msg = f"Ligne {pos}, champ grappe : identifiant « {gid} » en double."
            raise ValueError(msg)
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
                raise ValueError(msg)
            values[col] = num
        fenetre = 1
        if "fenetre" in grappes.columns and not pd.isna(r["fenetre"]) and str(r["fenetre"]).strip():
            try:
                fenetre = int(float(str(r["fenetre"]).strip()))
            except ValueError:
                fenetre = 0
            if fenetre < 1:
                msg = f"Ligne {pos}, champ fenetre : numéro de fenêtre (1, 2, 3…) attendu."
                raise ValueError(msg)
        deps = _split_codes(r["departements"]) if "departements" in grappes.columns else []
        weights = None
        if "poids_departements" in grappes.columns and isinstance(r["poids_departements"], dict):
            weights = {str(k): float(v) for k, v in r["poids_departements"].items() if v}
        if weights is None:
            weights = {d: 1.0 for d in deps}
        rows.append({
            "grappe": gid,
            # a grant is paid in whole euros at most: round up so the envelope is never exceeded
            "cout": math.ceil(values["total"] - 1e-9),
            "points": round(values["points"]),
            "departements": sorted(weights),
            "poids_departements": weights,
            "champ": str(r["champ"]).strip() if "champ" in grappes.columns else "",
            "statut": str(r["statut"]).strip() if "statut" in grappes.columns else "",
            "fenetre": fenetre,
        })
    return pd.DataFrame(rows, columns=["grappe", "cout", "points", "departements",
                                       "poids_departements", "champ", "statut", "fenetre"])


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


# --------------------------------------------------------------------------- solving


def _solve_lexicographic(model_builder, stages, time_limit: float, seed: int):
    """Solve stage after stage, fixing each optimum before the next (CP-SAT, 1 worker)."""
    from ortools.sat.python import cp_model

    model, variables = model_builder()
    optimal = True
    solver = None
    for expr, sense in stages:
        e = expr(variables)
        if sense == "max":
            model.Maximize(e)
        else:
            model.Minimize(e)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = time_limit
        status = solver.Solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            msg = "Le solveur n'a trouvé aucune sélection (problème interne)."
            raise RuntimeError(msg)
        if status != cp_model.OPTIMAL:
            optimal = False
        value = round(solver.ObjectiveValue())
        model.ClearHints()
        for v in variables.values():
            model.AddHint(v, solver.Value(v))
        if sense == "max":
            model.Add(e >= value)
        else:
            model.Add(e <= value)
    return solver, variables, optimal


def _solve_global(cands: pd.DataFrame, caps: list[int], groups, time_limit: float,
                  seed: int) -> tuple[dict[int, int], bool]:
    """Return row -> window (0-based) for funded grappes.

    The windows never restrict *which* grappes can be funded (all of them can wait for the
    last window, whose cap is the largest), so the set is chosen first on one variable per
    grappe (most points, then least money), and the windows are assigned afterwards, for
    that set, so that the money is committed as early as the caps allow.
    """
    from ortools.sat.python import cp_model

    n, k_count = len(cands), len(caps)
    costs = cands["cout"].tolist()
    points = cands["points"].tolist()
    first = [int(f) - 1 for f in cands["fenetre"]]

    def build_set():
        model = cp_model.CpModel()
        y = {i: model.NewBoolVar(f"y_{i}") for i in range(n)}
        model.Add(sum(costs[i] * v for i, v in y.items()) <= caps[-1])
        for _, _, coefs, cap in groups:
            model.Add(sum(coefs[i] * y[i] for i in coefs) <= cap)
        return model, y

    solver, y, optimal = _solve_lexicographic(
        build_set,
        [(lambda y: sum(points[i] * v for i, v in y.items()), "max"),
         (lambda y: sum(costs[i] * v for i, v in y.items()), "min")],
        time_limit, seed,
    )
    chosen = [i for i, v in y.items() if solver.Value(v)]

    def build_windows():
        model = cp_model.CpModel()
        x = {}
        for i in chosen:
            for k in range(first[i], k_count):
                x[(i, k)] = model.NewBoolVar(f"x_{i}_{k}")
            model.AddExactlyOne([x[(i, k)] for k in range(first[i], k_count)])
        for k in range(k_count):
            model.Add(sum(costs[i] * v for (i, kk), v in x.items() if kk <= k) <= caps[k])
        for (_i, k), v in x.items():  # hint: all in the last window is always feasible
            model.AddHint(v, int(k == k_count - 1))
        return model, x

    if not chosen:
        return {}, optimal
    def spent_by(window: int):
        return lambda x: sum(costs[i] * v for (i, k), v in x.items() if k <= window)

    # as much money as possible by the end of window 1, then of window 2, ...
    stages = [(spent_by(w), "max") for w in range(k_count - 1)] or [(spent_by(0), "max")]
    solver, x, ok = _solve_lexicographic(build_windows, stages, time_limit, seed)
    return {i: k for (i, k), v in x.items() if solver.Value(v)}, optimal and ok


def _solve_window(cands: pd.DataFrame, rows: list[int], budget: int,
                  groups, used: dict[tuple[str, str], int], time_limit: float,
                  seed: int) -> tuple[list[int], bool]:
    """Best set among ``rows`` within ``budget`` and the remaining balance capacities."""
    from ortools.sat.python import cp_model

    costs = cands["cout"].tolist()
    points = cands["points"].tolist()

    def build():
        model = cp_model.CpModel()
        x = {("x", i): model.NewBoolVar(f"x_{i}") for i in rows}
        model.Add(sum(costs[i] * v for (_, i), v in x.items()) <= max(budget, 0))
        for kind, value, coefs, cap in groups:
            left = cap - used.get((kind, value), 0)
            model.Add(sum(coefs[i] * v for (_, i), v in x.items() if i in coefs) <= left)
        return model, x

    if not rows:
        return [], True
    solver, x, optimal = _solve_lexicographic(
        build,
        [(lambda x: sum(points[i] * v for (_, i), v in x.items()), "max"),
         (lambda x: sum(costs[i] * v for (_, i), v in x.items()), "min")],
        time_limit, seed,
    )
    return sorted(i for (_, i), v in x.items() if solver.Value(v)), optimal


def window_caps(envelope: int, shares: Sequence[float]) -> list[int]:
    """Cumulative caps in euros for each window (floor of share × envelope)."""
    return [math.floor(s * envelope + 1e-6) for s in shares]


def select_funding(
    grappes: pd.DataFrame,
    envelope: float,
    windows: Sequence[float] = (1.0,),
    limits: BalanceLimits | None = None,
    mode: str = "global",
    window_labels: Sequence[str] | None = None,
    time_limit: float = 30.0,
    seed: int = 0,
) -> Selection:
    """Select the grappes to fund in each window so as to maximise total points.

    Parameters
    ----------
    grappes
        One row per admissible grappe (see :func:`prepare_candidates`).
    envelope
        The regional envelope in euros.
    windows
        Cumulative share of the envelope usable by the end of each window, increasing,
        the last one at most 1 (000: 0.5, 0.7, 1.0).
    limits
        Optional balance limits (share of the envelope per département / field / status).
    mode
        ``global`` or ``sequentiel`` (see the module docstring).
    """
    if mode not in MODES:
        msg = f"Mode inconnu : {mode} (attendu : {', '.join(MODES)})."
        raise ValueError(msg)
    if not envelope or envelope <= 0:
        msg = "L'enveloppe doit être un montant positif en euros."
        raise ValueError(msg)
    shares = [float(s) for s in windows]
    if not shares or any(not 0 < s <= 1 for s in shares) or shares != sorted(shares):
        msg = ("Fenêtres : parts cumulées croissantes entre 0 et 1 attendues, "
               "par exemple 0.5,0.7,1.0.")
        raise ValueError(msg)
    labels = list(window_labels or [f"Fenêtre {k + 1}" for k in range(len(shares))])
    env = math.floor(envelope + 1e-9)
    cands = prepare_candidates(grappes)
    late = cands["fenetre"] > len(shares)
    notes = []
    if late.any():
        notes.append(f"{int(late.sum())} grappe(s) annoncée(s) pour une fenêtre qui n'existe pas : "
                     "écartées.")
    caps = window_caps(env, shares)

    if mode == "global":
        usable = cands[~late].index.tolist()
        sub = cands.loc[usable].reset_index(drop=True)
        sub_groups = balance_groups(sub, limits, env)
        chosen_sub, optimal = _solve_global(sub, caps, sub_groups, time_limit, seed)
        chosen = {usable[i]: k for i, k in chosen_sub.items()}
    else:
        groups = balance_groups(cands, limits, env)
        chosen = {}
        optimal = True
        spent = 0
        used: dict[tuple[str, str], int] = {}
        for k in range(len(shares)):
            rows = [i for i in cands.index
                    if i not in chosen and cands.at[i, "fenetre"] <= k + 1]
            picked, ok = _solve_window(cands, rows, caps[k] - spent, groups, used,
                                       time_limit, seed)
            optimal &= ok
            for i in picked:
                chosen[i] = k
                spent += int(cands.at[i, "cout"])
                for kind, value, coefs, _cap in groups:
                    if i in coefs:
                        used[(kind, value)] = used.get((kind, value), 0) + coefs[i]

    funded_rows = sorted(chosen, key=lambda i: (chosen[i], cands.at[i, "grappe"]))
    funded = pd.DataFrame({
        "grappe": [cands.at[i, "grappe"] for i in funded_rows],
        "fenetre": [chosen[i] + 1 for i in funded_rows],
        "libelle_fenetre": [labels[chosen[i]] for i in funded_rows],
        "cout": [int(cands.at[i, "cout"]) for i in funded_rows],
        "points": [int(cands.at[i, "points"]) for i in funded_rows],
        "departements": [",".join(cands.at[i, "departements"]) for i in funded_rows],
        "champ": [cands.at[i, "champ"] for i in funded_rows],
        "statut": [cands.at[i, "statut"] for i in funded_rows],
    })
    rest = [i for i in cands.index if i not in chosen]
    not_funded = pd.DataFrame({
        "grappe": [cands.at[i, "grappe"] for i in rest],
        "cout": [int(cands.at[i, "cout"]) for i in rest],
        "points": [int(cands.at[i, "points"]) for i in rest],
        "raison": [_why_not(cands, i, env, caps, late) for i in rest],
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
    )


def _why_not(cands: pd.DataFrame, i: int, env: int, caps: list[int], late: pd.Series) -> str:
    cost = int(cands.at[i, "cout"])
    if bool(late.at[i]):
        return "annoncée pour une fenêtre qui n'existe pas"
    if cost > caps[-1]:
        return f"coût {cost} € supérieur à l'enveloppe utilisable ({caps[-1]} €)"
    return "non retenue : d'autres grappes apportent plus de points dans l'enveloppe et les limites"
