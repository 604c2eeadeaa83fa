"""The generated establishments in the normalised table form (``grappes.core.model``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.model import ETAB_COLUMNS
from grappes.core.nomenclature import statut_agrege
from grappes.geo.territories import get_territoires, is_derogatoire
from grappes.synthetic.generate import SyntheticData


def normalise(data: SyntheticData) -> pd.DataFrame:
    """The generated establishments in the normalised ``ETAB_COLUMNS`` form, without parsing.

    What a reader of the written files should produce (coordinates read back from the file
    are within a few millimetres of ``lon``/``lat``): tests compare both, solver benchmarks
    use it directly.
    """
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
