"""The ARS view's map: the planner's map (``grappes.ui.mapview``), on the registry's points.

Why: the ARS read a bare dot map (no boundaries, no legend, no names). The same map as the
planner's proposal tab reads the same way: département boundaries and names, one colour per
grappe with the porteur's name in the legend, and each ESMS's name, OG and commune on hover.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import pandas as pd
import streamlit as st

#: grappe states whose members the map colours (as ``Registry.agregats`` marks them)
ENGAGEES = "dont les invitations sont envoyées, acceptées ou constituées"


def map_inputs(carte: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], dict[str, str],
                                              dict[str, str]]:
    """The registry's map points as the planner's map takes them: an establishments table,
    FINESS ET -> grappe code, grappe code -> porteur EJ, grappe code -> legend label (the
    porteur OG's name)."""
    points = carte.dropna(subset=["lat", "lon"]).drop_duplicates("finess_et")

    def shown(col: str) -> pd.Series:
        # names typed by users reach the hover's HTML: escaped there (the legend escapes its
        # own labels, so they are taken from the raw names below)
        return points[col].fillna("").astype(str).map(html.escape)

    etab = pd.DataFrame({
        "finess_et": points["finess_et"].astype(str),
        "finess_ej": points["finess_ej"].astype(str),
        "raison_sociale": shown("raison_sociale"),
        "raison_sociale_ej": shown("raison_sociale_ej"),
        "champ": points["champ"].astype(str),
        "commune_nom": shown("commune_nom"),
        "departement": points["departement"].astype(str),
        "lon": points["lon"].astype(float), "lat": points["lat"].astype(float),
    }).reset_index(drop=True)  # fmt: skip
    placed = points[points["grappe"].astype(str) != ""]
    assignment = dict(zip(placed["finess_et"].astype(str), placed["grappe"].astype(str),
                          strict=True))
    porteurs = dict(zip(placed["grappe"].astype(str), placed["porteur_ej"].astype(str),
                        strict=False))
    names = dict(zip(points["finess_ej"].astype(str),
                     points["raison_sociale_ej"].fillna("").astype(str), strict=True))
    labels = {g: names.get(ej) or (f"OG {ej}" if ej else g) for g, ej in porteurs.items()}
    return etab, assignment, porteurs, labels


def ars_map(carte: pd.DataFrame, departements: Iterable[str], key: str,
            height: int = 520) -> Any:
    """Draw the map (left) and its legend (right); returns the map (None without points)."""
    from grappes.ui.mapview import build_map

    etab, assignment, porteurs, labels = map_inputs(carte)
    if etab.empty:
        return None
    pmap = build_map(etab, assignment, porteurs, departements=sorted(departements),
                     height=height, grappe_labels=labels)
    left, right = st.columns([3, 1])
    left.pydeck_chart(pmap.deck, height=height, key=key)
    right.markdown(pmap.legend, unsafe_allow_html=True)
    right.caption(f"Couleurs : grappes {ENGAGEES} ; gris : ESMS déclarés sans grappe.")
    return pmap
