"""The 23 ``structureej`` items of every generated managing body (legal entity)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.geo.territories import get_territoires
from grappes.synthetic.arrays import Columns, cat, cut, dates, pick
from grappes.synthetic.bodies import GROUPES, STATUT_FORME, STATUT_LIBELLES
from grappes.synthetic.numbers import phones
from grappes.synthetic.places import finess_place, plain
from grappes.synthetic.words import RESIDENCES, THEMES, addresses

#: Short words naming a public body after its founding establishment's category.
_CAT_SHORT_EJ: dict[str, str] = {
    "500": "EHPAD", "501": "EHPA", "502": "EHPA", "202": "RESIDENCE AUTONOMIE",
    "207": "ACCUEIL DE JOUR", "354": "SSIAD", "255": "MAS", "449": "FOYER",
    "448": "EAM", "437": "FAM", "183": "IME", "246": "ESAT", "446": "SAVS", "445": "SAMSAH",
    "124": "CENTRE DE SANTE",
}  # fmt: skip


def entity_fields(g: Columns, e: Columns, com: pd.DataFrame, rng: np.random.Generator) -> Columns:
    """Fill the 23 ``structureej`` items of every managing body."""
    n = len(g["kind"])
    seat = g["commune_insee"]
    dep_field, _, dep_label = finess_place(g["departement_insee"])
    seat_row = com.index.get_indexer(seat)
    de = com["de_nom"].to_numpy(dtype=object)[seat_row]
    kinds, statut = g["kind"], g["statut"]
    founder_cat = e["categetab"][g["founder"]]
    theme = pick(THEMES, n, rng)
    place = pick(RESIDENCES, n, rng)
    terr = get_territoires()
    region_nom = {r: plain(str(terr.regions["nom"].get(r, r))) for r in set(g["region"])}
    dep_nom = {
        d: plain(str(terr.departements["nom"].get(d, d))) for d in set(g["departement_insee"])
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
            forme = STATUT_FORME.get(s, "SAS")
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
            rs[i] = f"GROUPE FICTIF {GROUPES[sec][int(grp)]}"
            longue[i] = f"{rs[i]} - {region_nom[g['region'][i]]}"
        elif k == "dep":
            rs[i] = longue[i] = f"DEPARTEMENT FICTIF {dep_nom[g['departement_insee'][i]]}"
        else:  # etat
            rs[i] = f"PJJ FICTIVE {dep_nom[g['departement_insee'][i]]}"
            longue[i] = f"DIRECTION TERRITORIALE PJJ FICTIVE {dep_nom[g['departement_insee'][i]]}"
    out: Columns = {"section": np.full(n, "structureej", dtype=object)}
    out["nofiness"] = g["nofiness"]
    out["rs"] = cut(rs, 38)
    out["rslongue"] = cut(longue, 60)
    out["complrs"] = np.full(n, "", dtype=object)
    addr = addresses(n, rng)
    out.update(addr)
    out["compldistrib"] = np.full(n, "", dtype=object)
    out["commune"] = com["champ_commune"].to_numpy(dtype=object)[seat_row]
    out["ligneacheminement"] = cat(
        com["cp"].to_numpy(dtype=object)[seat_row],
        " ",
        com["localite"].to_numpy(dtype=object)[seat_row],
    )
    out["departement"] = dep_field
    out["libdepartement"] = dep_label
    out["telephone"] = phones(g["region"], rng)
    out["statutjuridique"] = statut
    out["libstatutjuridique"] = np.array([STATUT_LIBELLES[s] for s in statut], dtype=object)
    out["categetab"] = np.full(n, "", dtype=object)
    out["libcategetab"] = np.full(n, "", dtype=object)
    out["siren"] = g["siren"]
    ape = e["codeape"][g["founder"]].copy()
    ape[np.isin(kinds, ["dep", "etat"]) | (statut == "03")] = "8411Z"
    ape[kinds == "ccas"] = "8899B"
    out["codeape"] = ape
    out["datecrea"] = dates("1950-01-01", "2020-12-31", n, rng)
    out["og_kind"] = kinds
    out["region"] = g["region"]
    return out
