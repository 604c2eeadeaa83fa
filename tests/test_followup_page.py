"""The Suivi page (Streamlit AppTest, no browser): porteur sees tranches and charts, imports
a month and the usage tranche becomes payable; the ARS sees its région's calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from grappes.followup.store import Suivi
from grappes.registry import RegistreError, Registry
from tests.followup_factories import T2_A, T2_B, g2022_grappe, linear_c, steady_d, t2_grappe
from tests.registry.test_followup_store import _csv

PW = "mot-de-passe-solide"
PAGE = Path(__file__).resolve().parents[1] / "pages" / "3_Suivi.py"


def _accounts(tmp_path, monkeypatch) -> Suivi:
    """A fresh database for the page (admin, ARS of R24, porteur p@t.fr)."""
    st.cache_resource.clear()  # the page caches its Suivi: each test has its own database
    url = f"sqlite:///{tmp_path / 'g.db'}"
    monkeypatch.setenv("GRAPPES_DB_URL", url)
    reg = Registry(url)
    reg.init()
    reg.creer_compte(None, "admin@t.fr", "admin", PW)
    admin = reg.connexion("admin@t.fr", PW).jeton
    reg.creer_compte(admin, "ars@t.fr", "ars", PW, ["R24"])
    reg.creer_compte(admin, "p@t.fr", "declarant", PW)
    return Suivi(reg)


@pytest.fixture
def db(tmp_path, monkeypatch):
    suivi = _accounts(tmp_path, monkeypatch)
    reg = suivi.registry
    suivi.enregistrer(reg.connexion("ars@t.fr", PW).jeton, t2_grappe(date(2024, 4, 30)),
                      ["p@t.fr"])
    porteur = reg.connexion("p@t.fr", PW).jeton
    assert suivi.importer(porteur, "T2-TEST", _csv(T2_A[:4], T2_B[:4])).ok
    return suivi, porteur


def _login(email: str) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.run()
    at.text_input[0].input(email)
    at.text_input[1].input(PW)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_porteur_sees_tranches_then_payable_after_a_month(db):
    suivi, porteur = db
    at = _login("p@t.fr")
    # evaluated today: the 18-month deadline (July 2025) has passed without the targets
    assert [m.value for m in at.metric] == ["payable", "payable", "à risque"]
    assert all(not m.delta for m in at.metric)  # dates as plain text, no "↑" arrow
    assert any("Payable le 10/01/2024" in md.value for md in at.markdown)
    assert any("peut dépasser 100 %" in c.value for c in at.caption)
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert suivi.importer(porteur, "T2-TEST", _csv(T2_A[4:5], T2_B[4:5])).ok  # May
    at.run()
    assert [m.value for m in at.metric] == ["payable", "payable", "payable"]


def test_ars_sees_its_region(db):
    at = _login("ars@t.fr")
    assert "Vue ARS" in at.header[0].value
    # its messages (the usage tranche at risk, told at the import), then its two tables
    # (the sidebar's password change is the shared sign-in's, not the page's)
    assert [e.label.split(" (")[0] for e in at.expander
            if "mot de passe" not in e.label] == ["Mes messages"]
    assert len(at.dataframe) == 3
    assert "à risque" in at.dataframe[0].value["Objet"].iloc[0]


def test_ars_records_a_payment_in_the_page(db):
    """« Noter un versement » (the docs: the ARS « note les versements »): the payable
    tranches not yet paid are offered; one recorded, it leaves the list and is paid."""
    suivi, _ = db
    at = _login("ars@t.fr")
    box = next(s for s in at.selectbox if s.label == "Tranche payable")
    offered = list(box.options)  # as the page writes them (PaymentChoice.label)
    assert len(offered) == 2 and offered[0].startswith("T2-TEST — tranche 1"), offered
    next(b for b in at.button if b.label == "Noter le versement").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(m.value.startswith("Versement noté : T2-TEST, tranche 1") for m in at.success)
    box = next(s for s in at.selectbox if s.label == "Tranche payable")
    assert len(box.options) == 1
    ars = suivi.registry.connexion("ars@t.fr", PW).jeton
    assert suivi.versements(ars, "T2-TEST")[1] is not None


def test_porteur_records_the_verification_de_service_regulier(db):
    suivi, porteur = db
    reg = suivi.registry
    suivi.enregistrer(reg.connexion("ars@t.fr", PW).jeton, g2022_grappe(), ["p@t.fr"])
    figures = [*linear_c(10), *steady_d(10)]
    assert suivi.saisir(porteur, "G22-TEST", figures).ok
    at = _login("p@t.fr")
    at.selectbox[0].select("G22-TEST").run()
    assert [m.value for m in at.metric] == ["payable", "en attente de vérification"]
    assert any("vérification à enregistrer" in md.value for md in at.markdown)
    at.date_input[0].set_value(date(2023, 10, 12))
    next(b for b in at.button if b.label == "Enregistrer la vérification").click().run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["payable", "payable"]
    assert any("Payable le 12/10/2023" in md.value for md in at.markdown)
    assert any("signée le 12/10/2023 (enregistrée par p@t.fr)" in md.value for md in at.markdown)
    assert any("enregistrée" in el.value for el in at.success)


def test_tables_show_french_amounts_shares_and_dates():
    """The page's tables read as a French user expects (the XLSX keeps numbers)."""
    import pandas as pd

    from grappes.followup.export import for_display

    frame = pd.DataFrame({"tranche": [1, 2], "part": [0.4, 0.6], "montant": [40000.0, None],
                          "payable_le": [date(2026, 5, 10), None], "taux": [0.725, 1.5]})
    shown = for_display(frame)
    assert list(shown.columns) == ["Tranche", "Part", "Montant", "Payable le", "Taux"]
    assert shown.iloc[0].tolist() == [1, "40 %", "40 000 €", "10/05/2026", "72 %"]
    assert shown.iloc[1].tolist() == [2, "60 %", "", "", "150 %"]


