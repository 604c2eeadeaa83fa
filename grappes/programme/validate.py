"""Check a grappe, or a whole grouping, against the hard rules of a call for projects.

The solver, the benchmark, ``grappes chiffrer`` and the app's what-if screen all use these
functions as the one independent checker, so they never raise on odd data: every problem
comes back as a :class:`Violation` with a French message a user can act on.

Which ESMS count ("the project"): those of an eligible field (``GroupingRules.eligible_champs``)
and, when ``exclude_deja_finance``, not already funded (amorçage t2 keeps the already-funded
ESMS of small OGs, 000 « pourront également bénéficier de ces financements »); in 2022, not an
upgrade with a vendor explicitly not referenced Ségur (004 « Non éligible »). Every count and
share below is taken over the counted ESMS only; the others stay in the grappe (they belong
to its OGs) but neither help nor hinder, except an ESMS of a non-eligible field, which should
not be there.

What the documents accept is accepted: a project above the funding cap is valid (the cap
limits the *funded* ESMS, ``grappes.programme.costing``); the solver's nominal size is only checked
when asked (``nominal=True``, used to compare groupings with the solver's own).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from grappes.core.columns import count_column, flag_column, number_column, text_column
from grappes.core.formatting import km_text, percent_fr
from grappes.core.model import CHAMPS, GroupingRules
from grappes.core.vocabulary import VIOLATION_CODES
from grappes.geo.distances import unit_vectors
from grappes.programme.reach import DEFAULT_MAX_KM, km_between

#: DUI statuses that tie an ESMS to its current vendor (the grappe must keep one solution).
VENDOR_BOUND_STATUTS: tuple[str, ...] = ("conforme", "a_mettre_a_niveau")

@dataclass(frozen=True)
class Violation:
    """One broken hard rule: a stable ``code`` for programs (one of
    ``grappes.core.vocabulary.VIOLATION_CODES``), a French ``message`` for people."""

    code: str
    message: str
    #: the FINESS ET concerned, when the rule points at particular ESMS
    esms: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.code not in VIOLATION_CODES:
            msg = f"code de règle inconnu : {self.code!r} (grappes.core.vocabulary)"
            raise ValueError(msg)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "esms": list(self.esms)}


# --------------------------------------------------------------------------- helpers


def normalise_vendor(vendors: pd.Series) -> pd.Series:
    """Vendor names compared without case or spacing noise: ' Cegi  ' == 'CEGI'."""
    s = vendors.astype("string").fillna("").str.strip().str.casefold()
    return s.str.replace(r"\s+", " ", regex=True)


def small_og_mask(members: pd.DataFrame, rules: GroupingRules) -> pd.Series:
    """True for the ESMS of a small OG (``petit_og_max``; in Corsica / overseas the rule
    set's ``petit_og_max_derogatoire`` when it has one)."""
    size = count_column(members, "og_nb_esms")
    small = size <= rules.petit_og_max
    if rules.petit_og_max_derogatoire is not None:
        derog = flag_column(members, "derogatoire")
        small = small.where(~derog, size <= rules.petit_og_max_derogatoire)
    return small.astype(bool)


def carried_mask(members: pd.DataFrame, rules: GroupingRules) -> pd.Series:
    """Already-funded ESMS that stay in the project: small OGs, when the rule set says so
    (amorçage t2, 000 « Les projets portés par des grappes de petites structures retenus dans
    le cadre du temps 1 de la phase d'amorçage pourront également bénéficier de ces
    financements »)."""
    deja = flag_column(members, "deja_finance")
    if not rules.deja_finance_small_og_counts:
        return pd.Series(False, index=members.index, dtype=bool)
    return (deja & small_og_mask(members, rules)).astype(bool)


def non_segur_upgrade_mask(members: pd.DataFrame) -> pd.Series:
    """Upgrades (``a_mettre_a_niveau``) whose vendor is explicitly not referenced Ségur."""
    statut = text_column(members, "dui_statut") == "a_mettre_a_niveau"
    if "editeur_segur" not in members.columns:
        return pd.Series(False, index=members.index, dtype=bool)
    flags = members["editeur_segur"].astype("boolean")
    return (statut & (flags == False).fillna(False)).astype(bool)  # noqa: E712


def counted_mask(members: pd.DataFrame, rules: GroupingRules, segur_rule: bool = True) -> pd.Series:
    """True for the ESMS that count in the project (see the module docstring).

    ``segur_rule=False`` leaves the 2022 non-Ségur upgrades in (``grappes.programme.costing``
    decides
    them from the grappe's common vendor).
    """
    mask = text_column(members, "champ").isin(list(rules.eligible_champs))
    if rules.exclude_deja_finance:
        mask &= ~flag_column(members, "deja_finance") | carried_mask(members, rules)
    if segur_rule and rules.exclude_upgrade_non_segur:
        mask &= ~non_segur_upgrade_mask(members)
    return mask.astype(bool)


def dominant_champ(members: pd.DataFrame, rules: GroupingRules | None = None) -> str | None:
    """The field with the most counted ESMS (ties: programme order PA, PH, DOM...)."""
    champs = text_column(members, "champ")
    if rules is not None:
        champs = champs[counted_mask(members, rules)]
    champs = champs[champs != ""]
    if champs.empty:
        return None
    counts = champs.value_counts()
    best = counts.max()
    tied = [str(c) for c in counts.index if counts[c] == best]
    order = {c: i for i, c in enumerate(CHAMPS)}
    return min(tied, key=lambda c: (order.get(c, len(order)), c))


def is_derogatoire(members: pd.DataFrame) -> bool:
    """The grappe is in Corsica or overseas when all its members are (threshold 8, not 15)."""
    return bool(len(members)) and bool(flag_column(members, "derogatoire").all())


def _list(ids: pd.Series | list[str], limit: int = 5) -> str:
    """'a, b, c' with at most ``limit`` items, then '… (+n)'."""
    values = sorted({str(v) for v in ids})
    shown = ", ".join(values[:limit])
    if len(values) > limit:
        shown += f" … (+{len(values) - limit})"
    return shown


# --------------------------------------------------------------------------- per-grappe rules


def _reach_violation(
    vec: np.ndarray, unit: np.ndarray, names: np.ndarray, max_km: float
) -> Violation | None:
    """``trop_loin`` when a unit (OG and field) lies beyond ``max_km`` of the grappe's centre.

    The rule of ``grappes.programme.reach`` (the solver's), on one grappe's geolocated
    counted ESMS: ``vec`` their unit vectors, ``unit`` their unit number, ``names`` the
    unit names (FINESS EJ, or FINESS ET for an ESMS without OG).
    """
    if not len(vec):
        return None
    s = vec.sum(axis=0)
    norm = float(np.linalg.norm(s))
    if norm <= 0:
        return None
    keys, inv = np.unique(unit, return_inverse=True)
    sums = np.zeros((len(keys), 3))
    np.add.at(sums, inv, vec)
    pos = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    km = km_between(pos, s / norm)
    worst = int(np.argmax(km))
    if float(km[worst]) <= max_km + 1e-6:
        return None
    far = sorted({str(names[inv == k][0]) for k in np.flatnonzero(km > max_km + 1e-6)})
    return Violation(
        "trop_loin",
        f"OG {_list(far)} à {km_text(float(km[worst]))} du centre de la grappe, "
        f"au plus {max_km:g} km (règle de distance du solveur).",
    )


@dataclass(frozen=True)
class _Columns:
    """The establishments table's columns the hard rules read, as arrays, read once."""

    et: np.ndarray
    ej: np.ndarray
    champs: np.ndarray
    counted: np.ndarray
    bad_champ: np.ndarray
    family: np.ndarray
    derog: np.ndarray
    og_size: np.ndarray
    big: np.ndarray
    med: np.ndarray
    vendor: np.ndarray
    raw_vendor: np.ndarray
    bound: np.ndarray
    vec: np.ndarray
    located: np.ndarray
    owner: np.ndarray
    unit_key: np.ndarray


def _read_columns(etab: pd.DataFrame, rules: GroupingRules) -> _Columns:
    et = text_column(etab, "finess_et").to_numpy(dtype=object)
    ej = text_column(etab, "finess_ej").to_numpy(dtype=object)
    champs = text_column(etab, "champ").to_numpy(dtype=object)
    counted = counted_mask(etab, rules).to_numpy(dtype=bool)
    # a health establishment (hospital...) is set aside, never a fault of the grappe: 003 Q18
    # « Un GHT peut en effet porter un projet pour les établissements et services
    # médico-sociaux qui lui sont rattachés » (costing says why it is neither counted nor funded)
    sanitaire = flag_column(etab, "sanitaire").to_numpy(dtype=bool)
    bad_champ = ~text_column(etab, "champ").isin(list(rules.eligible_champs)).to_numpy(dtype=bool)
    og_size = count_column(etab, "og_nb_esms").to_numpy()
    vendor = normalise_vendor(text_column(etab, "dui_editeur")).to_numpy(dtype=object)
    vec = unit_vectors(number_column(etab, "lon").to_numpy(), number_column(etab, "lat").to_numpy())
    owner = np.where(ej == "", et, ej)
    return _Columns(
        et=et, ej=ej, champs=champs, counted=counted, bad_champ=bad_champ & ~sanitaire,
        family=np.array([rules.family_of(str(c)) for c in champs], dtype=object),
        derog=flag_column(etab, "derogatoire").to_numpy(dtype=bool),
        og_size=og_size, big=og_size > rules.petit_og_max,
        med=flag_column(etab, "medicalise").to_numpy(dtype=bool),
        vendor=vendor, raw_vendor=text_column(etab, "dui_editeur").to_numpy(dtype=object),
        bound=(text_column(etab, "dui_statut").isin(list(VENDOR_BOUND_STATUTS))
               .to_numpy(dtype=bool) & (vendor != "") & counted),
        vec=vec, located=np.isfinite(vec).all(axis=1) & counted, owner=owner,
        unit_key=np.array([f"{o}\x1f{c}" for o, c in zip(owner, champs, strict=True)],
                          dtype=object),
    )  # fmt: skip


@dataclass(frozen=True)
class _Slice:
    """One grappe's rows and what every rule needs to know about them."""

    idx: np.ndarray  # its rows
    proj: np.ndarray  # its counted rows
    n: int  # ESMS counted
    ogs: int  # distinct OGs among the counted
    is_derog: bool  # every member in Corsica or overseas
    champ: str | None  # the field asked for (None: every field)
    field_champ: str | None  # that field, or the grappe's dominant one


def _dominant_champ(pchamps: np.ndarray) -> str | None:
    """The most frequent named field; ties go to the first in ``CHAMPS``."""
    rank = {c: i for i, c in enumerate(CHAMPS)}
    named = Counter(x for x in pchamps if x)
    if not named:
        return None
    best = max(named.values())
    return min((x for x, v in named.items() if v == best),
               key=lambda x: (rank.get(x, len(rank)), x))


def _check_champs(c: _Columns, g: _Slice, rules: GroupingRules) -> list[Violation]:
    """Fields: every ESMS's field eligible, the field asked for, the dominant field."""
    vs = []
    bad = g.idx[c.bad_champ[g.idx]]
    if len(bad):
        vs.append(Violation("non_eligible", f"{len(bad)} ESMS d'un champ non éligible à cet "
                            f"appel ({_list(list(c.champs[bad]))}) : {_list(list(c.et[bad]))}.",
                            tuple(sorted(c.et[bad]))))
    if g.champ is not None and g.champ not in rules.grappe_champs:
        vs.append(Violation("non_eligible",
                            f"Le champ {g.champ} n'est pas éligible à cet appel à projets."))
    return vs


def _check_size(c: _Columns, g: _Slice, rules: GroupingRules, nominal: bool) -> list[Violation]:
    """Threshold (15, or 8 in Corsica and overseas), nominal size, number of OGs."""
    vs = []
    minimum = rules.min_esms_derogatoire if g.is_derog else rules.min_esms
    if g.n < minimum:
        where = " (Corse / outre-mer)" if g.is_derog else ""
        excluded = len(g.idx) - g.n
        detail = f", {excluded} ESMS non comptés (déjà financés ou hors champ)" if excluded else ""
        vs.append(Violation("trop_peu_esms",
                            f"{g.n} ESMS comptés, il en faut au moins {minimum}{where}{detail}."))
    if nominal and rules.max_esms is not None and g.n > rules.max_esms and g.ogs > 1:
        vs.append(Violation("trop_esms", f"{g.n} ESMS comptés, taille nominale de "
                            f"{rules.max_esms} ESMS dépassée par un regroupement de plusieurs OG."))
    alone = rules.alone_min(g.is_derog)
    if g.n and g.ogs < rules.min_og and not bool(
            (c.big[g.proj] | (c.og_size[g.proj] >= alone)).any()):
        vs.append(Violation("trop_peu_og", f"{g.ogs} OG, il en faut au moins {rules.min_og} "
                            f"quand aucun OG ne compte à lui seul {alone} ESMS"
                            f"{' (Corse / outre-mer)' if g.is_derog else ''}."))
    return vs


def _check_field_mix(c: _Columns, g: _Slice, rules: GroupingRules) -> list[Violation]:
    """The dominant field eligible, and few ESMS of another field (or project type)."""
    vs = []
    if (g.n and g.champ is None and g.field_champ is not None
            and g.field_champ not in rules.grappe_champs):
        vs.append(Violation("non_eligible", f"Champ dominant {g.field_champ} : une grappe de cet "
                            f"appel est à dominante {' ou '.join(rules.grappe_champs)} (quelques "
                            "ESMS d'un autre champ au plus)."))
    if g.n and g.field_champ is not None:
        own = rules.family_of(g.field_champ)
        other = g.proj[c.family[g.proj] != own]
        share = len(other) / g.n
        if share > rules.max_other_field_share + 1e-12:
            where = (f"du type de projet {own}" if rules.field_families
                     else f"du champ {g.field_champ}")
            vs.append(Violation("champ_mixte", f"{len(other)} ESMS sur {g.n} "
                                f"({percent_fr(share)}) hors {where} de la grappe, au plus "
                                f"{percent_fr(rules.max_other_field_share)} autorisés.",
                                tuple(sorted(c.et[other]))))
    return vs


def _check_medicalise(c: _Columns, g: _Slice, rules: GroupingRules) -> list[Violation]:
    """A majority of ESMS funded by the Assurance maladie, when the call asks it."""
    n_med = int(c.med[g.proj].sum())
    if rules.medicalise_majority and g.n and 2 * n_med <= g.n:
        return [Violation("medicalise_minoritaire", f"{n_med} ESMS médicalisés sur {g.n} : la "
                          "grappe doit être majoritairement composée d'ESMS financés par "
                          "l'Assurance maladie.")]
    return []


def _check_one_dui(c: _Columns, g: _Slice) -> list[Violation]:
    """One DUI solution for the grappe: ESMS tied to different vendors cannot share one."""
    tied = g.idx[c.bound[g.idx]]
    keys = sorted(set(c.vendor[tied]))
    if len(keys) <= 1:
        return []
    names = [min(c.raw_vendor[tied][c.vendor[tied] == key]) for key in keys]
    return [Violation("dui_multiple", f"{len(keys)} solutions DUI différentes déjà en place "
                      f"({_list(names, limit=10)}) : une grappe partage une seule solution.",
                      tuple(sorted(c.et[tied])))]


def _rule_violations(
    etab: pd.DataFrame,
    grappe: pd.Series,
    rules: GroupingRules,
    champ: str | None,
    nominal: bool = False,
    max_km: float | None = DEFAULT_MAX_KM,
) -> tuple[dict[str, list[Violation]], dict[str, str | None]]:
    """Every rule except the OG split, for all grappes at once.

    ``grappe`` holds a non-empty grappe id for each row of ``etab``. The columns are read
    once into numpy arrays (:class:`_Columns`) and the rows sorted by grappe, so each grappe
    costs a few operations on its own small slice (30 000 ESMS in 2 000 grappes: well under
    a second); one function per rule (``_check_*``), in the order the reader sees them.
    Returns the violations and the field of each grappe (``champ`` or its dominant field).
    ``nominal``: also report a grappe of several OGs above the solver's nominal size.
    """
    g = grappe.astype("string").fillna("").to_numpy(dtype=object)
    ids, inverse = np.unique(g, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(ids) + 1))
    c = _read_columns(etab, rules)
    out: dict[str, list[Violation]] = {}
    fields: dict[str, str | None] = {}
    for k, gid in enumerate(ids):
        gid = str(gid)
        idx = order[bounds[k]:bounds[k + 1]]
        proj = idx[c.counted[idx]]
        sl = _Slice(idx, proj, len(proj), len({x for x in c.ej[proj] if x}),
                    bool(c.derog[idx].all()), champ,
                    champ if champ is not None else _dominant_champ(c.champs[proj]))
        fields[gid] = sl.field_champ
        vs = [*_check_champs(c, sl, rules), *_check_size(c, sl, rules, nominal),
              *_check_field_mix(c, sl, rules), *_check_medicalise(c, sl, rules),
              *_check_one_dui(c, sl)]
        if max_km is not None:
            geo = idx[c.located[idx]]
            far = _reach_violation(c.vec[geo], c.unit_key[geo], c.owner[geo], max_km)
            if far is not None:
                vs.append(far)
        out[gid] = vs
    return out, fields


