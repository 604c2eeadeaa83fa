"""The app's logic in ``grappes.ui`` (no page): French tables, counts, headline figures, the
edit log kept in the address, the ARS envelope, templates and the upload limit.

Built on the constructed region of ``test_app_factory`` (two valid grappes, known unplaced
ESMS), so every expected value is known without the solver.
"""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from test_app_factory import region

from grappes.core.formatting import euros
from grappes.exports.naming import og_labels, with_names
from grappes.ingest import load
from grappes.scenarios.scenario import Scenario
from grappes.scenarios.whatif import WhatIf
from grappes.ui import edits
from grappes.ui.envelope import EnvelopeRequest, run_envelope
from grappes.ui.upload import MAX_UPLOAD_MB, dui_template, establishment_template
from grappes.ui.views import (
    counts,
    grappes_view,
    headline,
    members_view,
    partners_view,
    unplaced_view,
)

ROOT = Path(__file__).resolve().parents[1]
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def whatif(funded_et: str | None = None) -> tuple[WhatIf, object]:
    """The region's what-if, optionally with one ESMS the solver set aside as already funded."""
    r = region()
    rows = []
    if funded_et:
        rows.append({"finess_et": funded_et, "finess_ej": "", "champ": "PA",
                     "code": "deja_finance", "reason": "déjà financé", "near_miss": "",
                     "near_miss_km": float("nan")})
    unplaced = pd.DataFrame(rows, columns=["finess_et", "finess_ej", "champ", "code", "reason",
                                           "near_miss", "near_miss_km"])
    return WhatIf.from_grappes(r.etab, r.rules, r.grappes, unplaced=unplaced, champ="PA"), r


def test_counts_have_one_definition():
    plain, r = whatif()
    n = counts(plain)
    placed = sum(len(g.esms) for g in r.grappes)
    assert n.places == placed
    assert n.champ == len(r.etab) and n.ecartes == 0
    assert n.places + n.sans_grappe == n.champ
    # an already-funded unplaced ESMS leaves both counts and is counted apart
    aside, _ = whatif(funded_et=r.far_isolated)
    m = counts(aside)
    assert (m.champ, m.places, m.sans_grappe, m.ecartes) == (n.champ - 1, n.places,
                                                             n.sans_grappe - 1, 1)
    view = unplaced_view(Scenario.from_whatif(aside), aside)
    assert len(view.frame) == m.sans_grappe
    assert r.far_isolated not in set(view.frame["finess_et"])
    assert str(m.champ) in m.definition and "placés + sans grappe" in m.definition


def test_headline_is_short_with_the_exact_value_in_the_tooltip():
    s, _ = whatif()
    totals = s.current.totals
    metrics = {m.label: m for m in headline(totals, counts(s))}
    funding = metrics["Financement"]
    assert len(funding.value) <= 8 and "€" in funding.value
    assert euros(totals["financement"]) in funding.help
    assert re.search(r"\d \d{3} €", funding.help)  # thousands separated
    assert metrics["ESMS placés"].value == f"{counts(s).places} / {counts(s).champ}"


def test_tables_read_in_french_with_the_decision_first():
    s, r = whatif()
    data = Scenario.from_whatif(s)
    view = grappes_view(data)
    assert list(view.frame.columns[:4]) == ["grappe", "valide", "points", "financement"]
    assert view.labels[:4] == ["grappe", "valide", "points grille", "financement"]
    assert view.config["financement"]["type_config"]["format"] == "euro"
    for label in view.labels:
        assert not SNAKE.search(label), label
    detail = " ".join(view.frame["detail"])
    assert not SNAKE.search(detail), detail  # criteria by label, not code
    assert view.frame["porteur"].iloc[0] == "ASSOCIATION FICTIVE 370000011 (370000011)"
    members = members_view(s, r.grappes[0].id)
    assert not any(SNAKE.search(v) for v in members.frame["dui"])  # "à mettre à niveau"
    assert "à mettre à niveau" in set(members.frame["dui"].str.split(" \\(").str[0])


def test_partner_columns_put_the_decision_first():
    frame = pd.DataFrame([{
        "rang": 1, "type": "grappe", "cible": "PA-24-001", "libelle": "grappe PA-24-001",
        "distance_km": 3.24, "editeur": "Alpha", "editeur_compatible": True, "champ": "PA",
        "statut": "public", "valide_avant": True, "valide_apres": True,
        "regles_enfreintes": "", "n_esms_apres": 16, "n_og_apres": 4, "points_avant": 5,
        "points_apres": 8, "financement_avant": 500_000.0, "financement_apres": 530_000.0}])
    view = partners_view(frame)
    assert view.labels[:6] == ["rang", "grappe ou OG cible", "valide après",
                               "pourquoi invalide après", "points après", "financement après"]
    assert view.frame["distance"].iloc[0] == pytest.approx(3.2)
    # issue 20 item 5: « invalide après » always says why, OGs by name, text wrapped
    s, _ = whatif()
    invalid = pd.concat([frame.assign(valide_apres=False, regles_enfreintes=""),
                         frame.assign(valide_apres=False, regles_enfreintes=(
                             "OG 370000011 à 51,9 km du centre | 14 ESMS comptés"))])
    view = partners_view(invalid, og_labels(s.etab))
    assert list(view.frame["regles"]) == [
        "règles de l'appel non respectées",
        "ASSOCIATION FICTIVE 370000011 (370000011) à 51,9 km du centre ; 14 ESMS comptés"]
    assert view.row_height and view.row_height > 64  # Streamlit wraps above 4rem


