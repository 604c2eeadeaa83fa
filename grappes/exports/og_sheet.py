"""« La fiche de mon OG »: one printable page (XLSX) for an OG's board meeting: its grappe,
its partners, how far they are, and what the OG would receive, line by line.

Built from ``grappes.scenarios.og_view.OgShare`` (the split of the grappe's funding lines
between its OGs); amounts are numbers in euro format, distances in km with one decimal, text
cells neutralised against formulas; the sheet is set to print on one A4 page.
"""

from __future__ import annotations

import io
import math

import xlsxwriter

from grappes.core.formatting import euros
from grappes.exports.french_excel import EURO_FORMAT, KM_FORMAT, neutralise
from grappes.exports.tables import BASIS_LABELS, LEVER_LABELS
from grappes.scenarios.og_view import OgShare

SHEET = "Mon OG"


def og_sheet_bytes(share: OgShare, rules_name: str = "") -> bytes:
    """The one-page workbook of one OG's share in one grappe."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet(SHEET)
    title = book.add_format({"bold": True, "font_size": 14})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    money = book.add_format({"num_format": EURO_FORMAT})
    money_bold = book.add_format({"num_format": EURO_FORMAT, "bold": True})
    km = book.add_format({"num_format": KM_FORMAT})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 4, 16)

    def text(r: int, c: int, value: str, fmt=None) -> None:
        ws.write_string(r, c, str(neutralise(value)), fmt)

    def number(r: int, c: int, value: float, fmt) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            ws.write_blank(r, c, None)
        else:
            ws.write_number(r, c, float(value), fmt)

    r = 0
    text(r, 0, f"Fiche de l'OG {share.name} ({share.finess_ej})", title)
    r += 2
    facts: list[tuple[str, object, object]] = [
        ("Grappe", share.grappe, None),
        ("Champ", share.champ, None),
        ("Grappe valide", "oui" if share.valid else "non", None),
        ("Règles non respectées", " | ".join(share.violations) or "aucune", None),
        ("Porteur du projet", f"{share.porteur_name}"
         + (" (cet OG)" if share.porteur else ""), None),
        ("ESMS de la grappe", str(share.grappe_n_esms), None),
        ("Financement de la grappe", share.grappe_total, money),
        ("Financement pour cet OG (ESMS numérique)", share.amount, money_bold),
        ("Distance au centre de la grappe (km)", share.distance_centre_km, km),
    ]
    if rules_name:
        facts.append(("Règles appliquées", rules_name, None))
    for label, value, fmt in facts:
        text(r, 0, label, bold)
        if fmt is None:
            text(r, 1, str(value), wrap)
        else:
            number(r, 1, value, fmt)
        r += 1

    r += 1
    text(r, 0, "Lignes de financement de l'OG", bold)
    r += 1
    for c, h in enumerate(("Ligne", "ESMS", "Base", "Montant (€)", "Levier")):
        text(r, c, h, head)
    r += 1
    for ln in share.lines:
        text(r, 0, ln.label, wrap)
        text(r, 1, f"{ln.esms_name} ({ln.finess_et})" if ln.finess_et
             else "projet (versé au porteur)", wrap)
        text(r, 2, BASIS_LABELS.get(ln.basis, ln.basis), wrap)
        number(r, 3, ln.amount, money)
        text(r, 4, LEVER_LABELS.get(ln.lever, ln.lever), wrap)
        r += 1
    if not share.lines:
        text(r, 0, "Aucune ligne de financement pour cet OG dans cette grappe.")
        r += 1

    r += 1
    text(r, 0, "ESMS de l'OG dans la grappe", bold)
    r += 1
    for c, h in enumerate(("ESMS", "Commune", "FINESS ET", "Type de projet")):
        text(r, c, h, head)
    r += 1
    for e in share.esms:
        text(r, 0, e.name, wrap)
        text(r, 1, e.commune)
        text(r, 2, e.finess_et)
        text(r, 3, e.project_label, wrap)
        r += 1

    r += 1
    text(r, 0, "OG partenaires", bold)
    r += 1
    for c, h in enumerate(("OG partenaire", "FINESS EJ", "ESMS", "Distance (km)",
                           "Financement (€)")):
        text(r, c, h, head)
    r += 1
    for p in sorted(share.partners, key=lambda p: (p.name, p.finess_ej)):
        text(r, 0, p.name + (" (porteur)" if p.porteur else ""), wrap)
        text(r, 1, p.finess_ej)
        ws.write_number(r, 2, p.n_esms)
        number(r, 3, p.distance_km, km)
        number(r, 4, p.amount, money)
        r += 1
    r += 1
    text(r, 0, f"La somme des parts des OG fait le financement de la grappe "
         f"({euros(share.grappe_total)}) ; les lignes par projet vont au porteur.", wrap)

    ws.set_paper(9)  # A4
    ws.set_portrait()
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, r, 4)
    book.close()
    return buffer.getvalue()
