"""Stable grappe ids across re-solves: a new grouping keeps the ids of the grappes it continues.

Why: the solver numbers its grappes afresh on every run (``PA-24-001``, ``PA-24-002``...,
ordered by their smallest FINESS ET), so after "Relancer le solveur" the id ``PA-24-001``
could name another set of ESMS, and everything the user attached to that id (porteur,
declared criteria, notes, a colleague's e-mail) would silently move to another grappe.

:func:`stable_ids` matches each new grappe to at most one old grappe so that the total number
of shared ESMS is the largest (an assignment problem, solved exactly with
``scipy.optimize.linear_sum_assignment``); a matched grappe keeps the old id, the others get a
fresh id that was never issued before in the session (a retired id is never handed to another
grappe).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from grappes.core.model import CHAMPS

_NUMBERED = re.compile(r"^(?P<prefix>.+)-(?P<number>\d+)$")


def overlap_matrix(
    old: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[str]]
) -> tuple[list[str], list[str], np.ndarray]:
    """Old ids, new ids (both sorted) and the count of ESMS each pair shares."""
    old_ids, new_ids = sorted(old), sorted(new)
    where = {e: i for i, gid in enumerate(old_ids) for e in old[gid]}
    shared = np.zeros((len(old_ids), len(new_ids)), dtype=np.int64)
    for j, gid in enumerate(new_ids):
        for e in new[gid]:
            i = where.get(e)
            if i is not None:
                shared[i, j] += 1
    return old_ids, new_ids, shared


def fresh_id(template: str, issued: Iterable[str]) -> str:
    """An id shaped like ``template`` (``PA-24-007``) and absent from ``issued``.

    The number follows the largest ever issued with the same prefix, so an id retired by an
    earlier re-solve is not reused.
    """
    taken = set(issued)
    match = _NUMBERED.match(template)
    prefix, width = (match["prefix"], len(match["number"])) if match else (template, 3)
    numbers = [int(m["number"]) for m in map(_NUMBERED.match, taken)
               if m is not None and m["prefix"] == prefix]
    k = max(numbers, default=0) + 1
    while f"{prefix}-{k:0{width}d}" in taken:
        k += 1
    return f"{prefix}-{k:0{width}d}"


def stable_ids(
    old: Mapping[str, Sequence[str]],
    new: Mapping[str, Sequence[str]],
    issued: Iterable[str] = (),
) -> dict[str, str]:
    """New id -> id to keep: the old id of the grappe it shares most ESMS with (maximum total
    overlap, each old id used once), else a fresh id never issued (``issued`` plus the old
    ids).

    ``old`` and ``new`` map grappe id -> FINESS ET. Deterministic: same groupings, same ids
    (fresh ids are handed out in the order of the new ids).
    """
    old_ids, new_ids, shared = overlap_matrix(old, new)
    mapping: dict[str, str] = {}
    if shared.size:
        from scipy.optimize import linear_sum_assignment  # heavy; only when ids are matched

        rows, cols = linear_sum_assignment(shared, maximize=True)
        for i, j in zip(rows, cols, strict=True):
            if shared[i, j] > 0:
                mapping[new_ids[j]] = old_ids[i]
    taken = set(issued) | set(old_ids)
    for gid in new_ids:
        if gid not in mapping:
            mapping[gid] = fresh_id(gid, taken)
            taken.add(mapping[gid])
    return mapping


def rename_in_text(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` with every grappe id of ``mapping`` replaced (whole ids only), for the
    solver's French explanations ("grappe PA-24-002 à 3,1 km ...")."""
    changed = {k: v for k, v in mapping.items() if k != v}
    if not changed or not text:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(
        re.escape(k) for k in sorted(changed, key=len, reverse=True)) + r")(?![\w-])")
    return pattern.sub(lambda m: changed[m.group(1)], text)


#: a grappe id's parts: field, « + » when ESMS of another field joined it, territory
#: (région or département code, « nouvelle » for a grappe made by hand), number
_ID_PARTS = re.compile(r"^(?P<champ>[A-Z]+)(?P<plus>\+?)-(?P<territory>.+)-(?P<number>\d+)$")


def grappe_sort_key(gid: str) -> tuple[Any, ...]:
    """The order every grappes table and export follows: by field (programme order: PA, PH,
    DOM...), territory, then number; a grappe joined by ESMS of another field (« PA+-24-003 »)
    takes its number's place.

    Why: as text, « PA+-24-003 » came before « PA-24-001 » (« + » sorts before « - »), and
    « PA-24-010 » before « PA-24-002 » once numbers had unequal widths (« PA-nouvelle-10 »).
    Ids of another shape come last, as text. Use as ``sorted(ids, key=grappe_sort_key)``.
    """
    match = _ID_PARTS.match(gid)
    if match is None:
        return (1, gid)
    champ, territory = match["champ"], match["territory"]
    field_rank = CHAMPS.index(champ) if champ in CHAMPS else len(CHAMPS)
    place = (0, int(territory), "") if territory.isdigit() else (1, 0, territory)
    return (0, field_rank, champ, place, int(match["number"]), match["plus"], gid)


def sorted_ids(ids: Iterable[str]) -> list[str]:
    """Grappe ids in :func:`grappe_sort_key` order."""
    return sorted(ids, key=grappe_sort_key)
