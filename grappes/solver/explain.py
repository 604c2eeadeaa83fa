"""French explanations: why a grappe's members fit, why an ESMS has no grappe, what nearly worked.

Every grappe gets reasons (distances, shared DUI solution, field, legal statuses, isolated
ESMS, known partnerships), warnings (vendor changes, distant members, région) and metrics.
Every ESMS without a grappe gets a reason code, a sentence, and its near miss: the closest
grappe (or OG) it could almost join and the rule that blocks it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from grappes.core.formatting import km_text
from grappes.core.model import Grappe
from grappes.core.vocabulary import STATUT_LABELS
from grappes.geo.distances import EARTH_RADIUS_KM, haversine_km
from grappes.solver.evaluate import Evaluator
from grappes.solver.units import text


def _names(ev: Evaluator, ids) -> str:
    names = sorted({ev.units.vendor_names[int(v)] for v in ids if int(v) >= 0})
    return " / ".join(names) if names else "?"


# --------------------------------------------------------------------------- grappes


def esms_arrays(ev: Evaluator) -> dict[str, np.ndarray]:
    """Columns of the sub-problem's ESMS as numpy arrays (computed once per evaluator)."""
    cached = getattr(ev, "_esms_arrays", None)
    if cached is not None:
        return cached
    esms = ev.units.esms
    arrays = {
        col: text(esms, col).to_numpy(dtype=object)
        for col in ("finess_et", "finess_ej", "departement", "region")
    }
    arrays["lon"] = pd.to_numeric(esms["lon"], errors="coerce").to_numpy(dtype="float64")
    arrays["lat"] = pd.to_numeric(esms["lat"], errors="coerce").to_numpy(dtype="float64")
    arrays["bound"] = esms["_bound"].to_numpy(dtype=bool)
    ev._esms_arrays = arrays
    return arrays


def porteur_of(ev: Evaluator, members: list[int]) -> str:
    """OG with the most ESMS in the grappe; ties: the most central, then the lowest FINESS."""
    units = ev.units
    arrays = esms_arrays(ev)
    rows = np.concatenate([units.rows[m] for m in members])
    ej = arrays["finess_ej"][rows]
    lon = arrays["lon"][rows]
    lat = arrays["lat"][rows]
    counts = Counter(ej)
    best = max(counts.values())
    tied = sorted(og for og, c in counts.items() if c == best)
    if len(tied) == 1:
        return str(tied[0])

    def centrality(og: str) -> float:
        mine = ej == og
        others = ~mine
        if not others.any():
            return 0.0
        d = haversine_km(lon[mine][:, None], lat[mine][:, None], lon[others], lat[others])
        return float(np.mean(d))

    return str(min(tied, key=lambda og: (centrality(og), og)))


