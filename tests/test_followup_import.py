"""Bad imports of monthly indicators: every reject names its line and field, nothing applied
unless the whole file is right; import of a funded grappe from the tool's own exports."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from matching.followup.csv_import import COLUMNS, read_monthly_csv
from matching.followup.dossier_import import read_funded_grappe
from matching.ingest.errors import IngestError
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


def _export(tmp_path: Path) -> Path:
    pd.DataFrame({
        "grappe": ["PA-24-001", "PA-24-002"], "total": ["100000.0", "1 000,50"],
        "porteur": ["180000100", "x"], "porteur_nom": ["OG A", "OG B"], "regions": ["24", "24"],
    }).to_csv(tmp_path / "grappes.csv", sep=";", index=False, encoding="utf-8-sig")
    pd.DataFrame({
        "finess_et": [FINESS_A, FINESS_B, "180000027"],
        "raison_sociale": ["A", "B", "C"], "finess_ej": ["180000100"] * 3,
        "departement": ["18"] * 3, "grappe": ["PA-24-001", "PA-24-001", "PA-24-002"],
        "dui_statut": ["aucun", "a_mettre_a_niveau", "aucun"],
    }).to_csv(tmp_path / "etablissements.csv", sep=";", index=False, encoding="utf-8-sig")
    return tmp_path


def test_funded_grappe_from_the_csv_export(tmp_path):
    g = read_funded_grappe(_export(tmp_path), "PA-24-001", date(2024, 1, 10), "amorcage-t2-2021")
    assert [(m.finess_et, m.type_projet) for m in g.members] == [
        (FINESS_A, "acquisition"), (FINESS_B, "conformite")]
    assert [t.montant for t in g.tranches] == [40_000, 40_000, 20_000]
    assert g.region == "24" and g.porteur == "180000100"
    assert read_funded_grappe(tmp_path, "PA-24-002", date(2024, 1, 10),
                              "generalisation-2022").montant_total == 1000.5
    with pytest.raises(IngestError, match="absente"):
        read_funded_grappe(tmp_path, "ZZ", date(2024, 1, 10), "amorcage-t2-2021")
    with pytest.raises(IngestError, match="--regles"):
        read_funded_grappe(tmp_path, "PA-24-001", date(2024, 1, 10))
