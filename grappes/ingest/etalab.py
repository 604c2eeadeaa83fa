"""Read the official FINESS establishments extracts (etalab cs1100507 and cs1100502).

Layout (project reference finess.md, sections 1-2): a metadata first line
``finess;etalab;<n>;<date>``, then ``structureet`` records (32 items, 31 in files older than
about 2021), then in cs1100507 ``geolocalisation`` records (6 items) joined on the FINESS
number; ``;`` separated, no header, RFC-4180 quoting. The csv module streams the lines into
column lists (one pass, no per-row objects) and pandas does the rest vectorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.model import LoadResult, Rejet
from grappes.ingest.base import (
    Parsed,
    Progress,
    format_lines,
    head_lines,
    raw_frame,
    split_text,
)

KIND_GEO = "etalab_cs1100507"
KIND_NOGEO = "etalab_cs1100502"

SECTION_ET = "structureet"
SECTION_GEO = "geolocalisation"
SECTION_EJ = "structureej"
ET_ITEMS = (32, 31)
GEO_ITEMS = 6

# positions (0-based) in a structureet record
_ET, _EJ, _RS, _RSLONGUE, _COMMUNE, _DEP, _CATEG, _LIBCATEG, _LIBMFT = (
    1,
    2,
    3,
    4,
    12,
    13,
    18,
    19,
    25,
)
# positions in a geolocalisation record
_GX, _GY, _GSOURCE = 2, 3, 4


def first_cells(line: str) -> list[str]:
    """The cells of one line split on ``;`` (for sniffing only, quotes ignored)."""
    return [cell.strip().strip('"').lower() for cell in line.split(";")]


def is_etalab_head(line: str) -> bool:
    """True for the etalab metadata line or a structureet / geolocalisation record."""
    cells = first_cells(line)
    if cells[:2] == ["finess", "etalab"]:
        return True
    return cells[0] in (SECTION_ET, SECTION_GEO) and len(cells) > 1


def wrong_separator(line: str) -> str | None:
    """The separator an etalab-looking line uses instead of ``;`` (',' or tab), else None."""
    lowered = line.strip().lower()
    for sep, name in ((",", "« , » (virgule)"), ("\t", "tabulation"), ("|", "« | »")):
        cells = [c.strip().strip('"') for c in lowered.split(sep)]
        if len(cells) > 1 and (
            cells[:2] == ["finess", "etalab"] or cells[0] in (SECTION_ET, SECTION_GEO, SECTION_EJ)
        ):
            return name
    return None


class EtalabReader:
    """Reader of cs1100507 (with geolocation) and cs1100502 (without) extracts."""

    kind = KIND_GEO

    def sniff(self, head_text: str) -> bool:
        lines = head_lines(head_text, 2)
        return bool(lines) and is_etalab_head(lines[0])

    def read(
        self, text: str, *, encoding: str = "", progress: Progress | None = None
    ) -> LoadResult:
        from grappes.ingest.pipeline import normalise

        parsed = self.parse(text, progress=progress)
        return normalise(parsed, kind=parsed.meta.get("kind", self.kind), encoding=encoding)

    def parse(self, text: str, progress: Progress | None = None) -> Parsed:
        """Split the records by section; malformed lines become rejects here."""
        rejets: list[Rejet] = []
        meta: dict = {"lignes_continuation": []}
        split = split_text(text, rejets, meta)
        total = len(split.lines)
        if progress is not None:
            progress(total // 2, total)
        record = split.keep & ~split.blank
        meta["lignes_vides"] = int((split.keep & split.blank).sum())
        starts = np.flatnonzero(record)
        if len(starts):
            first = int(starts[0])
            cells = split.cells(first)
            if split.section[first] == "finess" and len(cells) > 1 and cells[1].strip() == "etalab":
                meta["etalab"] = [c.strip() for c in cells[1:]]
                meta["ligne_meta"] = first + 1
                record[first] = False
        is_et = record & (split.section == SECTION_ET)
        is_geo = record & (split.section == SECTION_GEO)
        et_ok = is_et & np.isin(split.count, ET_ITEMS)
        geo_ok = is_geo & (split.count == GEO_ITEMS)
        for i in np.flatnonzero(record & ~et_ok & ~geo_ok):
            cells = split.cells(int(i))
            if is_et[i]:
                rejets.append(_bad_count(int(i) + 1, len(cells), "32 (ou 31)", cells))
            elif is_geo[i]:
                rejets.append(_bad_count(int(i) + 1, len(cells), str(GEO_ITEMS), cells))
            else:
                rejets.append(_bad_section(int(i) + 1, cells))
        old_form = int((et_ok & (split.count == 31)).sum())
        et = split.columns(
            et_ok,
            {
                "et": _ET,
                "ej": _EJ,
                "rs": _RS,
                "rsl": _RSLONGUE,
                "commune": _COMMUNE,
                "dep": _DEP,
                "categ": _CATEG,
                "libcateg": _LIBCATEG,
                "libmft": _LIBMFT,
            },
        )
        geo = split.columns(geo_ok, {"et": 1, "x": _GX, "y": _GY, "source": _GSOURCE})
        parsed = self._build(et, geo, rejets, meta, old_form)
        if progress is not None:
            progress(total, total)
        return parsed

    def _build(
        self,
        et: dict[str, pd.Series],
        geo: dict[str, pd.Series],
        rejets: list[Rejet],
        meta: dict,
        old_form: int,
    ) -> Parsed:
        from grappes.geo.territories import finess_communes_to_insee, finess_departement_to_insee

        n = len(et["et"])
        dep = et["dep"].str.strip().str.upper()
        com = et["commune"].str.strip()
        # geo converts pair by pair in Python: call it once per distinct (dep, commune) pair
        pair_codes, _ = pd.factorize(dep + "|" + com)
        firsts = np.unique(pair_codes, return_index=True)[1]
        distinct = finess_communes_to_insee(dep.iloc[firsts], com.iloc[firsts]).to_numpy()
        insee = pd.Series(distinct[pair_codes] if n else [], index=dep.index, dtype="string")
        commune = insee.where(insee != "", dep + "/" + com)
        dep_map = {d: finess_departement_to_insee(d) for d in pd.unique(dep)}
        rs = et["rs"].str.strip()
        rsl = et["rsl"].str.strip()
        name = rsl.where(rsl != "", rs)
        rows = raw_frame(
            {
                "ligne": et["et"].index.to_numpy(),
                "finess_et": et["et"].str.strip().str.upper(),
                "finess_ej": et["ej"].str.strip().str.upper(),
                "raison_sociale": name,
                "categorie": et["categ"].str.strip(),
                "categorie_libelle": et["libcateg"],
                "commune": commune,
                "departement": dep.map(dep_map).fillna(""),
                "libmft": et["libmft"],
            },
            n,
        )
        geoloc = pd.DataFrame(
            {
                "ligne": geo["et"].index.to_numpy(dtype="int64"),
                "finess_et": geo["et"].str.strip().str.upper().array,
                "x": pd.to_numeric(geo["x"].str.strip(), "coerce").to_numpy(dtype="float64"),
                "y": pd.to_numeric(geo["y"].str.strip(), "coerce").to_numpy(dtype="float64"),
                "source": geo["source"].array,
            }
        )
        has_geo = len(geoloc) > 0
        meta["kind"] = KIND_GEO if has_geo else KIND_NOGEO
        meta["lignes_structureet"] = n
        meta["lignes_geolocalisation"] = len(geoloc)
        warnings: list[str] = []
        if old_form:
            warnings.append(
                f"{old_form} lignes structureet à 31 champs (ancien format, sans numuai) : "
                "lues normalement."
            )
        short = (com.str.fullmatch(r"[0-9]{1,2}").fillna(False) & (insee != "")).to_numpy(bool)
        if short.any():
            first = int(np.flatnonzero(short)[0])
            warnings.append(
                f"code commune de moins de 3 chiffres complété par des zéros à gauche pour "
                f"{int(short.sum())} établissement(s) ({format_lines(rows['ligne'][short])}), "
                f"par exemple « {com.iloc[first]} » → {insee.iloc[first]} : vérifiez la commune "
                "(le champ commune de l'extrait FINESS a 3 chiffres)."
            )
        return Parsed(
            rows=rows,
            rejets=rejets,
            warnings=warnings,
            meta=meta,
            geoloc=geoloc if has_geo else None,
            has_coordinates=has_geo,
        )


def _bad_count(line: int, n: int, expected: str, record: list[str]) -> Rejet:
    section = record[0].strip().lower()
    value = record[1].strip() if len(record) > 1 else ""
    if n == 1:
        from_sep = wrong_separator(record[0])
        if from_sep:
            reason = f"séparateur incorrect : {from_sep} au lieu de « ; »"
            return Rejet(line, "ligne", reason, record[0][:60], "")
    reason = f"ligne {section} tronquée ou mal formée : {n} champs au lieu de {expected}"
    return Rejet(line, "ligne", reason, value, "")


def _bad_section(line: int, record: list[str]) -> Rejet:
    cell = record[0].strip()
    if len(record) == 1:
        sep = wrong_separator(cell)
        if sep:
            reason = f"séparateur incorrect : {sep} au lieu de « ; »"
            return Rejet(line, "ligne", reason, cell[:60], "")
    if cell.lower() == SECTION_EJ:
        reason = "ligne structureej (entité juridique) dans un fichier d'établissements : passez "
        reason += "l'extrait des entités juridiques avec --ej"
        return Rejet(line, "section", reason, cell[:60], "")
    if cell.startswith("\ufeff"):
        reason = (
            "caractère invisible BOM (U+FEFF) en début de ligne, devant "
            f"« {cell.lstrip(chr(0xFEFF))[:40]} » : ligne rejetée (souvent deux fichiers "
            "collés l'un à l'autre) ; retirez ce caractère"
        )
        return Rejet(line, "section", reason, cell.lstrip(chr(0xFEFF))[:60], "")
    reason = f"section inconnue « {cell[:40]} » (attendu : structureet ou geolocalisation)"
    return Rejet(line, "section", reason, cell[:60], "")
