"""Numbers: FINESS (establishments and legal entities), SIREN, SIRET and phone numbers.

Check keys come from ``grappes.core.finess`` (the one home of the Luhn sum); phones are in
the ARCEP ranges reserved for fiction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.finess import luhn_keys
from grappes.synthetic.arrays import Columns
from grappes.synthetic.places import finess_place

#: ARCEP numbers reserved for fiction, by telephone zone (01 Île-de-France ... 05 south-west).
_FICTION_PHONES: dict[str, str] = {
    "1": "019900",
    "2": "026191",
    "3": "035301",
    "4": "046571",
    "5": "053649",
}
_PHONE_ZONE: dict[str, str] = {
    "11": "1", "24": "2", "28": "2", "52": "2", "53": "2", "27": "3", "32": "3", "44": "3",
    "84": "4", "93": "4", "94": "4", "75": "5", "76": "5",
}  # fmt: skip


def _finess_numbers(prefixes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique FINESS numbers (prefix + sequence + Luhn key) for each row's prefix."""
    out = np.empty(len(prefixes), dtype=object)
    prefix_series = pd.Series(prefixes)
    for prefix, idx in sorted(prefix_series.groupby(prefix_series).indices.items()):
        width = 9 - len(prefix) - 1
        space = 10**width
        span = min(space, max(200_000 if width == 6 else space, 4 * len(idx)))
        if len(idx) > span:
            msg = f"trop d'établissements pour le préfixe FINESS {prefix} ({len(idx)})"
            raise ValueError(msg)
        seq = np.sort(rng.choice(span, size=len(idx), replace=False))
        rng.shuffle(seq)
        bodies = np.char.add(prefix, np.char.zfill(seq.astype(str), width)).astype(object)
        out[idx] = np.char.add(bodies.astype(str), luhn_keys(bodies).astype(str)).astype(object)
    return out


def _sirens(n: int, rng: np.random.Generator) -> np.ndarray:
    """Random Luhn-valid SIREN numbers (9 digits), unique."""
    seq = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    bodies = seq.astype(str).astype(object)
    return np.char.add(bodies.astype(str), luhn_keys(bodies).astype(str)).astype(object)


def sirets(sirens: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """SIRET = SIREN + 4-digit establishment number + Luhn key over the 14 digits."""
    nic = rng.integers(1, 9999, size=len(sirens))
    bodies = np.char.add(sirens.astype(str), np.char.zfill(nic.astype(str), 4)).astype(object)
    return np.char.add(bodies.astype(str), luhn_keys(bodies).astype(str)).astype(object)


def assign_numbers(e: Columns, g: Columns, rng: np.random.Generator) -> None:
    """FINESS numbers for establishments and legal entities (one space, unique, Luhn keys)."""
    _, et_prefix, _ = finess_place(e["departement_insee"])
    _, ej_prefix, _ = finess_place(g["departement_insee"])
    numbers = _finess_numbers(np.concatenate([et_prefix, ej_prefix]), rng)
    n = len(e["cat"])
    e["nofinesset"] = numbers[:n]
    g["nofiness"] = numbers[n:]
    e["nofinessej"] = g["nofiness"][e["og"]]
    g["siren"] = _sirens(len(g["kind"]), rng)


def phones(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Phone numbers in the ARCEP ranges reserved for fiction (overseas: zone 05)."""
    prefix = np.array(
        [_FICTION_PHONES[_PHONE_ZONE.get(r, "5")] for r in region], dtype=object
    ).astype(str)
    suffix = np.char.zfill(rng.integers(0, 10_000, size=len(region)).astype(str), 4)
    return np.char.add(prefix, suffix).astype(object)
