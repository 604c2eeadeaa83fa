"""French-Excel exports: BOM, ';', formula neutralisation, XLSX sheet names."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from grappes.exports.french_excel import csv_bytes, neutralise, sheet_name, xlsx_bytes


def test_every_formula_prefix_is_neutralised_and_numbers_are_not():
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{prefix}1+1") == f"'{prefix}1+1"
    assert neutralise("EHPAD Les Tilleuls") == "EHPAD Les Tilleuls"
    assert neutralise(-5) == -5
    assert neutralise(2.5) == 2.5


def test_csv_has_bom_semicolons_and_reads_back():
    df = pd.DataFrame(
        {"nom": ["=SOMME(A1:A2)", "Château d'Eau; annexe"], "montant": [-1500, 25000]}
    )
    raw = csv_bytes(df)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.splitlines()[0] == b"\xef\xbb\xbfnom;montant"
    back = pd.read_csv(io.BytesIO(raw), sep=";", encoding="utf-8-sig")
    assert back["nom"].tolist() == ["'=SOMME(A1:A2)", "Château d'Eau; annexe"]
    assert back["montant"].tolist() == [-1500, 25000]


def test_xlsx_sheets_are_valid_unique_and_neutralised():
    df = pd.DataFrame({"nom": ["@cmd", "ok"]})
    long = "Grappe PA-24-001 : dossier complet [v2]"
    raw = xlsx_bytes({long: df, long + " bis": df})
    book = openpyxl.load_workbook(io.BytesIO(raw))
    names = book.sheetnames
    assert len(names) == 2 and len({n.lower() for n in names}) == 2
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert [c.value for c in book[names[0]]["A"]] == ["nom", "'@cmd", "ok"]


def test_sheet_name_deduplicates_case_insensitively():
    used: set[str] = set()
    assert sheet_name("Grappes", used) == "Grappes"
    assert sheet_name("grappes", used) == "grappes_2"


def test_headers_are_french_words_one_per_column_codes_last():
    """Issue 20: every written column has a French header, unique in its file; a header names
    the same column in every file and is never another column's name (a reader maps both,
    exactly: the old ``commune`` is the INSEE code, « Commune » the name); the code columns
    come last."""
    import re

    from grappes.exports.files import FILES, column_names, is_code_column, written_columns

    meaning: dict[str, str] = {}
    names = {c.name for columns in FILES.values() for c in columns}
    for file_name, columns in FILES.items():
        headers = [c.header for c in columns]
        assert all(headers) and len(set(headers)) == len(headers), file_name
        for c in columns:
            assert not re.search(r"[a-z]_[a-z]", c.header), c.header  # words, not identifiers
            assert c.header not in names, c.header
            assert meaning.setdefault(c.header, c.name) == c.name, c.header
        order = [is_code_column(c.name) for c in written_columns(file_name)]
        assert order == sorted(order), file_name  # people's columns, then the codes
        assert {c.name for c in written_columns(file_name)} == {c.name for c in columns}
        # a reader takes the new first row and the old one to the same names
        written = written_columns(file_name)
        assert column_names([c.header for c in written], file_name) == \
            column_names([c.name for c in written], file_name) == [c.name for c in written]
    assert meaning["Statut du DUI (code)"] == "dui_statut_code"
    assert meaning["Raison sociale de l'OG"] == "raison_sociale_ej"
