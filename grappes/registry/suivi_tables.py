"""Tables of the follow-up (issue 14), on the registry's declarative base and database.

Created by the Alembic revisions ``r0003_suivi``, ``r0004_verification_service`` and
``r0006_suivi_historique`` on top
of the registry's chain, never by ``create_all``. No personal data here: FINESS numbers,
counts, dates, amounts; the porteur accounts are ids of the registry's ``comptes``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grappes.registry.models import Base, Compte


class SuiviGrappe(Base):
    """A funded grappe: rule set, signature, amount, région; its members and tranches."""

    __tablename__ = "suivi_grappes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    regles: Mapped[str] = mapped_column(String(100))
    perimetre: Mapped[str | None] = mapped_column(String(10), nullable=True)
    signature: Mapped[date] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(3), index=True)
    porteur_ej: Mapped[str] = mapped_column(String(9), default="")
    porteur_nom: Mapped[str] = mapped_column(Text, default="")
    montant_total: Mapped[float] = mapped_column(Float)
    registre_grappe_id: Mapped[int | None] = mapped_column(
        ForeignKey("grappes.id", ondelete="SET NULL"), nullable=True)
    cree_le: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    membres: Mapped[list[SuiviMembre]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SuiviMembre.id")
    tranches: Mapped[list[SuiviTranche]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SuiviTranche.rang")
    porteurs: Mapped[list[SuiviPorteur]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class SuiviMembre(Base):
    __tablename__ = "suivi_membres"

    id: Mapped[int] = mapped_column(primary_key=True)
    suivi_id: Mapped[int] = mapped_column(ForeignKey("suivi_grappes.id", ondelete="CASCADE"))
    finess_et: Mapped[str] = mapped_column(String(9))
    raison_sociale: Mapped[str] = mapped_column(Text, default="")
    finess_ej: Mapped[str] = mapped_column(String(9), default="")
    type_projet: Mapped[str] = mapped_column(String(20))
    departement: Mapped[str] = mapped_column(String(3), default="")


class SuiviTranche(Base):
    __tablename__ = "suivi_tranches"

    id: Mapped[int] = mapped_column(primary_key=True)
    suivi_id: Mapped[int] = mapped_column(ForeignKey("suivi_grappes.id", ondelete="CASCADE"))
    rang: Mapped[int] = mapped_column(Integer)
    libelle: Mapped[str] = mapped_column(Text)
    part: Mapped[float] = mapped_column(Float)
    montant: Mapped[float] = mapped_column(Float)
    declencheur: Mapped[str] = mapped_column(String(20))
    delai_acquisition_mois: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delai_conformite_mois: Mapped[int | None] = mapped_column(Integer, nullable=True)
    jalon_le: Mapped[date | None] = mapped_column(Date, nullable=True)
    versee_le: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: « vérification de service régulier » (004): needed, signed on, recorded by (r0004)
    verification_requise: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    verifiee_le: Mapped[date | None] = mapped_column(Date, nullable=True)
    verifiee_par: Mapped[int | None] = mapped_column(
        ForeignKey("comptes.id", ondelete="SET NULL", name="fk_suivi_tranches_verifiee_par"),
        nullable=True)
    verificateur: Mapped[Compte | None] = relationship(lazy="selectin")


class SuiviPorteur(Base):
    """An account (declarant) that writes the grappe's indicators."""

    __tablename__ = "suivi_porteurs"

    id: Mapped[int] = mapped_column(primary_key=True)
    suivi_id: Mapped[int] = mapped_column(ForeignKey("suivi_grappes.id", ondelete="CASCADE"))
    compte_id: Mapped[int] = mapped_column(ForeignKey("comptes.id", ondelete="CASCADE"))


class SuiviIndicateur(Base):
    """The counts of one ESMS for one month (one row per grappe, ESMS and month)."""

    __tablename__ = "suivi_indicateurs"
    __table_args__ = (UniqueConstraint("suivi_id", "finess_et", "mois"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suivi_id: Mapped[int] = mapped_column(
        ForeignKey("suivi_grappes.id", ondelete="CASCADE"), index=True)
    finess_et: Mapped[str] = mapped_column(String(9))
    mois: Mapped[date] = mapped_column(Date)
    personnes_accompagnees: Mapped[int] = mapped_column(Integer)
    messages_mssante: Mapped[int] = mapped_column(Integer)
    dmp_alimentes: Mapped[int] = mapped_column(Integer)
    dossiers_actifs: Mapped[int] = mapped_column(Integer)
    dossiers_projet_personnalise: Mapped[int] = mapped_column(Integer)
    dossiers_evenement: Mapped[int] = mapped_column(Integer)
    saisi_le: Mapped[datetime] = mapped_column(DateTime)
    saisi_par: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SuiviVerification(Base):
    """Every recording of a tranche's « vérification de service régulier » (r0006): a new
    date never erases the one before; the tranche's ``verifiee_le`` is the latest."""

    __tablename__ = "suivi_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    tranche_id: Mapped[int] = mapped_column(
        ForeignKey("suivi_tranches.id", ondelete="CASCADE"), index=True)
    signee_le: Mapped[date] = mapped_column(Date)
    enregistree_le: Mapped[datetime] = mapped_column(DateTime)
    enregistree_par: Mapped[int | None] = mapped_column(
        ForeignKey("comptes.id", ondelete="SET NULL"), nullable=True)
    auteur: Mapped[Compte | None] = relationship(lazy="selectin")
