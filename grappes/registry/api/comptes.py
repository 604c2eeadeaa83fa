"""Accounts, login and sessions (argon2 hashes, lock-out, expiry).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from grappes.registry import adapters
from grappes.registry.accounts import (
    WRONG,
    check_email,
    check_password,
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from grappes.registry.api.base import parse_territoire
from grappes.registry.api.lecture import LectureMixin
from grappes.registry.errors import (
    AccesRefuse,
    ConflitEnregistrement,
    ConnexionRefusee,
    SaisieInvalide,
)
from grappes.registry.models import (
    Audit,
    Compte,
    CompteTerritoire,
    SessionOuverte,
)
from grappes.registry.policy import ROLES, Action, Principal, exiger
from grappes.registry.vues import (
    CompteVue,
    Connexion,
)


class ComptesMixin(LectureMixin):
    """Accounts, login and sessions (argon2 hashes, lock-out, expiry)."""

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
            check_password(mot_de_passe, self.securite, email)
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
        try:
            return self._creer_compte(jeton, email, role, hashed, deps, regions, nom)
        except ConflitEnregistrement as exc:  # a concurrent first admin, or the same e-mail
            if jeton is None:
                raise AccesRefuse from exc
            raise SaisieInvalide([("email", "un compte existe déjà avec cette adresse")]
                                 ) from exc

    def _creer_compte(self, jeton, email, role, hashed, deps, regions, nom) -> CompteVue:
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
                            mot_de_passe=hashed, actif=True, echecs=0, cree_le=self.clock(),
                            # unique: of two concurrent "first admins", one commits
                            premier_admin=True if jeton is None else None)
            explicit_deps = deps - {d for r in regions for d in adapters.departements_of_region(r)}
            compte.territoires = [CompteTerritoire(niveau="region", code=r)
                                  for r in sorted(regions)]
            compte.territoires += [CompteTerritoire(niveau="departement", code=d)
                                   for d in sorted(explicit_deps)]
            s.add(compte)
            s.flush()
            self._audit(s, p, "compte_creation", "compte", compte.id, f"role={role}")
            return self.compte_vue(compte)

    def _compte_gere(self, s: Session, jeton: str, email: str) -> tuple[Principal, Compte]:
        """The caller (an account manager, per the policy) and the account named by ``email``;
        an unknown account is refused like a refusal."""
        p = self._principal(s, jeton)
        exiger(p, Action.GERER_COMPTES)
        compte = s.scalar(select(Compte).where(Compte.email == check_email(email)))
        if compte is None:
            raise AccesRefuse
        return p, compte

    def definir_mot_de_passe(self, jeton: str, email: str, mot_de_passe: str) -> None:
        """Admin sets a password (activates an imported account, unlocks a locked one)."""
        check_password(mot_de_passe, self.securite, email)
        hashed = hash_password(mot_de_passe, self.securite)
        with self.db.write() as s:
            p, compte = self._compte_gere(s, jeton, email)
            compte.mot_de_passe = hashed
            compte.echecs = 0
            compte.verrouille_jusqu_a = None
            s.execute(delete(SessionOuverte).where(SessionOuverte.compte_id == compte.id))
            self._audit(s, p, "compte_mot_de_passe", "compte", compte.id)

    def desactiver_compte(self, jeton: str, email: str) -> None:
        with self.db.write() as s:
            p, compte = self._compte_gere(s, jeton, email)
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

        Unknown account, wrong password, locked or deactivated account: the same message
        and the same work (one argon2 check each). Each check first takes one of the
        ``max_failures`` slots of the account with ONE conditional ``UPDATE … SET echecs =
        echecs + 1 … RETURNING``, committed before the slow check: parallel attempts cannot
        check more passwords than the slots, on PostgreSQL as on SQLite. The last failure
        locks the account for ``securite.lockout``; a success gives the slots back.
        """
        key = str(email or "").strip().lower()
        now = self.clock()
        rules = self.securite
        with self.db.write() as s:
            compte_id = s.scalar(select(Compte.id).where(Compte.email == key,
                                                         Compte.actif.is_(True)))
            slot = None
            if compte_id is not None:
                slot = s.execute(
                    update(Compte)
                    .where(Compte.id == compte_id,
                           or_(Compte.verrouille_jusqu_a.is_(None),
                               Compte.verrouille_jusqu_a <= now),
                           Compte.echecs < rules.max_failures)
                    .values(echecs=Compte.echecs + 1)
                    .returning(Compte.echecs, Compte.mot_de_passe)
                    .execution_options(synchronize_session=False)).first()
        if slot is None:  # unknown, deactivated or locked: the same cost, the same answer
            verify_password(None, mot_de_passe, rules)
            raise ConnexionRefusee(WRONG)
        n, hashed = slot
        if not verify_password(hashed, mot_de_passe, rules):
            with self.db.write() as s:
                self._audit(s, None, "connexion_echec", "compte", compte_id)
                if n >= rules.max_failures:
                    s.execute(update(Compte).where(Compte.id == compte_id)
                              .values(verrouille_jusqu_a=now + rules.lockout, echecs=0)
                              .execution_options(synchronize_session=False))
                    self._audit(s, None, "compte_verrouillage", "compte", compte_id)
            raise ConnexionRefusee(WRONG)
        with self.db.write() as s:
            compte = s.get(Compte, compte_id)
            if needs_rehash(compte.mot_de_passe, rules):
                compte.mot_de_passe = hash_password(mot_de_passe, rules)
            compte.echecs = 0
            compte.verrouille_jusqu_a = None
            compte.derniere_connexion = now
            token, hashed_token = new_token()
            expires = now + rules.session_ttl
            s.add(SessionOuverte(jeton_hash=hashed_token, compte_id=compte.id, cree_le=now,
                                 expire_le=expires))
            self._audit(s, self._principal_of(compte), "connexion", "compte", compte.id)
            return Connexion(token, self.compte_vue(compte), expires)

    def changer_mot_de_passe(self, jeton: str, actuel: str, nouveau: str) -> None:
        """The account changes its own password (the current one is checked; every other
        session of the account is closed)."""
        with self.db.read() as s:
            p = self._principal(s, jeton)
            compte = s.get(Compte, p.compte_id)
            email, hashed = compte.email, compte.mot_de_passe
        if not verify_password(hashed, actuel, self.securite):
            raise ConnexionRefusee("mot de passe actuel incorrect")
        check_password(nouveau, self.securite, email)
        new_hash = hash_password(nouveau, self.securite)
        with self.db.write() as s:
            p = self._principal(s, jeton)
            compte = s.get(Compte, p.compte_id)
            compte.mot_de_passe = new_hash
            s.execute(delete(SessionOuverte).where(
                SessionOuverte.compte_id == compte.id,
                SessionOuverte.jeton_hash != token_hash(jeton)))
            self._audit(s, p, "compte_mot_de_passe_change", "compte", compte.id)

    def debloquer_compte(self, email: str) -> CompteVue:
        """Unlock an account from the server's shell (``grappes registre compte
        debloquer``): the recovery path of a locked admin. Whoever can run it can read the
        database anyway: local access is the authority; it is audited."""
        with self.db.write() as s:
            compte = s.scalar(select(Compte).where(Compte.email == check_email(email)))
            if compte is None:
                raise SaisieInvalide([("email", "aucun compte avec cette adresse")])
            compte.echecs = 0
            compte.verrouille_jusqu_a = None
            s.add(Audit(le=self.clock(), compte_id=None, role="console",
                        action="compte_deblocage", cible="compte", cible_id=str(compte.id)))
            return self.compte_vue(compte)

    def deconnexion(self, jeton: str) -> None:
        with self.db.write() as s:
            s.execute(delete(SessionOuverte).where(SessionOuverte.jeton_hash == token_hash(jeton)))

    def moi(self, jeton: str) -> CompteVue:
        with self.db.read() as s:
            p = self._principal(s, jeton)
            return self.compte_vue(s.get(Compte, p.compte_id))
