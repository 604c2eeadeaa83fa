"""Turn a reader's raw rows into the normalised establishments table, rejecting bad rows.

Order of the checks (each rejected row leaves the table with one ``Rejet`` naming its line
and field): FINESS ET number, duplicate ET (the second occurrence, naming the first line),
FINESS EJ number, category code format, commune, position. Then the rows are classified
(field, territory, OG profile) and the geolocation lines of an etalab file are accounted for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.columns import per_distinct
from grappes.core.finess import check_finess_series
from grappes.core.model import DUI_INCONNU, ETAB_COLUMNS, LoadResult, Rejet, empty_etablissements
from grappes.core.nomenclature import statut_agrege_series
from grappes.ingest.base import Parsed, format_lines, isin, lookup
from grappes.ingest.classify import (
    MOTIFS_FR,
    WARN_OG_SCOPE,
    choose_coordinates,
    classify_categories,
    og_profile,
    resolve_territory,
)

_CATEGORIE_RE = r"[0-9]{3}"
_COMMUNE_RE = r"([0-9]{2}|2A|2B)[0-9]{3}"


class _Rejects:
    """Collects rejects and removes the rejected rows from a frame."""

    def __init__(self, rejets: list[Rejet], source: str = "") -> None:
        self.rejets = rejets
        self.source = source

    def drop(
        self,
        frame: pd.DataFrame,
        mask: pd.Series,
        field: str,
        reasons: pd.Series | str,
        values: pd.Series,
    ) -> pd.DataFrame:
        """Reject the rows of ``frame`` where ``mask`` is True; return the others."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return frame
        bad = frame[mask]
        if isinstance(reasons, pd.Series):
            texts = reasons.reindex(bad.index)
        else:
            texts = [reasons] * len(bad)
        vals = values[mask].astype("string").fillna("")
        self.rejets.extend(
            Rejet(int(line), field, str(reason), str(value), self.source)
            for line, reason, value in zip(bad["ligne"], texts, vals, strict=True)
        )
        return frame[~mask]


def validate_numbers(rows: pd.DataFrame, rejects: _Rejects) -> pd.DataFrame:
    """FINESS ET format/key, duplicate ET, FINESS EJ format/key."""
    reasons = check_finess_series(rows["finess_et"])
    rows = rejects.drop(rows, reasons != "", "finess_et", reasons, rows["finess_et"])
    dup = rows.duplicated("finess_et", keep="first")
    if dup.any():
        first = rows.groupby("finess_et")["ligne"].transform("first")
        dup_reason = (
            "doublon : le numéro FINESS "
            + rows["finess_et"]
            + " figure déjà ligne "
            + first.astype("string")
        )
        rows = rejects.drop(rows, dup, "finess_et", dup_reason, rows["finess_et"])
    reasons = check_finess_series(rows["finess_ej"])
    return rejects.drop(rows, reasons != "", "finess_ej", reasons, rows["finess_ej"])


def validate_categories(rows: pd.DataFrame, rejects: _Rejects) -> pd.DataFrame:
    """Reject missing or malformed category codes (3 digits expected)."""
    cat = rows["categorie"]
    bad = ~cat.str.fullmatch(_CATEGORIE_RE).fillna(False).astype(bool)
    if not bad.any():
        return rows
    bad_cat = cat[bad]  # reasons for the rejected rows only (a text per row costs MBs)
    reason = pd.Series(
        np.where(
            bad_cat == "",
            "code catégorie manquant",
            "code catégorie mal formé (3 chiffres attendus, ex. 500)",
        ),
        index=bad_cat.index,
    )
    return rejects.drop(rows, bad, "categorie", reason, cat)


