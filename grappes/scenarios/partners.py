"""Partner finder: which proposed grappes or OGs an ESMS (often an isolated one) could join.

An ARS that wants to bring an isolated autonomous ESMS into the programme needs, for that
ESMS, the nearby grappes and OGs ranked by how well the move would work: distance, shared
DUI vendor, field, legal status, and what joining would change for the grappe: validity
(``grappes.programme.validate``), points and funding (``grappes.programme.costing``).

The unit that moves is the ESMS's OG with its ESMS of the field (the programme never splits
an OG between grappes); for an autonomous ESMS that is the ESMS alone.

Ranking (documented in ``README.md``): targets that stay valid first, then a compatible
DUI vendor, then ``10 × points after joining − distance in km`` (one point is worth 10 km,
as in the solver's default ``SolverWeights.km_per_point``), then the id.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from grappes.core.errors import UnusableInput
from grappes.core.model import CHAMPS
from grappes.core.vocabulary import STATUT_LABELS
from grappes.programme.costing import common_vendor, cost_grappe
from grappes.programme.reach import distance_to_grappe_km
from grappes.programme.validate import grappe_violations, text_column
from grappes.scenarios.whatif import WhatIf

#: One point of the grid is worth this many kilometres in the ranking.
KM_PER_POINT = 10.0
#: Candidates farther than this from the ESMS are not considered (km).
DEFAULT_MAX_KM = 100.0

SEARCH_COLUMNS: tuple[str, ...] = (
    "finess_et", "raison_sociale", "commune_nom", "departement", "champ", "categorie_libelle",
    "finess_ej", "raison_sociale_ej", "autonome", "grappe",
)  # fmt: skip

OPTION_COLUMNS: tuple[str, ...] = (
    "rang", "type", "cible", "libelle", "distance_km", "editeur",
    "editeur_compatible", "champ",
    "statut", "valide_avant", "valide_apres", "regles_enfreintes", "n_esms_apres", "n_og_apres",
    "points_avant", "points_apres", "financement_avant", "financement_apres",
)  # fmt: skip


def _plain(text: pd.Series) -> pd.Series:
    """Upper case without accents, for searching names the way people type them."""
    def strip(value: str) -> str:
        decomposed = unicodedata.normalize("NFKD", value)
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()

    return text.astype("string").fillna("").map(strip).astype("string")


def search_esms(etab: pd.DataFrame, query: str, assignment: dict[str, str] | None = None,
                limit: int = 20) -> pd.DataFrame:
    """ESMS matching a query: FINESS ET (exact or prefix), FINESS EJ of their OG (an OG
    director types their own number), name, the OG's name, commune name or code.

    Accents and case are ignored; every word of the query must appear in the name or the
    commune. Autonomous ESMS come first, then by name. Health establishments are skipped.
    """
    query = str(query or "").strip()
    if not query:
        return pd.DataFrame(columns=list(SEARCH_COLUMNS))
    table = etab[~text_column(etab, "champ").isin(["hors_champ"]).to_numpy()]
    et = text_column(table, "finess_et")
    if query.replace(" ", "").isdigit() or query[:2].upper() in ("2A", "2B"):
        digits = query.replace(" ", "").upper()
        mask = (et.str.startswith(digits) | (text_column(table, "commune") == digits)
                | (text_column(table, "finess_ej") == digits))
    else:
        words = _plain(pd.Series(query.split())).tolist()
        haystack = (_plain(text_column(table, "raison_sociale")) + " "
                    + _plain(text_column(table, "commune_nom")) + " "
                    + _plain(text_column(table, "raison_sociale_ej")))
        mask = pd.Series(True, index=table.index)
        for w in words:
            mask &= haystack.str.contains(w, regex=False)
    found = table[mask.to_numpy()].copy()
    lookup = pd.Series(dict(assignment or {}), dtype="string")
    found["grappe"] = text_column(found, "finess_et").map(lookup).astype("string").fillna("")
    found["autonome"] = found["autonome"].astype("boolean").fillna(False)
    found = found.sort_values(["autonome", "raison_sociale", "finess_et"],
                              ascending=[False, True, True])
    return found[list(SEARCH_COLUMNS)].head(limit).reset_index(drop=True)


@dataclass
class PartnerOption:
    """One grappe (or unplaced OG) the ESMS could join, and what it would change."""

    type: str
    cible: str
    libelle: str
    #: from the unit's centre to the target's centre (``grappes.programme.reach``), km
    distance_km: float
    editeur: str
    editeur_compatible: bool
    champ: str
    statut: str
    valide_avant: bool | None
    valide_apres: bool
    regles_enfreintes: list[str]
    n_esms_apres: int
    n_og_apres: int
    points_avant: int
    points_apres: int
    financement_avant: float
    financement_apres: float
    rang: int = 0

    def rank_key(self) -> tuple:
        value = KM_PER_POINT * self.points_apres - self.distance_km
        return (not self.valide_apres, not self.editeur_compatible, -value, self.cible)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PartnerReport:
    """The ESMS, where it stands now, and its ranked options."""

    esms: dict[str, Any]
    unite: list[str]
    grappe_actuelle: str
    depart: dict[str, Any] | None
    options: list[PartnerOption] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """One row per option (``OPTION_COLUMNS``), violations joined with ' | '."""
        rows = []
        for o in self.options:
            d = o.as_dict()
            d["regles_enfreintes"] = " | ".join(o.regles_enfreintes)
            rows.append(d)
        return pd.DataFrame(rows, columns=list(OPTION_COLUMNS))

    def as_dict(self) -> dict[str, Any]:
        return {
            "esms": dict(self.esms),
            "unite": list(self.unite),
            "grappe_actuelle": self.grappe_actuelle,
            "depart": self.depart,
            "options": [o.as_dict() for o in self.options],
        }


def _vendor_text(unit: pd.DataFrame, members: pd.DataFrame) -> tuple[str, bool]:
    """How the unit's DUI fits the grappe's common vendor (French), and whether it does."""
    mine_key, mine = common_vendor(unit)
    theirs_key, theirs = common_vendor(members) if len(members) else (None, "")
    if mine_key is None and theirs_key is None:
        return "aucun DUI en place de part et d'autre : choix ouvert", True
    if mine_key is None:
        return f"pas de DUI en place : rejoindrait {theirs}", True
    if theirs_key is None:
        return f"apporte son DUI ({mine}) : aucun DUI en place dans la cible", True
    if mine_key == theirs_key:
        return f"même éditeur : {mine}", True
    return f"éditeurs différents : {mine} (ESMS) / {theirs} (cible)", False


def _statut_text(rows: pd.DataFrame) -> str:
    og = rows.drop_duplicates("finess_ej")
    counts = text_column(og, "statut_agrege").replace("", "inconnu").value_counts()
    parts = [f"{STATUT_LABELS.get(str(s), str(s))} ({int(n)})" for s, n in counts.items()]
    return ", ".join(parts)


def _target_esms(scenario: WhatIf, finess_et: str) -> pd.Series:
    """The ESMS's row, refused in French when unknown, out of the call's fields or unplaced
    on the map (no distance can be measured)."""
    etab, rules = scenario.etab, scenario.rules
    et_col = text_column(etab, "finess_et")
    key = str(finess_et).strip()
    if key not in set(et_col):
        msg = f"ESMS (FINESS ET) introuvable dans les données : {key}"
        raise UnusableInput(msg)
    row = etab[(et_col == key).to_numpy()].iloc[0]
    champ = str(row["champ"])
    if champ not in CHAMPS or champ not in rules.grouping.grappe_champs:
        msg = f"l'ESMS {key} est hors des champs de l'appel {rules.name} (champ {champ})"
        raise UnusableInput(msg)
    if not (np.isfinite(float(row["lon"])) and np.isfinite(float(row["lat"]))):
        msg = f"l'ESMS {key} n'a pas de coordonnées : distances impossibles à calculer"
        raise UnusableInput(msg)
    return row


def _grappe_options(scenario: WhatIf, unit: pd.DataFrame, unit_et: list[str], champ: str,
                    current: str, top: int, max_km: float) -> list[PartnerOption]:
    """The proposed grappes of the field within reach, by the one distance (unit to grappe
    centre), each evaluated with the unit added."""
    now = scenario.current or scenario.evaluate()
    near: list[tuple[float, str]] = []
    for gid in scenario.grappe_ids:
        if gid == current or scenario.champ_of.get(gid) != champ:
            continue
        km = distance_to_grappe_km(unit, scenario.rows_of(scenario.members(gid)))
        if km <= max_km:
            near.append((km, gid))
    options = []
    for km, gid in sorted(near)[: top + 2]:
        members = scenario.members(gid)
        before = scenario.cost(gid)
        after_et = sorted(set(members) | set(unit_et))
        porteur = scenario.porteurs.get(gid) or before.porteur
        options.append(_evaluate(scenario, "grappe", gid, f"grappe {gid}", km, unit,
                                 scenario.rows_of(members), after_et, champ, porteur,
                                 not now.violations.get(gid), before.score.total, before.total))
    return options


def _free_og_options(scenario: WhatIf, unit: pd.DataFrame, unit_et: list[str], og: str,
                     champ: str, top: int, max_km: float) -> list[PartnerOption]:
    """The OGs of the field in no grappe within reach, each evaluated as a new grappe with
    the unit."""
    etab = scenario.etab
    in_champ = etab[(text_column(etab, "champ") == champ).to_numpy()]
    in_champ = in_champ[~text_column(in_champ, "finess_et").isin(
        list(scenario.set_aside | set(scenario.constraints.excluded_esms))).to_numpy()]
    ej_free = text_column(in_champ, "finess_ej")
    free = ~text_column(in_champ, "finess_et").isin(list(scenario.assignment))
    free &= (ej_free != og) & (ej_free != "")
    near: list[tuple[float, str]] = []
    for other in sorted(set(ej_free[free])):
        their_et = scenario.og_esms(str(other), champ)
        if not their_et:
            continue
        km = distance_to_grappe_km(unit, scenario.rows_of(their_et))
        if km <= max_km:
            near.append((km, str(other)))
    options = []
    for km, other in sorted(near)[: top // 2 + 1]:
        their_et = scenario.og_esms(other, champ)
        rows = scenario.rows_of(their_et)
        name = str(text_column(rows, "raison_sociale_ej").iloc[0]) or other
        after_et = sorted(set(their_et) | set(unit_et))
        options.append(_evaluate(scenario, "og", other, f"OG {name} ({other})", km, unit,
                                 rows, after_et, champ, None, None, 0, 0.0))
    return options


def _leaving(scenario: WhatIf, current: str, unit_et: list[str],
             champ: str) -> dict[str, Any] | None:
    """What the ESMS's current grappe becomes without its unit (None: it is in no grappe)."""
    if not current:
        return None
    rest = [e for e in scenario.members(current) if e not in set(unit_et)]
    before = scenario.cost(current)
    if not rest:
        return {"grappe": current, "valide_apres": False,
                "regles_enfreintes": ["la grappe disparaîtrait"],
                "points_avant": before.score.total, "points_apres": 0,
                "financement_avant": before.total, "financement_apres": 0.0}
    rows = scenario.rows_of(rest)
    vs = _violations(scenario, rows, champ)
    porteur = before.porteur if before.porteur in set(text_column(rows, "finess_ej")) else None
    after = cost_grappe(rows, scenario.rules, porteur=porteur)
    return {"grappe": current, "valide_apres": not vs,
            "regles_enfreintes": [v.message for v in vs],
            "points_avant": before.score.total, "points_apres": after.score.total,
            "financement_avant": before.total, "financement_apres": after.total}


