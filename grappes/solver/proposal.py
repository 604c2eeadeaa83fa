"""The solver's output, apart from the solver: reading a stored proposal (the bundled
sample's, ``grappes.scenarios.precomputed``) must not load OR-Tools and the search code."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd


@dataclass
class SolverStats(Mapping[str, Any]):
    """What one solve counted, proved and took: the solver's report beside its grappes.

    Typed fields for the code; it also reads as a mapping (``stats["esms_placed"]``,
    ``dict(stats)``) because the reports write it out as JSON under the same names
    (``docs/formats-sorties.md``). The optional entries (``timings_s``, ``liens_fichier``,
    ``precalcule``) are absent from the mapping until set.
    """

    esms_total: int = 0
    esms_eligible: int = 0
    esms_groupable: int = 0
    esms_placed: int = 0
    esms_small_og: int = 0
    esms_small_og_placed: int = 0
    grappes: int = 0
    #: computed criteria of the priority grid, summed over the grappes
    points: int = 0
    #: the LP bound of the packing on small-OG ESMS placed (issue 23: a proven bound)
    upper_bound: int = 0
    candidate_bound: int = 0
    candidates: int = 0
    subproblems: int = 0
    selection_groups: int = 0
    selection_groups_optimal: int = 0
    moves: dict[str, int] = field(default_factory=dict)
    zones: int = 0
    zones_improved: int = 0
    zones_certified: int = 0
    by_subproblem: list[dict[str, Any]] = field(default_factory=list)
    by_champ: dict[str, dict[str, int]] = field(default_factory=dict)
    multi_region: bool = False
    #: French warnings for the reader (a link file's note, an impossible constraint…)
    warnings: list[str] = field(default_factory=list)
    runtime_s: float = 0.0
    timings_s: dict[str, float] | None = None
    #: pairs read from a ``--liens`` file (None: no file given)
    liens_fichier: int | None = None
    #: served from the bundled precomputed proposals (None: solved now)
    precalcule: bool | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SolverStats:
        """Read back what :meth:`as_dict` wrote (unknown keys are refused: a typo is a bug)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = f"statistiques du solveur : clé(s) inconnue(s) {', '.join(unknown)}"
            raise ValueError(msg)
        return cls(**{k: v for k, v in data.items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return {k: self[k] for k in self}

    def __getitem__(self, key: str) -> Any:
        if key.startswith("_") or key not in self.__dataclass_fields__:
            raise KeyError(key)
        value = getattr(self, key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (f.name for f in fields(self) if getattr(self, f.name) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class Proposal:
    """What the solver proposes.

    Attributes
    ----------
    grappes
        The grappes (``grappes.core.model.Grappe``), sorted by field, région and id.
    unplaced
        One row per input ESMS in no grappe: ``finess_et``, ``finess_ej``, ``champ``,
        ``code`` (stable reason code), ``reason`` (French), ``near_miss`` (French),
        ``near_miss_km``.
    stats
        Counts, runtime, bounds (:class:`SolverStats`).
    """

    grappes: list[Any]
    unplaced: pd.DataFrame
    stats: SolverStats
    order: list[str] = field(default_factory=list)

    def assignment(self) -> pd.Series:
        """FINESS ET -> grappe id ('' when in no grappe), for every input row."""
        placed = {et: g.id for g in self.grappes for et in g.esms}
        index = self.order or sorted(placed) + list(self.unplaced["finess_et"])
        values = [placed.get(et, "") for et in index]
        return pd.Series(
            values,
            index=pd.Index(index, dtype="string", name="finess_et"),
            dtype="string",
            name="grappe",
        )
