"""French territories: communes, départements and régions, and FINESS-to-INSEE code conversion.

Reads the bundled reference in ``data/geo/`` (built from INSEE COG / IGN data by
``data/build/build_geo.py``). FINESS writes places its own way: a ``departement`` field with
``9A``..``9J`` for overseas and a 3-digit ``commune`` field; this module turns them into INSEE
codes and resolves those to a commune, a département, a région and a position.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from grappes.geo.paths import geo_dir

COMMUNES_FILE = "communes.csv.gz"
DEPARTEMENTS_FILE = "departements.csv"
REGIONS_FILE = "regions.csv"
DEPARTEMENTS_GEOJSON = "departements.geojson"
REGIONS_GEOJSON = "regions.geojson"
_CSV = {"sep": ";", "encoding": "utf-8-sig", "keep_default_na": False}

#: FINESS overseas ``departement`` field -> INSEE code (finess.md §3).
FINESS_OVERSEAS: dict[str, str] = {
    "9A": "971",
    "9B": "972",
    "9C": "973",
    "9D": "974",
    "9E": "975",
    "9F": "976",
    "9J": "986",
}
#: Old INSEE codes FINESS still writes (9A + 123 / 127) -> current COG code.
OLD_COMMUNE_CODES: dict[str, str] = {"97123": "97701", "97127": "97801"}

_MAINLAND_DEP = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B)$")
_OVERSEAS_DEP = re.compile(r"^(97[1-8]|98[4-9])$")
_COMMUNE_CODE = re.compile(r"^([0-9]{2}|2A|2B)[0-9]{3}$")


@dataclass(frozen=True)
class Commune:
    """One commune of the COG, with its centroid (WGS84 degrees)."""

    code: str
    nom: str
    departement: str
    region: str
    population: int
    lon: float
    lat: float


def _read_csv(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    if not path.is_file():
        msg = (
            f"fichier de référence géographique introuvable : {path} "
            "(le reconstruire avec python data/build/build_geo.py)"
        )
        raise FileNotFoundError(msg)
    return pd.read_csv(path, dtype=dtypes, **_CSV)


class Territoires:
    """The bundled geography: communes, départements and régions, indexed by INSEE code.

    Attributes
    ----------
    communes
        Index ``code`` (str). Columns ``nom``, ``type`` (COM, ARM, COMD, COMA, ANC),
        ``parent`` (current code for a commune déléguée / associée or an old code, else ''),
        ``departement``, ``region``, ``population`` (int), ``lon``, ``lat`` (centroid).
    departements
        Index ``code``; columns ``nom``, ``region``.
    regions
        Index ``code``; columns ``nom``.
    """

    def __init__(
        self, communes: pd.DataFrame, departements: pd.DataFrame, regions: pd.DataFrame
    ) -> None:
        self.communes = communes
        self.departements = departements
        self.regions = regions

    @classmethod
    def load(cls, folder: Path | None = None) -> Territoires:
        """Read the reference files from ``folder`` (default: ``data/geo``)."""
        folder = Path(folder) if folder is not None else geo_dir()
        text = "string"
        communes = _read_csv(
            folder / COMMUNES_FILE,
            {
                "code": text,
                "nom": text,
                "type": text,
                "parent": text,
                "departement": text,
                "region": text,
                "population": "int64",
                "lon": "float64",
                "lat": "float64",
            },
        ).set_index("code")
        departements = _read_csv(
            folder / DEPARTEMENTS_FILE, {"code": text, "nom": text, "region": text}
        ).set_index("code")
        regions = _read_csv(folder / REGIONS_FILE, {"code": text, "nom": text}).set_index("code")
        return cls(communes, departements, regions)

    def _canonical(self, codes: pd.Series) -> pd.Series:
        """Current code of each known code (aliases resolved), NA when unknown."""
        parent = self.communes["parent"].reindex(codes.to_numpy()).fillna("").to_numpy(dtype=object)
        # get_indexer, not isin: isin on an Arrow-string index costs ~0.5 s per call (pandas 3)
        known = self.communes.index.get_indexer(codes.to_numpy(dtype=object)) >= 0
        canonical = np.where(parent != "", parent, codes.to_numpy(dtype=object))
        return pd.Series(canonical, index=codes.index, dtype="string").where(known)

    def commune(self, code: str) -> Commune | None:
        """The commune a code designates today, or None when the code is unknown.

        Aliases resolve to the current commune: a commune déléguée / associée to its commune
        nouvelle, 97123 / 97127 to Saint-Barthélemy 97701 / Saint-Martin 97801. The returned
        record is the current commune's (name, population, centroid).
        """
        key = normalise_commune_code(code)
        if key not in self.communes.index:
            return None
        parent = self.communes.at[key, "parent"]
        if parent and parent in self.communes.index:
            key = parent
        row = self.communes.loc[key]
        return Commune(
            code=str(key),
            nom=str(row["nom"]),
            departement=str(row["departement"]),
            region=str(row["region"]),
            population=int(row["population"]),
            lon=float(row["lon"]),
            lat=float(row["lat"]),
        )

    def resolve_communes(self, codes: pd.Series) -> pd.DataFrame:
        """Resolve a column of INSEE commune codes, vectorised.

        Returns a frame with the same index as ``codes`` and columns ``commune`` (current code,
        '' when unknown), ``commune_nom``, ``departement``, ``region`` ('' when unknown),
        ``lon``, ``lat`` (NaN when unknown) and ``connue`` (bool).

        The position is the centroid of the code given, not of its current commune: an old
        commune déléguée's centroid is closer to an establishment filed under that code.
        Codes are trimmed and upper-cased; 4-digit codes (a leading zero eaten by a
        spreadsheet) are padded.
        """
        if not isinstance(codes, pd.Series):
            codes = pd.Series(list(codes), dtype="object")
        keys = _normalise_codes(pd.Series(codes.to_numpy(), index=codes.index))
        canonical = self._canonical(keys)
        known = canonical.notna()
        own = self.communes.reindex(keys.to_numpy())
        current = self.communes.reindex(canonical.fillna("").to_numpy())
        out = pd.DataFrame(index=codes.index)
        out["commune"] = canonical.fillna("").astype("string")
        out["commune_nom"] = _strings(current["nom"], codes.index)
        out["departement"] = _strings(current["departement"], codes.index)
        out["region"] = _strings(current["region"], codes.index)
        out["lon"] = own["lon"].to_numpy(dtype="float64", na_value=np.nan)
        out["lat"] = own["lat"].to_numpy(dtype="float64", na_value=np.nan)
        out["connue"] = known.to_numpy(dtype=bool)
        return out

    def departement_nom(self, code: str) -> str:
        """Name of a département (INSEE or FINESS code), '' when unknown."""
        dep = finess_departement_to_insee(code)
        return str(self.departements["nom"].get(dep, ""))

    def region_nom(self, code: str) -> str:
        """Name of a région (INSEE code), '' when unknown."""
        return str(self.regions["nom"].get(str(code or "").strip(), ""))

    def region_of_departement(self, code: str) -> str:
        """INSEE région of a département (INSEE or FINESS code), '' when unknown."""
        dep = finess_departement_to_insee(code)
        return str(self.departements["region"].get(dep, ""))

    def departements_of_region(self, region: str) -> list[str]:
        """Sorted INSEE codes of the départements of a région ([] when unknown)."""
        mask = self.departements["region"] == str(region or "").strip()
        return sorted(self.departements.index[mask].tolist())


def _strings(values: pd.Series, index: pd.Index) -> pd.Series:
    return pd.Series(values.to_numpy(), index=index, dtype="string").fillna("")


@lru_cache(maxsize=1)
def get_territoires() -> Territoires:
    """The bundled geography, read once per process (about 0.2 s)."""
    return Territoires.load()


def _normalise_codes(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`normalise_commune_code` (string dtype, '' for missing)."""
    keys = codes.astype("string").fillna("").str.strip().str.upper()
    eaten = (keys.str.len() == 4) & keys.str.fullmatch(r"[0-9]{4}")
    return keys.where(~eaten, "0" + keys)


