"""Read the DUI side file and join it onto the establishments (``--dui FILE``).

Same rules as the CSV template (``;`` or ``,``, UTF-8 or latin-1, BOM or not): a header with
``finess_et`` and at least one of ``dui_editeur``, ``dui_statut``, ``editeur_segur``,
``deja_finance``. Each side-file row must name an establishment of the main file; otherwise
it is rejected with source ``dui``. Values given here replace those of the main file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grappes.core.model import CHAMPS, DUI_INCONNU, LoadResult, Rejet
from grappes.ingest.base import (
    Source,
    decode_text,
    format_lines,
    isin,
    read_bytes,
    reject_bad_keys,
)
from grappes.ingest.errors import IngestError
from grappes.ingest.template import (
    DUI_COLUMNS,
    normalise_dui_columns,
    read_table,
    restore_zeros,
)

SOURCE = "dui"
ROLE = "fichier DUI (--dui)"


def read_dui(src: Source, max_bytes: int) -> tuple[pd.DataFrame, list[Rejet], list[str]]:
    """The DUI rows (finess_et, the DUI columns given, ligne), rejects and warnings."""
    decoded = decode_text(read_bytes(src, max_bytes, ROLE), ROLE)
    table = read_table(decoded.text, ("finess_et",), DUI_COLUMNS, source=SOURCE, role=ROLE)
    given = [c for c in DUI_COLUMNS if c in table.data]
    if not given:
        msg = (
            f"{ROLE} : aucune colonne DUI dans l'en-tête (attendu au moins une de "
            f"{', '.join(DUI_COLUMNS)})"
        )
        raise IngestError(msg)
    warnings = decoded.warnings + [f"{ROLE} : {w}" for w in table.warnings]
    lines = pd.Series(table.lines, dtype="int64")
    frame = pd.DataFrame({c: pd.Series(table.data[c], dtype="string") for c in given})
    frame["finess_et"] = restore_zeros(
        pd.Series(table.data["finess_et"], dtype="string").str.upper(),
        9,
        lines,
        "finess_et",
        warnings,
    )
    frame["ligne"] = lines
    normalise_dui_columns(frame, lines, warnings, role=ROLE)
    rejets = list(table.rejets)
    frame, bad_keys = reject_bad_keys(
        frame,
        "finess_et",
        SOURCE,
        lambda v, first: f"doublon : {v} figure déjà ligne {first} du fichier DUI",
    )
    rejets.extend(bad_keys)
    return frame.reset_index(drop=True), rejets, warnings


def apply_dui(
    result: LoadResult, dui: pd.DataFrame, dui_rejets: list[Rejet], dui_warnings: list[str]
) -> None:
    """Join the DUI rows onto the loaded establishments (in place)."""
    table = result.etablissements
    result.warnings.extend(dui_warnings)
    known = isin(dui["finess_et"], table["finess_et"])
    rejected_main = {r.value for r in result.rejets if r.source == "" and r.field == "finess_et"}
    orphan = dui[~known]
    for line, value in zip(orphan["ligne"], orphan["finess_et"], strict=True):
        reason = (
            "établissement absent du fichier principal"
            if value not in rejected_main
            else "établissement rejeté dans le fichier principal"
        )
        dui_rejets.append(Rejet(int(line), "finess_et", reason, str(value), SOURCE))
    result.rejets.extend(sorted(dui_rejets, key=lambda r: r.line))
    dui = dui[known].set_index("finess_et")
    if table.empty:
        return
    for col in DUI_COLUMNS:
        if col not in dui:
            continue
        values = table["finess_et"].map(dui[col]).astype("string")
        given = values.notna() & (values != "")
        if col == "dui_editeur" or col == "dui_statut":
            table[col] = table[col].where(~given, values)
        else:
            as_bool = values.map({"oui": True, "non": False}).astype("boolean")
            table[col] = table[col].where(~given, as_bool)
    table["deja_finance"] = table["deja_finance"].fillna(False)
    # only ESMS of the programme need a DUI: hospitals and other rows are not reported
    missing = ~isin(table["finess_et"], dui.index) & table["champ"].isin(CHAMPS)
    result.meta["dui_lignes_utilisees"] = int(known.sum())
    if missing.any():
        result.warnings.append(
            f"{int(missing.sum())} ESMS sans ligne dans le fichier DUI : statut DUI "
            f"{DUI_INCONNU} ({format_lines(np.sort(table.loc[missing, 'ligne'].to_numpy()))})"
        )
