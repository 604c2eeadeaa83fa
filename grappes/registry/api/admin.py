"""Administration: the audit log and the RGPD retention purge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from grappes.registry import finess_source
from grappes.registry.api.lecture import LectureMixin
from grappes.registry.models import (
    Audit,
    Compte,
    Declaration,
    Rattachement,
    SessionOuverte,
)
from grappes.registry.policy import Action, exiger
from grappes.registry.vues import (
    AuditVue,
    PurgeRapport,
)

#: domain of an erased account's e-mail (reserved by RFC 2606: never a real address)
ANONYME = "compte.invalid"


class AdminMixin(LectureMixin):
    """Administration: the audit log and the RGPD retention purge."""

    def televerser_finess(self, jeton: str, nom: str, contenu: bytes) -> tuple[str, int]:
        """The admin's upload in the page: the same as ``registre init --finess FICHIER``,
        for a registry whose server the admin cannot reach (the file is kept in the
        registry's folder, ``config.dossier_fichiers``). Returns the stored path and the
        number of ESMS; an unreadable file changes nothing."""
        with self.db.read() as s:
            exiger(self._principal(s, jeton), Action.CONFIGURER_FINESS)
        valeur, n = finess_source.conserver(self.db, nom, contenu, self.clock())
        with self.db.write() as s:
            p = self._principal(s, jeton)
            finess_source.stocker(s, valeur, self.clock())
            self._audit(s, p, "parametre_finess", "parametre", "finess",
                        f"{n} ESMS, téléversé dans la page")
        return valeur, n

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
        retention period and of accounts no longer used (``Conservation``), drop expired
        sessions and old audit entries; then wipe what the database still holds of them
        (``Database.effacer_traces``: SQLite WAL checkpoint with ``secure_delete``;
        PostgreSQL ``VACUUM FULL`` of the touched tables). Says what went."""
        now = self.clock()
        keep = self.conservation
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
            s.flush()
            comptes = self._purger_comptes(s, now)
            n_sessions = s.execute(delete(SessionOuverte).where(
                SessionOuverte.expire_le <= now)).rowcount
            cutoff = now - timedelta(days=round(30.44 * keep.audit_mois))
            n_audit = s.execute(delete(Audit).where(Audit.le < cutoff)).rowcount
            self._audit(s, p, "purge", "declaration", f"n={len(erased)}",
                        f"declarations={','.join(map(str, erased))} "
                        f"comptes={','.join(map(str, comptes))}"[:2000])
        self.db.effacer_traces(["declarations", "comptes", "sessions", "rattachements"])
        return PurgeRapport(tuple(erased), int(n_sessions or 0), int(n_audit or 0),
                            tuple(comptes))

    def _purger_comptes(self, s: Session, now: datetime) -> list[int]:
        """Anonymise the accounts past their retention (``Conservation``): a déclarant never
        activated, 6 months after its creation; a déclarant unused, 24 months after its last
        login; a deactivated account, 24 months after its creation. A déclarant that still
        has an active declaration is kept. The row stays (ids in the audit log and the
        follow-up point to it); its e-mail, name, password, sessions and claims go."""
        keep = self.conservation

        def months(n: int) -> datetime:
            return now - timedelta(days=round(30.44 * n))

        active_owners = select(Declaration.compte_id).where(Declaration.statut == "active",
                                                            Declaration.compte_id.is_not(None))
        rows = s.scalars(select(Compte).where(
            Compte.email.not_like(f"%@{ANONYME}"),
            or_(
                and_(Compte.role == "declarant", Compte.mot_de_passe.is_(None),
                     Compte.cree_le <= months(keep.compte_non_active_mois)),
                and_(Compte.role == "declarant",
                     func.coalesce(Compte.derniere_connexion, Compte.cree_le)
                     <= months(keep.compte_mois)),
                and_(Compte.actif.is_(False), Compte.cree_le <= months(keep.compte_mois)),
            ),
            Compte.id.not_in(active_owners)).order_by(Compte.id)).all()
        for c in rows:
            c.email = f"efface-{c.id}@{ANONYME}"
            c.nom = ""
            c.mot_de_passe = None
            c.actif = False
            s.execute(delete(SessionOuverte).where(SessionOuverte.compte_id == c.id))
            s.execute(delete(Rattachement).where(Rattachement.compte_id == c.id))
        return [c.id for c in rows]
