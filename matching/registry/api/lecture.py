"""How the API shows what it stores: declaration and grappe views, each contact shown
only where the policy allows it, and the audit of the contacts shown.

Grappe views are built from a few column queries for any number of grappes
(``_vues_grappes``): no ORM object, no query per member.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matching.registry import rattachement
from matching.registry.api.base import RegistryBase
from matching.registry.models import (
    Declaration,
    GrappeMembre,
    GrappeProposee,
    Invitation,
)
from matching.registry.policy import Action, Cible, Principal, autorise, exiger
from matching.registry.vues import (
    Contact,
    DeclarationVue,
    EsmsVue,
    GrappeVue,
    MembreVue,
)


class LectureMixin(RegistryBase):
    """The views returned by every part of the API."""

    def _vue_declaration(self, s: Session, p: Principal, d: Declaration, contacts: bool,
                         etat: rattachement.EtatOg | bool | None = False) -> DeclarationVue:
        """``etat``: the claims on the OG when the caller already read them (``False``: read
        them here)."""
        if etat is False:
            etat = rattachement.etats(s, [d.finess_ej]).get(d.finess_ej)
        show = contacts and d.contact_email is not None and autorise(
            p, Action.LIRE_CONTACT, self._cible_declaration(d))
        motif = rattachement.motif_exclusion(etat, d.compte_id)
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
            parle=not motif, motif_exclusion=motif,
        )  # fmt: skip

    def _vues_grappes(self, s: Session, p: Principal, grappe_ids: Iterable[int],
                      contacts: bool = False,
                      action: Action | None = None) -> dict[int, GrappeVue]:
        """The views of many grappes in three column queries (grappes; members joined to
        their declaration's few shown columns; invitations), no ORM object loaded: a reading
        of « mes invitations » or of a territory's grappes no longer loads every declaration
        with its ESMS. With ``action``, the policy is asked for each grappe (``exiger``), on
        the same ``Cible`` as ``_cible_grappe`` builds."""
        ids = sorted({int(i) for i in grappe_ids})
        if not ids:
            return {}
        G, M, D, Inv = GrappeProposee, GrappeMembre, Declaration, Invitation
        # column queries run on the session's connection (Core rows, no ORM loading step;
        # no autoflush there either: pending changes are flushed first)
        s.flush()
        conn = s.connection()
        grappes = conn.execute(select(
            G.id, G.appariement_id, G.code, G.champ, G.departements, G.region, G.statut,
            G.porteur_ej, G.total, G.regles_enfreintes, G.avertissements, G.soumise_ars,
            G.version).where(G.id.in_(ids)).order_by(G.id)).all()
        membres: dict[int, list] = {}
        for row in conn.execute(select(
                M.grappe_id, M.declaration_id, M.finess_ej, M.esms, D.compte_id,
                D.raison_sociale_ej, D.departement, D.region,
                D.consentement_contacts_coordinateur, D.contact_nom, D.contact_email,
                D.contact_telephone)
                .join(D, D.id == M.declaration_id, isouter=True)
                .where(M.grappe_id.in_(ids)).order_by(M.id)):
            membres.setdefault(row.grappe_id, []).append(row)
        speaking = rattachement.parlent(
            s, {(m.declaration_id, m.compte_id, m.finess_ej) for ms in membres.values()
                for m in ms},
            select(M.finess_ej).where(M.grappe_id.in_(ids)))
        invitation: dict[tuple[int, int], str] = {}
        for gid, did, statut in conn.execute(select(Inv.grappe_id, Inv.declaration_id,
                                                    Inv.statut)
                                             .where(Inv.grappe_id.in_(ids)).order_by(Inv.id)):
            invitation[(gid, did)] = statut  # the latest invitation counts
        # one policy answer per distinct (owner, place, consent): members share them
        contact_ok: dict[tuple, bool] = {}

        def may_read_contact(m) -> bool:
            key = (m.compte_id, m.departement, m.region,
                   bool(m.consentement_contacts_coordinateur))
            if key not in contact_ok:
                contact_ok[key] = autorise(p, Action.LIRE_CONTACT, Cible(
                    proprietaire=key[0], departements=frozenset({key[1]}), region=key[2],
                    consentement_coordinateur=key[3]))
            return contact_ok[key]

        out: dict[int, GrappeVue] = {}
        for g in grappes:
            ms = membres.get(g.id, [])
            states = [invitation.get((g.id, m.declaration_id), "") for m in ms]
            cible = Cible(departements=frozenset(g.departements), region=g.region,
                          membres=frozenset(m.compte_id for m in ms if m.compte_id is not None),
                          tous_acceptes=bool(ms) and all(x == "acceptee" for x in states),
                          soumise_ars=g.soumise_ars,
                          rattache=bool(ms) and all(m.declaration_id in speaking for m in ms))
            if action is not None:
                exiger(p, action, cible)
            show = contacts and autorise(p, Action.LIRE_CONTACTS_GRAPPE, cible)
            vues = []
            for m, state in zip(ms, states, strict=True):
                contact = None
                if m.contact_email is not None and contacts and (show or may_read_contact(m)):
                    contact = Contact(m.contact_nom or "", m.contact_email or "",
                                      m.contact_telephone or "")
                vues.append(MembreVue(m.declaration_id, m.finess_ej, m.raison_sociale_ej or "",
                                      tuple(m.esms), state, contact,
                                      m.declaration_id in speaking))
            out[g.id] = GrappeVue(
                id=g.id, appariement_id=g.appariement_id, code=g.code, champ=g.champ,
                departements=tuple(g.departements), region=g.region, statut=g.statut,
                porteur_ej=g.porteur_ej, total=g.total,
                n_esms=sum(len(m.esms) for m in ms),
                regles_enfreintes=tuple(g.regles_enfreintes or ()),
                avertissements=tuple(g.avertissements or ()), membres=tuple(vues),
                soumise_ars=g.soumise_ars, version=g.version,
            )  # fmt: skip
        return out

    def _vue_grappe(self, s: Session, p: Principal, g: GrappeProposee,
                    contacts: bool = False) -> GrappeVue:
        """One grappe's view (pending changes flushed first: the view reads the database)."""
        s.flush()
        return self._vues_grappes(s, p, [g.id], contacts)[g.id]

    @staticmethod
    def _contacts_autrui(s: Session, p: Principal, declaration_ids: Iterable[int]) -> list[int]:
        """Of the declarations whose contact was shown, those that are not the reader's own:
        reading one's own contact is not audited (nothing to trace, and on SQLite every
        audit row is a write that queues behind all others); reading anyone else's is
        (issue 18)."""
        ids = sorted({int(i) for i in declaration_ids})
        if not ids:
            return []
        return sorted(s.scalars(select(Declaration.id).where(
            Declaration.id.in_(ids),
            or_(Declaration.compte_id.is_(None), Declaration.compte_id != p.compte_id))))

    @classmethod
    def _contacts_vus_autrui(cls, s: Session, p: Principal,
                             vues: Iterable[GrappeVue]) -> list[int]:
        """The declarations of other people whose contact ``vues`` show."""
        return cls._contacts_autrui(s, p, (m.declaration_id for v in vues for m in v.membres
                                           if m.contact is not None))

    def _audit_lecture_contacts(self, s: Session, p: Principal, ids: list[int]) -> None:
        if ids:
            self._audit(s, p, "lecture_contact", "declaration", f"n={len(ids)}",
                        ",".join(map(str, ids)))

    def _auditer_apres_lecture(self, p: Principal, ids: list[int]) -> None:
        """After a read transaction: audit the other people's contacts it showed, in a short
        write transaction, before the caller returns them (no write when there are none:
        reads do not queue behind writers on SQLite). If this write fails, the call fails
        and nothing is returned unaudited."""
        if ids:
            with self.db.write() as s:
                self._audit_lecture_contacts(s, p, ids)

    def _audit_contacts(self, s: Session, p: Principal, vues: Iterable[GrappeVue]) -> None:
        """Audit the contacts of other people that ``vues`` show (in the caller's write
        transaction)."""
        self._audit_lecture_contacts(s, p, self._contacts_vus_autrui(s, p, vues))