def normalise_commune_code(code: object) -> str:
    """Trimmed upper-case code; a 4-digit code gets back the leading zero a spreadsheet ate."""
    if code is None or (isinstance(code, float) and np.isnan(code)) or code is pd.NA:
        return ""
    text = str(code).strip().upper()
    if len(text) == 4 and text.isdigit():
        text = "0" + text
    return text


@lru_cache(maxsize=512)
def finess_departement_to_insee(dep: str) -> str:
    """INSEE département code from a FINESS ``departement`` field ('' when it is not one).

    ``01``..``95``, ``2A``, ``2B`` are unchanged; ``9A``..``9F`` become ``971``..``976`` and
    ``9J`` becomes ``986``. INSEE overseas codes (``971``..``978``, ``984``..``989``) pass
    through, and a single digit gets its leading zero back (``1`` -> ``01``).
    """
    text = str(dep or "").strip().upper()
    if len(text) == 1 and text.isdigit():
        text = "0" + text
    if text in FINESS_OVERSEAS:
        return FINESS_OVERSEAS[text]
    if _MAINLAND_DEP.match(text) or _OVERSEAS_DEP.match(text):
        return text
    return ""


@lru_cache(maxsize=65536)
def finess_commune_to_insee(departement: str, commune: str) -> str:
    """INSEE COG commune code from the FINESS ``departement`` and 3-digit ``commune`` fields.

    Mainland and Corsica: département + commune (01 + 451 -> 01451). ``9A``..``9F``: ``97`` +
    commune (9D + 411 -> 97411); ``9J``: ``98`` + commune. Saint-Barthélemy (9A + 123) and
    Saint-Martin (9A + 127) are remapped to their current codes 97701 / 97801. A commune
    field that already holds a full 5-character code is kept. Returns '' when the input
    cannot make a code.
    """
    dep = finess_departement_to_insee(departement)
    com = str(commune or "").strip().upper()
    if len(com) == 5 and _COMMUNE_CODE.match(com):
        code = com
    else:
        if com.isdigit() and 1 <= len(com) < 3:
            com = com.zfill(3)
        if not dep or len(com) != 3 or not com.isdigit():
            return ""
        code = dep[:2] + com if len(dep) == 3 else dep + com
        if len(dep) == 3 and com[0] != dep[2]:
            # 974 + '411' is fine; 974 + '123' would silently land in another territory.
            return ""
    return OLD_COMMUNE_CODES.get(code, code)


