"""The déclarant's view of « Mise en relation »: « Mes OG », the declaration form with
« Rechercher mon établissement », « Mes invitations » (one fragment per card).

Moved out of ``pages/2_Mise_en_relation.py`` (issue 24: pages as thin as ``app.py``); every
read and write still goes through ``grappes.registry.Registry``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from grappes.core.formatting import euros, km_text
from grappes.core.vocabulary import (
    CHAMP_LABELS,
    DECLARATION_STATUT_LABELS,
    DUI_STATUT_LABELS,
    INVITATION_STATUT_LABELS,
)
from grappes.registry import (
    DeclarationSaisie,
    Registry,
)
from grappes.registry.affichage import (
    echapper,
    etat_grappe,
)
from grappes.registry.declarations import (
    CONSENT_TEXT,
    PORTEUR_CHOIX,
    saisie_from_vue,
)
from grappes.registry.vues import DeclarationVue
from grappes.ui import declaration_esms
from grappes.ui.navigation import lazy_expander, lazy_tabs
from grappes.ui.registre_commun import (
    RATTACHEMENT_LABELS,
    call,
    cartes_par_pages,
    contact_text,
    esms_table,
    members_table,
    petit_tableau,
    plus_recente,
    reponse_text,
)


def recherche_etablissement(reg: Registry, k: str) -> None:
    """« Rechercher mon établissement »: one box (name, commune, FINESS number); choosing a
    result fills the OG and lists all its ESMS of the FINESS in the table below."""
    q = st.text_input("Rechercher mon établissement", key=f"{k}q",
                      placeholder="nom, commune ou numéro FINESS (ET ou EJ)")
    if not q.strip():
        return
    index = call(reg.recherche_finess)
    if index is None:
        return
    res = index.rechercher(q)
    if not res.total:
        st.info("Aucun établissement trouvé dans le FINESS : essayez une partie du nom, la "
                "commune ou le numéro FINESS, ou ajoutez vos ESMS à la main dans le tableau.")
        return
    st.dataframe(pd.DataFrame([{
        "nom": e.nom, "commune": e.commune_nom or e.commune, "OG": e.og_nom,
        "FINESS ET": e.finess_et} for e in res.esms]), hide_index=True,
        column_config={"nom": st.column_config.TextColumn(width=340),
                       "commune": st.column_config.TextColumn(width=160),
                       "OG": st.column_config.TextColumn(width=300),
                       "FINESS ET": st.column_config.TextColumn(width=110)})  # fmt: skip
    if res.total > len(res.esms):
        st.caption(f"{res.total} établissements trouvés, les {len(res.esms)} premiers "
                   "affichés : précisez la recherche.")
    choix = st.selectbox(
        "Mon établissement", range(len(res.esms)), key=f"{k}choix{q.strip()}",
        format_func=lambda i: f"{res.esms[i].nom} — {res.esms[i].commune_nom} "
                              f"(FINESS ET {res.esms[i].finess_et})")
    if st.button("Choisir cet établissement", key=f"{k}choisir"):
        e = res.esms[choix]
        og = index.og(e.finess_ej)
        if og is None:
            return
        # searched by the OG's number: all its ESMS ticked; else the chosen one only
        par_og = q.strip().upper().replace(" ", "") == og.finess_ej
        st.session_state[f"{k}ej"] = og.finess_ej
        st.session_state[f"{k}og_nom"] = og.nom
        st.session_state[f"{k}lignes"] = declaration_esms.lignes_og(
            og.esms, None if par_og else {e.finess_et})
        st.session_state[f"{k}lignes_v"] = st.session_state.get(f"{k}lignes_v", 0) + 1
        st.session_state[f"{k}choisi"] = (f"OG {og.finess_ej} — {og.nom} : {len(og.esms)} "
                                          "ESMS dans le FINESS ; cochez ceux à déclarer.")


ESMS_COLONNES = {
    declaration_esms.INCLURE: st.column_config.CheckboxColumn(
        "inclure", default=True, help="décochez un ESMS à ne pas déclarer", width=70),
    declaration_esms.ET: st.column_config.TextColumn("FINESS ET", required=True, width=100),
    declaration_esms.NOM: st.column_config.TextColumn("nom", width=320),
    declaration_esms.CHAMP: st.column_config.SelectboxColumn(
        "champ", options=list(CHAMP_LABELS), format_func=lambda c: CHAMP_LABELS.get(c, c),
        width=150),
    declaration_esms.COMMUNE: st.column_config.TextColumn(
        "commune", help="nom de la commune ou code INSEE, par ex. « Tours (37261) »",
        width=200),
}


def declaration_form(reg: Registry, jeton: str, existing: DeclarationVue | None = None) -> None:
    """The « formulaire de mise en relation »; with ``existing``, filled from the stored
    declaration and saved as an edit (optimistic locking on its version)."""
    k = f"m{existing.id}_" if existing is not None else ""
    v = saisie_from_vue(existing) if existing is not None else None
    st.markdown("**1. Votre organisme (OG) et ses ESMS**")
    for key, value in ((f"{k}ej", v.finess_ej if v else ""),
                       (f"{k}og_nom", v.raison_sociale_ej if v else "")):
        st.session_state.setdefault(key, value)
    if f"{k}lignes" not in st.session_state:
        st.session_state[f"{k}lignes"] = (declaration_esms.lignes_declaration(v.esms) if v
                                          else declaration_esms.vide())
    recherche_etablissement(reg, k)
    flash = st.session_state.pop(f"{k}choisi", None)
    if flash:
        st.success(echapper(flash))
    ej = st.text_input("FINESS EJ de l'OG", key=f"{k}ej")
    with st.form(f"{k}declaration"):
        og_nom = st.text_input("Nom de l'OG (raison sociale)", key=f"{k}og_nom")
        st.caption("ESMS concernés : cochez ceux à déclarer ; ajoutez une ligne pour un ESMS "
                   "absent du FINESS (FINESS ET, nom, champ, commune).")
        lignes = st.data_editor(
            st.session_state[f"{k}lignes"], column_config=ESMS_COLONNES, num_rows="dynamic",
            hide_index=True, width="stretch",
            key=f"{k}esms{st.session_state.get(f'{k}lignes_v', 0)}")
        st.markdown("**2. DUI actuel**")
        editeur = st.text_input("Éditeur du DUI", value=v.dui_editeur if v else "")
        statuts = ["inconnu", "aucun", "non_conforme", "a_mettre_a_niveau", "conforme"]
        statut = st.selectbox("Statut du DUI", statuts,
                              index=statuts.index(v.dui_statut) if v and v.dui_statut in statuts
                              else 0, format_func=lambda s: DUI_STATUT_LABELS.get(s, s))
        segur = st.selectbox("Éditeur référencé Ségur", ["ne sait pas", "oui", "non"],
                             index={None: 0, True: 1, False: 2}[v.editeur_segur] if v else 0)
        st.markdown("**3. Contraintes**")
        km = st.number_input("Distance maximale aux partenaires (km, 0 = sans limite)",
                             min_value=0, max_value=2000,
                             value=int(v.distance_max_km or 0) if v else 0)
        champs = st.text_input("Champs acceptés (ex. PA, PH ; vide = tous)",
                               value=", ".join(v.champs_acceptes) if v else "")
        souhaites = st.text_input("Partenaires souhaités (FINESS EJ, séparés par des virgules)",
                                  value=", ".join(v.partenaires_souhaites) if v else "")
        refuses = st.text_input("Partenaires refusés (FINESS EJ, séparés par des virgules)",
                                value=", ".join(v.partenaires_refuses) if v else "")
        choix = list(PORTEUR_CHOIX)
        porteur = st.selectbox("Porter le projet", choix, format_func=PORTEUR_CHOIX.get,
                               index=choix.index(v.porteur) if v and v.porteur in choix else 0)
        st.markdown("**4. Contact**")
        nom = st.text_input("Personne à contacter", value=v.contact_nom if v else "")
        email = st.text_input("E-mail de contact", value=v.contact_email if v else "")
        tel = st.text_input("Téléphone", value=v.contact_telephone if v else "")
        texte = st.text_area("Texte libre", value=v.texte_libre if v else "")
        st.markdown("**5. Consentement (RGPD)**")
        st.text(CONSENT_TEXT.format(mois=reg.conservation.mois))
        consent = st.checkbox("J'accepte le traitement de ces données pour la mise en relation")
        consent_coord = st.checkbox("Les coordinateurs de mon territoire peuvent voir mes "
                                    "coordonnées",
                                    value=v.consentement_contacts_coordinateur if v else False)
        submitted = st.form_submit_button(
            "Enregistrer les modifications" if v else "Enregistrer ma déclaration")
    if submitted:
        from grappes.registry.declarations import split_list

        saisie = DeclarationSaisie(
            finess_ej=ej, raison_sociale_ej=og_nom,
            esms=declaration_esms.saisies(lignes, call(reg.recherche_finess)),
            contact_nom=nom,
            contact_email=email, consentement=consent, dui_editeur=editeur, dui_statut=statut,
            editeur_segur={"oui": True, "non": False}.get(segur),
            distance_max_km=float(km) if km else None,
            champs_acceptes=[c.upper() for c in split_list(champs)],
            partenaires_souhaites=split_list(souhaites), partenaires_refuses=split_list(refuses),
            porteur=porteur, contact_telephone=tel, texte_libre=texte,
            consentement_contacts_coordinateur=consent_coord,
        )  # fmt: skip
        if existing is not None:
            done = call(reg.modifier_declaration, jeton, existing.id, saisie, existing.version)
        else:
            done = call(reg.declarer, jeton, saisie)
        if done is not None:
            for key in ("lignes", "lignes_v", "q"):
                st.session_state.pop(f"{k}{key}", None)
            st.success("Déclaration enregistrée.")
            st.rerun()


def mes_og(reg: Registry, jeton: str) -> None:
    """The OGs the account speaks for, and the request for another one."""
    st.markdown("**Mes OG (rattachement)**")
    st.caption("Vous ne parlez que pour les OG auxquels votre compte est rattaché : "
               "demandez le rattachement, un coordinateur ou l'ARS de son territoire le valide.")
    claims = call(reg.mes_rattachements, jeton) or []
    if claims:
        st.dataframe(pd.DataFrame([{
            "OG (FINESS EJ)": r.finess_ej, "département": r.departement,
            "rattachement": RATTACHEMENT_LABELS.get(r.statut, r.statut),
            "revendication contestée": "oui" if r.conteste else "non"} for r in claims]),
            hide_index=True)  # fmt: skip
    with st.form("rattachement"):
        ej = st.text_input("FINESS EJ de l'OG pour lequel vous parlez")
        if st.form_submit_button("Demander le rattachement"):
            done = call(reg.demander_rattachement, jeton, ej)
            if done is not None:
                st.session_state["rattachement_demande"] = (
                    f"Demande de rattachement à l'OG {done.finess_ej} envoyée.")
                st.rerun()
    flash = st.session_state.pop("rattachement_demande", None)
    if flash:
        st.success(echapper(flash))


#: the déclarant's tabs (lazy: ``grappes.ui.navigation.lazy_tabs``) and their session key
ONGLETS = ("Ma déclaration", "Mes invitations")
ONGLET = "onglet_declarant"


def declarant(reg: Registry, jeton: str) -> None:
    ouvert, tab = lazy_tabs(ONGLETS, ONGLET, on_change="rerun")
    with tab:
        if ouvert == "Mes invitations":
            mes_invitations(reg, jeton)
        else:
            ma_declaration(reg, jeton)


def ma_declaration(reg: Registry, jeton: str) -> None:
    mes_og(reg, jeton)
    mine = call(reg.mes_declarations, jeton) or []
    for d in mine:
        with st.container(border=True):
            st.markdown(f"**Déclaration {d.id}** — OG {echapper(d.finess_ej)} "
                        f"{echapper(d.raison_sociale_ej)} — "
                        f"{DECLARATION_STATUT_LABELS.get(d.statut, d.statut)}")
            if not d.parle:
                st.warning("Hors appariement : " + echapper(d.motif_exclusion))
            petit_tableau(esms_table(d))
            st.text(f"Contact : {contact_text(d.contact)}")
            if d.texte_libre:
                st.text(d.texte_libre)
            if d.statut == "active":
                # lazy: the form (search, ESMS table, 20 fields) is built only once opened
                with lazy_expander("Modifier ma déclaration", key=f"modifier{d.id}") as opened:
                    if opened:
                        declaration_form(reg, jeton, d)
            if d.statut == "active" and st.button("Retirer ma déclaration (efface mes "
                                                  "coordonnées)", key=f"retirer{d.id}"):
                call(reg.retirer_declaration, jeton, d.id)
                st.rerun()
    if not any(d.statut == "active" for d in mine):
        declaration_form(reg, jeton)


def en_attente(inv) -> bool:
    """An invitation awaiting the déclarant's answer (its card comes first)."""
    return inv.statut == "en_attente"


