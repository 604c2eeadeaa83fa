"""Grappes: matching, the coordinator's what-if edit, invitations and answers,
constitution and submission to the ARS.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import bindparam, join, select
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from grappes.registry import adapters, outbox, rattachement
from grappes.registry import appariement as app_build
from grappes.registry.accounts import token_hash
from grappes.registry.api.base import parse_territoire
from grappes.registry.api.lecture import LectureMixin
from grappes.registry.cache_vues import Cle
from grappes.registry.db import session_sans_ecriture
from grappes.registry.errors import (
    AccesRefuse,
    ConflitVersion,
    RegistreError,
    SaisieInvalide,
    SessionInvalide,
)
from grappes.registry.models import (
    Appariement,
    Compte,
    Declaration,
    GrappeMembre,
    GrappeProposee,
    Invitation,
    SessionOuverte,
)
from grappes.registry.policy import Action, Cible, Principal, exiger
from grappes.registry.vues import (
    AppariementVue,
    Contact,
    EvaluationGrappe,
    FicheInvitation,
    GrappeVue,
    InvitationVue,
    PartenaireVue,
)
from grappes.solver.settings import RERUN_TIME_LIMIT

#: « mes invitations » in one statement (built once; see ``mes_invitations``): the caller's
#: session, then, by an outer join (none: one row with NULLs), the invitations of its
#: declarations with their grappes' revisions and the declarations' own contacts
_MES_INVITATIONS = (
    select(SessionOuverte.expire_le, Compte.id, Compte.role, Compte.actif,
           Invitation.id.label("invitation_id"), Invitation.grappe_id,
           Invitation.declaration_id, Invitation.statut, Invitation.origine,
           Invitation.envoyee_le, Declaration.compte_id, Declaration.contact_nom,
           Declaration.contact_email, Declaration.contact_telephone, GrappeProposee.revision,
           GrappeProposee.revision_membres)
    .select_from(SessionOuverte)
    .join(Compte, Compte.id == SessionOuverte.compte_id)
    .outerjoin(join(Declaration, Invitation, Invitation.declaration_id == Declaration.id)
               .join(GrappeProposee, GrappeProposee.id == Invitation.grappe_id),
               Declaration.compte_id == Compte.id)
    .where(SessionOuverte.jeton_hash == bindparam("h"))
    .order_by(Invitation.id))

#: an answer's caller (its session), invitation and declaration (its ESMS not loaded), in
#: one statement: no such invitation gives NULL entities (outer joins)
_REPONSE = (
    select(SessionOuverte.expire_le, Compte.id, Compte.role, Compte.actif, Invitation,
           Declaration)
    .select_from(SessionOuverte)
    .join(Compte, Compte.id == SessionOuverte.compte_id)
    .outerjoin(Invitation, Invitation.id == bindparam("i"))
    .outerjoin(Declaration, Declaration.id == Invitation.declaration_id)
    .where(SessionOuverte.jeton_hash == bindparam("h"))
    .options(lazyload(Declaration.esms)))
#: each member of a grappe with its invitations' states (none: one row with NULL), ordered
#: by invitation (a member without any has a single row: its place does not matter)
_ETATS_MEMBRES = (
    select(GrappeMembre.declaration_id, Invitation.statut)
    .outerjoin(Invitation, (Invitation.grappe_id == GrappeMembre.grappe_id)
               & (Invitation.declaration_id == GrappeMembre.declaration_id))
    .where(GrappeMembre.grappe_id == bindparam("g"))
    .order_by(Invitation.id))


class GrappesMixin(LectureMixin):
    """Grappes: matching, the coordinator's what-if edit, invitations and answers,"""

    def apparier(
        self,
        jeton: str,
        territoire: Sequence[str],
        avec_finess: bool = False,
        regles: str | None = None,
        seed: int = 0,
        time_limit: float = RERUN_TIME_LIMIT,
    ) -> AppariementVue:
        """Run the existing solver on the active declarations of a territory and store the
        proposal (grappes with their members, status « proposée »)."""
        deps, _ = parse_territoire(territoire)
        with self.db.read() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.APPARIER, deps)
            found = list(s.scalars(select(Declaration).where(
                Declaration.departement.in_(sorted(deps)), Declaration.statut == "active")
                .order_by(Declaration.id)))
            # only declarations that speak for their OG are matched (issue 18)
            claims = rattachement.etats(s, (d.finess_ej for d in found))
            decls, left_out = [], []
            for d in found:
                why = rattachement.motif_exclusion(claims.get(d.finess_ej), d.compte_id)
                if why:
                    left_out.append(f"déclaration {d.id} (OG {d.finess_ej}) hors appariement : "
                                    f"{why}")
                else:
                    decls.append(d)
            entree = app_build.build_input(decls, self.finess_table() if avec_finess else None)
            entree.avertissements[:0] = left_out
        if not len(entree.etab):
            raise RegistreError("aucune déclaration active rattachée à son OG dans ce "
                                "territoire" + (f" ({len(left_out)} hors appariement : "
                                                "rattachement à régler)" if left_out else ""))
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
            codes = app_build.unique_codes([g.id for g in report.grappes],
                                           set(s.scalars(select(GrappeProposee.code))))
            for g in report.grappes:
                decl_ids = sorted({entree.declaration_of[e] for e in g.esms})
                members = [by_id[i] for i in decl_ids]
                cost = report.costs.get(g.id)
                grappe = GrappeProposee(
                    appariement_id=run.id, code=codes[g.id], champ=g.champ,
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
            vues = self._vues_grappes(s, p, [g.id for g in run.grappes])
            return AppariementVue(
                id=run.id, territoire=tuple(run.territoire), regles=run.regles,
                grappes=tuple(vues[g.id] for g in run.grappes),
                non_places=tuple((x["finess_et"], x["raison"]) for x in run.non_places),
                avertissements=tuple(entree.avertissements), version=run.version,
            )

    def grappes(self, jeton: str, territoire: Sequence[str],
                statuts: Sequence[str] | None = None) -> list[GrappeVue]:
        """Grappes of a territory (coordinateur: with contacts per consent; ARS: only
        constituted ones, contacts of those submitted to it)."""
        deps, _ = parse_territoire(territoire)
        with self.db.read() as s:  # a write only to audit other people's contacts
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.LISTER_DECLARATIONS, deps)
            G = GrappeProposee
            ids = [gid for gid, departements, statut in s.execute(
                       select(G.id, G.departements, G.statut).order_by(G.id))
                   if set(departements) <= deps
                   and not (p.role == "ars" and statut != "constituee")
                   and not (statuts and statut not in statuts)]
            vues, others = self._vues_et_autrui(s, p, ids, contacts=True,
                                                action=Action.LIRE_GRAPPE)
            out = [vues[gid] for gid in ids]
            others = self._auditer_dans_lecture(s, p, others)
        self._auditer_apres_lecture(p, others)
        return out

    def grappe(self, jeton: str, grappe_id: int) -> GrappeVue:
        with self.db.read() as s:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.LIRE_GRAPPE)
            vue = self._vue_grappe(s, p, g, contacts=True)
            others = self._auditer_dans_lecture(
                s, p, self._contacts_vus_autrui(s, p, [vue]))
        self._auditer_apres_lecture(p, others)
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
        (``grappes.scenarios.whatif``). Refused when the grappe changed since ``version``."""

        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.MODIFIER_GRAPPE, version)
            if g.statut not in ("proposee", "incomplete"):
                raise RegistreError(f"grappe {g.code} déjà {g.statut.replace('_', ' ')} : "
                                    "les invitations sont parties, elle n'est plus modifiable")
            gone = {int(x) for x in retirer}
            gone |= {m.declaration_id for m in g.membres
                     if s.get(Declaration, m.declaration_id).statut != "active"}
            g.membres = [m for m in g.membres if m.declaration_id not in gone]
            for did in ajouter:
                d = self._declaration(s, p, did, Action.LIRE_DECLARATION, active=True)
                if any(m.declaration_id == d.id for m in g.membres):
                    continue
                g.membres.append(GrappeMembre(declaration_id=d.id, finess_ej=d.finess_ej,
                                              esms=[e.finess_et for e in d.esms
                                                    if e.champ == g.champ]))
            if porteur_ej is None and g.membres and g.porteur_ej not in {
                    m.finess_ej for m in g.membres}:
                raise SaisieInvalide([("porteur", f"l'OG porteur {g.porteur_ej} est retiré de "
                                       "la grappe : choisissez un autre porteur parmi les "
                                       "membres")])
            if porteur_ej is not None:
                if porteur_ej not in {m.finess_ej for m in g.membres}:
                    raise SaisieInvalide([("porteur", f"{porteur_ej[:9]} n'est pas membre")])
                g.porteur_ej = porteur_ej
            self._reevaluate(s, g)
            flag_modified(g, "membres")
            g.statut = "proposee"  # a reopened grappe (a member withdrew) is proposed again
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
        """The what-if evaluation (``grappes.scenarios.whatif``) of ``g`` alone over its
        proposal's snapshot; None for an empty grappe. ESMS added since the matching join the
        snapshot (stored when ``persist``)."""
        return self._evaluate_on(s, g, persist)[0]

    def _snapshot(self, s: Session, appariement_id: int) -> tuple[pd.DataFrame, str]:
        """The establishments table a proposal's solver saw, and its rule set's name.

        Kept per process and proposal, tagged with the proposal's ``version`` (bumped by
        every write of its row, a persisted snapshot included): an invitation's facts
        (``fiche_invitation``) evaluated each grappe over a table rebuilt from the stored
        5,000-row JSON, after loading the proposal with all its grappes (measured on the
        page bench: most of the 0.6 s of each invitation card). A copy is returned: the
        callers may not change the kept table. Only a read transaction stores one (a
        write's own uncommitted snapshot could be rolled back, as in ``cache_vues``)."""
        version, regles = s.execute(select(Appariement.version, Appariement.regles)
                                    .where(Appariement.id == appariement_id)).one()
        with self._verrou_snapshots:
            kept = self._snapshots.get(appariement_id)
        if kept is None or kept[0] != version:
            rows = s.execute(select(Appariement.etablissements)
                             .where(Appariement.id == appariement_id)).scalar_one()
            kept = (version, app_build.from_snapshot(rows))
            if not session_sans_ecriture(s):
                return kept[1], regles
            with self._verrou_snapshots:
                self._snapshots[appariement_id] = kept
                while len(self._snapshots) > 8:  # a few proposals at a time are read
                    self._snapshots.pop(next(iter(self._snapshots)))
        return kept[1].copy(), regles

    def _evaluate_on(self, s: Session, g: GrappeProposee, persist: bool = False):
        """:meth:`_evaluate`, the establishments table and the loaded rule set it used."""
        if persist:  # the snapshot may be written: the proposal's row, not its grappes
            run = s.get(Appariement, g.appariement_id,
                        options=[lazyload(Appariement.grappes)])
            etab, regles = app_build.from_snapshot(run.etablissements), run.regles
        else:
            etab, regles = self._snapshot(s, g.appariement_id)
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
            return None, etab, None
        grappe = adapters.Grappe(id=g.code, champ=g.champ,
                                 og=sorted({m.finess_ej for m in g.membres}), esms=members,
                                 porteur=g.porteur_ej or None)
        scenario = adapters.whatif(etab, regles, [grappe])
        return scenario.evaluate(), etab, scenario.rules

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
            g = self._grappe(s, p, grappe_id, Action.INVITER, version)
            if g.statut != "proposee":
                raise RegistreError(f"invitations déjà envoyées pour la grappe {g.code}")
            self._exiger_membres_parlent(s, g)
            for m in g.membres:
                self._engager(s, g, m.declaration_id)
            for m in g.membres:
                s.add(Invitation(grappe_id=g.id, declaration_id=m.declaration_id,
                                 statut="en_attente", origine="coordinateur",
                                 envoyee_le=self.clock()))
            g.statut = "invitations_envoyees"
            s.flush()
            s.refresh(g)
            self._audit(s, p, "invitation_envoi", "grappe", g.id, f"n={len(g.membres)}")
            outbox.grappe_event(s, self.clock(), g, "invitation",
                                "Vous êtes invité à la rejoindre : acceptez ou déclinez.")
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    def _exiger_membres_parlent(self, s: Session, g: GrappeProposee) -> None:
        """Invitations go only to declarations that speak for their OG (issue 18)."""
        rows = s.execute(select(Declaration.id, Declaration.compte_id, Declaration.finess_ej)
                         .where(Declaration.id.in_([m.declaration_id for m in g.membres]))
                         ).all()
        claims = rattachement.etats(s, (r.finess_ej for r in rows))
        for r in rows:
            why = rattachement.motif_exclusion(claims.get(r.finess_ej), r.compte_id)
            if why:
                raise RegistreError(f"grappe {g.code} : l'OG {r.finess_ej} (déclaration {r.id})"
                                    f" ne peut pas être invité : {why}. Retirez-le de la "
                                    "grappe ou réglez son rattachement")

    def mes_invitations(self, jeton: str) -> list[InvitationVue]:
        """Invitations addressed to the caller's declarations, with the other members'
        contacts once every member has accepted."""
        if not jeton:
            raise SessionInvalide
        with self.db.read(autocommit=True) as s:  # a read: no queue on SQLite, no BEGIN on PG
            # one statement: the session, the invitations, their grappes' revisions (the
            # views' cache key, read before any member row) and the caller's own contacts
            found = s.connection().execute(_MES_INVITATIONS, {"h": token_hash(jeton)}).all()
            p = self._principal_de_session(s, found[0] if found else None)
            rows = [r for r in found if r.invitation_id is not None]
            for inv in rows:  # the caller's own declarations' invitations
                exiger(p, Action.LIRE_DECLARATION, Cible(proprietaire=inv.compte_id))
            own = {inv.declaration_id: Contact(inv.contact_nom or "", inv.contact_email,
                                               inv.contact_telephone or "")
                   if inv.contact_email is not None else None for inv in rows}
            views, others = self._vues_et_autrui(
                s, p, {inv.grappe_id for inv in rows}, contacts=True,
                revisions={inv.grappe_id: Cle(inv.revision, inv.revision_membres)
                           for inv in rows}, connus=own)
            out = [InvitationVue(inv.invitation_id, inv.declaration_id, inv.statut, inv.origine,
                                 inv.envoyee_le, views[inv.grappe_id]) for inv in rows]
            others = self._auditer_dans_lecture(s, p, others)
        self._auditer_apres_lecture(p, others)
        return out

    def fiche_invitation(self, jeton: str, invitation_id: int) -> FicheInvitation:
        """The facts an invited déclarant needs to answer: the partners with their names,
        ESMS and distance, the grappe's amount (and each OG's share, by the planner's rule), its
        grid points and validity, from the same what-if evaluation as ``evaluer_grappe``.
        Only the owner of the invited declaration may read it (no contact in it)."""
        with self.db.read() as s:
            p = self._principal(s, jeton)
            inv = s.get(Invitation, int(invitation_id))
            d = s.get(Declaration, inv.declaration_id) if inv is not None else None
            if inv is None or d is None:
                raise AccesRefuse()
            exiger(p, Action.LIRE_DECLARATION, Cible(proprietaire=d.compte_id))
            g = inv.grappe
            evaluation, etab, rules = self._evaluate_on(s, g)
            points: dict[str, list[tuple[float, float]]] = {}
            names: dict[str, str] = {}
            for m in g.membres:
                md = s.get(Declaration, m.declaration_id)
                names[m.finess_ej] = md.raison_sociale_ej if md is not None else ""
                coords = {e.finess_et: (e.lon, e.lat) for e in (md.esms if md else ())
                          if e.lon is not None and e.lat is not None}
                points.setdefault(m.finess_ej, []).extend(
                    coords[et] for et in m.esms if et in coords)
            counts: dict[str, int] = {}
            for m in g.membres:
                counts[m.finess_ej] = counts.get(m.finess_ej, 0) + len(m.esms)
            shares: dict[str, float] = {}
            if evaluation is None:
                total, pts, pts_max, valide = 0.0, 0, 0, False
            else:
                cost = evaluation.costs[g.code]
                total, pts, pts_max = float(cost.total), int(cost.score.total), \
                    int(cost.score.max)
                valide = not evaluation.violations.get(g.code)
                shares = adapters.og_amounts(etab, rules,
                                             [e for m in g.membres for e in m.esms], cost)
            n_esms = sum(counts.values())
            every = [x for pts_og in points.values() for x in pts_og]
            km_max = adapters.km_max(every)
            mine = points.get(d.finess_ej, [])
            partenaires = tuple(PartenaireVue(
                ej, names.get(ej, ""), n, None if ej == d.finess_ej
                else adapters.km_between(mine, points.get(ej, [])),
                ej == g.porteur_ej, ej == d.finess_ej, shares.get(ej, 0.0))
                for ej, n in counts.items())  # fmt: skip
            return FicheInvitation(inv.id, g.id, g.code, g.champ, valide, total, n_esms, pts,
                                   pts_max, km_max, partenaires)

    def repondre(self, jeton: str, invitation_id: int, accepte: bool,
                 tentatives: int = 20) -> InvitationVue:
        """Accept or decline. Concurrent answers to the same grappe are serialised by the
        grappe's version (retried here: no answer is lost, the grappe's state is exact).

        The grappe's view returned is read after the answer is committed, in a read
        transaction (its building no longer holds the writers' queue of SQLite, and it fills
        the views' cache for the other members); the other members' contacts it shows
        (once everyone accepted) are audited before it is returned."""
        for attempt in range(tentatives):
            try:
                with self.db.write() as s:
                    p, inv = self._repondre(s, jeton, invitation_id, bool(accepte))
                break
            except StaleDataError:
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        else:
            raise ConflitVersion("trop de réponses simultanées sur cette grappe : réessayez")
        with self.db.read(autocommit=True) as s:
            vues, others = self._vues_et_autrui(s, p, [inv.grappe_id], contacts=True)
            others = self._auditer_dans_lecture(s, p, others)
        self._auditer_apres_lecture(p, others)
        return InvitationVue(inv.id, inv.declaration_id, inv.statut, inv.origine,
                             inv.envoyee_le, vues[inv.grappe_id])

    def _repondre(self, s: Session, jeton: str, invitation_id: object,
                  accepte: bool) -> tuple[Principal, Invitation]:
        """The answer, in the caller's write transaction: the caller and the invitation."""
        if not jeton:
            raise SessionInvalide
        try:
            ident = self._ident(invitation_id)
        except AccesRefuse:  # names no invitation; the session is checked first all the same
            ident = 0
        # the session, the invitation and its declaration in one statement; no eager loading
        # of the declaration's ESMS nor of the grappe's members and invitations: an answer
        # reads what it needs in column queries below
        row = s.execute(_REPONSE, {"h": token_hash(jeton), "i": ident}).first()
        p = self._principal_de_session(s, row)
        inv, d = row.Invitation, row.Declaration
        if inv is None or d is None:
            raise AccesRefuse
        exiger(p, Action.REPONDRE_INVITATION, Cible(
            proprietaire=d.compte_id,
            rattache=rattachement.parle(s, d.compte_id, d.finess_ej)))
        if inv.statut not in ("en_attente", "acceptee", "declinee") or d.statut != "active":
            raise RegistreError("invitation annulée : la grappe a changé")
        # audited before the grappe's row is locked (its INSERT goes out with the lock's
        # query, not while the row is held; a refusal below rolls it back)
        self._audit(s, p, "invitation_reponse", "invitation", inv.id,
                    "acceptee" if accepte else "declinee")
        # answers to one grappe queue on its row (FOR UPDATE on PostgreSQL; SQLite writers
        # are serialised by BEGIN IMMEDIATE); the version column still guards the rest
        g = s.get(GrappeProposee, inv.grappe_id, with_for_update=not self.db.is_sqlite,
                  options=[lazyload(GrappeProposee.membres),
                           lazyload(GrappeProposee.invitations)])
        if g.statut in ("constituee", "incomplete"):
            raise RegistreError(f"grappe {g.code} déjà {g.statut} : réponse impossible")
        inv.statut = "acceptee" if accepte else "declinee"
        inv.repondue_le = self.clock()
        s.flush()
        # every member's latest answer, in one column query (no ORM load of the grappe's
        # members and invitations: this runs once per answer, under the writers' queue)
        latest: dict[int, str | None] = {}
        for did, statut in s.execute(_ETATS_MEMBRES, {"g": g.id}):
            latest[did] = statut  # ordered by invitation: the latest one counts
        states = list(latest.values())
        if "declinee" in states:
            g.statut = "declinee"
            self._liberer(s, g)
        elif all(x == "acceptee" for x in states):
            g.statut = "acceptee"
            outbox.grappe_event(s, self.clock(), g, "tous_acceptes",
                                "Tous les membres ont accepté : leurs coordonnées sont visibles.")
        else:
            g.statut = "invitations_envoyees"
        flag_modified(g, "statut")  # always bump the grappe's version: serialises answers
        s.flush()
        return p, inv

    def constituer(self, jeton: str, grappe_id: int, version: int) -> GrappeVue:
        """Mark a grappe « constituée » (every member accepted)."""

        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.CONSTITUER, version)
            if g.statut != "acceptee" or not self._all_accepted(g):
                raise RegistreError(f"grappe {g.code} : tous les membres n'ont pas accepté "
                                    f"(état {g.statut.replace('_', ' ')})")
            self._exiger_membres_parlent(s, g)
            for m in g.membres:  # a grappe made before r0005 engages its members now
                self._engager(s, g, m.declaration_id)
            g.statut = "constituee"
            g.constituee_le = self.clock()
            s.flush()
            outbox.grappe_event(s, self.clock(), g, "constituee")
            self._audit(s, p, "grappe_constitution", "grappe", g.id)
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    def soumettre_ars(self, jeton: str, grappe_id: int, version: int) -> GrappeVue:
        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            g = self._grappe(s, p, grappe_id, Action.SOUMETTRE_ARS, version)
            if g.statut != "constituee":
                raise RegistreError(f"grappe {g.code} pas encore constituée")
            g.soumise_ars = True
            s.flush()
            outbox.grappe_event(s, self.clock(), g, "soumise_ars")
            self._audit(s, p, "grappe_soumission_ars", "grappe", g.id)
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")
