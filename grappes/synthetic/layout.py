"""Layout of the etalab files the generator writes (finess.md §2): items per line, dates, names.

Why a module of its own: the item lists are the contract with the readers
(``grappes.ingest.etalab``), and the tests check the written lines against them.
"""

from __future__ import annotations

#: The 32 items of a ``structureet`` line, in order (item 1 is the section name).
STRUCTUREET_FIELDS: tuple[str, ...] = (
    "section", "nofinesset", "nofinessej", "rs", "rslongue", "complrs", "compldistrib",
    "numvoie", "typvoie", "voie", "compvoie", "lieuditbp", "commune", "departement",
    "libdepartement", "ligneacheminement", "telephone", "telecopie", "categetab",
    "libcategetab", "categagretab", "libcategagretab", "siret", "codeape", "codemft",
    "libmft", "codesph", "libsph", "dateouv", "dateautor", "datemaj", "numuai",
)  # fmt: skip
#: The 6 items of a ``geolocalisation`` line.
GEOLOCALISATION_FIELDS: tuple[str, ...] = (
    "section", "nofinesset", "coordxet", "coordyet", "sourcecoordet", "datemaj",
)  # fmt: skip
#: The 23 items of a ``structureej`` line (statutjuridique is item 17).
STRUCTUREEJ_FIELDS: tuple[str, ...] = (
    "section", "nofiness", "rs", "rslongue", "complrs", "numvoie", "typvoie", "voie",
    "compvoie", "compldistrib", "lieuditbp", "commune", "ligneacheminement", "departement",
    "libdepartement", "telephone", "statutjuridique", "libstatutjuridique", "categetab",
    "libcategetab", "siren", "codeape", "datecrea",
)  # fmt: skip
#: Header of the DUI side file.
DUI_FIELDS: tuple[str, ...] = (
    "finess_et", "dui_editeur", "dui_statut", "editeur_segur", "deja_finance",
)  # fmt: skip

EXTRACTION_DATE = "2026-05-12"
ETALAB_META_NUMBER = "111"
GEOLOC_DATE = "2026-05-04"


def etalab_names(extraction_date: str = EXTRACTION_DATE) -> tuple[str, str, str]:
    """File names used for (establishments, legal entities, DUI side file)."""
    stamp = extraction_date.replace("-", "")
    return (
        f"etalab-cs1100507-stock-{stamp}-0000.csv",
        f"etalab-cs1100501-stock-{stamp}-0000.csv",
        "dui.csv",
    )
