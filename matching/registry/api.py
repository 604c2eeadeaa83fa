"""The registry's Python API: the only way the app and the CLI read or change the registry.

Every public method takes the caller's session token (``jeton``), opens ONE transaction,
builds the caller's ``Principal`` and asks ``policy.exiger`` before reading or writing
anything; refusals and unknown objects give the same ``AccesRefuse``. Accesses to personal
data (contacts, free text) and every change are written to the audit log in the same
transaction, with ids only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from matching.registry import adapters
from matching.registry import appariement as app_build
from matching.registry.accounts import (
    WRONG,
    check_email,
    check_password,
    hash_password,
    locked_message,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from matching.registry.config import CONSENT_VERSION, Conservation, Securite
from matching.registry.db import Database
from matching.registry.declarations import DeclarationSaisie, DeclarationValide, valider
from matching.registry.errors import (
    AccesRefuse,
    ConflitVersion,
    ConnexionRefusee,
    RegistreError,
    SaisieInvalide,
    SessionInvalide,
)
from matching.registry.models import (
    Appariement,
    Audit,
    Compte,
    CompteTerritoire,
    Declaration,
    DeclarationEsms,
    GrappeMembre,
    GrappeProposee,
    Invitation,
    SessionOuverte,
)
from matching.registry.policy import ROLES, Action, Cible, Principal, exiger
from matching.registry.vues import (
    AppariementVue,
    AuditVue,
    CompteVue,
    Connexion,
    Contact,
    DeclarationVue,
    EsmsVue,
    EvaluationGrappe,
    GrappeVue,
    ImportRapport,
    InvitationVue,
    MembreVue,
    PurgeRapport,
    Suggestion,
)

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


class Registry:
    """The « mise en relation » registry on one database.

    Parameters
    ----------
    db
        A SQLAlchemy URL, a SQLite path, a :class:`Database`, or None (``GRAPPES_DB_URL``,
        else ``grappes.db``).
    finess
        A FINESS file (or ``"sample"``) against which declared numbers are checked, and
        whose data the matching can use as context. None: numbers are checked for their
        format and Luhn key only.
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
        self.finess_source = finess
        self.securite = securite or Securite()
        self.conservation = conservation or Conservation()
        self.clock = clock or utcnow

    # ------------------------------------------------------------------ plumbing

    def init(self) -> str:
        """Create or upgrade the schema (Alembic); returns the revision in place."""
        return self.db.init()

    def finess_table(self) -> pd.DataFrame | None:
        if not self.finess_source:
            return None
        try:
            return adapters.finess_index(self.finess_source)
        except Exception as exc:
            msg = f"fichier FINESS du registre illisible ({self.finess_source}) : {exc}"
            raise RegistreError(msg) from exc

    def _principal(self, s: Session, jeton: str | None) -> Principal:
        if not jeton:
            raise SessionInvalide
        row = s.execute(
            select(SessionOuverte, Compte)
            .join(Compte, Compte.id == SessionOuverte.compte_id)
            .where(SessionOuverte.jeton_hash == token_hash(jeton))
        ).first()
        if row is None:
            raise SessionInvalide
        sess, compte = row
        if sess.expire_le <= self.clock() or not compte.actif:
            raise SessionInvalide
        return self._principal_of(compte)

    @staticmethod
    def _principal_of(compte: Compte) -> Principal:
        deps: set[str] = set()
        regions: set[str] = set()
        for t in compte.territoires:
            if t.niveau == "region":
                regions.add(t.code)
                deps.update(adapters.departements_of_region(t.code))
            else:
                deps.add(t.code)
        return Principal(compte.id, compte.role, frozenset(deps), frozenset(regions))

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

    # ------------------------------------------------------------------ accounts

    def compte_vue(self, c: Compte) -> CompteVue:
        terr = tuple(sorted(("R" + t.code) if t.niveau == "region" else t.code
                            for t in c.territoires))
        return CompteVue(c.id, c.email, c.nom, c.role, terr, c.actif, bool(c.mot_de_passe))

    def creer_compte(
        self,
        jeton: str | None,
        email: str,
        role: str,
        mot_de_passe: str | None,
        territoire: Sequence[str] = (),
        nom: str = "",
    ) -> CompteVue:
        """Create an account. Without a token, only the FIRST admin (no admin exists yet)."""
        email = check_email(email)
        if role not in ROLES:
            raise SaisieInvalide([("role", f"rôle inconnu {role[:20]!r} : {', '.join(ROLES)}")])
        if mot_de_passe is not None:
            check_password(mot_de_passe, self.securite)
        deps: frozenset[str] = frozenset()
        regions: frozenset[str] = frozenset()
        if territoire:
            deps, regions = parse_territoire(territoire)
        if role == "coordinateur" and not deps:
            raise SaisieInvalide([("territoire", "un coordinateur a au moins un territoire")])
        if role == "ars" and (len(regions) != 1 or deps != frozenset(
                adapters.departements_of_region(next(iter(regions))))):
            raise SaisieInvalide([("territoire", "une ARS a exactement une région (ex. R24)")])
        hashed = hash_password(mot_de_passe, self.securite) if mot_de_passe else None
        with self.db.write() as s:
            if jeton is None:
                admins = s.scalar(select(func.count()).select_from(Compte)
                                  .where(Compte.role == "admin"))
                if admins or role != "admin":
                    raise AccesRefuse
                p = None
            else:
                p = self._principal(s, jeton)
                exiger(p, Action.GERER_COMPTES)
            if s.scalar(select(Compte.id).where(Compte.email == email)) is not None:
                raise SaisieInvalide([("email", "un compte existe déjà avec cette adresse")])
            compte = Compte(email=email, nom=str(nom or "")[:200], role=role,
                            mot_de_passe=hashed, actif=True, echecs=0, cree_le=self.clock())
            explicit_deps = deps - {d for r in regions for d in adapters.departements_of_region(r)}
            compte.territoires = [CompteTerritoire(niveau="region", code=r)
                                  for r in sorted(regions)]
            compte.territoires += [CompteTerritoire(niveau="departement", code=d)
                                   for d in sorted(explicit_deps)]
            s.add(compte)
            s.flush()
            self._audit(s, p, "compte_creation", "compte", compte.id, f"role={role}")
            return self.compte_vue(compte)

    def definir_mot_de_passe(self, jeton: str, email: str, mot_de_passe: str) -> None:
        """Admin sets a password (activates an imported account, unlocks a locked one)."""
        check_password(mot_de_passe, self.securite)
        hashed = hash_password(mot_de_passe, self.securite)
        with self.db.write() as s:
            p = self._principal(s, jeton)
            exiger(p, Action.GERER_COMPTES)
            compte = s.scalar(select(Compte).where(Compte.email == check_email(email)))
            if compte is None:
                raise AccesRefuse
            compte.mot_de_passe = hashed
            compte.echecs = 0
            compte.verrouille_jusqu_a = None
            s.execute(delete(SessionOuverte).where(SessionOuverte.compte_id == compte.id))
            self._audit(s, p, "compte_mot_de_passe", "compte", compte.id)

    def desactiver_compte(self, jeton: str, email: str) -> None:
        with self.db.write() as s:
            p = self._principal(s, jeton)
            exiger(p, Action.GERER_COMPTES)
            compte = s.scalar(select(Compte).where(Compte.email == check_email(email)))
            if compte is None:
                raise AccesRefuse
            compte.actif = False
            s.execute(delete(SessionOuverte).where(SessionOuverte.compte_id == compte.id))
            self._audit(s, p, "compte_desactivation", "compte", compte.id)

    def comptes(self, jeton: str) -> list[CompteVue]:
        with self.db.write() as s:
            p = self._principal(s, jeton)
            exiger(p, Action.GERER_COMPTES)
            rows = s.scalars(select(Compte).order_by(Compte.id)).all()
            self._audit(s, p, "comptes_lecture", "compte", "*", f"n={len(rows)}")
            return [self.compte_vue(c) for c in rows]

    def connexion(self, email: str, mot_de_passe: str) -> Connexion:
        """Log in: a session token valid ``securite.session_ttl``.

        Wrong password or unknown e-mail: the same message. After ``max_failures`` wrong
        passwords in a row the account is locked for ``securite.lockout``.
        """
        key = str(email or "").strip().lower()
        now = self.clock()
        with self.db.write() as s:
            compte = s.scalar(select(Compte).where(Compte.email == key))
            if compte is None or not compte.actif:
                verify_password(None, mot_de_passe, self.securite)
                raise ConnexionRefusee(WRONG)
            if compte.verrouille_jusqu_a is not None and compte.verrouille_jusqu_a > now:
                raise ConnexionRefusee(locked_message(compte.verrouille_jusqu_a))
            if not verify_password(compte.mot_de_passe, mot_de_passe, self.securite):
                compte.echecs += 1
                self._audit(s, None, "connexion_echec", "compte", compte.id)
                if compte.echecs >= self.securite.max_failures:
                    compte.verrouille_jusqu_a = now + self.securite.lockout
                    compte.echecs = 0
                    self._audit(s, None, "compte_verrouillage", "compte", compte.id)
                failed = ConnexionRefusee(WRONG)
            else:
                failed = None
                if needs_rehash(compte.mot_de_passe, self.securite):
                    compte.mot_de_passe = hash_password(mot_de_passe, self.securite)
                compte.echecs = 0
                compte.verrouille_jusqu_a = None
                token, hashed = new_token()
                expires = now + self.securite.session_ttl
                s.add(SessionOuverte(jeton_hash=hashed, compte_id=compte.id, cree_le=now,
                                     expire_le=expires))
                self._audit(s, self._principal_of(compte), "connexion", "compte", compte.id)
                result = Connexion(token, self.compte_vue(compte), expires)
        if failed is not None:
            raise failed  # after the commit: the failure count must be kept
        return result

    def deconnexion(self, jeton: str) -> None:
        with self.db.write() as s:
            s.execute(delete(SessionOuverte).where(SessionOuverte.jeton_hash == token_hash(jeton)))

    def moi(self, jeton: str) -> CompteVue:
        with self.db.read() as s:
            p = self._principal(s, jeton)
            return self.compte_vue(s.get(Compte, p.compte_id))

    # ------------------------------------------------------------------ declarations

    @staticmethod
    def _cible_declaration(d: Declaration) -> Cible:
        return Cible(
            proprietaire=d.compte_id,
            departements=frozenset({d.departement}),
            region=d.region,
            consentement_coordinateur=bool(d.consentement_contacts_coordinateur),
        )

    def _vue_declaration(self, s: Session, p: Principal, d: Declaration,
                         contacts: bool) -> DeclarationVue:
        from matching.registry.policy import autorise

        show = contacts and d.contact_email is not None and autorise(
            p, Action.LIRE_CONTACT, self._cible_declaration(d))
        return DeclarationVue(
            id=d.id, statut=d.statut, finess_ej=d.finess_ej,
            raison_sociale_ej=d.raison_sociale_ej, departement=d.departement, region=d.region,
            esms=tuple(EsmsVue(e.finess_et, e.raison_sociale, e.champ, e.commune,
                               e.departement, e.lon, e.lat) for e in d.esms),
            dui_editeur=d.dui_editeur, dui_statut=d.dui_statut, editeur_segur=d.editeur_segur,
            distance_max_km=d.distance_max_km, champs_acceptes=tuple(d.champs_acceptes or ()),
            partenaires_souhaites=tuple(d.partenaires_souhaites or ()),
            partenaires_refuses=tuple(d.partenaires_refuses or ()), porteur=d.porteur,
            consentement_contacts_coordinateur=d.consentement_contacts_coordinateur,
            conservation_mois=d.conservation_mois, modifie_le=d.modifie_le, version=d.version,
            contact=Contact(d.contact_nom or "", d.contact_email or "",
                            d.contact_telephone or "") if show else None,
            texte_libre=d.texte_libre if show else None,
        )  # fmt: skip

    def _fill(self, d: Declaration, v: DeclarationValide) -> None:
        x = v.saisie
        d.finess_ej = x.finess_ej
        d.raison_sociale_ej = x.raison_sociale_ej
        d.departement, d.region = v.departement, v.region
        d.dui_editeur, d.dui_statut, d.editeur_segur = x.dui_editeur, x.dui_statut, x.editeur_segur
        d.distance_max_km = x.distance_max_km
        d.champs_acceptes = list(x.champs_acceptes)
        d.partenaires_souhaites = list(x.partenaires_souhaites)
        d.partenaires_refuses = list(x.partenaires_refuses)
        d.porteur = x.porteur
        d.contact_nom, d.contact_email = x.contact_nom, x.contact_email
        d.contact_telephone, d.texte_libre = x.contact_telephone, x.texte_libre
        d.consentement = True
        d.consentement_contacts_coordinateur = bool(x.consentement_contacts_coordinateur)
        d.consentement_le = self.clock()
        d.consentement_version = CONSENT_VERSION
        d.conservation_mois = self.conservation.mois
        d.modifie_le = self.clock()
        d.esms = [DeclarationEsms(
            finess_et=e.finess_et, raison_sociale=e.raison_sociale, champ=e.champ,
            categorie=e.categorie, commune=e.commune, departement=e.departement,
            region=e.region, lon=e.lon, lat=e.lat) for e in v.esms]

    def declarer(self, jeton: str, saisie: DeclarationSaisie) -> DeclarationVue:
        """A déclarant records a declaration (one transaction; checked first)."""
        with self.db.read() as s:
            exiger(self._principal(s, jeton), Action.DECLARER)
        valide = valider(saisie, self.finess_table())
        with self.db.write() as s:
            p = self._principal(s, jeton)
            exiger(p, Action.DECLARER)
            d = Declaration(compte_id=p.compte_id, saisie_par=p.compte_id, statut="active",
                            cree_le=self.clock())
            self._fill(d, valide)
            s.add(d)
            s.flush()
            self._audit(s, p, "declaration_creation", "declaration", d.id)
            return self._vue_declaration(s, p, d, contacts=True)

    def mes_declarations(self, jeton: str) -> list[DeclarationVue]:
        with self.db.write() as s:
            p = self._principal(s, jeton)
            rows = s.scalars(select(Declaration).where(Declaration.compte_id == p.compte_id)
                             .order_by(Declaration.id)).all()
            out = []
            for d in rows:
                exiger(p, Action.LIRE_DECLARATION, self._cible_declaration(d))
                out.append(self._vue_declaration(s, p, d, contacts=True))
            if any(v.contact for v in out):
                self._audit(s, p, "lecture_contact", "declaration",
                            ",".join(str(v.id) for v in out if v.contact))
            return out

    def lire_declaration(self, jeton: str, declaration_id: int) -> DeclarationVue:
        with self.db.write() as s:
            p = self._principal(s, jeton)
            d = s.get(Declaration, int(declaration_id))
            if d is None:
                raise AccesRefuse
            exiger(p, Action.LIRE_DECLARATION, self._cible_declaration(d))
            vue = self._vue_declaration(s, p, d, contacts=True)
            if vue.contact is not None:
                self._audit(s, p, "lecture_contact", "declaration", d.id)
            return vue

    def modifier_declaration(self, jeton: str, declaration_id: int, saisie: DeclarationSaisie,
                             version: int) -> DeclarationVue:
        valide = valider(saisie, self.finess_table())

        def run(s: Session) -> DeclarationVue:
            p = self._principal(s, jeton)
            d = s.get(Declaration, int(declaration_id))
            if d is None:
                raise AccesRefuse
            exiger(p, Action.MODIFIER_DECLARATION, self._cible_declaration(d))
            if d.statut != "active":
                raise RegistreError("déclaration retirée : elle ne peut plus être modifiée")
            self._check_version(d, version, "la déclaration")
            self._fill(d, valide)
            s.flush()
            self._audit(s, p, "declaration_modification", "declaration", d.id)
            return self._vue_declaration(s, p, d, contacts=True)

        return self._commit_versioned(run, "la déclaration")

    def retirer_declaration(self, jeton: str, declaration_id: int) -> None:
        """Withdraw: erase the personal data, cancel open invitations (one transaction).

        The audit log records only that the withdrawal happened.
        """

        def run(s: Session) -> None:
            p = self._principal(s, jeton)
            d = s.get(Declaration, int(declaration_id))
            if d is None:
                raise AccesRefuse
            exiger(p, Action.RETIRER_DECLARATION, self._cible_declaration(d))
            self._erase(s, d, "retiree")
            self._audit(s, p, "declaration_retrait", "declaration", d.id)

        self._commit_versioned(run, "la déclaration")

    def _erase(self, s: Session, d: Declaration, statut: str) -> None:
        now = self.clock()
        d.contact_nom = d.contact_email = d.contact_telephone = d.texte_libre = None
        d.statut = statut
        d.effacee_le = now
        if statut == "retiree":
            d.retiree_le = now
        invitations = s.scalars(select(Invitation).where(
            Invitation.declaration_id == d.id)).all()
        for inv in invitations:
            if inv.statut in ("en_attente", "acceptee"):
                inv.statut = "annulee"
                inv.repondue_le = now
        grappe_ids = {m.grappe_id for m in s.scalars(
            select(GrappeMembre).where(GrappeMembre.declaration_id == d.id))}
        for gid in sorted(grappe_ids):
            g = s.get(GrappeProposee, gid)
            if g is not None and g.statut != "incomplete":
                g.statut = "incomplete"

    def declarations(self, jeton: str, territoire: Sequence[str],
                     actives: bool = True) -> list[DeclarationVue]:
        """Declarations of a territory (coordinateur, ARS); contacts per the policy."""
        deps, _ = parse_territoire(territoire)
        with self.db.write() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.LISTER_DECLARATIONS, deps)
            q = select(Declaration).where(Declaration.departement.in_(sorted(deps)))
            if actives:
                q = q.where(Declaration.statut == "active")
            out = []
            for d in s.scalars(q.order_by(Declaration.id)):
                exiger(p, Action.LIRE_DECLARATION, self._cible_declaration(d))
                out.append(self._vue_declaration(s, p, d, contacts=True))
            shown = [str(v.id) for v in out if v.contact]
            if shown:
                self._audit(s, p, "lecture_contact", "declaration", f"n={len(shown)}",
                            ",".join(shown))
            return out

    def importer_csv(self, jeton: str, data: bytes,
                     territoire: Sequence[str] | None = None) -> ImportRapport:
        """Import a spreadsheet of declarations (``import_csv``): every row loaded or
        rejected with its line, field and reason; the loaded ones in ONE transaction.

        A coordinateur imports into their territory (rows elsewhere are rejected); an
        admin anywhere, or within ``territoire`` when given.
        """
        from matching.registry import import_csv as imp

        with self.db.read() as s:
            p = self._principal(s, jeton)
            if territoire:
                deps, _ = parse_territoire(territoire)
            elif p.role == "coordinateur":
                deps = p.departements
            else:
                deps = frozenset()
            if deps:
                self._exiger_territoire(p, Action.IMPORTER, deps)
            else:
                exiger(p, Action.IMPORTER)
        groups, rejets, n = imp.read_rows(data)
        rapport = ImportRapport(rejets=list(rejets), lignes=n)
        finess = self.finess_table()
        ready: list[tuple[imp.Groupe, DeclarationValide]] = []
        for g in groups:
            saisie, problems = imp.to_saisie(g)
            if saisie is not None:
                try:
                    valide = valider(saisie, finess)
                except SaisieInvalide as exc:
                    problems = [imp.Rejet(imp.line_of(g, f), imp.field_name(f), reason)
                                for f, reason in exc.erreurs]
                else:
                    if deps and valide.departement not in deps:
                        problems = [imp.Rejet(g.lignes[0][0], "commune",
                                              f"hors du territoire importé "
                                              f"(département {valide.departement})")]
                    else:
                        ready.append((g, valide))
            if problems:
                lines = {x.ligne for x in problems}
                rapport.rejets += problems
                rapport.rejets += [imp.Rejet(line, "ligne", "rejetée avec son OG (même "
                                             "finess_ej, voir l'autre ligne)")
                                   for line, _ in g.lignes if line not in lines]
        with self.db.write() as s:
            p = self._principal(s, jeton)
            accounts = {c.email: c for c in s.scalars(select(Compte).where(Compte.email.in_(
                sorted({v.saisie.contact_email for _, v in ready}))))}
            for g, v in ready:
                owner = accounts.get(v.saisie.contact_email)
                if owner is not None and owner.role != "declarant":
                    rapport.rejets.append(imp.Rejet(g.lignes[0][0], "contact_email",
                                                    "adresse d'un compte qui n'est pas "
                                                    "déclarant"))
                    continue
                if owner is None:
                    owner = Compte(email=v.saisie.contact_email,
                                   nom=v.saisie.contact_nom[:200], role="declarant",
                                   mot_de_passe=None, actif=True, echecs=0,
                                   cree_le=self.clock())
                    s.add(owner)
                    s.flush()
                    accounts[owner.email] = owner
                    rapport.comptes_crees += 1
                d = Declaration(compte_id=owner.id, saisie_par=p.compte_id, statut="active",
                                cree_le=self.clock())
                self._fill(d, v)
                s.add(d)
                s.flush()
                rapport.chargees.append((g.lignes[0][0], d.id))
            self._audit(s, p, "import", "declaration", f"n={len(rapport.chargees)}",
                        f"lignes={n} rejets={len(rapport.rejets)}")
        rapport.rejets.sort(key=lambda x: (x.ligne, x.champ))
        return rapport

    @staticmethod
    def _exiger_territoire(p: Principal, action: Action, deps: frozenset[str]) -> None:
        regions = {adapters.region_of_departement(d) for d in deps}
        region = next(iter(regions)) if len(regions) == 1 else ""
        exiger(p, action, Cible(departements=deps, region=region))

    # ------------------------------------------------------------------ grappes

    def _cible_grappe(self, s: Session, g: GrappeProposee) -> Cible:
        owners = set()
        for m in g.membres:
            d = s.get(Declaration, m.declaration_id)
            if d is not None and d.compte_id is not None:
                owners.add(d.compte_id)
        return Cible(departements=frozenset(g.departements), region=g.region,
                     membres=frozenset(owners), tous_acceptes=self._all_accepted(g),
                     soumise_ars=g.soumise_ars)

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

    def _vue_grappe(self, s: Session, p: Principal, g: GrappeProposee,
                    contacts: bool = False) -> GrappeVue:
        from matching.registry.policy import autorise

        cible = self._cible_grappe(s, g)
        show = contacts and autorise(p, Action.LIRE_CONTACTS_GRAPPE, cible)
        membres = []
        for m in g.membres:
            d = s.get(Declaration, m.declaration_id)
            inv = self._invitation_of(g, m.declaration_id)
            contact = None
            if d is not None and d.contact_email is not None and (show or (
                    contacts and autorise(p, Action.LIRE_CONTACT, self._cible_declaration(d)))):
                contact = Contact(d.contact_nom or "", d.contact_email or "",
                                  d.contact_telephone or "")
            membres.append(MembreVue(m.declaration_id, m.finess_ej,
                                     d.raison_sociale_ej if d else "", tuple(m.esms),
                                     inv.statut if inv else "", contact))
        return GrappeVue(
            id=g.id, appariement_id=g.appariement_id, code=g.code, champ=g.champ,
            departements=tuple(g.departements), region=g.region, statut=g.statut,
            porteur_ej=g.porteur_ej, total=g.total,
            n_esms=sum(len(m.esms) for m in g.membres),
            regles_enfreintes=tuple(g.regles_enfreintes or ()),
            avertissements=tuple(g.avertissements or ()), membres=tuple(membres),
            soumise_ars=g.soumise_ars, version=g.version,
        )  # fmt: skip

    def _audit_contacts(self, s: Session, p: Principal, vues: Iterable[GrappeVue]) -> None:
        shown = sorted({m.declaration_id for v in vues for m in v.membres
                        if m.contact is not None})
        if shown:
            self._audit(s, p, "lecture_contact", "declaration", f"n={len(shown)}",
                        ",".join(map(str, shown)))

    def apparier(
        self,
        jeton: str,
        territoire: Sequence[str],
        avec_finess: bool = False,
        regles: str | None = None,
        seed: int = 0,
        time_limit: float = 10.0,
    ) -> AppariementVue:
        """Run the existing solver on the active declarations of a territory and store the
        proposal (grappes with their members, status « proposée »)."""
        deps, _ = parse_territoire(territoire)
        with self.db.read() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.APPARIER, deps)
            decls = list(s.scalars(select(Declaration).where(
                Declaration.departement.in_(sorted(deps)), Declaration.statut == "active")))
            entree = app_build.build_input(decls, self.finess_table() if avec_finess else None)
        if not len(entree.etab):
            raise RegistreError("aucune déclaration active dans ce territoire")
        rules_name = regles or adapters.default_rules()
        try:
            report = adapters.propose(entree.etab, rules_name, entree.together, entree.apart,
                                      seed=seed, time_limit=time_limit)
        except ValueError as exc:
            raise RegistreError(f"appariement impossible : {exc}") from exc
        by_id = {d.id: d for d in decls}
        with self.db.write() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.APPARIER, deps)
            unplaced = report.unplaced_frame()
            run = Appariement(
                cree_par=p.compte_id, cree_le=self.clock(), territoire=sorted(deps),
                regles=report.rules_name or rules_name,
                etablissements=app_build.snapshot(entree.etab),
                non_places=[{"finess_et": str(r.finess_et), "raison": str(r.reason)}
                            for r in unplaced.itertuples(index=False)],
            )
            s.add(run)
            s.flush()
            for g in report.grappes:
                decl_ids = sorted({entree.declaration_of[e] for e in g.esms})
                members = [by_id[i] for i in decl_ids]
                cost = report.costs.get(g.id)
                grappe = GrappeProposee(
                    appariement_id=run.id, code=g.id, champ=g.champ,
                    departements=sorted(set(g.departements)),
                    region=(g.regions[0] if g.regions else members[0].region),
                    statut="proposee",
                    porteur_ej=app_build.choose_porteur(
                        members, (cost.porteur if cost is not None else None) or g.porteur
                    ),
                    total=float(cost.total) if cost is not None else None,
                    regles_enfreintes=[],
                    avertissements=list(g.warnings)
                    + app_build.preference_warnings(members, g.champ),
                )
                grappe.membres = [GrappeMembre(
                    declaration_id=d.id, finess_ej=d.finess_ej,
                    esms=sorted(e for e in g.esms if entree.declaration_of[e] == d.id))
                    for d in members]
                s.add(grappe)
            s.flush()
            self._audit(s, p, "appariement", "appariement", run.id,
                        f"territoire={','.join(sorted(deps))} grappes={len(report.grappes)}")
            s.refresh(run)
            return AppariementVue(
                id=run.id, territoire=tuple(run.territoire), regles=run.regles,
                grappes=tuple(self._vue_grappe(s, p, g) for g in run.grappes),
                non_places=tuple((x["finess_et"], x["raison"]) for x in run.non_places),
                avertissements=tuple(entree.avertissements), version=run.version,
            )

    def grappes(self, jeton: str, territoire: Sequence[str],
                statuts: Sequence[str] | None = None) -> list[GrappeVue]:
        """Grappes of a territory (coordinateur: with contacts per consent; ARS: only
        constituted ones, contacts of those submitted to it)."""
        deps, _ = parse_territoire(territoire)
        with self.db.write() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.LISTER_DECLARATIONS, deps)
            out = []
            for g in s.scalars(select(GrappeProposee).order_by(GrappeProposee.id)):
                if not set(g.departements) <= deps:
                    continue
                if p.role == "ars" and g.statut != "constituee":
                    continue
                if statuts and g.statut not in statuts:
                    continue
                exiger(p, Action.LIRE_GRAPPE, self._cible_grappe(s, g))
                out.append(self._vue_grappe(s, p, g, contacts=True))
            self._audit_contacts(s, p, out)
            return out

    def _grappe(self, s: Session, p: Principal, grappe_id: int, action: Action) -> GrappeProposee:
        """The grappe, once the policy allows ``action`` on it; a missing grappe and a refusal
        give the same answer (a refusal reveals nothing)."""
        g = s.get(GrappeProposee, int(grappe_id))
        if g is None:
            raise AccesRefuse
        exiger(p, action, self._cible_grappe(s, g))
        return g

    def grappe(self, jeton: str, grappe_id: int) -> GrappeVue:
        with self.db.write() as s:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.LIRE_GRAPPE)
            vue = self._vue_grappe(s, p, g, contacts=True)
            self._audit_contacts(s, p, [vue])
            return vue

    def modifier_grappe(
        self,
        jeton: str,
        grappe_id: int,
        version: int,
        retirer: Sequence[int] = (),
        ajouter: Sequence[int] = (),
        porteur_ej: str | None = None,
    ) -> GrappeVue:
        """What-if edit of a proposed grappe: remove / add member declarations, change the
        porteur. The grappe is re-checked and re-costed with the existing what-if tools
        (``matching.scenarios.whatif``). Refused when the grappe changed since ``version``."""

        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.MODIFIER_GRAPPE)
            self._check_version(g, version, f"la grappe {g.code}")
            if g.statut != "proposee":
                raise RegistreError(f"grappe {g.code} déjà {g.statut.replace('_', ' ')} : "
                                    "les invitations sont parties, elle n'est plus modifiable")
            gone = {int(x) for x in retirer}
            g.membres = [m for m in g.membres if m.declaration_id not in gone]
            for did in ajouter:
                d = s.get(Declaration, int(did))
                if d is None or d.statut != "active":
                    raise AccesRefuse
                exiger(p, Action.LIRE_DECLARATION, self._cible_declaration(d))
                if any(m.declaration_id == d.id for m in g.membres):
                    continue
                g.membres.append(GrappeMembre(declaration_id=d.id, finess_ej=d.finess_ej,
                                              esms=[e.finess_et for e in d.esms
                                                    if e.champ == g.champ]))
            if porteur_ej is not None:
                if porteur_ej not in {m.finess_ej for m in g.membres}:
                    raise SaisieInvalide([("porteur", f"{porteur_ej[:9]} n'est pas membre")])
                g.porteur_ej = porteur_ej
            self._reevaluate(s, g)
            flag_modified(g, "membres")
            g.statut = g.statut
            flag_modified(g, "statut")
            s.flush()
            self._audit(s, p, "grappe_modification", "grappe", g.id)
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    def _reevaluate(self, s: Session, g: GrappeProposee) -> None:
        """Re-check and re-cost ``g`` after an edit; the result is stored on the grappe."""
        evaluation = self._evaluate(s, g, persist=True)
        if evaluation is None:
            g.regles_enfreintes = ["grappe vide"]
            g.total = 0.0
            return
        g.regles_enfreintes = [v.message for v in evaluation.violations.get(g.code, [])]
        g.total = float(evaluation.costs[g.code].total)
        flag_modified(g, "regles_enfreintes")

    def _evaluate(self, s: Session, g: GrappeProposee, persist: bool = False):
        """The what-if evaluation (``matching.scenarios.whatif``) of ``g`` alone over its
        proposal's snapshot; None for an empty grappe. ESMS added since the matching join the
        snapshot (stored when ``persist``)."""
        run = s.get(Appariement, g.appariement_id)
        etab = app_build.from_snapshot(run.etablissements)
        members = [e for m in g.membres for e in m.esms]
        missing = sorted(set(members) - set(etab["finess_et"].astype(str)))
        if missing:
            extra = []
            for m in g.membres:
                d = s.get(Declaration, m.declaration_id)
                for e in d.esms:
                    if e.finess_et in missing:
                        extra.append({"finess_et": e.finess_et, "finess_ej": d.finess_ej,
                                      "raison_sociale": e.raison_sociale, "champ": e.champ,
                                      "commune": e.commune, "departement": e.departement,
                                      "region": e.region, "lon": e.lon, "lat": e.lat,
                                      "dui_editeur": d.dui_editeur, "dui_statut": d.dui_statut})
            etab = adapters.etab_table(app_build.snapshot(etab) + extra)
            if persist:
                run.etablissements = app_build.snapshot(etab)
                flag_modified(run, "etablissements")
        if not members:
            return None
        grappe = adapters.Grappe(id=g.code, champ=g.champ,
                                 og=sorted({m.finess_ej for m in g.membres}), esms=members,
                                 porteur=g.porteur_ej or None)
        return adapters.whatif(etab, run.regles, [grappe]).evaluate()

    def evaluer_grappe(self, jeton: str, grappe_id: int) -> EvaluationGrappe:
        """The coordinator's what-if reading of a grappe: validity, broken rules (codes and
        French messages), amount and grid points, computed now from its current members."""
        with self.db.read() as s:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.MODIFIER_GRAPPE)
            evaluation = self._evaluate(s, g)
            if evaluation is None:
                return EvaluationGrappe(g.id, g.code, False, (("vide", "grappe vide"),), 0.0,
                                        0, 0, g.porteur_ej, g.version)
            cost = evaluation.costs[g.code]
            regles = tuple((v.code, v.message) for v in evaluation.violations.get(g.code, []))
            return EvaluationGrappe(g.id, g.code, not regles, regles, float(cost.total),
                                    int(cost.score.total), int(cost.score.max), g.porteur_ej,
                                    g.version)

    def inviter(self, jeton: str, grappe_id: int, version: int) -> GrappeVue:
        """Send one invitation per member of a proposed grappe."""

        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.INVITER)
            self._check_version(g, version, f"la grappe {g.code}")
            if g.statut != "proposee":
                raise RegistreError(f"invitations déjà envoyées pour la grappe {g.code}")
            for m in g.membres:
                s.add(Invitation(grappe_id=g.id, declaration_id=m.declaration_id,
                                 statut="en_attente", origine="coordinateur",
                                 envoyee_le=self.clock()))
            g.statut = "invitations_envoyees"
            s.flush()
            s.refresh(g)
            self._audit(s, p, "invitation_envoi", "grappe", g.id, f"n={len(g.membres)}")
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    def mes_invitations(self, jeton: str) -> list[InvitationVue]:
        """Invitations addressed to the caller's declarations, with the other members'
        contacts once every member has accepted."""
        with self.db.read() as s:  # a read: 50 déclarants reading do not queue on SQLite
            p = self._principal(s, jeton)
            rows = s.execute(
                select(Invitation, Declaration)
                .join(Declaration, Declaration.id == Invitation.declaration_id)
                .where(Declaration.compte_id == p.compte_id)
                .order_by(Invitation.id)
            ).all()
            grappe_ids = sorted({inv.grappe_id for inv, _ in rows})
            grappes = {g.id: g for g in s.scalars(select(GrappeProposee).where(
                GrappeProposee.id.in_(grappe_ids)))} if grappe_ids else {}
            member_ids = sorted({m.declaration_id for g in grappes.values() for m in g.membres})
            # one query fills the identity map for the views below (kept referenced: the
            # identity map only holds weak references)
            warm = s.scalars(select(Declaration).where(Declaration.id.in_(member_ids))).all() \
                if member_ids else []
            views: dict[int, GrappeVue] = {}
            out = []
            for inv, d in rows:
                exiger(p, Action.REPONDRE_INVITATION, Cible(proprietaire=d.compte_id))
                if inv.grappe_id not in views:
                    views[inv.grappe_id] = self._vue_grappe(s, p, grappes[inv.grappe_id],
                                                            contacts=True)
                out.append(InvitationVue(inv.id, inv.declaration_id, inv.statut, inv.origine,
                                         inv.envoyee_le, views[inv.grappe_id]))
            del warm
        if any(m.contact is not None for v in views.values() for m in v.membres):
            with self.db.write() as s:
                self._audit_contacts(s, p, views.values())
        return out

    def repondre(self, jeton: str, invitation_id: int, accepte: bool,
                 tentatives: int = 20) -> InvitationVue:
        """Accept or decline. Concurrent answers to the same grappe are serialised by the
        grappe's version (retried here: no answer is lost, the grappe's state is exact)."""
        for attempt in range(tentatives):
            try:
                with self.db.write() as s:
                    return self._repondre(s, jeton, int(invitation_id), bool(accepte))
            except StaleDataError:
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise ConflitVersion("trop de réponses simultanées sur cette grappe : réessayez")

    def _repondre(self, s: Session, jeton: str, invitation_id: int, accepte: bool):
        p = self._principal(s, jeton)
        inv = s.get(Invitation, invitation_id)
        d = s.get(Declaration, inv.declaration_id) if inv is not None else None
        if inv is None or d is None:
            raise AccesRefuse
        exiger(p, Action.REPONDRE_INVITATION, Cible(proprietaire=d.compte_id))
        if inv.statut not in ("en_attente", "acceptee", "declinee") or d.statut != "active":
            raise RegistreError("invitation annulée : la grappe a changé")
        # answers to one grappe queue on its row (FOR UPDATE on PostgreSQL; SQLite writers
        # are serialised by BEGIN IMMEDIATE); the version column still guards the rest
        g = s.get(GrappeProposee, inv.grappe_id, with_for_update=not self.db.is_sqlite)
        if g.statut in ("constituee", "incomplete"):
            raise RegistreError(f"grappe {g.code} déjà {g.statut} : réponse impossible")
        inv.statut = "acceptee" if accepte else "declinee"
        inv.repondue_le = self.clock()
        s.flush()
        s.refresh(g)
        states = [self._invitation_of(g, m.declaration_id) for m in g.membres]
        if any(i is not None and i.statut == "declinee" for i in states):
            g.statut = "declinee"
        elif all(i is not None and i.statut == "acceptee" for i in states):
            g.statut = "acceptee"
        else:
            g.statut = "invitations_envoyees"
        flag_modified(g, "statut")  # always bump the grappe's version: serialises answers
        s.flush()
        self._audit(s, p, "invitation_reponse", "invitation", inv.id,
                    "acceptee" if accepte else "declinee")
        vue = self._vue_grappe(s, p, g, contacts=True)
        self._audit_contacts(s, p, [vue])
        return InvitationVue(inv.id, inv.declaration_id, inv.statut, inv.origine,
                             inv.envoyee_le, vue)

    def constituer(self, jeton: str, grappe_id: int, version: int) -> GrappeVue:
        """Mark a grappe « constituée » (every member accepted)."""

        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.CONSTITUER)
            self._check_version(g, version, f"la grappe {g.code}")
            if g.statut != "acceptee" or not self._all_accepted(g):
                raise RegistreError(f"grappe {g.code} : tous les membres n'ont pas accepté "
                                    f"(état {g.statut.replace('_', ' ')})")
            g.statut = "constituee"
            g.constituee_le = self.clock()
            s.flush()
            self._audit(s, p, "grappe_constitution", "grappe", g.id)
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    def soumettre_ars(self, jeton: str, grappe_id: int, version: int) -> GrappeVue:
        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.SOUMETTRE_ARS)
            self._check_version(g, version, f"la grappe {g.code}")
            if g.statut != "constituee":
                raise RegistreError(f"grappe {g.code} pas encore constituée")
            g.soumise_ars = True
            s.flush()
            self._audit(s, p, "grappe_soumission_ars", "grappe", g.id)
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    # ------------------------------------------------------------------ ARS

    def agregats(self, jeton: str, territoire: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Counts without personal data: declarations and ESMS by département and field,
        grappes by state, and the points of the map (one per declared ESMS)."""
        deps, _ = parse_territoire(territoire)
        with self.db.read() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.AGREGATS, deps)
            rows = s.execute(
                select(Declaration.id, Declaration.departement, DeclarationEsms.finess_et,
                       DeclarationEsms.champ, DeclarationEsms.lon, DeclarationEsms.lat)
                .join(DeclarationEsms, DeclarationEsms.declaration_id == Declaration.id)
                .where(Declaration.departement.in_(sorted(deps)), Declaration.statut == "active")
            ).all()
            esms = pd.DataFrame(rows, columns=["declaration", "departement", "finess_et",
                                               "champ", "lon", "lat"])
            grappes = [(g.id, g.code, g.statut, g.champ, ",".join(g.departements),
                        sum(len(m.esms) for m in g.membres), g.total)
                       for g in s.scalars(select(GrappeProposee)) if set(g.departements) <= deps]
        par_dep = (esms.groupby(["departement", "champ"])
                   .agg(declarations=("declaration", "nunique"), esms=("finess_et", "count"))
                   .reset_index()) if len(esms) else pd.DataFrame(
                       columns=["departement", "champ", "declarations", "esms"])
        gframe = pd.DataFrame(grappes, columns=["id", "grappe", "statut", "champ",
                                                "departements", "n_esms", "total"])
        placed = set()
        with self.db.read() as s:
            for g in s.scalars(select(GrappeProposee).where(
                    GrappeProposee.statut.in_(["constituee", "acceptee",
                                               "invitations_envoyees"]))):
                for m in g.membres:
                    placed.update(m.esms)
        esms["en_grappe"] = esms["finess_et"].isin(placed)
        return {"par_departement": par_dep, "grappes": gframe,
                "carte": esms[["finess_et", "champ", "departement", "lon", "lat", "en_grappe"]]}

    def suggerer_partenaires(self, jeton: str, declaration_id: int,
                             top: int = 5) -> list[Suggestion]:
        """ARS: partners for an isolated declared ESMS, ranked by the existing partner
        finder (``matching.scenarios.partners``) over the latest proposal of its territory."""
        with self.db.read() as s:
            p = self._principal(s, jeton)
            d = s.get(Declaration, int(declaration_id))
            if d is None or d.statut != "active":
                raise AccesRefuse
            exiger(p, Action.SUGGERER_PARTENAIRES, self._cible_declaration(d))
            _run, scenario, code_to_id = self._scenario_for(s, d)
            et = d.esms[0].finess_et
        report = adapters.find_partners(scenario, et, top=top)
        out = []
        for o in report.options:
            if o.type != "grappe":
                continue
            out.append(Suggestion(o.rang, code_to_id.get(o.cible), o.libelle,
                                  float(o.distance_km), bool(o.valide_apres),
                                  f"{o.libelle} à {o.distance_km:.0f} km, "
                                  f"{o.n_esms_apres} ESMS après, "
                                  f"{'valide' if o.valide_apres else 'non valide'}"))
        return out

    def _scenario_for(self, s: Session, d: Declaration):
        runs = [r for r in s.scalars(select(Appariement).order_by(Appariement.id.desc()))
                if d.departement in r.territoire]
        if not runs:
            raise RegistreError("aucun appariement dans ce territoire : lancer d'abord "
                                "l'appariement")
        run = runs[0]
        etab = app_build.from_snapshot(run.etablissements)
        known = set(etab["finess_et"].astype(str))
        extra = [{"finess_et": e.finess_et, "finess_ej": d.finess_ej,
                  "raison_sociale": e.raison_sociale, "champ": e.champ, "commune": e.commune,
                  "departement": e.departement, "region": e.region, "lon": e.lon, "lat": e.lat,
                  "dui_editeur": d.dui_editeur, "dui_statut": d.dui_statut}
                 for e in d.esms if e.finess_et not in known]
        if extra:
            etab = adapters.etab_table(app_build.snapshot(etab) + extra)
        grappes = [adapters.Grappe(id=g.code, champ=g.champ,
                                   og=sorted({m.finess_ej for m in g.membres}),
                                   esms=[e for m in g.membres for e in m.esms],
                                   porteur=g.porteur_ej or None)
                   for g in run.grappes if g.membres and g.statut not in ("incomplete",)]
        scenario = adapters.whatif(etab, run.regles, grappes)
        return run, scenario, {g.code: g.id for g in run.grappes}

    def inviter_suggestion(self, jeton: str, declaration_id: int, grappe_id: int) -> GrappeVue:
        """ARS: invite an isolated declaration to join a grappe (the grappe's members are
        unchanged until it accepts; the grappe then waits for its answer)."""

        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            d = s.get(Declaration, int(declaration_id))
            g = s.get(GrappeProposee, int(grappe_id))
            if d is None or g is None or d.statut != "active":
                raise AccesRefuse
            exiger(p, Action.SUGGERER_PARTENAIRES, self._cible_declaration(d))
            exiger(p, Action.SUGGERER_PARTENAIRES, self._cible_grappe(s, g))
            if g.statut in ("constituee", "incomplete"):
                raise RegistreError(f"grappe {g.code} déjà {g.statut}")
            if any(m.declaration_id == d.id for m in g.membres):
                raise RegistreError("déjà membre de cette grappe")
            g.membres.append(GrappeMembre(declaration_id=d.id, finess_ej=d.finess_ej,
                                          esms=[e.finess_et for e in d.esms]))
            s.add(Invitation(grappe_id=g.id, declaration_id=d.id, statut="en_attente",
                             origine="ars", envoyee_le=self.clock()))
            if g.statut in ("proposee", "acceptee"):
                g.statut = "invitations_envoyees" if g.statut == "acceptee" else g.statut
            flag_modified(g, "statut")
            s.flush()
            s.refresh(g)
            self._reevaluate(s, g)
            self._audit(s, p, "invitation_suggestion", "grappe", g.id, f"declaration={d.id}")
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    # ------------------------------------------------------------------ exports

    def exporter(self, jeton: str, territoire: Sequence[str], dossier: str | Path) -> list[Path]:
        """Write the constituted grappes of a territory: the existing dossier exports
        (CSV + XLSX, one folder per proposal) and ``contacts.csv`` with the contacts the
        caller may see (withdrawn declarations have none left)."""
        deps, _ = parse_territoire(territoire)
        folder = Path(dossier)
        with self.db.write() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.EXPORTER, deps)
            by_run: dict[int, list[GrappeProposee]] = {}
            vues: list[GrappeVue] = []
            for g in s.scalars(select(GrappeProposee).where(
                    GrappeProposee.statut == "constituee").order_by(GrappeProposee.id)):
                if not set(g.departements) <= deps:
                    continue
                exiger(p, Action.EXPORTER, self._cible_grappe(s, g))
                by_run.setdefault(g.appariement_id, []).append(g)
                vues.append(self._vue_grappe(s, p, g, contacts=True))
            scenarios = []
            for run_id, gs in sorted(by_run.items()):
                run = s.get(Appariement, run_id)
                etab = app_build.from_snapshot(run.etablissements)
                grappes = [adapters.Grappe(id=g.code, champ=g.champ,
                                           og=sorted({m.finess_ej for m in g.membres}),
                                           esms=[e for m in g.membres for e in m.esms],
                                           porteur=g.porteur_ej or None) for g in gs]
                scenarios.append((run_id, etab, run.regles, grappes))
            self._audit_contacts(s, p, vues)
            self._audit(s, p, "export", "grappe", f"n={len(vues)}")
        if not vues:
            raise RegistreError("aucune grappe constituée à exporter dans ce territoire")
        written: list[Path] = []
        for run_id, etab, regles, grappes in scenarios:
            scenario = adapters.whatif(etab, regles, grappes)
            written += adapters.write_dossier(scenario, folder / f"appariement-{run_id}")
        rows = [{
            "grappe": v.code, "champ": v.champ, "finess_ej": m.finess_ej,
            "raison_sociale_ej": m.raison_sociale_ej, "porteur": "oui" if
            m.finess_ej == v.porteur_ej else "non",
            "contact_nom": m.contact.nom if m.contact else "",
            "contact_email": m.contact.email if m.contact else "",
            "contact_telephone": m.contact.telephone if m.contact else "",
        } for v in vues for m in v.membres]  # fmt: skip
        written.append(adapters.write_csv(pd.DataFrame(rows), folder / "contacts.csv"))
        return written

    # ------------------------------------------------------------------ admin

    def journal(self, jeton: str, limite: int = 500) -> list[AuditVue]:
        with self.db.write() as s:
            p = self._principal(s, jeton)
            exiger(p, Action.LIRE_AUDIT)
            rows = s.scalars(select(Audit).order_by(Audit.id.desc()).limit(limite)).all()
            self._audit(s, p, "audit_lecture")
            return [AuditVue(a.le, a.compte_id, a.role, a.action, a.cible, a.cible_id, a.detail)
                    for a in rows]

    def purger(self, jeton: str) -> PurgeRapport:
        """RGPD retention: erase the personal data of declarations not changed for their
        retention period, drop expired sessions and old audit entries; say what went."""
        now = self.clock()
        with self.db.write() as s:
            p = self._principal(s, jeton)
            exiger(p, Action.PURGER)
            erased = []
            for d in s.scalars(select(Declaration).where(
                    Declaration.contact_email.is_not(None)).order_by(Declaration.id)):
                limit = d.modifie_le + timedelta(days=round(30.44 * d.conservation_mois))
                if limit <= now:
                    self._erase(s, d, "expiree")
                    erased.append(d.id)
            n_sessions = s.execute(delete(SessionOuverte).where(
                SessionOuverte.expire_le <= now)).rowcount
            cutoff = now - timedelta(days=round(30.44 * self.conservation.audit_mois))
            n_audit = s.execute(delete(Audit).where(Audit.le < cutoff)).rowcount
            self._audit(s, p, "purge", "declaration", f"n={len(erased)}",
                        ",".join(map(str, erased))[:2000])
            return PurgeRapport(tuple(erased), int(n_sessions or 0), int(n_audit or 0))
