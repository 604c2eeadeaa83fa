"""Cost one grappe under a rule set: funding lines, total, split by région, payment schedule.

The amounts are data (``RuleSet.lines``): this module only decides, for each ESMS, its
project type (from its DUI status), whether it is funded, and which lines apply, then adds
up. The order of the steps follows the documents:

1. the ESMS that count (eligible field, not already funded; under amorçage t2 the
   already-funded ESMS of small OGs stay, for the small-OG lines only) and the exclusions of
   the rule set (e.g. an upgrade with a vendor not referenced Ségur in 2022, which counts
   neither toward the minimum nor toward the size tier);
2. the common vendor (the one most members already use) and whether it is referenced
   Ségur; a member tied to another vendor changes software, costed as the rule set says
   (t2 and 2022: an acquisition; t1: a mise en conformité, 002 « montée en version (ou le
   changement de solution) »);
3. the size tier (number of counted ESMS), then each ESMS's per-ESMS lines; an ESMS is
   *funded* when at least one per-ESMS line pays for it (the small-OG equipment only comes
   with a DUI project, 000 « Le financement des équipements … doit être concomitant »);
4. the cap on funded ESMS per project (49 in 2021 t2 for acquisition and conformité, 30 in
   t1): a project above it stays valid, and the ESMS kept are those that bring the most
   funding (per-ESMS lines and small-OG equipment), so the porteur gets the most funding
   the cap allows; ties by FINESS number;
5. per-project lines (AMOA) under their condition, the total (ESMS numérique only; the
   SONS money goes to the vendor and is shown apart), the split between régions pro rata
   of their funded ESMS (000 Nota bene), the payment schedule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from grappes.core.columns import flag_column, text_column
from grappes.core.errors import UnusableInput
from grappes.core.model import DUI_INCONNU, DUI_STATUTS
from grappes.geo.distances import pairwise_km
from grappes.programme.rules import FundingLineRule, RuleSet
from grappes.programme.scoring import Score, score_arrays
from grappes.programme.validate import (
    VENDOR_BOUND_STATUTS,
    carried_mask,
    counted_mask,
    normalise_vendor,
    small_og_mask,
)

PROJECT_TYPE_LABELS: dict[str, str] = {
    "acquisition": "acquisition",
    "conformite": "mise en conformité / montée de version",
    "deploiement": "déploiement",
    "mixte": "mixte (acquisition et mise en conformité)",
    "deja_finance": "déjà financé au temps 1 (prestations « petits OG » seulement)",
    "aucun": "rien à financer",
}


@dataclass
class FundingLine:
    """One computed funding line of a grappe."""

    label: str
    basis: str
    quantity: int
    unit_amount: float
    amount: float
    code: str = ""
    #: 'esms_numerique' (in the grant) or 'sons' (paid to the vendor, outside the total)
    lever: str = "esms_numerique"
    beneficiary: str = "porteur"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "basis": self.basis,
            "quantity": self.quantity,
            "unit_amount": self.unit_amount,
            "amount": self.amount,
            "lever": self.lever,
            "beneficiary": self.beneficiary,
        }


@dataclass
class Instalment:
    label: str
    share: float
    amount: float

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "share": self.share, "amount": self.amount}


@dataclass
class GrappeCost:
    """What a grappe would receive under a rule set, and why."""

    total: float
    lines: list[FundingLine]
    by_region: dict[str, float]
    schedule: list[Instalment]
    sons_vendor: float
    project_type: str
    vendor: str | None
    vendor_segur: bool | None
    porteur: str
    eligibility: list[str]
    score: Score
    rules: str = ""
    #: counted ESMS (eligible field, not already funded): the size of the grouping
    n_esms: int = 0
    #: ESMS receiving per-ESMS funding (after exclusions and the cap)
    n_funded: int = 0
    #: FINESS ET -> project type of each member ('exclu' when not funded for a reason)
    esms_types: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "total": self.total,
            "lines": [ln.as_dict() for ln in self.lines],
            "by_region": dict(self.by_region),
            "schedule": [i.as_dict() for i in self.schedule],
            "sons_vendor": self.sons_vendor,
            "project_type": self.project_type,
            "vendor": self.vendor,
            "vendor_segur": self.vendor_segur,
            "porteur": self.porteur,
            "eligibility": list(self.eligibility),
            "score": self.score.as_dict(),
            "n_esms": self.n_esms,
            "n_funded": self.n_funded,
        }


# --------------------------------------------------------------------------- helpers


def _list(values: list[str], limit: int = 10) -> str:
    values = sorted(values)
    shown = ", ".join(values[:limit])
    return shown + (f" … (+{len(values) - limit})" if len(values) > limit else "")


def _common_vendor_arrays(statut: np.ndarray, key: np.ndarray, raw: np.ndarray,
                          mask: np.ndarray) -> tuple[str | None, str]:
    bound = np.isin(statut, VENDOR_BOUND_STATUTS) & (key != "") & mask
    if not bound.any():
        return None, ""
    counts = Counter(key[bound])
    top = max(counts.values())
    best = min(k for k, v in counts.items() if v == top)
    names = Counter(raw[bound & (key == best)])
    top = max(names.values())
    return str(best), str(min(n for n, v in names.items() if v == top))


def common_vendor(members: pd.DataFrame, mask: pd.Series | None = None) -> tuple[str | None, str]:
    """The vendor most members already use (conformant or to upgrade), as (key, display name).

    Ties: alphabetical on the normalised name. ``(None, '')`` when no member has one.
    """
    m = np.ones(len(members), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    return _common_vendor_arrays(
        text_column(members, "dui_statut").to_numpy(dtype=object),
        normalise_vendor(text_column(members, "dui_editeur")).to_numpy(dtype=object),
        text_column(members, "dui_editeur").to_numpy(dtype=object),
        m,
    )


def _coords(members: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for col in ("lon", "lat"):
        if col in members.columns:
            out.append(pd.to_numeric(members[col], errors="coerce").to_numpy(dtype=float))
        else:
            out.append(np.full(len(members), np.nan))
    return out[0], out[1]


def _default_porteur_arrays(ej: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> str:
    named = Counter(x for x in ej if x)
    if not named:
        return ""
    top = max(named.values())
    tied = sorted(str(k) for k, v in named.items() if v == top)
    if len(tied) == 1:
        return tied[0]
    ok = ~(np.isnan(lon) | np.isnan(lat))
    mean_km: dict[str, float] = {}
    if ok.sum() >= 2:
        dist = pairwise_km(lon[ok], lat[ok])
        ej_ok = ej[ok]
        for og in tied:
            inside = ej_ok == og
            if inside.any() and (~inside).any():
                # rounded to the metre so that float noise never decides between OGs
                mean_km[og] = round(float(dist[np.ix_(inside, ~inside)].mean()), 3)
    return min(tied, key=lambda og: (mean_km.get(og, float("inf")), og))


def default_porteur(members: pd.DataFrame, mask: pd.Series | None = None) -> str:
    """The OG with the most ESMS in the grappe; ties: the most central, then the FINESS EJ.

    Central = smallest mean great-circle distance from the OG's ESMS to the other members.
    ``mask`` restricts the count to some rows (the counted ESMS).
    """
    m = np.ones(len(members), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if not m.any():
        m = np.ones(len(members), dtype=bool)
    lon, lat = _coords(members)
    ej = text_column(members, "finess_ej").to_numpy(dtype=object)
    return _default_porteur_arrays(ej[m], lon[m], lat[m])


def _split_cents(total: float, weights: Mapping[str, float]) -> dict[str, float]:
    """Split ``total`` pro rata of ``weights`` in cents, remainders to the largest fractions."""
    keys = sorted(k for k, w in weights.items() if w > 0)
    if not keys:
        return {}
    cents = round(total * 100)
    w = np.array([weights[k] for k in keys], dtype=float)
    exact = cents * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = int(cents - base.sum())
    order = sorted(range(len(keys)), key=lambda i: (-(exact[i] - base[i]), keys[i]))
    for i in order[:rest]:
        base[i] += 1
    return {k: float(base[i]) / 100 for i, k in enumerate(keys)}


def split_schedule(total: float, rules: RuleSet) -> list[float]:
    """The amount of each instalment of ``rules.schedule``, in whole cents; the last one
    takes the rounding so they add up to the total. The one home of this split: the
    costing's instalments and the follow-up's tranches (``followup.model``) both use it."""
    out: list[int] = []
    cents = round(total * 100)
    for i, inst in enumerate(rules.schedule):
        last = i == len(rules.schedule) - 1
        out.append(cents - sum(out) if last else round(cents * inst.share))
    return [c / 100 for c in out]


def _schedule(total: float, rules: RuleSet) -> list[Instalment]:
    """The instalments of the funding, with their labels and shares."""
    return [Instalment(inst.label, inst.share, amount)
            for inst, amount in zip(rules.schedule, split_schedule(total, rules), strict=True)]


def _health_findings(et: np.ndarray, ej: np.ndarray, sanitaire: np.ndarray,
                     porteur: str) -> list[str]:
    """What the grappe does with its health establishments (rows ``sanitaire``).

    003 Q18: « Un GHT peut en effet porter un projet pour les établissements et services
    médico-sociaux qui lui sont rattachés ». A health establishment of the porteur's EJ is
    the porteur's own row; any other is set aside. Either way it is neither counted nor
    funded, and the grappe is judged on its ESMS.
    """
    out = []
    own = sanitaire & (ej == porteur) if porteur else np.zeros(len(et), dtype=bool)
    if own.any():
        out.append(f"Établissement sanitaire de l'OG porteur {porteur} ({_list(list(et[own]))}) : "
                   "il porte le projet pour les ESMS qui lui sont rattachés (003 Q18 « Un GHT "
                   "peut en effet porter un projet pour les établissements et services "
                   "médico-sociaux qui lui sont rattachés ») ; ni compté ni financé, la "
                   "grappe est jugée sur ses ESMS.")
    other = sanitaire & ~own
    if other.any():
        out.append(f"Établissement sanitaire écarté ({_list(list(et[other]))}) : hors du champ "
                   "médico-social du programme et pas porteur du projet ; ni compté ni "
                   "financé, la grappe est jugée sans lui.")
    return out


# --------------------------------------------------------------------------- costing


@dataclass
class _Members:
    """A grappe's columns read once as arrays, and what the costing found about them.

    The costing's steps (:func:`cost_grappe`) share it: each reads the columns it needs,
    narrows ``excluded`` and adds its French findings, in the order the reader sees them.
    """

    frame: pd.DataFrame
    et: np.ndarray
    ej: np.ndarray
    champ: np.ndarray
    region: np.ndarray
    statut: np.ndarray
    raw_vendor: np.ndarray
    key: np.ndarray
    counted: np.ndarray
    deja: np.ndarray
    carried: np.ndarray
    derog: np.ndarray
    small: np.ndarray
    sanitaire: np.ndarray
    excluded: np.ndarray
    findings: list[str]

    @property
    def n(self) -> int:
        return len(self.et)


def _read_members(members: pd.DataFrame, rules: RuleSet) -> _Members:
    grouping = rules.grouping
    counted = counted_mask(members, grouping, segur_rule=False).to_numpy(dtype=bool)
    return _Members(
        frame=members,
        et=text_column(members, "finess_et").to_numpy(dtype=object),
        ej=text_column(members, "finess_ej").to_numpy(dtype=object),
        champ=text_column(members, "champ").to_numpy(dtype=object),
        region=text_column(members, "region").to_numpy(dtype=object),
        statut=text_column(members, "dui_statut").to_numpy(dtype=object),
        raw_vendor=text_column(members, "dui_editeur").to_numpy(dtype=object),
        key=normalise_vendor(text_column(members, "dui_editeur")).to_numpy(dtype=object),
        counted=counted,
        deja=flag_column(members, "deja_finance").to_numpy(dtype=bool),
        carried=carried_mask(members, grouping).to_numpy(dtype=bool) & counted,
        derog=flag_column(members, "derogatoire").to_numpy(dtype=bool),
        small=small_og_mask(members, grouping).to_numpy(dtype=bool),
        sanitaire=flag_column(members, "sanitaire").to_numpy(dtype=bool),
        excluded=~counted,
        findings=[],
    )


def _exclusions(m: _Members, rules: RuleSet) -> None:
    """Step 1: who counts, who is excluded and why."""
    bad_field = ~np.isin(m.champ, rules.grouping.eligible_champs) & ~m.sanitaire
    if "deja_finance" in set(rules.eligibility_codes):
        m.excluded = m.excluded | (m.deja & ~m.carried)
    if bad_field.any():
        m.findings.append(f"Champ non éligible à cet appel, ESMS non financés ni comptés : "
                          f"{_list(list(m.et[bad_field]))}.")
    already = m.deja & ~bad_field & m.excluded
    if already.any():
        m.findings.append("Déjà financés (ESMS numérique, ou SONS pour un autre logiciel), "
                          f"non financés ni comptés : {_list(list(m.et[already]))}.")
    if m.carried.any():
        m.findings.append("Déjà financés, d'un petit OG : comptés dans la grappe, sans "
                          "acquisition ni mise en conformité, mais avec les prestations « petits "
                          f"OG » (équipement, AMOA) : {_list(list(m.et[m.carried]))}.")


def _choose_porteur(m: _Members, porteur: str | None) -> str:
    """Step 2: the porteur given (an OG, or an ESMS of it) or the default one."""
    if porteur:
        porteur = porteur.strip()
        if porteur in set(m.et):
            porteur = str(m.ej[m.et == porteur][0])
        if porteur not in set(m.ej):
            msg = (f"Le porteur {porteur} n'est pas un OG (FINESS EJ) ni un ESMS (FINESS ET) "
                   "de la grappe.")
            raise UnusableInput(msg)
    else:
        lon, lat = _coords(m.frame)
        rows = m.counted if m.counted.any() else np.ones(m.n, dtype=bool)
        porteur = _default_porteur_arrays(m.ej[rows], lon[rows], lat[rows])
    m.findings.extend(_health_findings(m.et, m.ej, m.sanitaire, porteur))
    return porteur


@dataclass(frozen=True)
class _Vendor:
    """Step 3's answer: the grappe's common DUI vendor and its Ségur referencing."""

    key: str | None
    name: str
    #: known from the data (None: unknown)
    segur_known: bool | None
    #: what the costing assumes (the rule set's default when unknown)
    segur: bool


def _vendor(m: _Members, rules: RuleSet) -> _Vendor:
    """Step 3: vendor and Ségur status."""
    vendor_key, vendor_name = _common_vendor_arrays(m.statut, m.key, m.raw_vendor, ~m.excluded)
    known_segur: bool | None = None
    if vendor_key is not None and "editeur_segur" in m.frame.columns:
        users = ~m.excluded & (m.key == vendor_key)
        flags = m.frame["editeur_segur"].astype("boolean").to_numpy(dtype=object)[users]
        known = [bool(f) for f in flags if f is not pd.NA and f is not None]
        if any(known):
            known_segur = True
        elif known:
            known_segur = False
    segur = rules.segur_default if known_segur is None else known_segur
    return _Vendor(vendor_key, vendor_name, known_segur, segur)


def _project_types(m: _Members, rules: RuleSet, vendor: _Vendor) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """Step 4: the project type of each ESMS (and its typology); ESMS a rule makes
    ineligible join ``m.excluded`` (type « exclu »)."""
    codes = set(rules.eligibility_codes)
    statut = np.where(np.isin(m.statut, [*DUI_STATUTS, DUI_INCONNU]), m.statut, DUI_INCONNU)
    ptype = np.array([rules.type_by_statut[s] for s in statut], dtype=object)
    switch = ~m.excluded & ~m.carried & np.isin(statut, VENDOR_BOUND_STATUTS) & (m.key != "")
    switch &= (m.key != vendor.key) if vendor.key is not None else False
    if switch.any():
        ptype[switch] = rules.switch_type
        how = PROJECT_TYPE_LABELS.get(rules.switch_type, rules.switch_type)
        m.findings.append(f"Changement d'éditeur vers {vendor.name}, chiffré comme une {how} : "
                          f"{_list(list(m.et[switch]))}.")
    ptype[m.carried] = "deja_finance"
    if "conformite_non_segur" in codes and vendor.segur is False:
        non_segur = ~m.excluded & (ptype == "conformite")
        if non_segur.any():
            m.excluded = m.excluded | non_segur
            m.findings.append(f"Montée de version avec un éditeur non référencé Ségur "
                              f"({vendor.name or 'éditeur inconnu'}) : non éligible, ni "
                              f"financée ni comptée dans le seuil ni dans le palier "
                              f"({_list(list(m.et[non_segur]))}).")
    typology = np.array([(rules.typology_of(str(c)).code if rules.typology_of(str(c)) else "")
                         for c in m.champ], dtype=object)
    if vendor.segur is False:
        # 004 « ! PRÉREQUIS ! » of the project type: « Editeur doit être référencé Ségur »
        strict = {t.code for t in rules.typologies if t.prerequisite == "segur"}
        blocked = ~m.excluded & (ptype == "acquisition") & np.isin(typology, list(strict))
        if blocked.any():
            m.excluded = m.excluded | blocked
            kinds = ", ".join(sorted({str(t) for t in typology[blocked]}))
            m.findings.append(f"Acquisition {kinds} avec un éditeur non référencé Ségur "
                              f"({vendor.name or 'éditeur inconnu'}) : prérequis du type de "
                              f"projet non rempli (004 « Editeur doit être référencé Ségur »), "
                              f"ni financée ni comptée ({_list(list(m.et[blocked]))}).")
    ptype[m.excluded] = "exclu"
    return ptype, typology


@dataclass(frozen=True)
class _Applies:
    """Which ESMS a per-ESMS line pays for, before the funded/small-OG filters."""

    ptype: np.ndarray
    typology: np.ndarray
    n_esms: int
    segur: bool

    def __call__(self, line: FundingLineRule) -> np.ndarray:
        if not line.fits_size(self.n_esms) or (line.segur is not None
                                                and line.segur != self.segur):
            return np.zeros(len(self.ptype), dtype=bool)
        ok = np.isin(self.ptype, line.types)
        if line.typologies:
            ok &= np.isin(self.typology, list(line.typologies))
        return ok


def _funded_esms(m: _Members, rules: RuleSet, applies: _Applies) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """Step 5: the ESMS a per-ESMS line funds (within the cap per project), and those paid
    at all (funded, or carried over from a small OG and named by an equipment line)."""
    ptype = applies.ptype
    unit_value = np.zeros(m.n)
    funded = np.zeros(m.n, dtype=bool)
    for ln in rules.lines:
        if ln.basis == "per_esms":
            ok = applies(ln)
            funded |= ok
            if ln.lever == "esms_numerique":
                unit_value += ok * ln.amount
    for ln in rules.lines:
        if ln.basis == "per_esms_small_og" and ln.lever == "esms_numerique":
            unit_value += (applies(ln) & funded & m.small) * ln.amount
    nothing = ~m.excluded & ~funded & ~m.carried
    if nothing.any():
        kinds = sorted({PROJECT_TYPE_LABELS.get(str(t), str(t)) for t in ptype[nothing]})
        m.findings.append(f"Rien à financer pour ces ESMS ({', '.join(kinds)} : aucune ligne "
                          f"de cet appel) : {_list(list(m.et[nothing]))}.")
    capped = funded & np.isin(ptype, rules.capped_types)
    if rules.max_funded_esms is not None and int(capped.sum()) > rules.max_funded_esms:
        # the most funding within the cap: per-ESMS amounts add up, so keeping the ESMS
        # worth the most (their line plus the small-OG equipment) maximises the total
        ranked = sorted(np.flatnonzero(capped), key=lambda i: (-unit_value[i], m.et[i]))
        beyond = np.zeros(m.n, dtype=bool)
        beyond[ranked[rules.max_funded_esms:]] = True
        funded &= ~beyond
        m.findings.append(f"{int(beyond.sum())} ESMS au-delà du plafond de "
                          f"{rules.max_funded_esms} ESMS financés par projet (projet recevable, "
                          f"financement limité au plafond ; ESMS retenus : ceux qui apportent "
                          f"le plus) : {_list(list(m.et[beyond]))}.")
    # already-funded ESMS of small OGs: the lines that name them (equipment, AMOA)
    carried_paid = np.zeros(m.n, dtype=bool)
    for ln in rules.lines:
        if "deja_finance" in ln.types and ln.basis == "per_esms_small_og":
            carried_paid |= applies(ln) & m.carried & m.small
    return funded, funded | carried_paid


def _lines(m: _Members, rules: RuleSet, applies: _Applies, funded: np.ndarray,
           paid: np.ndarray, porteur: str) -> list[FundingLine]:
    """Step 6: the funding lines, per ESMS and per project, with their caps."""
    ptype, typology, n_esms = applies.ptype, applies.typology, applies.n_esms
    lines: list[FundingLine] = []
    funded_types = set(ptype[paid])
    porteur_small = bool(m.small[m.ej == porteur].any()) if porteur else False
    kept = ~m.excluded
    all_small = bool(m.small[kept].all()) if kept.any() else False
    for ln in rules.lines:
        if ln.basis == "per_project":
            paid_types = funded_types
            if ln.typologies:
                paid_types = set(ptype[paid & np.isin(typology, list(ln.typologies))])
            ok = bool(paid_types & set(ln.types)) and ln.fits_size(n_esms)
            if ln.segur is not None:
                ok &= ln.segur == applies.segur
            if ln.condition == "tous_petits_og":
                ok &= all_small
            elif ln.condition == "porteur_petit_og":
                ok &= porteur_small
            elif ln.condition == "un_petit_og":
                ok &= bool(m.small[paid].any())
            qty = int(ok)
        else:
            mask = applies(ln) & funded
            if ln.basis == "per_esms_small_og":
                mask = applies(ln) & paid & m.small
            qty = int(mask.sum())
        if ln.cap is not None:
            qty = min(qty, ln.cap)
        if qty:
            lines.append(FundingLine(ln.label, ln.basis, qty, ln.amount, qty * ln.amount,
                                     ln.code, ln.lever, ln.beneficiary))
    return lines


def _closing_findings(m: _Members, rules: RuleSet, vendor: _Vendor, ptype: np.ndarray,
                      n_esms: int) -> None:
    """What the reader must know about the amounts and the threshold."""
    if vendor.segur_known is None and any(
        ln.segur is not None and bool(np.isin(ptype, ln.types).any()) and ln.fits_size(n_esms)
        for ln in rules.lines
    ):
        what = f"éditeur {vendor.name}" if vendor.key else "aucun éditeur commun choisi"
        status = "référencé" if rules.segur_default else "non référencé"
        m.findings.append(f"Référencement Ségur inconnu ({what}) : montants calculés pour un "
                          f"éditeur {status} Ségur.")
    grouping = rules.grouping
    minimum = grouping.min_esms_derogatoire if (m.n and m.derog.all()) else grouping.min_esms
    if n_esms < minimum:
        m.findings.append(f"Grappe : {n_esms} ESMS comptés après exclusions, il en faut au "
                          f"moins {minimum} pour être éligible.")


def _project_type(funded_types: set[str]) -> str:
    """The grappe's project type from its paid ESMS' types."""
    kinds = funded_types - {"exclu"}
    main = kinds - {"deja_finance"}  # the t1 ESMS carried over do not change the project type
    if not kinds:
        return "aucun"
    if not main:
        return "deja_finance"
    if len(main) == 1:
        return next(iter(main))
    return "mixte"


def cost_grappe(
    members: pd.DataFrame,
    rules: RuleSet,
    porteur: str | None = None,
    declared: Mapping[str, bool] | None = None,
    region: str | None = None,
) -> GrappeCost:
    """Cost one grappe (rows of the normalised establishments table) under ``rules``.

    The steps, in the order of the findings the reader sees: who counts (1), the porteur
    (2), the common vendor and its Ségur referencing (3), each ESMS' project type (4), the
    ESMS funded within the cap (5), the funding lines (6), then the grid's points.

    Parameters
    ----------
    porteur
        FINESS EJ of the OG carrying the project (or FINESS ET of one of its ESMS);
        default: the OG with the most ESMS, ties broken by centrality.
    declared
        Declared criteria of the priority grid (code -> True), see ``grappes.programme.scoring``.
    region
        The ARS's region for the "of the region" criteria; default: the main region.

    Raises ``ValueError`` (French message) when ``porteur`` is not in the grappe.
    """
    m = _read_members(members, rules)
    _exclusions(m, rules)
    porteur = _choose_porteur(m, porteur)
    vendor = _vendor(m, rules)
    ptype, typology = _project_types(m, rules, vendor)
    # the size of the grouping (threshold, tier): after every exclusion (004 « Non éligible »)
    n_esms = int((~m.excluded).sum())
    applies = _Applies(ptype, typology, n_esms, vendor.segur)
    funded, paid = _funded_esms(m, rules, applies)
    lines = _lines(m, rules, applies, funded, paid, porteur)
    total = float(sum(ln.amount for ln in lines if ln.lever == "esms_numerique"))
    sons = float(sum(ln.amount for ln in lines if ln.lever == "sons"))
    _closing_findings(m, rules, vendor, ptype, n_esms)
    weights = Counter(str(r) for r in m.region[paid])
    counted = ~m.excluded
    score = score_arrays(
        m.region[counted], m.ej[counted],
        text_column(members, "departement").to_numpy(dtype=object)[counted],
        flag_column(members, "autonome").to_numpy(dtype=bool)[counted],
        rules, declared, [ln.code for ln in lines], region,
    )
    return GrappeCost(
        total=total,
        lines=lines,
        by_region=_split_cents(total, {k: float(v) for k, v in weights.items()}),
        schedule=_schedule(total, rules),
        sons_vendor=sons,
        project_type=_project_type(set(ptype[paid])),
        vendor=vendor.name or None,
        vendor_segur=vendor.segur_known,
        porteur=porteur,
        eligibility=m.findings,
        score=score,
        rules=rules.name,
        n_esms=n_esms,
        n_funded=int(paid.sum()),
        esms_types={str(k): str(v) for k, v in zip(m.et, ptype, strict=True)},
    )

