"""Import of monthly usage figures from a CSV: one row per ESMS and month.

The shape is what a DUI vendor's usage export gives (template:
``data/suivi/modele-indicateurs.csv``, documented in docs/suivi.md). Every row is checked
(FINESS of a member of the grappe, a real month that has ended and is not before the
signature, whole non-negative counts, no subset larger than its whole, i.e. no bounded
rate above 100 %, no month twice). A month already recorded is refused unless the caller
asks to replace it. Any reject and nothing is applied: the caller gets the full list of
rejects, each with its line and field, and imports again.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from grappes.core.model import Rejet
from grappes.exports.french_excel import csv_bytes
from grappes.followup.indicators import COUNT_FIELDS, COUNT_LABELS, INDICATORS, MonthlyFigures
from grappes.followup.months import label, month_end, month_of, parse_month
from grappes.ingest.base import Source, decode, read_bytes
from grappes.ingest.errors import IngestError

COLUMNS: tuple[str, ...] = ("finess_et", "mois", *COUNT_FIELDS)
MAX_BYTES = 200_000_000
#: other headers a vendor export may use for the same column
ALIASES: dict[str, str] = {
    "finess": "finess_et",
    "finess_etablissement": "finess_et",
    "periode": "mois",
    "mois_de_mesure": "mois",
    "personnes": "personnes_accompagnees",
    "messages": "messages_mssante",
    "messages_mss": "messages_mssante",
    "dmp": "dmp_alimentes",
    "dossiers_projet": "dossiers_projet_personnalise",
    "dossiers_avec_projet_personnalise": "dossiers_projet_personnalise",
    "dossiers_avec_evenement": "dossiers_evenement",
}
_INT = re.compile(r"^-?\d+$")


@dataclass(frozen=True)
class ImportReport:
    """Rows read (only meaningful when ``rejects`` is empty) and every reject."""

    figures: tuple[MonthlyFigures, ...]
    rejects: tuple[Rejet, ...]
    #: (FINESS, month) already recorded that this import replaces
    replaced: tuple[tuple[str, date], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.rejects


def _norm(header: str) -> str:
    text = unicodedata.normalize("NFKD", header.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return ALIASES.get(text, text)


def _count(raw: str) -> int | None:
    text = raw.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    return int(text) if _INT.match(text) else None


def read_monthly_csv(
    src: Source,
    members: Collection[str],
    *,
    today: date,
    signature: date | None = None,
    existing: Collection[tuple[str, date]] = (),
    replace: bool = False,
) -> ImportReport:
    """Read and check ``src``. Raises ``IngestError`` when the file as a whole is unusable."""
    text, _ = decode(read_bytes(src, MAX_BYTES, "fichier d'indicateurs"),
                     "fichier d'indicateurs")
    first = text.splitlines()[0] if text else ""
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [_norm(h) for h in next(reader)]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        msg = ("fichier d'indicateurs : colonne(s) manquante(s) : " + ", ".join(missing)
               + ". Colonnes attendues (séparateur point-virgule) : " + ";".join(COLUMNS))
        raise IngestError(msg)
    pos = {c: header.index(c) for c in COLUMNS}
    members = set(members)
    existing = set(existing)
    this_month = month_of(today)
    first_month = month_of(signature) if signature else None
    figures: list[MonthlyFigures] = []
    rejects: list[Rejet] = []
    replaced: list[tuple[str, date]] = []
    seen: dict[tuple[str, date], int] = {}
    line = 1
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            rejects.append(Rejet(line, "ligne", f"{len(cells)} colonnes au lieu de {len(header)}",
                                 delimiter.join(cells)[:80]))
            continue
        row_rejects: list[Rejet] = []

        def bad(field: str, reason: str, value: str, _line: int = line,
                _out: list[Rejet] = row_rejects) -> None:
            _out.append(Rejet(_line, field, reason, value[:80]))

        finess = cells[pos["finess_et"]].strip()
        if not re.fullmatch(r"\d[\dAB]\d{7}", finess):
            bad("finess_et", "numéro FINESS à 9 caractères attendu", finess)
        elif finess not in members:
            bad("finess_et", "cet ESMS n'est pas membre de la grappe", finess)
        raw_month = cells[pos["mois"]].strip()
        month = parse_month(raw_month)
        if month is None:
            bad("mois", "mois attendu au format AAAA-MM (ou MM/AAAA)", raw_month)
        elif month > this_month:
            bad("mois", f"mois dans le futur (nous sommes en {label(this_month)})", raw_month)
        elif month_end(month) > today:
            bad("mois", f"mois pas encore terminé : les chiffres de {label(month)} se "
                f"déclarent à partir du {month_end(month):%d/%m/%Y} (004 : mesure « à chaque "
                "fin de mois »)", raw_month)
        elif first_month is not None and month < first_month:
            bad("mois", f"mois antérieur à la signature ({label(first_month)})", raw_month)
        counts: dict[str, int] = {}
        for name in COUNT_FIELDS:
            raw = cells[pos[name]].strip()
            value = _count(raw)
            if value is None:
                bad(name, "nombre entier attendu", raw)
            elif value < 0:
                bad(name, "nombre négatif", raw)
            else:
                counts[name] = value
        for ind in INDICATORS.values():
            num, den = counts.get(ind.numerator), counts.get(ind.denominator)
            if ind.bounded and num is not None and den is not None and num > den:
                bad(ind.numerator,
                    f"taux {ind.short} supérieur à 100 % : {num} {COUNT_LABELS[ind.numerator]} "
                    f"pour {den} {COUNT_LABELS[ind.denominator]}", str(num))
        if not row_rejects and month is not None:
            key = (finess, month)
            if key in seen:
                bad("mois", f"{label(month)} déjà donné pour cet ESMS ligne {seen[key]}",
                    raw_month)
            elif key in existing and not replace:
                bad("mois", f"{label(month)} déjà enregistré pour cet ESMS : réimporter en "
                    "demandant explicitement le remplacement", raw_month)
            else:
                seen[key] = line
                if key in existing:
                    replaced.append(key)
                figures.append(MonthlyFigures(finess, month, **counts))
        rejects.extend(row_rejects)
    if not figures and not rejects:
        raise IngestError("fichier d'indicateurs vide : aucune ligne de données après l'en-tête")
    return ImportReport(tuple(figures), tuple(rejects), tuple(replaced))


#: the column of the pre-filled template that the import does not read (it ignores columns
#: it does not know): the ESMS's name, so that the porteur knows which line is which
TEMPLATE_NAME = "nom"


def template_csv(members: Sequence[tuple[str, str]], month: date) -> bytes:
    """The import's template pre-filled for one grappe and one month: one line per member
    ESMS (``(finess_et, name)``), the month written, the counts left empty for the DUI's
    figures. Written as every CSV of the tool (``;``, UTF-8 with BOM, neutralised cells)."""
    rows = [{"finess_et": et, TEMPLATE_NAME: name, "mois": label(month),
             **dict.fromkeys(COUNT_FIELDS, "")} for et, name in members]
    frame = pd.DataFrame(rows, columns=["finess_et", TEMPLATE_NAME, "mois", *COUNT_FIELDS])
    return csv_bytes(frame.astype("string"))
