"""Known partnerships between OGs (``--liens``): an existing GCSMS or a habit of working together.

The solver gives such pairs a bonus weight (``GraphWeights.link``); reading and checking the
file is ingest's job, like every other input.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from grappes.core.finess import FINESS_RE, check_finess
from grappes.ingest.errors import IngestError


def read_links(source: str | Path | bytes | pd.DataFrame) -> pd.DataFrame:
    """Known partnerships between OGs from a CSV ``finess_ej_a;finess_ej_b``.

    Accepts ``;`` or ``,``, UTF-8 (with or without BOM) or latin-1. Returns a frame with the
    two columns, each pair once (sorted). Raises ``ValueError`` with a French message naming
    the line and the field for a malformed file (``IngestError``).
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        lines = list(range(2, len(frame) + 2))
    else:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("latin-1")
        first = content.splitlines()[0] if content.strip() else ""
        sep = ";" if first.count(";") >= first.count(",") else ","
        reader = csv.reader(io.StringIO(content), delimiter=sep)
        rows = [r for r in reader]
        if not rows:
            msg = "fichier de liens vide : en-tête finess_ej_a;finess_ej_b attendu"
            raise IngestError(msg)
        header = [h.strip().lower() for h in rows[0]]
        for col in ("finess_ej_a", "finess_ej_b"):
            if col not in header:
                msg = f"fichier de liens, ligne 1 : colonne {col} manquante"
                raise IngestError(msg)
        ia, ib = header.index("finess_ej_a"), header.index("finess_ej_b")
        data, lines = [], []
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) <= max(ia, ib):
                msg = f"fichier de liens, ligne {number} : colonne finess_ej_b manquante"
                raise IngestError(msg)
            data.append((row[ia].strip(), row[ib].strip()))
            lines.append(number)
        frame = pd.DataFrame(data, columns=["finess_ej_a", "finess_ej_b"])
    for col in ("finess_ej_a", "finess_ej_b"):
        if col not in frame.columns:
            msg = f"liens : colonne {col} manquante"
            raise IngestError(msg)
        values = frame[col].astype("string").fillna("").str.strip()
        for line, value in zip(lines, values, strict=True):
            if not FINESS_RE.match(value):
                msg = f"fichier de liens, ligne {line}, champ {col} : FINESS invalide {value!r}"
                raise IngestError(msg)
        frame[col] = values
    a = frame[["finess_ej_a", "finess_ej_b"]].min(axis=1)
    b = frame[["finess_ej_a", "finess_ej_b"]].max(axis=1)
    out = pd.DataFrame({"finess_ej_a": a, "finess_ej_b": b}).astype("string")
    out = out[out["finess_ej_a"] != out["finess_ej_b"]]
    return out.drop_duplicates().sort_values(["finess_ej_a", "finess_ej_b"]).reset_index(drop=True)


def check_links(links: pd.DataFrame, known_ogs: set[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """The pairs usable with the loaded table, and French warnings for the others.

    Checked like the FINESS+ groups: a number whose check key is wrong (or otherwise not a
    FINESS number), or an OG absent from the loaded establishments (``known_ogs``; None: not
    checked), drops its pair; each kind is counted and the first pairs are named.
    """
    if not len(links):
        return links, []
    a = links["finess_ej_a"].astype(str).tolist()
    b = links["finess_ej_b"].astype(str).tolist()
    invalid: list[str] = []
    unknown: list[str] = []
    keep: list[bool] = []
    for x, y in zip(a, b, strict=True):
        bad = [n for n in (x, y) if check_finess(n)]
        if bad:
            invalid.append(f"{x}/{y} ({', '.join(bad)} : {check_finess(bad[0])})")
            keep.append(False)
            continue
        absent = [n for n in (x, y) if known_ogs is not None and n not in known_ogs]
        if absent:
            unknown.append(f"{x}/{y} ({', '.join(absent)})")
        keep.append(not absent)
    warnings = []
    if invalid:
        warnings.append(
            f"Liens (--liens) : {len(invalid)} paire(s) avec un numéro FINESS invalide, "
            f"ignorée(s) : {_named(invalid)}."
        )
    if unknown:
        warnings.append(
            f"Liens (--liens) : {len(unknown)} paire(s) nommant un OG absent des données "
            f"chargées, ignorée(s) : {_named(unknown)}."
        )
    kept = links[pd.Series(keep, index=links.index)].reset_index(drop=True)
    return kept, warnings


def _named(items: list[str], shown: int = 5) -> str:
    return "; ".join(items[:shown]) + (f" … (+{len(items) - shown})" if len(items) > shown else "")
