"""Seeded generator of realistic but SYNTHETIC FINESS extracts (etalab format) and DUI files.

Why: the tool must run, be tested and be benchmarked without the real register, and the
bundled sample region must show every situation the programme meets (autonomous public
EHPAD, small associations, large associations across départements, EHPAD run by a hospital,
commercial groups, DUI vendors). Every name says ``FICTIF`` / ``FICTIVE``; FINESS, SIRET and
phone numbers are random (phones in the ARCEP ranges reserved for fiction), so nothing here
describes a real establishment even when a number happens to exist.

What it writes follows ``finess.md`` §1-§4: a metadata first line ``finess;etalab;111;<date>``,
``structureet`` lines (32 items), then ``geolocalisation`` lines (6 items, projected metres in
each territory's legal system named in ``sourcecoordet``); the legal-entities file
(``structureej``, 23 items); a DUI side file (``;``, UTF-8 BOM).

Calibration: counts per category = a national rate per 100 000 inhabitants (table
``CATEGORIES``) times the population of each région (bundled geography, ``geo.territories``),
so Centre-Val de Loire gets about 1 300 PA/PH ESMS. Establishments are placed in communes drawn
with weights ``population ** alpha`` (alpha < 1 spreads EHPAD into small rural communes, alpha
> 1 keeps IME, ESAT, MAS and hospitals in towns), then jittered a few hundred metres around
the commune centroid, inside the département. See ``README.md`` for the sources and
approximations.

Everything is vectorised with numpy (no per-row pyproj call): 100 000 establishments are
generated and written in a few seconds. Same seed, same bytes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from pyproj import Transformer

from matching.core.model import ETAB_COLUMNS
from matching.core.nomenclature import statut_agrege
from matching.exports.french_excel import write_csv

# --------------------------------------------------------------------------------------------
# File layout (finess.md §2)
# --------------------------------------------------------------------------------------------

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

# --------------------------------------------------------------------------------------------
# Calibration: categories (labels and aggregates as in data/nomenclatures/categories.csv)
# --------------------------------------------------------------------------------------------


class Categorie(NamedTuple):
    """One FINESS category with its calibration.

    ``rate`` is the number of establishments per 100 000 inhabitants; ``alpha`` and
    ``min_pop`` shape where they go (weight ``population ** alpha`` among communes of at least
    ``min_pop`` inhabitants); ``profile`` names the mix of managing bodies (``PROFILES``);
    ``mft`` the tariff-setting modes drawn for it (``MFT``); ``short`` / ``long`` the words of
    the synthetic name; ``fem`` whether ``FICTIVE`` agrees with it; ``style`` ``residence``
    (a place name) or ``commune`` (``... DE <COMMUNE>``).
    """

    code: str
    libelle: str
    agregat: str
    champ: str
    medicalise: bool
    rate: float
    alpha: float
    min_pop: int
    profile: str
    mft: tuple[str, ...]
    ape: str
    short: str
    long: str
    fem: bool = False
    style: str = "residence"


# fmt: off
_C = Categorie
#: ESMS and health categories generated by default. Rates are per 100 000 inhabitants.
CATEGORIES: tuple[Categorie, ...] = (
    # --- PA: personnes âgées
    _C("500", "Etablissement d'hébergement pour personnes âgées dépendantes", "4401", "PA", True,
       12.0, 0.55, 300, "ehpad", ("40", "41", "44", "45"), "8710A", "EHPAD", "EHPAD"),
    _C("501", "EHPA percevant des crédits d'assurance maladie", "4401", "PA", True, 0.25, 0.7, 500,
       "ehpa", ("48",), "8710A", "EHPA", "ETABLISSEMENT POUR PERSONNES AGEES"),
    _C("502", "EHPA ne percevant pas des crédits d'assurance maladie", "4401", "PA", False, 0.8,
       0.7, 500, "ehpa", ("08",), "8730A", "EHPA", "ETABLISSEMENT POUR PERSONNES AGEES"),
    _C("202", "Résidences autonomie", "4401", "PA", False, 3.9, 0.85, 1500, "ra", ("08",), "8730A",
       "RESIDENCE AUTONOMIE", "RESIDENCE AUTONOMIE", True),
    _C("207", "Centre de Jour pour Personnes Agées", "4402", "PA", True, 1.6, 0.9, 2000,
       "accueil_jour", ("21",), "8810B", "ACCUEIL DE JOUR", "ACCUEIL DE JOUR PERSONNES AGEES"),
    _C("381", "Etablissement Expérimental pour Personnes Agées", "4404", "PA", False, 0.25, 1.0,
       2000, "experimental", ("08",), "8730A", "ETAB EXPERIMENTAL PA",
       "ETABLISSEMENT EXPERIMENTAL PERSONNES AGEES"),
    # --- PH: enfants
    _C("183", "Institut Médico-Educatif (I.M.E.)", "4101", "PH", True, 3.0, 1.0, 2000, "ph_enfant",
       ("34", "58"), "8710B", "IME", "INSTITUT MEDICO-EDUCATIF"),
    _C("188", "Etablissement pour Enfants ou Adolescents Polyhandicapés", "4101", "PH", True, 0.5,
       1.0, 3000, "ph_enfant", ("34", "58"), "8710B", "EEAP",
       "ETABLISSEMENT ENFANTS POLYHANDICAPES"),
    _C("186", "Institut Thérapeutique Éducatif et Pédagogique (I.T.E.P.)", "4102", "PH", True, 1.0,
       1.0, 2000, "ph_enfant", ("34", "58"), "8710B", "ITEP",
       "INSTITUT THERAPEUTIQUE EDUCATIF ET PEDAGOGIQUE"),
    _C("192", "Institut d'éducation motrice", "4103", "PH", True, 0.25, 1.2, 5000, "ph_enfant",
       ("34",), "8710B", "IEM", "INSTITUT D'EDUCATION MOTRICE"),
    _C("194", "Institut pour Déficients Visuels", "4104", "PH", True, 0.1, 1.4, 10000, "ph_enfant",
       ("34",), "8710B", "INSTITUT DEFICIENTS VISUELS", "INSTITUT POUR DEFICIENTS VISUELS"),
    _C("195", "Institut pour Déficients Auditifs", "4104", "PH", True, 0.12, 1.4, 10000,
       "ph_enfant", ("34",), "8710B", "INSTITUT DEFICIENTS AUDITIFS",
       "INSTITUT POUR DEFICIENTS AUDITIFS"),
    _C("196", "Institut d'Education Sensorielle Sourd-Aveugle", "4104", "PH", True, 0.04, 1.4,
       10000, "ph_enfant", ("34",), "8710B", "INSTITUT SENSORIEL",
       "INSTITUT D'EDUCATION SENSORIELLE"),
    _C("390", "Etablissement d'Accueil Temporaire d'Enfants Handicapés", "4105", "PH", True, 0.1,
       1.0, 3000, "ph_enfant", ("34",), "8710B", "ACCUEIL TEMPORAIRE ENFANTS",
       "ACCUEIL TEMPORAIRE ENFANTS HANDICAPES"),
    _C("396", "Foyer Hébergement Enfants et Adolescents Handicapés", "4105", "PH", False, 0.15, 1.0,
       3000, "ph_enfant", ("08",), "8720A", "FOYER ENFANTS",
       "FOYER D'HEBERGEMENT ENFANTS HANDICAPES"),
    _C("238", "Centre d'Accueil Familial Spécialisé", "4105", "PH", True, 0.15, 1.0, 3000,
       "ph_enfant", ("34",), "8891B", "CAFS", "CENTRE D'ACCUEIL FAMILIAL SPECIALISE", False,
       "commune"),
    _C("182", "Service d'Éducation Spéciale et de Soins à Domicile", "4106", "PH", True, 4.3, 1.15,
       3000, "ph_enfant", ("34", "58"), "8891B", "SESSAD",
       "SERVICE D'EDUCATION SPECIALE ET DE SOINS A DOMICILE", False, "commune"),
    _C("189", "Centre Médico-Psycho-Pédagogique (C.M.P.P.)", "4106", "PH", True, 1.0, 1.3, 5000,
       "ph_ambulatoire", ("34",), "8891B", "CMPP", "CENTRE MEDICO-PSYCHO-PEDAGOGIQUE", False,
       "commune"),
    _C("190", "Centre Action Médico-Sociale Précoce (C.A.M.S.P.)", "4106", "PH", True, 0.6, 1.3,
       5000, "ph_ambulatoire", ("34",), "8891B", "CAMSP", "CENTRE D'ACTION MEDICO-SOCIALE PRECOCE",
       False, "commune"),
    _C("221", "Bureau d'Aide Psychologique Universitaire (B.A.P.U.)", "4106", "PH", True, 0.05, 2.0,
       30000, "ph_ambulatoire", ("34",), "8891B", "BAPU",
       "BUREAU D'AIDE PSYCHOLOGIQUE UNIVERSITAIRE", False, "commune"),
    _C("377", "Etablissement Expérimental pour Enfance Handicapée", "4107", "PH", False, 0.1, 1.0,
       3000, "ph_enfant", ("08",), "8891B", "ETAB EXPERIMENTAL ENFANTS",
       "ETABLISSEMENT EXPERIMENTAL ENFANCE HANDICAPEE"),
    # --- PH: adultes
    _C("255", "Maison d'Accueil Spécialisée (M.A.S.)", "4301", "PH", True, 1.6, 0.9, 1000, "ph_mas",
       ("34", "58"), "8710C", "MAS", "MAISON D'ACCUEIL SPECIALISEE", True),
    _C("437", "Foyer d'Accueil Médicalisé pour Adultes Handicapés (F.A.M.)", "4301", "PH", True,
       0.5, 0.9, 1000, "ph_adulte_med", ("09", "57"), "8710C", "FAM", "FOYER D'ACCUEIL MEDICALISE"),
    _C("448", "Etab.Acc.Médicalisé en tout ou partie personnes handicapées", "4301", "PH", True,
       1.8, 0.9, 1000, "ph_adulte_med", ("09", "57"), "8710C", "EAM",
       "ETABLISSEMENT D'ACCUEIL MEDICALISE"),
    _C("449", "Etab.Accueil Non Médicalisé pour personnes handicapées", "4301", "PH", False, 7.6,
       0.85, 800, "ph_foyer", ("08",), "8720A", "FOYER DE VIE",
       "ETABLISSEMENT D'ACCUEIL NON MEDICALISE"),
    _C("395", "Etablissement d'Accueil Temporaire pour Adultes Handicapés", "4301", "PH", False,
       0.25, 1.0, 2000, "ph_foyer", ("08",), "8720A", "ACCUEIL TEMPORAIRE ADULTES",
       "ACCUEIL TEMPORAIRE ADULTES HANDICAPES"),
    _C("370", "Etablissement Expérimental pour personnes handicapées", "4301", "PH", False, 0.3,
       1.0, 2000, "ph_foyer", ("08",), "8720A", "ETAB EXPERIMENTAL PH",
       "ETABLISSEMENT EXPERIMENTAL PERSONNES HANDICAPEES"),
    _C("246", "Etablissement et Service d'Aide par le Travail (E.S.A.T.)", "4302", "PH", False, 3.0,
       1.0, 1500, "ph_esat", ("34",), "8810C", "ESAT",
       "ETABLISSEMENT ET SERVICE D'AIDE PAR LE TRAVAIL"),
    _C("198", "Établissement et Service de Préorientation", "4303", "PH", True, 0.05, 1.5, 10000,
       "ph_pro", ("34",), "8810C", "PREORIENTATION", "SERVICE DE PREORIENTATION", False, "commune"),
    _C("249", "Établissement et Service de Réadaptation Professionnelle", "4303", "PH", True, 0.1,
       1.5, 10000, "ph_pro", ("34",), "8810C", "CRP", "CENTRE DE READAPTATION PROFESSIONNELLE"),
    _C("445", "Service d'accompagnement médico-social adultes handicapés", "4305", "PH", True, 1.2,
       1.15, 3000, "ph_service", ("09",), "8810B", "SAMSAH",
       "SERVICE D'ACCOMPAGNEMENT MEDICO-SOCIAL ADULTES HANDICAPES", False, "commune"),
    _C("446", "Service d'Accompagnement à la Vie Sociale (S.A.V.S.)", "4305", "PH", False, 3.1, 1.1,
       2000, "ph_service", ("08",), "8810B", "SAVS", "SERVICE D'ACCOMPAGNEMENT A LA VIE SOCIALE",
       False, "commune"),
    _C("464", "Unités Evaluation Réentraînement et d'Orient. Soc. et Pro.", "4609", "PH", True,
       0.04, 2.0, 30000, "ph_pro", ("34",), "8810B", "UEROS",
       "UNITE D'EVALUATION ET DE REENTRAINEMENT", True, "commune"),
    # --- DOM: domicile
    _C("354", "Service de Soins Infirmiers A Domicile (S.S.I.A.D)", "4605", "DOM", True, 3.0, 0.8,
       1000, "ssiad", ("54",), "8690D", "SSIAD", "SERVICE DE SOINS INFIRMIERS A DOMICILE", False,
       "commune"),
    _C("460", "Service autonomie aide (SAA)", "4605", "DOM", False, 6.0, 1.0, 1000, "saa",
       ("08", "01"), "8810A", "SAA", "SERVICE AUTONOMIE AIDE", False, "commune"),
    _C("209", "Service autonomie aide et soins (SAAS)", "4605", "DOM", True, 0.9, 0.9, 1000, "saas",
       ("09",), "8810A", "SAAS", "SERVICE AUTONOMIE AIDE ET SOINS", False, "commune"),
    _C("462", "Lieux de Vie et d'Accueil", "4605", "DOM", False, 0.6, 0.4, 100, "lva", ("08",),
       "8790A", "LIEU DE VIE", "LIEU DE VIE ET D'ACCUEIL", False, "quoted"),
    # --- PDS: publics en difficultés spécifiques
    _C("197", "Centre soins accompagnement prévention addictologie (CSAPA)", "4604", "PDS", True,
       0.75, 1.4, 5000, "pds", ("34",), "8690F", "CSAPA",
       "CENTRE DE SOINS ET DE PREVENTION EN ADDICTOLOGIE", False, "commune"),
    _C("178", "Ctre.Accueil- Accomp.Réduc.Risq.Usag. Drogues (C.A.A.R.U.D.)", "4604", "PDS", True,
       0.22, 1.6, 20000, "pds", ("34",), "8899B", "CAARUD",
       "CENTRE D'ACCUEIL ET DE REDUCTION DES RISQUES", False, "commune"),
    _C("180", "Lits Halte Soins Santé (L.H.S.S.)", "4604", "PDS", True, 0.3, 1.5, 10000, "pds",
       ("34",), "8790B", "LHSS", "LITS HALTE SOINS SANTE", False, "commune"),
    _C("213", "Lits d'Accueil Médicalisés (L.A.M.)", "4604", "PDS", True, 0.06, 1.6, 20000, "pds",
       ("34",), "8790B", "LAM", "LITS D'ACCUEIL MEDICALISES", False, "commune"),
    _C("165", "Appartement de Coordination Thérapeutique (A.C.T.)", "4604", "PDS", True, 0.35, 1.4,
       10000, "pds", ("34",), "8790B", "ACT", "APPARTEMENTS DE COORDINATION THERAPEUTIQUE", False,
       "commune"),
    # --- PDE: protection de l'enfance
    _C("177", "Maison d'Enfants à Caractère Social", "4501", "PDE", False, 2.0, 0.9, 1000, "mecs",
       ("08",), "8790A", "MECS", "MAISON D'ENFANTS A CARACTERE SOCIAL", True),
    _C("175", "Foyer de l'Enfance", "4501", "PDE", False, 0.15, 1.5, 10000, "departement", ("08",),
       "8790A", "FOYER DE L'ENFANCE", "FOYER DEPARTEMENTAL DE L'ENFANCE", False, "commune"),
    _C("176", "Village d'Enfants", "4501", "PDE", False, 0.05, 0.8, 1000, "pde_asso", ("08",),
       "8790A", "VILLAGE D'ENFANTS", "VILLAGE D'ENFANTS"),
    _C("172", "Pouponnière à Caractère Social", "4501", "PDE", False, 0.04, 1.5, 10000, "pde_asso",
       ("08",), "8790A", "POUPONNIERE", "POUPONNIERE A CARACTERE SOCIAL", True),
    _C("166", "Centre Parents-Enfants de moins de 3 ans", "4501", "PDE", False, 0.1, 1.3, 5000,
       "pde_asso", ("08",), "8790A", "CENTRE PARENTS ENFANTS", "CENTRE PARENTAL", False, "commune"),
    _C("236", "Service de placement familial", "4501", "PDE", False, 0.35, 1.2, 3000, "pde_dep",
       ("08",), "8899A", "PLACEMENT FAMILIAL", "SERVICE DE PLACEMENT FAMILIAL", False, "commune"),
    _C("411", "Intermédiaire de Placement Social", "4501", "PDE", False, 0.05, 1.3, 5000, "pde_dep",
       ("08",), "8899A", "PLACEMENT SOCIAL", "INTERMEDIAIRE DE PLACEMENT SOCIAL", False, "commune"),
    _C("241", "Établissement de Placement", "4502", "PDE", False, 0.1, 1.2, 5000, "pjj", ("99",),
       "8790A", "EPE", "ETABLISSEMENT DE PLACEMENT EDUCATIF", False, "commune"),
    _C("441", "Service d'Intervention Educative en Milieu Ouvert", "4502", "PDE", False, 0.3, 1.3,
       5000, "pjj", ("99",), "8899A", "STEMO", "SERVICE EDUCATIF EN MILIEU OUVERT", False,
       "commune"),
    _C("286", "Service de prévention spécialisée", "4504", "PDE", False, 0.3, 1.5, 10000,
       "pde_asso", ("08",), "8899A", "PREVENTION SPECIALISEE", "SERVICE DE PREVENTION SPECIALISEE",
       False, "commune"),
    _C("295", "Service AEMO et AED", "4504", "PDE", False, 0.5, 1.3, 5000, "pde_asso", ("08",),
       "8899A", "AEMO", "SERVICE AEMO ET AED", False, "commune"),
    _C("344", "Service délégué aux prestations familiales", "4504", "PDE", False, 0.15, 1.4, 10000,
       "pde_asso", ("08",), "8899A", "SERVICE DPF", "SERVICE DELEGUE AUX PRESTATIONS FAMILIALES",
       False, "commune"),
    _C("643", "Serv. d'éval de la minorité de l'isolement pour les pers. se déclarant mineures",
       "4504", "PDE", False, 0.08, 1.8, 20000, "pde_asso", ("08",), "8899A",
       "SERVICE EVALUATION MNA", "SERVICE D'EVALUATION DE LA MINORITE", False, "commune"),
    _C("644", "Etab. de mise à l'abri pour les pers. se déclarant mineures non accompagnées",
       "4504", "PDE", False, 0.08, 1.8, 20000, "pde_asso", ("08",), "8790A", "MISE A L'ABRI MNA",
       "ETABLISSEMENT DE MISE A L'ABRI", False, "commune"),
    _C("378", "Etablissement Expérimental Enfance Protégée", "4505", "PDE", False, 0.05, 1.2, 5000,
       "pde_asso", ("08",), "8790A", "ETAB EXPERIMENTAL ENFANCE",
       "ETABLISSEMENT EXPERIMENTAL ENFANCE PROTEGEE"),
    _C("440", "Service d'Investigation Educative", "4505", "PDE", False, 0.15, 1.5, 10000, "pjj",
       ("99",), "8899A", "SIE", "SERVICE D'INVESTIGATION EDUCATIVE", False, "commune"),
    # --- AHI: accueil, hébergement, insertion
    _C("214", "Centre Hébergement & Réinsertion Sociale (C.H.R.S.)", "4601", "AHI", False, 1.3, 1.3,
       5000, "ahi", ("30",), "8790B", "CHRS", "CENTRE D'HEBERGEMENT ET DE REINSERTION SOCIALE"),
    _C("443", "Centre Accueil Demandeurs Asile (C.A.D.A.)", "4601", "AHI", False, 1.5, 1.0, 2000,
       "ahi", ("30",), "8790B", "CADA", "CENTRE D'ACCUEIL DE DEMANDEURS D'ASILE"),
    _C("442", "Centre Provisoire Hébergement (C.P.H.)", "4601", "AHI", False, 0.2, 1.2, 5000, "ahi",
       ("30",), "8790B", "CPH", "CENTRE PROVISOIRE D'HEBERGEMENT"),
    _C("219", "Autre Centre d'Accueil", "4601", "AHI", False, 0.4, 1.3, 5000, "ahi_local", ("35",),
       "8790B", "CENTRE D'ACCUEIL", "CENTRE D'ACCUEIL", False, "commune"),
    _C("216", "Résidence Hôtelière à Vocation Sociale (R.H.V.S)", "4601", "AHI", False, 0.1, 1.5,
       10000, "ahi_local", ("35",), "5510Z", "RHVS", "RESIDENCE HOTELIERE A VOCATION SOCIALE",
       True),
    _C("256", "Foyer Travailleurs Migrants non transformé en Résidence Soc.", "4602", "AHI", False,
       0.6, 1.6, 10000, "ahi_local", ("35",), "8790B", "FTM", "FOYER DE TRAVAILLEURS MIGRANTS"),
    _C("257", "Foyers de jeunes travailleurs", "4602", "AHI", False, 0.7, 1.4, 5000, "ahi_local",
       ("35",), "8790B", "FJT", "FOYER DE JEUNES TRAVAILLEURS"),
    _C("258", "Maisons Relais - Pensions de Famille", "4607", "AHI", False, 1.2, 1.2, 3000,
       "ahi_local", ("35",), "8790B", "MAISON RELAIS", "PENSION DE FAMILLE", True),
    _C("259", "Autres résidences sociales", "4607", "AHI", False, 1.0, 1.3, 3000, "ahi_local",
       ("35",), "8790B", "RESIDENCE SOCIALE", "RESIDENCE SOCIALE", True),
    # --- PJM: protection juridique des majeurs
    _C("340", "Service mandataire judiciaire à la protection des majeurs", "4608", "PJM", False,
       0.55, 1.4, 10000, "pjm", ("30", "99"), "8899B", "SERVICE MJPM",
       "SERVICE MANDATAIRE JUDICIAIRE PROTECTION DES MAJEURS", False, "commune"),
    _C("341", "Service dédié mesures d'accompagnement social personnalisé", "4608", "PJM", False,
       0.1, 1.4, 10000, "pjm_petit", ("99",), "8899B", "SERVICE MASP",
       "SERVICE MESURES D'ACCOMPAGNEMENT SOCIAL", False, "commune"),
    _C("342", "Service d'information et de soutien aux tuteurs familiaux", "4608", "PJM", False,
       0.12, 1.4, 10000, "pjm_petit", ("99",), "8899B", "SERVICE ISTF",
       "SERVICE DE SOUTIEN AUX TUTEURS FAMILIAUX", False, "commune"),
    # --- health establishments (hors champ, sanitaire)
    _C("101", "Centre Hospitalier Régional (C.H.R.)", "1101", "hors_champ", False, 0.05, 3.0,
       100000, "chr", ("03",), "8610Z", "CHR", "CENTRE HOSPITALIER REGIONAL", False, "commune"),
    _C("355", "Centre Hospitalier (C.H.)", "1102", "hors_champ", False, 1.6, 1.3, 3000, "ch",
       ("03",), "8610Z", "CH", "CENTRE HOSPITALIER", False, "commune"),
    _C("106", "Centre hospitalier, ex Hôpital local", "1106", "hors_champ", False, 0.5, 0.8, 1000,
       "ch", ("03",), "8610Z", "CH", "CENTRE HOSPITALIER", False, "commune"),
    _C("292", "Centre Hospitalier Spécialisé lutte Maladies Mentales", "1103", "hors_champ", False,
       0.2, 1.2, 5000, "chs", ("03",), "8610Z", "CHS", "CENTRE HOSPITALIER SPECIALISE", False,
       "commune"),
    _C("362", "Etablissement de Soins Longue Durée", "1109", "hors_champ", False, 0.5, 1.0, 2000,
       "esld", ("03", "07"), "8610Z", "USLD", "UNITE DE SOINS DE LONGUE DUREE", True),
    _C("365", "Etablissement de Soins Pluridisciplinaire", "1110", "hors_champ", False, 1.2, 1.5,
       10000, "clinique", ("07", "04"), "8610Z", "CLINIQUE", "CLINIQUE", True),
    _C("128", "Etablissement de Soins Chirurgicaux", "1110", "hors_champ", False, 0.8, 1.5, 10000,
       "clinique", ("07",), "8610Z", "CLINIQUE CHIRURGICALE", "CLINIQUE CHIRURGICALE", True),
    _C("129", "Etablissement de Soins Médicaux", "1110", "hors_champ", False, 0.6, 1.3, 5000,
       "clinique", ("07", "04"), "8610Z", "CLINIQUE MEDICALE", "CLINIQUE MEDICALE", True),
    _C("109", "Etablissement de santé privé autorisé en SSR", "1107", "hors_champ", False, 2.0, 1.0,
       2000, "ssr", ("07", "04"), "8610Z", "CENTRE SSR",
       "CENTRE DE SOINS MEDICAUX ET DE READAPTATION"),
    _C("127", "Hospitalisation à Domicile", "1201", "hors_champ", False, 0.5, 1.4, 10000, "had",
       ("07", "04"), "8610Z", "HAD", "HOSPITALISATION A DOMICILE", True, "commune"),
    _C("146", "Structure d'Alternative à la dialyse en centre", "1203", "hors_champ", False, 0.6,
       1.4, 10000, "dialyse", ("07",), "8610Z", "UNITE DE DIALYSE", "UNITE D'AUTODIALYSE", True,
       "commune"),
)

#: Other health establishments, only in national files (``autres_sanitaires=True``), so that a
#: benchmark file has the register's real mix (pharmacies are a fifth of it).
AUTRES_SANITAIRES: tuple[Categorie, ...] = (
    _C("620", "Pharmacie d'Officine", "3201", "hors_champ", False, 30.0, 0.9, 500, "pharmacie",
       ("01",), "4773Z", "PHARMACIE", "PHARMACIE", True),
    _C("611", "Laboratoire de Biologie Médicale", "3101", "hors_champ", False, 6.0, 1.3, 3000,
       "labo", ("01",), "8690B", "LABORATOIRE", "LABORATOIRE DE BIOLOGIE MEDICALE", False,
       "commune"),
    _C("223", "Protection Maternelle et Infantile (P.M.I.)", "2202", "hors_champ", False, 7.0, 1.2,
       2000, "pmi", ("01",), "", "PMI", "PROTECTION MATERNELLE ET INFANTILE", True, "commune"),
    _C("124", "Centre de Santé", "2206", "hors_champ", False, 4.0, 1.2, 2000, "centre_sante",
       ("36",), "8690F", "CENTRE DE SANTE", "CENTRE DE SANTE", False, "commune"),
    _C("699", "Entité Ayant Autorisation", "1205", "hors_champ", False, 5.0, 1.2, 3000,
       "autorisation", ("99",), "", "ENTITE AUTORISEE", "ENTITE AYANT AUTORISATION", True,
       "commune"),
)
del _C
# fmt: on

#: Aggregate labels (ANS TRE_R65-AgregatCategorieEtablissement).
AGREGATS: dict[str, str] = {
    "1101": "Centres Hospitaliers Régionaux",
    "1102": "Centres Hospitaliers",
    "1103": "Centres Hospitaliers Spécialisés Lutte Maladies Mentales",
    "1106": "Hôpitaux Locaux",
    "1107": "Etablissements de santé privé autorisés en SSR",
    "1109": "Etablissements de Soins de Longue Durée",
    "1110": "Etablissements de Soins de Courte Durée",
    "1201": "Traitements et Soins à Domicile",
    "1203": "Dialyse Ambulatoire",
    "1205": "Autres Etablissements Relevant de la Loi Hospitalière",
    "2202": "Etablissements de PMI et de Planification Familiale",
    "2206": "Centres de Santé",
    "3101": "Laboratoires de Biologie Médicale",
    "3201": "Commerce de Biens à Usage Médicaux",
    "4101": "Etab.Educ.Spéciale pour Déficients Mentaux et Handicapés",
    "4102": "Etab.Educ Spéciale pour Enfants Trouble Conduite et Comport",
    "4103": "Etablissements d'Education Spéciale pour Handicapés Moteurs",
    "4104": "Etab.Education Spéciale pour Déficients Sensoriels",
    "4105": "Etablissements et Services Hébergement Enfants Handicapés",
    "4106": "Services à Domicile ou Ambulatoires pour Handicapés",
    "4107": "Etab. Expérimentaux en Faveur de l'Enfance Handicapée",
    "4301": "Etab. et Services d'Hébergement pour Adultes Handicapés",
    "4302": "Etab.et Services de Travail Protégé pour Adultes Handicapés",
    "4303": "Etab.et Services de Réinsertion Prof pour Adultes Handicapés",
    "4305": "Services de Maintien à Domicile pour Handicapés",
    "4401": "Etablissements d'Hébergement pour Personnes Âgées",
    "4402": "Services de Maintien à Domicile pour Personnes Âgées",
    "4404": "Etablissements Expérimentaux en Faveur des Personnes Âgées",
    "4501": "Etablissements de l'Aide Sociale à l'Enfance",
    "4502": "Etab.et Services du Ministère de la Justice pour Mineurs",
    "4504": "Services Concourant à la Protection de l'Enfance",
    "4505": "Etab. Expérimentaux en Faveur de l'Enfance Protégée",
    "4601": "Etablissements pour Adultes et Familles en Difficulté",
    "4602": "Autres Etablissements Sociaux d'Hébergement et d'Accueil",
    "4604": "Autres Etablissements médico-sociaux",
    "4605": "Etablissements et services multi-clientèles",
    "4607": "Logements en Structure Collective",
    "4608": "Protection des majeurs",
    "4609": "Centres prestataires de services pr personnes cérébro-lésées",
}

#: Tariff-setting modes (ANS TRE_R74, with the wording of the etalab files where seen). The
#: médicalisé ones name the ARS, the others the département (PCD), the State or nobody, so
#: that a reader deciding médicalisé from ``libmft`` agrees with ``Categorie.medicalise``.
MFT: dict[str, str] = {
    "01": "Etablissement Tarif Libre",
    "03": "ARS établissements Publics de santé dotation globale",
    "04": "ARS établissements PSPH dotation globale",
    "07": "ARS établissements de santé non financés dotation globale",
    "08": "Président du Conseil Départemental",
    "09": "ARS/PCD mixte (2 arrêtés), habilité aide sociale",
    "21": "ARS/PCD mixte, Accueil de jour PA, HAS",
    "30": "Préfet de région établissements et services sociaux",
    "34": "ARS - DG dotation globale",
    "35": "Préfet de département Subvention",
    "36": "Tarifs conventionnels assurance maladie",
    "40": "ARS/PCD, Tarif global, habilité aide sociale, recours PUI",
    "41": "ARS/PCD, Tarif global, habilité aide sociale sans PUI",
    "42": "ARS/PCD, Tarif global, non habilité aide sociale, recours PUI",
    "43": "ARS/PCD, Tarif global, non habilité aide sociale sans PUI",
    "44": "ARS/PCD, Tarif partiel, habilité aide sociale, recours PUI",
    "45": "ARS/PCD, Tarif partiel, habilité aide sociale sans PUI",
    "46": "ARS/PCD, Tarif partiel, non habilité aide sociale, recours PUI",
    "47": "ARS/PCD, Tarif partiel, non habilité aide sociale sans PUI",
    "48": "ARS/PCD, EHPA, dotation globale de soins, habilité aide sociale",
    "54": "Tarif AM - Services de Soins Infirmiers A Domicile",
    "57": "DGS ARS & hébergement PCD - sous CPOM",
    "58": "ARS dotation forfait ou prix de journée globalisé hors CPOM",
    "99": "Indéterminé",
}
#: Commercial EHPAD are not habilités à l'aide sociale.
_MFT_EHPAD_COMMERCIAL: tuple[str, ...] = ("42", "43", "46", "47")

# --------------------------------------------------------------------------------------------
# Managing bodies (OG): kinds, mixes per category, legal statuses
# --------------------------------------------------------------------------------------------

#: Kinds of managing body:
#: ``pub`` public body running only this establishment (EHPAD communal, hospital...),
#: ``cs`` commercial company running only this one, ``np`` non-profit running only this one,
#: ``ccas`` the CCAS / CIAS of the commune (all its establishments there),
#: ``hop`` attached to the nearest public hospital of the département (same EJ),
#: ``ap`` small association of 1-10 establishments of a département,
#: ``ag`` large association across the départements of a région (15-80),
#: ``fond`` foundation across the région, ``cg`` commercial group (one EJ per région),
#: ``dep`` the Département itself, ``etat`` the State (PJJ) in the département.
KINDS: tuple[str, ...] = (
    "pub", "cs", "np", "ccas", "hop", "ap", "ag", "fond", "cg", "dep", "etat",
)  # fmt: skip

PROFILES: dict[str, tuple[tuple[str, float], ...]] = {
    "ehpad": (("pub", 0.28), ("ccas", 0.04), ("hop", 0.12), ("ap", 0.17), ("ag", 0.07),
              ("fond", 0.06), ("cg", 0.18), ("cs", 0.08)),
    "ehpa": (("pub", 0.25), ("ccas", 0.2), ("ap", 0.3), ("ag", 0.05), ("cs", 0.1),
             ("cg", 0.1)),
    "ra": (("ccas", 0.5), ("pub", 0.17), ("ap", 0.22), ("ag", 0.04), ("fond", 0.03),
           ("cg", 0.02), ("cs", 0.02)),
    "accueil_jour": (("pub", 0.2), ("hop", 0.2), ("ap", 0.35), ("ag", 0.1), ("ccas", 0.1),
                     ("fond", 0.05)),
    "experimental": (("ap", 0.6), ("ag", 0.2), ("pub", 0.2)),
    "ph_enfant": (("ap", 0.42), ("ag", 0.4), ("fond", 0.1), ("pub", 0.05), ("hop", 0.03)),
    "ph_ambulatoire": (("ap", 0.4), ("ag", 0.3), ("hop", 0.2), ("fond", 0.1)),
    "ph_mas": (("ap", 0.35), ("ag", 0.35), ("fond", 0.12), ("hop", 0.12), ("pub", 0.06)),
    "ph_adulte_med": (("ap", 0.4), ("ag", 0.35), ("fond", 0.1), ("pub", 0.1), ("hop", 0.05)),
    "ph_foyer": (("ap", 0.45), ("ag", 0.38), ("fond", 0.07), ("pub", 0.08), ("ccas", 0.02)),
    "ph_esat": (("ap", 0.5), ("ag", 0.38), ("fond", 0.07), ("pub", 0.05)),
    "ph_pro": (("ap", 0.4), ("ag", 0.3), ("fond", 0.3)),
    "ph_service": (("ap", 0.45), ("ag", 0.42), ("fond", 0.08), ("pub", 0.05)),
    "ssiad": (("ap", 0.45), ("ag", 0.1), ("ccas", 0.12), ("hop", 0.15), ("pub", 0.1),
              ("fond", 0.03), ("cs", 0.05)),
    "saa": (("ap", 0.35), ("ccas", 0.2), ("cs", 0.3), ("cg", 0.1), ("ag", 0.05)),
    "saas": (("ap", 0.5), ("ccas", 0.2), ("ag", 0.15), ("cs", 0.15)),
    "lva": (("ap", 0.7), ("cs", 0.3)),
    "pds": (("ap", 0.55), ("ag", 0.3), ("hop", 0.15)),
    "mecs": (("ap", 0.5), ("ag", 0.35), ("fond", 0.15)),
    "departement": (("dep", 1.0),),
    "pde_asso": (("ap", 0.6), ("ag", 0.3), ("dep", 0.1)),
    "pde_dep": (("dep", 0.5), ("ap", 0.5)),
    "pjj": (("etat", 0.7), ("ap", 0.3)),
    "ahi": (("ap", 0.45), ("ag", 0.4), ("fond", 0.15)),
    "ahi_local": (("ap", 0.6), ("ag", 0.25), ("ccas", 0.15)),
    "pjm": (("ap", 0.6), ("ag", 0.4)),
    "pjm_petit": (("ap", 1.0),),
    "chr": (("pub", 1.0),),
    "ch": (("pub", 1.0),),
    "chs": (("pub", 1.0),),
    "esld": (("hop", 0.6), ("np", 0.2), ("cs", 0.2)),
    "clinique": (("cg", 0.5), ("cs", 0.35), ("np", 0.15)),
    "ssr": (("np", 0.45), ("cg", 0.25), ("cs", 0.15), ("hop", 0.15)),
    "had": (("np", 0.5), ("hop", 0.3), ("cs", 0.2)),
    "dialyse": (("np", 0.6), ("cs", 0.4)),
    "pharmacie": (("cs", 1.0),),
    "labo": (("cg", 0.7), ("cs", 0.3)),
    "pmi": (("dep", 1.0),),
    "centre_sante": (("np", 0.5), ("pub", 0.3), ("cs", 0.2)),
    "autorisation": (("cs", 0.7), ("np", 0.3)),
}  # fmt: skip

#: Legal statuses drawn per kind of OG (code, weight); ``pub``/``cs``/``np`` depend on the
#: category for health establishments (``_OWN_STATUTS``).
_STATUTS: dict[str, tuple[tuple[str, float], ...]] = {
    "pub": (("21", 0.55), ("22", 0.35), ("19", 0.10)),
    "cs": (("72", 0.4), ("95", 0.4), ("78", 0.1), ("73", 0.1)),
    "np": (("60", 0.6), ("61", 0.25), ("63", 0.15)),
    "ccas": (("17", 0.85), ("08", 0.15)),
    "ap": (("60", 0.88), ("61", 0.12)),
    "ag": (("61", 0.6), ("60", 0.4)),
    "fond": (("63", 1.0),),
    "cg": (("95", 0.7), ("73", 0.3)),
    "dep": (("02", 1.0),),
    "etat": (("01", 1.0),),
}
_OWN_STATUTS: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {
    ("pub", "101"): (("15", 1.0),),
    ("pub", "355"): (("13", 0.6), ("14", 0.4)),
    ("pub", "106"): (("13", 0.6), ("14", 0.4)),
    ("pub", "292"): (("11", 0.6), ("14", 0.4)),
    ("pub", "124"): (("03", 1.0),),
    ("cs", "620"): (("85", 0.45), ("71", 0.2), ("91", 0.2), ("70", 0.15)),
    ("cs", "611"): (("91", 0.7), ("85", 0.3)),
    ("cs", "365"): (("95", 0.6), ("73", 0.4)),
    ("cs", "128"): (("95", 0.6), ("73", 0.4)),
    ("cs", "129"): (("95", 0.6), ("73", 0.4)),
}
#: Associations in Alsace-Moselle are "de droit local" (62).
_DROIT_LOCAL_DEPS = frozenset({"57", "67", "68"})

STATUT_LIBELLES: dict[str, str] = {
    "01": "Etat", "02": "Département", "03": "Commune",
    "08": "Centre Intercommunal d'Action Sociale",
    "11": "Etablissement public départemental d'hospitalisation",
    "13": "Etablissement public communal d'hospitalisation",
    "14": "Etablissement public intercommunal d'hospitalisation",
    "15": "Etablissement public régional d'hospitalisation",
    "17": "Centre communal d'action sociale",
    "19": "Etablissement social et médico-social départemental",
    "21": "Etablissement social et médico-social communal",
    "22": "Etablissement social et médico-social intercommunal",
    "60": "Association Loi 1901 non reconnue d'utilité publique",
    "61": "Association Loi 1901 reconnue d'utilité publique",
    "62": "Association de droit local", "63": "Fondation",
    "70": "Personne physique", "71": "Société en nom collectif (SNC)",
    "72": "Société à responsabilité limitée (SARL)", "73": "Société anonyme (SA)",
    "78": "Entreprise unipersonnelle à responsabilité limitée (EURL)",
    "85": "Société d'exercice libéral responsabilité limitée (SELARL)",
    "91": "Société d'exercice libéral par actions simplifiée (SELAS)",
    "95": "Société par actions simplifiée (SAS)",
}  # fmt: skip
_STATUT_FORME: dict[str, str] = {
    "70": "PHARMACIEN", "71": "SNC", "72": "SARL", "73": "SA", "78": "EURL",
    "85": "SELARL", "91": "SELAS", "95": "SAS",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# DUI vendors (all fictitious)
# --------------------------------------------------------------------------------------------


class Editeur(NamedTuple):
    """A fictitious DUI vendor: name, Ségur reference, market share per family of OG."""

    nom: str
    segur: bool
    part_pa: float
    part_ph: float
    part_social: float


EDITEURS: tuple[Editeur, ...] = (
    Editeur("Éditeur Fictif Alpha", True, 0.30, 0.05, 0.10),
    Editeur("Éditeur Fictif Bêta", True, 0.22, 0.05, 0.10),
    Editeur("Éditeur Fictif Gamma", True, 0.05, 0.30, 0.15),
    Editeur("Éditeur Fictif Delta", True, 0.05, 0.22, 0.15),
    Editeur("Éditeur Fictif Epsilon", True, 0.12, 0.12, 0.20),
    Editeur("Éditeur Fictif Zêta", False, 0.14, 0.04, 0.05),
    Editeur("Éditeur Fictif Êta", False, 0.04, 0.14, 0.10),
    Editeur("Éditeur Fictif Thêta", False, 0.08, 0.08, 0.15),
)

# --------------------------------------------------------------------------------------------
# Territories: FINESS codes, coordinate systems
# --------------------------------------------------------------------------------------------

#: INSEE overseas code -> (FINESS ``departement`` field, FINESS number prefix, label).
_OUTRE_MER: dict[str, tuple[str, str, str]] = {
    "971": ("9A", "9701", "GUADELOUPE"),
    "977": ("9A", "9701", "GUADELOUPE"),
    "978": ("9A", "9701", "GUADELOUPE"),
    "972": ("9B", "9702", "MARTINIQUE"),
    "973": ("9C", "9703", "GUYANE"),
    "974": ("9D", "9704", "LA REUNION"),
    "975": ("9E", "9705", "SAINT PIERRE ET MIQUELON"),
    "976": ("9F", "9805", "MAYOTTE"),
    "986": ("9J", "9806", "WALLIS ET FUTUNA"),
}
#: Saint-Barthélemy and Saint-Martin are filed under 9A with their old commune codes.
_OLD_COMMUNE_FIELD: dict[str, str] = {"97701": "123", "97801": "127"}
_SPECIAL_CP: dict[str, str] = {"97701": "97133", "97801": "97150"}
#: Regions written by FINESS: mainland, Corsica and the overseas ones (987/988 are not).
_OVERSEAS_REGIONS: tuple[str, ...] = ("01", "02", "03", "04", "06", "975", "986")
#: Communes split into arrondissements (FINESS files the arrondissements).
_PLM_COMMUNES = frozenset({"75056", "69123", "13055"})
#: Populations missing from the bundled geography (Mayotte: INSEE census 2017).
_POPULATION_FALLBACK: dict[str, int] = {"976": 256_518}

_EPSG_BY_DEP: dict[str, int] = {
    "971": 5490, "972": 5490, "977": 5490, "978": 5490, "973": 2972, "974": 2975,
    "975": 32621, "976": 4471, "986": 32701,
}  # fmt: skip
_CRS_LABEL: dict[int, str] = {
    2154: "EPSG:2154 RGF93 / Lambert-93 (Métropole)",
    5490: "EPSG:5490 RGAF09/UTM Zone 20N (Antilles)",
    2972: "EPSG:2972 RGFG95/UTM Zone 22N (Guyane)",
    2975: "EPSG:2975 RGR92/UTM Zone 40S (La Réunion)",
    4471: "EPSG:4471 RGM04/UTM zone 38S (Mayotte)",
    32621: "WGS84/UTM zone 21N (St-Pierre-et-Miquelon)",
    32701: "WGS84/UTM zone 1S (Wallis-et-Futuna)",
}
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

# --------------------------------------------------------------------------------------------
# Words for names and addresses (plainly fictitious)
# --------------------------------------------------------------------------------------------

# fmt: off
_RESIDENCES: tuple[str, ...] = (
    "LES TILLEULS", "LES CHARMILLES", "LE CLOS FLEURI", "LES GLYCINES", "LA ROSERAIE",
    "LES MARRONNIERS", "LES ACACIAS", "LES HORTENSIAS", "LA SOURCE", "LE PARC", "LES CEDRES",
    "LES LILAS", "LES JARDINS D'AUTOMNE", "LE BOIS JOLI", "LES PEUPLIERS", "LA CHENAIE",
    "LES SAULES", "LE VERGER", "LES MIMOSAS", "LA CLAIRIERE", "LES BRUYERES", "LES IRIS",
    "LE CHATEAU VERT", "LES COQUELICOTS", "LA PRAIRIE", "LES CERISIERS", "L'ORANGERIE",
    "LES AUBEPINES", "LE MOULIN", "LES GENETS", "LA COLLINE", "LES ERABLES", "LES PINS",
    "LE PRIEURE", "LES VIOLETTES", "LA FONTAINE", "LES CHENES", "LE VAL FLEURI", "LES TOURTERELLES",
    "LES CAPUCINES", "L'ARC EN CIEL", "LES PAPILLONS", "LE PETIT BOIS", "LES COLOMBES",
    "LA BOUSSOLE", "L'ESCALE", "LE PHARE", "LES GOELANDS", "LA PASSERELLE", "L'ENVOL",
    "LES SOURCES", "LE TREMPLIN", "LES ALIZES", "LA RESIDENCE DU LAC", "LES MAGNOLIAS",
    "LES NOISETIERS", "LE CLOS DES VIGNES", "LES BLES D'OR", "LES AMANDIERS", "LA GENTIANE",
)
_THEMES: tuple[str, ...] = (
    "AVENIR ET PARTAGE", "SOLIDARITE", "ENTRAIDE", "HORIZONS", "ACCUEIL ET VIE", "VIVRE ENSEMBLE",
    "LE LIEN", "CLAIREFONTAINE", "CAP AVENIR", "TERRE D'ACCUEIL", "REGARDS", "TREMPLIN",
    "PASSERELLES", "RENCONTRES", "AUTONOMIE ET VIE", "ESPOIR", "LES QUATRE SAISONS",
    "SOLEIL LEVANT", "MAIN DANS LA MAIN", "ETAPES", "DEMAIN", "AGIR ENSEMBLE", "CONFLUENCES",
    "LA RENCONTRE", "BIEN VIEILLIR", "ALTERNATIVES", "HORIZON JEUNESSE", "INSERTION ET VIE",
    "TRAIT D'UNION", "CHEMINS",
)
_GROUPES: dict[str, tuple[str, ...]] = {
    "esms": ("ALPHA SENIORS", "BETA RESIDENCES", "GAMMA AGE", "DELTA SERVICES", "OMEGA VIE",
             "SIGMA DOMICILE", "KAPPA SANTE SENIORS"),
    "sante": ("CLINIQUES ALPHA", "SANTE BETA", "GAMMA MEDICAL", "OMEGA SOINS"),
    "labo": ("BIOLOGIE ALPHA", "ANALYSES BETA", "LABORATOIRES GAMMA"),
}
_GROUPE_WEIGHTS: dict[str, tuple[float, ...]] = {
    "esms": (0.28, 0.2, 0.15, 0.12, 0.1, 0.09, 0.06),
    "sante": (0.4, 0.3, 0.2, 0.1),
    "labo": (0.5, 0.3, 0.2),
}
_VOIES: tuple[str, ...] = (
    "DES TILLEULS", "DE LA GARE", "VICTOR HUGO", "DU GENERAL DE GAULLE", "JEAN JAURES", "PASTEUR",
    "DE LA REPUBLIQUE", "DES ECOLES", "DU MOULIN", "DE L'EGLISE", "DE LA MAIRIE", "DES LILAS",
    "DU STADE", "DE LA LIBERATION", "DES ROSIERS", "DU CHATEAU", "DE PARIS", "DES JARDINS",
    "DU 8 MAI 1945", "DE LA FONTAINE", "DES PRES", "DU PONT", "DE LA POSTE", "DES CHENES",
    "DU BOIS", "DE LA PAIX", "ANATOLE FRANCE", "DES VIGNES", "DE VERDUN", "DU MARCHE",
)
_TYPVOIES: tuple[str, ...] = ("R", "AV", "BD", "RTE", "PL", "CHE", "ALL", "IMP", "QU", "SQ")
_TYPVOIE_WEIGHTS: tuple[float, ...] = (0.45, 0.17, 0.07, 0.1, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01)
# fmt: on

# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class SyntheticData:
    """The generated rows: one frame per file, plus helper columns for tests and benchmarks.

    ``etablissements`` has the 32 ``structureet`` items (``STRUCTUREET_FIELDS``), the
    geolocation (``coordxet``, ``coordyet``, ``sourcecoordet``, ``geo_datemaj``; ``has_geo``
    False for establishments without a ``geolocalisation`` line) and helper columns:
    ``commune_insee``, ``departement_insee``, ``region``, ``champ``, ``medicalise``,
    ``sanitaire``, ``lon``, ``lat`` (WGS84 of the written point), ``geo_source`` (``ban``,
    ``centroide`` or ``aucune``), ``og_kind``, ``statutjuridique``. Rows are sorted by
    ``nofinesset``, the order of the file.
    ``entites`` has the 23 ``structureej`` items (+ ``og_kind``, ``region``), sorted by number.
    ``dui`` has ``DUI_FIELDS``.
    """

    etablissements: pd.DataFrame
    entites: pd.DataFrame
    dui: pd.DataFrame
    seed: int
    regions: tuple[str, ...]
    extraction_date: str = EXTRACTION_DATE
    meta: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SyntheticPaths:
    """Where ``write_etalab`` put the three files (unpacks as a tuple)."""

    etablissements: Path
    ej: Path
    dui: Path

    def __iter__(self) -> Iterator[Path]:
        return iter((self.etablissements, self.ej, self.dui))


def etalab_names(extraction_date: str = EXTRACTION_DATE) -> tuple[str, str, str]:
    """File names used for (establishments, legal entities, DUI side file)."""
    stamp = extraction_date.replace("-", "")
    return (
        f"etalab-cs1100507-stock-{stamp}-0000.csv",
        f"etalab-cs1100501-stock-{stamp}-0000.csv",
        "dui.csv",
    )


# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _all_communes() -> pd.DataFrame:
    """Every commune where establishments can be placed, with their labels (read once).

    Keeps current communes and Paris/Lyon/Marseille arrondissements (FINESS files those, not
    the whole city); drops communes déléguées / associées (aliases). Fills populations missing
    from the bundled geography (Mayotte) evenly over the département's communes.
    """
    from geo.territories import get_territoires

    com = get_territoires().communes
    keep = (com["parent"].fillna("") == "") & com["type"].isin(["COM", "ARM"])
    keep &= ~com.index.isin(list(_PLM_COMMUNES))
    keep &= com["lon"].notna() & com["lat"].notna()
    src = com.loc[keep]
    codes = src.index.to_numpy(dtype=object).astype(str).astype(object)
    out = pd.DataFrame(
        {
            "nom": src["nom"].to_numpy(dtype=object),
            "departement": src["departement"].to_numpy(dtype=object),
            "region": src["region"].to_numpy(dtype=object),
        },
        index=pd.Index(codes, name="code"),
        dtype=object,
    )
    pop = src["population"].to_numpy(dtype="float64", copy=True)
    for dep, total in _POPULATION_FALLBACK.items():
        mask = out["departement"].to_numpy() == dep
        if mask.any() and pop[mask].sum() == 0:
            pop[mask] = total / mask.sum()
    out["population"] = pop
    out["lon"] = src["lon"].to_numpy(dtype="float64")
    out["lat"] = src["lat"].to_numpy(dtype="float64")
    out = out[out["population"] > 0].sort_index()
    plain = [_plain(str(x)) for x in out["nom"]]
    out["cp"] = np.array([_postcode(c) for c in out.index], dtype=object)
    out["champ_commune"] = np.array(
        [_OLD_COMMUNE_FIELD.get(c, c[-3:]) for c in out.index], dtype=object
    )
    out["localite"] = np.array([_acheminement_name(str(x)) for x in out["nom"]], dtype=object)
    out["de_nom"] = np.array(
        [("D'" if x[:1] in "AEIOUYH" else "DE ") + x for x in plain], dtype=object
    )
    return out


def _communes(regions: Sequence[str] | None, include_overseas: bool) -> pd.DataFrame:
    """The placeable communes of the requested régions (all when None)."""
    com = _all_communes()
    mainland = sorted(r for r in set(com["region"]) if len(r) == 2 and r >= "11")
    known = set(mainland) | set(_OVERSEAS_REGIONS)
    if regions is None:
        wanted = list(mainland) + (list(_OVERSEAS_REGIONS) if include_overseas else [])
    else:
        wanted = [str(r).strip() for r in regions]
        unknown = [r for r in wanted if r not in known]
        if unknown:
            msg = (
                f"région inconnue : {', '.join(unknown)} (codes INSEE attendus, par exemple "
                f"24 pour Centre-Val de Loire ; connues : {', '.join(sorted(known))})"
            )
            raise ValueError(msg)
        if not include_overseas:
            wanted = [r for r in wanted if r not in _OVERSEAS_REGIONS]
    return com[com["region"].isin(wanted).to_numpy()]


def _finess_place(dep_insee: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FINESS ``departement`` field, number prefix and label of INSEE département codes."""
    from geo.territories import get_territoires

    noms = get_territoires().departements["nom"]
    uniques, inverse = np.unique(np.asarray(dep_insee, dtype=str), return_inverse=True)
    parts: list[list[str]] = [[], [], []]
    for dep in uniques:
        values = _OUTRE_MER.get(dep) or (dep, dep, _plain(str(noms.get(dep, dep))))
        for i in range(3):
            parts[i].append(values[i])
    field_, prefix, label = (np.array(p, dtype=object)[inverse] for p in parts)
    return field_, prefix, label


