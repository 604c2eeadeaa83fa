"""Tables of the registry (SQLAlchemy 2 typed ORM). The schema is created by the Alembic
migrations in ``migrations/``, never by ``create_all``: both must describe the same tables
(``tests/registry/test_migrations.py`` compares them).

Personal data live in exactly two places: the accounts (e-mail, name) and the contact
fields of a declaration (``contact_*``, ``texte_libre``). Withdrawal and purge blank the
latter, the purge anonymises the former; the audit log holds only ids and action names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Compte(Base):
    """A user account. No password hash = an account created by an import, not yet activated."""

    __tablename__ = "comptes"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    nom: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    mot_de_passe: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actif: Mapped[bool] = mapped_column(Boolean, default=True)
    echecs: Mapped[int] = mapped_column(Integer, default=0)
    verrouille_jusqu_a: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cree_le: Mapped[datetime] = mapped_column(DateTime)
    #: true on the first admin only; unique, so two concurrent "first admin" creations cannot
    #: both commit (NULL for every other account)
    premier_admin: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    derniere_connexion: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    territoires: Mapped[list[CompteTerritoire]] = relationship(
        back_populates="compte", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (Index("uq_comptes_premier_admin", "premier_admin", unique=True),)


class Rattachement(Base):
    """An account's claim to speak for an OG (FINESS EJ): requested by the account (or made
    by a coordinator's import), approved or refused by a coordinator or the ARS of the EJ's
    territory. ``statut``: ``demande``, ``approuve``, ``refuse``, ``revoque``."""

    __tablename__ = "rattachements"

    id: Mapped[int] = mapped_column(primary_key=True)
    compte_id: Mapped[int] = mapped_column(ForeignKey("comptes.id", ondelete="CASCADE"))
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(3))
    statut: Mapped[str] = mapped_column(String(12))
    #: ``demande`` (asked by the account), ``import`` (a coordinator's import), ``reprise``
    #: (a declaration made before attachments existed, taken over by migration r0005)
    origine: Mapped[str] = mapped_column(String(12))
    demande_le: Mapped[datetime] = mapped_column(DateTime)
    decide_le: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decide_par: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (UniqueConstraint("compte_id", "finess_ej",
                                       name="uq_rattachements_compte_ej"),)


class CompteTerritoire(Base):
    """One territory of a coordinateur or an ARS: a département or a région (INSEE code)."""

    __tablename__ = "compte_territoires"

    id: Mapped[int] = mapped_column(primary_key=True)
    compte_id: Mapped[int] = mapped_column(ForeignKey("comptes.id", ondelete="CASCADE"))
    niveau: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(3))

    compte: Mapped[Compte] = relationship(back_populates="territoires")


class SessionOuverte(Base):
    """A login session: only the SHA-256 of the token is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    jeton_hash: Mapped[str] = mapped_column(String(64), unique=True)
    compte_id: Mapped[int] = mapped_column(ForeignKey("comptes.id", ondelete="CASCADE"))
    cree_le: Mapped[datetime] = mapped_column(DateTime)
    expire_le: Mapped[datetime] = mapped_column(DateTime)


class Declaration(Base):
    """A structure's declaration that it looks for partners (« formulaire de mise en relation »)."""

    __tablename__ = "declarations"

    id: Mapped[int] = mapped_column(primary_key=True)
    compte_id: Mapped[int | None] = mapped_column(
        ForeignKey("comptes.id", ondelete="SET NULL"), nullable=True
    )
    saisie_par: Mapped[int | None] = mapped_column(Integer, nullable=True)
    statut: Mapped[str] = mapped_column(String(12), default="active")
    finess_ej: Mapped[str] = mapped_column(String(9))
    raison_sociale_ej: Mapped[str] = mapped_column(Text, default="")
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(3))
    dui_editeur: Mapped[str] = mapped_column(Text, default="")
    dui_statut: Mapped[str] = mapped_column(String(20), default="inconnu")
    editeur_segur: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    distance_max_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    champs_acceptes: Mapped[list[str]] = mapped_column(JSON, default=list)
    partenaires_souhaites: Mapped[list[str]] = mapped_column(JSON, default=list)
    partenaires_refuses: Mapped[list[str]] = mapped_column(JSON, default=list)
    porteur: Mapped[str] = mapped_column(String(12), default="possible")
    contact_nom: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_email: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_telephone: Mapped[str | None] = mapped_column(Text, nullable=True)
    texte_libre: Mapped[str | None] = mapped_column(Text, nullable=True)
    consentement: Mapped[bool] = mapped_column(Boolean, default=False)
    consentement_contacts_coordinateur: Mapped[bool] = mapped_column(Boolean, default=False)
    consentement_le: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    consentement_version: Mapped[str] = mapped_column(String(20), default="")
    conservation_mois: Mapped[int] = mapped_column(Integer, default=24)
    cree_le: Mapped[datetime] = mapped_column(DateTime)
    modifie_le: Mapped[datetime] = mapped_column(DateTime)
    retiree_le: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    effacee_le: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: the one grappe in progress or constituted this declaration belongs to (set by a
    #: conditional UPDATE: two transactions cannot engage a declaration twice)
    grappe_engagee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: key of an imported declaration (EJ, ET, field, contact): unique among active ones
    cle_import: Mapped[str | None] = mapped_column(String(64), nullable=True)

    esms: Mapped[list[DeclarationEsms]] = relationship(
        back_populates="declaration",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DeclarationEsms.id",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (Index("uq_declarations_cle_import_active", "cle_import", unique=True,
                            sqlite_where=text("statut = 'active'"),
                            postgresql_where=text("statut = 'active'")),)