def mes_invitations(reg: Registry, jeton: str) -> None:
    """Drawn by pages (``grappes.ui.registre_commun.CARTES_PAR_PAGE``), those awaiting an
    answer first: each card reads its grappe's facts (amount, partners, points), so a
    federation invited into 30 grappes would otherwise wait for all of them."""
    invitations = call(reg.mes_invitations, jeton) or []
    if not invitations:
        st.info("Aucune invitation pour l'instant.")
        return
    attente = sum(map(en_attente, invitations))
    st.caption(f"{len(invitations)} invitation(s), dont {attente} en attente de "
               "votre réponse.")
    cartes, plus = cartes_par_pages(invitations, en_attente, "invitations", "invitation(s)")
    for inv in cartes:
        carte_invitation(reg, jeton, inv)
    plus()


@st.fragment
def carte_invitation(reg: Registry, jeton: str, inv) -> None:
    """One invitation. « Accepter » / « Décliner » rerun this card only (``st.fragment``),
    drawn again from the answer the API returns: no full-page recomputation per click
    (issue 19: an action answers in under 1 s with 5,000 declarations)."""
    key = f"vue_invitation{inv.id}"
    inv = plus_recente(inv, key)
    for button, accepte in ((f"acc{inv.id}", True), (f"dec{inv.id}", False)):
        if st.session_state.get(button) and inv.statut == "en_attente":
            done = call(reg.repondre, jeton, inv.id, accepte)
            if done is not None:
                inv = st.session_state[key] = done
    g = inv.grappe
    with st.container(border=True):
        etat = INVITATION_STATUT_LABELS.get(inv.statut, inv.statut)
        st.markdown(f"**Grappe {echapper(g.code)}** ({g.champ}, {g.n_esms} ESMS) — "
                    f"invitation : **{etat}** — grappe : "
                    f"{etat_grappe(g.statut, g.soumise_ars)}")
        if not fiche_invitation(reg, jeton, inv):  # its table already lists the members
            petit_tableau(members_table(g))
        if g.tous_acceptes:
            st.success("Tous les membres ont accepté : leurs coordonnées sont visibles.")
            for m in g.membres:
                st.text(f"OG {m.finess_ej} : {contact_text(m.contact)}")
        if inv.statut == "en_attente":
            c1, c2 = st.columns(2)
            c1.button("Accepter", key=f"acc{inv.id}")
            c2.button("Décliner", key=f"dec{inv.id}")


