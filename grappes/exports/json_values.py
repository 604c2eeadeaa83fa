"""Values for JSON outputs: what ``json.dumps`` cannot write by itself, made plain.

Why here: every ``--json`` output of the CLI and the input fuzzer (``bench/fuzz_inputs.py``)
serialise summaries holding numpy scalars, sets and paths; one ``default`` keeps them alike.
"""

from __future__ import annotations

from typing import Any


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)``: numpy scalars and arrays, paths; anything else as text."""
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)
