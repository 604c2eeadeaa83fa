"""Joining the legal-entities extract (--ej) and the DUI side file (--dui)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from grappes.ingest import IngestError, load

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))
import builders as b

EJ_ASSO, EJ_CH, EJ_SAS, EJ_ABSENT = (
    b.finess(p) for p in ("45000100", "45000200", "37000300", "18000400")
)
ET = [b.finess(p) for p in ("45000001", "45000002", "45000003", "37000004", "18000005")]


def _main() -> bytes:
    f = b.EtalabFile(
        ets=[
            b.Et(ET[0], EJ_ASSO, "500", "45", "234"),
            b.Et(ET[1], EJ_CH, "355", "45", "234"),
            b.Et(ET[2], EJ_CH, "500", "45", "234"),
            b.Et(ET[3], EJ_SAS, "500", "37", "261"),
            b.Et(ET[4], EJ_ABSENT, "183", "18", "033"),
        ]
    )
    return f.bytes()


def _ej_file() -> bytes:
    lines = [
        "finess;etalab;96;2026-03-11",
        b.ej_line(EJ_ASSO, "ASSOCIATION FICTIVE DES TILLEULS", "60"),
        b.ej_line(EJ_CH, "CENTRE HOSPITALIER FICTIF", "13"),
        b.ej_line(EJ_SAS, "SAS FICTIVE SENIORS", "95"),
        b.ej_line(b.finess("75000999"), "EJ D'UNE AUTRE RÉGION", "61"),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def test_ej_gives_names_and_statuses() -> None:
    result = load(_main(), ej=_ej_file())
    table = result.etablissements.set_index("finess_et")
    assert table.loc[ET[0], "raison_sociale_ej"] == "ASSOCIATION FICTIVE DES TILLEULS"
    assert table.loc[ET[0], "statut_juridique"] == "60"
    assert table.loc[ET[0], "statut_agrege"] == "prive_non_lucratif"
    assert table.loc[ET[2], "statut_agrege"] == "public"
    assert table.loc[ET[3], "statut_agrege"] == "prive_commercial"
    assert table.loc[ET[4], "statut_agrege"] == "inconnu"
    # the EJ of another région is simply not used: no reject, no warning about it
    assert not result.rejets
    missing = [w for w in result.warnings if "absente(s) du fichier EJ" in w]
    assert len(missing) == 1 and "ligne 6" in missing[0]
    assert not any("Pas de fichier des entités juridiques" in w for w in result.warnings)
    assert result.meta["ej_lignes_utilisees"] == 3


def test_without_ej_the_status_is_unknown_and_said_once() -> None:
    result = load(_main())
    assert (result.etablissements["statut_agrege"] == "inconnu").all()
    assert sum("entités juridiques" in w for w in result.warnings) == 1


def test_ej_csv_form_is_accepted() -> None:
    text = f"finess_ej;raison_sociale_ej;statut_juridique\n{EJ_ASSO};ASSO CSV;61\n"
    table = load(_main(), ej=text.encode()).etablissements.set_index("finess_et")
    assert table.loc[ET[0], "raison_sociale_ej"] == "ASSO CSV"
    assert table.loc[ET[0], "statut_juridique"] == "61"


def test_bad_ej_lines_are_rejected_with_source_ej() -> None:
    lines = [
        "finess;etalab;96;2026-03-11",
        b.ej_line(EJ_ASSO, "ASSO", "60"),
        b.ej_line(b.bad_key(EJ_CH), "MAUVAISE CLÉ", "13"),
        b.ej_line(EJ_ASSO, "DOUBLON", "60"),
        "structureej;" + EJ_SAS + ";TRONQUÉE",
    ]
    result = load(_main(), ej=("\n".join(lines) + "\n").encode())
    rejects = {(r.line, r.field) for r in result.rejets if r.source == "ej"}
    assert rejects == {(3, "finess_ej"), (4, "finess_ej"), (5, "ligne")}
    doublon = next(r for r in result.rejets if r.line == 4)
    assert "ligne 2" in doublon.reason


def test_establishments_file_given_as_ej_is_refused() -> None:
    with pytest.raises(IngestError, match="entités juridiques"):
        load(_main(), ej=_main())


def test_ej_file_given_as_main_file_is_refused() -> None:
    with pytest.raises(IngestError, match="--ej"):
        load(_ej_file())


def _dui(
    rows: list[str], header: str = "finess_et;dui_editeur;dui_statut;editeur_segur;deja_finance"
) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8-sig")


def test_dui_side_file_is_joined() -> None:
    dui = _dui(
        [
            f"{ET[0]};Éditeur Fictif Alpha;conforme;oui;non",
            f"{ET[2]};Éditeur Fictif Bêta;a_mettre_a_niveau;non;oui",
            f"{ET[3]};;aucun;;",
        ]
    )
    result = load(_main(), dui=dui)
    table = result.etablissements.set_index("finess_et")
    assert table.loc[ET[0], "dui_editeur"] == "Éditeur Fictif Alpha"
    assert table.loc[ET[0], "dui_statut"] == "conforme"
    assert bool(table.loc[ET[0], "editeur_segur"])
    assert bool(table.loc[ET[2], "deja_finance"])
    assert table.loc[ET[3], "dui_statut"] == "aucun"
    assert pd.isna(table.loc[ET[3], "editeur_segur"])
    assert table.loc[ET[4], "dui_statut"] == "inconnu"
    assert not bool(table.loc[ET[4], "deja_finance"])
    assert not result.rejets
    missing = [w for w in result.warnings if "sans ligne dans le fichier DUI" in w]
    # only ET[4] is reported: the hospital ET[1] needs no DUI
    assert len(missing) == 1 and missing[0].startswith("1 ESMS")
    assert not any("Pas de données DUI" in w for w in result.warnings)


def test_dui_rows_for_unknown_establishments_are_rejected_with_source_dui() -> None:
    stranger = b.finess("75000001")
    dui = _dui(
        [
            f"{ET[0]};Alpha;conforme;oui;non",
            f"{stranger};Alpha;conforme;oui;non",
            f"{b.bad_key(ET[1])};Alpha;aucun;non;non",
            f"{ET[0]};Bêta;aucun;non;non",
        ]
    )
    result = load(_main(), dui=dui)
    rejects = sorted((r.line, r.field, r.source) for r in result.rejets)
    assert rejects == [(3, "finess_et", "dui"), (4, "finess_et", "dui"), (5, "finess_et", "dui")]
    reasons = {r.line: r.reason for r in result.rejets}
    assert "absent du fichier principal" in reasons[3]
    assert "clé de contrôle" in reasons[4]
    assert "ligne 2" in reasons[5]
    # the first occurrence is the one joined
    assert result.etablissements.set_index("finess_et").loc[ET[0], "dui_editeur"] == "Alpha"


def test_dui_file_without_dui_columns_is_refused() -> None:
    with pytest.raises(IngestError, match="aucune colonne DUI"):
        load(_main(), dui=_dui([f"{ET[0]};x"], header="finess_et;autre"))


def test_without_dui_the_defaults_are_set_and_said_once() -> None:
    result = load(_main())
    table = result.etablissements
    assert (table["dui_statut"] == "inconnu").all()
    assert (table["dui_editeur"] == "").all()
    assert table["editeur_segur"].isna().all()
    assert not table["deja_finance"].any()
    assert sum("Pas de données DUI" in w for w in result.warnings) == 1
