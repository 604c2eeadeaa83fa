"""The 32 ``structureet`` items and the geolocation of every generated establishment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyproj import Transformer

from grappes.core.nomenclature import statut_agrege
from grappes.synthetic.arrays import Columns, cat, cut, dates, pick
from grappes.synthetic.calibration import AGREGATS, HOSPITAL_CODES, MFT, MFT_EHPAD_COMMERCIAL
from grappes.synthetic.layout import GEOLOC_DATE
from grappes.synthetic.numbers import phones, sirets
from grappes.synthetic.places import CRS_LABEL, EPSG_BY_DEP, finess_place
from grappes.synthetic.words import RESIDENCES, addresses


def establishment_fields(
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
    dep_field, _, dep_label = finess_place(e["departement_insee"])
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
    place = pick(RESIDENCES, n, rng_names)
    de = place_col["de_nom"]
    tail = np.where(style == "commune", de, place).astype(object)
    tail = np.where(style == "quoted", cat('"', place, '"'), tail).astype(object)
    e["rs"] = cut(cat(col["short"], " ", fictif, " ", tail), 38)
    rslongue = cat(col["long"], " ", fictif, " ", tail)
    rslongue = np.where(style == "commune", rslongue, cat(rslongue, " ", de)).astype(object)
    e["rslongue"] = cut(rslongue, 60)
    hospital_run = (og_kind == "pub") & ~sanitaire & np.isin(og_statut, ["11", "13", "14", "15"])
    e["complrs"] = np.where(hospital_run, "RATTACHE AU CENTRE HOSPITALIER", "").astype(object)
    e["compldistrib"] = np.where(rng.random(n) < 0.03, "BATIMENT B", "").astype(object)
    e.update(addresses(n, rng))
    e["commune"] = place_col["champ_commune"]
    e["departement"] = dep_field
    e["libdepartement"] = dep_label
    big = com["population"].to_numpy(dtype="float64")[row] > 20_000
    cedex = np.where((rng.random(n) < 0.03) & big, " CEDEX", "").astype(object)
    e["ligneacheminement"] = cat(place_col["cp"], " ", place_col["localite"], cedex)
    e["telephone"] = phones(e["region"], rng)
    fax = phones(e["region"], rng)
    fax[rng.random(n) < 0.45] = ""
    e["telecopie"] = fax
    e["libcategetab"] = cats["libelle"].to_numpy(dtype=object)[cat_idx]
    agr = cats["agregat"].to_numpy(dtype=object)
    e["categagretab"] = agr[cat_idx]
    e["libcategagretab"] = np.array([AGREGATS[a] for a in agr], dtype=object)[cat_idx]
    siret = sirets(g["siren"][e["og"]].astype(str), rng)
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
        mft[idx] = pick(mft_options[j], len(idx), rng)
    ehpad_com = (code == "500") & (agrege == "prive_commercial")
    mft[ehpad_com] = pick(MFT_EHPAD_COMMERCIAL, int(ehpad_com.sum()), rng)
    mft[sanitaire & (mft == "03") & (agrege != "public")] = "07"
    e["codemft"] = mft
    mft_codes = np.array(sorted(MFT), dtype=object)
    e["libmft"] = np.array([MFT[m] for m in mft_codes], dtype=object)[
        np.searchsorted(mft_codes, mft)
    ]
    hospital = np.isin(code, list(HOSPITAL_CODES))
    public = hospital & (agrege == "public")
    e["codesph"] = np.where(public, "1", np.where(hospital, "0", "")).astype(object)
    e["libsph"] = np.where(
        public, "Etablissement public de santé", np.where(hospital, "Non concerné", "")
    ).astype(object)
    dateouv = dates("1965-01-01", "2024-12-31", n, rng)
    e["dateouv"] = dateouv
    later = dates("1965-01-01", "2025-06-30", n, rng)
    e["dateautor"] = np.where(rng.random(n) < 0.7, dateouv, later).astype(object)
    e["datemaj"] = dates("2015-01-01", "2026-05-04", n, rng)
    e["numuai"] = np.full(n, "", dtype=object)
    e["section"] = np.full(n, "structureet", dtype=object)
    e["statutjuridique"] = og_statut
    # geolocation: projected metres in the territory's legal system
    dep_epsg = {d: EPSG_BY_DEP.get(d, 2154) for d in set(e["departement_insee"])}
    epsg = np.array([dep_epsg[d] for d in e["departement_insee"]], dtype=np.int64)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    for code_epsg in sorted(set(epsg.tolist())):
        idx = np.flatnonzero(epsg == code_epsg)
        transformer = Transformer.from_crs(4326, int(code_epsg), always_xy=True)
        x[idx], y[idx] = transformer.transform(e["lon"][idx], e["lat"][idx])
    e["coordxet"] = np.char.mod("%.1f", x).astype(object)
    e["coordyet"] = np.char.mod("%.1f", y).astype(object)
    crs = pd.Series(epsg).map(CRS_LABEL).to_numpy(dtype=object)
    ban = cat("1,ATLASANTE,", e["score"].astype(str), ",BAN,")
    provider = np.where(e["geo_source"] == "centroide", "1,ATLASANTE,.,ADMIN-EXPRESS-2023,", ban)
    e["sourcecoordet"] = cat(provider, crs)
    e["geo_datemaj"] = np.full(n, GEOLOC_DATE, dtype=object)
    e["epsg"] = epsg