def _split_violations(
    etab: pd.DataFrame,
    grappe: pd.Series,
    rules: GroupingRules,
    fields: dict[str, str | None],
) -> dict[str, list[Violation]]:
    """``og_scinde`` per grappe: an OG keeps counted ESMS of the grappe's field elsewhere.

    ``grappe`` is '' for ESMS in no grappe. Vectorised: each grappe's OGs are paired with the
    counted ESMS of those OGs in the grappe's field, and those sitting elsewhere are kept.
    """
    counted = counted_mask(etab, rules)
    placed = grappe != ""
    ej = text_column(etab, "finess_ej")
    pairs = pd.DataFrame({"grappe": grappe[placed & counted], "finess_ej": ej[placed & counted]})
    pairs = pairs[pairs["finess_ej"] != ""].drop_duplicates()
    pairs["champ"] = pairs["grappe"].map(fields).astype("string")
    pool = pd.DataFrame(
        {
            "finess_ej": ej[counted],
            "champ": text_column(etab, "champ")[counted],
            "finess_et": text_column(etab, "finess_et")[counted],
            "ou": grappe[counted],
        }
    )
    merged = pairs.merge(pool, on=["finess_ej", "champ"], how="inner")
    split = merged[merged["ou"] != merged["grappe"]]
    out: dict[str, list[Violation]] = {}
    for (gid, og), rows in split.groupby(["grappe", "finess_ej"], sort=True):
        elsewhere = sorted({str(x) for x in rows["ou"] if x})
        outside = int((rows["ou"] == "").sum())
        where = []
        if elsewhere:
            where.append(f"dans la grappe {_list(elsewhere)}")
        if outside:
            where.append(f"{outside} hors de toute grappe")
        out.setdefault(str(gid), []).append(
            Violation(
                "og_scinde",
                f"L'OG {og} a {len(rows)} autre(s) ESMS du champ {fields[str(gid)]} hors de la "
                f"grappe ({' ; '.join(where)}) : les ESMS d'un OG ne sont pas répartis entre "
                "grappes.",
                tuple(sorted(str(x) for x in rows["finess_et"])),
            )
        )
    return out


