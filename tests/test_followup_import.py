"""Bad imports of monthly indicators: every reject names its line and field, nothing applied
unless the whole file is right; import of a funded grappe from the tool's own exports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from grappes.exports.files import ETABLISSEMENTS_CSV, GRAPPES_CSV, XLSX_FILE
from grappes.followup.csv_import import COLUMNS, read_monthly_csv
from grappes.followup.dossier_import import funded_codes, read_funded_grappe
from grappes.ingest.errors import IngestError
from tests.followup_exports import (
    GRAPPE,
    app_workbook,
    propose_out,
    read_written_csv,
    with_old_headers,
)
from tests.followup_factories import FINESS_A, FINESS_B

HEADER = ";".join(COLUMNS)
MEMBERS = {FINESS_A, FINESS_B}
TODAY = date(2024, 7, 15)


def _read(body: str, **kw):
    data = ("\ufeff" + HEADER + "\n" + body).encode("utf-8")
    kw.setdefault("today", TODAY)
    return read_monthly_csv(data, MEMBERS, **kw)


def test_good_file_reads_every_row():
    rep = _read(f"{FINESS_A};2024-03;100;80;70;92;84;85\n{FINESS_B};03/2024;50;40;25;40;30;30\n")
    assert rep.ok and len(rep.figures) == 2
    assert rep.figures[1].mois == date(2024, 3, 1) and rep.figures[1].dossiers_actifs == 40


def test_mssante_above_100_percent_is_accepted_on_purpose():
    """004 counts « nombre de messages envoyés via la MS Santé / nombre de personnes
    accompagnées » : messages, several per person, so 150 messages for 100 persons (150 %)
    is a real month; 101 DMP fed for 100 persons is not."""
    rep = _read(f"{FINESS_A};2024-03;100;150;70;92;84;85\n")
    assert rep.ok and rep.figures[0].messages_mssante == 150
    assert not _read(f"{FINESS_A};2024-03;100;150;101;92;84;85\n").ok


@pytest.mark.parametrize(("row", "field", "words"), [
    ("999999999;2024-03;100;80;70;92;84;85", "finess_et", "pas membre"),
    ("12345;2024-03;100;80;70;92;84;85", "finess_et", "9 caractères"),
    (f"{FINESS_A};2024-13;100;80;70;92;84;85", "mois", "AAAA-MM"),
    (f"{FINESS_A};2024-08;100;80;70;92;84;85", "mois", "futur"),
    (f"{FINESS_A};2023-12;100;80;70;92;84;85", "mois", "antérieur à la signature"),
    (f"{FINESS_A};2024-03;100;-1;70;92;84;85", "messages_mssante", "négatif"),
    (f"{FINESS_A};2024-03;100;80;70;9,5;84;85", "dossiers_actifs", "entier"),
    (f"{FINESS_A};2024-03;100;80;70;120;84;85", "dossiers_actifs", "supérieur à 100 %"),
    (f"{FINESS_A};2024-03;100;80;101;92;84;85", "dmp_alimentes", "supérieur à 100 %"),
    (f"{FINESS_A};2024-03;100;80;70;92;93;85", "dossiers_projet_personnalise", "100 %"),
    (f"{FINESS_A};2024-03;100;80;70;92;84;95", "dossiers_evenement", "100 %"),
    (f"{FINESS_A};2024-03;100;80", "ligne", "colonnes"),
])  # fmt: skip
def test_each_reject_names_line_and_field_and_nothing_is_kept(row, field, words):
    good = f"{FINESS_B};2024-03;50;40;25;40;30;30\n"
    rep = _read(good + row + "\n", signature=date(2024, 1, 10))
    assert not rep.ok
    assert [(r.line, r.field) for r in rep.rejects] == [(3, field)]
    assert words in rep.rejects[0].reason


def test_mssante_may_exceed_100_percent():
    rep = _read(f"{FINESS_A};2024-03;100;250;70;92;84;85\n")
    assert rep.ok


def test_duplicate_month_in_file_and_already_recorded():
    rows = f"{FINESS_A};2024-03;100;80;70;92;84;85\n{FINESS_A};2024-03;100;81;70;92;84;85\n"
    rep = _read(rows)
    assert [(r.line, r.field) for r in rep.rejects] == [(3, "mois")]
    assert "ligne 2" in rep.rejects[0].reason
    existing = {(FINESS_A, date(2024, 3, 1))}
    row = f"{FINESS_A};2024-03;100;80;70;92;84;85\n"
    refused = _read(row, existing=existing)
    assert not refused.ok and "remplacement" in refused.rejects[0].reason
    replaced = _read(row, existing=existing, replace=True)
    assert replaced.ok and replaced.replaced == ((FINESS_A, date(2024, 3, 1)),)


def test_whole_file_problems_are_one_french_message():
    with pytest.raises(IngestError, match="colonne\\(s\\) manquante\\(s\\) : dmp_alimentes"):
        read_monthly_csv(b"finess_et;mois;personnes_accompagnees;messages_mssante\n1;2;3;4\n",
                         MEMBERS, today=TODAY)
    with pytest.raises(IngestError, match="vide"):
        read_monthly_csv(b"", MEMBERS, today=TODAY)
    with pytest.raises(IngestError, match="aucune ligne"):
        read_monthly_csv((HEADER + "\n").encode(), MEMBERS, today=TODAY)


def test_vendor_headers_with_accents_and_commas():
    text = ("FINESS;Période;Personnes accompagnées;Messages MSSanté;DMP alimentés;Dossiers actifs;"
            "Dossiers avec projet personnalisé;Dossiers avec événement\n"
            f"{FINESS_A};2024-03;1 100;800;700;920;840;850\n")
    rep = read_monthly_csv(text.encode("cp1252"), MEMBERS, today=TODAY)
    assert rep.ok and rep.figures[0].personnes_accompagnees == 1100


def test_template_file_is_a_valid_import():
    path = Path(__file__).resolve().parents[1] / "data" / "suivi" / "modele-indicateurs.csv"
    rep = read_monthly_csv(path, {"180000001", "180000019"}, today=TODAY)
    assert rep.ok and len(rep.figures) == 2


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """``grappes proposer region.csv --sortie DIR --xlsx`` on a region of upgrades."""
    return propose_out(tmp_path_factory.mktemp("propose") / "sortie")


def _members_of(folder: Path) -> list[str]:
    etab = read_written_csv(folder / ETABLISSEMENTS_CSV)
    return sorted(etab.loc[etab["grappe"] == GRAPPE, "finess_et"])


def _same(g, h) -> None:
    assert (g.grappe_id, g.montant_total, g.porteur, g.region, g.regles) == \
        (h.grappe_id, h.montant_total, h.porteur, h.region, h.regles)
    assert g.members == h.members and g.tranches == h.tranches


def test_each_export_of_the_tool_registers_the_same_grappe(export, tmp_path):
    """The ``propose --sortie`` folder (rule set from scenario.json), ``grappes.xlsx``, the
    app's workbook (uploaded bytes) give the same grappe: members, amount, porteur."""
    grappes = read_written_csv(export / GRAPPES_CSV)
    row = grappes.set_index("grappe").loc[GRAPPE]
    signed = date(2023, 3, 15)
    from_csv = read_funded_grappe(export, GRAPPE, signed)
    assert from_csv.regles == "amorcage-t2-2021"  # named by scenario.json
    assert sorted(m.finess_et for m in from_csv.members) == _members_of(export)
    assert from_csv.montant_total == float(row["financement"]) > 0
    assert from_csv.porteur == row["porteur"] and from_csv.region == "24"
    (export.parent / "csv-seuls").mkdir()
    for name in (GRAPPES_CSV, ETABLISSEMENTS_CSV):  # the CSV without scenario.json: say so
        (export.parent / "csv-seuls" / name).write_bytes((export / name).read_bytes())
    with pytest.raises(IngestError, match="--regles"):
        read_funded_grappe(export.parent / "csv-seuls", GRAPPE, signed)
    _same(read_funded_grappe(export / XLSX_FILE, GRAPPE, signed), from_csv)
    app_bytes = app_workbook(export.parent / "sortie-entree.csv")
    _same(read_funded_grappe(app_bytes, GRAPPE, signed, name="grappes.xlsx"), from_csv)
    assert funded_codes(app_bytes) == funded_codes(export) == [GRAPPE]


