"""DUI vendors (all fictitious) and the DUI side file: who uses which software, and its status."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from grappes.synthetic.arrays import Columns


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


def dui_rows(e: Columns, g: Columns, rng: np.random.Generator) -> Columns:
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