# --------------------------------------------------------------------------- public API


def grappe_violations(
    members: pd.DataFrame,
    rules: GroupingRules,
    champ: str | None = None,
    all_esms: pd.DataFrame | None = None,
    nominal: bool = False,
    max_km: float | None = DEFAULT_MAX_KM,
) -> list[Violation]:
    """The hard rules broken by one grappe (empty list: the grappe is acceptable).

    Parameters
    ----------
    members
        Rows of the normalised establishments table (``grappes.core.model.ETAB_COLUMNS``) that
        form the grappe.
    rules
        The grouping rules of the call for projects.
    champ
        The field the grappe is built for; default: its dominant field.
    all_esms
        The whole establishments table; when given, an OG of the grappe whose counted ESMS
        of the grappe's field are not all in the grappe is reported (``og_scinde``).
    nominal
        Also report ``trop_esms``: several OGs above the solver's nominal size (the
        documents themselves accept such a project, with funding limited to the cap).
    max_km
        The reach rule (``grappes.programme.reach``): every OG within this distance of the
        grappe's centre (``trop_loin``); None leaves distances unchecked.
    """
    if members is None or len(members) == 0:
        return [Violation("vide", "La grappe ne contient aucun ESMS.")]
    members = members.reset_index(drop=True)
    label = pd.Series("grappe", index=members.index, dtype="string")
    found, fields = _rule_violations(
        members, label, rules, champ, nominal=nominal, max_km=max_km
    )
    out = found["grappe"]
    if all_esms is not None and fields["grappe"] is not None:
        # members missing from all_esms still define the grappe's OGs
        member_et = list(text_column(members, "finess_et"))
        known = list(text_column(all_esms, "finess_et"))
        extra = members[~text_column(members, "finess_et").isin(known)]
        table = pd.concat([all_esms, extra], ignore_index=True)
        inside = text_column(table, "finess_et").isin(member_et)
        where = inside.map({True: "grappe", False: ""}).astype("string")
        split = _split_violations(table, where, rules, fields)
        out = out + split.get("grappe", [])
    return out


