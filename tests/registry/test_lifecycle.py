"""One lifecycle, on SQLite and PostgreSQL (issue 19): from a proposal to the last payment,
every hand-off through a file or a call the tool itself makes, nothing retyped.

1. ``grappes proposer --sortie --xlsx`` on a small constructed region (4 OG x 4 EHPAD around
   Tours; the sample's OGs near each other mix DUI vendors and form no grappe alone);
2. the registry: each OG declares its ESMS as the proposal's ``etablissements.csv`` lists
   them (:func:`declare_from_proposal`, the one declaration step);
3. matching, invitations, acceptances;
4. constitution and submission to the ARS;
5. ``registre exporter``;
6. ``grappes suivi enregistrer`` on that export (and the same grappe from the registry,
   without a file, for comparison);
7. monthly imports by the porteur;
8. milestone (t2) or verification (2022), and payments recorded by the ARS;
9. ``grappes suivi etat --json``.

At each step the grappe's id, its members (FINESS ET) and its amount are the same.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from grappes.cli.main import app
from grappes.exports.files import ETABLISSEMENTS_CSV, GRAPPES_CSV
from grappes.followup.csv_import import COLUMNS
from grappes.followup.dossier_import import read_funded_grappe
from grappes.followup.store import Suivi
from grappes.registry import DeclarationSaisie, EsmsSaisie, Registry
from tests.followup_exports import read_written_csv, upgrade_region
from tests.registry.conftest import LIGHT, PASSWORD, World

runner = CliRunner()
SIGNATURE = date(2026, 3, 2)


def _csv(path: Path) -> pd.DataFrame:
    return read_written_csv(path)


@pytest.fixture
def world(db_url, clock):
    """Accounts of every role on a registry without a FINESS file: the declarations say
    field and commune, as the proposal's ``etablissements.csv`` gives them."""
    reg = Registry(db_url, clock=clock, securite=LIGHT)
    reg.init()
    yield World(reg)
    reg.db.dispose()


def proposal(folder: Path, rules: str) -> Path:
    """Step 1: ``grappes proposer region.csv --sortie DIR --xlsx --regles RULES`` on a small
    region (4 OG x 4 EHPAD around Tours, one Ségur vendor, DUI to upgrade)."""
    src = upgrade_region(folder.parent / "region.csv")
    res = runner.invoke(app, ["proposer", str(src), "--sortie", str(folder), "--xlsx", "--regles",
                              rules, "--limite-temps", "5"])
    assert res.exit_code == 0, res.output
    return folder


def declare_from_proposal(world: World, etablissements: pd.DataFrame,
                          accounts: dict[str, str], porteur: str) -> dict[str, list[int]]:
    """Step 2, the ONE declaration step: each OG (its déclarant account in ``accounts``)
    declares its ESMS (field, commune, name) with the DUI the proposal read (status code,
    vendor, Ségur), one declaration per DUI; the proposal's porteur volunteers to carry
    the project. Each account first speaks for its OG (issue 18's attachment: requested by the
    account, approved by the territory's coordinator or ARS agent)."""
    out: dict[str, list[int]] = {}
    for ej in sorted(set(etablissements["finess_ej"])):
        world.attach(accounts[ej], ej)
    keys = ["finess_ej", "dui_statut_code", "dui_editeur", "editeur_segur"]
    for (ej, statut, editeur, segur), rows in etablissements.groupby(keys, sort=True):
        v = world.reg.declarer(accounts[ej], DeclarationSaisie(
            finess_ej=ej, raison_sociale_ej=rows["raison_sociale_ej"].iloc[0],
            esms=[EsmsSaisie(e, champ, commune, nom) for e, champ, commune, nom in
                  rows[["finess_et", "champ", "commune", "raison_sociale"]].itertuples(
                      index=False)],
            contact_nom=f"Contact {ej}", contact_email=f"contact-{ej}@og.fr",
            consentement=True, dui_statut=statut, dui_editeur=editeur,
            editeur_segur={"oui": True, "non": False}.get(segur),
            porteur="volontaire" if ej == porteur else "possible"))
        out.setdefault(ej, []).append(v.id)
    return out


