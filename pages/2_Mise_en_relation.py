"""Streamlit page « Mise en relation »: the registry's screens for each role.

Thin UI: every read and write goes through ``matching.registry.Registry`` (the API checks
the policy and writes the audit log); this page never touches the database. User text is
shown with ``st.text``, in tables, or escaped (``affichage.echapper``) before Markdown.

Settings: ``GRAPPES_DB_URL`` (default ``grappes.db``); the FINESS file of the declaration
form's search is the registry's (``matching.registry.finess_source``: ``GRAPPES_FINESS``,
else ``registre init --finess``, else the bundled sample).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from matching.core.formatting import euros, km_text
from matching.core.vocabulary import (
    CHAMP_LABELS,
    DECLARATION_STATUT_LABELS,
    DUI_STATUT_LABELS,
    INVITATION_STATUT_LABELS,
    ROLE_LABELS,
)
from matching.registry import (
    DeclarationSaisie,
    RegistreError,
    Registry,
    SessionInvalide,
    parse_territoire,
)
from matching.registry.affichage import (
    CIBLE_LABELS,
    action_libelle,
    commune_libelle,
    echapper,
    etat_grappe,
)
from matching.registry.declarations import (
    CONSENT_TEXT,
    PORTEUR_CHOIX,
    saisie_from_vue,
)
from matching.registry.vues import DeclarationVue
from matching.ui import ars_map, declaration_esms, registre_session, registry_edit
from matching.ui.page import dress_in_french

st.set_page_config(page_title="grappes — mise en relation", layout="wide")
dress_in_french()


@st.cache_resource
def registry() -> Registry:
    return Registry(None)


def show_error(exc: Exception) -> None:
    registre_session.erreur(exc)


def call(fn, *args, **kw):
    """Call the API; French errors shown, an expired session sends back to the login."""
    try:
        return fn(*args, **kw)
    except SessionInvalide as exc:
        st.session_state.pop(registre_session.JETON, None)
        st.warning(echapper(str(exc)))
        st.stop()
    except RegistreError as exc:
        show_error(exc)
        return None


def contact_text(c) -> str:
    return "masqué" if c is None else f"{c.nom} — {c.email} — {c.telephone}"


def esms_table(d) -> pd.DataFrame:
    """The ESMS of a declaration, with French headers."""
    return pd.DataFrame([{
        "FINESS ET": e.finess_et, "nom": e.raison_sociale,
        "champ": CHAMP_LABELS.get(e.champ, e.champ), "commune": commune_libelle(e.commune),
        "département": e.departement} for e in d.esms])  # fmt: skip


def members_table(g) -> pd.DataFrame:
    return pd.DataFrame([{
        "OG (FINESS EJ)": m.finess_ej, "nom": m.raison_sociale_ej, "ESMS": len(m.esms),
        "porteur": "oui" if m.finess_ej == g.porteur_ej else "non",
        "invitation": INVITATION_STATUT_LABELS.get(m.invitation or "", m.invitation or "—"),
        "rattachement": "oui" if m.parle else "non",
        "contact": contact_text(m.contact),
    } for m in g.membres])  # fmt: skip


# --------------------------------------------------------------------------- déclarant


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
        from matching.registry.declarations import split_list

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


RATTACHEMENT_LABELS = {"demande": "en attente de validation", "approuve": "validé",
                       "refuse": "refusé", "revoque": "retiré"}


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


def declarant(reg: Registry, jeton: str) -> None:
    tab_decl, tab_inv = st.tabs(["Ma déclaration", "Mes invitations"])
    with tab_decl:
        mes_og(reg, jeton)
        mine = call(reg.mes_declarations, jeton) or []
        for d in mine:
            with st.container(border=True):
                st.markdown(f"**Déclaration {d.id}** — OG {echapper(d.finess_ej)} "
                            f"{echapper(d.raison_sociale_ej)} — "
                            f"{DECLARATION_STATUT_LABELS.get(d.statut, d.statut)}")
                if not d.parle:
                    st.warning("Hors appariement : " + echapper(d.motif_exclusion))
                st.dataframe(esms_table(d), hide_index=True)
                st.text(f"Contact : {contact_text(d.contact)}")
                if d.texte_libre:
                    st.text(d.texte_libre)
                if d.statut == "active":
                    with st.expander("Modifier ma déclaration"):
                        declaration_form(reg, jeton, d)
                if d.statut == "active" and st.button("Retirer ma déclaration (efface mes "
                                                      "coordonnées)", key=f"retirer{d.id}"):
                    call(reg.retirer_declaration, jeton, d.id)
                    st.rerun()
        if not any(d.statut == "active" for d in mine):
            declaration_form(reg, jeton)
    with tab_inv:
        invitations = call(reg.mes_invitations, jeton) or []
        if not invitations:
            st.info("Aucune invitation pour l'instant.")
        for inv in invitations:
            carte_invitation(reg, jeton, inv)


def _plus_recente(vue, key: str):
    """The newest of ``vue`` (read by the last full run) and the one an action in its card
    returned since (kept in the session): by grappe version."""
    kept = st.session_state.get(key)
    version = (lambda v: v.grappe.version) if hasattr(vue, "grappe") else (lambda v: v.version)
    if kept is not None and kept.id == vue.id and version(kept) >= version(vue):
        return kept
    return vue


@st.fragment
def carte_invitation(reg: Registry, jeton: str, inv) -> None:
    """One invitation. « Accepter » / « Décliner » rerun this card only (``st.fragment``),
    drawn again from the answer the API returns: no full-page recomputation per click
    (issue 19: an action answers in under 1 s with 5,000 declarations)."""
    key = f"vue_invitation{inv.id}"
    inv = _plus_recente(inv, key)
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
        fiche_invitation(reg, jeton, inv)
        st.dataframe(members_table(g), hide_index=True)
        if g.tous_acceptes:
            st.success("Tous les membres ont accepté : leurs coordonnées sont visibles.")
            for m in g.membres:
                st.text(f"OG {m.finess_ej} : {contact_text(m.contact)}")
        if inv.statut == "en_attente":
            c1, c2 = st.columns(2)
            c1.button("Accepter", key=f"acc{inv.id}")
            c2.button("Décliner", key=f"dec{inv.id}")


def fiche_invitation(reg: Registry, jeton: str, inv) -> None:
    """The facts to decide: amount, ESMS, grid points, distance, and each partner OG with its
    name, ESMS, distance and indicative share. Read once per grappe version (session)."""
    cache = st.session_state.setdefault("fiches_invitation", {})
    key = (inv.id, inv.grappe.version)
    if key not in cache:
        cache[key] = call(reg.fiche_invitation, jeton, inv.id)
    f = cache[key]
    if f is None:
        return
    cols = st.columns(4)
    cols[0].metric("Financement de la grappe", euros(f.total))
    cols[1].metric("ESMS", f.n_esms)
    cols[2].metric("Points de la grille", f"{f.points} / {f.points_max}")
    cols[3].metric("Distance maximale", km_text(f.km_max) if f.km_max is not None else "—")
    if not f.valide:
        st.warning("La grappe ne respecte pas encore toutes les règles du programme.")
    st.dataframe(pd.DataFrame([{
        "OG (FINESS EJ)": p.finess_ej, "nom": p.raison_sociale_ej or "—", "ESMS": p.n_esms,
        "distance de mon OG": "mon OG" if p.moi else (
            km_text(p.km) if p.km is not None else "—"),
        "porteur": "oui" if p.porteur else "non",
        "part indicative (ESMS de l'OG ; lignes projet au porteur)": euros(p.part_indicative),
    } for p in f.partenaires]), hide_index=True)  # fmt: skip


# --------------------------------------------------------------------------- coordinateur


def territory_input(moi) -> list[str]:
    default = ",".join(moi.territoires)
    return [st.text_input("Territoire (départements 37,41 ou région R24)", value=default)]


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


def coordinateur(reg: Registry, jeton: str, moi) -> None:
    territoire = territory_input(moi)
    tab_d, tab_r, tab_m, tab_g = st.tabs(["Déclarations", "Rattachements", "Appariement",
                                          "Grappes et invitations"])
    with tab_r:
        rattachements_territoire(reg, jeton, territoire)
    with tab_d:
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
    with tab_m:
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
    with tab_g:
        grappes = call(reg.grappes, jeton, territoire) or []
        if not grappes:
            st.info("Aucune grappe : lancez l'appariement.")
        for g in grappes:
            carte_grappe(reg, jeton, g)
        if any(g.statut == "proposee" for g in grappes):
            edit_grappe(reg, jeton, grappes, decls)
        if any(g.statut == "constituee" for g in grappes) and st.button("Préparer l'export"):
            data = export_zip(reg, jeton, territoire)
            if data:
                st.download_button("Télécharger les grappes constituées (ZIP)", data,
                                   file_name="grappes-constituees.zip")


#: the actions of a grappe's card: button key prefix, API method, what it says once done
_ACTIONS_GRAPPE = (
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
    g = _plus_recente(g, key)
    done_message = ""
    for prefix, method, message in _ACTIONS_GRAPPE:
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
        st.dataframe(members_table(g), hide_index=True)
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


# --------------------------------------------------------------------------- ARS, admin


def ars(reg: Registry, jeton: str, moi) -> None:
    territoire = territory_input(moi)
    with st.expander("Rattachements des OG de la région"):
        rattachements_territoire(reg, jeton, territoire)
    data = call(reg.agregats, jeton, territoire)
    if data is None:
        return
    st.markdown("**Déclarations par département et champ**")
    par_dep = data["par_departement"]
    st.dataframe(pd.DataFrame({
        "département": par_dep["departement"],
        "champ": [CHAMP_LABELS.get(c, c) for c in par_dep["champ"]],
        "déclarations": par_dep["declarations"], "ESMS": par_dep["esms"]}),
        hide_index=True)  # fmt: skip
    st.markdown("**Grappes**")
    gr = data["grappes"]
    st.dataframe(pd.DataFrame({
        "grappe": gr["grappe"], "état": [etat_grappe(x) for x in gr["statut"]],
        "champ": [CHAMP_LABELS.get(c, c) for c in gr["champ"]],
        "départements": [str(x).replace(",", ", ") for x in gr["departements"]],
        "ESMS": gr["n_esms"],
        "financement": [euros(x) if pd.notna(x) else "—" for x in gr["total"]]}),
        hide_index=True)  # fmt: skip
    st.markdown("**Carte des ESMS déclarés**")
    try:
        deps = sorted(parse_territoire(territoire)[0])
    except RegistreError:
        deps = sorted(set(par_dep["departement"].astype(str)))
    if ars_map.ars_map(data["carte"], deps, key="carte_ars") is None:
        st.info("Aucun ESMS déclaré avec une position dans ce territoire.")
    st.markdown("**Grappes et leurs membres**")
    for g in call(reg.grappes, jeton, territoire) or []:
        st.markdown(f"Grappe {echapper(g.code)} — {g.n_esms} ESMS — "
                    f"{euros(g.total) if g.total else 'financement non calculé'} — état : "
                    f"**{etat_grappe(g.statut, g.soumise_ars)}**")
        st.dataframe(members_table(g), hide_index=True)
    st.markdown("**Suggérer des partenaires à un ESMS isolé**")
    did = st.number_input("Déclaration n°", min_value=1, max_value=2**31 - 1, value=None,
                          step=1, placeholder="numéro de la déclaration")
    if did and st.button("Chercher des partenaires"):
        st.session_state["suggestions"] = (int(did), call(reg.suggerer_partenaires, jeton,
                                                          int(did)) or [])
    # the suggestions are kept in the session: the « Inviter » buttons below are not nested
    # in the search button (a nested button's click reruns the page without the outer one)
    done = st.session_state.pop("suggestion_faite", None)
    if done:
        st.success(echapper(done))
    found = st.session_state.get("suggestions")
    if found and did and found[0] == int(did):
        for s in found[1]:
            st.text(f"{s.rang}. {s.texte}")
            if s.grappe_id and st.button(f"Inviter dans {echapper(s.libelle)}",
                                         key=f"sug{s.grappe_id}"):
                g = call(reg.inviter_suggestion, jeton, int(did), s.grappe_id)
                if g is not None:
                    st.session_state.pop("suggestions", None)
                    st.session_state["suggestion_faite"] = (
                        f"Déclaration {int(did)} invitée dans la grappe {g.code} : en attente "
                        "de sa réponse.")
                    st.rerun()


def fichier_finess(reg: Registry, jeton: str) -> None:
    """The admin chooses the FINESS file of « Rechercher mon établissement » and of the
    declarations' checks, as ``registre init --finess`` does on the server."""
    if fait := st.session_state.pop("finess_enregistre", None):
        st.success(fait)
    source = reg.source_finess()
    st.markdown(f"**Fichier FINESS utilisé :** {echapper(source.libelle)}")
    if source.origine == "environnement":
        st.warning("La variable GRAPPES_FINESS du serveur l'emporte sur un fichier choisi ici : "
                   "demandez à l'hébergeur de la retirer pour utiliser le fichier téléversé.")
    st.caption("Extraction FINESS (etalab, FiNESS+ JSON, modèle CSV de grappes ; compressée "
               "en .gz ou non). Une fois enregistré, tout ESMS déclaré doit y figurer et "
               "dépendre de l'OG déclaré.")
    with st.form("fichier_finess", clear_on_submit=True):
        fichier = st.file_uploader("Fichier FINESS", key="finess_admin")
        ok = st.form_submit_button("Utiliser ce fichier")
    if ok:
        if fichier is None:
            st.warning("Choisissez d'abord un fichier.")
            return
        with st.spinner("Lecture et contrôle du fichier FINESS…"):
            res = call(reg.televerser_finess, jeton, fichier.name, fichier.getvalue())
        if res is not None:
            st.session_state["finess_enregistre"] = (
                f"Fichier FINESS enregistré : {res[1]} ESMS. La recherche « Rechercher mon "
                "établissement » et le contrôle des déclarations l'utilisent désormais.")
            st.rerun()


