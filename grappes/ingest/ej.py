"""Read the FINESS legal-entities extract (cs1100501, ``structureej``) and join it on the OGs.

It gives each OG its name and legal status (``statutjuridique``, item 17 of 23). A simple CSV
with the header ``finess_ej;raison_sociale_ej;statut_juridique`` is accepted too. The EJ
extract is national while the establishments may be one région's: EJ lines that match no
establishment are simply not used (they are not rejects); malformed lines are rejected with
source ``ej``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.model import LoadResult, Rejet
from grappes.core.nomenclature import statut_agrege_series
from grappes.ingest.base import (
    Source,
    decode_text,
    format_lines,
    head_lines,
    isin,
    lookup,
    read_bytes,
    reject_bad_keys,
    split_text,
)
from grappes.ingest.errors import IngestError
from grappes.ingest.etalab import SECTION_EJ, first_cells, wrong_separator
from grappes.ingest.template import find_separator, read_table, restore_zeros

SOURCE = "ej"
EJ_ITEMS = 23
_NOFINESS, _RS, _RSLONGUE, _STATUT = 1, 2, 3, 16

ROLE = "fichier des entités juridiques (--ej)"


def read_ej(src: Source, max_bytes: int) -> tuple[pd.DataFrame, list[Rejet], list[str]]:
    """The EJ table (finess_ej, raison_sociale_ej, statut_juridique, ligne), rejects, warnings."""
    decoded = decode_text(read_bytes(src, max_bytes, ROLE), ROLE)
    frame, rejets, warnings = _read_text(decoded.text)
    return frame, rejets, decoded.warnings + warnings


def _read_text(text: str) -> tuple[pd.DataFrame, list[Rejet], list[str]]:
    lines = head_lines(text, 3)
    if not lines:  # only blank lines in the first 64 KB
        msg = f"{ROLE} vide : aucune ligne à lire au début du fichier."
        raise IngestError(msg)
    first = lines[0]
    if find_separator(first, ("finess_ej",)) is not None:
        return _read_csv(text)
    cells = first_cells(first)
    is_etalab = cells[:2] == ["finess", "etalab"] or cells[0] == SECTION_EJ
    if not is_etalab:
        sep = wrong_separator(first)
        hint = f"séparateur {sep} au lieu de « ; »" if sep else f"ligne 1 : « {first[:80]} »"
        msg = (
            f"{ROLE} non reconnu ({hint}) ; attendu l'extrait etalab cs1100501 (lignes "
            "structureej) ou un CSV finess_ej;raison_sociale_ej;statut_juridique"
        )
        raise IngestError(msg)
    if any(first_cells(line)[0] == "structureet" for line in lines[:3]):
        msg = (
            f"{ROLE} : ce fichier contient des établissements (structureet) ; donnez ici "
            "l'extrait des entités juridiques (cs1100501)"
        )
        raise IngestError(msg)
    return _read_etalab(text)


def _read_etalab(text: str) -> tuple[pd.DataFrame, list[Rejet], list[str]]:
    rejets: list[Rejet] = []
    split = split_text(text, rejets, {}, source=SOURCE)
    record = split.keep & ~split.blank
    starts = np.flatnonzero(record)
    if len(starts):
        first = int(starts[0])
        cells = split.cells(first)
        if split.section[first] == "finess" and len(cells) > 1 and cells[1].strip() == "etalab":
            record[first] = False
    is_ej = record & (split.section == SECTION_EJ)
    ok = is_ej & (split.count == EJ_ITEMS)
    for i in np.flatnonzero(record & ~ok):
        cells = split.cells(int(i))
        if is_ej[i]:
            reason = (
                f"ligne structureej tronquée ou mal formée : {len(cells)} champs au lieu "
                f"de {EJ_ITEMS}"
            )
            value = cells[1].strip() if len(cells) > 1 else ""
            rejets.append(Rejet(int(i) + 1, "ligne", reason, value, SOURCE))
            continue
        reason = f"section inconnue « {cells[0][:40]} » (attendu : structureej)"
        sep = wrong_separator(cells[0]) if len(cells) == 1 else None
        if sep:
            reason = f"séparateur incorrect : {sep} au lieu de « ; »"
        rejets.append(Rejet(int(i) + 1, "section", reason, cells[0][:60], SOURCE))
    cols = split.columns(ok, {"ej": _NOFINESS, "rs": _RS, "rsl": _RSLONGUE, "statut": _STATUT})
    rs = cols["rs"].str.strip()
    rsl = cols["rsl"].str.strip()
    frame = pd.DataFrame(
        {
            "finess_ej": cols["ej"].str.strip().str.upper().array,
            "raison_sociale_ej": rsl.where(rsl != "", rs).array,
            "statut_juridique": cols["statut"].str.strip().array,
            "ligne": cols["ej"].index.to_numpy(dtype="int64"),
        }
    )
    return _validate(frame, rejets, [])


def _read_csv(text: str) -> tuple[pd.DataFrame, list[Rejet], list[str]]:
    table = read_table(
        text, ("finess_ej",), ("raison_sociale_ej", "statut_juridique"), source=SOURCE, role=ROLE
    )
    warnings = [f"{ROLE} : {w}" for w in table.warnings]
    lines = pd.Series(table.lines, dtype="int64")
    n = len(lines)

    def column(name: str) -> pd.Series:
        values = table.data.get(name, [""] * n)
        return pd.Series(values, dtype="string")

    frame = pd.DataFrame(
        {
            "finess_ej": restore_zeros(
                column("finess_ej").str.upper(), 9, lines, "finess_ej", warnings
            ),
            "raison_sociale_ej": column("raison_sociale_ej"),
            "statut_juridique": restore_zeros(
                column("statut_juridique"), 2, lines, "statut_juridique", warnings
            ),
            "ligne": lines,
        }
    )
    return _validate(frame, table.rejets, warnings)


def _validate(
    frame: pd.DataFrame, rejets: list[Rejet], warnings: list[str]
) -> tuple[pd.DataFrame, list[Rejet], list[str]]:
    frame, bad_keys = reject_bad_keys(
        frame,
        "finess_ej",
        SOURCE,
        lambda v, first: f"doublon : l'entité juridique {v} figure déjà ligne {first}",
    )
    rejets.extend(bad_keys)
    statut = frame["statut_juridique"].fillna("")
    bad_statut = (statut != "") & ~statut.str.fullmatch(r"[0-9]{2}").fillna(False)
    if bad_statut.any():
        warnings.append(
            f"{ROLE} : statut juridique mal formé pour {int(bad_statut.sum())} entité(s), statut "
            f"inconnu ({format_lines(frame['ligne'][bad_statut])})"
        )
        frame = frame.assign(statut_juridique=statut.where(~bad_statut, ""))
    return frame.reset_index(drop=True), rejets, warnings


def apply_ej(
    result: LoadResult, ej: pd.DataFrame, ej_rejets: list[Rejet], ej_warnings: list[str]
) -> None:
    """Fill OG name and legal status from the EJ table (in place); the file's values win
    only where the main file left them empty."""
    table = result.etablissements
    result.rejets.extend(ej_rejets)
    result.warnings.extend(ej_warnings)
    if table.empty:
        return
    position = lookup(table["finess_ej"], ej["finess_ej"])
    matched = pd.Series(position >= 0, index=table.index)
    take = np.where(matched, position, 0)
    for column in ("raison_sociale_ej", "statut_juridique"):
        from_ej = (
            pd.Series(
                ej[column].to_numpy()[take] if len(ej) else "", index=table.index, dtype="string"
            )
            .where(matched, "")
            .fillna("")
        )
        table[column] = table[column].where(table[column] != "", from_ej)
    table["statut_agrege"] = statut_agrege_series(table["statut_juridique"])
    missing = ~matched
    n_og = int(table.loc[missing, "finess_ej"].nunique())
    if n_og:
        result.warnings.append(
            f"{n_og} entité(s) juridique(s) absente(s) du fichier EJ : statut juridique inconnu "
            f"pour {int(missing.sum())} établissement(s) "
            f"({format_lines(np.sort(table.loc[missing, 'ligne'].to_numpy()))})"
        )
    result.meta["ej_lignes_utilisees"] = int(isin(ej["finess_ej"], table["finess_ej"]).sum())
    result.meta["ej_lignes"] = len(ej)