def _esms_info(row: pd.Series) -> dict[str, Any]:
    return {
        "finess_et": str(row["finess_et"]).strip(),
        "raison_sociale": str(row["raison_sociale"]),
        "finess_ej": str(row["finess_ej"]),
        "raison_sociale_ej": str(row.get("raison_sociale_ej", "") or ""),
        "champ": str(row["champ"]),
        "categorie": str(row.get("categorie_libelle", "") or ""),
        "commune": str(row.get("commune_nom", "") or ""),
        "departement": str(row.get("departement", "") or ""),
        "autonome": bool(pd.notna(row.get("autonome")) and row.get("autonome")),
        "dui_editeur": str(row.get("dui_editeur", "") or ""),
        "dui_statut": str(row.get("dui_statut", "") or ""),
    }


def find_partners(
    scenario: WhatIf,
    finess_et: str,
    top: int = 10,
    max_km: float = DEFAULT_MAX_KM,
) -> PartnerReport:
    """Rank the grappes and unplaced OGs that the ESMS ``finess_et`` could join.

    Parameters
    ----------
    scenario
        The current grouping (a :class:`grappes.scenarios.whatif.WhatIf`, whose cached costs are
        reused for the "before" figures).
    top
        Options returned, at most.
    max_km
        Targets whose nearest ESMS is farther than this (km) are left out.

    Raises ``UnusableInput`` (French) for an unknown ESMS, one outside the call's fields or
    without coordinates.
    """
    row = _target_esms(scenario, finess_et)
    key, champ, og = str(finess_et).strip(), str(row["champ"]), str(row["finess_ej"])
    # the ESMS moves with its OG's other ESMS of the field (an OG is not split)
    unit_et = sorted(set(scenario.og_esms(og, champ)) | {key})
    unit = scenario.etab[text_column(scenario.etab, "finess_et").isin(unit_et).to_numpy()]
    current = scenario.assignment.get(key, "")
    options = [*_grappe_options(scenario, unit, unit_et, champ, current, top, max_km),
               *_free_og_options(scenario, unit, unit_et, og, champ, top, max_km)]
    options.sort(key=PartnerOption.rank_key)
    options = options[:top]
    for i, o in enumerate(options, 1):
        o.rang = i
    return PartnerReport(esms=_esms_info(row), unite=unit_et,
                         grappe_actuelle=current,
                         depart=_leaving(scenario, current, unit_et, champ), options=options)


