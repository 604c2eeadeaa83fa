"""Authorisation of the registry: the ONE place that says who may do what.

Every API call builds a :class:`Principal` from its session and a :class:`Cible` from the
object at stake, then calls :func:`exiger`. A refusal raises ``AccesRefuse`` whose message
is always the same (« action non autorisée ou objet introuvable »), also used for objects
that do not exist, so that a refusal reveals nothing.

Roles (issue 13):

- ``declarant``: their own declaration; invitations addressed to it; the other members'
  contacts once every member of the grappe has accepted.
- ``coordinateur`` (collectif SI, fédération): declarations, matching, invitations and
  exports of their départements (a région scope covers its départements); contacts only of
  declarants who consented to show them to coordinators.
- ``ars``: its région: aggregates, map, constituted grappes, partner suggestions; personal
  contacts only of grappes submitted to it. Never changes a declaration.
- ``admin``: accounts and territories, audit log, retention purge, the registry's FINESS file.
  Reads no declaration.

Attachment (issue 18): a déclarant speaks only for the OGs (FINESS EJ) its account is
attached to. Any déclarant may ask; a coordinateur or the ARS of the EJ's territory approves
or refuses. Declaring, editing, answering an invitation and reading the other members'
contacts need the attachment (``Cible.rattache``); withdrawing one's own data does not.

Follow-up after funding (issue 14, ``grappes.followup.store``): a funded grappe's
``membres`` are its porteur accounts (declarants). The ARS of its région records it, reads
it, exports it and records payments; its porteurs read it and write its monthly indicators
and milestones; nobody else sees its indicators (not even coordinators or the admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from grappes.registry.errors import AccesRefuse

ROLES: tuple[str, ...] = ("declarant", "coordinateur", "ars", "admin")


class Action(StrEnum):
    DECLARER = "declarer"
    LIRE_DECLARATION = "lire_declaration"
    LIRE_CONTACT = "lire_contact"
    MODIFIER_DECLARATION = "modifier_declaration"
    RETIRER_DECLARATION = "retirer_declaration"
    LISTER_DECLARATIONS = "lister_declarations"
    IMPORTER = "importer"
    APPARIER = "apparier"
    LIRE_GRAPPE = "lire_grappe"
    MODIFIER_GRAPPE = "modifier_grappe"
    INVITER = "inviter"
    REPONDRE_INVITATION = "repondre_invitation"
    CONSTITUER = "constituer"
    SOUMETTRE_ARS = "soumettre_ars"
    LIRE_CONTACTS_GRAPPE = "lire_contacts_grappe"
    EXPORTER = "exporter"
    AGREGATS = "agregats"
    SUGGERER_PARTENAIRES = "suggerer_partenaires"
    GERER_COMPTES = "gerer_comptes"
    LIRE_AUDIT = "lire_audit"
    PURGER = "purger"
    CONFIGURER_FINESS = "configurer_finess"
    # follow-up after funding (issue 14)
    ENREGISTRER_SUIVI = "enregistrer_suivi"
    LIRE_SUIVI = "lire_suivi"
    SAISIR_SUIVI = "saisir_suivi"
    EXPORTER_SUIVI = "exporter_suivi"
    DECLARER_VERSEMENT = "declarer_versement"
    # attachment of accounts to OGs (issue 18)
    DEMANDER_RATTACHEMENT = "demander_rattachement"
    DECIDER_RATTACHEMENT = "decider_rattachement"
    LISTER_RATTACHEMENTS = "lister_rattachements"


@dataclass(frozen=True)
class Principal:
    """Who calls: account id, role and territory (départements already expanded from régions)."""

    compte_id: int
    role: str
    departements: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cible:
    """What the action is about. Unset fields mean "not relevant for this action".

    proprietaire
        Account owning the declaration (or the invited declaration).
    departements, region
        Where the object is (a declaration: its département; a grappe: its départements).
    membres
        Accounts owning the declarations of a grappe.
    tous_acceptes
        Every member of the grappe has accepted its invitation.
    soumise_ars
        The grappe was submitted to the ARS.
    consentement_coordinateur
        The declarant agreed that coordinators see their contact.
    rattache
        The account speaks for the declaration's OG: its attachment to the FINESS EJ is
        approved and nobody else claims that OG (issue 18). For a grappe: every member's
        declaration speaks for its OG.
    """

    proprietaire: int | None = None
    departements: frozenset[str] = frozenset()
    region: str = ""
    membres: frozenset[int] = frozenset()
    tous_acceptes: bool = False
    soumise_ars: bool = False
    consentement_coordinateur: bool = False
    rattache: bool = False


def _in_departements(p: Principal, c: Cible) -> bool:
    return bool(c.departements) and c.departements <= p.departements


def _in_region(p: Principal, c: Cible) -> bool:
    return bool(c.region) and c.region in p.regions


def _owner(p: Principal, c: Cible) -> bool:
    return c.proprietaire is not None and c.proprietaire == p.compte_id


def autorise(p: Principal, action: Action, c: Cible = Cible()) -> bool:
    """True when ``p`` may do ``action`` on ``c``. Pure function: the whole policy is here."""
    role = p.role
    if role not in ROLES:
        return False
    match action:
        case Action.DECLARER:
            return role == "declarant" and c.rattache
        case Action.LIRE_DECLARATION:
            return (
                (role == "declarant" and _owner(p, c))
                or (role == "coordinateur" and _in_departements(p, c))
                or (role == "ars" and _in_region(p, c))
            )
        case Action.LIRE_CONTACT:
            return (role == "declarant" and _owner(p, c)) or (
                role == "coordinateur" and _in_departements(p, c) and c.consentement_coordinateur
            )
        case Action.MODIFIER_DECLARATION:
            return role == "declarant" and _owner(p, c) and c.rattache
        case Action.RETIRER_DECLARATION:  # withdrawing one's own data never needs more
            return role == "declarant" and _owner(p, c)
        case Action.LISTER_DECLARATIONS | Action.AGREGATS:
            return (role == "coordinateur" and _in_departements(p, c)) or (
                role == "ars" and _in_region(p, c)
            )
        case Action.IMPORTER:
            return role == "admin" or (role == "coordinateur" and _in_departements(p, c))
        case (
            Action.APPARIER
            | Action.MODIFIER_GRAPPE
            | Action.INVITER
            | Action.CONSTITUER
            | Action.SOUMETTRE_ARS
        ):
            return role == "coordinateur" and _in_departements(p, c)
        case Action.LIRE_GRAPPE:
            return (
                (role == "declarant" and p.compte_id in c.membres)
                or (role == "coordinateur" and _in_departements(p, c))
                or (role == "ars" and _in_region(p, c))
            )
        case Action.REPONDRE_INVITATION:
            return role == "declarant" and _owner(p, c) and c.rattache
        case Action.LIRE_CONTACTS_GRAPPE:
            return (
                (role == "declarant" and p.compte_id in c.membres and c.tous_acceptes
                 and c.rattache)
                or (role == "ars" and _in_region(p, c) and c.soumise_ars)
            )
        case Action.EXPORTER:
            return (role == "coordinateur" and _in_departements(p, c)) or (
                role == "ars" and _in_region(p, c)
            )
        case Action.SUGGERER_PARTENAIRES:
            return role == "ars" and _in_region(p, c)
        case (Action.GERER_COMPTES | Action.LIRE_AUDIT | Action.PURGER
              | Action.CONFIGURER_FINESS):
            return role == "admin"
        case Action.ENREGISTRER_SUIVI | Action.EXPORTER_SUIVI | Action.DECLARER_VERSEMENT:
            return role == "ars" and _in_region(p, c)
        case Action.LIRE_SUIVI:
            return (role == "declarant" and p.compte_id in c.membres) or (
                role == "ars" and _in_region(p, c)
            )
        case Action.SAISIR_SUIVI:
            return role == "declarant" and p.compte_id in c.membres
        case Action.DEMANDER_RATTACHEMENT:
            return role == "declarant"
        case Action.DECIDER_RATTACHEMENT | Action.LISTER_RATTACHEMENTS:
            return (role == "coordinateur" and _in_departements(p, c)) or (
                role == "ars" and _in_region(p, c)
            )
    return False


def exiger(p: Principal, action: Action, c: Cible = Cible()) -> None:
    """Raise ``AccesRefuse`` unless :func:`autorise`."""
    if not autorise(p, action, c):
        raise AccesRefuse
