"""The ARS's reads (aggregates, map), partner suggestions for an isolated ESMS, and the
export of constituted grappes for the dossier.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from grappes.registry import adapters, rattachement
from grappes.registry import appariement as app_build
from grappes.registry.api.base import parse_territoire
from grappes.registry.api.lecture import LectureMixin
from grappes.registry.errors import RegistreError
from grappes.registry.models import (
    Appariement,
    Declaration,
    DeclarationEsms,
    GrappeMembre,
    GrappeProposee,
    Invitation,
)
from grappes.registry.policy import Action, exiger
from grappes.registry.vues import (
    GrappeVue,
    Suggestion,
)


class ArsMixin(LectureMixin):
    """The ARS's reads (aggregates, map), partner suggestions for an isolated ESMS, and the"""

    def agregats(self, jeton: str, territoire: Sequence[str]) -> dict[str, pd.DataFrame]:
        """Counts without personal data: declarations and ESMS by département and field,
        grappes by state, and the points of the map (one per declared ESMS, with the public
        FINESS facts the planner's map shows on hover: ESMS and OG names, commune, and the
        code and porteur of the grappe it is engaged in)."""
        deps, _ = parse_territoire(territoire)
        with self.db.read() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.AGREGATS, deps)
            rows = s.execute(
                select(Declaration.id, Declaration.departement, DeclarationEsms.finess_et,
                       DeclarationEsms.champ, DeclarationEsms.lon, DeclarationEsms.lat,
                       Declaration.finess_ej, Declaration.raison_sociale_ej,
                       DeclarationEsms.raison_sociale, DeclarationEsms.commune)
                .join(DeclarationEsms, DeclarationEsms.declaration_id == Declaration.id)
                .where(Declaration.departement.in_(sorted(deps)), Declaration.statut == "active")
            ).all()
            esms = pd.DataFrame(rows, columns=["declaration", "departement", "finess_et",
                                               "champ", "lon", "lat", "finess_ej",
                                               "raison_sociale_ej", "raison_sociale",
                                               "commune"])
            grappes = [(g.id, g.code, g.statut, g.champ, ",".join(g.departements),
                        sum(len(m.esms) for m in g.membres), g.total)
                       for g in s.scalars(select(GrappeProposee)) if set(g.departements) <= deps]
        par_dep = (esms.groupby(["departement", "champ"])
                   .agg(declarations=("declaration", "nunique"), esms=("finess_et", "count"))
                   .reset_index()) if len(esms) else pd.DataFrame(
                       columns=["departement", "champ", "declarations", "esms"])
        gframe = pd.DataFrame(grappes, columns=["id", "grappe", "statut", "champ",
                                                "departements", "n_esms", "total"])
        placed: dict[str, tuple[str, str]] = {}  # FINESS ET -> (grappe code, porteur EJ)
        with self.db.read() as s:
            for g in s.scalars(select(GrappeProposee).where(
                    GrappeProposee.statut.in_(["constituee", "acceptee",
                                               "invitations_envoyees"]))
                    .order_by(GrappeProposee.id)):
                for m in g.membres:
                    placed.update({et: (g.code, g.porteur_ej) for et in m.esms})
        esms["en_grappe"] = esms["finess_et"].isin(list(placed))
        esms["grappe"] = [placed.get(et, ("", ""))[0] for et in esms["finess_et"]]
        esms["porteur_ej"] = [placed.get(et, ("", ""))[1] for et in esms["finess_et"]]
        places = {c: adapters.lieu(c) for c in set(esms["commune"])}
        esms["commune_nom"] = [getattr(places[c], "commune_nom", "") for c in esms["commune"]]
        return {"par_departement": par_dep, "grappes": gframe,
                "carte": esms[["finess_et", "finess_ej", "raison_sociale",
                               "raison_sociale_ej", "champ", "commune", "commune_nom",
                               "departement", "lon", "lat", "en_grappe", "grappe",
                               "porteur_ej"]]}

    def suggerer_partenaires(self, jeton: str, declaration_id: int,
                             top: int = 5) -> list[Suggestion]:
        """ARS: partners for an isolated declared ESMS, ranked by the existing partner
        finder (``grappes.scenarios.partners``) over the latest proposal of its territory."""
        with self.db.read() as s:
            p = self._principal(s, jeton)
            d = self._declaration(s, p, declaration_id, Action.SUGGERER_PARTENAIRES,
                                  active=True)
            _run, scenario, code_to_id = self._scenario_for(s, d)
            et = d.esms[0].finess_et
        report = adapters.find_partners(scenario, et, top=top)
        out = []
        for o in report.options:
            if o.type != "grappe":
                continue
            out.append(Suggestion(o.rang, code_to_id.get(o.cible), o.libelle,
                                  float(o.distance_km), bool(o.valide_apres),
                                  f"{o.libelle} à {o.distance_km:.0f} km, "
                                  f"{o.n_esms_apres} ESMS après, "
                                  f"{'valide' if o.valide_apres else 'non valide'}"))
        return out

    def _scenario_for(self, s: Session, d: Declaration):
        runs = [r for r in s.scalars(select(Appariement).order_by(Appariement.id.desc()))
                if d.departement in r.territoire]
        if not runs:
            raise RegistreError("aucun appariement dans ce territoire : lancer d'abord "
                                "l'appariement")
        run = runs[0]
        etab = app_build.from_snapshot(run.etablissements)
        known = set(etab["finess_et"].astype(str))
        extra = [{"finess_et": e.finess_et, "finess_ej": d.finess_ej,
                  "raison_sociale": e.raison_sociale, "champ": e.champ, "commune": e.commune,
                  "departement": e.departement, "region": e.region, "lon": e.lon, "lat": e.lat,
                  "dui_editeur": d.dui_editeur, "dui_statut": d.dui_statut}
                 for e in d.esms if e.finess_et not in known]
        if extra:
            etab = adapters.etab_table(app_build.snapshot(etab) + extra)
        grappes = [adapters.Grappe(id=g.code, champ=g.champ,
                                   og=sorted({m.finess_ej for m in g.membres}),
                                   esms=[e for m in g.membres for e in m.esms],
                                   porteur=g.porteur_ej or None)
                   for g in run.grappes if g.membres and g.statut not in ("incomplete",)]
        scenario = adapters.whatif(etab, run.regles, grappes)
        return run, scenario, {g.code: g.id for g in run.grappes}

    def inviter_suggestion(self, jeton: str, declaration_id: int, grappe_id: int) -> GrappeVue:
        """ARS: invite an isolated declaration to join a grappe (the grappe's members are
        unchanged until it accepts; the grappe then waits for its answer)."""

        def run(s: Session) -> GrappeVue:
            p = self._principal(s, jeton)
            d = self._declaration(s, p, declaration_id, Action.SUGGERER_PARTENAIRES,
                                  active=True)
            g = self._grappe(s, p, grappe_id, Action.SUGGERER_PARTENAIRES)
            if g.statut in ("constituee", "incomplete"):
                raise RegistreError(f"grappe {g.code} déjà {g.statut}")
            if any(m.declaration_id == d.id for m in g.membres):
                raise RegistreError("déjà membre de cette grappe")
            why = rattachement.motif_exclusion(
                rattachement.etats(s, [d.finess_ej]).get(d.finess_ej), d.compte_id)
            if why:
                raise RegistreError(f"l'OG {d.finess_ej} ne peut pas être invité : {why}")
            if g.statut != "proposee":  # invitations already out: the newcomer is engaged too
                self._engager(s, g, d.id)
            g.membres.append(GrappeMembre(declaration_id=d.id, finess_ej=d.finess_ej,
                                          esms=[e.finess_et for e in d.esms]))
            s.add(Invitation(grappe_id=g.id, declaration_id=d.id, statut="en_attente",
                             origine="ars", envoyee_le=self.clock()))
            if g.statut in ("proposee", "acceptee"):
                g.statut = "invitations_envoyees" if g.statut == "acceptee" else g.statut
            flag_modified(g, "statut")
            s.flush()
            s.refresh(g)
            self._reevaluate(s, g)
            self._audit(s, p, "invitation_suggestion", "grappe", g.id, f"declaration={d.id}")
            return self._vue_grappe(s, p, g)

        return self._commit_versioned(run, "la grappe")

    def exporter(self, jeton: str, territoire: Sequence[str], dossier: str | Path) -> list[Path]:
        """Write the constituted grappes of a territory: the existing dossier exports
        (CSV + XLSX, one folder per proposal) and ``contacts.csv`` with the contacts the
        caller may see (withdrawn declarations have none left)."""
        deps, _ = parse_territoire(territoire)
        folder = Path(dossier)
        with self.db.write() as s:
            p = self._principal(s, jeton)
            self._exiger_territoire(p, Action.EXPORTER, deps)
            by_run: dict[int, list[GrappeProposee]] = {}
            vues: list[GrappeVue] = []
            for g in s.scalars(select(GrappeProposee).where(
                    GrappeProposee.statut == "constituee").order_by(GrappeProposee.id)):
                if not set(g.departements) <= deps:
                    continue
                exiger(p, Action.EXPORTER, self._cible_grappe(s, g))
                by_run.setdefault(g.appariement_id, []).append(g)
                vues.append(self._vue_grappe(s, p, g, contacts=True))
            scenarios = []
            for run_id, gs in sorted(by_run.items()):
                run = s.get(Appariement, run_id)
                etab = app_build.from_snapshot(run.etablissements)
                grappes = [adapters.Grappe(id=g.code, champ=g.champ,
                                           og=sorted({m.finess_ej for m in g.membres}),
                                           esms=[e for m in g.membres for e in m.esms],
                                           porteur=g.porteur_ej or None) for g in gs]
                scenarios.append((run_id, etab, run.regles, grappes))
            self._audit_contacts(s, p, vues)
            self._audit(s, p, "export", "grappe", f"n={len(vues)}")
        if not vues:
            raise RegistreError("aucune grappe constituée à exporter dans ce territoire")
        written: list[Path] = []
        for run_id, etab, regles, grappes in scenarios:
            scenario = adapters.whatif(etab, regles, grappes)
            written += adapters.write_dossier(scenario, folder / f"appariement-{run_id}")
        rows = [{
            "grappe": v.code, "champ": v.champ, "finess_ej": m.finess_ej,
            "raison_sociale_ej": m.raison_sociale_ej, "porteur": "oui" if
            m.finess_ej == v.porteur_ej else "non",
            "contact_nom": m.contact.nom if m.contact else "",
            "contact_email": m.contact.email if m.contact else "",
            "contact_telephone": m.contact.telephone if m.contact else "",
        } for v in vues for m in v.membres]  # fmt: skip
        written.append(adapters.write_csv(pd.DataFrame(rows), folder / "contacts.csv"))
        return written
