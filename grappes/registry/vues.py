"""What the registry API returns: frozen dataclasses, never ORM objects or dicts.

A contact field is ``None`` when the caller may not see it; the pages and the CLI show
« masqué » then. Views carry the ``version`` the caller must send back to change the object
(optimistic locking).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CompteVue:
    id: int
    email: str
    nom: str
    role: str
    territoires: tuple[str, ...]
    actif: bool
    active: bool  # has a password (an imported account must be activated first)


@dataclass(frozen=True)
class RattachementVue:
    """An account's claim to speak for an OG. ``email`` is the claiming account's, shown to
    the deciding coordinator / ARS and to the account itself; ``conteste``: another account
    claims the same OG."""

    id: int
    compte_id: int
    email: str
    finess_ej: str
    departement: str
    region: str
    statut: str  # demande, approuve, refuse, revoque
    origine: str  # demande, import, reprise
    demande_le: datetime
    decide_le: datetime | None
    conteste: bool


@dataclass(frozen=True)
class Connexion:
    jeton: str
    compte: CompteVue
    expire_le: datetime


@dataclass(frozen=True)
class Contact:
    nom: str
    email: str
    telephone: str


@dataclass(frozen=True)
class EsmsVue:
    finess_et: str
    raison_sociale: str
    champ: str
    commune: str
    departement: str
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class DeclarationVue:
    id: int
    statut: str
    finess_ej: str
    raison_sociale_ej: str
    departement: str
    region: str
    esms: tuple[EsmsVue, ...]
    dui_editeur: str
    dui_statut: str
    editeur_segur: bool | None
    distance_max_km: float | None
    champs_acceptes: tuple[str, ...]
    partenaires_souhaites: tuple[str, ...]
    partenaires_refuses: tuple[str, ...]
    porteur: str
    consentement_contacts_coordinateur: bool
    conservation_mois: int
    modifie_le: datetime
    version: int
    #: None when hidden from the caller (or erased by a withdrawal)
    contact: Contact | None = None
    texte_libre: str | None = None
    #: the owner speaks for the OG (attached, not contested): only then is it matched
    parle: bool = True
    #: why not, in French (empty when it does)
    motif_exclusion: str = ""


@dataclass(frozen=True)
class MembreVue:
    declaration_id: int
    finess_ej: str
    raison_sociale_ej: str
    esms: tuple[str, ...]
    invitation: str  # '', en_attente, acceptee, declinee, annulee
    contact: Contact | None = None
    #: the member's declaration speaks for its OG (issue 18)
    parle: bool = True


@dataclass(frozen=True)
class GrappeVue:
    id: int
    appariement_id: int
    code: str
    champ: str
    departements: tuple[str, ...]
    region: str
    statut: str
    porteur_ej: str
    total: float | None
    n_esms: int
    regles_enfreintes: tuple[str, ...]
    avertissements: tuple[str, ...]
    membres: tuple[MembreVue, ...]
    soumise_ars: bool
    version: int

    @property
    def tous_acceptes(self) -> bool:
        return bool(self.membres) and all(m.invitation == "acceptee" for m in self.membres)


@dataclass(frozen=True)
class EvaluationGrappe:
    """The what-if re-check of one stored grappe: what the coordinator reads before and
    after an edit. ``regles`` pairs each broken rule's code
    (``grappes.core.vocabulary.VIOLATION_CODES``) with its French message."""

    grappe_id: int
    code: str
    valide: bool
    regles: tuple[tuple[str, str], ...]
    total: float
    points: int
    points_max: int
    porteur_ej: str
    version: int


@dataclass(frozen=True)
class InvitationVue:
    id: int
    declaration_id: int
    statut: str
    origine: str
    envoyee_le: datetime
    grappe: GrappeVue


@dataclass(frozen=True)
class AppariementVue:
    id: int
    territoire: tuple[str, ...]
    regles: str
    grappes: tuple[GrappeVue, ...]
    non_places: tuple[tuple[str, str], ...]  # (finess_et, reason)
    avertissements: tuple[str, ...] = ()
    version: int = 1


@dataclass(frozen=True)
class Rejet:
    ligne: int
    champ: str
    raison: str


@dataclass
class ImportRapport:
    chargees: list[tuple[int, int]] = field(default_factory=list)  # (first line, declaration id)
    rejets: list[Rejet] = field(default_factory=list)
    lignes: int = 0
    comptes_crees: int = 0
    #: rows whose declaration was already imported: (first line, declaration id)
    deja_presentes: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class AuditVue:
    le: datetime
    compte_id: int | None
    role: str
    action: str
    cible: str
    cible_id: str
    detail: str


@dataclass(frozen=True)
class PurgeRapport:
    declarations_effacees: tuple[int, ...]
    sessions_supprimees: int
    audit_supprime: int
    #: accounts whose e-mail and name were erased (never activated, or unused)
    comptes_effaces: tuple[int, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    rang: int
    grappe_id: int | None
    libelle: str
    km: float
    valide_apres: bool
    texte: str


@dataclass(frozen=True)
class PartenaireVue:
    """One OG of an invited grappe, as the invited déclarant reads it before answering."""

    finess_ej: str
    raison_sociale_ej: str
    n_esms: int
    #: km from the invited OG's nearest ESMS to this OG's nearest ESMS (None: no coordinates)
    km: float | None
    porteur: bool
    #: the invited OG itself
    moi: bool
    #: this OG's share of the grappe's amount by the planner's rule (a per-ESMS line to the
    #: ESMS's OG, a per-project line to the porteur: ``scenarios.og_view.split_lines``);
    #: indicative, since the programme pays the porteur
    part_indicative: float


@dataclass(frozen=True)
class FicheInvitation:
    """The facts to decide on an invitation: partners, distance, amount, grid points,
    computed now by the same what-if evaluation as the coordinator's."""

    invitation_id: int
    grappe_id: int
    code: str
    champ: str
    valide: bool
    total: float
    n_esms: int
    points: int
    points_max: int
    #: the greatest distance between two ESMS of the grappe (km)
    km_max: float | None
    partenaires: tuple[PartenaireVue, ...]
