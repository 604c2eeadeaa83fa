"""Attachment of accounts to OGs (issue 18): a déclarant asks to speak for a FINESS EJ, a
coordinateur or the ARS of the EJ's territory approves or refuses; every step is audited.
The rules (attached, contested) live in ``grappes.registry.rattachement``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from grappes.registry import rattachement as rules
from grappes.registry.api.base import parse_territoire
from grappes.registry.api.lecture import LectureMixin
from grappes.registry.errors import AccesRefuse, RegistreError
from grappes.registry.models import Compte, Rattachement
from grappes.registry.policy import Action, Cible, Principal, exiger
from grappes.registry.vues import RattachementVue


class RattachementsMixin(LectureMixin):
    """Requests, decisions and the territory's list of claims (contested ones flagged)."""

    def _vues_rattachements(self, s: Session, rows: Sequence[Rattachement]
                            ) -> list[RattachementVue]:
        state = rules.etats(s, (r.finess_ej for r in rows))
        ids = sorted({r.compte_id for r in rows})
        emails = dict(s.execute(select(Compte.id, Compte.email)
                                .where(Compte.id.in_(ids))).all()) if ids else {}
        return [RattachementVue(
            r.id, r.compte_id, emails.get(r.compte_id, ""), r.finess_ej, r.departement,
            r.region, r.statut, r.origine, r.demande_le, r.decide_le,
            r.finess_ej in state and state[r.finess_ej].conteste) for r in rows]

    def demander_rattachement(self, jeton: str, finess_ej: str) -> RattachementVue:
        """A déclarant asks to speak for an OG. An approved claim is returned as it is; a
        refused one stays refused (a coordinator may approve it later)."""
        dep, region = rules.territoire_ej(finess_ej)
        ej = str(finess_ej).strip().upper()
        with self.db.write() as s:
            p = self._principal(s, jeton)
            exiger(p, Action.DEMANDER_RATTACHEMENT)
            row = s.scalar(select(Rattachement).where(Rattachement.compte_id == p.compte_id,
                                                      Rattachement.finess_ej == ej))
            if row is not None and row.statut == rules.REFUSE:
                raise RegistreError(f"demande de rattachement à l'OG {ej} déjà refusée : "
                                    "adressez-vous au coordinateur de votre territoire")
            if row is None:
                row = Rattachement(compte_id=p.compte_id, finess_ej=ej, departement=dep,
                                   region=region, statut=rules.DEMANDE, origine="demande",
                                   demande_le=self.clock())
                s.add(row)
            elif row.statut == rules.REVOQUE:
                row.statut, row.origine, row.demande_le = rules.DEMANDE, "demande", self.clock()
                row.decide_le = row.decide_par = None
            s.flush()
            self._audit(s, p, "rattachement_demande", "rattachement", row.id, f"ej={ej}")
            return self._vues_rattachements(s, [row])[0]

    def mes_rattachements(self, jeton: str) -> list[RattachementVue]:
        with self.db.read() as s:
            p = self._principal(s, jeton)
            rows = s.scalars(select(Rattachement).where(Rattachement.compte_id == p.compte_id)
                             .order_by(Rattachement.id)).all()
            return self._vues_rattachements(s, rows)

    def rattachements(self, jeton: str, territoire: Sequence[str],
                      statuts: Sequence[str] | None = None) -> list[RattachementVue]:
        """The claims on the OGs of a territory (coordinateur, ARS), contested ones flagged,
        with the claiming account's e-mail (the decider needs it: the reading is audited)."""
        deps, _ = parse_territoire(territoire)
        with self.db.write() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.LISTER_RATTACHEMENTS, deps)
            q = select(Rattachement).where(Rattachement.departement.in_(sorted(deps)))
            if statuts:
                q = q.where(Rattachement.statut.in_(list(statuts)))
            rows = s.scalars(q.order_by(Rattachement.finess_ej, Rattachement.id)).all()
            for r in rows:
                exiger(p, Action.LISTER_RATTACHEMENTS, self._cible_rattachement(r))
            if rows:
                self._audit(s, p, "rattachements_lecture", "rattachement", f"n={len(rows)}")
            return self._vues_rattachements(s, rows)

    @staticmethod
    def _cible_rattachement(r: Rattachement) -> Cible:
        return Cible(proprietaire=r.compte_id, departements=frozenset({r.departement}),
                     region=r.region)

    def decider_rattachement(self, jeton: str, rattachement_id: int,
                             approuve: bool) -> RattachementVue:
        """Approve or refuse a request; refusing an approved attachment revokes it."""
        with self.db.write() as s:
            p = self._principal(s, jeton)
            r = self._rattachement(s, p, rattachement_id)
            if approuve:
                if r.statut == rules.APPROUVE:
                    return self._vues_rattachements(s, [r])[0]
                r.statut = rules.APPROUVE
            else:
                if r.statut in (rules.REFUSE, rules.REVOQUE):
                    return self._vues_rattachements(s, [r])[0]
                r.statut = rules.REVOQUE if r.statut == rules.APPROUVE else rules.REFUSE
            r.decide_le, r.decide_par = self.clock(), p.compte_id
            s.flush()
            self._audit(s, p, f"rattachement_{r.statut}", "rattachement", r.id,
                        f"compte={r.compte_id} ej={r.finess_ej}")
            return self._vues_rattachements(s, [r])[0]

    def _rattachement(self, s: Session, p: Principal, rattachement_id: int) -> Rattachement:
        r = s.get(Rattachement, self._ident(rattachement_id))
        if r is None:
            raise AccesRefuse
        exiger(p, Action.DECIDER_RATTACHEMENT, self._cible_rattachement(r))
        return r
