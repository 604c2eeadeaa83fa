"""Shared vocabulary: the normalised establishments table, rejects, grouping rules, grappes.

Every reader returns the same table (``ETAB_COLUMNS``) so that the solver, the costing
and the app never care whether the data came from a FINESS etalab extract, a user's CSV
template or a future JSON flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Fields (champs) of the programme; ``hors_champ`` rows are kept but never grouped.
CHAMPS: tuple[str, ...] = ("PA", "PH", "DOM", "PDS", "PDE", "AHI", "PJM")
HORS_CHAMP = "hors_champ"

#: DUI status of an ESMS as declared by users (``inconnu`` when not given).
DUI_STATUTS: tuple[str, ...] = ("aucun", "non_conforme", "a_mettre_a_niveau", "conforme")
DUI_INCONNU = "inconnu"

#: Legal-status aggregates (from the FINESS statut juridique code of the OG).
STATUTS_AGREGES: tuple[str, ...] = (
    "public",
    "prive_non_lucratif",
    "prive_commercial",
    "etranger",
    "inconnu",
)

#: OG typology from the programme (002 "Comment se regrouper"): petit < 15, moyen 15-49, gros >= 50.
OG_TYPOLOGIES: tuple[str, ...] = ("petit", "moyen", "gros")

#: Where a coordinate came from.
COORD_SOURCES: tuple[str, ...] = ("fichier", "centroide_commune", "aucune")

#: The normalised establishments table, one row per establishment (FINESS ET), in this order.
#: name -> (pandas dtype, meaning)
ETAB_COLUMNS: dict[str, tuple[str, str]] = {
    "finess_et": ("string", "FINESS number of the establishment (9 characters)"),
    "finess_ej": ("string", "FINESS number of the managing body (OG)"),
    "raison_sociale": ("string", "establishment name"),
    "raison_sociale_ej": ("string", "OG name ('' when unknown)"),
    "categorie": ("string", "FINESS category code, 3 digits"),
    "categorie_libelle": ("string", "category label"),
    "champ": ("string", "PA, PH, DOM, PDS, PDE, AHI, PJM or hors_champ"),
    "medicalise": ("boolean", "financed mainly by Assurance maladie"),
    "sanitaire": ("boolean", "health establishment (hospital, clinic...)"),
    "statut_juridique": ("string", "FINESS legal-status code of the OG, 2 digits, '' if unknown"),
    "statut_agrege": ("string", "public, prive_non_lucratif, prive_commercial, etranger, inconnu"),
    "commune": ("string", "INSEE commune code (COG), 5 characters"),
    "commune_nom": ("string", "commune name"),
    "departement": ("string", "INSEE département code: 01..95, 2A, 2B, 971..976"),
    "region": ("string", "INSEE région code, e.g. 24 for Centre-Val de Loire"),
    "derogatoire": ("boolean", "Corsica or overseas: threshold 8 instead of 15"),
    "lon": ("float64", "longitude WGS84"),
    "lat": ("float64", "latitude WGS84"),
    "coord_source": ("string", "fichier, centroide_commune or aucune"),
    "capacite": ("float64", "capacity (places), NaN if unknown"),
    "dui_editeur": ("string", "current DUI vendor name, '' if none/unknown"),
    "dui_statut": ("string", "aucun, non_conforme, a_mettre_a_niveau, conforme, inconnu"),
    "editeur_segur": ("boolean", "vendor referenced Ségur (NA if unknown)"),
    "deja_finance": ("boolean", "already funded by ESMS numérique or by SONS for another software"),
    "og_nb_esms": ("int64", "number of ESMS (all fields, health excluded) run by the OG"),
    "og_typologie": ("string", "petit, moyen or gros"),
    "og_sanitaire": ("boolean", "the OG also runs a health establishment"),
    "autonome": ("boolean", "the OG runs exactly one ESMS and no health establishment"),
    "ligne": ("int64", "line number in the input file (1-based)"),
}


def empty_etablissements() -> pd.DataFrame:
    """An empty normalised table with the right columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, (d, _) in ETAB_COLUMNS.items()})


@dataclass(frozen=True)
class Rejet:
    """One input row that was not loaded, and why (in French, for the user)."""

    line: int
    field: str
    reason: str
    value: str = ""
    #: which input file the line belongs to ('' = the main file; 'ej', 'dui' or a file name)
    source: str = ""
    #: where in a JSON file (FINESS+ flow), e.g. ``pmej[812].ege[3]``; '' for CSV files
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "value": self.value,
            "source": self.source,
            "path": self.path,
        }


