"""Declarations: declare, read, edit, withdraw (erasing the personal data),
list a territory's, import a spreadsheet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grappes.registry import rattachement
from grappes.registry.api.base import parse_territoire
from grappes.registry.api.lecture import LectureMixin
from grappes.registry.config import CONSENT_VERSION
from grappes.registry.declarations import DeclarationSaisie, DeclarationValide, valider
from grappes.registry.errors import (
    AccesRefuse,
    ConflitEnregistrement,
    RegistreError,
    SaisieInvalide,
)
from grappes.registry.models import (
    Compte,
    Declaration,
    DeclarationEsms,
    GrappeMembre,
    GrappeProposee,
    Invitation,
    Rattachement,
)
from grappes.registry.policy import Action, Cible, Principal, exiger
from grappes.registry.vues import (
    DeclarationVue,
    ImportRapport,
)


def cle_import(v: DeclarationValide) -> str:
    """The identity of an imported declaration: its EJ, its ESMS with their fields, and its
    contact. A re-import of the same rows finds the same declaration."""
    parts = [v.saisie.finess_ej, *sorted(f"{e.finess_et}:{e.champ}" for e in v.esms),
             v.saisie.contact_email]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


class DeclarationsMixin(LectureMixin):
    """Declarations: declare, read, edit, withdraw (erasing the personal data),"""

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

    def _exiger_parole(self, s: Session, p: Principal, action: Action, finess_ej: str,
                       d: Declaration | None = None) -> None:
        """The policy's ``action`` for a declaration of ``finess_ej``; a déclarant whose
        account does not speak for that OG is told why (their own account: nothing leaks)."""
        ej = str(finess_ej or "").strip().upper()
        etat = rattachement.etats(s, [ej]).get(ej)
        speaks = etat is not None and etat.parle(p.compte_id)
        cible = (self._cible_declaration(d, speaks) if d is not None
                 else Cible(rattache=speaks))
        if p.role == "declarant" and not speaks and (d is None or d.compte_id == p.compte_id):
            mine = etat is not None and p.compte_id in etat.approuves | etat.demandes
            raise RegistreError(
                f"votre compte ne parle pas pour l'OG {ej[:9]} : "
                f"{rattachement.motif_exclusion(etat if mine else None, p.compte_id)}. "
                "Demandez le "
                "rattachement (« Mes OG ») ; un coordinateur ou l'ARS de son territoire le "
                "valide")
        exiger(p, action, cible)

    def declarer(self, jeton: str, saisie: DeclarationSaisie) -> DeclarationVue:
        """A déclarant records a declaration for an OG its account speaks for (one
        transaction; checked first)."""
        with self.db.read() as s:  # no checking of a form for who may never declare
            exiger(self._principal(s, jeton), Action.DECLARER, Cible(rattache=True))
        valide = valider(saisie, *self._finess_controle())
        with self.db.write() as s:
            p = self._principal(s, jeton)
            self._exiger_parole(s, p, Action.DECLARER, valide.saisie.finess_ej)
            d = Declaration(compte_id=p.compte_id, saisie_par=p.compte_id, statut="active",
                            cree_le=self.clock())
            self._fill(d, valide)
            s.add(d)
            s.flush()
            self._audit(s, p, "declaration_creation", "declaration", d.id)
            return self._vue_declaration(s, p, d, contacts=True)

    def mes_declarations(self, jeton: str) -> list[DeclarationVue]:
        """The caller's own declarations: a read (one's own contacts are not audited)."""
        with self.db.read() as s:
            p = self._principal(s, jeton)
            rows = s.scalars(select(Declaration).where(Declaration.compte_id == p.compte_id)
                             .order_by(Declaration.id)).all()
            claims = rattachement.etats(s, (d.finess_ej for d in rows))
            out = []
            for d in rows:
                exiger(p, Action.LIRE_DECLARATION, self._cible_declaration(d))
                out.append(self._vue_declaration(s, p, d, contacts=True,
                                                 etat=claims.get(d.finess_ej)))
            return out

    def lire_declaration(self, jeton: str, declaration_id: int) -> DeclarationVue:
        """One declaration; reading someone else's contact is audited (a write then)."""
        with self.db.read() as s:
            p = self._principal(s, jeton)
            d = self._declaration(s, p, declaration_id, Action.LIRE_DECLARATION)
            vue = self._vue_declaration(s, p, d, contacts=True)
            others = self._contacts_autrui(s, p, [d.id] if vue.contact is not None else [])
        self._auditer_apres_lecture(p, others)
        return vue

    def modifier_declaration(self, jeton: str, declaration_id: int, saisie: DeclarationSaisie,
                             version: int) -> DeclarationVue:
        valide = valider(saisie, *self._finess_controle())

        def run(s: Session) -> DeclarationVue:
            p = self._principal(s, jeton)
            d = s.get(Declaration, int(declaration_id))
            if d is None:
                raise AccesRefuse
            self._exiger_parole(s, p, Action.MODIFIER_DECLARATION, d.finess_ej, d)
            if valide.saisie.finess_ej != d.finess_ej:
                self._exiger_parole(s, p, Action.MODIFIER_DECLARATION,
                                    valide.saisie.finess_ej, d)
            if d.statut != "active":
                raise RegistreError("déclaration retirée : elle ne peut plus être modifiée")
            self._check_version(d, version, "la déclaration")
            self._exiger_non_gelee(s, d)
            self._fill(d, valide)
            s.flush()
            self._audit(s, p, "declaration_modification", "declaration", d.id)
            return self._vue_declaration(s, p, d, contacts=True)

        return self._commit_versioned(run, "la déclaration")

    @staticmethod
    def _exiger_non_gelee(s: Session, d: Declaration) -> None:
        """A declaration is frozen once its grappe is constituted: the grappe would keep a
        stale member. Leaving it is the explicit withdrawal (audited, reopens the grappe)."""
        if d.grappe_engagee_id is None:
            return
        g = s.get(GrappeProposee, d.grappe_engagee_id)
        if g is not None and g.statut == "constituee":
            raise RegistreError(
                f"déclaration gelée : sa grappe {g.code} est constituée. Pour en sortir, "
                "retirez la déclaration (le retrait est journalisé et rouvre la grappe)")

    def retirer_declaration(self, jeton: str, declaration_id: int) -> None:
        """Withdraw: erase the personal data, cancel open invitations (one transaction).

        The audit log records only that the withdrawal happened.
        """

        def run(s: Session) -> None:
            p = self._principal(s, jeton)
            d = self._declaration(s, p, declaration_id, Action.RETIRER_DECLARATION)
            self._erase(s, d, "retiree")
            self._audit(s, p, "declaration_retrait", "declaration", d.id)

        self._commit_versioned(run, "la déclaration")
        self.db.effacer_traces([])  # SQLite: out of the WAL now; PostgreSQL: next purge

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
        d.grappe_engagee_id = None
        for gid in sorted(grappe_ids):
            g = s.get(GrappeProposee, gid)
            if g is not None and g.statut != "incomplete":
                g.statut = "incomplete"
                # reopened: the other members are free again (the coordinator may edit the
                # grappe and invite again, or match them elsewhere)
                s.execute(update(Declaration).where(Declaration.grappe_engagee_id == gid)
                          .values(grappe_engagee_id=None)
                          .execution_options(synchronize_session="fetch"))

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
            rows = list(s.scalars(q.order_by(Declaration.id)))
            claims = rattachement.etats(s, (d.finess_ej for d in rows))
            out = []
            for d in rows:
                exiger(p, Action.LIRE_DECLARATION, self._cible_declaration(d))
                out.append(self._vue_declaration(s, p, d, contacts=True,
                                                 etat=claims.get(d.finess_ej)))
            shown = [str(v.id) for v in out if v.contact]
            if shown:
                self._audit(s, p, "lecture_contact", "declaration", f"n={len(shown)}",
                            ",".join(shown))
            return out

    def _charger(self, s: Session, jeton: str, ready, rapport: ImportRapport, n: int) -> None:
        """Store the checked groups of an import (one transaction): the same EJ, ESMS, fields
        and contact give the same declaration (``cle_import``), the contacts' accounts are
        created when missing and attached to the rows' OG (the importer's act, audited)."""
        from grappes.registry import import_csv as imp

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
            key = cle_import(v)
            known = s.scalar(select(Declaration.id).where(Declaration.cle_import == key,
                                                          Declaration.statut == "active"))
            if known is not None:
                rapport.deja_presentes.append((g.lignes[0][0], known))
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
            self._rattacher_import(s, p, owner.id, v.saisie.finess_ej)
            d = Declaration(compte_id=owner.id, saisie_par=p.compte_id, statut="active",
                            cree_le=self.clock(), cle_import=key)
            self._fill(d, v)
            s.add(d)
            s.flush()
            rapport.chargees.append((g.lignes[0][0], d.id))
        self._audit(s, p, "import", "declaration", f"n={len(rapport.chargees)}",
                    f"lignes={n} rejets={len(rapport.rejets)} "
                    f"deja_presentes={len(rapport.deja_presentes)}")

    def _rattacher_import(self, s: Session, p: Principal, compte_id: int, ej: str) -> None:
        """An import attaches the contact's account to the row's OG: the importer vouches
        for it (a coordinateur of the territory, or an admin), and it is audited."""
        row = s.scalar(select(Rattachement).where(Rattachement.compte_id == compte_id,
                                                  Rattachement.finess_ej == ej))
        if row is not None and row.statut == rattachement.APPROUVE:
            return
        dep, region = rattachement.territoire_ej(ej)
        if row is None:
            row = Rattachement(compte_id=compte_id, finess_ej=ej, departement=dep,
                               region=region, demande_le=self.clock())
            s.add(row)
        row.statut, row.origine = rattachement.APPROUVE, "import"
        row.decide_le, row.decide_par = self.clock(), p.compte_id
        s.flush()
        self._audit(s, p, "rattachement_import", "rattachement", row.id,
                    f"compte={compte_id} ej={ej}")

    def importer_csv(self, jeton: str, data: bytes,
                     territoire: Sequence[str] | None = None) -> ImportRapport:
        """Import a spreadsheet of declarations (``import_csv``): every row loaded or
        rejected with its line, field and reason; the loaded ones in ONE transaction.

        A coordinateur imports into their territory (rows elsewhere are rejected); an
        admin anywhere, or within ``territoire`` when given.
        """
        from grappes.registry import import_csv as imp

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
        finess, stricte = self._finess_controle()
        ready: list[tuple[imp.Groupe, DeclarationValide]] = []
        for g in groups:
            saisie, problems = imp.to_saisie(g)
            if saisie is not None:
                try:
                    valide = valider(saisie, finess, stricte)
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
        try:
            with self.db.write() as s:
                self._charger(s, jeton, ready, rapport, n)
        except ConflitEnregistrement as exc:
            raise ConflitEnregistrement(
                "import simultané : une autre importation vient d'enregistrer les mêmes "
                "déclarations. Relancez l'import : les lignes déjà chargées seront reconnues "
                "et ne seront pas dupliquées") from exc
        rapport.rejets.sort(key=lambda x: (x.ligne, x.champ))
        return rapport