def _aligned_assignment(etab: pd.DataFrame, assignment: pd.Series) -> pd.Series:
    """Grappe id per row of ``etab`` ('' = none), from a Series on etab's index or on finess_et."""
    if assignment.index.equals(etab.index):
        values = assignment
    else:
        by_et = assignment.copy()
        by_et.index = by_et.index.astype("string")
        by_et = by_et[~by_et.index.duplicated(keep="first")]
        values = text_column(etab, "finess_et").map(by_et)
        values.index = etab.index
    return values.astype("string").fillna("").str.strip()


def grouping_violations(
    etab: pd.DataFrame,
    assignment: pd.Series,
    rules: GroupingRules,
    champ: str | None = None,
    nominal: bool = False,
    max_km: float | None = DEFAULT_MAX_KM,
) -> dict[str, list[Violation]]:
    """The hard rules broken by each grappe of a whole grouping (the reach rule included,
    ``max_km``: see :func:`grappe_violations`).

    ``assignment`` gives the grappe id of each ESMS ('' or NA: in no grappe), indexed either
    like ``etab`` or by FINESS ET (as ``Proposal.assignment()``). Returns one entry per grappe
    id, in sorted order, with an empty list for an acceptable grappe. An OG whose counted ESMS
    of the grappe's field are spread over several grappes, or partly left out, gets
    ``og_scinde`` in each grappe that holds some of them. Vectorised: a national grouping
    (30 000 ESMS) is checked in about a second.
    """
    grappe = _aligned_assignment(etab, assignment)
    placed = grappe != ""
    if not placed.any():
        return {}
    result, fields = _rule_violations(
        etab[placed], grappe[placed], rules, champ, nominal=nominal, max_km=max_km
    )
    for gid, vs in _split_violations(etab, grappe, rules, fields).items():
        result[gid].extend(vs)
    return result