def test_exports_of_earlier_versions_register_the_same_grappe(export, tmp_path):
    """Issue 20: the headers became French words. A folder and a workbook written before
    (first row: ``grappe``, ``dui_statut_code``…) are still read, by ``grappes suivi
    enregistrer`` and by the Suivi page's upload (bytes), and give the same grappe."""
    signed = date(2023, 3, 15)
    new = read_funded_grappe(export, GRAPPE, signed)
    old = with_old_headers(export, tmp_path / "ancien")
    assert (old / GRAPPES_CSV).read_text(encoding="utf-8-sig").startswith("grappe;")
    _same(read_funded_grappe(old, GRAPPE, signed), new)
    _same(read_funded_grappe(old / XLSX_FILE, GRAPPE, signed), new)
    _same(read_funded_grappe((old / XLSX_FILE).read_bytes(), GRAPPE, signed,
                             name="grappes.xlsx"), new)
    assert funded_codes(old) == funded_codes(export) == [GRAPPE]


def test_upgrade_grappe_gets_the_nine_month_deadline(export):
    """Worked by hand (issue 19): every member « à mettre à niveau » (code
    ``a_mettre_a_niveau`` in ``dui_statut_code``; the label column says « à mettre à
    niveau »), signed on 15/03/2023: 004 gives 9 months, the usage targets are due on
    15/12/2023 — not 15/09/2024 (18 months, what reading the label gave)."""
    etab = read_written_csv(export / ETABLISSEMENTS_CSV)
    assert set(etab["dui_statut_code"]) == {"a_mettre_a_niveau"}
    assert set(etab["dui_statut"]) == {"à mettre à niveau"}
    for source in (export, export / XLSX_FILE):
        g = read_funded_grappe(source, GRAPPE, date(2023, 3, 15))
        assert {m.type_projet for m in g.members} == {"conformite"}
        usage = next(t for t in g.tranches if t.regle.trigger == "cibles_usage")
        assert g.deadline(usage) == date(2023, 12, 15)


