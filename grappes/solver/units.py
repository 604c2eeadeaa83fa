"""Turn the establishments table into the solver's units: an OG and its ESMS of one field.

The OG is the unit because the programme never splits an OG's ESMS of the project's field
between grappes. Before grouping, every ESMS that cannot take part is set aside with a reason
code (field not in the call, already funded, no coordinates, excluded by the user...), so
that every row of the input ends up either in a grappe or explained.

Each unit carries what the hard rules and the objective need as plain numpy arrays (counted
ESMS, medicalised ESMS, bound DUI vendor, 3-D position vectors), so that checking a grouping
of units costs a few array operations instead of a pandas group-by.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from grappes.core.columns import flag_column as flag
from grappes.core.columns import number_column as number
from grappes.core.columns import text_column as text
from grappes.core.model import GroupingRules
from grappes.geo.distances import unit_vectors
from grappes.programme.validate import (
    VENDOR_BOUND_STATUTS,
    carried_mask,
    non_segur_upgrade_mask,
    normalise_vendor,
)

#: Vendor id of a unit with no DUI already in place (fits any vendor).
NO_VENDOR = -1
#: Vendor id of a unit whose own ESMS already use two different conformant solutions.
VENDOR_CONFLICT = -2


@dataclass
class Constraints:
    """User locks honoured by the solver (the what-if screen).

    Attributes
    ----------
    together
        Groups of OGs (FINESS EJ) that must end in the same grappe when they are placed
        (an existing partnership, a GCSMS).
    apart
        Pairs of OGs that must never share a grappe.
    excluded_esms
        FINESS ET left out of every grappe.
    forced
        FINESS EJ -> label: the OGs sharing a label are placed together in one grappe, and
        that grappe must exist (e.g. the OGs of a grappe the user keeps, plus one more OG).
    """

    together: list[tuple[str, ...]] = field(default_factory=list)
    apart: list[tuple[str, str]] = field(default_factory=list)
    excluded_esms: list[str] = field(default_factory=list)
    forced: dict[str, str] = field(default_factory=dict)



def norm3(v: np.ndarray) -> float:
    """Euclidean norm of one 3-D vector: the same float as ``np.linalg.norm`` (which computes
    ``sqrt(v.dot(v))`` too), without its checks, which cost more than the sum itself in the
    solver's growths (a million calls on a national instance)."""
    return math.sqrt(v.dot(v))


