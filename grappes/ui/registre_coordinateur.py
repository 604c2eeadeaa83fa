"""The coordinator's view of « Mise en relation »: declarations, attachments, matching,
the grappes' cards (one fragment each), the what-if edit of a proposed grappe, the export.

Moved out of ``pages/2_Mise_en_relation.py`` (issue 24: pages as thin as ``app.py``); every
read and write still goes through ``grappes.registry.Registry``.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from grappes.core.formatting import euros
from grappes.core.vocabulary import (
    DUI_STATUT_LABELS,
)
from grappes.registry import (
    Registry,
)
from grappes.registry.affichage import (
    echapper,
    etat_grappe,
)
from grappes.registry.declarations import (
    PORTEUR_CHOIX,
)
from grappes.ui import registry_edit
from grappes.ui.navigation import lazy_tabs
from grappes.ui.registre_commun import (
    call,
    cartes_par_pages,
    contact_text,
    members_table,
    petit_tableau,
    plus_recente,
    rattachements_territoire,
    territory_input,
)


def export_zip(reg: Registry, jeton: str, territoire: list[str]) -> bytes | None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = call(reg.exporter, jeton, territoire, Path(tmp))
        if not paths:
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            for p in paths:
                z.write(p, p.relative_to(tmp))
        return buffer.getvalue()


#: the coordinator's tabs (lazy: ``grappes.ui.navigation.lazy_tabs``) and their session key
ONGLETS = ("Déclarations", "Rattachements", "Appariement", "Grappes et invitations")
ONGLET = "onglet_coordinateur"


def coordinateur(reg: Registry, jeton: str, moi) -> None:
    territoire = territory_input(moi)
    ouvert, tab = lazy_tabs(ONGLETS, ONGLET, on_change="rerun")
    with tab:
        if ouvert == "Rattachements":
            rattachements_territoire(reg, jeton, territoire)
        elif ouvert == "Appariement":
            appariement(reg, jeton, territoire)
        elif ouvert == "Grappes et invitations":
            grappes_et_invitations(reg, jeton, territoire)
        else:
            declarations(reg, jeton, territoire)


def declarations(reg: Registry, jeton: str, territoire: list[str]) -> None:
    decls = call(reg.declarations, jeton, territoire) or []
    st.metric("Déclarations actives", len(decls))
    out = [d for d in decls if not d.parle]
    if out:
        st.warning(f"{len(out)} déclaration(s) hors appariement (rattachement à régler, "
                   "onglet « Rattachements ») : " + echapper(", ".join(
                       f"{d.id} (OG {d.finess_ej} : {d.motif_exclusion})" for d in out)))
    if decls:
        st.dataframe(pd.DataFrame([{
            "id": d.id, "OG": d.finess_ej, "nom": d.raison_sociale_ej,
            "département": d.departement, "ESMS": len(d.esms),
            "DUI": DUI_STATUT_LABELS.get(d.dui_statut, d.dui_statut),
            "porteur": PORTEUR_CHOIX.get(d.porteur, d.porteur),
            "rattachement": "oui" if d.parle else "non",
            "contact": contact_text(d.contact)} for d in decls]),
            hide_index=True)  # fmt: skip
        points = pd.DataFrame([{"lat": e.lat, "lon": e.lon} for d in decls for e in d.esms
                               if e.lat is not None])
        if len(points):
            st.map(points)


def appariement(reg: Registry, jeton: str, territoire: list[str]) -> None:
    avec = st.checkbox("Utiliser les données du fichier FINESS pour les ESMS déclarés")
    limite = st.number_input("Temps de calcul (s)", min_value=1, max_value=300, value=10)
    if st.button("Lancer l'appariement"):
        with st.spinner("Appariement en cours…"):
            run = call(reg.apparier, jeton, territoire, avec_finess=avec,
                       time_limit=float(limite))
        if run is not None:
            st.success(f"Appariement {run.id} : {len(run.grappes)} grappe(s) proposée(s), "
                       f"{len(run.non_places)} ESMS sans grappe.")
            for w in run.avertissements:
                st.warning(echapper(w))


def a_faire(g) -> bool:
    """A grappe waiting for its coordinator: to invite, to mark constituted, to submit."""
    return g.statut in ("proposee", "acceptee") or (
        g.statut == "constituee" and not g.soumise_ars)


def grappes_et_invitations(reg: Registry, jeton: str, territoire: list[str]) -> None:
    """The grappes' cards by pages, those waiting for the coordinator first
    (``grappes.ui.registre_commun.CARTES_PAR_PAGE``), then the edit of a proposed one."""
    grappes = call(reg.grappes, jeton, territoire) or []
    if not grappes:
        st.info("Aucune grappe : lancez l'appariement.")
    else:
        st.caption(f"{len(grappes)} grappe(s), dont {sum(map(a_faire, grappes))} "
                   "attendent une action de votre part (affichées en premier).")
    cartes, plus = cartes_par_pages(grappes, a_faire, "grappes_coordinateur", "grappe(s)")
    for g in cartes:
        carte_grappe(reg, jeton, g)
    plus()
    if any(g.statut == "proposee" for g in grappes):
        # the territory's declarations: the candidates to add to a proposed grappe
        edit_grappe(reg, jeton, grappes, call(reg.declarations, jeton, territoire) or [])
    if any(g.statut == "constituee" for g in grappes) and st.button("Préparer l'export"):
        data = export_zip(reg, jeton, territoire)
        if data:
            st.download_button("Télécharger les grappes constituées (ZIP)", data,
                               file_name="grappes-constituees.zip")


#: the actions of a grappe's card: button key prefix, API method, what it says once done
ACTIONS_GRAPPE = (
    ("inv", "inviter",
     lambda d: f"Grappe {d.code} : {len(d.membres)} invitation(s) envoyée(s)."),
    ("con", "constituer",
     lambda d: f"Grappe {d.code} constituée : vous pouvez la soumettre à l'ARS."),
    ("ars", "soumettre_ars",
     lambda d: f"Grappe {d.code} soumise à l'ARS : l'ARS de la région la voit avec les "
               "coordonnées de ses membres."),
)


@st.fragment
def carte_grappe(reg: Registry, jeton: str, g) -> None:
    """One grappe of the coordinator. Its buttons rerun this card only (``st.fragment``),
    drawn again from the grappe the API returns, with a message saying what was done: no
    full-page recomputation per click (issue 19)."""
    key = f"vue_grappe{g.id}"
    g = plus_recente(g, key)
    done_message = ""
    for prefix, method, message in ACTIONS_GRAPPE:
        if st.session_state.get(f"{prefix}{g.id}"):
            done = call(getattr(reg, method), jeton, g.id, g.version)
            if done is not None:
                g = st.session_state[key] = done
                done_message = message(done)
    with st.container(border=True):
        if done_message:
            st.success(echapper(done_message))
        st.markdown(f"**Grappe {echapper(g.code)}** — {g.champ}, {g.n_esms} ESMS, "
                    f"{len(g.membres)} OG — état : "
                    f"**{etat_grappe(g.statut, g.soumise_ars)}**"
                    + (f" — {euros(g.total)}" if g.total else ""))
        for w in (*g.regles_enfreintes, *g.avertissements):
            st.warning(echapper(w))
        petit_tableau(members_table(g))
        c1, c2, c3 = st.columns(3)
        if g.statut == "proposee":
            c1.button("Envoyer les invitations", key=f"inv{g.id}")
        if g.statut == "acceptee":
            c2.button("Marquer constituée", key=f"con{g.id}")
        if g.statut == "constituee" and not g.soumise_ars:
            c3.button("Soumettre à l'ARS", key=f"ars{g.id}")


def edit_grappe(reg: Registry, jeton: str, grappes, decls) -> None:
    """« Modifier une grappe proposée »: the what-if tools before the invitations leave
    (remove members, add free declarations of the territory, change the porteur); the API
    re-checks, re-costs and refuses a grappe changed by someone else since this reading."""
    st.subheader("Modifier une grappe proposée")
    flash = st.session_state.pop("grappe_modifiee", None)
    if flash:
        st.success(echapper(flash))
    proposees = {g.id: g for g in grappes if g.statut == "proposee"}
    gid = st.selectbox("Grappe à modifier", list(proposees), key="edit_grappe",
                       format_func=lambda i: f"Grappe {proposees[i].code} ({proposees[i].champ}, "
                       f"{proposees[i].n_esms} ESMS, {len(proposees[i].membres)} OG)")
    g = proposees[gid]
    by_id = {d.id: d for d in decls}  # the territory's declarations, read once per page run
    ev = call(reg.evaluer_grappe, jeton, g.id)
    if ev is not None:
        cols = st.columns(3)
        for col, (label, value) in zip(cols, registry_edit.resume(ev).items(), strict=True):
            col.metric(label, value)
        for text in registry_edit.regles_text(ev):
            st.warning(echapper(text))
    st.dataframe(registry_edit.membres_detail(g, by_id), hide_index=True)
    k = f"edit{g.id}_{g.version}"
    membres = {m.declaration_id: m for m in g.membres}
    # explicit placeholders: Streamlit's own read « Choose options », « No options to select »
    retirer = st.multiselect(
        "Membres à retirer", list(membres), key=f"{k}ret", placeholder="Choisir des membres",
        format_func=lambda i: f"OG {membres[i].finess_ej} — {membres[i].raison_sociale_ej}")
    libres = {d.id: d for d in registry_edit.candidats(g, decls, grappes)}
    ajouter = st.multiselect("Déclarations à ajouter (même champ, dans aucune grappe)",
                             list(libres), key=f"{k}add", disabled=not libres,
                             placeholder="Choisir des déclarations" if libres
                             else "Aucune déclaration libre de ce champ",
                             format_func=lambda i: registry_edit.libelle_declaration(libres[i]))
    options = registry_edit.porteurs_possibles(g, retirer, [libres[i] for i in ajouter])
    porteur = st.selectbox("Porteur", options, key=f"{k}porteur",
                           index=options.index(g.porteur_ej) if g.porteur_ej in options else 0,
                           format_func=lambda ej: f"OG {ej}") if options else None
    kwargs = registry_edit.arguments_modification(g, retirer, ajouter, porteur)
    if st.button("Enregistrer la modification", key=f"{k}save", disabled=kwargs is None):
        done = call(reg.modifier_grappe, jeton, **kwargs)
        if done is not None:
            st.session_state["grappe_modifiee"] = (
                f"Grappe {done.code} modifiée : {done.n_esms} ESMS, {len(done.membres)} OG.")
            st.rerun()
