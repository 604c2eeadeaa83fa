"""The Suivi page (Streamlit AppTest, no browser): porteur sees tranches and charts, imports
a month and the usage tranche becomes payable; the ARS sees its région's calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from matching.followup.store import Suivi
from matching.registry import Registry
from tests.followup_factories import T2_A, T2_B, t2_grappe
from tests.registry.test_followup_store import _csv

PW = "mot-de-passe-solide"
PAGE = Path(__file__).resolve().parents[1] / "pages" / "3_Suivi.py"


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    monkeypatch.setenv("GRAPPES_DB_URL", url)
    reg = Registry(url)
    reg.init()
    reg.creer_compte(None, "admin@t.fr", "admin", PW)
    admin = reg.connexion("admin@t.fr", PW).jeton
    reg.creer_compte(admin, "ars@t.fr", "ars", PW, ["R24"])
    reg.creer_compte(admin, "p@t.fr", "declarant", PW)
    suivi = Suivi(reg)
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
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert suivi.importer(porteur, "T2-TEST", _csv(T2_A[4:5], T2_B[4:5])).ok  # May
    at.run()
    assert [m.value for m in at.metric] == ["payable", "payable", "payable"]


def test_ars_sees_its_region(db):
    at = _login("ars@t.fr")
    assert "Vue ARS" in at.header[0].value
    assert len(at.dataframe) == 2