def admin(reg: Registry, jeton: str) -> None:
    tab_c, tab_j, tab_p, tab_f = st.tabs(["Comptes", "Journal d'audit", "Conservation",
                                          "Fichier FINESS"])
    with tab_f:
        fichier_finess(reg, jeton)
    with tab_c:
        with st.form("compte"):
            email = st.text_input("E-mail du compte")
            role = st.selectbox("Rôle", ["declarant", "coordinateur", "ars", "admin"],
                                format_func=lambda r: ROLE_LABELS.get(r, r))
            terr = st.text_input("Territoire (37,41 ou R24 ; vide pour un déclarant)")
            password = st.text_input("Mot de passe initial", type="password")
            ok = st.form_submit_button("Créer le compte")
        if ok:
            v = call(reg.creer_compte, jeton, email, role, password, [terr] if terr else [])
            if v is not None:
                st.success(f"Compte créé : {echapper(v.email)} "
                           f"({ROLE_LABELS.get(v.role, v.role)})")
        comptes = call(reg.comptes, jeton) or []
        st.dataframe(pd.DataFrame([{"e-mail": c.email, "rôle": c.role,
                                    "territoire": ", ".join(c.territoires),
                                    "actif": "oui" if c.actif else "non"} for c in comptes]),
                     hide_index=True)
    with tab_j:
        journal = call(reg.journal, jeton, 300) or []
        st.dataframe(pd.DataFrame([{
            "date": a.le.strftime("%d/%m/%Y %H:%M:%S"), "action": action_libelle(a.action),
            "compte n°": a.compte_id if a.compte_id is not None else "—",
            "rôle": ROLE_LABELS.get(a.role, a.role or "—"),
            "objet": CIBLE_LABELS.get(a.cible, a.cible), "n°": a.cible_id,
            "détail": a.detail} for a in journal],
            columns=["date", "action", "compte n°", "rôle", "objet", "n°", "détail"]),
            hide_index=True)  # fmt: skip
    with tab_p:
        if st.button("Appliquer la durée de conservation"):
            rep = call(reg.purger, jeton)
            if rep is not None:
                st.success(f"{len(rep.declarations_effacees)} déclaration(s) effacée(s), "
                           f"{rep.sessions_supprimees} session(s) expirée(s) supprimée(s).")


def main() -> None:
    st.title("Mise en relation")
    reg = registry()
    try:
        reg.db.check_schema()
    except RegistreError as exc:
        st.error(str(exc))
        st.stop()
    jeton = registre_session.jeton_ou_connexion(reg)
    if not jeton:
        return
    moi = registre_session.barre_laterale(reg, jeton)
    if moi is None:
        return
    if moi.role == "declarant":
        declarant(reg, jeton)
    elif moi.role == "coordinateur":
        coordinateur(reg, jeton, moi)
    elif moi.role == "ars":
        ars(reg, jeton, moi)
    elif moi.role == "admin":
        admin(reg, jeton)


main()