def test_finess_numbers_become_names():
    s, _ = whatif()
    labels = og_labels(s.etab)
    text = with_names("OG verrouillés ensemble : 370000011, 450000020", labels)
    assert text == ("OG verrouillés ensemble : ASSOCIATION FICTIVE 370000011 (370000011), "
                    "ASSOCIATION FICTIVE 450000020 (450000020)")
    assert with_names("grappe PA-24-001", labels) == "grappe PA-24-001"


def test_edit_log_round_trips_and_replays_to_the_same_amounts():
    s, r = whatif()
    log = [{"op": "move", "og": "370000050", "to": r.grappes[0].id},
           {"op": "porteur", "g": r.grappes[1].id, "og": "450000021"}]
    for e in log:
        edits.apply(s, e)
    text = edits.encode(log, "tag1")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", text)  # fits in an address
    assert edits.decode(text, "tag1") == log
    assert edits.decode(text, "other") == []  # another proposal: ignored
    assert edits.decode("pas du base64 !", "tag1") == []
    fresh, _ = whatif()
    kept, dropped = edits.replay(fresh, edits.decode(text, "tag1"))
    assert kept == log and dropped == []
    assert fresh.current.totals == s.current.totals
    assert fresh.assignment == s.assignment
    # an edit that no longer fits is dropped with a French message, the rest replayed
    other, _ = whatif()
    kept, dropped = edits.replay(other, [{"op": "exclude", "et": "999999999"}, *log])
    assert kept == log and len(dropped) == 1 and "non rejouée" in dropped[0]


def test_envelope_funds_within_the_envelope_and_says_why_not():
    s, r = whatif()
    data = Scenario.from_whatif(s)
    totals = {g.id: data.costs[g.id].total for g in data.grappes}
    cheapest = min(totals.values())
    result = run_envelope(data, EnvelopeRequest(envelope=cheapest + 1, windows=(0.5, 0.7, 1.0)))
    sel = result.selection
    assert sel.total_cost <= cheapest + 1
    assert len(result.funded.frame) + len(result.not_funded.frame) == len(data.grappes)
    assert (result.not_funded.frame["raison"] != "").all()
    # named by porteur, and « pourquoi non financée » right after, wrapped (issue 20 item 5)
    assert result.not_funded.labels[:2] == ["grappe — porteur", "pourquoi non financée"]
    assert result.funded.labels[0] == "grappe — porteur"
    names = data.og_names()
    for view in (result.funded, result.not_funded):
        assert view.row_height and view.row_height > 64
        for row in view.frame.itertuples():
            assert row.intitule == f"{row.grappe} — {names[data.costs[row.grappe].porteur]}"
    assert result.remaining == pytest.approx(sel.envelope - sel.total_cost)
    csv = result.csv().decode("utf-8-sig")
    assert csv.splitlines()[0] == "Grappe;Porteur;Décision;Financement;Points de la grille;Pourquoi"
    with pytest.raises(ValueError, match="Fenêtres"):
        run_envelope(data, EnvelopeRequest(envelope=1e6, windows=(0.7, 0.5)))
    # an invalid grappe is never funded, and the reason names its broken rule
    s.exclude_esms(r.grappes[0].esms[0])
    for e in r.grappes[0].esms[1:9]:
        s.exclude_esms(e)
    broken = Scenario.from_whatif(s)
    assert not broken.valid(r.grappes[0].id)
    res = run_envelope(broken, EnvelopeRequest(envelope=1e9))
    assert r.grappes[0].id not in set(res.funded.frame["grappe"])
    why = res.not_funded.frame.set_index("grappe").loc[r.grappes[0].id, "raison"]
    assert why.startswith("grappe invalide")


def test_templates_are_read_back_by_the_readers():
    etab = io.BytesIO(establishment_template())
    etab.name = "modele_etablissements.csv"
    result = load(etab)
    assert len(result.etablissements) == 1 and not result.rejets
    assert result.etablissements["finess_et"].iloc[0] == "450000013"
    header = dui_template().decode("utf-8-sig").splitlines()[0]
    assert header == "finess_et;dui_editeur;dui_statut;editeur_segur;deja_finance"


def test_one_upload_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB == 300


def test_loading_messages_lose_the_cli_options():
    """The check panel never shows « (--ej) » or « (--dui …) » (issue 20): CLI jargon."""
    from grappes.ingest.dui import ROLE as DUI_ROLE
    from grappes.ingest.ej import ROLE as EJ_ROLE
    from grappes.ui.datapanel import without_cli_options

    for text in (f"{EJ_ROLE} absent", f"{DUI_ROLE} : ligne 3",
                 "Pas de données DUI (--dui ou colonnes du modèle) : statut inconnu"):
        assert "--" not in without_cli_options(text)
    assert without_cli_options("Pas de données DUI (--dui ou colonnes du modèle)") == \
        "Pas de données DUI (fichier DUI ou colonnes du modèle)"


def test_ogs_named_by_number_in_alerts_become_names():
    """Issue 20 item 4: « OG 360405005 à 51,9 km » and the solver's OGs kept together
    (« OG 370000011+450000020 ») read as « Nom (FINESS) »; an unknown number stays."""
    s, _ = whatif()
    labels = og_labels(s.etab)
    assert with_names("OG 370000011 à 51,9 km", labels) == \
        "ASSOCIATION FICTIVE 370000011 (370000011) à 51,9 km"
    assert with_names("OG 370000011+450000020 (12 ESMS)", labels) == (
        "ASSOCIATION FICTIVE 370000011 (370000011) + ASSOCIATION FICTIVE 450000020 "
        "(450000020) (12 ESMS)")
    assert with_names("OG 999999999 à 3 km", labels) == "OG 999999999 à 3 km"
