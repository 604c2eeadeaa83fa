"""Declarations: declare, read, edit, withdraw (erasing the personal data),
list a territory's, import a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.registry.api.base import parse_territoire
from matching.registry.api.lecture import LectureMixin
from matching.registry.config import CONSENT_VERSION
from matching.registry.declarations import DeclarationSaisie, DeclarationValide, valider
from matching.registry.errors import (
    RegistreError,
    SaisieInvalide,
)
from matching.registry.models import (
    Compte,
    Declaration,
    DeclarationEsms,
    GrappeMembre,
    GrappeProposee,
    Invitation,
)
from matching.registry.policy import Action, exiger
from matching.registry.vues import (
    DeclarationVue,
    ImportRapport,
)


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
            d = self._declaration(s, p, declaration_id, Action.LIRE_DECLARATION)
            vue = self._vue_declaration(s, p, d, contacts=True)
            if vue.contact is not None:
                self._audit(s, p, "lecture_contact", "declaration", d.id)
            return vue

    def modifier_declaration(self, jeton: str, declaration_id: int, saisie: DeclarationSaisie,
                             version: int) -> DeclarationVue:
        valide = valider(saisie, self.finess_table())

        def run(s: Session) -> DeclarationVue:
            p = self._principal(s, jeton)
            d = self._declaration(s, p, declaration_id, Action.MODIFIER_DECLARATION)
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
            d = self._declaration(s, p, declaration_id, Action.RETIRER_DECLARATION)
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