@lru_cache(maxsize=65536)
def _plain(text: str) -> str:
    """Upper case without accents or ligatures, as FINESS writes names and places."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    norm = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(ch for ch in norm if not unicodedata.combining(ch)).upper()


@lru_cache(maxsize=65536)
def _acheminement_name(nom: str) -> str:
    """Locality as in ``ligneacheminement``: plain upper case, ``ST``/``STE``, no hyphens."""
    text = _plain(nom)
    for ch in "-'()":
        text = text.replace(ch, " ")
    words = ["ST" if w == "SAINT" else "STE" if w == "SAINTE" else w for w in text.split()]
    return " ".join(words)


def _postcode(code: str) -> str:
    """A synthetic postcode: the INSEE code, except where that cannot look like one.

    Real postcodes are not derivable from the COG; this approximation keeps the département
    prefix right (Corsica 20xxx, Paris 750xx, Lyon 6900x, Marseille 130xx).
    """
    if code in _SPECIAL_CP:
        return _SPECIAL_CP[code]
    if code[:2] in ("2A", "2B"):
        return "20" + code[2:]
    if code.startswith("751"):
        return "750" + code[3:]
    if code.startswith("6938"):
        return "6900" + code[4:]
    if code.startswith("132"):
        return "130" + code[3:]
    return code


# --------------------------------------------------------------------------------------------
# Numbers: Luhn keys, FINESS, SIREN/SIRET
# --------------------------------------------------------------------------------------------


def luhn_key(body: str) -> str:
    """The Luhn check digit to append to ``body`` (digits; letters count as 0, see below).

    FINESS numbers end with a Luhn key over their 9 characters (finess.md §3). How the key
    is computed for Corsican numbers (``2A``/``2B``) is not documented: this generator counts
    the letter as 0, an arbitrary but fixed choice (readers check those numbers' format only).
    """
    digits = [int(c) if c.isdigit() else 0 for c in body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when ``number`` passes the Luhn check (letters count as 0, as in ``luhn_key``)."""
    return bool(number) and luhn_key(number[:-1]) == number[-1]


def _luhn_keys(bodies: np.ndarray) -> np.ndarray:
    """Vectorised ``luhn_key`` over equal-length digit strings (int matrix trick)."""
    if len(bodies) == 0:
        return np.array([], dtype=object)
    width = len(bodies[0])
    raw = np.frombuffer("".join(bodies).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    digits = np.where((raw >= 48) & (raw <= 57), raw - 48, 0).astype(np.int64)
    doubled = np.zeros(width, dtype=bool)
    doubled[width - 1 :: -2] = True  # rightmost digit of the body is doubled
    d = digits.copy()
    d[:, doubled] *= 2
    d = np.where(d > 9, d - 9, d)
    keys = (10 - d.sum(axis=1) % 10) % 10
    return keys.astype(str).astype(object)


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
        out[idx] = np.char.add(bodies.astype(str), _luhn_keys(bodies).astype(str)).astype(object)
    return out


def _sirens(n: int, rng: np.random.Generator) -> np.ndarray:
    """Random Luhn-valid SIREN numbers (9 digits), unique."""
    seq = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    bodies = seq.astype(str).astype(object)
    return np.char.add(bodies.astype(str), _luhn_keys(bodies).astype(str)).astype(object)


def _sirets(sirens: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """SIRET = SIREN + 4-digit establishment number + Luhn key over the 14 digits."""
    nic = rng.integers(1, 9999, size=len(sirens))
    bodies = np.char.add(sirens.astype(str), np.char.zfill(nic.astype(str), 4)).astype(object)
    return np.char.add(bodies.astype(str), _luhn_keys(bodies).astype(str)).astype(object)


# --------------------------------------------------------------------------------------------
# Sampling helpers
# --------------------------------------------------------------------------------------------


def _draw(options: Sequence[tuple[str, float]], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` codes drawn with the given weights."""
    codes = np.array([c for c, _ in options], dtype=object)
    weights = np.array([w for _, w in options], dtype="float64")
    return codes[rng.choice(len(codes), size=n, p=weights / weights.sum())]


def _hilbert_order(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Position of each point along a Hilbert curve: consecutive points are close in space.

    Why: cutting a sorted list into chunks then gives compact small associations without any
    pairwise distance computation.
    """
    n = 1 << bits
    span_x = max(float(np.ptp(x)), 1e-9) if len(x) else 1.0
    span_y = max(float(np.ptp(y)), 1e-9) if len(y) else 1.0
    xi = ((x - x.min()) / span_x * (n - 1)).astype(np.int64) if len(x) else x.astype(np.int64)
    yi = ((y - y.min()) / span_y * (n - 1)).astype(np.int64) if len(y) else y.astype(np.int64)
    d = np.zeros(len(x), dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = ((xi & s) > 0).astype(np.int64)
        ry = ((yi & s) > 0).astype(np.int64)
        d += s * s * ((3 * rx) ^ ry)
        flip = (ry == 0) & (rx == 1)
        xi = np.where(flip, n - 1 - xi, xi)
        yi = np.where(flip, n - 1 - yi, yi)
        swap = ry == 0
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d


def _haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    from geo.distances import haversine_km

    return haversine_km(lon1, lat1, lon2, lat2)


# --------------------------------------------------------------------------------------------
# Generation (columns are kept as numpy arrays in dicts; frames are built once at the end,
# because pandas 3 converts every object column it is given to its string dtype)
# --------------------------------------------------------------------------------------------

Columns = dict[str, np.ndarray]


def _category_table(autres_sanitaires: bool) -> pd.DataFrame:
    cats = CATEGORIES + (AUTRES_SANITAIRES if autres_sanitaires else ())
    return pd.DataFrame([c._asdict() for c in cats])


def expected_counts(
    regions: Sequence[str] | None = None,
    scale: float = 1.0,
    include_overseas: bool = True,
    autres_sanitaires: bool = False,
) -> pd.Series:
    """Expected number of establishments per category (before random rounding).

    Used to size national files: ``scale = wanted / expected_counts().sum()``.
    """
    com = _communes(regions, include_overseas)
    cats = _category_table(autres_sanitaires)
    total = com["population"].sum() / 1e5
    return pd.Series(cats["rate"].to_numpy() * total * scale, index=cats["code"].to_numpy())


def generate(
    regions: Sequence[str] | None = None,
    seed: int = 0,
    scale: float = 1.0,
    include_overseas: bool = True,
    *,
    autres_sanitaires: bool = False,
    extraction_date: str = EXTRACTION_DATE,
) -> SyntheticData:
    """Generate a synthetic FINESS register for some régions (all of France when None).

    Parameters
    ----------
    regions
        INSEE région codes (``"24"`` Centre-Val de Loire, ``"94"`` Corse, ``"04"`` La Réunion,
        ...); None = every mainland région, plus the overseas ones when ``include_overseas``.
    seed
        Seed of the numpy generators: the same seed gives the same rows.
    scale
        Multiplies every rate (0.1 = a tenth of the establishments).
    include_overseas
        Keep overseas régions (``01``..``06``, ``975``, ``986``).
    autres_sanitaires
        Add pharmacies, laboratories, PMI, health centres... (national benchmark files).
    extraction_date
        Date written in the metadata line and file names.

    Returns
    -------
    SyntheticData
    """
    if not np.isfinite(scale) or scale <= 0:
        msg = f"échelle invalide : {scale} (un nombre positif est attendu)"
        raise ValueError(msg)
    # one independent stream per step, so that changing one step leaves the others alone
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    rng_count, rng_place, rng_og, rng_num, rng_fields, rng_geo, rng_dui, rng_names = streams
    com = _communes(regions, include_overseas)
    if com.empty:
        msg = "aucune commune habitée dans les régions demandées"
        raise ValueError(msg)
    cats = _category_table(autres_sanitaires)
    e = _place(com, cats, scale, rng_count, rng_place)
    _positions(e, com, rng_geo)
    g = _managing_bodies(e, com, cats, rng_og)
    _numbers(e, g, rng_num)
    _et_fields(e, g, cats, com, rng_fields, rng_names)
    ej = _ej_fields(g, e, com, rng_fields)
    dui = _dui(e, g, rng_dui)
    et = _frame(e, (*STRUCTUREET_FIELDS, *_ET_EXTRA), _ET_NUMERIC)
    et = et.sort_values("nofinesset", kind="stable").reset_index(drop=True)
    ej = _frame(ej, (*STRUCTUREEJ_FIELDS, "og_kind", "region"), ())
    ej = ej.sort_values("nofiness", kind="stable").reset_index(drop=True)
    dui_frame = _frame(dui, DUI_FIELDS, ())
    dui_frame = dui_frame.sort_values("finess_et", kind="stable").reset_index(drop=True)
    return SyntheticData(
        etablissements=et,
        entites=ej,
        dui=dui_frame,
        seed=int(seed),
        regions=tuple(sorted(set(com["region"]))),
        extraction_date=extraction_date,
        meta={"scale": float(scale), "population": float(com["population"].sum())},
    )


#: Helper columns kept beside the file items (see ``SyntheticData``).
_ET_EXTRA: tuple[str, ...] = (
    "coordxet", "coordyet", "sourcecoordet", "geo_datemaj", "commune_insee",
    "departement_insee", "region", "champ", "geo_source", "og_kind", "statutjuridique",
)  # fmt: skip
_ET_NUMERIC: tuple[str, ...] = ("medicalise", "sanitaire", "has_geo", "lon", "lat", "epsg")


def _frame(cols: Columns, text: Sequence[str], numeric: Sequence[str]) -> pd.DataFrame:
    """One DataFrame from column arrays: text columns as object (no per-cell conversion)."""
    frame = pd.DataFrame({c: cols[c] for c in text}, dtype=object)
    for c in numeric:
        frame[c] = cols[c]
    return frame


def _place(
    com: pd.DataFrame,
    cats: pd.DataFrame,
    scale: float,
    rng_count: np.random.Generator,
    rng_place: np.random.Generator,
) -> Columns:
    """Draw how many establishments of each category each département has, and their communes.

    Counts follow the département's population (social and medico-social planning is
    départemental, so density per inhabitant is about even); inside the département the
    commune is drawn with weight ``population ** alpha`` among communes of ``min_pop`` or more.
    Expected counts are rounded at random (floor + Bernoulli of the remainder).
    """
    codes = com.index.to_numpy(dtype=object)
    pop = com["population"].to_numpy(dtype="float64")
    dep_of = com["departement"].to_numpy(dtype=object)
    region_of = com["region"].to_numpy(dtype=object)
    deps = sorted(set(dep_of))
    by_dep = {d: np.flatnonzero(dep_of == d) for d in deps}
    dep_pop = np.array([pop[by_dep[d]].sum() for d in deps]) / 1e5
    rates = cats["rate"].to_numpy(dtype="float64")
    expected = np.outer(dep_pop, rates) * scale
    counts = np.floor(expected).astype(np.int64)
    counts += (rng_count.random(expected.shape) < expected - counts).astype(np.int64)
    alphas = cats["alpha"].to_numpy(dtype="float64")
    min_pops = cats["min_pop"].to_numpy(dtype="float64")
    picks: list[np.ndarray] = []
    cat_rows: list[np.ndarray] = []
    for i, dep in enumerate(deps):
        idx = by_dep[dep]
        p = pop[idx]
        cdf_cache: dict[tuple[float, float], np.ndarray] = {}
        for j in np.flatnonzero(counts[i]):
            key = (alphas[j], min_pops[j])
            cdf = cdf_cache.get(key)
            if cdf is None:
                w = np.where(p >= min_pops[j], p ** alphas[j], 0.0)
                if w.sum() <= 0:
                    w = p ** alphas[j]
                cdf = np.cumsum(w)
                cdf /= cdf[-1]
                cdf_cache[key] = cdf
            n = int(counts[i, j])
            pick = np.searchsorted(cdf, rng_place.random(n), side="right")
            picks.append(idx[np.minimum(pick, len(idx) - 1)])
            cat_rows.append(np.full(n, j, dtype=np.int64))
    row = np.concatenate(picks) if picks else np.array([], dtype=np.int64)
    cat_idx = np.concatenate(cat_rows) if cat_rows else np.array([], dtype=np.int64)
    champ = cats["champ"].to_numpy(dtype=object)[cat_idx]
    return {
        "commune_row": row,
        "commune_insee": codes[row],
        "cat": cat_idx,
        "categetab": cats["code"].to_numpy(dtype=object)[cat_idx],
        "champ": champ,
        "medicalise": cats["medicalise"].to_numpy(dtype=bool)[cat_idx],
        "sanitaire": champ == "hors_champ",
        "departement_insee": dep_of[row],
        "region": region_of[row],
    }


def _positions(e: Columns, com: pd.DataFrame, rng: np.random.Generator) -> None:
    """Jitter each establishment 100-700 m around its commune centroid, inside the département.

    A few have only the commune centroid (``ADMIN-EXPRESS`` geocoding, score ``.``) and a few
    have no ``geolocalisation`` line at all, as in the real files.
    """
    row = e["commune_row"]
    n = len(row)
    lon0 = com["lon"].to_numpy(dtype="float64")[row]
    lat0 = com["lat"].to_numpy(dtype="float64")[row]
    u = rng.random(n)
    source = np.where(u < 0.015, "aucune", np.where(u < 0.055, "centroide", "ban"))
    r = rng.uniform(100.0, 700.0, n)
    theta = rng.uniform(0.0, 2 * np.pi, n)
    lat = lat0 + r * np.cos(theta) / 111_320.0
    lon = lon0 + r * np.sin(theta) / (111_320.0 * np.cos(np.radians(lat0)))
    use_jitter = (source == "ban") & _inside_departement(lon, lat, e["departement_insee"])
    e["lon"] = np.where(use_jitter, lon, lon0).round(6)
    e["lat"] = np.where(use_jitter, lat, lat0).round(6)
    e["geo_source"] = source.astype(object)
    e["has_geo"] = source != "aucune"
    weights = np.linspace(1.0, 6.0, 21) ** 2
    e["score"] = rng.choice(np.arange(80, 101), size=n, p=weights / weights.sum())


def _inside_departement(lon: np.ndarray, lat: np.ndarray, deps: np.ndarray) -> np.ndarray:
    """True where the point is inside its département's (simplified) boundary.

    Départements without a shape in the bundled geography are accepted as they are.
    """
    import shapely
    from shapely.geometry import shape

    from geo.territories import departement_boundaries

    inside = np.ones(len(lon), dtype=bool)
    try:
        features = departement_boundaries()["features"]
    except (FileNotFoundError, KeyError):
        return inside
    shapes = {str(f["properties"]["code"]): f["geometry"] for f in features}
    for dep in sorted(set(deps)):
        geometry = shapes.get(str(dep))
        if geometry is None:
            continue
        idx = np.flatnonzero(deps == dep)
        polygon = shape(geometry)
        shapely.prepare(polygon)
        inside[idx] = shapely.contains_xy(polygon, lon[idx], lat[idx])
    return inside


def _managing_bodies(
    e: Columns, com: pd.DataFrame, cats: pd.DataFrame, rng: np.random.Generator
) -> Columns:
    """Give every establishment a managing body (OG) according to its category's mix.

    Returns the OG columns: ``key``, ``kind``, ``founder`` (row of its first establishment,
    the hospital for attached ones), ``region``, ``commune_insee`` (seat),
    ``departement_insee``, ``statut``; sets ``og`` (OG row), ``og_kind`` and ``family`` on
    the establishments.
    """
    n = len(e["cat"])
    profile = cats["profile"].to_numpy(dtype=object)[e["cat"]]
    kind = np.empty(n, dtype=object)
    for prof in sorted(set(profile)):
        idx = np.flatnonzero(profile == prof)
        kind[idx] = _draw(PROFILES[prof], len(idx), rng)
    champ = e["champ"]
    family = np.where(np.isin(champ, ["PA", "PH"]), champ, "SOC").astype(object)
    family[e["sanitaire"]] = "SAN"
    dep, region, commune = e["departement_insee"], e["region"], e["commune_insee"]
    lon, lat = e["lon"], e["lat"]
    key = np.char.add("own:", np.char.zfill(np.arange(n).astype(str), 7)).astype(object)

    # hospital-attached establishments: the nearest public hospital of the département
    hospitals = np.flatnonzero(np.isin(e["categetab"], ["355", "106", "101"]))
    attached = np.flatnonzero(kind == "hop")
    for d in sorted(set(dep[attached])):
        members = attached[dep[attached] == d]
        cands = hospitals[dep[hospitals] == d]
        if len(cands) == 0:
            cands = hospitals[region[hospitals] == region[members[0]]]
        if len(cands) == 0:
            kind[members] = "pub"
            continue
        dist = _haversine_km(lon[members, None], lat[members, None], lon[cands], lat[cands])
        key[members] = key[cands[np.argmin(dist, axis=1)]]

    for which, where in (("ccas", commune), ("dep", dep), ("etat", dep)):
        sel = kind == which
        key[sel] = np.char.add(f"{which}:", where[sel].astype(str)).astype(object)
    _regional_bodies(key, kind, region, lon, lat, "ag", 35.0, 45.0, 80, rng)
    _regional_bodies(key, kind, region, lon, lat, "fond", 18.0, 60.0, 40, rng)
    _small_associations(key, kind, dep, family, lon, lat, rng)
    sector = np.where(e["categetab"] == "611", "labo", np.where(family == "SAN", "sante", "esms"))
    cg = np.flatnonzero(kind == "cg")
    for sec in ("esms", "sante", "labo"):
        idx = cg[sector[cg] == sec]
        if len(idx):
            weights = np.array(_GROUPE_WEIGHTS[sec])
            grp = rng.choice(len(weights), size=len(idx), p=weights / weights.sum())
            key[idx] = [f"cg:{sec}:{gi}:{r}" for gi, r in zip(grp, region[idx], strict=True)]

    codes, uniques = pd.factorize(key, sort=True)
    uniques = np.asarray(uniques, dtype=object)
    first = np.full(len(uniques), n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n))
    own = np.array([k.startswith("own:") for k in uniques])
    founder = np.where(own, [int(k[4:]) if k.startswith("own:") else 0 for k in uniques], first)
    g: Columns = {
        "key": uniques,
        "kind": kind[founder],
        "founder": founder,
        "region": region[founder],
    }
    # seat: the most populous member commune (own bodies: the founder's commune)
    member_pop = com["population"].to_numpy(dtype="float64")[e["commune_row"]]
    order = np.lexsort((np.arange(n), -member_pop, codes))
    best = order[np.searchsorted(codes[order], np.arange(len(uniques)))]
    seat = np.where(own, commune[founder], commune[best]).astype(object)
    # groups sit in the largest commune of their région, the State and the Département in
    # the largest commune of the département
    ranked = com.sort_values(["population"], ascending=False, kind="stable")
    top_region = dict(zip(ranked["region"][::-1], ranked.index[::-1], strict=True))
    top_dep = dict(zip(ranked["departement"][::-1], ranked.index[::-1], strict=True))
    is_cg = g["kind"] == "cg"
    seat[is_cg] = [top_region[r] for r in g["region"][is_cg]]
    is_admin = np.isin(g["kind"], ["dep", "etat"])
    seat[is_admin] = [top_dep[d] for d in dep[founder][is_admin]]
    g["commune_insee"] = seat
    g["departement_insee"] = com["departement"].reindex(seat).to_numpy(dtype=object)
    g["statut"] = _og_statuts(g, e["categetab"], rng)
    e["og"] = codes
    e["og_kind"] = kind
    e["family"] = family
    return g


def _small_associations(
    key: np.ndarray,
    kind: np.ndarray,
    dep: np.ndarray,
    family: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Cut each département's pool of small-association establishments into OGs of 1-10.

    The pool (one per département and family PA / PH / social / health) is sorted along a
    Hilbert curve and cut into consecutive chunks, so members of one association are close.
    """
    sizes = np.arange(1, 11)
    weights = np.array([0.28, 0.2, 0.14, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02])
    sel = np.flatnonzero(kind == "ap")
    if len(sel) == 0:
        return
    pool = np.char.add(np.char.add(dep[sel].astype(str), "|"), family[sel].astype(str))
    for name in sorted(set(pool)):
        idx = sel[pool == name]
        x = lon[idx] * np.cos(np.radians(lat[idx].mean()))
        order = idx[np.argsort(_hilbert_order(x, lat[idx]), kind="stable")]
        draw = rng.choice(sizes, size=len(order), p=weights / weights.sum())
        chunk = np.searchsorted(np.cumsum(draw), np.arange(len(order)), side="right")
        key[order] = np.char.add(f"ap:{name}:", np.char.zfill(chunk.astype(str), 5))


def _regional_bodies(
    key: np.ndarray,
    kind: np.ndarray,
    region: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    which: str,
    mean_size: float,
    reach_km: float,
    max_size: int,
    rng: np.random.Generator,
) -> None:
    """Share each région's pool among a few large bodies, each around a home establishment.

    Membership log-odds are ``log(weight) - (distance / reach_km) ** 2`` from each body's
    home (random weights make sizes uneven), so a body is mostly in its home département and
    crosses into neighbouring ones. Members beyond ``max_size`` (the farthest) go to small
    associations instead.
    """
    sel = np.flatnonzero(kind == which)
    for reg in sorted(set(region[sel])):
        idx = sel[region[sel] == reg]
        k = max(1, round(len(idx) / mean_size))
        homes = idx[rng.choice(len(idx), size=min(k, len(idx)), replace=False)]
        weight = rng.lognormal(0.0, 0.6, size=len(homes))
        dist = _haversine_km(lon[idx, None], lat[idx, None], lon[homes], lat[homes])
        logit = np.log(weight) - (dist / reach_km) ** 2
        logit -= logit.max(axis=1, keepdims=True)
        p = np.exp(logit)
        cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        choice = (cdf < rng.random(len(idx))[:, None]).sum(axis=1)
        choice = np.minimum(choice, len(homes) - 1)
        own_dist = dist[np.arange(len(idx)), choice]
        order = np.lexsort((own_dist, choice))
        sorted_choice = choice[order]
        rank = np.empty(len(idx), dtype=np.int64)
        rank[order] = np.arange(len(idx)) - np.searchsorted(sorted_choice, sorted_choice)
        key[idx] = np.char.add(f"{which}:{reg}:", np.char.zfill(choice.astype(str), 3))
        kind[idx[rank >= max_size]] = "ap"


def _og_statuts(g: Columns, categetab: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Legal status of each OG from its kind (and its founder's category for own bodies)."""
    kinds = g["kind"]
    founder_cat = categetab[g["founder"]]
    names = np.array(
        [
            f"{k}|{c}" if (k, c) in _OWN_STATUTS else f"{k}|"
            for k, c in zip(kinds, founder_cat, strict=True)
        ],
        dtype=object,
    )
    out = np.empty(len(kinds), dtype=object)
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        k, c = name.split("|")
        options = _OWN_STATUTS.get((k, c), _STATUTS.get(k, (("60", 1.0),)))
        out[idx] = _draw(options, len(idx), rng)
    local = np.isin(g["departement_insee"], list(_DROIT_LOCAL_DEPS))
    assoc = np.isin(out, ["60", "61"]) & np.isin(kinds, ["ap", "ag", "np"])
    out[local & assoc] = "62"
    return out


def _numbers(e: Columns, g: Columns, rng: np.random.Generator) -> None:
    """FINESS numbers for establishments and legal entities (one space, unique, Luhn keys)."""
    _, et_prefix, _ = _finess_place(e["departement_insee"])
    _, ej_prefix, _ = _finess_place(g["departement_insee"])
    numbers = _finess_numbers(np.concatenate([et_prefix, ej_prefix]), rng)
    n = len(e["cat"])
    e["nofinesset"] = numbers[:n]
    g["nofiness"] = numbers[n:]
    e["nofinessej"] = g["nofiness"][e["og"]]
    g["siren"] = _sirens(len(g["kind"]), rng)


def _phones(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Phone numbers in the ARCEP ranges reserved for fiction (overseas: zone 05)."""
    prefix = np.array(
        [_FICTION_PHONES[_PHONE_ZONE.get(r, "5")] for r in region], dtype=object
    ).astype(str)
    suffix = np.char.zfill(rng.integers(0, 10_000, size=len(region)).astype(str), 4)
    return np.char.add(prefix, suffix).astype(object)


def _dates(start: str, end: str, n: int, rng: np.random.Generator) -> np.ndarray:
    lo = np.datetime64(start, "D").astype(np.int64)
    hi = np.datetime64(end, "D").astype(np.int64)
    days = rng.integers(lo, hi + 1, size=n).astype("datetime64[D]")
    return np.datetime_as_string(days, unit="D").astype(object)


def _pick(words: Sequence[str], n: int, rng: np.random.Generator) -> np.ndarray:
    return np.array(words, dtype=object)[rng.integers(0, len(words), size=n)]


def _cut(values: np.ndarray, width: int) -> np.ndarray:
    return np.array([v[:width].rstrip() for v in values], dtype=object)


def _cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation of arrays and constants (object result)."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + (part if isinstance(part, str) else np.asarray(part, dtype=object))
    return np.asarray(out, dtype=object)


def _addresses(n: int, rng: np.random.Generator) -> Columns:
    """Street fields: number (sometimes empty), type, name, bis/ter, lieu-dit or PO box."""
    numvoie = rng.integers(1, 250, size=n).astype(str).astype(object)
    numvoie[rng.random(n) < 0.15] = ""
    weights = np.array(_TYPVOIE_WEIGHTS) / sum(_TYPVOIE_WEIGHTS)
    typvoie = np.array(_TYPVOIES, dtype=object)[rng.choice(len(_TYPVOIES), size=n, p=weights)]
    voie = _pick(_VOIES, n, rng)
    compvoie = np.where(rng.random(n) < 0.03, _pick(("B", "T"), n, rng), "").astype(object)
    compvoie[numvoie == ""] = ""
    u = rng.random(n)
    bp = _cat("BP ", rng.integers(1, 400, size=n).astype(str))
    lieudit = _cat("LIEU DIT ", _pick(_RESIDENCES, n, rng))
    lieuditbp = np.where(u < 0.06, bp, np.where(u < 0.09, lieudit, "")).astype(object)
    return {
        "numvoie": numvoie,
        "typvoie": typvoie,
        "voie": voie,
        "compvoie": compvoie,
        "lieuditbp": lieuditbp,
    }


def _et_fields(
    e: Columns,
    g: Columns,
    cats: pd.DataFrame,
    com: pd.DataFrame,
    rng: np.random.Generator,
    rng_names: np.random.Generator,
) -> None:
    """Fill the 32 ``structureet`` items and the geolocation items."""
    n = len(e["cat"])
    cat_idx = e["cat"]
    code = e["categetab"]
    sanitaire = e["sanitaire"]
    dep_field, _, dep_label = _finess_place(e["departement_insee"])
    row = e["commune_row"]
    place_col = {
        c: com[c].to_numpy(dtype=object)[row] for c in ("cp", "champ_commune", "localite", "de_nom")
    }
    og_statut = g["statut"][e["og"]]
    og_kind = g["kind"][e["og"]]
    agrege_of = {st: statut_agrege(st) for st in set(g["statut"])}
    agrege = np.array([agrege_of[st] for st in g["statut"]], dtype=object)[e["og"]]

    # names: "<SHORT> FICTIF <PLACE NAME>" or "<SHORT> FICTIF DE <COMMUNE>"
    col = {c: cats[c].to_numpy(dtype=object)[cat_idx] for c in ("short", "long", "style")}
    fem = cats["fem"].to_numpy(dtype=bool)[cat_idx]
    style = col["style"].copy()
    style[(style == "residence") & (rng_names.random(n) < 0.25)] = "commune"
    fictif = np.where(fem, "FICTIVE", "FICTIF").astype(object)
    place = _pick(_RESIDENCES, n, rng_names)
    de = place_col["de_nom"]
    tail = np.where(style == "commune", de, place).astype(object)
    tail = np.where(style == "quoted", _cat('"', place, '"'), tail).astype(object)
    e["rs"] = _cut(_cat(col["short"], " ", fictif, " ", tail), 38)
    rslongue = _cat(col["long"], " ", fictif, " ", tail)
    rslongue = np.where(style == "commune", rslongue, _cat(rslongue, " ", de)).astype(object)
    e["rslongue"] = _cut(rslongue, 60)
    hospital_run = (og_kind == "pub") & ~sanitaire & np.isin(og_statut, ["11", "13", "14", "15"])
    e["complrs"] = np.where(hospital_run, "RATTACHE AU CENTRE HOSPITALIER", "").astype(object)
    e["compldistrib"] = np.where(rng.random(n) < 0.03, "BATIMENT B", "").astype(object)
    e.update(_addresses(n, rng))
    e["commune"] = place_col["champ_commune"]
    e["departement"] = dep_field
    e["libdepartement"] = dep_label
    big = com["population"].to_numpy(dtype="float64")[row] > 20_000
    cedex = np.where((rng.random(n) < 0.03) & big, " CEDEX", "").astype(object)
    e["ligneacheminement"] = _cat(place_col["cp"], " ", place_col["localite"], cedex)
    e["telephone"] = _phones(e["region"], rng)
    fax = _phones(e["region"], rng)
    fax[rng.random(n) < 0.45] = ""
    e["telecopie"] = fax
    e["libcategetab"] = cats["libelle"].to_numpy(dtype=object)[cat_idx]
    agr = cats["agregat"].to_numpy(dtype=object)
    e["categagretab"] = agr[cat_idx]
    e["libcategagretab"] = np.array([AGREGATS[a] for a in agr], dtype=object)[cat_idx]
    siret = _sirets(g["siren"][e["og"]].astype(str), rng)
    siret[rng.random(n) < 0.3] = ""
    e["siret"] = siret
    ape = cats["ape"].to_numpy(dtype=object)[cat_idx]
    e["codeape"] = np.where(rng.random(n) < 0.3, "", ape).astype(object)
    # tariff-setting mode; commercial EHPAD are not habilités à l'aide sociale, private
    # hospitals are not financed by dotation globale
    mft = np.empty(n, dtype=object)
    mft_options = cats["mft"].to_numpy(dtype=object)
    for j in sorted(set(cat_idx)):
        idx = np.flatnonzero(cat_idx == j)
        mft[idx] = _pick(mft_options[j], len(idx), rng)
    ehpad_com = (code == "500") & (agrege == "prive_commercial")
    mft[ehpad_com] = _pick(_MFT_EHPAD_COMMERCIAL, int(ehpad_com.sum()), rng)
    mft[sanitaire & (mft == "03") & (agrege != "public")] = "07"
    e["codemft"] = mft
    mft_codes = np.array(sorted(MFT), dtype=object)
    e["libmft"] = np.array([MFT[m] for m in mft_codes], dtype=object)[
        np.searchsorted(mft_codes, mft)
    ]
    hospital = np.isin(code, list(_HOSPITAL_CODES))
    public = hospital & (agrege == "public")
    e["codesph"] = np.where(public, "1", np.where(hospital, "0", "")).astype(object)
    e["libsph"] = np.where(
        public, "Etablissement public de santé", np.where(hospital, "Non concerné", "")
    ).astype(object)
    dateouv = _dates("1965-01-01", "2024-12-31", n, rng)
    e["dateouv"] = dateouv
    later = _dates("1965-01-01", "2025-06-30", n, rng)
    e["dateautor"] = np.where(rng.random(n) < 0.7, dateouv, later).astype(object)
    e["datemaj"] = _dates("2015-01-01", "2026-05-04", n, rng)
    e["numuai"] = np.full(n, "", dtype=object)
    e["section"] = np.full(n, "structureet", dtype=object)
    e["statutjuridique"] = og_statut
    # geolocation: projected metres in the territory's legal system
    dep_epsg = {d: _EPSG_BY_DEP.get(d, 2154) for d in set(e["departement_insee"])}
    epsg = np.array([dep_epsg[d] for d in e["departement_insee"]], dtype=np.int64)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    for code_epsg in sorted(set(epsg.tolist())):
        idx = np.flatnonzero(epsg == code_epsg)
        transformer = Transformer.from_crs(4326, int(code_epsg), always_xy=True)
        x[idx], y[idx] = transformer.transform(e["lon"][idx], e["lat"][idx])
    e["coordxet"] = np.char.mod("%.1f", x).astype(object)
    e["coordyet"] = np.char.mod("%.1f", y).astype(object)
    crs = pd.Series(epsg).map(_CRS_LABEL).to_numpy(dtype=object)
    ban = _cat("1,ATLASANTE,", e["score"].astype(str), ",BAN,")
    provider = np.where(e["geo_source"] == "centroide", "1,ATLASANTE,.,ADMIN-EXPRESS-2023,", ban)
    e["sourcecoordet"] = _cat(provider, crs)
    e["geo_datemaj"] = np.full(n, GEOLOC_DATE, dtype=object)
    e["epsg"] = epsg


#: Health categories with a public-hospital-service code (``codesph``).
_HOSPITAL_CODES = frozenset(
    {"101", "106", "109", "127", "128", "129", "146", "292", "355", "362", "365"}
)


def _ej_fields(g: Columns, e: Columns, com: pd.DataFrame, rng: np.random.Generator) -> Columns:
    """Fill the 23 ``structureej`` items of every managing body."""
    n = len(g["kind"])
    seat = g["commune_insee"]
    dep_field, _, dep_label = _finess_place(g["departement_insee"])
    seat_row = com.index.get_indexer(seat)
    de = com["de_nom"].to_numpy(dtype=object)[seat_row]
    kinds, statut = g["kind"], g["statut"]
    founder_cat = e["categetab"][g["founder"]]
    theme = _pick(_THEMES, n, rng)
    place = _pick(_RESIDENCES, n, rng)
    from geo.territories import get_territoires

    terr = get_territoires()
    region_nom = {r: _plain(str(terr.regions["nom"].get(r, r))) for r in set(g["region"])}
    dep_nom = {
        d: _plain(str(terr.departements["nom"].get(d, d))) for d in set(g["departement_insee"])
    }
    rs = np.empty(n, dtype=object)
    longue = np.empty(n, dtype=object)
    for i in range(n):
        k, s, c = kinds[i], statut[i], founder_cat[i]
        if k == "pub":
            if s in ("11", "13", "14", "15"):
                label = {"101": "CHR", "292": "CHS"}.get(c, "CENTRE HOSPITALIER")
                rs[i] = longue[i] = f"{label} FICTIF {de[i]}"
            elif s == "03":
                rs[i] = longue[i] = f"COMMUNE FICTIVE {de[i]}"
            else:
                word = {"22": "INTERCOMMUNAL", "19": "DEPARTEMENTAL"}.get(s, "PUBLIC")
                rs[i] = longue[i] = f"{_CAT_SHORT_EJ.get(c, 'ETABLISSEMENT')} {word} FICTIF {de[i]}"
        elif k == "cs":
            forme = _STATUT_FORME.get(s, "SAS")
            word = "PHARMACIEN FICTIF" if forme == "PHARMACIEN" else f"{forme} FICTIVE"
            rs[i] = f"{word} {place[i]}"
            longue[i] = f"{word} {place[i]} {de[i]}"
        elif k in ("np", "ap"):
            word = "FONDATION FICTIVE" if s == "63" else "ASSOCIATION FICTIVE"
            rs[i] = f"{word} {theme[i]}"
            longue[i] = f"{word} {theme[i]} {de[i]}"
        elif k in ("ag", "fond"):
            word = "FONDATION FICTIVE" if k == "fond" else "ASSOCIATION FICTIVE REGIONALE"
            rs[i] = f"{word} {theme[i]}"
            longue[i] = f"{word} {theme[i]} - {region_nom[g['region'][i]]}"
        elif k == "ccas":
            rs[i] = longue[i] = f"{'CIAS' if s == '08' else 'CCAS'} FICTIF {de[i]}"
        elif k == "cg":
            sec, grp = g["key"][i].split(":")[1:3]
            rs[i] = f"GROUPE FICTIF {_GROUPES[sec][int(grp)]}"
            longue[i] = f"{rs[i]} - {region_nom[g['region'][i]]}"
        elif k == "dep":
            rs[i] = longue[i] = f"DEPARTEMENT FICTIF {dep_nom[g['departement_insee'][i]]}"
        else:  # etat
            rs[i] = f"PJJ FICTIVE {dep_nom[g['departement_insee'][i]]}"
            longue[i] = f"DIRECTION TERRITORIALE PJJ FICTIVE {dep_nom[g['departement_insee'][i]]}"
    out: Columns = {"section": np.full(n, "structureej", dtype=object)}
    out["nofiness"] = g["nofiness"]
    out["rs"] = _cut(rs, 38)
    out["rslongue"] = _cut(longue, 60)
    out["complrs"] = np.full(n, "", dtype=object)
    addr = _addresses(n, rng)
    out.update(addr)
    out["compldistrib"] = np.full(n, "", dtype=object)
    out["commune"] = com["champ_commune"].to_numpy(dtype=object)[seat_row]
    out["ligneacheminement"] = _cat(
        com["cp"].to_numpy(dtype=object)[seat_row],
        " ",
        com["localite"].to_numpy(dtype=object)[seat_row],
    )
    out["departement"] = dep_field
    out["libdepartement"] = dep_label
    out["telephone"] = _phones(g["region"], rng)
    out["statutjuridique"] = statut
    out["libstatutjuridique"] = np.array([STATUT_LIBELLES[s] for s in statut], dtype=object)
    out["categetab"] = np.full(n, "", dtype=object)
    out["libcategetab"] = np.full(n, "", dtype=object)
    out["siren"] = g["siren"]
    ape = e["codeape"][g["founder"]].copy()
    ape[np.isin(kinds, ["dep", "etat"]) | (statut == "03")] = "8411Z"
    ape[kinds == "ccas"] = "8899B"
    out["codeape"] = ape
    out["datecrea"] = _dates("1950-01-01", "2020-12-31", n, rng)
    out["og_kind"] = kinds
    out["region"] = g["region"]
    return out


#: Short words naming a public body after its founding establishment's category.
_CAT_SHORT_EJ: dict[str, str] = {
    "500": "EHPAD", "501": "EHPA", "502": "EHPA", "202": "RESIDENCE AUTONOMIE",
    "207": "ACCUEIL DE JOUR", "354": "SSIAD", "255": "MAS", "449": "FOYER",
    "448": "EAM", "437": "FAM", "183": "IME", "246": "ESAT", "446": "SAVS", "445": "SAMSAH",
    "124": "CENTRE DE SANTE",
}  # fmt: skip


def _dui(e: Columns, g: Columns, rng: np.random.Generator) -> Columns:
    """DUI side file for every ESMS: mostly one vendor per OG, status consistent with Ségur.

    A vendor not referenced Ségur is ``non_conforme``; a Ségur one is ``conforme`` or
    ``a_mettre_a_niveau``; some ESMS have no DUI (``aucun``). ``deja_finance`` is mostly on
    OGs already conformant (funded by an earlier call).
    """
    esms = np.flatnonzero(~e["sanitaire"])
    n_og = len(g["kind"])
    og_of = e["og"][esms]
    # dominant family of each OG (ties: alphabetical order, for determinism)
    fam_codes = np.array(["PA", "PH", "SOC", "SAN"], dtype=object)
    fam_idx = np.searchsorted(np.sort(fam_codes), e["family"][esms])
    counts = np.zeros((n_og, len(fam_codes)), dtype=np.int64)
    np.add.at(counts, (og_of, fam_idx), 1)
    og_family = np.sort(fam_codes)[counts.argmax(axis=1)]
    shares = {
        "PA": np.array([v.part_pa for v in EDITEURS]),
        "PH": np.array([v.part_ph for v in EDITEURS]),
        "SOC": np.array([v.part_social for v in EDITEURS]),
    }
    has_dui_p = {"PA": 0.85, "PH": 0.8, "SOC": 0.6}
    og_vendor = np.full(n_og, -1, dtype=np.int64)
    u = rng.random(n_og)
    for famname, w in shares.items():
        idx = np.flatnonzero(og_family == famname)
        vendors = rng.choice(len(EDITEURS), size=len(idx), p=w / w.sum())
        og_vendor[idx] = np.where(u[idx] < has_dui_p[famname], vendors, -1)
    segur = np.array([v.segur for v in EDITEURS])
    og_conforme = rng.random(n_og) < 0.45
    og_deja = np.where(og_conforme, rng.random(n_og) < 0.35, rng.random(n_og) < 0.03)

    m = len(esms)
    vendor = og_vendor[og_of].copy()
    switch = rng.random(m) < 0.06
    vendor[switch] = rng.integers(0, len(EDITEURS), size=int(switch.sum()))
    vendor[(rng.random(m) < 0.07) | (vendor < 0)] = -1
    conforme = og_conforme[og_of] ^ (rng.random(m) < 0.1)
    has = vendor >= 0
    vendor_segur = np.where(has, segur[np.maximum(vendor, 0)], False)
    statut = np.where(
        ~has,
        "aucun",
        np.where(
            ~vendor_segur, "non_conforme", np.where(conforme, "conforme", "a_mettre_a_niveau")
        ),
    )
    names = np.array([v.nom for v in EDITEURS] + [""], dtype=object)
    deja = og_deja[og_of] & has
    return {
        "finess_et": e["nofinesset"][esms],
        "dui_editeur": names[np.where(has, vendor, -1)],
        "dui_statut": statut.astype(object),
        "editeur_segur": np.where(has, np.where(vendor_segur, "oui", "non"), "").astype(object),
        "deja_finance": np.where(deja, "oui", "non").astype(object),
    }


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


_SPECIAL = ('"', ";", "\n", "\r")


def _quoted(values: np.ndarray) -> np.ndarray:
    """RFC-4180 quoting of the cells that need it (``csv.QUOTE_MINIMAL`` with ``;``)."""
    if not any(ch in "".join(values) for ch in _SPECIAL):
        return values
    return np.array(
        [
            '"' + v.replace('"', '""') + '"' if any(ch in v for ch in _SPECIAL) else v
            for v in values
        ],
        dtype=object,
    )


def etalab_lines(frame: pd.DataFrame) -> str:
    """The frame's rows as ``;``-separated lines, quoted like the csv module would.

    Why not ``csv.writer``: joining strings is several times faster on 100 000 rows, and the
    result is the same (``tests/test_synthetic_format.py`` checks it against the csv module).
    """
    if frame.empty:
        return ""
    columns = [_quoted(frame[c].to_numpy(dtype=object)) for c in frame.columns]
    return "\n".join(map(";".join, zip(*columns, strict=True))) + "\n"


def _write_etalab_file(path: Path, date: str, sections: Sequence[pd.DataFrame]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"finess;etalab;{ETALAB_META_NUMBER};{date}\n")
        for frame in sections:
            fh.write(etalab_lines(frame))


def write_etalab(data: SyntheticData, folder: str | Path) -> SyntheticPaths:
    """Write the establishments (cs1100507), legal entities (cs1100501) and DUI files.

    The etalab files are UTF-8 without BOM, ``;``-separated, RFC-4180 quoting, ``\\n`` line
    ends, no header; the DUI file is French-Excel CSV (``;``, BOM) via
    ``matching.exports.french_excel``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    et_name, ej_name, dui_name = etalab_names(data.extraction_date)
    et = data.etablissements
    struct = et[list(STRUCTUREET_FIELDS)]
    geo = et.loc[
        et["has_geo"].to_numpy(),
        ["nofinesset", "coordxet", "coordyet", "sourcecoordet", "geo_datemaj"],
    ].copy()
    geo.insert(0, "section", "geolocalisation")
    paths = SyntheticPaths(folder / et_name, folder / ej_name, folder / dui_name)
    _write_etalab_file(paths.etablissements, data.extraction_date, [struct, geo])
    _write_etalab_file(paths.ej, data.extraction_date, [data.entites[list(STRUCTUREEJ_FIELDS)]])
    write_csv(data.dui[list(DUI_FIELDS)], paths.dui)
    return paths


def write_national_etalab(folder: str | Path, n_et: int = 100_000, seed: int = 0) -> SyntheticPaths:
    """Write a national-size register of about ``n_et`` establishments of all kinds.

    Health establishments, pharmacies and laboratories included (as in the real file, whose
    2026 extract has about 103 000 establishments), for the ingest benchmark.
    """
    if n_et <= 0:
        msg = f"nombre d'établissements invalide : {n_et}"
        raise ValueError(msg)
    expected = expected_counts(None, 1.0, True, autres_sanitaires=True).sum()
    data = generate(
        None, seed=seed, scale=n_et / expected, include_overseas=True, autres_sanitaires=True
    )
    return write_etalab(data, folder)


# --------------------------------------------------------------------------------------------
# Normalised table (matching.core.model.ETAB_COLUMNS)
# --------------------------------------------------------------------------------------------


def normalise(data: SyntheticData) -> pd.DataFrame:
    """The generated establishments in the normalised ``ETAB_COLUMNS`` form, without parsing.

    What a reader of the written files should produce (coordinates read back from the file
    are within a few millimetres of ``lon``/``lat``): tests compare both, solver benchmarks
    use it directly.
    """
    from geo.territories import get_territoires, is_derogatoire

    et = data.etablissements
    ej = data.entites.set_index("nofiness")
    communes = get_territoires().communes
    n = len(et)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["finess_et"] = et["nofinesset"].to_numpy()
    out["finess_ej"] = et["nofinessej"].to_numpy()
    # like a reader of the files: the long name when there is one
    out["raison_sociale"] = np.where(et["rslongue"] != "", et["rslongue"], et["rs"])
    ej_name = np.where(ej["rslongue"] != "", ej["rslongue"], ej["rs"])
    out["raison_sociale_ej"] = (
        pd.Series(ej_name, index=ej.index).reindex(et["nofinessej"]).to_numpy()
    )
    out["categorie"] = et["categetab"].to_numpy()
    out["categorie_libelle"] = et["libcategetab"].to_numpy()
    out["champ"] = et["champ"].to_numpy()
    out["medicalise"] = et["medicalise"].to_numpy(dtype=bool) & ~et["sanitaire"].to_numpy()
    out["sanitaire"] = et["sanitaire"].to_numpy(dtype=bool)
    statut = ej["statutjuridique"].reindex(et["nofinessej"]).to_numpy()
    out["statut_juridique"] = statut
    out["statut_agrege"] = [statut_agrege(s) for s in statut]
    out["commune"] = et["commune_insee"].to_numpy()
    out["commune_nom"] = communes["nom"].reindex(et["commune_insee"]).to_numpy()
    out["departement"] = et["departement_insee"].to_numpy()
    out["region"] = et["region"].to_numpy()
    out["derogatoire"] = [is_derogatoire(d) for d in out["departement"]]
    has_geo = et["has_geo"].to_numpy(dtype=bool)
    lon0 = communes["lon"].reindex(et["commune_insee"]).to_numpy(dtype="float64")
    lat0 = communes["lat"].reindex(et["commune_insee"]).to_numpy(dtype="float64")
    out["lon"] = np.where(has_geo, et["lon"].to_numpy(dtype="float64"), lon0)
    out["lat"] = np.where(has_geo, et["lat"].to_numpy(dtype="float64"), lat0)
    out["coord_source"] = np.where(has_geo, "fichier", "centroide_commune")
    out["capacite"] = np.nan
    dui = data.dui.set_index("finess_et").reindex(et["nofinesset"])
    out["dui_editeur"] = dui["dui_editeur"].fillna("").to_numpy()
    out["dui_statut"] = dui["dui_statut"].fillna("inconnu").to_numpy()
    segur = dui["editeur_segur"].map({"oui": True, "non": False})
    out["editeur_segur"] = pd.array(segur.to_numpy(), dtype="boolean")
    out["deja_finance"] = (dui["deja_finance"] == "oui").to_numpy()
    esms = ~out["sanitaire"].to_numpy()
    ej_col = out["finess_ej"]
    nb = pd.Series(esms.astype(np.int64)).groupby(ej_col.to_numpy()).transform("sum")
    san = pd.Series((~esms).astype(np.int64)).groupby(ej_col.to_numpy()).transform("sum")
    out["og_nb_esms"] = nb.to_numpy(dtype=np.int64)
    out["og_typologie"] = np.select(
        [nb.to_numpy() >= 50, nb.to_numpy() >= 15], ["gros", "moyen"], "petit"
    )
    out["og_sanitaire"] = san.to_numpy() > 0
    out["autonome"] = (nb.to_numpy() == 1) & (san.to_numpy() == 0)
    out["ligne"] = np.arange(2, n + 2, dtype=np.int64)
    for col, (dtype, _) in ETAB_COLUMNS.items():
        out[col] = out[col].astype(dtype)
    return out[list(ETAB_COLUMNS)]


def solver_instance(n_esms: int = 30_000, seed: int = 0) -> pd.DataFrame:
    """A national-size table of about ``n_esms`` PA/PH ESMS in the ``ETAB_COLUMNS`` form.

    For solver benchmarks without file parsing: OG counts (``og_nb_esms``, ``autonome``,
    ``og_sanitaire``) are computed over every generated establishment, as a reader of the
    full register would, then only PA and PH rows are kept.
    """
    if n_esms <= 0:
        msg = f"nombre d'ESMS invalide : {n_esms}"
        raise ValueError(msg)
    counts = expected_counts(None, 1.0, True)
    champs = pd.Series({c.code: c.champ for c in CATEGORIES})
    pa_ph = counts[champs.reindex(counts.index).isin(["PA", "PH"]).to_numpy()].sum()
    data = generate(None, seed=seed, scale=n_esms / pa_ph, include_overseas=True)
    table = normalise(data)
    return table[table["champ"].isin(["PA", "PH"])].reset_index(drop=True)
