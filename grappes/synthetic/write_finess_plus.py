"""Write a synthetic register in the FINESS+ open-data JSON flow (``finess-structures``).

Why: since 2026 the register is published as a daily
``finess-structures-journalier-AAAAMMJJ.json.gz``
(project reference ``finess-plus.md``); the sample, the tests and the benchmark need files in that
format with the same establishments as the etalab CSV written by ``grappes.synthetic``, so
that both readers can be checked against each other.

What it writes, on the data of :func:`grappes.synthetic.generate` (every name ``FICTIF``):
the top-level object ``schemaVersion``, ``generatedAt``, then ``gcc``, ``gco`` and ``pmej`` (in the
order of the published example); one ``pmej`` per OG with its ``ege``. It reproduces the traps
seen in the real files, so that the sample exercises the reader:

- key casing of the real files (``informationsGeneralesPMEJ``,
  ``categorieentiteGeographiqueExercice``, ``modefixationtarifaire``);
- coded values mostly bare (``"500"``), some as ``{code, system}`` objects;
- a reception address (``usageAdresse`` "06") before the geographic one ("03") for a few
  establishments;
- the two coordinate pairs in the three layouts met: projected x/y in ``coordonneeX/Y`` and
  WGS84 in ``directionLongitude/Latitude``; the reverse; and the projected pair swapped
  (``coordonneeX`` = northing, as in the ANS example);
- commune-level BAN keys (no "_") for the establishments geocoded at the commune centre, no
  coordinates at all for those without a geolocation;
- closed establishments (``dateFermeture``, ``etatObjet`` "I") and a closed OG, which a reader
  must set aside;
- groups of OGs (``gcc``) and of establishments (``gco``), referencing ``pmSmsseId`` / ``egeId``.

The file is written one ``pmej`` at a time (bounded memory for a national file) and gzip
output is byte-reproducible (``mtime=0``, no file name in the header).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from grappes.core.finess import luhn_key
from grappes.synthetic.generate import SyntheticData, expected_counts, generate

SCHEMA_VERSION = "1.0.0"
SYSTEM_STATUT = "https://smt.esante.gouv.fr/fhir/CodeSystem/tre-r400-finess-statut-juridique"
SYSTEM_CATEGORIE = (
    "https://smt.esante.gouv.fr/fhir/CodeSystem/tre-r397-categorie-entite-geographique-exercice"
)
#: share of records written with a trap (deterministic draws from the data's seed)
SHARE_CODED_OBJECT = 0.1
SHARE_RECEPTION_FIRST = 0.05
SHARE_CLOSED = 0.01


def finess_plus_name(extraction_date: str) -> str:
    """``finess-structures-journalier-AAAAMMJJ.json.gz`` for an extraction date."""
    return f"finess-structures-journalier-{extraction_date.replace('-', '')}.json.gz"


def _coded(code: str, system: str, as_object: bool) -> Any:
    return {"code": code, "system": system} if as_object else code


def _coordinates(row: dict[str, Any], layout: int) -> dict[str, str] | None:
    """The ``coordonneesGeographique`` object of one establishment (None: no coordinates)."""
    if not row["has_geo"]:
        return None
    lon, lat = f"{row['lon']:.6f}", f"{row['lat']:.6f}"
    x, y = str(row["coordxet"]), str(row["coordyet"])
    if layout == 0:  # projected in coordonnee*, WGS84 in direction*
        pair = {"coordonneeX": x, "coordonneeY": y, "directionLatitude": lat,
                "directionLongitude": lon}  # fmt: skip
    elif layout == 1:  # the reverse
        pair = {"coordonneeX": lon, "coordonneeY": lat, "directionLatitude": y,
                "directionLongitude": x}  # fmt: skip
    else:  # projected pair swapped, as in the ANS example (coordonneeX = northing)
        pair = {"coordonneeX": y, "coordonneeY": x, "directionLatitude": lat,
                "directionLongitude": lon}  # fmt: skip
    if row["geo_source"] == "centroide":
        pair["cleInInteropBAN"] = str(row["commune_insee"])
        pair["scoreBAN"] = "0.31"
    else:
        voie = str(row["numvoie"] or "1").zfill(5)
        pair["cleInInteropBAN"] = f"{row['commune_insee']}_{int(row['ban_voie']):04d}_{voie}"
        pair["scoreBAN"] = f"0.{int(row['score']):02d}"
    return pair


def _ege(row: dict[str, Any], ege_id: int) -> dict[str, Any]:
    infos: dict[str, Any] = {
        "egeId": str(ege_id),
        "dateOuverture": row["dateouv"],
        "datePremiereAutorisation": row["dateautor"],
        "nomEgeCourt": row["rs"],
        "nomEgeLong": row["rslongue"],
        "numFinessEge": row["nofinesset"],
    }
    if row["siret"]:
        infos["siret"] = row["siret"]
    if row["closed"]:
        infos["dateFermeture"] = row["datefermeture"]
    address: dict[str, Any] = {
        "usageAdresse": "03",
        "numeroVoie": row["numvoie"],
        "typeVoie": row["typvoie"],
        "libelleVoie": row["voie"],
        "cogCommune": row["commune_insee"],
        "ligneAcheminement": row["ligneacheminement"],
        "codePostal": str(row["ligneacheminement"])[:5],
    }
    coords = _coordinates(row, int(row["layout"]))
    if coords is not None:
        address["coordonneesGeographique"] = coords
    addresses = [address]
    if row["reception_first"]:
        commune = row["ej_commune"]
        reception = {"usageAdresse": "06", "cogCommune": commune, "codePostal": commune[:5]}
        addresses.insert(0, reception)
    phones = row["telephone"]
    if row["two_phones"]:
        phones = f"{row['telephone']}/{row['telecopie']}"
    return {
        "informationsGeneralesEGE": infos,
        "categorieentiteGeographiqueExercice": _coded(
            row["categetab"], SYSTEM_CATEGORIE, bool(row["coded_object"])
        ),
        "modefixationtarifaire": row["codemft"],
        "typeBudget": ["01"],
        "adresse": addresses,
        "contact": [{"typeContact": {"roleContact": "01"}, "telecom": {"telephone": phones}}],
        "engagement": [],
        "evenement": [],
        "roleEge": [],
        "etatObjet": "I" if row["closed"] else "A",
        "dateDerniereMaj": f"{row['datemaj']} 00:00:00",
    }


def _pmej(ej: dict[str, Any], pm_id: int, eges: list[dict[str, Any]]) -> dict[str, Any]:
    infos = {
        "pmSmsseId": str(pm_id),
        "dateCreation": ej["datecrea"],
        "denominationLonguePmSmsse": ej["rslongue"],
        "denominationPm": ej["rs"],
        "numFinessPm": ej["nofiness"],
        "siren": ej["siren"],
        "statutJuridique": _coded(ej["statutjuridique"], SYSTEM_STATUT, bool(ej["coded_object"])),
        "typePersonneMorale": "01",
    }
    if ej.get("datefermeture"):
        infos["dateFermeture"] = ej["datefermeture"]
    seat = str(ej["commune_insee"])
    return {
        "informationsGeneralesPMEJ": infos,
        "adresse": [{"usageAdresse": "02", "cogCommune": seat, "codePostal": seat[:5]}],
        "contact": [],
        "engagement": [],
        "evenement": [],
        "ege": eges,
        "etatObjet": "I" if ej.get("datefermeture") else "A",
        "dateDerniereMaj": f"{ej['datecrea']} 00:00:00",
    }


def _closed_rows(et: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Closed establishments (copies of rows under new FINESS numbers), set aside by readers."""

    n = max(1, round(len(et) * SHARE_CLOSED))
    picked = et.iloc[np.sort(rng.choice(len(et), size=min(n, len(et)), replace=False))].copy()
    used = set(et["nofinesset"])
    numbers = []
    for number in picked["nofinesset"]:
        body = str(number)[:8]
        while True:
            body = body[:2] + f"{int(rng.integers(0, 1_000_000)):06d}"
            candidate = body + luhn_key(body)
            if candidate not in used:
                used.add(candidate)
                numbers.append(candidate)
                break
    picked["nofinesset"] = numbers
    picked["rs"] = "ANCIEN " + picked["rs"].str.slice(0, 31)
    picked["closed"] = True
    picked["datefermeture"] = "2014-06-30"
    return picked


