"""Classify loaded establishments: field, territory, coordinates and OG profile (vectorised).

Each function takes and returns whole columns so a national file (100,000 rows) is
classified in a few pandas operations, never row by row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.columns import distinct_rows
from grappes.core.model import CHAMPS, HORS_CHAMP
from grappes.core.nomenclature import categories, medicalise_from_mft
from grappes.core.vocabulary import OG_GROS_MIN, OG_MOYEN_MIN
from grappes.geo.distances import haversine_km
from grappes.ingest.base import format_lines

WARN_OG_SCOPE = (
    "Les nombres d'ESMS par OG (typologie petit / moyen / gros, autonomie) sont comptés dans "
    "le fichier chargé seulement : un OG présent hors du fichier peut en gérer davantage."
)


def classify_categories(
    codes: pd.Series, libmft: pd.Series, file_labels: pd.Series, lines: pd.Series
) -> tuple[pd.DataFrame, list[str]]:
    """Field, label, médicalisé and sanitaire of each category code.

    ``codes`` must be well-formed 3-digit strings. Codes missing from the nomenclature are
    loaded as ``hors_champ`` (label from the file when it gives one) and named in a warning,
    one per code. Médicalisé follows the row's ``libmft`` where the category says so.
    Worked out once per distinct (code, libmft, label) triple: a national file has a few
    hundred of them for 100,000 rows.
    """
    first, inverse = distinct_rows(codes, libmft, file_labels)
    distinct, known = _classify_distinct(
        codes.iloc[first], libmft.iloc[first], file_labels.iloc[first]
    )
    out = distinct.iloc[inverse]
    out.index = codes.index
    known = pd.Series(known[inverse], index=codes.index)
    warnings: list[str] = []
    unknown = codes[~known]
    if len(unknown):
        for code, group in lines[~known].groupby(unknown.to_numpy(), sort=True):
            warnings.append(
                f"catégorie {code} absente de la nomenclature : {len(group)} établissement(s) "
                f"chargé(s) hors champ ({format_lines(group.to_numpy())})"
            )
    return out, warnings


def _classify_distinct(
    codes: pd.Series, libmft: pd.Series, file_labels: pd.Series
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`classify_categories` of some rows, and whether each code is known."""
    table = categories()
    known = codes.isin(table.index)
    looked = table.reindex(codes.to_numpy())
    out = pd.DataFrame(index=codes.index)
    label = pd.Series(looked["libelle"].to_numpy(), index=codes.index, dtype="string")
    out["categorie_libelle"] = label.fillna(file_labels.astype("string").fillna("").str.strip())
    champ = pd.Series(looked["champ"].to_numpy(), index=codes.index, dtype="string")
    out["champ"] = champ.fillna(HORS_CHAMP)
    default = pd.Series(looked["medicalise"].to_numpy(), index=codes.index).astype("boolean")
    selon_mft = pd.Series(looked["medicalise_selon_mft"].to_numpy(), index=codes.index)
    selon_mft = selon_mft.astype("boolean").fillna(False).astype(bool)
    from_mft = medicalise_from_mft(libmft)
    medicalise = default.fillna(False)
    use_mft = selon_mft & from_mft.notna().to_numpy()
    medicalise[use_mft] = from_mft[use_mft]
    out["medicalise"] = medicalise.astype("boolean")
    sanitaire = pd.Series(looked["sanitaire"].to_numpy(), index=codes.index)
    out["sanitaire"] = sanitaire.astype("boolean").fillna(False)
    return out, known.to_numpy(dtype=bool)


def og_profile(finess_ej: pd.Series, champ: pd.Series, sanitaire: pd.Series) -> pd.DataFrame:
    """OG columns of each row: og_nb_esms, og_typologie, og_sanitaire, autonome.

    An ESMS is a row of one of the programme's fields (health establishments and other
    out-of-field rows are not counted). ``autonome``: the OG runs exactly one ESMS and no
    health establishment (an EHPAD attached to a hospital is not autonomous).
    """
    esms = champ.isin(CHAMPS).to_numpy(dtype=bool)
    san = sanitaire.fillna(False).to_numpy(dtype=bool)
    codes, uniques = pd.factorize(finess_ej.astype("string").fillna(""))
    nb = np.bincount(codes, weights=esms, minlength=len(uniques)).astype("int64")[codes]
    og_san = np.bincount(codes, weights=san, minlength=len(uniques))[codes] > 0
    out = pd.DataFrame(index=finess_ej.index)
    out["og_nb_esms"] = nb
    typologie = np.where(nb >= OG_GROS_MIN, "gros", np.where(nb >= OG_MOYEN_MIN, "moyen", "petit"))
    out["og_typologie"] = pd.array(typologie, dtype="string")
    out["og_sanitaire"] = pd.array(og_san, dtype="boolean")
    out["autonome"] = pd.array((nb == 1) & ~og_san, dtype="boolean")
    return out


def departement_from_commune_code(codes: pd.Series) -> pd.Series:
    """INSEE département implied by a commune code: 3 characters overseas, else 2."""
    text = codes.astype("string").fillna("")
    overseas = text.str.match(r"^9[78]")
    return text.str[:3].where(overseas, text.str[:2]).where(text.str.len() == 5, "")


