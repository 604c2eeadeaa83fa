"""The Suivi page's « Noter un versement » (ARS) and « Déclarer un jalon » (porteur): the
docs say the ARS « note les versements » and the porteur declares the end of set-up, and
until now only ``grappes suivi versement`` and ``grappes suivi jalon`` could.

The choices are the tranches payable and not yet paid (:func:`payable_unpaid`, tested
without a page); the check that the tranche is payable on the date given, paid once, and
the audit are ``Suivi.declarer_versement``'s, as for the command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from grappes.core.formatting import euros
from grappes.followup.evaluate import FollowupState, TrancheState


@dataclass(frozen=True)
class PaymentChoice:
    """One tranche the ARS may record as paid."""

    code: str
    rang: int
    libelle: str
    montant: float
    payable_le: date | None

    @property
    def label(self) -> str:
        since = f", payable depuis le {self.payable_le:%d/%m/%Y}" if self.payable_le else ""
        return (f"{self.code} — tranche {self.rang} ({self.libelle}) : "
                f"{euros(self.montant)}{since}")


def payable_unpaid(states: list[FollowupState],
                   paid: Mapping[str, Mapping[int, date | None]]) -> list[PaymentChoice]:
    """The payable tranches not yet recorded as paid, grappe by grappe, in tranche order."""
    out = []
    for s in states:
        done = paid.get(s.grappe.grappe_id, {})
        for t in s.tranches:
            if t.state == TrancheState.PAYABLE and done.get(t.tranche.rang) is None:
                out.append(PaymentChoice(s.grappe.grappe_id, t.tranche.rang,
                                         t.tranche.regle.label, t.tranche.montant, t.payable_on))
    return out


def payment_panel(suivi, jeton: str, states: list[FollowupState],
                  paid: Mapping[str, Mapping[int, date | None]], today: date) -> None:
    """The form; a refusal (not payable on that date, date in the future, already paid)
    is shown with its reason, a success says what was recorded."""
    import streamlit as st

    from grappes.registry import RegistreError
    from grappes.ui import registre_session

    st.subheader("Noter un versement")
    if done := st.session_state.pop("suivi_versement_fait", None):
        st.success(done)
    choices = payable_unpaid(states, paid)
    if not choices:
        st.caption("Aucune tranche payable à noter versée.")
        return
    with st.form("versement", enter_to_submit=False):
        choice = st.selectbox("Tranche payable", choices, format_func=lambda c: c.label)
        le = st.date_input("Date du versement", value=today, format="DD/MM/YYYY",
                           max_value=today)
        if st.form_submit_button("Noter le versement"):
            try:
                suivi.declarer_versement(jeton, choice.code, choice.rang, le)
            except RegistreError as exc:
                registre_session.erreur(exc)
            else:
                st.session_state["suivi_versement_fait"] = (
                    f"Versement noté : {choice.code}, tranche {choice.rang} "
                    f"({euros(choice.montant)}), le {le:%d/%m/%Y}.")
                st.rerun()


def milestone_panel(suivi, jeton: str, state: FollowupState) -> None:
    """(Porteur) the milestone tranches not yet declared (e.g. « Fin du paramétrage »):
    the date it was reached; ``Suivi.declarer_jalon`` checks it and notifies."""
    import streamlit as st

    from grappes.registry import RegistreError
    from grappes.ui import registre_session

    done = st.session_state.pop("suivi_jalon_fait", None)
    todo = [t.tranche for t in state.tranches
            if t.tranche.regle.trigger == "jalon" and t.tranche.rang not in state.grappe.jalons]
    if not todo and not done:
        return
    st.subheader("Déclarer un jalon")
    if done:
        st.success(done)
    if not todo:
        return
    with st.form("jalon", enter_to_submit=False):
        rang = st.selectbox("Tranche", [t.rang for t in todo],
                            format_func=lambda r: next(f"Tranche {t.rang} : {t.regle.label}"
                                                       for t in todo if t.rang == r))
        le = st.date_input("Date où le jalon a été atteint", value=None, format="DD/MM/YYYY")
        if st.form_submit_button("Déclarer le jalon"):
            if le is None:
                st.warning("Indiquez la date.")
                return
            try:
                suivi.declarer_jalon(jeton, state.grappe.grappe_id, int(rang), le)
            except RegistreError as exc:
                registre_session.erreur(exc)
            else:
                st.session_state["suivi_jalon_fait"] = (
                    f"Jalon de la tranche {rang} déclaré (atteint le {le:%d/%m/%Y}) : "
                    "l'ARS en est avertie.")
                st.rerun()
