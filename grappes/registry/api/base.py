"""The registry's plumbing shared by every part of the API: the session -> ``Principal``,
the audit log, optimistic locking, and the ONE lookup-then-authorise of each object
(a missing object and a refusal give the same ``AccesRefuse``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from grappes.registry import adapters, finess_search, finess_source, rattachement
from grappes.registry.accounts import token_hash
from grappes.registry.cache_vues import CacheVues
from grappes.registry.config import Conservation, Securite
from grappes.registry.db import Database
from grappes.registry.errors import (
    AccesRefuse,
    ConflitVersion,
    RegistreError,
    SaisieInvalide,
    SessionInvalide,
)
from grappes.registry.models import (
    Audit,
    Compte,
    CompteTerritoire,
    Declaration,
    GrappeProposee,
    Invitation,
    SessionOuverte,
)
from grappes.registry.policy import Action, Cible, Principal, exiger

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Naive UTC (stored as such on both backends)."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_territoire(codes: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """``["37", "R24"]`` -> (départements, régions). ``R24`` or ``region:24`` names a région
    (its départements are included); a bare code is a département."""
    deps: set[str] = set()
    regions: set[str] = set()
    for raw in codes:
        for code in str(raw).replace(";", ",").split(","):
            code = code.strip().upper()
            if not code:
                continue
            if code.startswith(("R", "REGION:")):
                reg = code.split(":", 1)[1] if ":" in code else code[1:]
                found = adapters.departements_of_region(reg)
                if not found:
                    raise SaisieInvalide([("territoire", f"région inconnue : {reg[:10]!r}")])
                regions.add(reg)
                deps.update(found)
            else:
                if not adapters.region_of_departement(code):
                    raise SaisieInvalide([("territoire", f"département inconnu : {code[:10]!r}")])
                deps.add(code)
    if not deps:
        raise SaisieInvalide([("territoire", "aucun territoire donné")])
    return frozenset(deps), frozenset(regions)



#: the statements of ``_principal``, built once (SQLAlchemy caches their compiled form)
_SESSION = (select(SessionOuverte.expire_le, Compte.id, Compte.role, Compte.actif)
            .join(Compte, Compte.id == SessionOuverte.compte_id)
            .where(SessionOuverte.jeton_hash == bindparam("h")))
_TERRITOIRES = (select(CompteTerritoire.niveau, CompteTerritoire.code)
                .where(CompteTerritoire.compte_id == bindparam("c"))
                .order_by(CompteTerritoire.id))


class RegistryBase:
    """The « mise en relation » registry on one database.

    Parameters
    ----------
    db
        A SQLAlchemy URL, a SQLite path, a :class:`Database`, or None (``GRAPPES_DB_URL``,
        else ``grappes.db``).
    finess
        A FINESS file (or ``"sample"``) against which declared numbers are checked, and
        whose data the search and the matching use. None: ``GRAPPES_FINESS``, else the file
        stored by ``registre init --finess``, else the bundled sample, which serves the
        search but does not reject ESMS absent from it (``finess_source``).
    clock
        Returns the current naive-UTC time (tests move it to expire sessions and data).
    """

    def __init__(
        self,
        db: str | Database | None = None,
        finess: str | None = None,
        securite: Securite | None = None,
        conservation: Conservation | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        self._finess = finess
        self.securite = securite or Securite()
        self.conservation = conservation or Conservation()
        self.clock = clock or utcnow
        #: the reader-independent part of grappe views, per process (``cache_vues``)
        self._cache_vues = CacheVues()
        #: proposals' establishments tables, per process (``GrappesMixin._snapshot``)
        self._snapshots: dict[int, tuple[int, pd.DataFrame]] = {}
        self._verrou_snapshots = threading.Lock()

    def init(self) -> str:
        """Create or upgrade the schema (Alembic); returns the revision in place."""
        return self.db.init()

    def source_finess(self) -> finess_source.SourceFiness:
        """The FINESS source in force (resolved on each call: ``registre init --finess``
        may change it while the app runs)."""
        return finess_source.resoudre(self._finess, self.db)

    def finess_table(self) -> pd.DataFrame:
        """The FINESS table in force, indexed by FINESS ET (French error when unreadable)."""
        return self._finess_controle()[0]

    def _finess_controle(self) -> tuple[pd.DataFrame, bool]:
        """The FINESS table and whether it is authoritative (``SourceFiness.stricte``)."""
        source = self.source_finess()
        try:
            return finess_source.charger(source.valeur), source.stricte
        except RegistreError as exc:
            raise RegistreError(f"{exc} — source : {source.libelle}") from exc

    def recherche_finess(self) -> finess_search.IndexRecherche:
        """The search of « Rechercher mon établissement » over the FINESS in force (public
        data: no account needed)."""
        source = self.source_finess()
        try:
            return finess_search.index_pour(source.valeur)
        except RegistreError as exc:
            raise RegistreError(f"{exc} — source : {source.libelle}") from exc

    def configurer_finess(self, fichier: str) -> tuple[str, int]:
        """Store ``fichier`` as the registry's FINESS file (server side: ``registre init
        --finess``, no account); returns the stored value and its number of ESMS."""
        valeur, n = finess_source.verifier(fichier)
        with self.db.write() as s:
            finess_source.stocker(s, valeur, self.clock())
            self._audit(s, None, "parametre_finess", "parametre", "finess",
                        f"{n} ESMS, en console")
        return valeur, n

    def _principal(self, s: Session, jeton: str | None) -> Principal:
        """The caller of a session token, in one column query (a second one for the
        territories of a coordinateur or an ARS): it runs on every call."""
        if not jeton:
            raise SessionInvalide
        row = s.connection().execute(_SESSION, {"h": token_hash(jeton)}).first()
        return self._principal_de_session(s, row)

    def _principal_de_session(self, s: Session, row) -> Principal:
        """The caller from its session row (``expire_le``, ``id``, ``role``, ``actif``, as
        ``_SESSION`` reads them, possibly within a larger statement; None: no such session):
        refused when missing, expired or on a disabled account."""
        if row is None or row.expire_le <= self.clock() or not row.actif:
            raise SessionInvalide
        territoires = s.connection().execute(_TERRITOIRES, {"c": row.id}).all() \
            if row.role in ("coordinateur", "ars") else []
        return self._principal_from(row.id, row.role, territoires)

    @classmethod
    def _principal_of(cls, compte: Compte) -> Principal:
        return cls._principal_from(compte.id, compte.role,
                                   [(t.niveau, t.code) for t in compte.territoires])

    @staticmethod
    def _principal_from(compte_id: int, role: str,
                        territoires: Iterable[tuple[str, str]]) -> Principal:
        """``territoires``: (niveau, code) pairs; a région brings its départements."""
        deps: set[str] = set()
        regions: set[str] = set()
        for niveau, code in territoires:
            if niveau == "region":
                regions.add(code)
                deps.update(adapters.departements_of_region(code))
            else:
                deps.add(code)
        return Principal(compte_id, role, frozenset(deps), frozenset(regions))

    def _audit(self, s: Session, p: Principal | None, action: str, cible: str = "",
               cible_id: object = "", detail: str = "") -> None:
        s.add(Audit(
            le=self.clock(), compte_id=p.compte_id if p else None, role=p.role if p else "",
            action=action, cible=cible, cible_id=str(cible_id)[:40], detail=detail[:2000],
        ))

    @staticmethod
    def _check_version(obj, version: int | None, label: str) -> None:
        if version is not None and obj.version != version:
            raise ConflitVersion(
                f"{label} a été modifiée par quelqu'un d'autre depuis votre lecture "
                f"(version {obj.version}, vous aviez la {version}) : rechargez-la et "
                "refaites votre modification"
            )

    def _commit_versioned(self, fn, label: str):
        """Run ``fn(session)`` in one write transaction; a concurrent change -> ConflitVersion."""
        try:
            with self.db.write() as s:
                return fn(s)
        except StaleDataError as exc:
            raise ConflitVersion(
                f"{label} a été modifiée par quelqu'un d'autre pendant votre enregistrement : "
                "rechargez-la et refaites votre modification"
            ) from exc

    @staticmethod
    def _exiger_territoire(p: Principal, action: Action, deps: frozenset[str]) -> None:
        regions = {adapters.region_of_departement(d) for d in deps}
        region = next(iter(regions)) if len(regions) == 1 else ""
        exiger(p, action, Cible(departements=deps, region=region))

    @staticmethod
    def _cible_declaration(d: Declaration, rattache: bool = False) -> Cible:
        return Cible(
            proprietaire=d.compte_id,
            departements=frozenset({d.departement}),
            region=d.region,
            consentement_coordinateur=bool(d.consentement_contacts_coordinateur),
            rattache=rattache,
        )

    def _cible_grappe(self, s: Session, g: GrappeProposee) -> Cible:
        ids = sorted({m.declaration_id for m in g.membres})
        rows = s.execute(select(Declaration.id, Declaration.compte_id, Declaration.finess_ej)
                         .where(Declaration.id.in_(ids))).all() if ids else []
        owners = {r.compte_id for r in rows if r.compte_id is not None}
        speaking = rattachement.parlent(s, [tuple(r) for r in rows])
        return Cible(departements=frozenset(g.departements), region=g.region,
                     membres=frozenset(owners), tous_acceptes=self._all_accepted(g),
                     soumise_ars=g.soumise_ars,
                     rattache=bool(ids) and speaking >= set(ids))

    @staticmethod
    def _ident(value: object) -> int:
        """An object id from the caller; outside the database's integer range it names no
        object (PostgreSQL would fail on it): refused like a missing one."""
        try:
            number = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError, OverflowError):
            raise AccesRefuse from None
        if not 0 < number < 2**31:
            raise AccesRefuse
        return number

    def _declaration(self, s: Session, p: Principal, declaration_id: int, action: Action,
                     active: bool = False) -> Declaration:
        """The declaration, once the policy allows ``action`` on it (``active``: a withdrawn
        or expired one counts as missing); a missing declaration and a refusal give the same
        answer (a refusal reveals nothing)."""
        d = s.get(Declaration, self._ident(declaration_id))
        if d is None or (active and d.statut != "active"):
            raise AccesRefuse
        exiger(p, action, self._cible_declaration(
            d, rattachement.parle(s, d.compte_id, d.finess_ej)))
        return d

    def _grappe(self, s: Session, p: Principal, grappe_id: int, action: Action,
                version: int | None = None) -> GrappeProposee:
        """The grappe, once the policy allows ``action`` on it; a missing grappe and a refusal
        give the same answer (a refusal reveals nothing). With ``version``, a change of the
        grappe since that version is refused (optimistic locking)."""
        g = s.get(GrappeProposee, self._ident(grappe_id))
        if g is None:
            raise AccesRefuse
        exiger(p, action, self._cible_grappe(s, g))
        if version is not None:
            self._check_version(g, version, f"la grappe {g.code}")
        return g

    @staticmethod
    def _invitation_of(g: GrappeProposee, declaration_id: int) -> Invitation | None:
        found = [i for i in g.invitations if i.declaration_id == declaration_id]
        return found[-1] if found else None

    def _all_accepted(self, g: GrappeProposee) -> bool:
        if not g.membres:
            return False
        for m in g.membres:
            inv = self._invitation_of(g, m.declaration_id)
            if inv is None or inv.statut != "acceptee":
                return False
        return True

    @staticmethod
    def _engager(s: Session, g: GrappeProposee, declaration_id: int) -> None:
        """Engage a declaration in ``g``: one grappe in progress or constituted per
        declaration. A conditional UPDATE: of two transactions engaging the same declaration,
        the second one finds it taken (PostgreSQL re-reads the row once the first commits;
        SQLite serialises writers) and is refused."""
        done = s.execute(
            update(Declaration)
            .where(Declaration.id == declaration_id,
                   or_(Declaration.grappe_engagee_id.is_(None),
                       Declaration.grappe_engagee_id == g.id))
            .values(grappe_engagee_id=g.id)
            .execution_options(synchronize_session=False)).rowcount
        if not done:
            other = s.scalar(select(GrappeProposee.code).join(
                Declaration, Declaration.grappe_engagee_id == GrappeProposee.id)
                .where(Declaration.id == declaration_id))
            raise RegistreError(f"la déclaration {declaration_id} est déjà engagée dans la "
                                f"grappe {other or '?'} (invitations en cours ou constituée) : "
                                "une déclaration ne compte que dans une grappe à la fois")

    @staticmethod
    def _liberer(s: Session, g: GrappeProposee) -> None:
        """The members of a declined grappe are free again."""
        s.execute(update(Declaration).where(Declaration.grappe_engagee_id == g.id)
                  .values(grappe_engagee_id=None)
                  .execution_options(synchronize_session=False))