def describe_grappe(ev: Evaluator, members: list[int], gid: str) -> Grappe:
    """A ``grappes.core.model.Grappe`` with points, reasons, warnings and metrics."""
    units = ev.units
    weights = ev.weights
    rows = np.concatenate([units.rows[m] for m in members])
    arrays = esms_arrays(ev)
    et = sorted(arrays["finess_et"][rows])
    ogs = sorted({og for m in members for og in units.ogs[m]})
    deps = sorted(set(arrays["departement"][rows]) - {""})
    regions = sorted(set(arrays["region"][rows]) - {""})
    km = ev.distances_km(members)
    detail = ev.details(members)
    points = {k: int(detail[k]) for k in ("isole", "multi_og", "multi_departement")}
    vendor = int(detail["vendor"])
    changes = int(detail["vendor_changes"])
    cost = sum(float(detail[k]) for k in ("distance", "statut", "taille", "editeur", "liens"))
    n = len(et)
    reasons = [
        f"{n} ESMS du champ {units.champ}, {len(ogs)} OG ; distance au centre : moyenne "
        f"{km_text(float(km.mean()))}, au plus {km_text(float(km.max()))}."
    ]
    in_place = int(arrays["bound"][rows].sum())
    if vendor >= 0 and in_place:
        reasons.append(
            f"Solution DUI commune : {units.vendor_names[vendor]} (déjà en place dans "
            f"{in_place} ESMS)."
        )
    elif vendor >= 0:
        users = sum(units.vendor_counts[m].get(vendor, 0) for m in members)
        reasons.append(
            f"Aucun DUI conforme en place ; éditeur le plus utilisé : "
            f"{units.vendor_names[vendor]} ({users} ESMS)."
        )
    else:
        reasons.append("Aucun DUI en place : choix de la solution ouvert à tous les membres.")
    statut = Counter(units.statut[m] for m in members)
    if len(statut) == 1:
        s = next(iter(statut))
        reasons.append(f"Même statut juridique : {STATUT_LABELS.get(s, s)} ({len(members)} OG).")
    else:
        parts = ", ".join(
            f"{c} {STATUT_LABELS.get(s, s)}" for s, c in sorted(statut.items(), key=lambda x: -x[1])
        )
        reasons.append(f"Statuts des OG : {parts}.")
    reasons.append(f"Même champ : {units.champ}.")
    n_auto = int(units.n_auto[members].sum())
    if n_auto:
        reasons.append(f"Inclut {n_auto} ESMS autonome(s) isolé(s) (+{points['isole']} points).")
    if points["multi_og"]:
        reasons.append(f"Plusieurs OG de la région (+{points['multi_og']} points).")
    if points["multi_departement"]:
        reasons.append(
            f"ESMS dans plusieurs départements ({', '.join(deps)}) "
            f"(+{points['multi_departement']} points)."
        )
    member_set = set(members)
    for m in members:
        for o in sorted(ev.links_of.get(m, ())):
            if o in member_set and m < o:
                reasons.append(f"Partenariat connu : {units.key[m]} – {units.key[o]}.")
    big = [m for m in members if units.big[m]]
    for m in big:
        reasons.append(
            f"OG {units.key[m]} ({int(units.og_size[m])} ESMS au total) : moyen ou gros, "
            "peut candidater seul."
        )

    warnings: list[str] = []
    if changes:
        target = units.vendor_names[vendor] if vendor >= 0 else "la solution choisie"
        warnings.append(f"{changes} ESMS devront changer d'éditeur DUI (vers {target}).")
    if len(regions) > 1:
        warnings.append(f"Grappe interrégionale : régions {', '.join(regions)}.")
    if float(km.max()) > weights.max_km:
        warnings.append(f"ESMS éloigné : jusqu'à {km_text(float(km.max()))} du centre (OG étendu).")
    if len(members) == 1 and big:
        warnings.append("OG seul : candidature individuelle d'un OG moyen ou gros.")
    if len(statut) > 1:
        warnings.append("Statuts juridiques différents : gouvernance à organiser.")

    metrics = {
        "n_esms": float(n),
        "n_og": float(len(ogs)),
        "mean_km": round(float(km.mean()), 3),
        "max_km": round(float(km.max()), 3),
        "vendor_changes": float(changes),
        "points": float(sum(points.values())),
        "cost": round(cost, 3),
    }
    return Grappe(
        id=gid,
        champ=units.champ,
        og=ogs,
        esms=et,
        departements=deps,
        regions=regions,
        points=points,
        warnings=warnings,
        porteur=porteur_of(ev, members),
        reasons=reasons,
        metrics=metrics,
    )


# --------------------------------------------------------------------------- unplaced


def _join_blocker(ev: Evaluator, members: list[int], u: int, gid: str) -> str:
    """Why unit u cannot join the grappe ``members`` (French)."""
    units = ev.units
    trial = sorted([*members, u])
    code = ev.check(trial)
    if code is None:
        return f"pourrait rejoindre la grappe {gid}"
    if code == "trop_esms":
        n = int(units.n[trial].sum())
        return f"la grappe {gid} dépasserait le maximum ({n} ESMS, au plus {ev.rules.max_esms})"
    if code == "dui_multiple":
        ids = {int(units.vendor[m]) for m in trial}
        return f"conflit d'éditeur DUI avec la grappe {gid} ({_names(ev, ids)})"
    if code == "trop_loin":
        c = ev.centre(trial)
        d = EARTH_RADIUS_KM * np.arccos(np.clip(units.pos[trial] @ c, -1, 1)).max()
        return (
            f"trop loin pour la grappe {gid} (un OG serait à {km_text(float(d))} du centre, "
            f"au plus {km_text(ev.weights.max_km)})"
        )
    if code == "separes":
        return f"séparation demandée avec un OG de la grappe {gid}"
    if code == "trop_peu_esms":
        return (
            f"avec la grappe {gid}, le seuil passerait à {ev.rules.min_esms} ESMS "
            "(membres hors Corse / outre-mer)"
        )
    if code == "medicalise_minoritaire":
        return f"la grappe {gid} deviendrait majoritairement non médicalisée"
    return f"règle non respectée avec la grappe {gid} ({code})"


