"""Follow-up storage (issue 14) on the registry's database, accounts and policy, on SQLite
and PostgreSQL: imports are all-or-nothing, and the access matrix of the follow-up actions
(same form as the registry's: every actor x every action, allowed or refused, a refusal
reading exactly like a grappe that does not exist)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from grappes.followup.csv_import import COLUMNS
from grappes.followup.evaluate import TrancheState
from grappes.followup.indicators import COUNT_FIELDS
from grappes.followup.store import Suivi
from grappes.registry import AccesRefuse, SaisieInvalide
from grappes.registry.suivi_tables import SuiviIndicateur
from tests.followup_factories import (
    FINESS_A,
    FINESS_B,
    T2_A,
    T2_B,
    g2022_grappe,
    linear_c,
    steady_d,
    t2_grappe,
)


def _csv(rows_a=T2_A, rows_b=T2_B, year=2024) -> bytes:
    lines = [";".join(COLUMNS)]
    for finess, persons, rows in ((FINESS_A, 100, rows_a), (FINESS_B, 50, rows_b)):
        for m, *counts in rows:
            lines.append(";".join([finess, f"{year}-{m:02d}", str(persons), *map(str, counts)]))
    return ("\n".join(lines) + "\n").encode()


def _csv_of(figures) -> bytes:
    lines = [";".join(COLUMNS)]
    lines += [";".join([f.finess_et, f"{f.mois:%Y-%m}", *[str(f.count(c)) for c in COUNT_FIELDS]])
              for f in figures]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def suivi(world):
    s = Suivi(world.reg)
    s.enregistrer(world.ars, t2_grappe(), porteurs=["a@test.fr"])
    s.enregistrer(world.ars, g2022_grappe(), porteurs=["a@test.fr"])
    return s


def _count(suivi) -> int:
    with suivi.db.read() as s:
        return s.scalar(select(func.count()).select_from(SuiviIndicateur))


def test_import_then_state_then_payable(world, suivi):
    first = suivi.importer(world.a, "T2-TEST", _csv(T2_A[:4], T2_B[:4]))
    assert first.ok and first.written == 8
    st = suivi.etat(world.a, "T2-TEST", as_of=date(2024, 5, 3))
    assert st.tranches[2].state == TrancheState.PENDING
    more = suivi.importer(world.a, "T2-TEST", _csv(T2_A[4:], T2_B[4:]))
    assert more.written == 4
    suivi.declarer_jalon(world.a, "T2-TEST", 2, date(2024, 4, 30))
    st = suivi.etat(world.ars, "T2-TEST", as_of=date(2024, 7, 5))
    assert [t.state for t in st.tranches] == [TrancheState.PAYABLE] * 3
    assert st.tranches[2].payable_on == date(2024, 5, 31)
    suivi.declarer_versement(world.ars, "T2-TEST", 1, date(2024, 2, 1))
    assert suivi.versements(world.a, "T2-TEST")[1] == date(2024, 2, 1)


def test_2022_verification_de_service_regulier_stored_and_applied(world, suivi):
    """2022 (50/50): targets met end of September 2023, the porteur records the VSR signed
    on 12 October: the 2nd tranche waits for it, then is payable on that date."""
    assert suivi.importer(world.a, "G22-TEST", _csv_of([*linear_c(10), *steady_d(10)])).ok
    st = suivi.etat(world.ars, "G22-TEST", as_of=date(2023, 10, 13))
    assert st.usage_met == date(2023, 9, 1)
    assert st.tranches[1].tranche.regle.service_check
    assert st.tranches[1].state == TrancheState.AWAITING_CHECK
    with pytest.raises(AccesRefuse):  # the ARS reads it, the porteur records it
        suivi.declarer_verification(world.ars, "G22-TEST", 2, date(2023, 10, 12))
    with pytest.raises(SaisieInvalide, match="n'attend pas"):
        suivi.declarer_verification(world.a, "G22-TEST", 1, date(2023, 10, 12))
    with pytest.raises(SaisieInvalide, match="futur"):
        suivi.declarer_verification(world.a, "G22-TEST", 2, date(2099, 1, 1))
    with pytest.raises(SaisieInvalide, match="n'attend pas"):
        suivi.declarer_verification(world.a, "T2-TEST", 3, date(2024, 6, 1))
    suivi.declarer_verification(world.a, "G22-TEST", 2, date(2023, 10, 12))
    st = suivi.etat(world.ars, "G22-TEST", as_of=date(2023, 10, 13))
    t = st.tranches[1]
    assert (t.state, t.payable_on) == (TrancheState.PAYABLE, date(2023, 10, 12))
    assert (t.verification.le, t.verification.par) == (date(2023, 10, 12), "a@test.fr")
    assert st.amount_payable == 60_000


def test_verification_recorded_again_keeps_its_history(world, suivi):
    """Re-recording the « vérification de service régulier » sets the date the tranche
    uses and keeps the earlier one, each recording audited with what it replaced."""
    assert suivi.importer(world.a, "G22-TEST", _csv_of([*linear_c(10), *steady_d(10)])).ok
    suivi.declarer_verification(world.a, "G22-TEST", 2, date(2023, 10, 12))
    suivi.declarer_verification(world.a, "G22-TEST", 2, date(2023, 10, 10))  # a typo fixed
    history = suivi.historique_verifications(world.ars, "G22-TEST")
    assert [(h.tranche, h.signee_le, h.par) for h in history] == [
        (2, date(2023, 10, 12), "a@test.fr"), (2, date(2023, 10, 10), "a@test.fr")]
    t = suivi.etat(world.ars, "G22-TEST", as_of=date(2023, 10, 13)).tranches[1]
    assert (t.state, t.payable_on) == (TrancheState.PAYABLE, date(2023, 10, 10))
    audit = [a.detail for a in world.reg.journal(world.admin, 50)
             if a.action == "suivi_verification"]
    assert "tranche 2 : signée le 2023-10-10 (remplace le 2023-10-12)" in audit
    assert "tranche 2 : signée le 2023-10-12" in audit
    with pytest.raises(AccesRefuse):
        suivi.historique_verifications(world.b, "G22-TEST")


def test_payment_only_of_a_payable_tranche_and_once(world, suivi):
    with pytest.raises(SaisieInvalide, match="pas payable"):
        suivi.declarer_versement(world.ars, "T2-TEST", 3, date(2024, 7, 1))
    suivi.declarer_versement(world.ars, "T2-TEST", 1, date(2024, 2, 1))
    with pytest.raises(SaisieInvalide, match="déjà versée le 01/02/2024"):
        suivi.declarer_versement(world.ars, "T2-TEST", 1, date(2024, 2, 2))
    st = suivi.etat(world.ars, "T2-TEST", as_of=date(2024, 7, 5))
    assert st.grappe.versements == {1: date(2024, 2, 1)}


def test_bad_import_writes_nothing_and_replacement_is_explicit(world, suivi):
    assert suivi.importer(world.a, "T2-TEST", _csv(T2_A[:2], T2_B[:2])).ok
    before = _count(suivi)
    bad = _csv(T2_A[2:4], [(3, 40, 25, 60, 30, 30)])  # B: 60 active files for 50 persons
    result = suivi.importer(world.a, "T2-TEST", bad)
    assert not result.ok and result.written == 0
    assert [(r.line, r.field) for r in result.report.rejects] == [(4, "dossiers_actifs")]
    assert _count(suivi) == before
    again = suivi.importer(world.a, "T2-TEST", _csv(T2_A[:1], []))
    assert not again.ok and "remplacement" in again.report.rejects[0].reason
    replaced = suivi.importer(world.a, "T2-TEST", _csv([(1, 61, 50, 60, 30, 40)], []),
                              remplacer=True)
    assert replaced.ok and replaced.report.replaced == ((FINESS_A, date(2024, 1, 1)),)
    assert _count(suivi) == before
    with pytest.raises(SaisieInvalide):
        suivi.enregistrer(world.ars, t2_grappe())  # already followed


ACTIONS = ("enregistrer", "lire", "importer", "jalon", "verification", "versement", "exporter",
           "lister")
#: actor -> actions allowed on the grappe of région 24 whose porteur is ``a``
EXPECTED = {
    "admin": set(),
    "coord": set(),
    "coord45": set(),
    "ars": {"enregistrer", "lire", "versement", "exporter", "lister"},
    "ars_other": set(),
    "a": {"lire", "importer", "jalon", "verification", "lister"},
    "b": set(),
}


def _do(suivi, jeton, action, code, tmp_path):
    match action:
        case "enregistrer":
            g = t2_grappe()
            g = type(g)(**{**g.__dict__, "grappe_id": f"NEW-{jeton[:6]}"})
            suivi.enregistrer(jeton, g)
        case "lire":
            suivi.etat(jeton, code, as_of=date(2024, 7, 5))
        case "importer":
            suivi.importer(jeton, code, _csv(T2_A[:1], []), remplacer=True)
        case "jalon":
            suivi.declarer_jalon(jeton, code, 2, date(2024, 4, 30))
        case "verification":  # the 2022 grappe of the same région and porteur has a VSR
            suivi.declarer_verification(jeton, "G22-TEST" if code == "T2-TEST" else code, 2,
                                        date(2023, 10, 12))
        case "versement":
            suivi.declarer_versement(jeton, code, 1, date(2024, 2, 1))
        case "exporter":
            suivi.exporter(jeton, tmp_path, region="24", as_of=date(2024, 7, 5))
        case "lister":
            if not suivi.mes_grappes(jeton, as_of=date(2024, 7, 5)):
                raise AccesRefuse


def test_access_matrix(world, suivi, tmp_path):
    actors = {name: getattr(world, name) for name in EXPECTED}
    wrong, cells = [], 0
    for name, jeton in actors.items():
        for action in ACTIONS:
            cells += 1
            allowed = action in EXPECTED[name]
            try:
                _do(suivi, jeton, action, "T2-TEST", tmp_path)
                got = True
            except AccesRefuse as exc:
                got = False
                assert str(exc) == AccesRefuse.MESSAGE
            except Exception as exc:  # a refusal must never leak as another error
                got = f"{type(exc).__name__}: {exc}"
            if got != allowed:
                wrong.append((name, action, allowed, got))
            # a grappe that does not exist reads exactly the same as a refusal
            if action in ("lire", "importer", "jalon", "verification", "versement"):
                with pytest.raises(AccesRefuse) as missing:
                    _do(suivi, jeton, action, "NEXISTE-PAS", tmp_path)
                assert str(missing.value) == AccesRefuse.MESSAGE
    assert not wrong, wrong
    assert cells == len(EXPECTED) * len(ACTIONS)


def test_dates_before_the_signature_or_absurd_are_refused(world, suivi):
    """Issue 18: a milestone dated before the signature, a payment dated 1900 or 2999 and a
    convention « signed » in 1900 are refused with a French message naming the field."""
    from dataclasses import replace

    signed = "10/01/2024"
    with pytest.raises(SaisieInvalide, match=f"antérieure à la signature.*{signed}"):
        suivi.declarer_jalon(world.a, "T2-TEST", 2, date(2023, 12, 1))
    with pytest.raises(SaisieInvalide, match="antérieure à la signature"):
        suivi.declarer_versement(world.ars, "T2-TEST", 1, date(1900, 1, 1))
    with pytest.raises(SaisieInvalide, match="dans le futur"):
        suivi.declarer_versement(world.ars, "T2-TEST", 1, date(2999, 1, 1))
    with pytest.raises(SaisieInvalide, match="invraisemblable"):
        suivi.enregistrer(world.ars, replace(t2_grappe(), grappe_id="T2-1900",
                                             signature=date(1900, 1, 1)))
    st = suivi.etat(world.ars, "T2-TEST", as_of=date(2024, 7, 5))
    assert st.grappe.versements == {} and all(
        t.jalon_le is None for t in st.grappe.tranches if hasattr(t, "jalon_le"))
