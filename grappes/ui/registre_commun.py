"""The « Mise en relation » page's shared parts: calling the API with French errors, the
members and ESMS tables, the territory's attachment requests, the territory box.

Moved out of ``pages/2_Mise_en_relation.py`` (issue 24: pages as thin as ``app.py``); every
read and write still goes through ``grappes.registry.Registry``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import pandas as pd
import streamlit as st

from grappes.core.vocabulary import (
    CHAMP_LABELS,
    INVITATION_STATUT_LABELS,
)
from grappes.registry import (
    RegistreError,
    Registry,
    SessionInvalide,
)
from grappes.registry.affichage import (
    commune_libelle,
    echapper,
)
from grappes.ui import registre_session

T = TypeVar("T")


def call(fn, *args, **kw):
    """Call the API; French errors shown, an expired session sends back to the login."""
    try:
        return fn(*args, **kw)
    except SessionInvalide as exc:
        st.session_state.pop(registre_session.JETON, None)
        st.warning(echapper(str(exc)))
        st.stop()
    except RegistreError as exc:
        registre_session.erreur(exc)
        return None


def contact_text(c) -> str:
    """« Nom — e-mail — téléphone », without the parts left empty; « masqué » before every
    member has accepted."""
    if c is None:
        return "masqué"
    return " — ".join(part for part in (c.nom, c.email, c.telephone) if part) or "—"


def esms_table(d) -> pd.DataFrame:
    """The ESMS of a declaration, with French headers."""
    return pd.DataFrame([{
        "FINESS ET": e.finess_et, "nom": e.raison_sociale,
        "champ": CHAMP_LABELS.get(e.champ, e.champ), "commune": commune_libelle(e.commune),
        "département": e.departement} for e in d.esms])  # fmt: skip


def reponse_text(m) -> str:
    """A member's answer to its invitation, in French (« — » before any invitation)."""
    return INVITATION_STATUT_LABELS.get(m.invitation or "", m.invitation or "—")


def members_table(g) -> pd.DataFrame:
    return pd.DataFrame([{
        "OG (FINESS EJ)": m.finess_ej, "nom": m.raison_sociale_ej, "ESMS": len(m.esms),
        "porteur": "oui" if m.finess_ej == g.porteur_ej else "non",
        "invitation": reponse_text(m),
        "rattachement": "oui" if m.parle else "non",
        "contact": contact_text(m.contact),
    } for m in g.membres])  # fmt: skip


#: cards drawn at once in a tab (a déclarant's invitations, a coordinator's grappes): each
#: card is a dozen elements and a members table whose cells the browser builds one by one
#: (66 grappes were 7,700 cells: 4 s of the browser's time when the tab was drawn, measured
#: on the first click of ``bench/bench_registry_page.py``); by pages, opening the tab costs
#: the same for 3 or 60 grappes
CARTES_PAR_PAGE = 10


def cartes_a_afficher(items: Sequence[T], affichees: int,
                      d_abord: Callable[[T], bool]) -> tuple[list[T], int]:
    """The cards of the current page: those ``d_abord`` says need the user first (stable
    order otherwise), at most ``affichees``; and how many remain behind the « more »
    button."""
    ordered = sorted(items, key=lambda item: not d_abord(item))
    return ordered[:affichees], max(0, len(ordered) - affichees)


def cartes_par_pages(items: Sequence[T], d_abord: Callable[[T], bool], key: str,
                     nom: str) -> tuple[list[T], Callable[[], None]]:
    """The cards to draw now (:func:`cartes_a_afficher`, ``CARTES_PAR_PAGE`` more at each
    click), and the function that draws the « more » button under them. ``nom``: what a
    card is, plural (« invitation(s) »)."""
    shown = st.session_state.setdefault(key, CARTES_PAR_PAGE)
    cartes, reste = cartes_a_afficher(items, shown, d_abord)

    def plus() -> None:
        if reste and st.button(f"Afficher {min(reste, CARTES_PAR_PAGE)} {nom} de plus "
                               f"(encore {reste})", key=f"{key}_suivantes"):
            st.session_state[key] = shown + CARTES_PAR_PAGE
            st.rerun()

    return cartes, plus


def petit_tableau(table: pd.DataFrame) -> None:
    """A card's small table (members, partners, ESMS of a declaration) as a plain HTML
    table: a page holds dozens of cards, and each ``st.dataframe`` is a canvas grid the
    browser builds again whenever its card is redrawn (measured with
    ``bench/bench_registry_page.py``: seconds per click on a 29-card page). Long lists (the
    territory's declarations) keep ``st.dataframe``, which scrolls and sorts."""
    st.table(table, hide_index=True)


RATTACHEMENT_LABELS = {"demande": "en attente de validation", "approuve": "validé",
                       "refuse": "refusé", "revoque": "retiré"}


def rattachements_territoire(reg: Registry, jeton: str, territoire: list[str]) -> None:
    """Coordinateur / ARS: the claims on the territory's OGs; contested ones first, each
    request approved or refused here (the decision is audited)."""
    claims = call(reg.rattachements, jeton, territoire) or []
    contested = sorted({r.finess_ej for r in claims if r.conteste})
    for ej in contested:
        emails = [r.email for r in claims if r.finess_ej == ej
                  and r.statut in ("demande", "approuve")]
        st.warning(f"Revendication contestée : l'OG {echapper(ej)} est réclamé par "
                   f"{len(emails)} comptes ({echapper(', '.join(emails))}). Ses déclarations "
                   "restent hors appariement tant que vous n'avez pas refusé les autres.")
    if not claims:
        st.info("Aucune demande de rattachement dans ce territoire.")
        return
    st.dataframe(pd.DataFrame([{
        "n°": r.id, "OG (FINESS EJ)": r.finess_ej, "compte": r.email,
        "état": RATTACHEMENT_LABELS.get(r.statut, r.statut), "origine": r.origine,
        "contestée": "oui" if r.conteste else "non"} for r in claims]),
        hide_index=True)  # fmt: skip
    for r in claims:
        if r.statut not in ("demande", "approuve"):
            continue
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.text(f"OG {r.finess_ej} — {r.email} — {RATTACHEMENT_LABELS.get(r.statut)}")
        if r.statut == "demande" and c2.button("Approuver", key=f"rat_ok{r.id}"):
            call(reg.decider_rattachement, jeton, r.id, True)
            st.rerun()
        if c3.button("Refuser" if r.statut == "demande" else "Retirer",
                     key=f"rat_no{r.id}"):
            call(reg.decider_rattachement, jeton, r.id, False)
            st.rerun()


def plus_recente(vue, key: str):
    """The newest of ``vue`` (read by the last full run) and the one an action in its card
    returned since (kept in the session): by grappe version."""
    kept = st.session_state.get(key)
    version = (lambda v: v.grappe.version) if hasattr(vue, "grappe") else (lambda v: v.version)
    if kept is not None and kept.id == vue.id and version(kept) >= version(vue):
        return kept
    return vue


def territory_input(moi) -> list[str]:
    default = ",".join(moi.territoires)
    return [st.text_input("Territoire (départements 37,41 ou région R24)", value=default)]
