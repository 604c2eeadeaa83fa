"""The proposal a person asks for: one typed request from the app's sidebar (and a loaded
scenario file) to the proposal, the precomputed lookup and the keys of the page's caches.

Why one type: the request used to travel as a ``choice`` dict, a ``params`` dict and a
six-element tuple, joined into two hand-built string keys; a field added to one of them was
silently missing from another. :meth:`View.key` is now the only way a view becomes a key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class View:
    """One proposal: rule set (by name), scope, field (None: all) and solver settings."""

    rules: str
    region: str | None
    departements: tuple[str, ...]
    champ: str | None
    seed: int
    time_limit: float

    def __post_init__(self) -> None:
        # a list from a widget, a numpy integer from a file: one canonical form, one key
        object.__setattr__(self, "departements", tuple(str(d) for d in self.departements))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "time_limit", float(self.time_limit))

    def key(self) -> str:
        """The text that names this view in the page's caches and its scenario's key."""
        return (f"{self.rules}|{self.region}|{self.departements}|{self.champ}|{self.seed}"
                f"|{self.time_limit}")

    def with_rules(self, rules: str) -> View:
        """The same scope and settings under another rule set (« Comparer les appels »)."""
        return replace(self, rules=rules)
