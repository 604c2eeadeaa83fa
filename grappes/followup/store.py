"""The follow-up API on the registry's database, accounts and policy (issue 14).

Every call takes a session token, resolves it through the registry, builds a ``Cible`` for
the funded grappe (its région, its porteur accounts) and asks ``grappes.registry.policy``:
the ARS of the région records, reads, exports and records payments; the grappe's porteurs
read it and write its indicators and milestones; anybody else gets the registry's single
refusal message, whether the grappe exists or not. Each call is one transaction; an import
with any reject writes nothing. Accesses are written to the registry's audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from grappes.followup.csv_import import ImportReport, read_monthly_csv
from grappes.followup.evaluate import STATE_LABELS, FollowupState, TrancheState, evaluate
from grappes.followup.indicators import COUNT_FIELDS, MonthlyFigures
from grappes.followup.model import (
    FollowupRules,
    FundedGrappe,
    Member,
    Tranche,
    Verification,
    build_funded_grappe,
)
from grappes.ingest.base import Source
from grappes.programme.rules import InstalmentRule, load_rules
from grappes.registry import outbox
from grappes.registry.api import Registry
from grappes.registry.errors import AccesRefuse, RegistreError, SaisieInvalide
from grappes.registry.models import Appariement, Compte, Declaration, GrappeProposee
from grappes.registry.policy import Action, Cible, Principal, autorise, exiger
from grappes.registry.suivi_tables import (
    SuiviGrappe,
    SuiviIndicateur,
    SuiviMembre,
    SuiviPorteur,
    SuiviTranche,
    SuiviVerification,
)


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows written (0 when refused), rows replaced, every reject."""

    report: ImportReport
    written: int

    @property
    def ok(self) -> bool:
        return self.report.ok


#: registry states of a grappe that can be funded: constituted (and, if the registry marks
#: it so, submitted to the ARS)
CONSTITUTED: tuple[str, ...] = ("constituee", "soumise_ars", "soumise")


@dataclass(frozen=True)
class RegistryCandidate:
    """A constituted registry grappe the ARS may register as funded."""

    registre_grappe_id: int
    code: str
    region: str
    n_esms: int
    total: float
    porteur_ej: str
    soumise_ars: bool


@dataclass(frozen=True)
class VerificationRecord:
    """One recording of a « vérification de service régulier » (its history is kept)."""

    grappe: str
    tranche: int
    signee_le: date
    enregistree_le: datetime
    par: str


#: the programme's first call for projects opened in 2021: a convention signed before 2020
#: is a typing error (« 1900 »), not a grappe to follow
EARLIEST_SIGNATURE = date(2020, 1, 1)


def check_event_date(le: date, signature: date, today: date) -> None:
    """One check for every date a person records in the follow-up (milestone, vérification,
    payment): not in the future, not before the convention's signature (issue 18: a milestone
    dated before the signature, or a payment dated 1900 or 2999, used to be accepted)."""
    if le > today:
        raise SaisieInvalide([("date", f"date dans le futur ({le:%d/%m/%Y})")])
    if le < signature:
        raise SaisieInvalide([("date", f"date ({le:%d/%m/%Y}) antérieure à la signature de "
                                       f"la convention ({signature:%d/%m/%Y})")])


def check_signature(signature: date, today: date) -> None:
    """A convention's signature date: from 2020 (the programme's start) to today."""
    if signature < EARLIEST_SIGNATURE or signature > today:
        raise SaisieInvalide([("signature", f"date de signature invraisemblable "
                                            f"({signature:%d/%m/%Y}) : attendue entre le "
                                            f"{EARLIEST_SIGNATURE:%d/%m/%Y} et aujourd'hui")])


