"""Accounts, login and sessions (argon2 hashes, lock-out, expiry).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from matching.registry import adapters
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
from matching.registry.api.base import parse_territoire
from matching.registry.api.lecture import LectureMixin
from matching.registry.errors import (
    AccesRefuse,
    ConnexionRefusee,
    SaisieInvalide,
)
from matching.registry.models import (
    Compte,
    CompteTerritoire,
    SessionOuverte,
)
from matching.registry.policy import ROLES, Action, Principal, exiger
from matching.registry.vues import (
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
        check_password(mot_de_passe, self.securite)
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