def test_porteur_sees_the_month_each_target_was_met(db):
    """The worked example of docs/suivi.md, on the page: EHPAD A and SSIAD B, months met
    per indicator (May not declared yet: B's active files not met)."""
    from grappes.ui.suivi_registration import targets_table

    suivi, porteur = db
    table = targets_table(suivi.etat(porteur, "T2-TEST", as_of=date(2024, 7, 5)))
    assert list(table.columns) == ["ESMS", "MSSanté", "DMP", "Dossiers actifs",
                                   "Projet personnalisé", "Événement"]
    assert table.iloc[0].tolist() == ["EHPAD A (180000001)", "2024-03", "2024-04", "2024-03",
                                      "2024-03", "2024-03"]
    assert table.iloc[1].tolist() == ["SSIAD B (180000019)", "2024-03", "2024-04",
                                      "non atteinte", "non atteinte", "2024-04"]
    at = _login("p@t.fr")
    assert any(h.value == "Mois où chaque cible est atteinte" for h in at.subheader)
    # the outbox, without GRAPPES_SMTP_URL: the « tranche payable » message is on the page
    assert any(e.label.startswith("Mes messages (") for e in at.expander)
    assert any("ESMS" in df.value.columns for df in at.dataframe)


def test_ars_registers_a_constituted_registry_grappe_without_a_file(db, tmp_path):
    """The ARS picks the constituted grappe in « Depuis le registre », gives the signature
    date: the grappe is followed, its porteur's account can read it."""
    from tests.followup_exports import GRAPPE, constituted_grappe

    suivi, _ = db
    reg = suivi.registry
    admin = reg.connexion("admin@t.fr", PW).jeton
    gid = constituted_grappe(reg, admin, PW, tmp_path / "sortie")
    at = _login("ars@t.fr")
    assert any(h.value == "Enregistrer une grappe financée" for h in at.subheader)
    assert at.selectbox[0].options[0].startswith(f"{GRAPPE} — 16 ESMS")
    at.date_input(key="sig_registre").set_value(date(2024, 1, 15))
    next(b for b in at.button if b.label == "Enregistrer la grappe").click().run()
    assert not at.exception, at.exception
    assert any(f"Grappe {GRAPPE} enregistrée" in el.value for el in at.success)
    ars = reg.connexion("ars@t.fr", PW).jeton
    state = suivi.etat(ars, GRAPPE, as_of=date(2024, 2, 1))
    assert len(state.grappe.members) == 16 and state.grappe.signature == date(2024, 1, 15)
    assert suivi.financables(ars) == []
    assert gid is not None

    def reads(email: str) -> bool:
        try:
            suivi.etat(reg.connexion(email, PW).jeton, GRAPPE, as_of=date(2024, 2, 1))
        except RegistreError:
            return False
        return True

    # by default the porteur OG's déclarant account, and nobody else of the grappe
    assert sum(reads(f"og{k}@t.fr") for k in range(4)) == 1


def test_ars_registers_from_an_uploaded_workbook(db, tmp_path):
    """The upload path of the page: the app's workbook of a proposal, as uploaded bytes."""
    from grappes.ui.suivi_registration import register_from_upload
    from tests.followup_exports import GRAPPE, app_workbook, upgrade_region

    suivi, _ = db
    ars = suivi.registry.connexion("ars@t.fr", PW).jeton
    data = app_workbook(upgrade_region(tmp_path / "region.csv"))
    assert register_from_upload(suivi, ars, data, "grappes.xlsx", GRAPPE, date(2023, 3, 15),
                                ["p@t.fr"]) == GRAPPE
    state = suivi.etat(ars, GRAPPE, as_of=date(2023, 4, 1))
    usage = next(t for t in state.tranches if t.tranche.regle.trigger == "cibles_usage")
    assert usage.deadline == date(2023, 12, 15)  # upgrades: 9 months (004)


def test_porteur_declares_the_milestone_and_sees_the_tranche_paid(tmp_path, monkeypatch):
    """« Déclarer un jalon » in the page (until now only ``grappes suivi jalon``): the
    milestone tranche becomes payable; a tranche the ARS paid reads « versée »."""
    suivi = _accounts(tmp_path, monkeypatch)
    reg = suivi.registry
    ars = reg.connexion("ars@t.fr", PW).jeton
    suivi.enregistrer(ars, t2_grappe(), ["p@t.fr"])  # no milestone declared
    suivi.declarer_versement(ars, "T2-TEST", 1, date(2024, 2, 1))
    at = _login("p@t.fr")
    assert [m.value for m in at.metric][:2] == ["versée", "en attente"]
    assert any("Versée le 01/02/2024" in md.value for md in at.markdown)
    assert not at.get("arrow_vega_lite_chart") and not at.get("vega_lite_chart")
    assert any("Aucun chiffre mensuel importé" in i.value for i in at.info)
    form = next(d for d in at.date_input if d.label == "Date où le jalon a été atteint")
    form.set_value(date(2024, 9, 30))
    next(b for b in at.button if b.label == "Déclarer le jalon").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Jalon de la tranche 2 déclaré" in m.value for m in at.success)
    assert [m.value for m in at.metric][:2] == ["versée", "payable"]
    assert suivi.etat(reg.connexion("p@t.fr", PW).jeton, "T2-TEST").grappe.jalons[2] == \
        date(2024, 9, 30)
    reg.db.dispose()