def finess_communes_to_insee(departement: pd.Series, commune: pd.Series) -> pd.Series:
    """Vectorised :func:`finess_commune_to_insee` over two aligned columns ('' when invalid)."""
    pairs = pd.DataFrame({"d": departement, "c": commune}).astype("string").fillna("")
    uniques = pairs.drop_duplicates()
    mapping = {
        (d, c): finess_commune_to_insee(d, c)
        for d, c in zip(uniques["d"], uniques["c"], strict=True)
    }
    values = [mapping[(d, c)] for d, c in zip(pairs["d"], pairs["c"], strict=True)]
    return pd.Series(values, index=pairs.index, dtype="string")


def is_derogatoire(departement: str) -> bool:
    """True for Corsica (2A, 2B) and every overseas code (971..978, 98x, FINESS 9A..9J).

    These territories have a threshold of 8 ESMS per project instead of 15
    (programme-rules.md, "Grouping rules").
    """
    text = str(departement or "").strip().upper()
    if text == "20":  # pre-1976 Corsica code, still seen in hand-made files
        return True
    dep = finess_departement_to_insee(text)
    return dep in {"2A", "2B"} or dep.startswith(("97", "98"))


def _read_geojson(name: str) -> dict:
    path = geo_dir() / name
    if not path.is_file():
        msg = (
            f"contours introuvables : {path} (le reconstruire avec python data/build/build_geo.py)"
        )
        raise FileNotFoundError(msg)
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def departement_boundaries() -> dict:
    """Simplified département boundaries, GeoJSON FeatureCollection (cached: do not modify).

    Properties ``code``, ``nom``, ``region``. Collectivités d'outre-mer without a shape in
    the source (975, 977, 978, 986, 987, 988) have no feature.
    """
    return _read_geojson(DEPARTEMENTS_GEOJSON)


@lru_cache(maxsize=1)
def region_boundaries() -> dict:
    """Simplified région boundaries, GeoJSON FeatureCollection (cached: do not modify).

    Properties ``code``, ``nom``.
    """
    return _read_geojson(REGIONS_GEOJSON)
