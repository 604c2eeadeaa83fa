"""The saved-scenario file: one JSON file a user downloads, shares and loads again.

Why a file: a coordinator's edits (locks, moves, exclusions, porteurs, declared criteria)
are work that must survive a page reload and travel to a colleague or to the command line
(``grappes proposer --scenario FILE``). Loading the file on the same input restores the SAME
grappes and amounts: the saved grouping is put back on the saved proposal (no new solver
run), then validated and costed again. On a changed input, what still fits is loaded and
every thing that no longer fits is said in French (:attr:`LoadedScenario.notes`).

The format (version :data:`FORMAT_VERSION`) is described in ``docs/scenario-enregistre.md``.
A SHA-256 checksum over the content (``controle``) catches a file edited or damaged by hand;
it is a check, not a signature (anyone can recompute it).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from grappes import __version__
from grappes.core.errors import GrappesError
from grappes.core.formatting import euros
from grappes.core.model import Grappe, LoadResult
from grappes.core.structure import StructureError, loads_checked
from grappes.core.vocabulary import SOLVER_SET_ASIDE
from grappes.programme.rules import RulesError, RuleSet, load_rules
from grappes.programme.validate import text_column
from grappes.scenarios.scenario import Scenario, Scope
from grappes.scenarios.whatif import WhatIf
from grappes.solver.graph import GraphWeights
from grappes.solver.propose import filter_scope
from grappes.solver.settings import SolverSettings
from grappes.solver.units import Constraints

FORMAT_NAME = "grappes-scenario"
FORMAT_VERSION = 1
#: default file name (``--sortie`` writes it beside the CSV files)
FILE_NAME = "scenario.json"
#: the reason given to an ESMS the saved scenario did not know
NEW_ESMS_CODE = "nouveau"
NEW_ESMS_REASON = ("ESMS absent du scénario enregistré (données plus récentes) : relancer le "
                   "solveur pour le placer")
#: hex digits of an ESMS row's hash kept in the file (64 bits: enough to see a change)
ROW_HASH = 16
#: at most this many items named in one note (the count is always given)
SHOWN = 8


class ScenarioFileError(GrappesError, ValueError):
    """A scenario file that cannot be loaded (French message for the user)."""


# --------------------------------------------------------------------------- fingerprints


def row_hashes(etab: pd.DataFrame) -> dict[str, str]:
    """FINESS ET -> SHA-256 (hex) of its row, every column (sorted by name) as text."""
    columns = sorted(str(c) for c in etab.columns)
    frame = etab[columns].astype("string").fillna("")
    joined = frame[columns[0]].str.cat([frame[c] for c in columns[1:]], sep="\x1f") \
        if len(columns) > 1 else frame[columns[0]]
    header = "\x1f".join(columns) + "\x1e"
    et = text_column(etab, "finess_et").tolist()
    return {e: hashlib.sha256((header + row).encode("utf-8")).hexdigest()
            for e, row in zip(et, joined.tolist(), strict=True)}


def table_fingerprint(hashes: Mapping[str, str]) -> str:
    """SHA-256 of the table's rows, whatever their order (the rows' hashes, sorted)."""
    digest = hashlib.sha256()
    for h in sorted(hashes.values()):
        digest.update(h.encode("ascii"))
    return digest.hexdigest()


def rules_fingerprint(rules: RuleSet) -> str:
    """SHA-256 of the rule set's content (its file's path left out: moving the TOML file
    does not change the rules)."""
    data = asdict(rules)
    data.pop("path", None)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_checksum(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the file's content without ``controle`` (canonical JSON: sorted keys)."""
    body = {k: v for k, v in payload.items() if k != "controle"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- saving


def save_scenario(
    source: WhatIf | Scenario,
    result: LoadResult | None = None,
    *,
    scope: Scope | None = None,
    settings: SolverSettings | None = None,
) -> bytes:
    """The scenario file (UTF-8 JSON) of a what-if session or of a ``Scenario``.

    ``result`` (what was loaded) gives the input file names; the table itself is the
    source's. A :class:`WhatIf` has no scope or settings of its own: give those the app
    holds (else: the what-if's field, default settings with its reach). Saving a
    ``Scenario`` keeps its grappes as the starting proposal (the deltas of earlier edits are
    not kept): save the ``WhatIf`` when there is one.
    """
    if isinstance(source, Scenario):
        scope = scope or source.scope
        settings = settings or source.settings
        whatif = _whatif_of(source)
    else:
        whatif = source
        scope = scope or Scope(champs=(whatif.champ,) if whatif.champ else ())
        settings = settings or SolverSettings(max_km=whatif.max_km)
    evaluation = whatif.evaluate()
    etab = whatif.etab
    hashes = row_hashes(etab)
    meta = result.meta if result is not None else {}
    base = whatif.baseline or evaluation
    base_champ = dict(zip(base.grappes["grappe"], base.grappes["champ"], strict=True))
    depart = [{"id": g, "champ": str(base_champ[g]), "esms": list(members),
               "porteur": str(base.costs[g].porteur)}
              for g, members in sorted(base.members.items())]
    referenced = set(whatif.assignment) | set(whatif.constraints.excluded_esms)
    referenced |= {e for d in depart for e in d["esms"]}
    ej = dict(zip(text_column(etab, "finess_et"), text_column(etab, "finess_ej"), strict=True))
    grappes = []
    for gid in whatif.grappe_ids:
        cost = evaluation.costs[gid]
        grappes.append({
            "id": gid,
            "champ": whatif.champ_of[gid],
            "esms": whatif.members(gid),
            "porteur": whatif.porteurs.get(gid, ""),
            "porteur_effectif": cost.porteur,
            "valide": not evaluation.violations.get(gid),
            "points_grille": int(cost.score.total),
            "financement": float(cost.total),
        })
    non_places = _unplaced_json(whatif)
    totals = {k: float(v) for k, v in evaluation.totals.items() if not k.startswith("delta_")}
    constraints = whatif.constraints
    payload: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "outil": f"grappes {__version__}",
        "donnees": {
            "empreinte": table_fingerprint(hashes),
            "lignes": len(etab),
            "fichiers": {k: str(meta.get(m, "") or "") for k, m in
                         (("etablissements", "fichier"), ("ej", "fichier_ej"),
                          ("dui", "fichier_dui"))},
        },
        "regles": {"nom": whatif.rules.name, "titre": whatif.rules.title,
                   "empreinte": rules_fingerprint(whatif.rules)},
        "perimetre": {"region": scope.region, "departements": list(scope.departements),
                      "champs": list(scope.champs)},
        "champ": whatif.champ,
        "reglages": asdict(settings) | {
            "poids_solveur": asdict(_solver_weights()),
            "poids_graphe": asdict(GraphWeights(max_km=settings.max_km)),
        },
        "esms": {e: [ej.get(e, ""), hashes[e][:ROW_HASH]] for e in sorted(referenced)
                 if e in hashes},
        "depart": depart,
        "origine": [_grappe_json(g) for _, g in sorted(whatif.origin.items())],
        "non_places": non_places,
        "modifications": {
            "ensemble": [list(g) for g in constraints.together],
            "separes": [list(p) for p in constraints.apart],
            "exclus": list(constraints.excluded_esms),
            "forces": dict(constraints.forced),
            "grappes_construites": sorted(whatif.built_grappes),
            "porteurs_choisis": dict(sorted(whatif.chosen_porteurs.items())),
            "criteres_declares": {g: dict(sorted(d.items()))
                                  for g, d in sorted(whatif.declared.items()) if d},
            "historique": list(whatif.history),
            "compteur_nouvelles": whatif.new_grappe_count,
            "identifiants_emis": sorted(whatif.issued_ids | set(whatif.champ_of)),
        },
        "grappes": grappes,
        "totaux": totals,
    }
    payload["controle"] = content_checksum(payload)
    return (json.dumps(payload, ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode(
        "utf-8")


def _solver_weights() -> Any:
    """The solver's default weights (imported here: loading a scenario needs no solver)."""
    from grappes.solver.core import SolverWeights

    return SolverWeights()


def _unplaced_json(whatif: WhatIf) -> dict[str, list]:
    """The solver's unplaced ESMS in the scope: one row ``[finess_et, code, motif, near_miss,
    near_miss_km]`` each, ``motif`` indexing the list of distinct French reasons (most rows
    share a handful of them)."""
    unplaced = whatif.unplaced
    motifs: dict[str, int] = {}
    rows: list[list[Any]] = []
    if unplaced is not None and len(unplaced):
        keep = unplaced[~text_column(unplaced, "finess_et").isin(list(whatif.out_of_scope))
                        .to_numpy()]
        for row in keep.itertuples(index=False):
            reason = _plain(getattr(row, "reason", ""))
            km = getattr(row, "near_miss_km", math.nan)
            rows.append([_plain(row.finess_et), _plain(getattr(row, "code", "")),
                         motifs.setdefault(reason, len(motifs)),
                         _plain(getattr(row, "near_miss", "")),
                         None if km is None or pd.isna(km) else float(km)])
    return {"motifs": list(motifs), "lignes": rows}


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _grappe_json(g: Grappe) -> dict[str, Any]:
    return {"id": g.id, "champ": g.champ, "og": list(g.og), "esms": list(g.esms),
            "departements": list(g.departements), "regions": list(g.regions),
            "points": {k: int(v) for k, v in g.points.items()},
            "warnings": list(g.warnings), "porteur": g.porteur or "",
            "reasons": list(g.reasons),
            "metrics": {k: float(v) for k, v in g.metrics.items()
                        if v is not None and not math.isnan(float(v))}}


def _whatif_of(scenario: Scenario) -> WhatIf:
    """A what-if session standing where a ``Scenario`` stands (its grappes as the start)."""
    champ = scenario.scope.champs[0] if len(scenario.scope.champs) == 1 else None
    whatif = WhatIf.from_grappes(scenario.etablissements, scenario.rules, scenario.grappes,
                                 costs=scenario.costs, unplaced=scenario.unplaced, champ=champ,
                                 max_km=scenario.settings.max_km)
    whatif.out_of_scope = frozenset(scenario.out_of_scope)
    edits = scenario.edits
    whatif.constraints = Constraints(
        together=[tuple(g) for g in edits.together], apart=[tuple(p) for p in edits.apart],
        excluded_esms=list(edits.exclusions), forced=dict(edits.moves))
    whatif.declared = {g: dict(d) for g, d in edits.declared.items() if g in whatif.champ_of}
    whatif.chosen_porteurs = {g: p for g, p in edits.porteurs.items() if g in whatif.champ_of}
    whatif.history = list(edits.history)
    return whatif


# --------------------------------------------------------------------------- loading


@dataclass
class LoadedScenario:
    """A scenario file put back on a loaded table.

    ``whatif`` is ready for more edits (and :meth:`WhatIf.rerun` with ``settings``);
    :meth:`scenario` is what the tables, totals and exports read. ``notes`` (French) say what
    no longer fits when the input or the rule set changed; empty when all is as saved.
    """

    whatif: WhatIf
    scope: Scope
    settings: SolverSettings
    notes: list[str] = field(default_factory=list)
    #: the table is the one the scenario was saved with (same rows, any order)
    same_input: bool = True
    #: the rule set has the content it had when saved
    same_rules: bool = True
    #: the input file names recorded in the file
    files: dict[str, str] = field(default_factory=dict)

    def scenario(self) -> Scenario:
        return Scenario.from_whatif(self.whatif, self.scope, self.settings)


def read_scenario_file(data: bytes) -> dict[str, Any]:
    """The file's content, checked: JSON, format, version, checksum. ``ScenarioFileError``
    (French) otherwise."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = ("fichier de scénario illisible : ce n'est pas un fichier texte UTF-8 (un fichier "
               "scenario.json enregistré par grappes est attendu)")
        raise ScenarioFileError(msg) from exc
    if not text.strip():
        msg = "fichier de scénario vide"
        raise ScenarioFileError(msg)
    try:
        payload = loads_checked(text)
    except json.JSONDecodeError as exc:
        msg = (f"fichier de scénario illisible : JSON invalide ligne {exc.lineno}, colonne "
               f"{exc.colno} ({exc.msg})")
        raise ScenarioFileError(msg) from exc
    except StructureError as exc:
        msg = f"fichier de scénario refusé : {exc.reason}"
        raise ScenarioFileError(msg) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        msg = ("ce fichier n'est pas un scénario grappes (champ « format » différent de "
               f"« {FORMAT_NAME} »)")
        raise ScenarioFileError(msg)
    version = payload.get("version")
    if version != FORMAT_VERSION:
        msg = (f"version de scénario {version!r} non prise en charge (cette version de grappes "
               f"lit la version {FORMAT_VERSION}) : enregistrez-le à nouveau avec la même "
               "version de l'outil")
        raise ScenarioFileError(msg)
    if payload.get("controle") != content_checksum(payload):
        msg = ("fichier de scénario modifié ou abîmé depuis son enregistrement (somme de "
               "contrôle « controle » différente) : il n'est pas chargé ; enregistrez à "
               "nouveau le scénario depuis l'application ou la ligne de commande")
        raise ScenarioFileError(msg)
    return payload


class _Reader:
    """Typed access to the payload, naming the field in the French error."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = payload

    @staticmethod
    def fail(where: str, expected: str) -> ScenarioFileError:
        return ScenarioFileError(f"fichier de scénario : champ « {where} » invalide "
                                 f"({expected} attendu)")

    def get(self, path: str, kind: type | tuple[type, ...], parent: Any = None) -> Any:
        node: Any = self.payload if parent is None else parent
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.fail(path, _kind_text(kind))
            node = node[part]
        if not isinstance(node, kind) or (isinstance(node, bool) and kind in (int, float)):
            raise self.fail(path, _kind_text(kind))
        return node

    def texts(self, value: Any, where: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(where, "une liste de textes")
        return list(value)


def _kind_text(kind: type | tuple[type, ...]) -> str:
    names = {dict: "un objet", list: "une liste", str: "un texte", int: "un entier",
             float: "un nombre", bool: "oui/non (true/false)", type(None): "null"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " ou ".join(names.get(k, k.__name__) for k in kinds)


def _named(items: Sequence[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" … (+{len(items) - SHOWN})" if len(items) > SHOWN else "")


def load_scenario(
    data: bytes, result: LoadResult, rules: RuleSet | None = None
) -> LoadedScenario:
    """Put a saved scenario back on ``result`` (the loaded input).

    ``rules``: the rule set to cost with (None: the one named in the file, by name). On the
    same input and rules the grappes, porteurs, costs and totals are those saved; otherwise
    what still fits is loaded and :attr:`LoadedScenario.notes` says, in French, what does
    not (ESMS gone or new, OG changed, rule set changed, grappe no longer valid, amounts
    changed). Raises ``ScenarioFileError`` (French) for a file that cannot be used.
    """
    r = _Reader(read_scenario_file(data))
    notes: list[str] = []
    rules, same_rules = _saved_rules(r, rules, notes)
    etab = result.etablissements.reset_index(drop=True)
    if "finess_et" not in etab.columns or not len(etab):
        msg = "aucun établissement chargé : chargez les mêmes données que le scénario"
        raise ScenarioFileError(msg)
    saved = _compare_input(r, etab, notes)
    scope, out_of_scope, settings = _scope_and_settings(r, etab)
    champ = r.get("champ", (str, type(None)))  # read in the file's order: the first fault wins
    unplaced = _with_new_esms(_unplaced_frame(r, etab, saved.known, out_of_scope), etab, saved,
                              out_of_scope, notes)
    # the starting proposal, then the saved grouping on top of it
    depart = [_grappe_of(r, g, f"depart[{i}]", saved.known, slim=True)
              for i, g in enumerate(r.get("depart", list))]
    whatif = WhatIf.from_grappes(etab, rules, [g for g in depart if g.esms], unplaced=unplaced,
                                 champ=champ, max_km=settings.max_km)
    whatif.out_of_scope = frozenset(out_of_scope)
    whatif.origin = {g.id: g for g in (_grappe_of(r, item, f"origine[{i}]", saved.known)
                                       for i, item in enumerate(r.get("origine", list)))}
    _restore(r, whatif, saved.known, saved.ej_now, rules, notes)
    _compare(r, whatif, whatif.evaluate(), notes)
    return LoadedScenario(whatif=whatif, scope=scope, settings=settings, notes=notes,
                          same_input=saved.same_input, same_rules=same_rules,
                          files=saved.files)


def _saved_rules(r: _Reader, rules: RuleSet | None,
                 notes: list[str]) -> tuple[RuleSet, bool]:
    """The rule set to cost with (the file's, by name, when none is given) and whether its
    content is the one saved (else a note: amounts and points are computed again)."""
    saved_rules = r.get("regles", dict)
    rules_name = r.get("nom", str, saved_rules)
    if rules is None:
        try:
            rules = load_rules(rules_name)
        except (RulesError, OSError, ValueError) as exc:
            msg = (f"jeu de règles « {rules_name} » du scénario introuvable ou invalide : "
                   f"{exc}")
            raise ScenarioFileError(msg) from exc
    same_rules = rules_fingerprint(rules) == r.get("empreinte", str, saved_rules)
    if not same_rules:
        what = ("le contenu du jeu de règles a changé" if rules.name == rules_name
                else f"jeu de règles {rules.name} au lieu de {rules_name}")
        notes.append(f"Règles : {what} depuis l'enregistrement ; montants et points sont "
                     "recalculés avec les règles actuelles.")
    return rules, same_rules


@dataclass(frozen=True)
class _SavedInput:
    """The loaded table compared with the one the scenario was saved on."""

    known: set[str]  # the ESMS of the loaded table
    ej_now: dict[str, str]  # each loaded ESMS's OG
    saved_esms: dict[str, Any]  # the file's ESMS: [finess_ej, row hash]
    same_input: bool
    files: dict[str, str]


def _compare_input(r: _Reader, etab: pd.DataFrame, notes: list[str]) -> _SavedInput:
    """Which saved ESMS are gone, changed OG or changed data (each said in a note)."""
    hashes = row_hashes(etab)
    same_input = table_fingerprint(hashes) == r.get("donnees.empreinte", str)
    files = {k: str(v) for k, v in r.get("donnees.fichiers", dict).items()}
    ej_now = dict(zip(text_column(etab, "finess_et"), text_column(etab, "finess_ej"),
                      strict=True))
    saved_esms = r.get("esms", dict)
    gone: list[str] = []
    og_changed: list[str] = []
    data_changed: list[str] = []
    for e, item in sorted(saved_esms.items()):
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(v, str)
                                                                  for v in item)):
            raise r.fail(f"esms.{e}", "une paire [finess_ej, empreinte]")
        if e not in hashes:
            gone.append(e)
        elif ej_now[e] != item[0]:
            og_changed.append(f"{e} ({item[0]} → {ej_now[e]})")
        elif hashes[e][:ROW_HASH] != item[1]:
            data_changed.append(e)
    if not same_input:
        names = ", ".join(v for v in files.values() if v) or "nom inconnu"
        notes.append(f"Données différentes de celles du scénario (enregistré avec : {names}) : "
                     "ce qui ne correspond plus est signalé ci-dessous.")
    if gone:
        notes.append(f"{len(gone)} ESMS du scénario absent(s) des données, retiré(s) : "
                     f"{_named(gone)}.")
    if og_changed:
        notes.append(f"{len(og_changed)} ESMS rattaché(s) à un autre OG qu'à l'enregistrement "
                     f"(gardé(s) dans leur grappe) : {_named(og_changed)}.")
    if data_changed:
        notes.append(f"{len(data_changed)} ESMS aux données modifiées (adresse, DUI, "
                     f"catégorie…) : {_named(data_changed)}.")
    return _SavedInput(set(hashes), ej_now, saved_esms, same_input, files)


def _scope_and_settings(r: _Reader, etab: pd.DataFrame
                        ) -> tuple[Scope, Mapping[str, str], SolverSettings]:
    """The saved scope (and the loaded rows outside it) and solver settings."""
    perimetre = r.get("perimetre", dict)
    region = r.get("region", (str, type(None)), perimetre)
    departements = tuple(r.texts(perimetre.get("departements"), "perimetre.departements"))
    champs = tuple(r.texts(perimetre.get("champs"), "perimetre.champs"))
    try:
        _, out_of_scope = filter_scope(etab, region, departements)
    except ValueError as exc:
        msg = f"scénario inutilisable sur ces données : {exc}"
        raise ScenarioFileError(msg) from exc
    reglages = r.get("reglages", dict)
    try:
        settings = SolverSettings(
            seed=int(r.get("seed", int, reglages)),
            time_limit=float(r.get("time_limit", (int, float), reglages)),
            allow_multi_region=bool(r.get("allow_multi_region", bool, reglages)),
            max_km=float(r.get("max_km", (int, float), reglages)),
        )
    except (TypeError, ValueError) as exc:
        raise r.fail("reglages", "seed, time_limit, allow_multi_region, max_km") from exc
    return Scope(region, departements, champs), out_of_scope, settings


def _with_new_esms(unplaced: pd.DataFrame, etab: pd.DataFrame, saved: _SavedInput,
                   out_of_scope: Mapping[str, str], notes: list[str]) -> pd.DataFrame:
    """The solver's unplaced ESMS, plus the loaded ESMS the file never saw (said in a note
    when the input changed: the solver must run again to place them)."""
    new_esms = sorted(saved.known - set(saved.saved_esms) - set(out_of_scope)
                      - set(text_column(unplaced, "finess_et")))
    if new_esms and not saved.same_input:
        notes.append(f"{len(new_esms)} ESMS nouveau(x) dans les données, sans grappe (relancez "
                     f"le solveur pour les placer) : {_named(new_esms)}.")
    if not new_esms:
        return unplaced
    extra = etab[text_column(etab, "finess_et").isin(new_esms).to_numpy()]
    return pd.concat([unplaced, pd.DataFrame({
        "finess_et": text_column(extra, "finess_et"),
        "finess_ej": text_column(extra, "finess_ej"),
        "champ": text_column(extra, "champ"),
        "code": NEW_ESMS_CODE, "reason": NEW_ESMS_REASON, "near_miss": "",
        "near_miss_km": math.nan}).astype(unplaced.dtypes.to_dict())], ignore_index=True)


def _unplaced_frame(r: _Reader, etab: pd.DataFrame, known: set[str],
                    out_of_scope: Mapping[str, str]) -> pd.DataFrame:
    columns = ("finess_et", "finess_ej", "champ", "code", "reason", "near_miss")
    motifs = r.texts(r.get("non_places.motifs", list), "non_places.motifs")
    ej = dict(zip(text_column(etab, "finess_et"), text_column(etab, "finess_ej"), strict=True))
    champ = dict(zip(text_column(etab, "finess_et"), text_column(etab, "champ"), strict=True))
    records = []
    for i, item in enumerate(r.get("non_places.lignes", list)):
        if not (isinstance(item, list) and len(item) == 5 and isinstance(item[0], str)
                and isinstance(item[1], str) and isinstance(item[3], str)
                and isinstance(item[2], int) and 0 <= item[2] < len(motifs)
                and (item[4] is None or isinstance(item[4], int | float))):
            raise r.fail(f"non_places.lignes[{i}]",
                         "[finess_et, code, n° de motif, near_miss, near_miss_km]")
        et, code, motif, miss, km = item
        if et not in known or et in out_of_scope:
            continue
        records.append({"finess_et": et, "finess_ej": ej[et], "champ": champ[et],
                        "code": code, "reason": motifs[motif], "near_miss": miss,
                        "near_miss_km": math.nan if km is None else float(km)})
    frame = pd.DataFrame(records, columns=[*columns, "near_miss_km"])
    if out_of_scope:
        extra = etab[text_column(etab, "finess_et").isin(list(out_of_scope)).to_numpy()]
        frame = pd.concat([frame, pd.DataFrame({
            "finess_et": text_column(extra, "finess_et"),
            "finess_ej": text_column(extra, "finess_ej"),
            "champ": text_column(extra, "champ"),
            "code": "hors_region",
            "reason": text_column(extra, "finess_et").map(out_of_scope),
            "near_miss": "", "near_miss_km": math.nan})], ignore_index=True)
    frame = frame.astype({c: "string" for c in columns})
    frame["near_miss_km"] = pd.to_numeric(frame["near_miss_km"], errors="coerce").astype(
        "float64")
    return frame


def _grappe_of(r: _Reader, item: Any, where: str, known: set[str],
               slim: bool = False) -> Grappe:
    if not isinstance(item, dict):
        raise r.fail(where, "un objet")
    gid = r.get("id", str, item)
    champ = r.get("champ", str, item)
    esms = [e for e in r.texts(item.get("esms"), f"{where}.esms") if e in known]
    porteur = r.get("porteur", str, item)
    if slim:
        return Grappe(id=gid, champ=champ, og=[], esms=esms, porteur=porteur or None)
    return Grappe(
        id=gid, champ=champ, og=r.texts(item.get("og"), f"{where}.og"), esms=esms,
        departements=r.texts(item.get("departements"), f"{where}.departements"),
        regions=r.texts(item.get("regions"), f"{where}.regions"),
        points={str(k): int(v) for k, v in r.get("points", dict, item).items()},
        warnings=r.texts(item.get("warnings"), f"{where}.warnings"),
        porteur=porteur or None,
        reasons=r.texts(item.get("reasons"), f"{where}.reasons"),
        metrics={str(k): float(v) for k, v in r.get("metrics", dict, item).items()},
    )


def _restore(r: _Reader, whatif: WhatIf, known: set[str], ej_now: Mapping[str, str],
             rules: RuleSet, notes: list[str]) -> None:
    """The saved grouping, locks and edits on ``whatif``; what no longer fits is noted."""
    m = r.get("modifications", dict)
    ogs_now = set(ej_now.values()) - {""}
    saved_esms_keys = set(r.get("esms", dict))
    together, apart = [], []
    for i, group in enumerate(m.get("ensemble", [])):
        group = r.texts(group, f"modifications.ensemble[{i}]")
        kept = [o for o in group if o in ogs_now]
        if len(kept) >= 2:
            together.append(tuple(kept))
        if len(kept) < len(group):
            notes.append(f"Verrou « ensemble » {', '.join(group)} : OG absent(s) des données "
                         f"({', '.join(o for o in group if o not in ogs_now)})"
                         + (" ; verrou gardé pour les autres." if len(kept) >= 2
                            else " ; verrou abandonné."))
    for i, pair in enumerate(m.get("separes", [])):
        pair = r.texts(pair, f"modifications.separes[{i}]")
        if len(pair) != 2:
            raise r.fail(f"modifications.separes[{i}]", "une paire d'OG")
        if all(o in ogs_now for o in pair):
            apart.append((pair[0], pair[1]))
        else:
            notes.append(f"Verrou « séparer » {pair[0]} / {pair[1]} abandonné : OG absent des "
                         "données.")
    excluded = r.texts(m.get("exclus", []), "modifications.exclus")
    lost = [e for e in excluded if e not in known]
    if lost:
        notes.append(f"{len(lost)} ESMS exclu(s) absent(s) des données (exclusion sans "
                     f"objet) : {_named(lost)}.")
    forced = {str(k): str(v) for k, v in r.get("modifications.forces", dict).items()
              if str(k) in ogs_now}
    whatif.constraints = Constraints(together=together, apart=apart,
                                     excluded_esms=[e for e in excluded if e in known],
                                     forced=forced)
    whatif.history = r.texts(m.get("historique", []), "modifications.historique")
    counter = m.get("compteur_nouvelles", 0)
    if not isinstance(counter, int) or isinstance(counter, bool):
        raise r.fail("modifications.compteur_nouvelles", "un entier")
    whatif.new_grappe_count = counter
    whatif.issued_ids |= set(r.texts(m.get("identifiants_emis", []),
                                     "modifications.identifiants_emis"))

    assignment: dict[str, str] = {}
    champ_of: dict[str, str] = {}
    porteurs: dict[str, str] = {}
    excluded_now = set(whatif.constraints.excluded_esms)
    emptied = []
    ignored: list[str] = []  # edits that cannot apply, each with its reason
    for i, item in enumerate(r.get("grappes", list)):
        where = f"grappes[{i}]"
        if not isinstance(item, dict):
            raise r.fail(where, "un objet")
        gid = r.get("id", str, item)
        listed = r.texts(item.get("esms"), f"{where}.esms")
        members = []
        for e in listed:
            if e in assignment or e in members:
                first = assignment.get(e, gid)
                ignored.append(f"{e} listé deux fois ({first} et {where} {gid}) : gardé dans "
                               f"{first}, la première mention")
            elif e in excluded_now:
                continue
            elif e in known:
                members.append(e)
            elif e in ogs_now:
                ignored.append(f"{e} dans {where}.esms est un numéro d'OG (FINESS EJ), pas "
                               "d'ESMS : ignoré")
            elif e not in saved_esms_keys:
                ignored.append(f"{e} dans {where}.esms : ESMS inconnu des données et du "
                               "scénario, ignoré")
        if not members:
            emptied.append(gid)
            continue
        champ_of[gid] = r.get("champ", str, item)
        for e in members:
            assignment[e] = gid
        porteurs[gid] = r.get("porteur", str, item)
    if ignored:
        notes.append(f"{len(ignored)} modification(s) du fichier non appliquée(s) : "
                     f"{_named(ignored)}.")
    if emptied:
        notes.append(f"Grappe(s) sans aucun ESMS dans les données, supprimée(s) : "
                     f"{_named(emptied)}.")
    whatif.assignment = assignment
    whatif.champ_of = champ_of
    whatif.issued_ids |= set(champ_of)
    whatif.porteurs = porteurs
    left = []
    for gid, og in list(porteurs.items()):
        if og and og not in whatif.ogs(gid):
            porteurs[gid] = ""
            left.append(f"{gid} ({og})")
    if left:
        notes.append(f"Porteur qui n'est plus un OG de sa grappe, remplacé par le porteur par "
                     f"défaut : {_named(left)}.")
    chosen = {str(g): str(o) for g, o in r.get("modifications.porteurs_choisis", dict).items()}
    whatif.chosen_porteurs = {g: o for g, o in chosen.items()
                              if g in champ_of and porteurs.get(g) == o}
    declarable = {c.code for c in rules.grid.criteria if not c.computed}
    declared: dict[str, dict[str, bool]] = {}
    dropped = []
    for gid, ticks in r.get("modifications.criteres_declares", dict).items():
        if not isinstance(ticks, dict):
            raise r.fail(f"modifications.criteres_declares.{gid}", "un objet critère: true")
        if gid not in champ_of:
            continue
        kept = {str(c): True for c, v in ticks.items() if v and c in declarable}
        dropped += [f"{gid} : {c}" for c, v in ticks.items() if v and c not in declarable]
        if kept:
            declared[gid] = kept
    if dropped:
        notes.append(f"Critère(s) déclaré(s) inconnu(s) des règles actuelles, ignoré(s) : "
                     f"{_named(dropped)}.")
    whatif.declared = declared
    whatif.built_grappes = set(r.texts(m.get("grappes_construites", []),
                                         "modifications.grappes_construites")) & set(champ_of)
    codes = text_column(whatif.unplaced, "code") if whatif.unplaced is not None else None
    if codes is not None:
        whatif.set_aside = frozenset(
            set(text_column(whatif.unplaced, "finess_et")[codes.isin(SOLVER_SET_ASIDE)]))


def _compare(r: _Reader, whatif: WhatIf, evaluation: Any, notes: list[str]) -> None:
    """Notes for the grappes whose validity, points or amount differ from the saved ones."""
    broken, changed = [], []
    for item in r.get("grappes", list):
        gid = item.get("id")
        if gid not in evaluation.costs:
            continue
        cost = evaluation.costs[gid]
        was_valid = bool(item.get("valide"))
        breaks = evaluation.violations.get(gid, [])
        if was_valid and breaks:
            broken.append(f"{gid} ({'; '.join(v.message for v in breaks)})")
        saved_eur = item.get("financement")
        saved_pts = item.get("points_grille")
        if (isinstance(saved_eur, int | float) and abs(float(saved_eur) - cost.total) > 0.005) \
                or (isinstance(saved_pts, int) and saved_pts != int(cost.score.total)):
            changed.append(f"{gid} : {_eur(saved_eur)} → {_eur(cost.total)}, "
                           f"{saved_pts} → {int(cost.score.total)} points")
    if broken:
        notes.append(f"{len(broken)} grappe(s) valide(s) à l'enregistrement qui ne le sont "
                     f"plus : {_named(broken)}.")
    if changed:
        notes.append(f"{len(changed)} grappe(s) au financement ou aux points changés : "
                     f"{_named(changed)}.")
    issues = whatif.lock_issues()
    if issues:
        notes.append("Verrous non respectés par le regroupement chargé : " + " ".join(issues))


def _eur(value: Any) -> str:
    return euros(float(value)) if isinstance(value, int | float) else "?"