def _groups(
    entites: pd.DataFrame, pm_ids: dict[str, int], ege_ids: dict[str, int], et: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``gcc`` (OG groups, per département) and ``gco`` (a head OG and member establishments)."""
    small = entites[entites["og_kind"] == "ap"].copy()
    small["dep"] = small["departement"]
    gcc: list[dict[str, Any]] = []
    gco: list[dict[str, Any]] = []
    for number, (dep, members) in enumerate(sorted(small.groupby("dep")), start=1):
        if len(members) < 3:
            continue
        size = int(min(len(members), rng.integers(3, 7)))
        chosen = members.iloc[np.sort(rng.choice(len(members), size=size, replace=False))]
        gcc.append({
            "gccId": str(number),
            "nomGcc": f"GROUPEMENT FICTIF {dep}",
            "typeGcc": "001",
            "gccIdentifiantExterne": str(10_000 + number),
            "engagement": [],
            "evenement": [],
            "pmejDuGcc": [{"pmSmsseId": str(pm_ids[n]), "typeRoleEntiteGroupe": "M"}
                          for n in chosen["nofiness"]],
            "egeDuGcc": [],
            "etatObjet": "A",
            "dateDerniereMaj": "2025-10-21 19:19:05",
        })  # fmt: skip
        rest = members[~members["nofiness"].isin(chosen["nofiness"])]
        if len(rest) >= 3 and number % 2 == 0:
            head, others = rest.iloc[0], rest.iloc[1:3]
            member_ege = et[et["nofinessej"].isin(others["nofiness"])]["nofinesset"]
            gco.append({
                "pmSmsseId": str(pm_ids[head["nofiness"]]),
                "typeGco": "003",
                "pmejDuGco": [],
                "egeDuGco": [{"egeId": str(ege_ids[e]), "typeRoleEntiteGroupe": "M"}
                             for e in sorted(member_ege)],
            })  # fmt: skip
    return gcc, gco


def _prepare(data: SyntheticData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Establishments (with the closed extras) and OGs with the columns the writer uses."""
    from grappes.geo.territories import finess_communes_to_insee

    rng = np.random.default_rng(data.seed + 15_015)
    et = data.etablissements.copy()
    n = len(et)
    et["closed"] = False
    et["datefermeture"] = ""
    et["layout"] = rng.integers(0, 3, n)
    et["coded_object"] = rng.random(n) < SHARE_CODED_OBJECT
    et["reception_first"] = rng.random(n) < SHARE_RECEPTION_FIRST
    et["two_phones"] = rng.random(n) < 0.02
    et["ban_voie"] = rng.integers(1, 9999, n)
    et["score"] = rng.integers(80, 100, n)
    ej = data.entites.copy()
    ej["commune_insee"] = finess_communes_to_insee(ej["departement"], ej["commune"]).to_numpy()
    ej["coded_object"] = rng.random(len(ej)) < SHARE_CODED_OBJECT
    ej["datefermeture"] = ""
    seat = pd.Series(ej["commune_insee"].to_numpy(), index=ej["nofiness"].to_numpy())
    et["ej_commune"] = seat.reindex(et["nofinessej"].to_numpy()).fillna("").to_numpy()
    closed = _closed_rows(et, rng)
    et = pd.concat([et, closed], ignore_index=True)
    # one closed OG without establishments, as in the ANS example
    gone = ej.iloc[[0]].copy()
    gone["nofiness"] = _unused_number(str(gone["nofiness"].iloc[0]), set(ej["nofiness"]), rng)
    gone["rs"] = "ANCIENNE ASSOCIATION FICTIVE"
    gone["datefermeture"] = "2019-03-03"
    ej = pd.concat([ej, gone], ignore_index=True).sort_values("nofiness", kind="stable")
    et = et.sort_values(["nofinessej", "nofinesset"], kind="stable").reset_index(drop=True)
    return et, ej.reset_index(drop=True)


def _unused_number(seed_number: str, used: set[str], rng: np.random.Generator) -> str:

    while True:
        body = seed_number[:2] + f"{int(rng.integers(0, 1_000_000)):06d}"
        candidate = body + luhn_key(body)
        if candidate not in used:
            return candidate


def iter_finess_plus(data: SyntheticData) -> Iterator[str]:
    """The JSON text of the flow, in pieces (one ``pmej`` per piece after the groups)."""
    et, ej = _prepare(data)
    rng = np.random.default_rng(data.seed + 15_016)
    pm_ids = {str(n): i for i, n in enumerate(ej["nofiness"], start=1)}
    ege_ids = {str(n): i for i, n in enumerate(et["nofinesset"], start=1)}
    gcc, gco = _groups(ej, pm_ids, ege_ids, et, rng)
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    yield (
        f'{{"schemaVersion":{dump(SCHEMA_VERSION)},'
        f'"generatedAt":{dump(data.extraction_date + "T05:00:00Z")},'
        f'"gcc":{dump(gcc)},"gco":{dump(gco)},"pmej":['
    )
    by_ej = et.groupby("nofinessej", sort=True).indices
    records = et.to_dict("records")
    for k, ej_row in enumerate(ej.to_dict("records")):
        number = str(ej_row["nofiness"])
        eges = [_ege(records[i], ege_ids[str(records[i]["nofinesset"])])
                for i in by_ej.get(number, [])]  # fmt: skip
        piece = dump(_pmej(ej_row, pm_ids[number], eges))
        yield ("," if k else "") + piece
    yield "]}\n"


def write_finess_plus(
    data: SyntheticData, path: str | Path, *, compress: bool | None = None
) -> Path:
    """Write ``data`` as a FINESS+ structures file; gzip when the name ends with ``.gz``.

    The gzip member has no time stamp and no file name, so the same data give the same bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gz = path.name.endswith(".gz") if compress is None else compress
    with path.open("wb") as raw:
        if gz:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as z:
                _write_text(io.TextIOWrapper(z, encoding="utf-8", newline=""), data)
        else:
            _write_text(io.TextIOWrapper(raw, encoding="utf-8", newline=""), data)
    return path


def _write_text(handle: TextIO, data: SyntheticData) -> None:
    for piece in iter_finess_plus(data):
        handle.write(piece)
    handle.flush()
    handle.detach()  # type: ignore[attr-defined]


def write_national_finess_plus(path: str | Path, n_et: int = 100_000, seed: int = 0) -> Path:
    """A national-size FINESS+ file of about ``n_et`` establishments (all kinds), for benchmarks."""
    if n_et <= 0:
        msg = f"nombre d'établissements invalide : {n_et}"
        raise ValueError(msg)
    expected = expected_counts(None, 1.0, True, autres_sanitaires=True).sum()
    data = generate(
        None, seed=seed, scale=n_et / expected, include_overseas=True, autres_sanitaires=True
    )
    return write_finess_plus(data, path)


__all__ = ["finess_plus_name", "iter_finess_plus", "write_finess_plus",
           "write_national_finess_plus"]  # fmt: skip
