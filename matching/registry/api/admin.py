"""Administration: the audit log and the RGPD retention purge.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from matching.registry.api.lecture import LectureMixin
from matching.registry.models import (
    Audit,
    Declaration,
    SessionOuverte,
)
from matching.registry.policy import Action, exiger
from matching.registry.vues import (
    AuditVue,
    PurgeRapport,
)


class AdminMixin(LectureMixin):
    """Administration: the audit log and the RGPD retention purge."""

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