def explain_unit(
    ev: Evaluator,
    u: int,
    neighbours: np.ndarray,
    compatible: np.ndarray,
) -> tuple[str, str]:
    """Reason code and French sentence for a unit left out of every grappe."""
    units = ev.units
    rules = ev.rules
    champ = units.champ
    reach = km_text(2 * ev.weights.max_km)
    prefix = ""
    if units.big[u]:
        prefix = (
            f"OG moyen ou gros ({int(units.og_size[u])} ESMS) mais seulement "
            f"{int(units.n[u])} ESMS du champ {champ} ici : "
        )
    if units.vendor[u] == -2:
        names = sorted({units.vendor_names[v] for v in units.vendor_counts[u]})
        return (
            "og_conflit_dui",
            "les ESMS de l'OG utilisent déjà plusieurs solutions DUI "
            f"({' / '.join(names)}) : un OG n'est pas réparti entre grappes",
        )
    if rules.max_esms is not None and units.n[u] > rules.max_esms and not units.big[u]:
        return (
            "og_trop_grand",
            f"l'OG compte {int(units.n[u])} ESMS du champ {champ}, au-delà du maximum de "
            f"{rules.max_esms} par projet (appel national ou projet propre)",
        )
    if len(neighbours) == 0:
        return "aucun_partenaire", prefix + f"aucun autre OG du champ {champ} à moins de {reach}"
    ok = neighbours[compatible]
    if len(ok) == 0:
        ids = {int(units.vendor[v]) for v in neighbours} | {int(units.vendor[u])}
        return (
            "conflit_dui",
            prefix + f"conflit d'éditeur DUI : les {len(neighbours)} OG à moins de {reach} "
            f"utilisent une autre solution déjà en place ({_names(ev, ids)})",
        )
    minimum = rules.min_esms_derogatoire if units.derog[u] else rules.min_esms
    reachable = int(units.n[u] + units.n[ok].sum())
    if reachable < minimum:
        return (
            "trop_peu_esms",
            prefix + f"trop peu d'ESMS compatibles à proximité : {reachable} à moins de {reach}, "
            f"il en faut {minimum}",
        )
    return (
        "non_retenu",
        prefix + "aucune grappe valide trouvée : les partenaires proches sont déjà dans d'autres "
        "grappes ou un regroupement avec eux enfreindrait une règle",
    )


def certified_reason(n_grappes: int) -> tuple[str, str]:
    """Code and sentence of a small OG left out whose zone is certified (``zones.certify``)."""
    if n_grappes:
        what = f"des {n_grappes} grappes voisines" if n_grappes > 1 else "de la grappe voisine"
    else:
        what = "des OG voisins laissés de côté"
    return (
        "zone_certifiee",
        f"aucun regroupement {what} ne permet de l'accueillir (borne prouvée sur la zone)",
    )


def near_miss(
    ev: Evaluator,
    u: int,
    grappes: list[list[int]],
    gids: list[str],
    neighbours: np.ndarray,
    neighbour_km: np.ndarray,
    centres: np.ndarray | None = None,
) -> tuple[str, float]:
    """The closest grappe (else OG) unit u could almost join, what blocks it, and its distance.

    ``centres``: the grappes' centre vectors, when the caller computed them once for all.
    """
    units = ev.units
    if grappes:
        if centres is None:
            centres = np.array([ev.centre(g) for g in grappes])
        dots = np.clip(centres @ units.pos[u], -1, 1)
        g = int(np.argmax(dots))
        d = float(EARTH_RADIUS_KM * np.arccos(dots[g]))
        return f"grappe {gids[g]} à {km_text(d)} : {_join_blocker(ev, grappes[g], u, gids[g])}", d
    if len(neighbours):
        v = int(neighbours[0])
        trial = sorted([u, v])
        code = ev.check(trial)
        n = int(units.n[trial].sum())
        what = {
            "dui_multiple": "conflit d'éditeur DUI",
            "trop_peu_esms": f"ensemble {n} ESMS, pas assez",
            "trop_peu_og": "pas assez d'OG",
            "separes": "séparation demandée",
            "trop_loin": "trop éloignés",
        }.get(code or "", "regroupement possible mais non retenu")
        return f"OG {units.key[v]} à {km_text(float(neighbour_km[0]))} : {what}", float(
            neighbour_km[0]
        )
    return "", float("nan")
