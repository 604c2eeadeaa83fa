"""Real exports of the tool for the follow-up tests: a small constructed region (4 OG x 4
ESMS around Tours, every DUI « à mettre à niveau » with one Ségur vendor) run through
``grappes proposer FILE --sortie DIR --xlsx``, and the app's workbook of the same proposal.

Not a test module. The hand-off tests read these files as the tool writes them: never a
hand-made copy of an export.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from solver_factories import km_to_lonlat
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.core.finess import luhn_key
from grappes.exports.files import FILES, column_names


def read_written_csv(source: Path | bytes, **options) -> pd.DataFrame:
    """A CSV the tool wrote, its first row checked to be the French headers (issue 20) and
    read back as the columns' names, as the tool's readers do (``files.column_names``).
    ``dtype`` may name columns by their names."""
    if isinstance(options.get("dtype"), dict):
        options["dtype"] = {c.header: kind for key, kind in options["dtype"].items()
                            for columns in FILES.values() for c in columns if c.name == key}
    frame = pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source, sep=";",
                        encoding="utf-8-sig", **{"dtype": str, "keep_default_na": False,
                                                 **options})
    headers = {c.header for columns in FILES.values() for c in columns}
    assert set(frame.columns) <= headers, set(frame.columns) - headers
    frame.columns = column_names(list(frame.columns), *FILES)
    return frame


def with_old_headers(export: Path, folder: Path) -> Path:
    """A copy of the export ``export`` (``propose --sortie --xlsx``) as versions before issue 20
    wrote it: the first row of each CSV file and table sheet holds the columns' names
    (``dui_statut_code``), not the French headers. Only that row changes."""
    from openpyxl import load_workbook

    from grappes.exports.files import XLSX_FILE, sheet_of

    folder.mkdir(parents=True, exist_ok=True)
    for path in export.iterdir():
        data = path.read_bytes()
        if path.name in FILES:
            head, rest = data.decode("utf-8-sig").split("\r\n", 1)
            names = column_names(head.split(";"), path.name)
            assert names != head.split(";")  # the file had the French headers
            data = ("\ufeff" + ";".join(names) + "\r\n" + rest).encode("utf-8")
        (folder / path.name).write_bytes(data)
    book = load_workbook(folder / XLSX_FILE)
    for file_name in FILES:
        sheet = book[sheet_of(file_name)]
        for cell in sheet[1]:
            cell.value = column_names([str(cell.value)], file_name)[0]
    book.save(folder / XLSX_FILE)
    return folder


def luhn_number(body: str) -> str:
    return body + luhn_key(body)


HEADER = ("finess_et;finess_ej;categorie;commune;raison_sociale;raison_sociale_ej;"
          "statut_juridique;lon;lat;dui_editeur;dui_statut;editeur_segur")
#: the one grappe the solver forms on this region
GRAPPE = "PA-24-001"


def upgrade_region(path: Path, statut: str = "a_mettre_a_niveau") -> Path:
    """The template CSV of the region: 16 PA ESMS of 4 small OGs within 15 km."""
    rows = [HEADER]
    for o in range(4):
        ej = luhn_number(f"3709{o:04d}")
        for k in range(4):
            et = luhn_number(f"3701{o}{k:03d}")
            lon, lat = km_to_lonlat(3.0 * o + k, 0.0)
            rows.append(f"{et};{ej};500;37261;EHPAD {o}-{k};OG {o};60;{lon:.5f};{lat:.5f};"
                        f"Éditeur Fictif Alpha;{statut};oui")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def propose_out(folder: Path, statut: str = "a_mettre_a_niveau") -> Path:
    """``grappes proposer region.csv --sortie folder --xlsx`` as a user runs it; the folder."""
    src = upgrade_region(folder.parent / f"{folder.name}-entree.csv", statut)
    result = CliRunner().invoke(app, ["proposer", str(src), "--sortie", str(folder), "--xlsx",
                                      "--limite-temps", "2", "--graine", "1"])
    assert result.exit_code == 0, result.output
    return folder


def app_workbook(src: Path) -> bytes:
    """The « Classeur XLSX » the app's Exports tab downloads for the proposal of ``src``
    (the same function, on the scenario the app shows)."""
    from grappes.exports.dossier import workbook_bytes
    from grappes.ingest import load
    from grappes.scenarios.scenario import Scenario
    from grappes.solver.propose import propose

    report = propose(load(src), "amorcage-t2-2021", seed=1, time_limit=2)
    return workbook_bytes(Scenario.from_report(report))


def constituted_grappe(reg, admin: str, password: str, folder: Path) -> int:
    """A grappe of the registry built from the region's proposal and brought to
    « constituée » (declarations without a FINESS file: field and commune declared; one
    coordinator of 37, one déclarant per OG, all accepting). Returns its registry id."""
    from grappes.registry import DeclarationSaisie, EsmsSaisie

    out = propose_out(folder)
    etab = read_written_csv(out / "etablissements.csv")
    reg.creer_compte(admin, "coord@t.fr", "coordinateur", password, ["37"])
    coord = reg.connexion("coord@t.fr", password).jeton
    tokens = {}
    for k, (ej, rows) in enumerate(etab.groupby("finess_ej", sort=True)):
        email = f"og{k}@t.fr"
        reg.creer_compte(admin, email, "declarant", password)
        tokens[ej] = reg.connexion(email, password).jeton
        # the account speaks for its OG once the coordinator of 37 approves (issue 18)
        req = reg.demander_rattachement(tokens[ej], ej)
        reg.decider_rattachement(coord, req.id, True)
        reg.declarer(tokens[ej], DeclarationSaisie(
            finess_ej=ej, consentement=True, contact_nom=f"Contact {k}",
            contact_email=email, dui_statut="a_mettre_a_niveau",
            dui_editeur="Éditeur Fictif Alpha", editeur_segur=True,
            esms=[EsmsSaisie(e, "PA", "37261", n) for e, n in
                  rows[["finess_et", "raison_sociale"]].itertuples(index=False)]))
    g = reg.apparier(coord, ["37"], time_limit=5).grappes[0]
    g = reg.inviter(coord, g.id, g.version)
    for token in tokens.values():
        for inv in reg.mes_invitations(token):
            reg.repondre(token, inv.id, True)
    g = reg.grappe(coord, g.id)
    return reg.constituer(coord, g.id, g.version).id