def _violations(scenario: WhatIf, rows: pd.DataFrame, champ: str) -> list:
    """Hard rules broken by ``rows`` (the reach included, at the scenario's ``max_km``), the
    OG split checked against their OGs' ESMS only."""
    ogs = set(text_column(rows, "finess_ej"))
    etab = scenario.etab
    mask = text_column(etab, "finess_ej").isin(list(ogs)) & (text_column(etab, "champ") == champ)
    mask &= ~text_column(etab, "finess_et").isin(
        list(scenario.set_aside | set(scenario.constraints.excluded_esms)))
    return grappe_violations(rows, scenario.rules.grouping, champ, all_esms=etab[mask.to_numpy()],
                             max_km=scenario.max_km)


def _evaluate(
    scenario: WhatIf,
    kind: str,
    target: str,
    label: str,
    km: float,
    unit: pd.DataFrame,
    target_rows: pd.DataFrame,
    after_et: list[str],
    champ: str,
    porteur: str | None,
    valid_before: bool | None,
    points_before: int,
    funding_before: float,
) -> PartnerOption:
    """One option: the target with the unit in it, re-validated (every hard rule of
    ``grappes.programme.validate``, the reach included) and re-costed."""
    rows = scenario.rows_of(after_et)
    vs = _violations(scenario, rows, champ)
    cost = cost_grappe(rows, scenario.rules, porteur=porteur)
    vendor, ok = _vendor_text(unit, target_rows)
    return PartnerOption(
        type=kind,
        cible=target,
        libelle=label,
        distance_km=round(km, 1),
        editeur=vendor,
        editeur_compatible=ok,
        champ=champ,
        statut=_statut_text(rows),
        valide_avant=valid_before,
        valide_apres=not vs,
        regles_enfreintes=[v.message for v in vs],
        n_esms_apres=len(rows),
        n_og_apres=int(text_column(rows, "finess_ej").nunique()),
        points_avant=int(points_before),
        points_apres=int(cost.score.total),
        financement_avant=float(funding_before),
        financement_apres=float(cost.total),
    )