def test_unknown_grappe_and_unreadable_sources_are_one_french_message(export, tmp_path):
    with pytest.raises(IngestError, match="absente"):
        read_funded_grappe(export, "ZZ", date(2024, 1, 10))
    with pytest.raises(IngestError, match="introuvable"):
        read_funded_grappe(tmp_path / "rien.xlsx", GRAPPE, date(2024, 1, 10))
    with pytest.raises(IngestError, match="grappes proposer"):
        read_funded_grappe(tmp_path, GRAPPE, date(2024, 1, 10))
    with pytest.raises(IngestError, match="classeur illisible"):
        read_funded_grappe(b"pas un classeur", GRAPPE, date(2024, 1, 10))
    old = tmp_path / "ancien"
    old.mkdir()
    (old / GRAPPES_CSV).write_text("grappe;total\nPA-24-001;1\n", encoding="utf-8")
    (old / ETABLISSEMENTS_CSV).write_text("finess_et;grappe\n", encoding="utf-8")
    with pytest.raises(IngestError, match="colonne\\(s\\) manquante\\(s\\) : valide, "
                       "financement, porteur, regions"):
        read_funded_grappe(old, GRAPPE, date(2024, 1, 10), "amorcage-t2-2021")


def test_prefilled_template_reads_back_once_filled():
    """The Suivi page's « modèle pré-rempli » (issue 19: nobody edits a file by hand beyond
    typing the DUI's figures): written by the tool, read by the import. Left empty, each
    count is refused with its line and column; filled in Excel's way, it is accepted."""
    from grappes.followup.csv_import import template_csv
    from grappes.followup.indicators import COUNT_FIELDS

    data = template_csv([(FINESS_A, "=EHPAD A"), (FINESS_B, "SSIAD B")], date(2024, 6, 1))
    assert data.startswith("\ufeff".encode()) and b"'=EHPAD A" in data  # neutralised
    empty = read_monthly_csv(data, MEMBERS, today=TODAY)
    assert not empty.ok and {(r.line, r.field) for r in empty.rejects} >= {
        (2, COUNT_FIELDS[0]), (3, COUNT_FIELDS[-1])}, empty.rejects
    lines = data.decode("utf-8-sig").splitlines()
    filled = [lines[0]] + [ln.rstrip(";") + ";" + ";".join(["100", "50", "40", "90", "60", "70"])
                           for ln in (x[: x.index("2024-06") + 7] for x in lines[1:])]
    rep = read_monthly_csv("\r\n".join(filled).encode("utf-8-sig"), MEMBERS, today=TODAY)
    assert rep.ok, rep.rejects
    assert {(f.finess_et, f.mois) for f in rep.figures} == {
        (FINESS_A, date(2024, 6, 1)), (FINESS_B, date(2024, 6, 1))}