def fiche_invitation(reg: Registry, jeton: str, inv) -> bool:
    """The facts to decide: amount, ESMS, grid points, distance, and each partner OG with its
    name, ESMS, distance, indicative share and answer, in one table (the card's only one:
    two tables of the same OGs were twice the cells for the browser to draw). False when
    the facts could not be read (the message says why). Read once per composition of the grappe
    (session): an answer to an invitation changes the grappe's version, not these facts,
    and re-reading them (the what-if evaluation) was most of a click's time. One entry per
    invitation (its latest composition): the session's cache never outgrows the page."""
    cache = st.session_state.setdefault("fiches_invitation", {})
    g = inv.grappe
    composition = (g.porteur_ej, tuple((m.declaration_id, m.esms) for m in g.membres))
    if inv.id not in cache or cache[inv.id][0] != composition:
        cache[inv.id] = (composition, call(reg.fiche_invitation, jeton, inv.id))
    f = cache[inv.id][1]
    if f is None:
        return False
    answers = {m.finess_ej: reponse_text(m) for m in g.membres}
    cols = st.columns(4)
    cols[0].metric("Financement de la grappe", euros(f.total))
    cols[1].metric("ESMS", f.n_esms)
    cols[2].metric("Points de la grille", f"{f.points} / {f.points_max}")
    cols[3].metric("Distance maximale", km_text(f.km_max) if f.km_max is not None else "—")
    if not f.valide:
        st.warning("La grappe ne respecte pas encore toutes les règles du programme.")
    petit_tableau(pd.DataFrame([{
        "OG (FINESS EJ)": p.finess_ej, "nom": p.raison_sociale_ej or "—", "ESMS": p.n_esms,
        "distance de mon OG": "mon OG" if p.moi else (
            km_text(p.km) if p.km is not None else "—"),
        "porteur": "oui" if p.porteur else "non",
        "part indicative (ESMS de l'OG ; lignes projet au porteur)": euros(p.part_indicative),
        "invitation": answers.get(p.finess_ej, "—"),
    } for p in f.partenaires]))  # fmt: skip
    return True
