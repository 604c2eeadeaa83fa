"""Words for names and addresses (plainly fictitious) and the street fields built from them."""

from __future__ import annotations

import numpy as np

from grappes.synthetic.arrays import Columns, cat, pick

# fmt: off
RESIDENCES: tuple[str, ...] = (
    "LES TILLEULS", "LES CHARMILLES", "LE CLOS FLEURI", "LES GLYCINES", "LA ROSERAIE",
    "LES MARRONNIERS", "LES ACACIAS", "LES HORTENSIAS", "LA SOURCE", "LE PARC", "LES CEDRES",
    "LES LILAS", "LES JARDINS D'AUTOMNE", "LE BOIS JOLI", "LES PEUPLIERS", "LA CHENAIE",
    "LES SAULES", "LE VERGER", "LES MIMOSAS", "LA CLAIRIERE", "LES BRUYERES", "LES IRIS",
    "LE CHATEAU VERT", "LES COQUELICOTS", "LA PRAIRIE", "LES CERISIERS", "L'ORANGERIE",
    "LES AUBEPINES", "LE MOULIN", "LES GENETS", "LA COLLINE", "LES ERABLES", "LES PINS",
    "LE PRIEURE", "LES VIOLETTES", "LA FONTAINE", "LES CHENES", "LE VAL FLEURI", "LES TOURTERELLES",
    "LES CAPUCINES", "L'ARC EN CIEL", "LES PAPILLONS", "LE PETIT BOIS", "LES COLOMBES",
    "LA BOUSSOLE", "L'ESCALE", "LE PHARE", "LES GOELANDS", "LA PASSERELLE", "L'ENVOL",
    "LES SOURCES", "LE TREMPLIN", "LES ALIZES", "LA RESIDENCE DU LAC", "LES MAGNOLIAS",
    "LES NOISETIERS", "LE CLOS DES VIGNES", "LES BLES D'OR", "LES AMANDIERS", "LA GENTIANE",
)
THEMES: tuple[str, ...] = (
    "AVENIR ET PARTAGE", "SOLIDARITE", "ENTRAIDE", "HORIZONS", "ACCUEIL ET VIE", "VIVRE ENSEMBLE",
    "LE LIEN", "CLAIREFONTAINE", "CAP AVENIR", "TERRE D'ACCUEIL", "REGARDS", "TREMPLIN",
    "PASSERELLES", "RENCONTRES", "AUTONOMIE ET VIE", "ESPOIR", "LES QUATRE SAISONS",
    "SOLEIL LEVANT", "MAIN DANS LA MAIN", "ETAPES", "DEMAIN", "AGIR ENSEMBLE", "CONFLUENCES",
    "LA RENCONTRE", "BIEN VIEILLIR", "ALTERNATIVES", "HORIZON JEUNESSE", "INSERTION ET VIE",
    "TRAIT D'UNION", "CHEMINS",
)
_VOIES: tuple[str, ...] = (
    "DES TILLEULS", "DE LA GARE", "VICTOR HUGO", "DU GENERAL DE GAULLE", "JEAN JAURES", "PASTEUR",
    "DE LA REPUBLIQUE", "DES ECOLES", "DU MOULIN", "DE L'EGLISE", "DE LA MAIRIE", "DES LILAS",
    "DU STADE", "DE LA LIBERATION", "DES ROSIERS", "DU CHATEAU", "DE PARIS", "DES JARDINS",
    "DU 8 MAI 1945", "DE LA FONTAINE", "DES PRES", "DU PONT", "DE LA POSTE", "DES CHENES",
    "DU BOIS", "DE LA PAIX", "ANATOLE FRANCE", "DES VIGNES", "DE VERDUN", "DU MARCHE",
)
_TYPVOIES: tuple[str, ...] = ("R", "AV", "BD", "RTE", "PL", "CHE", "ALL", "IMP", "QU", "SQ")
_TYPVOIE_WEIGHTS: tuple[float, ...] = (0.45, 0.17, 0.07, 0.1, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01)
# fmt: on


def addresses(n: int, rng: np.random.Generator) -> Columns:
    """Street fields: number (sometimes empty), type, name, bis/ter, lieu-dit or PO box."""
    numvoie = rng.integers(1, 250, size=n).astype(str).astype(object)
    numvoie[rng.random(n) < 0.15] = ""
    weights = np.array(_TYPVOIE_WEIGHTS) / sum(_TYPVOIE_WEIGHTS)
    typvoie = np.array(_TYPVOIES, dtype=object)[rng.choice(len(_TYPVOIES), size=n, p=weights)]
    voie = pick(_VOIES, n, rng)
    compvoie = np.where(rng.random(n) < 0.03, pick(("B", "T"), n, rng), "").astype(object)
    compvoie[numvoie == ""] = ""
    u = rng.random(n)
    bp = cat("BP ", rng.integers(1, 400, size=n).astype(str))
    lieudit = cat("LIEU DIT ", pick(RESIDENCES, n, rng))
    lieuditbp = np.where(u < 0.06, bp, np.where(u < 0.09, lieudit, "")).astype(object)
    return {
        "numvoie": numvoie,
        "typvoie": typvoie,
        "voie": voie,
        "compvoie": compvoie,
        "lieuditbp": lieuditbp,
    }
