"""Evaluate any grouping of ESMS the same way: hard rules, ESMS placed, points, distances.

The benchmark compares methods that know nothing of the programme (max-p, k-means) with the
solver, so every grouping goes through one evaluation: a group counts as a grappe only when
``grappes.programme.validate`` finds no broken rule in it, and the violations of the other groups
are
reported by rule. Priority points are the solver's own (``grappes.solver.evaluate``).
Distances are member-to-centre great-circle kilometres, the centre being the spherical mean
of the members (the same as ``grappes.geo.distances.centre``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from grappes.core.model import GroupingRules
from grappes.core.vocabulary import VIOLATION_CODES, VIOLATION_LABELS
from grappes.geo.distances import haversine_km
from grappes.programme.scoring import grappe_points
from grappes.programme.validate import grouping_violations

#: A function giving the computable priority points of one grappe, criterion -> points.
PointsFunction = Callable[[pd.DataFrame, GroupingRules], dict[str, int]]


@dataclass
class Evaluation:
    """What one method achieved on one instance (one row of the benchmark table)."""

    instance: str
    method: str
    #: groups the method formed (valid or not)
    n_groups: int = 0
    #: groups with no broken hard rule: the grappes that count
    valid_grappes: int = 0
    #: ESMS in the instance (the eligible ESMS of the field)
    esms: int = 0
    #: ESMS of small OGs in the instance
    esms_small_og: int = 0
    #: ESMS of small OGs inside valid grappes (objective 1 of the solver)
    esms_small_og_placed: int = 0
    #: every ESMS inside valid grappes
    esms_placed: int = 0
    #: the best number of small-OG ESMS any grouping can place, when known
    upper_bound: float | None = None
    #: rule code -> number of groups breaking that rule
    violations: dict[str, int] = field(default_factory=dict)
    #: groups breaking at least one rule
    invalid_groups: int = 0
    #: OGs whose ESMS of the field sit in several groups, or partly in none
    og_split: int = 0
    #: computable priority points summed over the valid grappes
    points: int = 0
    #: member-to-centre distance over the valid grappes, km
    mean_km: float = float("nan")
    max_km: float = float("nan")
    #: the same over every group the method formed, valid or not
    mean_km_all: float = float("nan")
    max_km_all: float = float("nan")
    runtime_s: float = float("nan")
    note: str = ""
    #: False when the method could not run (missing module, error): the row stays blank
    ran: bool = True

    @property
    def share_of_bound(self) -> float | None:
        """Small-OG ESMS placed as a share of the upper bound (None when no bound)."""
        if self.upper_bound is None or not np.isfinite(self.upper_bound):
            return None
        if self.upper_bound <= 0:
            return 1.0 if self.esms_small_og_placed == 0 else None
        return self.esms_small_og_placed / self.upper_bound

    @property
    def n_violations(self) -> int:
        """Total number of (group, broken rule) pairs."""
        return int(sum(self.violations.values()))


# --------------------------------------------------------------------------- building blocks


def align_assignment(etab: pd.DataFrame, assignment: pd.Series) -> pd.Series:
    """Group label of each row of ``etab`` ('' = in no group).

    ``assignment`` is indexed either like ``etab`` or by FINESS ET (``Proposal.assignment()``);
    labels may be numbers (k-means) or text; NA and '' both mean "in no group".
    """
    if not isinstance(assignment, pd.Series):
        msg = "l'affectation doit être une série pandas (FINESS ET -> groupe)"
        raise ValueError(msg)
    if assignment.index.equals(etab.index):
        values = assignment.copy()
    else:
        by_et = assignment.copy()
        by_et.index = by_et.index.astype("string")
        by_et = by_et[~by_et.index.duplicated(keep="first")]
        values = etab["finess_et"].astype("string").map(by_et)
        values.index = etab.index
    return values.astype("string").fillna("").str.strip()


def small_og_mask(etab: pd.DataFrame, rules: GroupingRules) -> pd.Series:
    """True for the ESMS of small OGs (at most ``rules.petit_og_max`` ESMS in the OG)."""
    size = pd.to_numeric(etab["og_nb_esms"], errors="coerce").fillna(0)
    return (size <= rules.petit_og_max).astype(bool)


def group_centres(lon: np.ndarray, lat: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """Spherical mean (lon, lat degrees) of the points of each group, all groups at once.

    The average of the 3-D unit vectors projected back to the sphere, as
    ``grappes.geo.distances.centre``; rows are indexed by group label. Points must have coordinates.
    """
    lam, phi = np.radians(lon), np.radians(lat)
    xyz = pd.DataFrame(
        {"x": np.cos(phi) * np.cos(lam), "y": np.cos(phi) * np.sin(lam), "z": np.sin(phi)}
    )
    sums = xyz.groupby(group, sort=True).sum()
    return pd.DataFrame(
        {
            "lon": np.degrees(np.arctan2(sums["y"], sums["x"])),
            "lat": np.degrees(np.arctan2(sums["z"], np.hypot(sums["x"], sums["y"]))),
        },
        index=sums.index,
    )


def member_distances_km(etab: pd.DataFrame, labels: pd.Series) -> pd.Series:
    """Distance in km from each grouped ESMS to its group's centre (NaN outside any group).

    Members without coordinates get NaN and do not move the centre.
    """
    out = pd.Series(np.nan, index=etab.index, dtype="float64")
    lon = pd.to_numeric(etab["lon"], errors="coerce").to_numpy(dtype="float64")
    lat = pd.to_numeric(etab["lat"], errors="coerce").to_numpy(dtype="float64")
    keep = (labels.to_numpy() != "") & np.isfinite(lon) & np.isfinite(lat)
    if not keep.any():
        return out
    group = labels.to_numpy()[keep]
    centres = group_centres(lon[keep], lat[keep], group).reindex(group)
    out.iloc[np.flatnonzero(keep)] = haversine_km(
        lon[keep], lat[keep], centres["lon"].to_numpy(), centres["lat"].to_numpy()
    )
    return out


def og_split_count(etab: pd.DataFrame, labels: pd.Series) -> int:
    """OGs with at least one grouped ESMS whose ESMS are in several groups or partly in none."""
    frame = pd.DataFrame(
        {
            "og": etab["finess_ej"].astype("string").fillna("").to_numpy(),
            "g": labels.to_numpy(),
            "placed": labels.to_numpy() != "",
        }
    )
    frame = frame[frame["og"] != ""]
    per_og = frame.groupby("og").agg(groups=("g", "nunique"), placed=("placed", "any"))
    return int(((per_og["groups"] > 1) & per_og["placed"]).sum())


# --------------------------------------------------------------------------- evaluation


def evaluate(
    etab: pd.DataFrame,
    assignment: pd.Series,
    rules: GroupingRules,
    champ: str | None = None,
    *,
    instance: str = "",
    method: str = "",
    runtime_s: float = float("nan"),
    upper_bound: float | None = None,
    note: str = "",
    points: PointsFunction | None = None,
) -> Evaluation:
    """Evaluate one grouping of the instance ``etab`` (the eligible ESMS of the field).

    Parameters
    ----------
    etab
        The instance: normalised establishments (``grappes.core.model.ETAB_COLUMNS``), the same
        eligible ESMS every method received.
    assignment
        Group label per ESMS, indexed like ``etab`` or by FINESS ET; '' or NA = no group.
        Labels of ESMS that are not in ``etab`` are ignored.
    rules
        Hard rules and points of the call for projects.
    champ
        The field the grappes are built for (None: each group's dominant field).
    points
        Priority points of one grappe; default the solver's own computation
        (``grappes.programme.scoring.grappe_points``), so every method is scored alike.

    Returns
    -------
    Evaluation
        Counts over valid grappes only (no broken rule), violations over the other groups.
    """
    missing = [c for c in ("finess_et", "finess_ej", "og_nb_esms", "lon", "lat") if c not in etab]
    if missing:
        msg = f"colonnes absentes de la table des ESMS : {', '.join(missing)}"
        raise ValueError(msg)
    points_fn = points or grappe_points
    labels = align_assignment(etab, assignment)
    placed = labels != ""
    small = small_og_mask(etab, rules)
    result = Evaluation(
        instance=instance,
        method=method,
        esms=len(etab),
        esms_small_og=int(small.sum()),
        upper_bound=upper_bound,
        runtime_s=runtime_s,
        note=note,
    )
    if not placed.any():
        return result

    # nominal=True: several OGs above the solver's nominal size count as a violation, so that
    # every method is held to the same size as the solver's own grappes
    broken = grouping_violations(etab, labels, rules, champ=champ, nominal=True)
    valid_ids = sorted(g for g, v in broken.items() if not v)
    counts: dict[str, int] = {}
    for found in broken.values():
        for code in {v.code for v in found}:
            counts[code] = counts.get(code, 0) + 1
    result.violations = {c: counts[c] for c in VIOLATION_CODES if c in counts}
    result.n_groups = len(broken)
    result.valid_grappes = len(valid_ids)
    result.invalid_groups = result.n_groups - result.valid_grappes
    result.og_split = og_split_count(etab, labels)

    in_valid = labels.isin(valid_ids)
    result.esms_placed = int(in_valid.sum())
    result.esms_small_og_placed = int((in_valid & small).sum())
    if valid_ids:
        members = etab[in_valid].groupby(labels[in_valid], sort=True)
        result.points = int(sum(sum(points_fn(rows, rules).values()) for _, rows in members))

    dist = member_distances_km(etab, labels)
    result.mean_km_all, result.max_km_all = _mean_max(dist[placed])
    result.mean_km, result.max_km = _mean_max(dist[in_valid])
    return result


def _mean_max(values: pd.Series) -> tuple[float, float]:
    values = values.dropna()
    if values.empty:
        return float("nan"), float("nan")
    return float(values.mean()), float(values.max())


# --------------------------------------------------------------------------- tables

#: Column names of the benchmark table, in order (French: the table is for users).
TABLE_COLUMNS: tuple[str, ...] = (
    "instance",
    "méthode",
    "groupes",
    "valides",
    "ESMS petits OG placés",
    "% borne",
    "ESMS placés",
    "violations",
    "OG scindés",
    "points",
    "km moy.",
    "km max",
    "km moy. tous",
    "temps (s)",
)


def table_rows(evaluations: Sequence[Evaluation]) -> list[list[str]]:
    """One row of text cells per evaluation, in ``TABLE_COLUMNS`` order."""
    rows = []
    for e in evaluations:
        method = e.method + (f" ({e.note})" if e.note else "")
        if not e.ran:
            rows.append([e.instance, method] + [""] * (len(TABLE_COLUMNS) - 2))
            continue
        share = e.share_of_bound
        rows.append(
            [
                e.instance,
                method,
                str(e.n_groups),
                str(e.valid_grappes),
                f"{e.esms_small_og_placed} / {e.esms_small_og}",
                "" if share is None else f"{100 * share:.1f} %",
                f"{e.esms_placed} / {e.esms}",
                format_violations(e),
                str(e.og_split),
                str(e.points),
                _km(e.mean_km),
                _km(e.max_km),
                _km(e.mean_km_all),
                "" if not np.isfinite(e.runtime_s) else f"{e.runtime_s:.1f}",
            ]
        )
    return rows


def format_violations(e: Evaluation) -> str:
    """'0', or the total then the groups per rule: '12 : trop grand 8, OG scindé 4'."""
    if not e.violations:
        return "0"
    detail = ", ".join(f"{VIOLATION_LABELS.get(c, c)} {n}" for c, n in e.violations.items())
    return f"{e.n_violations} : {detail}"


def _km(value: float) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.1f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub markdown table ('|' in cells escaped)."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    out = [line(header), "|" + "|".join("---" for _ in header) + "|"]
    out.extend(line(r) for r in rows)
    return "\n".join(out)
