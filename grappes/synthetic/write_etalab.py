"""Writing the generated register: the two etalab files and the DUI side file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from grappes.synthetic.generate import SyntheticData
from grappes.synthetic.layout import (
    DUI_FIELDS,
    ETALAB_META_NUMBER,
    STRUCTUREEJ_FIELDS,
    STRUCTUREET_FIELDS,
    etalab_names,
)


@dataclass(frozen=True)
class SyntheticPaths:
    """Where ``write_etalab`` put the three files (unpacks as a tuple)."""

    etablissements: Path
    ej: Path
    dui: Path

    def __iter__(self) -> Iterator[Path]:
        return iter((self.etablissements, self.ej, self.dui))


_SPECIAL = ('"', ";", "\n", "\r")


def _quoted(values: np.ndarray) -> np.ndarray:
    """RFC-4180 quoting of the cells that need it (``csv.QUOTE_MINIMAL`` with ``;``)."""
    if not any(ch in "".join(values) for ch in _SPECIAL):
        return values
    return np.array(
        [
            '"' + v.replace('"', '""') + '"' if any(ch in v for ch in _SPECIAL) else v
            for v in values
        ],
        dtype=object,
    )


def etalab_lines(frame: pd.DataFrame) -> str:
    """The frame's rows as ``;``-separated lines, quoted like the csv module would.

    Why not ``csv.writer``: joining strings is several times faster on 100 000 rows, and the
    result is the same (``tests/test_synthetic_format.py`` checks it against the csv module).
    """
    if frame.empty:
        return ""
    columns = [_quoted(frame[c].to_numpy(dtype=object)) for c in frame.columns]
    return "\n".join(map(";".join, zip(*columns, strict=True))) + "\n"


def _write_etalab_file(path: Path, date: str, sections: Sequence[pd.DataFrame]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"finess;etalab;{ETALAB_META_NUMBER};{date}\n")
        for frame in sections:
            fh.write(etalab_lines(frame))


def _write_dui_file(frame: pd.DataFrame, path: Path) -> None:
    """The DUI side file as French Excel saves it: ``;``, UTF-8 with BOM, ``\r\n`` line ends.

    Written here rather than with ``grappes.exports.french_excel``, which the generator may
    not import (it sits beside ingest, below the exports: tests/test_architecture.py). The
    cells are generated FINESS numbers, vendor names, codes and oui/non: none starts with a
    character a spreadsheet reads as a formula, so there is nothing to neutralise.
    """
    text = frame.to_csv(sep=";", index=False, lineterminator="\r\n")
    path.write_bytes(text.encode("utf-8-sig"))


def write_etalab(data: SyntheticData, folder: str | Path) -> SyntheticPaths:
    """Write the establishments (cs1100507), legal entities (cs1100501) and DUI files.

    The etalab files are UTF-8 without BOM, ``;``-separated, RFC-4180 quoting, ``\\n`` line
    ends, no header; the DUI file is French-Excel CSV (``;``, UTF-8 BOM, ``\r\n``), as an OG
    would send it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    et_name, ej_name, dui_name = etalab_names(data.extraction_date)
    et = data.etablissements
    struct = et[list(STRUCTUREET_FIELDS)]
    geo = et.loc[
        et["has_geo"].to_numpy(),
        ["nofinesset", "coordxet", "coordyet", "sourcecoordet", "geo_datemaj"],
    ].copy()
    geo.insert(0, "section", "geolocalisation")
    paths = SyntheticPaths(folder / et_name, folder / ej_name, folder / dui_name)
    _write_etalab_file(paths.etablissements, data.extraction_date, [struct, geo])
    _write_etalab_file(paths.ej, data.extraction_date, [data.entites[list(STRUCTUREEJ_FIELDS)]])
    _write_dui_file(data.dui[list(DUI_FIELDS)], paths.dui)
    return paths
