"""Attach an OG's leftover ESMS of another field to the grappe its OG already belongs to.

Fields are solved apart, so an OG with, say, 12 PA and 2 PDS ESMS gets a PA grappe while its
two PDS ESMS, too few for a PDS grappe, are left out. The programme allows one dominant field
with a few ESMS of another (``max_other_field_share``, 20 % by default): such leftovers join
their OG's grappe when every hard rule still holds (share of other fields, ceiling, one DUI
solution, médicalisé majority, the threshold, and the distance rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from grappes.core.model import Grappe, GroupingRules
from grappes.geo.distances import centre, haversine_km
from grappes.programme.scoring import grappe_points
from grappes.solver.units import VENDOR_CONFLICT, text

if TYPE_CHECKING:
    from grappes.solver.subproblem import Subproblem


@dataclass
class _Target:
    """Running totals of one grappe while leftovers are attached."""

    n: int
    other: int
    med: int
    #: normalised name of the DUI solution in place, None when there is none yet
    vendor: str | None
    derog: bool
    vec: np.ndarray
    positions: list[np.ndarray]
    ogs: set[str]
    attached: list[tuple[int, int]] = field(default_factory=list)


def _name(sub: Subproblem, vendor: int) -> str | None:
    """Normalised vendor name of a unit's vendor id (ids are per field), None if no DUI."""
    if vendor < 0:
        return None
    return " ".join(sub.units.vendor_names[vendor].split()).casefold()


def _target(sub: Subproblem, members: list[int]) -> _Target:
    units = sub.units
    vendor = None
    for m in members:
        if units.vendor[m] >= 0:
            vendor = _name(sub, int(units.vendor[m]))
    return _Target(
        n=int(units.n[members].sum()),
        other=0,
        med=int(units.n_med[members].sum()),
        vendor=vendor,
        derog=bool(units.derog[members].all()),
        vec=units.vec_sum[members].sum(axis=0),
        positions=[units.pos[m] for m in members],
        ogs={og for m in members for og in units.ogs[m]},
    )


def attach_other_fields(
    subs: Sequence[Subproblem],
    rules: GroupingRules,
    apart: set[frozenset[str]] | None = None,
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Leftover units attached to grappes of another field of their OG.

    Returns ``(sub index, grappe index) -> [(sub index, unit), ...]``. Vendor ids are per
    field, so DUI solutions are compared by normalised name.
    """
    apart = apart or set()
    where: dict[str, list[tuple[int, int]]] = {}
    for si, sub in enumerate(subs):
        for gi, members in enumerate(sub.grappes):
            for m in members:
                for og in sub.units.ogs[m]:
                    where.setdefault(og, []).append((si, gi))
    targets: dict[tuple[int, int], _Target] = {}
    cos_limit = subs[0].ev.cos_limit if subs else 1.0
    for si, sub in enumerate(subs):
        units = sub.units
        placed = {m for g in sub.grappes for m in g}
        for u in range(len(units)):
            if u in placed or units.vendor[u] == VENDOR_CONFLICT:
                continue
            options = sorted({t for og in units.ogs[u] for t in where.get(og, []) if t[0] != si})
            v_name = _name(sub, int(units.vendor[u]))
            for t in options:
                ts, tg = t
                if t not in targets:
                    targets[t] = _target(subs[ts], subs[ts].grappes[tg])
                state = targets[t]
                n_u = int(units.n[u])
                new_n = state.n + n_u
                if rules.max_esms is not None and new_n > rules.max_esms:
                    continue
                if state.other + n_u > rules.max_other_field_share * new_n + 1e-9:
                    continue
                if v_name is not None and state.vendor is not None and v_name != state.vendor:
                    continue
                derog = state.derog and bool(units.derog[u])
                if new_n < (rules.min_esms_derogatoire if derog else rules.min_esms):
                    continue
                if rules.medicalise_majority and 2 * (state.med + int(units.n_med[u])) <= new_n:
                    continue
                if any(frozenset((a, b)) in apart for a in units.ogs[u] for b in state.ogs):
                    continue
                vec = state.vec + units.vec_sum[u]
                c = vec / np.linalg.norm(vec)
                positions = [*state.positions, units.pos[u]]
                if (np.array(positions) @ c).min() < cos_limit - 1e-12:
                    continue
                state.n, state.other, state.derog = new_n, state.other + n_u, derog
                state.med += int(units.n_med[u])
                state.vec, state.positions = vec, positions
                state.ogs |= set(units.ogs[u])
                state.vendor = state.vendor or v_name
                state.attached.append((si, u))
                break
    return {t: s.attached for t, s in targets.items() if s.attached}


def extend_grappe(
    grappe: Grappe, etab: pd.DataFrame, extra_rows: np.ndarray, rules: GroupingRules
) -> None:
    """Add attached ESMS (positions in ``etab``) to a described grappe, in place.

    Members, OGs, départements, régions, points and distances are recomputed on all the
    grappe's rows; the level-3 cost in ``metrics`` stays the one of the main field.
    """
    et = text(etab, "finess_et")
    extra = etab.iloc[extra_rows]
    grappe.esms = sorted(set(grappe.esms) | set(text(extra, "finess_et")))
    grappe.og = sorted(set(grappe.og) | set(text(extra, "finess_ej")))
    rows = etab[et.isin(grappe.esms).to_numpy()]
    grappe.departements = sorted(set(text(rows, "departement")) - {""})
    grappe.regions = sorted(set(text(rows, "region")) - {""})
    grappe.points = grappe_points(rows, rules)
    lon = pd.to_numeric(rows["lon"], errors="coerce").to_numpy()
    lat = pd.to_numeric(rows["lat"], errors="coerce").to_numpy()
    c_lon, c_lat = centre(lon, lat)
    km = haversine_km(lon, lat, c_lon, c_lat)
    share = len(extra) / len(rows)
    fields = ", ".join(sorted(set(text(extra, "champ"))))
    grappe.reasons.append(
        f"{len(extra)} ESMS du champ {fields} de ses OG rattachés (champ minoritaire : "
        f"{100 * share:.0f} %, au plus {100 * rules.max_other_field_share:.0f} %)."
    )
    grappe.metrics.update(
        {
            "n_esms": float(len(rows)),
            "n_og": float(len(grappe.og)),
            "mean_km": round(float(km.mean()), 3),
            "max_km": round(float(km.max()), 3),
            "points": float(sum(grappe.points.values())),
        }
    )
