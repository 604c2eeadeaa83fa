"""Showing user text safely in the app: every value typed by a user is escaped before it
reaches Markdown (HTML, Markdown syntax, control characters), so hostile input is displayed
as typed and never interpreted."""

from __future__ import annotations

import html
import re

#: Markdown's punctuation (CommonMark backslash escapes); ``<``, ``>`` and ``&`` are left to
#: the HTML escaping below, which runs after (a backslash before ``&lt;`` would show it raw)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:=])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def echapper(value: object) -> str:
    """Text safe for ``st.markdown``: HTML entities, escaped Markdown, visible controls."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # quotes stay as typed: an entity (&#x27;) would show raw once its « # » is escaped
    return html.escape(text, quote=False).replace("\n", "  \n")


def commune_libelle(code: str) -> str:
    """« Tours (37261) » for a stored INSEE code: the declaration keeps the code (the
    solver's key), people read the name (the commune reference of ``geo``). An unknown code
    is shown as stored."""
    from grappes.registry.adapters import lieu

    place = lieu(code)
    return f"{place.commune_nom} ({place.commune})" if place else str(code or "")


#: the state shown once a constituted grappe went to the ARS (``soumise_ars`` is a flag
#: beside the ``constituee`` state, not a state of its own)
SOUMISE_ARS = "constituée, soumise à l'ARS"


def etat_grappe(statut: str, soumise_ars: bool = False) -> str:
    """The French state of a registry grappe, « soumise à l'ARS » once submitted."""
    from grappes.core.vocabulary import GRAPPE_STATUT_LABELS

    if statut == "constituee" and soumise_ars:
        return SOUMISE_ARS
    return GRAPPE_STATUT_LABELS.get(statut, statut)


#: French label of each action code of the audit log (``Audit.action``): the codes stay
#: stable in the database, the journal shows these. A test scans the sources for every code.
ACTION_LABELS: dict[str, str] = {
    "connexion": "connexion",
    "connexion_echec": "échec de connexion",
    "compte_verrouillage": "compte verrouillé (trop d'échecs)",
    "compte_deblocage": "compte débloqué (console)",
    "compte_creation": "création d'un compte",
    "compte_desactivation": "désactivation d'un compte",
    "compte_mot_de_passe": "mot de passe défini",
    "compte_mot_de_passe_change": "mot de passe changé",
    "comptes_lecture": "lecture de la liste des comptes",
    "audit_lecture": "lecture du journal d'audit",
    "declaration_creation": "déclaration enregistrée",
    "declaration_modification": "déclaration modifiée",
    "declaration_retrait": "déclaration retirée",
    "import": "import de déclarations",
    "lecture_contact": "lecture de coordonnées",
    "rattachement_demande": "demande de rattachement à un OG",
    "rattachement_import": "rattachement créé par un import",
    "rattachement_approuve": "rattachement approuvé",
    "rattachement_refuse": "rattachement refusé",
    "rattachement_revoque": "rattachement retiré",
    "rattachements_lecture": "lecture des rattachements",
    "appariement": "appariement lancé",
    "grappe_modification": "grappe modifiée",
    "invitation_envoi": "invitations envoyées",
    "invitation_reponse": "réponse à une invitation",
    "invitation_suggestion": "invitation suggérée par l'ARS",
    "grappe_constitution": "grappe constituée",
    "grappe_soumission_ars": "grappe soumise à l'ARS",
    "export": "export des grappes constituées",
    "purge": "effacement (durée de conservation)",
    "parametre_finess": "fichier FINESS du registre enregistré",
    "suivi_enregistrer": "suivi : grappe financée enregistrée",
    "suivi_import": "suivi : import mensuel",
    "suivi_import_refuse": "suivi : import refusé",
    "suivi_jalon": "suivi : jalon enregistré",
    "suivi_verification": "suivi : vérification de service régulier",
    "suivi_versement": "suivi : versement enregistré",
    "suivi_lire": "suivi : lecture d'une grappe",
    "suivi_tableau": "suivi : lecture du tableau de bord",
    "suivi_export": "suivi : export",
}

#: French label of the audit's target kinds (``Audit.cible``)
CIBLE_LABELS: dict[str, str] = {
    "compte": "compte", "declaration": "déclaration", "grappe": "grappe",
    "invitation": "invitation", "appariement": "appariement", "rattachement": "rattachement",
    "suivi": "suivi", "parametre": "paramètre",
}


def action_libelle(code: str) -> str:
    """The French label of an audit action (an unknown code is shown as stored)."""
    return ACTION_LABELS.get(code, code)