def vectors_to_lonlat(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Degrees of (possibly unnormalised) 3-D vectors, one per row."""
    vec = np.atleast_2d(vec)
    lon = np.degrees(np.arctan2(vec[:, 1], vec[:, 0]))
    lat = np.degrees(np.arctan2(vec[:, 2], np.hypot(vec[:, 0], vec[:, 1])))
    return lon, lat


def prepare_esms(
    etab: pd.DataFrame,
    rules: GroupingRules,
    champs: tuple[str, ...],
    locks: Constraints | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Split the table into the ESMS that can be grouped and the reason code of the others.

    Returns
    -------
    (esms, set_aside)
        ``esms``: the groupable rows (original index kept, plus ``_vendor`` normalised vendor
        name and ``_bound`` True when the vendor is a DUI already in place);
        ``set_aside``: reason code per original index label for every other row.
    """
    champ = text(etab, "champ")
    reason = pd.Series("", index=etab.index, dtype="string")

    def mark(mask: pd.Series, code: str) -> None:
        reason[(reason == "") & mask] = code

    mark(flag(etab, "sanitaire"), "sanitaire")
    mark(~champ.isin(list(rules.eligible_champs)), "hors_champ")
    mark(~champ.isin(list(champs)), "champ_non_traite")
    if rules.exclude_deja_finance:
        mark(flag(etab, "deja_finance") & ~carried_mask(etab, rules), "deja_finance")
    if rules.exclude_upgrade_non_segur:
        mark(non_segur_upgrade_mask(etab), "non_segur")
    if locks is not None and locks.excluded_esms:
        mark(text(etab, "finess_et").isin([str(x) for x in locks.excluded_esms]), "exclu")
    mark(text(etab, "finess_ej") == "", "sans_og")
    lon, lat = number(etab, "lon"), number(etab, "lat")
    mark(~(np.isfinite(lon) & np.isfinite(lat)), "sans_coordonnees")

    keep = reason == ""
    esms = etab[keep.to_numpy()].copy()
    vendors = normalise_vendor(text(esms, "dui_editeur"))
    esms["_vendor"] = vendors
    esms["_bound"] = text(esms, "dui_statut").isin(list(VENDOR_BOUND_STATUTS)) & (vendors != "")
    return esms, reason[~keep]


@dataclass
class Units:
    """The units of one sub-problem (one field, one région or all), as parallel arrays.

    Index ``u`` runs over units; ``rows[u]`` are positions in ``esms`` (the groupable ESMS of
    the sub-problem, ``esms.iloc``).
    """

    champ: str
    esms: pd.DataFrame
    key: list[str]
    ogs: list[tuple[str, ...]]
    rows: list[np.ndarray]
    n: np.ndarray
    n_small: np.ndarray
    n_med: np.ndarray
    n_auto: np.ndarray
    big: np.ndarray
    derog: np.ndarray
    vendor: np.ndarray
    vendor_counts: list[dict[int, int]]
    vendor_names: list[str]
    vec_sum: np.ndarray
    pos: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    statut: list[str]
    og_size: np.ndarray
    region: list[str]
    by_region: list[dict[str, tuple[int, frozenset[str], int]]]
    forced: np.ndarray
    apart: set[frozenset[int]]
    esms_vec: np.ndarray

    def __len__(self) -> int:
        return len(self.key)



def _merge_groups(ogs: list[str], locks: Constraints | None) -> dict[str, str]:
    """OG -> key of its merged unit: OGs locked together (or forced with the same label)."""
    parent = {og: og for og in ogs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            parent[hi] = lo

    groups: list[list[str]] = []
    if locks is not None:
        groups.extend([list(g) for g in locks.together])
        by_label: dict[str, list[str]] = {}
        for og, label in sorted(locks.forced.items()):
            by_label.setdefault(str(label), []).append(str(og))
        groups.extend(by_label.values())
    for group in groups:
        present = [str(g) for g in group if str(g) in parent]
        for other in present[1:]:
            union(present[0], other)
    members: dict[str, list[str]] = {}
    for og in ogs:
        members.setdefault(find(og), []).append(og)
    return {og: "+".join(sorted(members[find(og)])) for og in ogs}


def build_units(
    esms: pd.DataFrame,
    rules: GroupingRules,
    champ: str,
    locks: Constraints | None = None,
) -> Units:
    """Units of one field from groupable ESMS (all of that field, any région).

    ``esms`` must already be restricted to ``champ`` (see :func:`prepare_esms`). Units are
    sorted by key so that everything downstream is deterministic.
    """
    esms = esms.sort_values(["finess_ej", "finess_et"], kind="stable").reset_index(drop=False)
    esms = esms.rename(columns={"index": "_row"})
    ej = text(esms, "finess_ej")
    merged = _merge_groups(sorted(set(ej)), locks)
    unit_key = ej.map(merged).astype("string")
    esms["_unit_key"] = unit_key
    keys = sorted(set(unit_key))
    index = {k: i for i, k in enumerate(keys)}
    unit_id = unit_key.map(index).to_numpy(dtype="int64")
    esms["_unit"] = unit_id
    n_units = len(keys)

    og_size = number(esms, "og_nb_esms").fillna(0).to_numpy()
    small = og_size <= rules.petit_og_max
    med = flag(esms, "medicalise").to_numpy()
    auto = flag(esms, "autonome").to_numpy()
    derog = flag(esms, "derogatoire").to_numpy()
    vec = unit_vectors(number(esms, "lon").to_numpy(), number(esms, "lat").to_numpy())

    n = np.bincount(unit_id, minlength=n_units).astype("int64")
    n_small = np.bincount(unit_id, weights=small.astype(float), minlength=n_units).astype("int64")
    n_med = np.bincount(unit_id, weights=med.astype(float), minlength=n_units).astype("int64")
    n_auto = np.bincount(unit_id, weights=auto.astype(float), minlength=n_units).astype("int64")
    # "big": may stand alone, as a medium or large OG, or as an OG reaching the grappe's
    # minimum by itself (15, or 8 in Corsica / overseas: 003 Q6, Q21)
    alone = ~small | (og_size >= np.where(derog, rules.min_esms_derogatoire, rules.min_esms))
    big = np.bincount(unit_id, weights=alone.astype(float), minlength=n_units) > 0
    derog_all = np.bincount(unit_id, weights=derog.astype(float), minlength=n_units) == n
    vec_sum = np.column_stack(
        [np.bincount(unit_id, weights=vec[:, k], minlength=n_units) for k in range(3)]
    )
    norms = np.linalg.norm(vec_sum, axis=1, keepdims=True)
    pos = vec_sum / np.where(norms > 0, norms, 1.0)
    lon, lat = vectors_to_lonlat(pos)
    og_max = np.zeros(n_units)
    np.maximum.at(og_max, unit_id, og_size)

    vendor_names = sorted(set(esms["_vendor"]) - {""})
    vendor_index = {v: i for i, v in enumerate(vendor_names)}
    display = (
        pd.DataFrame({"v": esms["_vendor"], "name": text(esms, "dui_editeur")})
        .query("v != ''")
        .groupby("v")["name"]
        .agg(lambda s: sorted(s)[0])
    )
    shown_names = [str(display.get(v, v)) for v in vendor_names]

    rows: list[np.ndarray] = [np.empty(0, dtype="int64")] * n_units
    order = np.argsort(unit_id, kind="stable")
    bounds = np.searchsorted(unit_id[order], np.arange(n_units + 1))
    for u in range(n_units):
        rows[u] = order[bounds[u] : bounds[u + 1]]

    vendor = np.full(n_units, NO_VENDOR, dtype="int64")
    vendor_counts: list[dict[int, int]] = []
    statut: list[str] = []
    region_main: list[str] = []
    by_region: list[dict[str, tuple[int, frozenset[str], int]]] = []
    ogs: list[tuple[str, ...]] = []
    vend = esms["_vendor"].to_numpy(dtype=object)
    bound = esms["_bound"].to_numpy(dtype=bool)
    stat = text(esms, "statut_agrege").to_numpy(dtype=object)
    reg = text(esms, "region").to_numpy(dtype=object)
    dep = text(esms, "departement").to_numpy(dtype=object)
    ejs = ej.to_numpy(dtype=object)
    for u in range(n_units):
        r = rows[u]
        bound_names = sorted({vend[i] for i in r if bound[i]})
        if len(bound_names) == 1:
            vendor[u] = vendor_index[bound_names[0]]
        elif len(bound_names) > 1:
            vendor[u] = VENDOR_CONFLICT
        vendor_counts.append(dict(Counter(vendor_index[vend[i]] for i in r if vend[i])))
        counts = Counter(stat[i] for i in r)
        statut.append(min(counts, key=lambda s: (-counts[s], s)))
        info: dict[str, tuple[int, frozenset[str], int]] = {}
        for rg in sorted({reg[i] for i in r}):
            sel = [i for i in r if reg[i] == rg]
            info[rg] = (len(sel), frozenset(dep[i] for i in sel), len({ejs[i] for i in sel}))
        by_region.append(info)
        region_main.append(min(info, key=lambda g: (-info[g][0], g)))
        ogs.append(tuple(sorted({ejs[i] for i in r})))

    forced_keys: set[str] = set()
    apart: set[frozenset[int]] = set()
    if locks is not None:
        og_to_key = dict(zip(ej, unit_key, strict=True))
        forced_keys = {og_to_key[str(og)] for og in locks.forced if str(og) in og_to_key}
        for a, b in locks.apart:
            ka, kb = og_to_key.get(str(a)), og_to_key.get(str(b))
            if ka is not None and kb is not None and ka != kb:
                apart.add(frozenset((index[ka], index[kb])))
    forced = np.array([k in forced_keys for k in keys], dtype=bool)

    return Units(
        champ=champ,
        esms=esms,
        key=keys,
        ogs=ogs,
        rows=rows,
        n=n,
        n_small=n_small,
        n_med=n_med,
        n_auto=n_auto,
        big=big,
        derog=derog_all,
        vendor=vendor,
        vendor_counts=vendor_counts,
        vendor_names=shown_names,
        vec_sum=vec_sum,
        pos=pos,
        lon=lon,
        lat=lat,
        statut=statut,
        og_size=og_max,
        region=region_main,
        by_region=by_region,
        forced=forced,
        apart=apart,
        esms_vec=vec,
    )


def subset_units(units: Units, keep: np.ndarray) -> Units:
    """The units at positions ``keep`` (sorted), with their ESMS, as a new sub-problem."""
    keep = np.sort(np.asarray(keep, dtype="int64"))
    old_rows = np.concatenate([units.rows[u] for u in keep]) if len(keep) else np.empty(0, int)
    old_rows = np.sort(old_rows)
    esms = units.esms.iloc[old_rows].reset_index(drop=True)
    remap = np.full(len(units.esms), -1, dtype="int64")
    remap[old_rows] = np.arange(len(old_rows))
    new_index = np.full(len(units), -1, dtype="int64")
    new_index[keep] = np.arange(len(keep))
    esms["_unit"] = new_index[esms["_unit"].to_numpy()]
    apart = {
        frozenset(int(new_index[x]) for x in pair)
        for pair in units.apart
        if all(new_index[x] >= 0 for x in pair)
    }

    def pick(seq: list) -> list:
        return [seq[u] for u in keep]

    return Units(
        champ=units.champ,
        esms=esms,
        key=pick(units.key),
        ogs=pick(units.ogs),
        rows=[remap[units.rows[u]] for u in keep],
        n=units.n[keep],
        n_small=units.n_small[keep],
        n_med=units.n_med[keep],
        n_auto=units.n_auto[keep],
        big=units.big[keep],
        derog=units.derog[keep],
        vendor=units.vendor[keep],
        vendor_counts=pick(units.vendor_counts),
        vendor_names=units.vendor_names,
        vec_sum=units.vec_sum[keep],
        pos=units.pos[keep],
        lon=units.lon[keep],
        lat=units.lat[keep],
        statut=pick(units.statut),
        og_size=units.og_size[keep],
        region=pick(units.region),
        by_region=pick(units.by_region),
        forced=units.forced[keep],
        apart=apart,
        esms_vec=units.esms_vec[old_rows],
    )