class Suivi:
    """Follow-up of funded grappes, stored with the registry ``registry``."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.db = registry.db

    # ---------------------------------------------------------------- plumbing

    def _p(self, s: Session, jeton: str) -> Principal:
        return self.registry._principal(s, jeton)

    @staticmethod
    def _cible(g: SuiviGrappe) -> Cible:
        return Cible(region=g.region, departements=frozenset(m.departement for m in g.membres),
                     membres=frozenset(p.compte_id for p in g.porteurs))

    def _grappe(self, s: Session, p: Principal, code: str, action: Action) -> SuiviGrappe:
        g = s.scalar(select(SuiviGrappe).where(SuiviGrappe.code == code))
        if g is None:
            raise AccesRefuse
        exiger(p, action, self._cible(g))
        return g

    @staticmethod
    def to_domain(g: SuiviGrappe) -> FundedGrappe:
        members = tuple(Member(m.finess_et, m.raison_sociale, m.finess_ej, m.type_projet,
                               m.departement) for m in g.membres)
        tranches = tuple(
            Tranche(t.rang, InstalmentRule(t.libelle, t.part, trigger=t.declencheur,
                                           deadline_acquisition_months=t.delai_acquisition_mois,
                                           deadline_conformite_months=t.delai_conformite_mois,
                                           service_check=t.verification_requise), t.montant)
            for t in g.tranches)
        jalons = {t.rang: t.jalon_le for t in g.tranches if t.jalon_le is not None}
        checks = {t.rang: Verification(t.verifiee_le,
                                       t.verificateur.email if t.verificateur else "")
                  for t in g.tranches if t.verifiee_le is not None}
        paid = {t.rang: t.versee_le for t in g.tranches if t.versee_le is not None}
        return FundedGrappe(g.code, g.regles, g.signature, members, g.montant_total, tranches,
                            g.region, g.porteur_ej, g.porteur_nom, jalons, checks, paid)

    @staticmethod
    def _figures(s: Session, suivi_id: int) -> list[MonthlyFigures]:
        return Suivi._figures_of(s, [suivi_id]).get(suivi_id, [])

    @staticmethod
    def _figures_of(s: Session, suivi_ids: Sequence[int]) -> dict[int, list[MonthlyFigures]]:
        """The figures of several grappes in one query (a dashboard reads 200 at once)."""
        out: dict[int, list[MonthlyFigures]] = defaultdict(list)
        if not suivi_ids:
            return out
        rows = s.execute(select(SuiviIndicateur.suivi_id, SuiviIndicateur.finess_et,
                                SuiviIndicateur.mois,
                                *[getattr(SuiviIndicateur, c) for c in COUNT_FIELDS])
                         .where(SuiviIndicateur.suivi_id.in_(list(suivi_ids))))
        for suivi_id, *r in rows:
            out[suivi_id].append(MonthlyFigures(*r))
        return out

    def _notify(self, s: Session, g: SuiviGrappe, today: date) -> None:
        """Queue « tranche payable » and « cibles à risque » for the porteurs and the ARS
        of the région, in the caller's transaction, once per tranche (outbox key)."""
        s.flush()
        state = self._state(s, g, today)
        to = [*outbox.account_emails(s, [p.compte_id for p in g.porteurs]),
              *outbox.ars_emails(s, g.region)]
        now = self.registry.clock()
        for t in state.tranches:
            rang = t.tranche.rang
            if t.state == TrancheState.PAYABLE and t.tranche.regle.trigger != "signature":
                outbox.enqueue(s, now, "tranche_payable", to, f"{g.code}, tranche {rang}",
                               f"La tranche {rang} ({t.tranche.regle.label}) de la grappe "
                               f"{g.code} est payable depuis le {t.payable_on:%d/%m/%Y} : "
                               f"{t.reason}.\n", cle=f"payable:{g.code}:{rang}")
            elif t.state == TrancheState.AT_RISK:
                outbox.enqueue(s, now, "cible_a_risque", to, f"{g.code}, tranche {rang}",
                               f"La tranche {rang} de la grappe {g.code} est à risque : "
                               f"{t.reason}.\nESMS à relancer : page Suivi.\n",
                               cle=f"risque:{g.code}:{rang}")

    # ---------------------------------------------------------------- ARS: record

    def enregistrer(self, jeton: str, grappe: FundedGrappe, porteurs: Sequence[str] = (),
                    perimetre: str | None = None,
                    registre_grappe_id: int | None = None) -> str:
        """Record ``grappe`` as funded (ARS of its région); ``porteurs`` are account e-mails."""
        if perimetre is not None:
            FollowupRules.from_ruleset(load_rules(grappe.regles), perimetre)  # checks it
        check_signature(grappe.signature, self.registry.clock().date())
        with self.db.write() as s:
            p = self._p(s, jeton)
            exiger(p, Action.ENREGISTRER_SUIVI, Cible(region=grappe.region))
            if s.scalar(select(SuiviGrappe.id).where(SuiviGrappe.code == grappe.grappe_id)):
                raise SaisieInvalide([("grappe", f"« {grappe.grappe_id} » est déjà suivie")])
            comptes = []
            for email in porteurs:
                c = s.scalar(select(Compte).where(Compte.email == email.strip().lower()))
                if c is None or c.role != "declarant":
                    raise SaisieInvalide([("porteur", f"aucun compte déclarant {email!r}")])
                comptes.append(c)
            row = SuiviGrappe(
                code=grappe.grappe_id, regles=grappe.regles, perimetre=perimetre,
                signature=grappe.signature, region=grappe.region, porteur_ej=grappe.porteur,
                porteur_nom=grappe.porteur_nom, montant_total=grappe.montant_total,
                registre_grappe_id=registre_grappe_id, cree_le=self.registry.clock(),
                membres=[SuiviMembre(finess_et=m.finess_et, raison_sociale=m.raison_sociale,
                                     finess_ej=m.finess_ej, type_projet=m.type_projet,
                                     departement=m.departement) for m in grappe.members],
                tranches=[SuiviTranche(rang=t.rang, libelle=t.regle.label, part=t.regle.share,
                                       montant=t.montant, declencheur=t.regle.trigger,
                                       delai_acquisition_mois=t.regle.deadline_acquisition_months,
                                       delai_conformite_mois=t.regle.deadline_conformite_months,
                                       jalon_le=grappe.jalons.get(t.rang),
                                       verification_requise=t.regle.service_check)
                          for t in grappe.tranches],
                porteurs=[SuiviPorteur(compte_id=c.id) for c in comptes],
            )
            s.add(row)
            self.registry._audit(s, p, "suivi_enregistrer", "suivi", grappe.grappe_id)
        return grappe.grappe_id

    def financables(self, jeton: str) -> list[RegistryCandidate]:
        """The constituted grappes of the registry in the caller's régions (ARS) that are
        not followed yet: what the Suivi page offers to register without any file."""
        with self.db.read() as s:
            p = self._p(s, jeton)
            followed = set(s.scalars(select(SuiviGrappe.registre_grappe_id)
                                     .where(SuiviGrappe.registre_grappe_id.is_not(None))))
            codes = set(s.scalars(select(SuiviGrappe.code)))
            out = []
            for g in s.scalars(select(GrappeProposee)
                               .where(GrappeProposee.statut.in_(CONSTITUTED))
                               .order_by(GrappeProposee.id)):
                if g.id in followed or g.code in codes or not autorise(
                        p, Action.ENREGISTRER_SUIVI, Cible(region=g.region)):
                    continue
                n = sum(len(m.esms) for m in g.membres)
                out.append(RegistryCandidate(g.id, g.code, g.region, n, g.total or 0.0,
                                             g.porteur_ej, g.soumise_ars))
            return out

    def funded_from_registry(self, jeton: str, registre_grappe_id: int, signature: date,
                             regles: str | None = None) -> tuple[FundedGrappe, list[str]]:
        """The funded grappe a constituted registry grappe becomes (ids, members and
        amount as the registry holds them; each member's project type from the DUI status
        code the costing used), and the e-mails of its porteur's declarant accounts."""
        with self.db.read() as s:
            p = self._p(s, jeton)
            g = s.get(GrappeProposee, int(registre_grappe_id))
            if g is None or not autorise(p, Action.ENREGISTRER_SUIVI, Cible(region=g.region)):
                raise AccesRefuse
            if g.statut not in CONSTITUTED:
                raise SaisieInvalide([("grappe", f"grappe {g.code} pas encore constituée "
                                                 f"(état {g.statut.replace('_', ' ')})")])
            if g.total is None:
                raise SaisieInvalide([("grappe", f"grappe {g.code} sans montant calculé")])
            run = s.get(Appariement, g.appariement_id)
            rules = load_rules(regles or run.regles)
            seen = {str(r.get("finess_et")): r for r in run.etablissements}
            fallback = rules.type_by_statut.get("inconnu", "acquisition")
            members, emails = [], []
            for m in g.membres:
                d = s.get(Declaration, m.declaration_id)
                esms = {e.finess_et: e for e in d.esms}
                for et in m.esms:
                    row = seen.get(et, {})
                    statut = str(row.get("dui_statut") or d.dui_statut or "inconnu")
                    e = esms.get(et)
                    members.append(Member(
                        et, str(row.get("raison_sociale") or (e.raison_sociale if e else "")),
                        m.finess_ej, rules.type_by_statut.get(statut, fallback),
                        str(row.get("departement") or (e.departement if e else ""))))
                if m.finess_ej == g.porteur_ej and d.compte_id is not None:
                    c = s.get(Compte, d.compte_id)
                    if c is not None and c.role == "declarant" and c.email not in emails:
                        emails.append(c.email)
            nom = next((str(r.get("raison_sociale_ej") or "") for r in run.etablissements
                        if str(r.get("finess_ej")) == g.porteur_ej), "")
            funded = build_funded_grappe(g.code, rules, signature, members, float(g.total),
                                         region=g.region, porteur=g.porteur_ej,
                                         porteur_nom=nom)
            return funded, emails

    def enregistrer_depuis_registre(self, jeton: str, registre_grappe_id: int,
                                    signature: date, porteurs: Sequence[str] | None = None,
                                    perimetre: str | None = None,
                                    regles: str | None = None) -> str:
        """(ARS) Record a constituted registry grappe as funded, without any file;
        ``porteurs`` default to the accounts of the porteur OG's declarations."""
        funded, emails = self.funded_from_registry(jeton, registre_grappe_id, signature, regles)
        return self.enregistrer(jeton, funded, emails if porteurs is None else porteurs,
                                perimetre, registre_grappe_id=int(registre_grappe_id))

    def declarer_versement(self, jeton: str, code: str, rang: int, le: date) -> None:
        """The ARS records that tranche ``rang`` was paid on ``le``: a tranche payable on
        that date, paid once (a second recording is refused, not a silent replacement)."""
        with self.db.write() as s:
            p = self._p(s, jeton)
            g = self._grappe(s, p, code, Action.DECLARER_VERSEMENT)
            t = next((t for t in g.tranches if t.rang == rang), None)
            if t is None:
                raise SaisieInvalide([("tranche", f"pas de tranche {rang}")])
            if t.versee_le is not None:
                raise SaisieInvalide([("tranche", f"tranche {rang} déjà versée le "
                                                  f"{t.versee_le:%d/%m/%Y}")])
            check_event_date(le, g.signature, self.registry.clock().date())
            status = self._state(s, g, le).tranches[rang - 1]
            if status.state != TrancheState.PAYABLE:
                raise SaisieInvalide([("tranche", f"la tranche {rang} n'est pas payable au "
                                                  f"{le:%d/%m/%Y} ({STATE_LABELS[status.state]}"
                                                  f" : {status.reason})")])
            t.versee_le = le
            self.registry._audit(s, p, "suivi_versement", "suivi", code,
                                 f"tranche {rang} versée le {le.isoformat()}")

    # ---------------------------------------------------------------- porteur: write

    def declarer_jalon(self, jeton: str, code: str, rang: int, le: date) -> None:
        """A porteur declares the milestone of tranche ``rang`` (e.g. end of set-up) reached."""
        with self.db.write() as s:
            p = self._p(s, jeton)
            g = self._grappe(s, p, code, Action.SAISIR_SUIVI)
            t = next((t for t in g.tranches if t.rang == rang), None)
            if t is None or t.declencheur != "jalon":
                msg = f"la tranche {rang} n'a pas de jalon à déclarer"
                raise SaisieInvalide([("tranche", msg)])
            check_event_date(le, g.signature, self.registry.clock().date())
            t.jalon_le = le
            self.registry._audit(s, p, "suivi_jalon", "suivi", code, f"tranche {rang}")
            self._notify(s, g, self.registry.clock().date())

    def declarer_verification(self, jeton: str, code: str, rang: int, le: date) -> None:
        """A porteur records the signature date of the « vérification de service régulier »
        that tranche ``rang`` waits for (004; who records it: see the rule file's ``choix``).
        Recording it again sets the date the tranche uses and keeps the earlier ones: each
        recording is a row of ``suivi_verifications`` and a line of the audit log."""
        with self.db.write() as s:
            p = self._p(s, jeton)
            g = self._grappe(s, p, code, Action.SAISIR_SUIVI)
            t = next((t for t in g.tranches if t.rang == rang), None)
            if t is None or not t.verification_requise:
                msg = f"la tranche {rang} n'attend pas de vérification de service régulier"
                raise SaisieInvalide([("tranche", msg)])
            now = self.registry.clock()
            check_event_date(le, g.signature, now.date())
            before = t.verifiee_le
            t.verifiee_le = le
            t.verifiee_par = p.compte_id
            s.add(SuiviVerification(tranche_id=t.id, signee_le=le, enregistree_le=now,
                                    enregistree_par=p.compte_id))
            detail = f"tranche {rang} : signée le {le.isoformat()}"
            if before is not None:
                detail += f" (remplace le {before.isoformat()})"
            self.registry._audit(s, p, "suivi_verification", "suivi", code, detail)
            self._notify(s, g, now.date())

    def historique_verifications(self, jeton: str, code: str) -> list[VerificationRecord]:
        """Every recording of the grappe's verifications, oldest first (porteurs, ARS)."""
        with self.db.read() as s:
            p = self._p(s, jeton)
            g = self._grappe(s, p, code, Action.LIRE_SUIVI)
            rang_of = {t.id: t.rang for t in g.tranches}
            rows = s.scalars(select(SuiviVerification)
                             .where(SuiviVerification.tranche_id.in_(list(rang_of)))
                             .order_by(SuiviVerification.id))
            return [VerificationRecord(code, rang_of[r.tranche_id], r.signee_le,
                                       r.enregistree_le, r.auteur.email if r.auteur else "")
                    for r in rows]

    def importer(self, jeton: str, code: str, src: Source, remplacer: bool = False,
                 today: date | None = None) -> ImportResult:
        """Import monthly figures for ``code``: all rows or none (one transaction)."""
        today = today or self.registry.clock().date()
        with self.db.write() as s:
            p = self._p(s, jeton)
            g = self._grappe(s, p, code, Action.SAISIR_SUIVI)
            existing = {(f, m) for f, m in s.execute(
                select(SuiviIndicateur.finess_et, SuiviIndicateur.mois)
                .where(SuiviIndicateur.suivi_id == g.id))}
            report = read_monthly_csv(src, {m.finess_et for m in g.membres}, today=today,
                                      signature=g.signature, existing=existing,
                                      replace=remplacer)
            if not report.ok:
                self.registry._audit(s, p, "suivi_import_refuse", "suivi", code,
                                     f"{len(report.rejects)} rejet(s)")
                return ImportResult(report, 0)
            self._write(s, g.id, report.figures, report.replaced, p.compte_id)
            self.registry._audit(s, p, "suivi_import", "suivi", code,
                                 f"{len(report.figures)} ligne(s), "
                                 f"{len(report.replaced)} remplacée(s)")
            self._notify(s, g, today)
        return ImportResult(report, len(report.figures))

    def saisir(self, jeton: str, code: str, figures: Iterable[MonthlyFigures],
               remplacer: bool = False) -> ImportResult:
        """The form's path: same checks as a CSV import (the rows are written as one CSV)."""
        lines = [";".join(("finess_et", "mois", *COUNT_FIELDS))]
        for f in figures:
            lines.append(";".join([f.finess_et, f"{f.mois:%Y-%m}",
                                   *[str(f.count(c)) for c in COUNT_FIELDS]]))
        return self.importer(jeton, code, ("\n".join(lines) + "\n").encode(), remplacer)

    def _write(self, s: Session, suivi_id: int, figures: Sequence[MonthlyFigures],
               replaced: Sequence[tuple[str, date]], compte_id: int) -> None:
        for finess, mois in replaced:
            s.execute(delete(SuiviIndicateur).where(
                SuiviIndicateur.suivi_id == suivi_id, SuiviIndicateur.finess_et == finess,
                SuiviIndicateur.mois == mois))
        now: datetime = self.registry.clock()
        rows = [{"suivi_id": suivi_id, "finess_et": f.finess_et, "mois": f.mois,
                 **{c: f.count(c) for c in COUNT_FIELDS}, "saisi_le": now,
                 "saisi_par": compte_id} for f in figures]
        for start in range(0, len(rows), 5000):
            s.execute(insert(SuiviIndicateur), rows[start:start + 5000])

    # ---------------------------------------------------------------- read

    def etat(self, jeton: str, code: str, as_of: date | None = None) -> FollowupState:
        """The state of one funded grappe (its porteurs, the ARS of its région)."""
        as_of = as_of or self.registry.clock().date()
        with self.db.write() as s:
            p = self._p(s, jeton)
            g = self._grappe(s, p, code, Action.LIRE_SUIVI)
            state = self._state(s, g, as_of)
            self.registry._audit(s, p, "suivi_lire", "suivi", code)
        return state

    def _state(self, s: Session, g: SuiviGrappe, as_of: date,
               figures: list[MonthlyFigures] | None = None,
               rules_cache: dict[tuple[str, str | None], FollowupRules] | None = None,
               ) -> FollowupState:
        """``rules_cache`` spares a dashboard reading the same rule file 200 times (3 ms each)."""
        key = (g.regles, g.perimetre)
        cache = rules_cache if rules_cache is not None else {}
        if key not in cache:
            cache[key] = FollowupRules.from_ruleset(load_rules(g.regles), g.perimetre)
        rules = cache[key]
        if figures is None:
            figures = self._figures(s, g.id)
        return evaluate(self.to_domain(g), figures, rules, as_of)

    def mes_grappes(self, jeton: str, region: str | None = None,
                    as_of: date | None = None) -> list[FollowupState]:
        """Every funded grappe the caller may read (optionally one région), evaluated."""
        as_of = as_of or self.registry.clock().date()
        with self.db.write() as s:
            p = self._p(s, jeton)
            q = select(SuiviGrappe).order_by(SuiviGrappe.code)
            if region:
                q = q.where(SuiviGrappe.region == region)
            visible = [g for g in s.scalars(q) if autorise(p, Action.LIRE_SUIVI, self._cible(g))]
            figures = self._figures_of(s, [g.id for g in visible])
            cache: dict[tuple[str, str | None], FollowupRules] = {}
            out = [self._state(s, g, as_of, figures.get(g.id, []), cache) for g in visible]
            self.registry._audit(s, p, "suivi_tableau", "suivi", region or "", f"n={len(out)}")
        return out

    def versements(self, jeton: str, code: str) -> dict[int, date | None]:
        """Payment dates recorded by the ARS, per tranche rank."""
        with self.db.read() as s:
            p = self._p(s, jeton)
            g = self._grappe(s, p, code, Action.LIRE_SUIVI)
            return {t.rang: t.versee_le for t in g.tranches}

    def exporter(self, jeton: str, dossier: str | Path, region: str | None = None,
                 as_of: date | None = None) -> Path:
        """XLSX for the ARS: grappes, tranches, ESMS flagged, monthly rates."""
        from grappes.followup.export import write_workbook

        as_of = as_of or self.registry.clock().date()
        with self.db.write() as s:
            p = self._p(s, jeton)
            regions = {region} if region else set(p.regions)
            if not regions:
                raise AccesRefuse
            for r in regions:
                exiger(p, Action.EXPORTER_SUIVI, Cible(region=r))
            q = (select(SuiviGrappe).where(SuiviGrappe.region.in_(sorted(regions)))
                 .order_by(SuiviGrappe.code))
            states, paid = [], {}
            visible = [g for g in s.scalars(q)
                       if autorise(p, Action.EXPORTER_SUIVI, self._cible(g))]
            figures = self._figures_of(s, [g.id for g in visible])
            cache: dict[tuple[str, str | None], FollowupRules] = {}
            for g in visible:
                states.append(self._state(s, g, as_of, figures.get(g.id, []), cache))
                paid[g.code] = {t.rang: t.versee_le for t in g.tranches}
            self.registry._audit(s, p, "suivi_export", "suivi", region or "", f"n={len(states)}")
        if not states:
            raise RegistreError("aucune grappe suivie à exporter pour ce compte")
        return write_workbook(states, paid, Path(dossier) / "suivi-grappes.xlsx")