@dataclass
class LoadResult:
    """What every reader returns: the loaded table, the rejected rows, the warnings."""

    etablissements: pd.DataFrame
    rejets: list[Rejet] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = ""
    encoding: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    #: known partnerships between OGs given by the file itself (FINESS+ groups gco/gcc):
    #: ``finess_ej_a``, ``finess_ej_b`` like a ``--liens`` file; None when the file has none
    liens: pd.DataFrame | None = None


@dataclass(frozen=True)
class GroupingRules:
    """The hard rules and computable points the solver needs from a rule set.

    ``grappes.programme.rules.RuleSet.grouping`` builds one from a rule file; the defaults are
    those of the amorçage temps 2 call (000) so tests can build instances without files.
    """

    min_esms: int = 15
    min_esms_derogatoire: int = 8
    #: the solver's NOMINAL size: it proposes no grappe of several OGs above it. The documents
    #: cap the *funded* ESMS (000: « dans la limite de 49 ESMS par projet », 002: « Un
    #: financement limité à 30 structures par projet »), not who may group, so
    #: ``grappes.programme.validate`` only reports it when asked (``nominal=True``). None = no
    #: size.
    max_esms: int | None = 49
    #: the largest grappe of several OGs the solver builds when there is no nominal size
    #: (``max_esms`` None): a working size from the rule file (2022:
    #: ``regroupement.taille_travail_solveur``, the « < 50 ESMS » tier of 004)
    solver_max_esms: int = 49
    #: applies to grappes made only of small OGs; an OG that reaches the grappe's minimum
    #: alone (15, or 8 in Corsica / overseas, 003 Q6 and Q21) may stand alone
    min_og: int = 2
    #: an OG is "petit" when it runs at most this many ESMS (14 for "< 15", 15 for "<= 15")
    petit_og_max: int = 14
    #: the same in Corsica / overseas when the rule set says so (2022: « 8 pour les Outre-Mer
    #: et la Corse »); None = the mainland threshold everywhere
    petit_og_max_derogatoire: int | None = None
    max_other_field_share: float = 0.2
    #: 2022 (004 « Typologies de projet »): fields grouped in project types (PA/PH/DOM,
    #: PDS/PDE, AHI/PJM). When set, fields mix freely within one type and the share rule
    #: ``max_other_field_share`` applies to the ESMS of *another type*; empty: per field
    field_families: tuple[tuple[str, ...], ...] = ()
    exclude_deja_finance: bool = True
    #: amorçage t2 (000): an already-funded ESMS of a small OG stays in the project (it
    #: counts toward the minimum and gets the small-OG lines), see ``grappes.programme.validate``
    deja_finance_small_og_counts: bool = False
    #: 2022 (004): an upgrade with a vendor not referenced Ségur is « Non éligible »: not
    #: funded, and not counted toward the minimum nor the size tier
    exclude_upgrade_non_segur: bool = False
    #: fields whose ESMS may be in a grappe under the call (within the share rule)
    eligible_champs: tuple[str, ...] = ("PA", "PH", "DOM", "PDS", "PDE", "AHI", "PJM")
    #: fields a grappe may be built around (its dominant field); None = any eligible field.
    #: Amorçage t1: PA or PH, the others only as « quelques-uns » (003 Q1, Q5)
    dominant_champs: tuple[str, ...] | None = None
    #: amorçage t1: the grappe must be mostly ESMS financed by Assurance maladie (003 Q1-2)
    medicalise_majority: bool = False
    points_isole: int = 3
    points_multi_og: int = 2
    points_multi_departement: int = 2

    @property
    def solver_cap(self) -> int:
        """ESMS the solver puts at most in a grappe of several OGs: the nominal size, else the
        rule set's working size."""
        return self.max_esms if self.max_esms is not None else self.solver_max_esms

    @property
    def grappe_champs(self) -> tuple[str, ...]:
        """The fields a grappe may be built around (its dominant field)."""
        if self.dominant_champs is None:
            return self.eligible_champs
        return tuple(c for c in self.dominant_champs if c in self.eligible_champs)

    def family_of(self, champ: str) -> str:
        """The project type of a field ('PA/PH/DOM'), or the field itself without types."""
        for family in self.field_families:
            if champ in family:
                return "/".join(family)
        return champ

    def alone_min(self, derogatoire: bool) -> int:
        """Size from which an OG may stand alone: the grappe's minimum (15, or 8 in Corsica /
        overseas). 003 Q6: « Nous ne finançons pas de DUI pour un OG qui a moins de 15
        structures en métropole et 8 structures en territoires ultramarins »."""
        return self.min_esms_derogatoire if derogatoire else self.min_esms


@dataclass
class Grappe:
    """One proposed grouping: OGs (the unit) and their ESMS of the field at stake."""

    id: str
    champ: str
    og: list[str]
    esms: list[str]
    departements: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    points: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    porteur: str | None = None
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def n_esms(self) -> int:
        return len(self.esms)