def resolve_territory(communes: pd.Series, file_departement: pd.Series) -> pd.DataFrame:
    """Commune, département, région and centroid of each row.

    Known codes (aliases included) resolve through the bundled geography. For a well-formed
    code the geography does not know (a commune merged after the file was made, a typo),
    the département comes from the file's own département field only, never from the code
    prefix: ``2A999`` with coordinates in the Cher once loaded as Corsica (threshold 8).
    Without a département field (template) the row's département stays unknown and the
    pipeline rejects it; the centroid stays NaN, so a kept row needs its own coordinates.
    Column ``connue`` tells the two apart; ``departement_connu`` that the département exists.
    The geography is queried once per distinct (commune, département) pair.
    """
    from grappes.geo.territories import get_territoires, is_derogatoire

    terr = get_territoires()
    commune_text = communes.astype("string").fillna("")
    dep_text = file_departement.astype("string").fillna("")
    first, codes = distinct_rows(commune_text, dep_text)
    distinct = pd.DataFrame(
        {
            "commune": commune_text.iloc[first].to_numpy(dtype=object),
            "dep": dep_text.iloc[first].to_numpy(dtype=object),
        }
    )
    res = terr.resolve_communes(distinct["commune"].reset_index(drop=True))
    dep_guess = distinct["dep"].astype("string")
    unknown = ~res["connue"]
    res["commune"] = res["commune"].where(~unknown, distinct["commune"].astype("string"))
    res["departement"] = res["departement"].where(~unknown, dep_guess)
    dep_region = terr.departements["region"]
    region_guess = res["departement"].map(dep_region).astype("string").fillna("")
    res["region"] = res["region"].where(res["region"] != "", region_guess)
    res["departement_connu"] = res["departement"].isin(list(terr.departements.index))
    derog = {d: is_derogatoire(d) for d in pd.unique(res["departement"])}
    res["derogatoire"] = res["departement"].map(derog).astype("boolean").fillna(False)
    out = res.iloc[codes].reset_index(drop=True)
    out.index = communes.index
    return out


#: A file position farther than this from its commune's centroid is taken as wrong (km).
#: Communes are small (Arles, the largest mainland one, spans about 40 km); Guyane's are huge.
MAX_KM_FROM_COMMUNE = 40.0
MAX_KM_FROM_COMMUNE_GUYANE = 150.0


def choose_coordinates(
    file_lon: pd.Series,
    file_lat: pd.Series,
    departement: pd.Series,
    centroid_lon: pd.Series,
    centroid_lat: pd.Series,
) -> pd.DataFrame:
    """Pick each row's position: the file's when valid and plausible, else the centroid.

    Plausible: inside the territory of its département (``grappes.geo.crs``) and, when the commune
    centroid is known, within ``MAX_KM_FROM_COMMUNE`` of it (a geocoding that landed in
    another town, or x/y of another establishment). Returns ``lon``, ``lat``,
    ``coord_source`` (fichier, centroide_commune, aucune) and ``motif`` (why the file
    position was not used: '', 'absentes', 'hors_france', 'hors_departement', 'loin_commune').
    """
    from grappes.geo.crs import in_france, plausible_for_departement

    lon = file_lon.to_numpy(dtype="float64", na_value=np.nan)
    lat = file_lat.to_numpy(dtype="float64", na_value=np.nan)
    c_lon = centroid_lon.to_numpy(dtype="float64", na_value=np.nan)
    c_lat = centroid_lat.to_numpy(dtype="float64", na_value=np.nan)
    has_centroid = np.isfinite(c_lon) & np.isfinite(c_lat)
    deps = departement.astype("string").fillna("").to_numpy(dtype=object)
    present = np.isfinite(lon) & np.isfinite(lat)
    france = np.zeros(len(lon), dtype=bool)
    plausible = np.zeros(len(lon), dtype=bool)
    near = np.ones(len(lon), dtype=bool)
    if present.any():
        france[present] = in_france(lon[present], lat[present])
        plausible[present] = plausible_for_departement(lon[present], lat[present], deps[present])
        check = present & has_centroid
        limit = np.where(deps == "973", MAX_KM_FROM_COMMUNE_GUYANE, MAX_KM_FROM_COMMUNE)
        distance = haversine_km(lon[check], lat[check], c_lon[check], c_lat[check])
        near[check] = distance <= limit[check]
    use_file = present & france & plausible & near
    source = np.where(use_file, "fichier", np.where(has_centroid, "centroide_commune", "aucune"))
    motif = np.select(
        [use_file, ~present, ~france, ~plausible],
        ["", "absentes", "hors_france", "hors_departement"],
        default="loin_commune",
    )
    out = pd.DataFrame(index=file_lon.index)
    out["lon"] = np.where(use_file, lon, c_lon)
    out["lat"] = np.where(use_file, lat, c_lat)
    out["coord_source"] = pd.array(source, dtype="string")
    out["motif"] = pd.array(motif, dtype="string")
    return out


MOTIFS_FR: dict[str, str] = {
    "absentes": "coordonnées absentes",
    "illisibles": "coordonnées illisibles",
    "hors_france": "coordonnées hors de France",
    "hors_departement": "coordonnées hors du territoire de leur département",
    "loin_commune": f"coordonnées à plus de {MAX_KM_FROM_COMMUNE:.0f} km de leur commune",
}
