"""The solver's output, apart from the solver: reading a stored proposal (the bundled
sample's, ``matching.scenarios.precomputed``) must not load OR-Tools and the search code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Proposal:
    """What the solver proposes.

    Attributes
    ----------
    grappes
        The grappes (``matching.core.model.Grappe``), sorted by field, région and id.
    unplaced
        One row per input ESMS in no grappe: ``finess_et``, ``finess_ej``, ``champ``,
        ``code`` (stable reason code), ``reason`` (French), ``near_miss`` (French),
        ``near_miss_km``.
    stats
        Counts, runtime, bounds (see ``README.md``).
    """

    grappes: list[Any]
    unplaced: pd.DataFrame
    stats: dict[str, Any]
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