class DeclarationEsms(Base):
    """One ESMS a declaration speaks for (FINESS ET), with its field and its commune."""

    __tablename__ = "declaration_esms"

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id", ondelete="CASCADE"))
    finess_et: Mapped[str] = mapped_column(String(9))
    raison_sociale: Mapped[str] = mapped_column(Text, default="")
    champ: Mapped[str] = mapped_column(String(10))
    categorie: Mapped[str] = mapped_column(String(3), default="")
    commune: Mapped[str] = mapped_column(String(5))
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(3))
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)

    declaration: Mapped[Declaration] = relationship(back_populates="esms")


class Appariement(Base):
    """One run of the solver on the declarations of a territory (a proposal)."""

    __tablename__ = "appariements"

    id: Mapped[int] = mapped_column(primary_key=True)
    cree_par: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cree_le: Mapped[datetime] = mapped_column(DateTime)
    territoire: Mapped[list[str]] = mapped_column(JSON, default=list)
    regles: Mapped[str] = mapped_column(String(100), default="")
    #: the establishments table the solver saw (no personal data): what-if edits and exports
    etablissements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    non_places: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)

    grappes: Mapped[list[GrappeProposee]] = relationship(
        back_populates="appariement", lazy="selectin", order_by="GrappeProposee.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class GrappeProposee(Base):
    """A grappe of a proposal, and its way to « constituée »."""

    __tablename__ = "grappes"

    id: Mapped[int] = mapped_column(primary_key=True)
    appariement_id: Mapped[int] = mapped_column(ForeignKey("appariements.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    champ: Mapped[str] = mapped_column(String(10))
    departements: Mapped[list[str]] = mapped_column(JSON, default=list)
    region: Mapped[str] = mapped_column(String(3), default="")
    statut: Mapped[str] = mapped_column(String(24), default="proposee")
    porteur_ej: Mapped[str] = mapped_column(String(9), default="")
    total: Mapped[float | None] = mapped_column(Float, nullable=True)
    regles_enfreintes: Mapped[list[str]] = mapped_column(JSON, default=list)
    avertissements: Mapped[list[str]] = mapped_column(JSON, default=list)
    constituee_le: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    soumise_ars: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: bumped by the database's triggers (migration r0008) on every write that changes what
    #: the grappe's view shows, in the writing transaction: the key of the views' cache
    #: (``cache_vues``). Never written by the application.
    revision: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    #: bumped by the database's triggers (migration r0009) on every write that changes the
    #: grappe's composition as its view shows it (members, their declarations' shown
    #: columns, attachments of their OGs): the views' cache keeps the members while only
    #: this counter is unchanged. Never written by the application.
    revision_membres: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    appariement: Mapped[Appariement] = relationship(back_populates="grappes")
    membres: Mapped[list[GrappeMembre]] = relationship(
        back_populates="grappe",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="GrappeMembre.id",
    )
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="grappe", lazy="selectin", order_by="Invitation.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class GrappeMembre(Base):
    """A declaration taking part in a grappe, with the ESMS it brings."""

    __tablename__ = "grappe_membres"

    id: Mapped[int] = mapped_column(primary_key=True)
    grappe_id: Mapped[int] = mapped_column(ForeignKey("grappes.id", ondelete="CASCADE"))
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id", ondelete="CASCADE"))
    finess_ej: Mapped[str] = mapped_column(String(9))
    esms: Mapped[list[str]] = mapped_column(JSON, default=list)

    grappe: Mapped[GrappeProposee] = relationship(back_populates="membres")


class Invitation(Base):
    """An invitation of one declaration to one grappe, and its answer."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    grappe_id: Mapped[int] = mapped_column(ForeignKey("grappes.id", ondelete="CASCADE"))
    declaration_id: Mapped[int] = mapped_column(ForeignKey("declarations.id", ondelete="CASCADE"))
    statut: Mapped[str] = mapped_column(String(12), default="en_attente")
    origine: Mapped[str] = mapped_column(String(14), default="coordinateur")
    envoyee_le: Mapped[datetime] = mapped_column(DateTime)
    repondue_le: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    grappe: Mapped[GrappeProposee] = relationship(back_populates="invitations")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Audit(Base):
    """Who did what, when: ids and action names only, never the personal data themselves."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    le: Mapped[datetime] = mapped_column(DateTime, index=True)
    compte_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(40))
    cible: Mapped[str] = mapped_column(String(40), default="")
    cible_id: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class Parametre(Base):
    """A setting of the registry stored in its database (r0007), e.g. ``finess``: the FINESS
    file given at ``grappes registre init --finess`` (``grappes.registry.finess_source``)."""

    __tablename__ = "parametres"

    cle: Mapped[str] = mapped_column(String(60), primary_key=True)
    valeur: Mapped[str] = mapped_column(Text)
    modifie_le: Mapped[datetime] = mapped_column(DateTime)