@pytest.mark.parametrize("rules", ["amorcage-t2-2021", "generalisation-2022"])
def test_lifecycle_from_proposal_to_last_payment(world, db_url, clock, tmp_path, rules):
    r = world.reg
    # 1. propose
    out = proposal(tmp_path / "proposition", rules)
    grappes, etabs = _csv(out / GRAPPES_CSV), _csv(out / ETABLISSEMENTS_CSV)
    assert len(grappes) == 1 and grappes.loc[0, "valide"] == "oui"
    code, amount = grappes.loc[0, "grappe"], float(grappes.loc[0, "financement"])
    members = sorted(etabs.loc[etabs["grappe"] == code, "finess_et"])
    porteur_ej = grappes.loc[0, "porteur"]
    assert len(members) == 16 and amount > 0

    # 2. declarations: one déclarant account per OG
    ogs = sorted(set(etabs["finess_ej"]))
    emails = {ej: f"og{k}@test.fr" for k, ej in enumerate(ogs)}
    accounts = {ej: world.make(email, "declarant") for ej, email in emails.items()}
    declare_from_proposal(world, etabs[etabs["grappe"] == code], accounts, porteur_ej)

    # 3. matching, invitations, acceptances
    run = r.apparier(world.coord, ["37"], regles=rules, time_limit=5)
    assert [g.code for g in run.grappes] == [code]
    g = run.grappes[0]
    assert sorted(e for m in g.membres for e in m.esms) == members
    assert (g.total, g.porteur_ej) == (amount, porteur_ej)
    g = r.inviter(world.coord, g.id, g.version)
    for jeton in accounts.values():
        for inv in r.mes_invitations(jeton):
            r.repondre(jeton, inv.id, True)

    # 4. constitution, submission to the ARS
    g = r.grappe(world.coord, g.id)
    assert g.statut == "acceptee"
    g = r.constituer(world.coord, g.id, g.version)
    g = r.soumettre_ars(world.coord, g.id, g.version)
    assert g.statut == "constituee" or g.statut.startswith("soumise")

    # 5. export
    r.exporter(world.coord, ["37"], tmp_path / "export")

    # 6. suivi enregistrer, on the registry's export, as a script of the ARS runs it
    env = {"GRAPPES_COMPTE": "ars24@test.fr", "GRAPPES_MOT_DE_PASSE": PASSWORD}
    porteur_email = emails[porteur_ej]
    res = runner.invoke(app, ["suivi", "enregistrer", str(tmp_path / "export"), "--grappe",
                              code, "--signature", SIGNATURE.isoformat(), "--porteur",
                              porteur_email, "--base", db_url], env=env)
    assert res.exit_code == 0, res.output
    suivi = Suivi(r)
    state = suivi.etat(world.ars, code, as_of=SIGNATURE)
    funded = state.grappe
    assert (funded.grappe_id, funded.regles, funded.montant_total) == (code, rules, amount)
    assert sorted(m.finess_et for m in funded.members) == members
    assert sum(t.montant for t in funded.tranches) == pytest.approx(amount)
    # the same grappe straight from the registry (the Suivi page's path, no file)
    direct, porteurs = suivi.funded_from_registry(world.ars, g.id, SIGNATURE)
    assert (direct.grappe_id, direct.montant_total, direct.members, direct.tranches) == (
        code, amount, funded.members, funded.tranches)
    assert porteurs == [porteur_email]
    from_file = read_funded_grappe(tmp_path / "export", code, SIGNATURE)
    assert from_file.members == funded.members
    assert suivi.financables(world.ars) == []  # followed: no longer offered

    # 7. monthly imports by the porteur, each month once it has ended
    clock.now = datetime(2026, 9, 1, 9, 0)  # six months on: sign in again
    porteur = r.connexion(emails[porteur_ej], PASSWORD).jeton
    assert suivi.importer(porteur, code, _monthly(members, 3, 1)).ok
    assert suivi.importer(porteur, code, _monthly(members, 6, 4)).ok

    # 8. milestone or verification, and payments
    usage = next(t for t in funded.tranches if t.regle.trigger == "cibles_usage")
    if any(t.regle.trigger == "jalon" for t in funded.tranches):
        jalon = next(t for t in funded.tranches if t.regle.trigger == "jalon")
        suivi.declarer_jalon(porteur, code, jalon.rang, date(2026, 4, 30))
    if usage.regle.service_check:
        suivi.declarer_verification(porteur, code, usage.rang, date(2026, 6, 10))
    for t in funded.tranches:
        res = runner.invoke(app, ["suivi", "versement", "--grappe", code, "--tranche",
                                  str(t.rang), "--date", "2026-07-01", "--base", db_url], env=env)
        assert res.exit_code == 0, res.output

    # 9. etat
    res = runner.invoke(app, ["suivi", "etat", "--json", "--date", "2026-09-01",
                              "--base", db_url], env=env)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    [row] = data["grappes"]
    assert (row["grappe"], row["n_esms"], row["montant_total"]) == (code, 16, amount)
    assert row["montant_verse"] == pytest.approx(amount) == row["montant_payable"]
    assert {t["etat"] for t in data["tranches"]} == {"payable"}
    assert {t["versee_le"] for t in data["tranches"]} == {"2026-07-01"}
    payable_usage = next(t for t in data["tranches"] if t["tranche"] == usage.rang)
    expected = "2026-06-10" if usage.regle.service_check else "2026-05-31"
    assert payable_usage["payable_le"] == expected
    assert sorted({c["finess_et"] for c in data["cibles"]} - {"grappe"}) == members
    # MSSanté and DMP: first measure over 3 months (March to May); the files from March
    assert {(c["indicateur_code"], c["atteinte"]) for c in data["cibles"]} == {
        ("mssante", "2026-05"), ("dmp", "2026-05"), ("dossiers_actifs", "2026-03"),
        ("projet_personnalise", "2026-03"), ("evenement", "2026-03")}


def _monthly(members: list[str], months: int, first: int) -> bytes:
    """Figures of months ``first`` to ``months`` (month 1 = March 2026): every member meets
    every target from the 3rd month (MSSanté, DMP: first measure over 3 months; active
    files 95 %, projects and events 92/95)."""
    lines = [";".join(COLUMNS)]
    for k in range(first - 1, months):
        lines += [f"{e};2026-{3 + k:02d};100;80;75;95;92;92" for e in members]
    return ("\n".join(lines) + "\n").encode()
