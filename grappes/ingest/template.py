"""Read the user CSV template (one establishment per row, a header row with fixed names).

French Excel saves CSV with ``;`` (decimal comma) or ``,``, in UTF-8 with a BOM or in
cp1252, and eats leading zeros of numbers; all of these are accepted: separators are told
apart from the header, ``47,5`` is read as 47.5, and an 8-digit FINESS number or a 4-digit
commune code gets its leading zero back (with a warning).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from grappes.core.columns import FALSE_WORDS, TRUE_WORDS
from grappes.core.formatting import integer_fr
from grappes.core.model import DUI_STATUTS, LoadResult, Rejet
from grappes.ingest.base import (
    Parsed,
    Progress,
    format_lines,
    head_lines,
    iter_records,
    raw_frame,
)
from grappes.ingest.errors import IngestError

KIND = "modele_csv"

#: the template has 14 columns; a header far wider is not a template (and would be slow)
MAX_COLUMNS = 500

REQUIRED: tuple[str, ...] = ("finess_et", "finess_ej", "categorie", "commune")
OPTIONAL: tuple[str, ...] = (
    "raison_sociale",
    "raison_sociale_ej",
    "statut_juridique",
    "lon",
    "lat",
    "capacite",
    "dui_editeur",
    "dui_statut",
    "editeur_segur",
    "deja_finance",
)
DUI_COLUMNS: tuple[str, ...] = ("dui_editeur", "dui_statut", "editeur_segur", "deja_finance")
NUMERIC: tuple[str, ...] = ("lon", "lat", "capacite")
BOOLEAN: tuple[str, ...] = ("editeur_segur", "deja_finance")

_SEPARATORS: tuple[tuple[str, str], ...] = (
    (";", "point-virgule"),
    (",", "virgule"),
    ("\t", "tabulation"),
)


def header_key(cell: str) -> str:
    """Header cell as compared: trimmed, lower case, quotes and BOM removed."""
    return cell.replace("\ufeff", "").strip().strip('"').strip().lower()


def find_separator(header_line: str, required: tuple[str, ...] = ("finess_et",)) -> str | None:
    """The separator with which the header names the required columns, else None."""
    for sep, _ in _SEPARATORS:
        keys = {header_key(c) for c in header_line.split(sep)}
        if all(r in keys for r in required):
            return sep
    return None


@dataclass
class Table:
    """A header-led CSV cut into cells, before any interpretation."""

    columns: list[str]
    data: dict[str, list[str]]
    lines: list[int]
    separator: str
    rejets: list[Rejet] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def read_table(
    text: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    source: str = "",
    progress: Progress | None = None,
    role: str = "fichier",
) -> Table:
    """Cut a header-led CSV into columns; rows of the wrong width are rejected.

    Raises ``IngestError`` when the header lacks a required column, names one twice, or
    uses a tab separator.
    """
    lines = head_lines(text, 1)
    header_line = lines[0] if lines else ""
    sep = find_separator(header_line, required[:1])
    if sep is None:
        keys = ", ".join(required)
        msg = (
            f"{role} : ligne d'en-tête non reconnue (ligne 1 : « {header_line[:80]} ») ; "
            f"colonnes obligatoires : {keys}, séparées par « ; » ou « , »"
        )
        raise IngestError(msg)
    if sep == "\t":
        msg = (
            f"{role} : séparateur tabulation non pris en charge ; enregistrez le fichier en "
            "« CSV (séparateur : point-virgule) »"
        )
        raise IngestError(msg)
    rejets: list[Rejet] = []
    meta: dict = {"lignes_vides": 0, "lignes_continuation": []}
    records = iter_records(text, rejets, meta, progress, delimiter=sep, source=source)
    header: list[str] | None = None
    header_line_no = 0
    start = len(records)
    for k, (number, record) in enumerate(records):
        if not any(c.strip() for c in record):
            meta["lignes_vides"] += 1
            continue
        header = [header_key(c) for c in record]
        header_line_no = number
        start = k + 1
        break
    if header is None:
        msg = f"{role} vide : aucune ligne à lire."
        raise IngestError(msg)
    while header and header[-1] == "":
        header.pop()
    if len(header) > MAX_COLUMNS:
        msg = (
            f"{role} : {integer_fr(len(header))} colonnes dans l'en-tête (ligne {header_line_no}), "
            f"au plus {integer_fr(MAX_COLUMNS)} acceptées : ce n'est pas le modèle CSV "
            "(voir la documentation)"
        )
        raise IngestError(msg)
    missing = [c for c in required if c not in header]
    if missing:
        msg = (
            f"{role} : colonne(s) obligatoire(s) absente(s) de l'en-tête (ligne "
            f"{header_line_no}) : {', '.join(missing)}"
        )
        raise IngestError(msg)
    counts = Counter(header)  # one pass: header.count() in a loop took 67 s on 100,000 columns
    doubles = sorted(c for c, n in counts.items() if c and n > 1)
    if doubles:
        msg = f"{role} : colonne(s) en double dans l'en-tête (ligne {header_line_no}) : "
        msg += ", ".join(doubles)
        raise IngestError(msg)
    known = set(required) | set(optional)
    width = len(header)
    data: dict[str, list[str]] = {c: [] for c in header if c in known}
    positions = [(i, c) for i, c in enumerate(header) if c in known]
    kept_lines: list[int] = []
    for number, record in records[start:]:
        if not any(c.strip() for c in record):
            meta["lignes_vides"] += 1
            continue
        n = len(record)
        if n > width and not any(c.strip() for c in record[width:]):
            record = record[:width]
            n = width
        if n != width:
            sep_name = dict(_SEPARATORS)[sep]
            reason = (
                f"ligne tronquée ou mal formée : {n} champs au lieu de {width} "
                f"(séparateur {sep_name})"
            )
            rejets.append(Rejet(number, "ligne", reason, record[0][:40] if record else "", source))
            continue
        kept_lines.append(number)
        for i, col in positions:
            data[col].append(record[i].strip())
    warnings: list[str] = []
    extra = [c for c in header if c not in known]
    if extra:
        names = ", ".join(c or "(sans nom)" for c in extra)
        warnings.append(f"colonne(s) inconnue(s) ignorée(s) : {names}")
    meta["colonnes"] = header
    meta["colonnes_ignorees"] = extra
    meta["ligne_entete"] = header_line_no
    return Table(
        columns=header,
        data=data,
        lines=kept_lines,
        separator=sep,
        rejets=rejets,
        warnings=warnings,
        meta=meta,
    )


def restore_zeros(
    values: pd.Series, width: int, lines: pd.Series, label: str, warnings: list[str]
) -> pd.Series:
    """Pad all-digit values one character short with the leading zero Excel removed."""
    short = values.str.fullmatch(rf"[0-9]{{{width - 1}}}").fillna(False).astype(bool)
    if short.any():
        warnings.append(
            f"{label} : zéro initial rétabli pour {int(short.sum())} valeur(s) (effacé par un "
            f"tableur ; {format_lines(lines[short])})"
        )
    return values.where(~short, "0" + values)


def parse_numbers(
    values: pd.Series, lines: pd.Series, label: str, warnings: list[str]
) -> pd.Series:
    """Numbers with a decimal comma or point, spaces as thousands separators; bad ones NaN."""
    text = values.str.replace("\u00a0", "", regex=False).str.replace("\u202f", "", regex=False)
    text = text.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (text != "") & numbers.isna()
    if bad.any():
        warnings.append(
            f"{label} illisible(s) pour {int(bad.sum())} ligne(s), valeur ignorée "
            f"({format_lines(lines[bad])})"
        )
    return numbers.astype("float64")


def _plain(text: pd.Series) -> pd.Series:
    """Lower case, no accents, spaces and hyphens as underscores (for enumerations)."""

    def fold(value: str) -> str:
        decomposed = unicodedata.normalize("NFKD", value)
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

    folded = text.fillna("").map(fold).astype("string").str.strip().str.lower()
    return folded.str.replace(r"[\s'\-]+", "_", regex=True)


def normalise_dui_columns(
    frame: pd.DataFrame, lines: pd.Series, warnings: list[str], role: str = ""
) -> pd.DataFrame:
    """Check and normalise the DUI columns in place of a raw frame.

    ``dui_statut`` must be one of aucun, non_conforme, a_mettre_a_niveau, conforme (accents,
    case and spaces tolerated: « À mettre à niveau »); ``editeur_segur`` and ``deja_finance``
    oui/non (also o/n, vrai/faux, 1/0). A value outside these is ignored with a warning that
    names the lines.
    """
    prefix = f"{role} : " if role else ""
    if "dui_statut" in frame:
        statut = _plain(frame["dui_statut"])
        bad = (statut != "") & ~statut.isin(DUI_STATUTS)
        if bad.any():
            warnings.append(
                f"{prefix}dui_statut invalide pour {int(bad.sum())} ligne(s), statut DUI "
                f"inconnu (valeurs admises : {', '.join(DUI_STATUTS)} ; "
                f"{format_lines(lines[bad])})"
            )
        frame["dui_statut"] = statut.where(~bad, "")
    for col in BOOLEAN:
        if col not in frame:
            continue
        text = frame[col].fillna("").str.strip().str.lower()
        yes, no = text.isin(TRUE_WORDS), text.isin(FALSE_WORDS)
        bad = (text != "") & ~yes & ~no
        if bad.any():
            warnings.append(
                f"{prefix}{col} invalide pour {int(bad.sum())} ligne(s) (oui ou non attendu), "
                f"valeur ignorée ({format_lines(lines[bad])})"
            )
        frame[col] = pd.Series(
            np.where(yes, "oui", np.where(no, "non", "")), index=frame.index, dtype="string"
        )
    return frame


class TemplateReader:
    """Reader of the user CSV template."""

    kind = KIND

    def sniff(self, head_text: str) -> bool:
        lines = head_lines(head_text, 1)
        return bool(lines) and find_separator(lines[0], ("finess_et",)) is not None

    def read(
        self, text: str, *, encoding: str = "", progress: Progress | None = None
    ) -> LoadResult:
        from grappes.ingest.pipeline import normalise

        return normalise(self.parse(text, progress=progress), kind=self.kind, encoding=encoding)

    def parse(self, text: str, progress: Progress | None = None) -> Parsed:
        table = read_table(text, REQUIRED, OPTIONAL, progress=progress)
        warnings = list(table.warnings)
        n = len(table.lines)
        cols = {c: pd.Series(v, dtype="string") for c, v in table.data.items()}
        lines = pd.Series(table.lines, dtype="int64")
        for col in ("finess_et", "finess_ej"):
            cols[col] = restore_zeros(cols[col].str.upper(), 9, lines, col, warnings)
        cols["commune"] = restore_zeros(cols["commune"].str.upper(), 5, lines, "commune", warnings)
        if "statut_juridique" in cols:
            statut = restore_zeros(cols["statut_juridique"], 2, lines, "statut_juridique", warnings)
            bad = (statut != "") & ~statut.str.fullmatch(r"[0-9]{2}").fillna(False)
            if bad.any():
                warnings.append(
                    f"statut_juridique mal formé pour {int(bad.sum())} ligne(s) (code FINESS à "
                    f"2 chiffres attendu), statut inconnu ({format_lines(lines[bad])})"
                )
            cols["statut_juridique"] = statut.where(~bad, "")
        numbers = {c: parse_numbers(cols[c], lines, c, warnings) for c in NUMERIC if c in cols}
        if "capacite" in numbers:
            negative = numbers["capacite"] < 0
            if negative.any():
                warnings.append(f"capacite négative ignorée ({format_lines(lines[negative])})")
                numbers["capacite"] = numbers["capacite"].where(~negative)
        frame = pd.DataFrame({c: v for c, v in cols.items() if c not in NUMERIC})
        normalise_dui_columns(frame, lines, warnings)
        has_coords = "lon" in numbers and "lat" in numbers
        if ("lon" in numbers) != ("lat" in numbers):
            warnings.append("colonnes lon et lat : il faut les deux ; coordonnées ignorées")
        raw = {c: frame[c].to_numpy(dtype=object) for c in frame.columns}
        raw["ligne"] = table.lines
        for c, values in numbers.items():
            if c in ("lon", "lat") and not has_coords:
                continue
            raw[c] = values.to_numpy()
        rows = raw_frame(raw, n)
        meta = dict(table.meta)
        meta["separateur"] = table.separator
        meta["colonnes_dui"] = [c for c in DUI_COLUMNS if c in table.data]
        meta["statut_fourni"] = "statut_juridique" in table.data
        return Parsed(
            rows=rows, rejets=table.rejets, warnings=warnings, meta=meta, has_coordinates=has_coords
        )
