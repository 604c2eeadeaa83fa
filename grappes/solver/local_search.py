"""Improve a grouping with local moves until none helps (first-improvement descent).

Moves, each kept only when the objective improves (``evaluate.better``) and every grappe it
touches stays valid:

- attach: a unit in no grappe joins the grappe where it fits best;
- form: units in no grappe form a new grappe, possibly taking units that their grappes can
  spare (a small ejection chain);
- split: a large grappe becomes two valid ones;
- move: a unit leaves its grappe for a neighbouring one;
- swap: two units of neighbouring grappes exchange places.

The set packing picks the best combination of the candidates it was given; these moves reach
groupings that were not among the candidates.
"""

from __future__ import annotations

import time

import numpy as np

from grappes.solver.candidates import compatible_with
from grappes.solver.evaluate import Evaluator, better
from grappes.solver.greedy import attach_leftovers, grow_until_valid


class LocalSearch:
    """First-improvement descent over a grouping of one sub-problem."""

    def __init__(
        self,
        ev: Evaluator,
        neighbours: list[np.ndarray],
        points_weight: float | None = None,
        swap_neighbours: int = 6,
        move_neighbours: int = 30,
    ) -> None:
        self.ev = ev
        self.neighbours = neighbours
        self.points_weight = points_weight
        self.swap_neighbours = swap_neighbours
        # nearest compatible units only: in a dense city every OG is within reach of all
        # others, and looking at the 30 nearest keeps a round linear in the number of OGs
        self.compat = [
            nb[compatible_with(ev, u, nb)][:move_neighbours] for u, nb in enumerate(neighbours)
        ]
        self.moves: dict[str, int] = {"attach": 0, "form": 0, "split": 0, "move": 0, "swap": 0}
        #: grappes changed in the previous round (None: all), and in the current one
        self.dirty: set[int] | None = None
        self.changed: set[int] = set()

    def _where(self, grappes: list[list[int]]) -> np.ndarray:
        where = np.full(len(self.ev.units), -1, dtype="int64")
        for g, members in enumerate(grappes):
            where[members] = g
        return where

    def _active(self, u: int, where: np.ndarray) -> bool:
        """Whether unit u is worth revisiting: its grappe or a neighbouring one changed."""
        if self.dirty is None:
            return True
        if where[u] in self.dirty:
            return True
        return any(int(where[v]) in self.dirty for v in self.compat[u])

    def _valid_without(self, members: list[int], gone: set[int]) -> list[int] | None:
        rest = [m for m in members if m not in gone]
        if not rest or self.ev.check(rest) is not None:
            return None
        return rest

    def form(self, grappes: list[list[int]]) -> int:
        """New grappes around units in no grappe, borrowing units other grappes can spare."""
        ev = self.ev
        units = ev.units
        formed = 0
        where = self._where(grappes)
        order = sorted(np.flatnonzero(where < 0), key=lambda u: (bool(units.big[u]), u))
        for u in order:
            if where[u] >= 0 or not self._active(int(u), where):
                continue
            allowed = np.ones(len(units), dtype=bool)
            allowed[units.forced & (where >= 0)] = False
            members = grow_until_valid(ev, int(u), self.compat[u], allowed)
            if members is None:
                continue
            taken: dict[int, set[int]] = {}
            for m in members:
                if where[m] >= 0:
                    taken.setdefault(int(where[m]), set()).add(m)
            remaining: dict[int, list[int]] = {}
            ok = True
            for g, gone in taken.items():
                rest = self._valid_without(grappes[g], gone)
                if rest is None:
                    ok = False
                    break
                remaining[g] = rest
            if not ok:
                continue
            before = ev.total(grappes[g] for g in taken)
            after = ev.total(remaining.values()) + ev.value(members)
            if not better(after - before, self.points_weight):
                continue
            for g, rest in remaining.items():
                grappes[g] = rest
                self.changed.add(g)
            grappes.append(sorted(members))
            self.changed.add(len(grappes) - 1)
            where = self._where(grappes)
            formed += 1
        return formed

    def split(self, grappes: list[list[int]]) -> int:
        """A large grappe split in two valid ones (more grappes, more priority points)."""
        ev = self.ev
        units = ev.units
        done = 0
        where = self._where(grappes)
        minimum = min(ev.rules.min_esms, ev.rules.min_esms_derogatoire)
        for g in range(len(grappes)):
            members = grappes[g]
            if len(members) < 2 or int(units.n[members].sum()) < 2 * minimum:
                continue
            if self.dirty is not None and g not in self.dirty:
                continue
            c = ev.centre(members)
            far = sorted(members, key=lambda m: (float(units.pos[m] @ c), m))[:3]
            allowed = np.zeros(len(units), dtype=bool)
            allowed[members] = True
            for seed in far:
                pool = np.array([m for m in members if m != seed], dtype="int64")
                pool = pool[compatible_with(ev, seed, pool)]
                part = grow_until_valid(ev, seed, pool, allowed)
                if part is None or len(part) == len(members):
                    continue
                rest = self._valid_without(members, set(part))
                if rest is None:
                    continue
                delta = ev.value(part) + ev.value(rest) - ev.value(members)
                if better(delta, self.points_weight):
                    grappes[g] = rest
                    grappes.append(sorted(part))
                    where[part] = len(grappes) - 1
                    self.changed.update((g, len(grappes) - 1))
                    done += 1
                    break
        return done

    def move(self, grappes: list[list[int]]) -> int:
        """Units leaving their grappe for a neighbouring one."""
        ev = self.ev
        units = ev.units
        moved = 0
        where = self._where(grappes)
        for u in range(len(units)):
            g = int(where[u])
            if g < 0 or not self._active(u, where):
                continue
            rest = self._valid_without(grappes[g], {u})
            if rest is None:
                continue
            targets = sorted({int(where[v]) for v in self.compat[u] if where[v] not in (-1, g)})
            base_g = ev.value(grappes[g])
            for h in targets:
                trial = sorted([*grappes[h], u])
                if ev.check(trial) is not None:
                    continue
                delta = ev.value(rest) + ev.value(trial) - base_g - ev.value(grappes[h])
                if better(delta, self.points_weight):
                    grappes[g], grappes[h] = rest, trial
                    where[u] = h
                    self.changed.update((g, h))
                    moved += 1
                    break
        return moved

    def swap(self, grappes: list[list[int]]) -> int:
        """Two units of neighbouring grappes exchanging places."""
        ev = self.ev
        swapped = 0
        where = self._where(grappes)
        for u in range(len(ev.units)):
            g = int(where[u])
            if g < 0 or not self._active(u, where):
                continue
            near = [int(v) for v in self.compat[u][: self.swap_neighbours]]
            for v in near:
                h = int(where[v])
                if h < 0 or h == g:
                    continue
                new_g = sorted([m for m in grappes[g] if m != u] + [v])
                new_h = sorted([m for m in grappes[h] if m != v] + [u])
                if ev.check(new_g) is not None or ev.check(new_h) is not None:
                    continue
                delta = (
                    ev.value(new_g) + ev.value(new_h) - ev.value(grappes[g]) - ev.value(grappes[h])
                )
                if better(delta, self.points_weight):
                    grappes[g], grappes[h] = new_g, new_h
                    where[u], where[v] = h, g
                    self.changed.update((g, h))
                    swapped += 1
                    break
        return swapped

    def run(
        self, grappes: list[list[int]], max_rounds: int = 10, deadline: float | None = None
    ) -> list[list[int]]:
        """Apply the moves until a round changes nothing (or the deadline passes)."""
        grappes = [sorted(g) for g in grappes]
        self.dirty = None
        for _ in range(max_rounds):
            changes = 0
            self.changed = set()
            before = [list(g) for g in grappes]
            n = attach_leftovers(self.ev, grappes, self.neighbours, self.points_weight)
            self.changed.update(g for g in range(len(before)) if grappes[g] != before[g])
            self.moves["attach"] += n
            changes += n
            steps = (
                ("form", self.form),
                ("split", self.split),
                ("move", self.move),
                ("swap", self.swap),
            )
            for name, step in steps:
                if deadline is not None and time.perf_counter() > deadline:
                    return self._clean(grappes)
                n = step(grappes)
                self.moves[name] += n
                changes += n
            if not changes:
                break
            self.dirty = set(self.changed)
        return self._clean(grappes)

    @staticmethod
    def _clean(grappes: list[list[int]]) -> list[list[int]]:
        return sorted((sorted(g) for g in grappes if g), key=lambda g: g[0])