def check_grouping(
    etab: pd.DataFrame,
    assignment: Mapping[str, str],
    champ_of: Mapping[str, str],
    rules: GroupingRules,
    max_km: float | None = DEFAULT_MAX_KM,
    set_aside: Iterable[str] = (),
) -> dict[str, list[Violation]]:
    """The hard rules broken by each grappe of a grouping whose grappes each have a field.

    The one check behind "valide" in ``propose``, what-if, the partner finder and the app:
    ``assignment`` is FINESS ET -> grappe id, ``champ_of`` grappe id -> field. Each field is
    checked on its ESMS plus the grappes' members of other fields (attached leftovers);
    ``set_aside`` ESMS (those the solver never considered: already funded, no coordinates,
    out of scope, excluded by the user) take no part, as in the solver.
    """
    if not len(assignment):
        return {}
    et = text_column(etab, "finess_et")
    table = etab[~et.isin(list(set(set_aside))).to_numpy()]
    table_et = text_column(table, "finess_et")
    table_champ = text_column(table, "champ")
    series = pd.Series(dict(assignment), dtype="string")
    out: dict[str, list[Violation]] = {}
    for champ in sorted(set(champ_of.values())):
        ids = [g for g, c in champ_of.items() if c == champ]
        part = series[series.isin(ids)]
        rows = table[((table_champ == champ) | table_et.isin(list(part.index))).to_numpy()]
        out.update(grouping_violations(rows, part, rules, champ=champ, max_km=max_km))
    return out