def geoloc_coordinates(
    rows: pd.DataFrame, geoloc: pd.DataFrame, departement: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """WGS84 lon/lat of each row from its ``geolocalisation`` record (NaN when none).

    The CRS is read from ``sourcecoordet`` of each record, or taken from the département
    when the field names none. Third value: the row has a geolocalisation line.
    """
    from grappes.geo.crs import default_epsg_for_departement, epsg_from_sourcecoord, to_wgs84

    position = lookup(rows["finess_et"], geoloc["finess_et"])
    has = position >= 0
    joined = geoloc.iloc[np.where(has, position, 0)].reset_index(drop=True)
    joined.loc[~has, ["x", "y"]] = np.nan
    joined["source"] = joined["source"].where(has, "")
    joined["ligne"] = joined["ligne"].where(has)
    has_line = pd.Series(joined["ligne"].notna().to_numpy(), index=rows.index)
    sources = joined["source"].astype("string").fillna("")
    epsg_map = {s: epsg_from_sourcecoord(s) for s in pd.unique(sources)}
    epsg = sources.map(epsg_map).astype("float64")
    deps = pd.Series(departement.to_numpy(), dtype="string").fillna("")
    default_map = {d: default_epsg_for_departement(d) for d in pd.unique(deps)}
    epsg = epsg.fillna(deps.map(default_map).astype("float64")).to_numpy()
    x = joined["x"].to_numpy(dtype="float64", na_value=np.nan)
    y = joined["y"].to_numpy(dtype="float64", na_value=np.nan)
    lon, lat = to_wgs84(x, y, epsg)
    return pd.Series(lon, index=rows.index), pd.Series(lat, index=rows.index), has_line


def account_geoloc(
    geoloc: pd.DataFrame, all_rows: pd.DataFrame, loaded: pd.DataFrame, rejects: _Rejects
) -> list[int]:
    """Reject geolocalisation lines that join nothing; return the lines that were used."""
    dup = geoloc.duplicated("finess_et", keep="first")
    if dup.any():
        first = geoloc.groupby("finess_et")["ligne"].transform("first")
        reason = (
            "géolocalisation en double pour "
            + geoloc["finess_et"]
            + " (déjà ligne "
            + first.astype("string")
            + ")"
        )
        geoloc = rejects.drop(geoloc, dup, "nofinesset", reason, geoloc["finess_et"])
    firsts = all_rows.drop_duplicates("finess_et")
    first_line = pd.Series(
        firsts["ligne"].to_numpy(), index=pd.Index(firsts["finess_et"].to_numpy(dtype=object))
    )
    in_file = isin(geoloc["finess_et"], first_line.index)
    reason = pd.Series(
        "géolocalisation sans établissement lisible : aucune ligne structureet lue pour ce "
        "numéro (absente, ou rejetée comme illisible : voir les autres rejets)",
        index=geoloc.index,
        dtype="string",
    )
    geoloc = rejects.drop(geoloc, ~in_file, "nofinesset", reason, geoloc["finess_et"])
    used = isin(geoloc["finess_et"], loaded["finess_et"])
    unused = geoloc.loc[~used, "finess_et"].to_numpy(dtype=object)
    et_line = pd.Series(first_line.reindex(unused).to_numpy(), index=geoloc.index[~used])
    reason = "géolocalisation d'un établissement rejeté (ligne " + et_line.astype("string") + ")"
    geoloc = rejects.drop(geoloc, ~used, "nofinesset", reason, geoloc["finess_et"])
    return [int(v) for v in geoloc["ligne"]]


def _territory_and_position(
    rows: pd.DataFrame, parsed: Parsed, rejects: _Rejects, warnings: list[str]
) -> pd.DataFrame:
    """Resolve communes and pick coordinates; reject rows that cannot be located."""
    commune = rows["commune"].astype("string").fillna("").str.strip().str.upper()
    malformed = ~commune.str.fullmatch(_COMMUNE_RE).fillna(False).astype(bool)
    bad_commune = commune[malformed]  # reasons for the rejected rows only
    reason = pd.Series(
        np.where(
            bad_commune == "",
            "code commune manquant",
            "code commune mal formé (code INSEE à 5 caractères attendu, ex. 45234)",
        ),
        index=bad_commune.index,
    )
    rows = rejects.drop(rows, malformed, "commune", reason, commune)
    commune = commune[rows.index]
    same = parsed.territory is not None and bool(
        (commune == rows["commune"].astype("string").fillna("")).all()
    )
    if same:  # resolved by the reader for the very same communes
        terr = parsed.territory.loc[rows.index]  # type: ignore[union-attr]
    else:
        terr = resolve_territory(commune, rows["departement"])
    if parsed.geoloc is not None:
        lon, lat, has_line = geoloc_coordinates(rows, parsed.geoloc, terr["departement"])
        unreadable = has_line & lon.isna()
    else:
        lon, lat = rows["lon"], rows["lat"]
        has_line = pd.Series(True, index=rows.index)
        unreadable = pd.Series(False, index=rows.index)
    pos = choose_coordinates(lon, lat, terr["departement"], terr["lon"], terr["lat"])
    motif = pos["motif"].where(~unreadable, "illisibles")
    no_position = pos["coord_source"] == "aucune"
    bad_dep = ~terr["connue"] & ~terr["departement_connu"]
    from grappes.ingest.position import outside_departement

    unknown = (~terr["connue"] & terr["departement_connu"]).to_numpy(dtype=bool)
    outside = np.zeros(len(rows), dtype=bool)
    if unknown.any():
        outside[unknown] = outside_departement(
            pos["lon"].to_numpy()[unknown],
            pos["lat"].to_numpy()[unknown],
            terr["departement"].astype("string").fillna("").to_numpy(dtype=object)[unknown],
        )
    outside_s = pd.Series(outside, index=rows.index)
    rejected = (no_position | bad_dep | outside_s).to_numpy(dtype=bool)
    # reasons for the rejected rows only (a text per row would cost tens of MB nationally)
    why = pd.Series(
        np.where(
            terr["connue"].to_numpy(dtype=bool)[rejected],
            "établissement impossible à localiser : coordonnées inutilisables et pas de "
            "centroïde pour cette commune",
            "établissement impossible à localiser : code commune inconnu et coordonnées "
            "absentes ou invalides",
        ),
        index=rows.index[rejected],
        dtype=object,
    )
    why[outside_s[rejected]] = (
        "code commune inconnu et coordonnées hors du département déclaré : territoire "
        "impossible à établir (corrigez le code commune)"
    )
    bad_dep = bad_dep | outside_s
    why[bad_dep[rejected]] = (
        "code commune inconnu du référentiel géographique : département, région et seuil ne "
        "peuvent pas en être déduits (corrigez le code commune)"
    )
    keep_mask = ~(no_position | bad_dep)
    rows = rejects.drop(rows, ~keep_mask, "commune", why, commune)
    terr, pos, motif = terr[keep_mask], pos[keep_mask], motif[keep_mask]
    unknown_kept = ~terr["connue"]
    if unknown_kept.any():
        warnings.append(
            f"{int(unknown_kept.sum())} code(s) commune inconnu(s) du référentiel géographique, "
            f"établissements gardés avec les coordonnées du fichier "
            f"({format_lines(rows['ligne'][unknown_kept])})"
        )
    centroid = pos["coord_source"] == "centroide_commune"
    if not parsed.has_coordinates:
        warnings.append(
            "fichier sans géolocalisation (cs1100502 ou modèle sans lon/lat) : coordonnées "
            "prises au centroïde de la commune pour tous les établissements."
        )
    else:
        for key, label in MOTIFS_FR.items():
            mask = centroid & (motif == key)
            if key == "absentes" and parsed.geoloc is not None:
                label = "pas de ligne geolocalisation"
            if mask.any():
                warnings.append(
                    f"{label} pour {int(mask.sum())} établissement(s) : centroïde de la commune "
                    f"utilisé ({format_lines(rows['ligne'][mask])})"
                )
    rows = rows.copy()
    for col in ("commune", "commune_nom", "departement", "region", "derogatoire"):
        rows[col] = terr[col]
    rows["lon"] = pos["lon"]
    rows["lat"] = pos["lat"]
    rows["coord_source"] = pos["coord_source"]
    return rows


def _booleans(values: pd.Series) -> pd.Series:
    """oui / non as a boolean column (anything else NA), once per distinct value."""
    return per_distinct(values, _booleans_distinct)


def _booleans_distinct(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text == "oui"] = True
    out[text == "non"] = False
    return out


def normalise(parsed: Parsed, kind: str, encoding: str = "", source: str = "") -> LoadResult:
    """Validate and classify a reader's rows into a ``LoadResult`` (ETAB_COLUMNS)."""
    rejets: list[Rejet] = list(parsed.rejets)
    warnings: list[str] = list(parsed.warnings)
    rejects = _Rejects(rejets, source)
    all_rows = parsed.rows
    rows = validate_numbers(all_rows, rejects)
    rows = validate_categories(rows, rejects)
    rows = _territory_and_position(rows, parsed, rejects, warnings)
    meta = dict(parsed.meta)
    if parsed.geoloc is not None:
        meta["lignes_geolocalisation_utilisees"] = account_geoloc(
            parsed.geoloc, all_rows, rows, rejects
        )
    cats, cat_warnings = classify_categories(
        rows["categorie"], rows["libmft"], rows["categorie_libelle"], rows["ligne"]
    )
    warnings.extend(cat_warnings)
    table = _build_table(rows, cats)
    if len(table):
        warnings.append(WARN_OG_SCOPE)
    rejets.sort(key=lambda r: (r.source, r.line))
    meta["lignes_chargees"] = len(table)
    return LoadResult(
        etablissements=table,
        rejets=rejets,
        warnings=warnings,
        kind=kind,
        encoding=encoding,
        meta=meta,
    )


def _build_table(rows: pd.DataFrame, cats: pd.DataFrame) -> pd.DataFrame:
    """Assemble ETAB_COLUMNS in order with their dtypes."""
    if rows.empty:
        return empty_etablissements()
    og = og_profile(rows["finess_ej"], cats["champ"], cats["sanitaire"])
    statut = rows["statut_juridique"].astype("string").fillna("").str.strip()
    dui_statut = rows["dui_statut"].astype("string").fillna("").str.strip()
    data = {
        "finess_et": rows["finess_et"],
        "finess_ej": rows["finess_ej"],
        "raison_sociale": rows["raison_sociale"].fillna("").str.strip(),
        "raison_sociale_ej": rows["raison_sociale_ej"].fillna("").str.strip(),
        "categorie": rows["categorie"],
        "categorie_libelle": cats["categorie_libelle"],
        "champ": cats["champ"],
        "medicalise": cats["medicalise"],
        "sanitaire": cats["sanitaire"],
        "statut_juridique": statut,
        "statut_agrege": statut_agrege_series(statut),
        "commune": rows["commune"],
        "commune_nom": rows["commune_nom"],
        "departement": rows["departement"],
        "region": rows["region"],
        "derogatoire": rows["derogatoire"],
        "lon": rows["lon"],
        "lat": rows["lat"],
        "coord_source": rows["coord_source"],
        "capacite": rows["capacite"],
        "dui_editeur": rows["dui_editeur"].fillna("").str.strip(),
        "dui_statut": dui_statut.where(dui_statut != "", DUI_INCONNU),
        "editeur_segur": _booleans(rows["editeur_segur"]),
        "deja_finance": _booleans(rows["deja_finance"]).fillna(False),
        "og_nb_esms": og["og_nb_esms"],
        "og_typologie": og["og_typologie"],
        "og_sanitaire": og["og_sanitaire"],
        "autonome": og["autonome"],
        "ligne": rows["ligne"],
    }
    table = pd.DataFrame(data).reset_index(drop=True)
    return table.astype({c: d for c, (d, _) in ETAB_COLUMNS.items()})[list(ETAB_COLUMNS)]
