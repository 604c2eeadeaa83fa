"""``grappes.solver.select.candidate_groups``: independent groups of candidates (issue 23, speed).

The groups decide how the selection's budget is shared and which CP-SAT models are built,
so their content and order must not change with the implementation: checked against a plain
union-find written here, on random candidate sets.
"""

from __future__ import annotations

import random

from grappes.solver.select import candidate_groups


def _reference(candidates: list[tuple[int, ...]], n_units: int) -> list[list[int]]:
    """Groups keyed by the smallest unit of their component, candidates in index order."""
    parent = list(range(n_units))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for cand in candidates:
        for u in cand[1:]:
            a, b = find(cand[0]), find(u)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i, cand in enumerate(candidates):
        groups.setdefault(find(cand[0]), []).append(i)
    return [groups[k] for k in sorted(groups)]


def test_groups_and_their_order_match_a_union_find() -> None:
    rng = random.Random(23)
    for _ in range(200):
        n = rng.randint(1, 40)
        cands = sorted(
            {
                tuple(sorted(rng.sample(range(n), rng.randint(1, min(4, n)))))
                for _ in range(rng.randint(1, 50))
            }
        )
        assert candidate_groups(cands, n) == _reference(cands, n)


def test_no_candidate_no_group() -> None:
    assert candidate_groups([], 5) == []
    assert candidate_groups([(3,), (0, 4), (1, 2), (2, 4)], 5) == [[1, 2, 3], [0]]
