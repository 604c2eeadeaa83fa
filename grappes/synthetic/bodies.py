"""Managing bodies (OG): their kinds, the mix per category, legal statuses, who runs what.

Each category has a mix of kinds of OG (``PROFILES``); establishments are then shared among
bodies so that the sample shows every situation the programme meets: autonomous public
EHPAD, small associations of neighbouring ESMS, large associations and foundations across
départements, EHPAD attached to a hospital, commercial groups, the Département and the State.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.geo.distances import haversine_km
from grappes.synthetic.arrays import Columns, draw

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
STATUT_FORME: dict[str, str] = {
    "70": "PHARMACIEN", "71": "SNC", "72": "SARL", "73": "SA", "78": "EURL",
    "85": "SELARL", "91": "SELAS", "95": "SAS",
}  # fmt: skip


# fmt: off
GROUPES: dict[str, tuple[str, ...]] = {
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
# fmt: on


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


def managing_bodies(
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
        kind[idx] = draw(PROFILES[prof], len(idx), rng)
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
        dist = haversine_km(lon[members, None], lat[members, None], lon[cands], lat[cands])
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
        drawn = rng.choice(sizes, size=len(order), p=weights / weights.sum())
        chunk = np.searchsorted(np.cumsum(drawn), np.arange(len(order)), side="right")
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
        dist = haversine_km(lon[idx, None], lat[idx, None], lon[homes], lat[homes])
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
        out[idx] = draw(options, len(idx), rng)
    local = np.isin(g["departement_insee"], list(_DROIT_LOCAL_DEPS))
    assoc = np.isin(out, ["60", "61"]) & np.isin(kinds, ["ap", "ag", "np"])
    out[local & assoc] = "62"
    return out
