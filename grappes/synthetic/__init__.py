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
``CATEGORIES``) times the population of each région (bundled geography,
``grappes.geo.territories``),
so Centre-Val de Loire gets about 1 300 PA/PH ESMS. Establishments are placed in communes drawn
with weights ``population ** alpha`` (alpha < 1 spreads EHPAD into small rural communes, alpha
> 1 keeps IME, ESAT, MAS and hospitals in towns), then jittered a few hundred metres around
the commune centroid, inside the département. See ``README.md`` for the sources and
approximations.

Everything is vectorised with numpy (no per-row pyproj call): 100 000 establishments are
generated and written in a few seconds. Same seed, same bytes.

One module per job: ``layout`` (items of each line, file names), ``calibration`` (categories,
rates, MFT), ``places`` (communes, territory codes, coordinates), ``bodies`` (OG kinds and
statuses, who runs what), ``vendors`` (DUI), ``numbers`` (FINESS, SIREN, SIRET, phones; Luhn
keys from ``grappes.core.finess``), ``words``, ``establishment_fields``, ``entity_fields``,
``arrays`` (column helpers), ``generate``, ``write_etalab``, ``normalise``, ``national``
(benchmark inputs) and ``sample`` (the bundled sample region). This package re-exports their
public names. Only tests, ``bench/`` and ``data/build/`` import it: the app and the CLI read the
written sample (``grappes.ingest.sample``) and never load the generator.
"""

from grappes.core.finess import luhn_key
from grappes.synthetic.arrays import Columns
from grappes.synthetic.bodies import KINDS, PROFILES, STATUT_LIBELLES
from grappes.synthetic.calibration import AGREGATS, AUTRES_SANITAIRES, CATEGORIES, MFT, Categorie
from grappes.synthetic.generate import SyntheticData, expected_counts, generate
from grappes.synthetic.layout import (
    DUI_FIELDS,
    ETALAB_META_NUMBER,
    EXTRACTION_DATE,
    GEOLOC_DATE,
    GEOLOCALISATION_FIELDS,
    STRUCTUREEJ_FIELDS,
    STRUCTUREET_FIELDS,
    etalab_names,
)
from grappes.synthetic.national import solver_instance, write_national_etalab
from grappes.synthetic.normalise import normalise
from grappes.synthetic.sample import build_sample, generate_sample, sample_counts, sample_readme
from grappes.synthetic.vendors import EDITEURS, Editeur
from grappes.synthetic.write_etalab import SyntheticPaths, etalab_lines, write_etalab

__all__ = [
    "AGREGATS",
    "AUTRES_SANITAIRES",
    "CATEGORIES",
    "DUI_FIELDS",
    "EDITEURS",
    "ETALAB_META_NUMBER",
    "EXTRACTION_DATE",
    "GEOLOCALISATION_FIELDS",
    "GEOLOC_DATE",
    "KINDS",
    "MFT",
    "PROFILES",
    "STATUT_LIBELLES",
    "STRUCTUREEJ_FIELDS",
    "STRUCTUREET_FIELDS",
    "Categorie",
    "Columns",
    "Editeur",
    "SyntheticData",
    "SyntheticPaths",
    "build_sample",
    "etalab_lines",
    "etalab_names",
    "expected_counts",
    "generate",
    "generate_sample",
    "luhn_key",
    "normalise",
    "sample_counts",
    "sample_readme",
    "solver_instance",
    "write_etalab",
    "write_national_etalab",
]
