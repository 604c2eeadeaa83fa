"""The rejects table, ``rejets.csv``: one row per input row (or field) the readers refused.

Why here: ``grappes verifier --sortie``, ``grappes proposer --sortie`` and the input fuzzer
(``bench/fuzz_inputs.py``) write the same file, so it has one builder, with the other files
the tool writes. Columns (``docs/formats-sorties.md``): ``fichier`` (« principal » for the main
file), ``ligne``, ``chemin_json`` (FINESS+ files only: where in the JSON), ``champ``,
``motif``, ``valeur``.
"""

from __future__ import annotations

import pandas as pd

from grappes.core.model import LoadResult

#: the readers' field -> the file's French header
REJECT_HEADERS: dict[str, str] = {
    "source": "fichier",
    "line": "ligne",
    "path": "chemin_json",
    "field": "champ",
    "reason": "motif",
    "value": "valeur",
}


def rejets_frame(result: LoadResult) -> pd.DataFrame:
    """The rejected rows of ``result`` with French headers (``REJECT_HEADERS``)."""
    # JSON path column only for a FINESS+ file (its rejects say where in the JSON)
    has_path = any(r.path for r in result.rejets)
    columns = ["source", "line", *(["path"] if has_path else []), "field", "reason", "value"]
    rejets = pd.DataFrame([r.as_dict() for r in result.rejets], columns=columns)
    rejets = rejets.rename(columns=REJECT_HEADERS)
    rejets["fichier"] = rejets["fichier"].replace("", "principal")
    return rejets
