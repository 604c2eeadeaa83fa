"""Summarise a loaded file for ``grappes verifier``: counts, rejects, warnings, usability.

``summarise`` returns plain Python types only (the ``--json`` output and the rich tables
of the command line both read it), so it can be dumped with ``json.dumps`` as is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from grappes.core.model import CHAMPS, COORD_SOURCES, OG_TYPOLOGIES, STATUTS_AGREGES, LoadResult


def _counts(values: pd.Series, order: tuple[str, ...] | None = None) -> dict[str, int]:
    counts = values.astype("string").fillna("").value_counts()
    if order is not None:
        return {key: int(counts.get(key, 0)) for key in order}
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}


def is_usable(result: LoadResult) -> bool:
    """At least one ESMS of a programme field could be loaded (and therefore located)."""
    table = result.etablissements
    return bool(table["champ"].isin(CHAMPS).any()) if len(table) else False


def summarise(result: LoadResult) -> dict[str, Any]:
    """The ``--json`` object of ``grappes verifier``.

    Keys: ``usable``, ``kind``, ``encoding``, ``lignes_chargees``, ``esms``, ``og``,
    ``autonomes``, ``sanitaires``, ``hors_champ``, ``by_field``, ``by_departement``,
    ``by_categorie``, ``by_og_typologie``, ``by_statut``, ``coord_source``, ``dui_statut``,
    ``rejected`` (list of ``{line, field, reason, value, source}``), ``warnings``, ``meta``.
    Counts of ESMS are over rows of a programme field; OG counts over OGs running at least
    one of them (``by_og_typologie`` and ``by_statut`` give both).
    """
    table = result.etablissements
    esms = table[table["champ"].isin(CHAMPS)]
    og = esms.drop_duplicates("finess_ej")
    by_cat: dict[str, dict[str, Any]] = {}
    for (code, label, champ), n in (
        table.groupby(["categorie", "categorie_libelle", "champ"], dropna=False).size().items()
    ):
        by_cat[str(code)] = {"libelle": str(label), "champ": str(champ), "n": int(n)}
    by_typo = {
        t: {
            "og": int((og["og_typologie"] == t).sum()),
            "esms": int((esms["og_typologie"] == t).sum()),
        }
        for t in OG_TYPOLOGIES
    }
    by_statut = {
        s: {
            "og": int((og["statut_agrege"] == s).sum()),
            "esms": int((esms["statut_agrege"] == s).sum()),
        }
        for s in STATUTS_AGREGES
    }
    coord = _counts(table["coord_source"], COORD_SOURCES)
    coord["aucune"] = sum(
        1 for r in result.rejets if r.source == "" and "impossible à localiser" in r.reason
    )
    meta = {k: v for k, v in result.meta.items() if isinstance(v, str | int | float | bool)}
    return {
        "usable": is_usable(result),
        "kind": result.kind,
        "encoding": result.encoding,
        "lignes_chargees": len(table),
        "esms": len(esms),
        "og": len(og),
        "autonomes": int(esms["autonome"].fillna(False).sum()),
        "sanitaires": int(table["sanitaire"].fillna(False).sum()),
        "hors_champ": int((~table["champ"].isin(CHAMPS)).sum()),
        "by_field": _counts(table["champ"], (*CHAMPS, "hors_champ")),
        "by_departement": _counts(esms["departement"]),
        "by_categorie": dict(sorted(by_cat.items(), key=lambda kv: -kv[1]["n"])),
        "by_og_typologie": by_typo,
        "by_statut": by_statut,
        "coord_source": coord,
        "dui_statut": _counts(esms["dui_statut"]),
        "rejected": [r.as_dict() for r in result.rejets],
        "warnings": list(result.warnings),
        "meta": meta,
    }
