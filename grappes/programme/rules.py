"""Load and check the rule sets of the calls for projects (one TOML file per call).

Programme rules change from one call to the next (thresholds, amounts, payment schedule,
priority grid), so they are data, not code: ``data/rules/<name>.toml``, each figure citing
its source document. A region adds its own variant with a file that ``herite`` (inherits)
from a bundled one and overrides a few keys; ``load_rules`` also takes a path to such a file.

Every problem in a file is reported with the file name and the dotted KEY at fault
(``financement.lignes[2].montant: nombre attendu``; arrays of tables are numbered from 1,
in file order), so that a non-programmer can fix it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grappes.core.errors import GrappesError
from grappes.core.model import CHAMPS, DUI_INCONNU, DUI_STATUTS, GroupingRules
from grappes.core.paths import rules_dir
from grappes.core.structure import REASON_DEEP, too_deep

DEFAULT_RULES = "amorcage-t2-2021"
SCHEMA_VERSION = 1

#: project types an ESMS can fall in, from its DUI status (``aucun`` = nothing to fund)
PROJECT_TYPES: tuple[str, ...] = ("acquisition", "conformite", "deploiement", "aucun")
#: what a funding line may pay for: the funded project types, and ``deja_finance``, an ESMS
#: already funded for its DUI that stays in the project (amorçage t2, small OGs of temps 1)
LINE_TYPES: tuple[str, ...] = ("acquisition", "conformite", "deploiement", "deja_finance")
#: how an ESMS leaving its vendor for the grappe's solution is costed
SWITCH_TYPES: tuple[str, ...] = ("acquisition", "conformite")
#: how a funding line counts: per funded ESMS, per funded ESMS of a small OG, once per project
BASES: tuple[str, ...] = ("per_esms", "per_esms_small_og", "per_project")
#: when a per-project line applies (absent: always)
CONDITIONS: tuple[str, ...] = ("tous_petits_og", "porteur_petit_og", "un_petit_og")
#: who the money goes to / which budget pays it
BENEFICIAIRES: tuple[str, ...] = ("porteur", "editeur")
LEVIERS: tuple[str, ...] = ("esms_numerique", "sons")
#: per-ESMS exclusions a rule set can switch on (their wording lives in grappes.programme.costing)
ELIGIBILITY_CODES: tuple[str, ...] = ("deja_finance", "champ_non_eligible", "conformite_non_segur")
#: criteria of the grid computable from the data (grappes.programme.scoring)
COMPUTED_CRITERIA: tuple[str, ...] = ("isole", "multi_og", "multi_departement")
#: what makes a payment tranche due (grappes.followup.milestones): the signature, a declared
#: milestone (end of set-up...), or the usage targets being met
TRIGGERS: tuple[str, ...] = ("signature", "jalon", "cibles_usage")
#: usage indicators the follow-up computes (grappes.followup.indicators)
USAGE_INDICATORS: tuple[str, ...] = (
    "mssante", "dmp", "dossiers_actifs", "projet_personnalise", "evenement",
)  # fmt: skip
#: where a usage target is measured: on each ESMS, or on the grappe's summed figures
PERIMETRES: tuple[str, ...] = ("esms", "grappe")
#: what a project type requires of the vendor of an acquisition (004 « Typologies de projet »,
#: « ! PRÉREQUIS ! »): nothing, a Ségur-referenced vendor, or Ségur or the SAD (the tool
#: cannot see the SAD listing: a vendor known not to be referenced Ségur is then taken as
#: listed on the SAD)
PREREQUISITES: tuple[str, ...] = ("aucun", "segur", "segur_ou_sad")
#: how an ARS priority weighs in the envelope selection (``grappes.programme.funding_select``):
#: « au moins N » grappes of a kind, or a tier preferred before the points
PRIORITY_KINDS: tuple[str, ...] = ("minimum", "palier")


class RulesError(GrappesError, ValueError):
    """A rule file is missing, unreadable or malformed; the message names the file and key."""


@dataclass(frozen=True)
class Source:
    """A document the figures of a rule set come from."""

    code: str
    document: str
    url: str = ""


@dataclass(frozen=True)
class FundingLineRule:
    """One funding line as data: what it pays, on which basis, to which ESMS or projects."""

    code: str
    label: str
    basis: str
    amount: float
    types: tuple[str, ...]
    size_min: int | None = None
    size_max: int | None = None
    #: True: only with a Ségur-referenced vendor; False: only with a non-referenced one
    segur: bool | None = None
    condition: str | None = None
    #: most units (ESMS or projects) this line pays for
    cap: int | None = None
    lever: str = "esms_numerique"
    beneficiary: str = "porteur"
    source: str = ""
    choix: str = ""
    #: project types (typologies, 004) the line pays for; empty: every typology
    typologies: tuple[str, ...] = ()

    def fits_size(self, n_esms: int) -> bool:
        """Whether a grouping of ``n_esms`` counted ESMS is in this line's size tier."""
        if self.size_min is not None and n_esms < self.size_min:
            return False
        return not (self.size_max is not None and n_esms > self.size_max)


@dataclass(frozen=True)
class InstalmentRule:
    """One payment tranche of the call (``versements``): its one home, for the costing's
    instalments and the follow-up's tranches (``grappes.followup.model.Tranche``)."""

    label: str
    share: float
    #: the quote it comes from: documentation, not part of the rule's meaning (a tranche the
    #: follow-up stored without it is the same tranche)
    source: str = field(default="", compare=False)
    #: what makes it due (one of ``TRIGGERS``)
    trigger: str = "jalon"
    #: for a ``cibles_usage`` tranche: months after the signature to reach the targets
    deadline_acquisition_months: int | None = None
    deadline_conformite_months: int | None = None
    #: for a ``cibles_usage`` tranche: payable only once the « vérification de service
    #: régulier » is recorded (004), targets met or not before
    service_check: bool = False


@dataclass(frozen=True)
class EligibilityRule:
    code: str
    source: str = ""


@dataclass(frozen=True)
class Criterion:
    """One line of the priority grid; ``computed`` names how to compute it from the data."""

    code: str
    group: str
    label: str
    points: int
    computed: str | None = None
    implied_by: tuple[str, ...] = ()
    choix: str = ""


@dataclass(frozen=True)
class Grid:
    title: str
    criteria: tuple[Criterion, ...]
    max: int
    source: str = ""

    def points_of(self, computed: str) -> int:
        return sum(c.points for c in self.criteria if c.computed == computed)


@dataclass(frozen=True)
class Window:
    """A selection window: at most ``share`` of the envelope spent by its end (cumulative)."""

    label: str
    share: float
    source: str = ""


@dataclass(frozen=True)
class ProjectTypology:
    """A project type of 004's « Typologies de projet » table (PA/PH/DOM, PDS/PDE, AHI/PJM):
    its fields, the first selection window it is eligible in, whether its acquisitions go
    through the SAD, and what its acquisitions require of the vendor."""

    code: str
    champs: tuple[str, ...]
    first_window: int = 1
    sad: bool = True
    prerequisite: str = "aucun"
    source: str = ""
    choix: str = ""


@dataclass(frozen=True)
class PriorityCondition:
    """One test on a column of the candidate grappes: a number at least ``minimum``, a text
    among ``values`` (case ignored), or a yes/no flag equal to ``truth``."""

    column: str
    minimum: float | None = None
    values: tuple[str, ...] = ()
    truth: bool | None = None

    def describe(self) -> str:
        if self.minimum is not None:
            return f"{self.column} ≥ {self.minimum:g}"
        if self.values:
            return f"{self.column} parmi {', '.join(self.values)}"
        return f"{self.column} = {'oui' if self.truth else 'non'}"


@dataclass(frozen=True)
class SelectionPriority:
    """One priority of the ARS for the envelope selection (004 « Prioriser »), as data.

    ``minimum``: at least ``count`` funded grappes meeting every condition; ``palier``: the
    grappes meeting them are preferred (most of them funded) before the points. ``windows``
    limits it to some selection windows (from 1; empty: all)."""

    rank: int
    kind: str
    label: str
    conditions: tuple[PriorityCondition, ...]
    count: int = 1
    windows: tuple[int, ...] = ()
    source: str = ""
    choix: str = ""


@dataclass(frozen=True)
class UsageTarget:
    label: str
    target: float
    source: str = ""
    #: indicator code (one of ``USAGE_INDICATORS``)
    code: str = ""
    #: "esms" (every ESMS reaches it) or "grappe" (summed figures of the grappe reach it)
    perimetre: str = "esms"
    #: months summed for the first measure (3 for MSSanté and DMP), then monthly
    first_window_months: int = 1


@dataclass(frozen=True)
class RuleSet:
    """Everything the tool knows about one call for projects."""

    name: str
    title: str
    year: int | None
    path: Path
    sources: tuple[Source, ...]
    grouping: GroupingRules
    #: a small OG in Corsica / overseas, for the small-OG funding lines (2022: at most 8)
    petit_og_max_derogatoire: int | None
    gros_og_min: int
    type_by_statut: dict[str, str]
    max_funded_esms: int | None
    segur_default: bool
    lines: tuple[FundingLineRule, ...]
    schedule: tuple[InstalmentRule, ...]
    eligibility: tuple[EligibilityRule, ...]
    grid: Grid
    windows: tuple[Window, ...] = ()
    usage_targets: tuple[UsageTarget, ...] = ()
    #: dotted key -> citation, for every figure
    citations: dict[str, str] = field(default_factory=dict)
    #: dotted key -> the choice made where a document is ambiguous
    choices: dict[str, str] = field(default_factory=dict)
    parent: str | None = None
    #: project types whose ESMS the cap ``max_funded_esms`` limits (000: acquisition and
    #: conformité, « dans la limite de 49 ESMS par projet »; not the déploiement of 4))
    capped_types: tuple[str, ...] = ("acquisition", "conformite", "deploiement")
    #: project type of an ESMS that changes vendor to join the grappe's solution
    switch_type: str = "acquisition"
    #: 004's project types (empty: the call has none, every field mixes under the share rule)
    typologies: tuple[ProjectTypology, ...] = ()
    #: the ARS's priorities for the envelope selection, in their order
    priorities: tuple[SelectionPriority, ...] = ()

    def typology_of(self, champ: str) -> ProjectTypology | None:
        """The project type a field belongs to (None: the call has no typology for it)."""
        for t in self.typologies:
            if champ in t.champs:
                return t
        return None

    @property
    def eligibility_codes(self) -> tuple[str, ...]:
        return tuple(e.code for e in self.eligibility)

    def line(self, code: str) -> FundingLineRule:
        for ln in self.lines:
            if ln.code == code:
                return ln
        msg = f"Ligne de financement inconnue dans {self.name} : {code}"
        raise KeyError(msg)


# --------------------------------------------------------------------------- reading


class _Reader:
    """Reads one TOML table, tracks its dotted path, collects errors and unknown keys."""

    def __init__(self, data: Mapping[str, Any], path: str, errors: list[str]) -> None:
        self.data = data
        self.path = path
        self.errors = errors
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, name: str, problem: str) -> None:
        self.errors.append(f"{self.key(name)}: {problem}")

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str) -> Any:
        self.used.add(name)
        return self.data.get(name)

    def text(self, name: str, required: bool = True, default: str = "") -> str:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, "clé manquante (texte attendu)")
            return default
        if not isinstance(value, str):
            self.error(name, "texte attendu")
            return default
        return value

    def number(self, name: str, required: bool = True, default: float = 0.0) -> float:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, "clé manquante (nombre attendu)")
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(name, "nombre attendu")
            return default
        if value < 0:
            self.error(name, "nombre positif attendu")
            return default
        return float(value)

    def integer(self, name: str, required: bool = True, default: int | None = None) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, "clé manquante (entier attendu)")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(name, "entier attendu")
            return default
        if value < 0:
            self.error(name, "entier positif attendu")
            return default
        return value

    def boolean(self, name: str, required: bool = True, default: bool | None = None) -> bool | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, "clé manquante (true ou false attendu)")
            return default
        if not isinstance(value, bool):
            self.error(name, "true ou false attendu")
            return default
        return value

    def share(self, name: str, required: bool = True, default: float = 0.0) -> float:
        value = self.number(name, required, default)
        if not 0.0 <= value <= 1.0:
            self.error(name, "part entre 0 et 1 attendue (0.2 pour 20 %)")
            return default
        return value

    def choice(self, name: str, allowed: tuple[str, ...], required: bool = True,
               default: str | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, f"clé manquante (une valeur parmi {', '.join(allowed)})")
            return default
        if value not in allowed:
            self.error(name, f"valeur « {value} » inconnue, attendu : {', '.join(allowed)}")
            return default
        return str(value)

    def strings(self, name: str, allowed: tuple[str, ...] | None = None,
                required: bool = True) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, "clé manquante (liste de textes attendue)")
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(name, "liste de textes attendue, par exemple [\"PA\", \"PH\"]")
            return ()
        if allowed is not None:
            bad = [v for v in value if v not in allowed]
            if bad:
                self.error(name, f"valeur(s) inconnue(s) {', '.join(bad)}, attendu : "
                           f"{', '.join(allowed)}")
                return tuple(v for v in value if v in allowed)
        return tuple(value)

    def table(self, name: str, required: bool = True) -> _Reader:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, "table manquante")
            value = {}
        elif not isinstance(value, dict):
            self.error(name, "table attendue")
            value = {}
        return _Reader(value, self.key(name), self.errors)

    def tables(self, name: str, required: bool = True) -> list[_Reader]:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, f"clé manquante (blocs [[{self.key(name)}]] attendus)")
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error(name, f"blocs [[{self.key(name)}]] attendus")
            return []
        return [_Reader(v, f"{self.key(name)}[{i}]", self.errors) for i, v in enumerate(value, 1)]

    def figure(self, name: str, kind: str, citations: dict[str, str],
               choices: dict[str, str], inherited_source: str = "") -> Any:
        """A figure with its citation: ``{ valeur = ..., source = "...", choix = "..." }``.

        A bare value is accepted when the table has a ``source`` of its own.
        """
        value = self.raw(name)
        if value is None:
            self.error(name, "clé manquante")
            return None
        if isinstance(value, dict):
            sub = _Reader(value, self.key(name), self.errors)
            source = sub.text("source", required=not inherited_source, default=inherited_source)
            choix = sub.text("choix", required=False)
            if "valeur" not in value:
                sub.error("valeur", "clé manquante")
                sub.finish()
                return None
            result = _convert(sub, "valeur", kind)
            sub.finish()
        else:
            if not inherited_source:
                self.error(name, "source manquante : écrire { valeur = ..., source = \"...\" }")
            source, choix = inherited_source, ""
            result = _convert(self, name, kind)
        citations[self.key(name)] = source
        if choix:
            choices[self.key(name)] = choix
        return result

    def finish(self) -> None:
        """Report keys nobody read (typos such as ``montnat``)."""
        for k in self.data:
            if k not in self.used:
                self.error(k, "clé inconnue")


_THRESHOLD = re.compile(r"^\s*(<=|<|>=|>)\s*(\d+)\s*$")


def _convert(reader: _Reader, name: str, kind: str) -> Any:
    """Check the value ``reader.data[name]`` against ``kind`` (int, int_or_none, share...)."""
    if kind == "int":
        return reader.integer(name)
    if kind == "int_or_none":
        if reader.data.get(name) == "aucun":
            reader.used.add(name)
            return None
        value = reader.raw(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            reader.error(name, "entier positif ou \"aucun\" attendu")
            return None
        return value
    if kind == "share":
        return reader.share(name)
    if kind == "text":
        return reader.text(name)
    if kind == "bool":
        return reader.boolean(name)
    if kind == "champs":
        return reader.strings(name, allowed=CHAMPS)
    if kind == "types":
        return reader.strings(name, allowed=PROJECT_TYPES[:-1])
    if kind == "switch":
        return reader.choice(name, SWITCH_TYPES)
    if kind in ("small", "large"):
        value = reader.raw(name)
        match = _THRESHOLD.match(value) if isinstance(value, str) else None
        ops = ("<", "<=") if kind == "small" else (">", ">=")
        if match is None or match.group(1) not in ops:
            example = "\"< 15\" ou \"<= 15\"" if kind == "small" else "\">= 50\""
            reader.error(name, f"seuil attendu, par exemple {example}")
            return None
        op, n = match.group(1), int(match.group(2))
        if kind == "small":
            return n - 1 if op == "<" else n  # the largest size that is still small
        return n + 1 if op == ">" else n  # the smallest size that is large
    msg = f"kind inconnu : {kind}"
    raise AssertionError(msg)


# --------------------------------------------------------------------------- files


def available_rules(folder: Path | None = None) -> list[str]:
    """Names of the rule sets installed in ``data/rules/`` (file stems, sorted)."""
    folder = folder or rules_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml"))


def _resolve(name_or_path: str | Path, near: Path | None = None) -> Path:
    """The file of a rule set given by name (``data/rules``, or beside ``near``) or by path."""
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if text.endswith(".toml") or "/" in text or "\\" in text:
        if candidate.is_file():
            return candidate
        msg = f"{text}: fichier de règles introuvable."
        raise RulesError(msg)
    for folder in ([near] if near else []) + [rules_dir()]:
        path = folder / f"{text}.toml"
        if path.is_file():
            return path
    names = ", ".join(available_rules()) or "aucun"
    msg = f"Jeu de règles inconnu : « {text} ». Jeux installés : {names}."
    raise RulesError(msg)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path.name}: fichier TOML illisible ({exc})."
        raise RulesError(msg) from exc
    except RecursionError as exc:
        msg = f"{path.name}: {REASON_DEEP}."
        raise RulesError(msg) from exc
    except OSError as exc:
        msg = f"{path.name}: lecture impossible ({exc.strerror})."
        raise RulesError(msg) from exc
    deep = too_deep(data)
    if deep is not None:
        msg = f"{path.name}, clé {deep} : {REASON_DEEP}."
        raise RulesError(msg)
    return data


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge for inheritance: tables are merged key by key, other values replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], str | None]:
    """The file's data with its ``herite`` parent merged in (the parent's name is returned)."""
    resolved = path.resolve()
    if resolved in seen:
        msg = f"{path.name}: herite: héritage circulaire."
        raise RulesError(msg)
    data = _read_toml(path)
    parent = data.get("herite")
    if parent is None:
        return data, None
    if not isinstance(parent, str):
        msg = f"{path.name}: herite: nom d'un jeu de règles attendu (texte)."
        raise RulesError(msg)
    try:
        parent_path = _resolve(parent, near=path.parent)
    except RulesError as exc:
        msg = f"{path.name}: herite: {exc}"
        raise RulesError(msg) from exc
    base, _ = _load_raw(parent_path, (*seen, resolved))
    merged = _merge(base, {k: v for k, v in data.items() if k != "herite"})
    if "nom" not in data:
        merged["nom"] = path.stem
    return merged, parent


def load_rules(name_or_path: str | Path = DEFAULT_RULES) -> RuleSet:
    """Load one rule set by name (``amorcage-t2-2021``) or by path to a TOML file.

    Raises :class:`RulesError` naming the file and every wrong or missing key.
    """
    path = _resolve(name_or_path)
    data, parent = _load_raw(path)
    errors: list[str] = []
    rules = _build(data, path, parent, errors)
    if errors or rules is None:
        listing = "\n  ".join(errors)
        msg = f"{path.name}: règles invalides :\n  {listing}"
        raise RulesError(msg)
    return rules


@dataclass
class _Notes:
    """Where each figure comes from (citations) and the project's documented choices, filled
    by every table's reader as it goes."""

    citations: dict[str, str] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)

    def choice_of(self, reader: _Reader, key: str | None = None) -> None:
        """Record the table's ``choix`` (under ``key``, default the table's path)."""
        if reader.has("choix"):
            self.choices[key or reader.path] = reader.text("choix")


@dataclass(frozen=True)
class _GroupingTable:
    """``[regroupement]``'s figures."""

    min_esms: Any
    min_derog: Any
    max_esms: Any
    solver_size: Any
    min_og: Any
    petit_max: Any
    petit_derog: Any
    gros_min: Any
    other_share: Any
    champs: Any
    dominants: Any
    carried: Any
    med_majority: Any
    exclude: Any


def _read_grouping(top: _Reader, notes: _Notes) -> _GroupingTable:
    """``[regroupement]``: thresholds, OG sizes, fields."""
    reg = top.table("regroupement")
    table_source = reg.text("source", required=False)
    notes.choice_of(reg, "regroupement")

    def fig(name: str, kind: str) -> Any:
        return reg.figure(name, kind, notes.citations, notes.choices, table_source)

    min_esms = fig("min_esms", "int")
    min_derog = fig("min_esms_derogatoire", "int")
    max_esms = fig("max_esms", "int_or_none")
    if reg.has("taille_travail_solveur"):
        solver_size = fig("taille_travail_solveur", "int")
    else:
        solver_size = max_esms
        if max_esms is None:
            reg.error("taille_travail_solveur", "obligatoire quand max_esms vaut « aucun » "
                      "(taille maximale des grappes de plusieurs OG que propose le solveur)")
    out = _GroupingTable(
        min_esms=min_esms, min_derog=min_derog, max_esms=max_esms, solver_size=solver_size,
        min_og=fig("min_og", "int"),
        petit_max=fig("petit_og", "small"),
        petit_derog=(fig("petit_og_derogatoire", "small") if reg.has("petit_og_derogatoire")
                     else None),
        gros_min=fig("gros_og", "large"),
        other_share=fig("part_autre_champ_max", "share"),
        champs=fig("champs_eligibles", "champs"),
        dominants=fig("champs_dominants", "champs") if reg.has("champs_dominants") else None,
        carried=(fig("compter_deja_finances_petits_og", "bool")
                 if reg.has("compter_deja_finances_petits_og") else False),
        med_majority=fig("majorite_medicalises", "bool"),
        exclude=fig("exclure_deja_finances", "bool"),
    )  # fmt: skip
    reg.finish()
    return out


@dataclass(frozen=True)
class _FundingTable:
    """``[financement]``'s figures and lines."""

    max_funded: Any
    segur_default: Any
    capped_types: Any
    switch_type: Any
    type_by_statut: dict[str, str]
    lines: list[FundingLineRule]


def _read_funding(top: _Reader, notes: _Notes) -> _FundingTable:
    """``[financement]``: the cap, the Ségur default, the project type of each DUI status and
    the ``[[financement.lignes]]``."""
    fin = top.table("financement")
    fin_source = fin.text("source", required=False)
    notes.choice_of(fin, "financement")
    cit, cho = notes.citations, notes.choices
    max_funded = fin.figure("plafond_esms", "int_or_none", cit, cho, fin_source)
    segur_default = fin.figure("editeur_segur_par_defaut", "bool", cit, cho, fin_source)
    capped_types = (fin.figure("plafond_types", "types", cit, cho, fin_source)
                    if fin.has("plafond_types") else PROJECT_TYPES[:-1])
    switch_type = (fin.figure("changement_editeur", "switch", cit, cho, fin_source)
                   if fin.has("changement_editeur") else "acquisition")
    tps = fin.table("type_par_statut")
    cit["financement.type_par_statut"] = tps.text("source")
    notes.choice_of(tps, "financement.type_par_statut")
    type_by_statut: dict[str, str] = {}
    for statut in (*DUI_STATUTS, DUI_INCONNU):
        type_by_statut[statut] = tps.choice(statut, PROJECT_TYPES) or "aucun"
    tps.finish()
    lines = _read_lines(fin, fin_source, notes)
    fin.finish()
    return _FundingTable(max_funded, segur_default, capped_types, switch_type, type_by_statut,
                         lines)


def _read_lines(fin: _Reader, fin_source: str | None, notes: _Notes) -> list[FundingLineRule]:
    """``[[financement.lignes]]``: one funding line each, codes unique."""
    lines: list[FundingLineRule] = []
    codes_seen: set[str] = set()
    for ln in fin.tables("lignes"):
        code = ln.text("code")
        if code in codes_seen:
            ln.error("code", f"code « {code} » déjà utilisé par une autre ligne")
        codes_seen.add(code)
        size_min = ln.integer("taille_min", required=False)
        size_max = ln.integer("taille_max", required=False)
        if size_min is not None and size_max is not None and size_min > size_max:
            ln.error("taille_min", "taille_min supérieure à taille_max")
        line = FundingLineRule(
            code=code,
            label=ln.text("libelle"),
            basis=ln.choice("base", BASES) or "per_esms",
            amount=ln.number("montant"),
            types=ln.strings("types", allowed=LINE_TYPES),
            size_min=size_min,
            size_max=size_max,
            segur=ln.boolean("segur", required=False),
            condition=ln.choice("condition", CONDITIONS, required=False),
            cap=ln.integer("plafond", required=False),
            lever=ln.choice("levier", LEVIERS, required=False, default="esms_numerique")
            or "esms_numerique",
            beneficiary=ln.choice("beneficiaire", BENEFICIAIRES, required=False,
                                  default="porteur") or "porteur",
            source=ln.text("source", required=not fin_source, default=fin_source),
            choix=ln.text("choix", required=False),
            typologies=ln.strings("typologies", required=False),
        )
        if line.condition and line.basis != "per_project":
            ln.error("condition", "une condition ne s'applique qu'à une ligne de base per_project")
        notes.citations[f"{ln.path}.montant"] = line.source
        if line.choix:
            notes.choices[ln.path] = line.choix
        lines.append(line)
        ln.finish()
    return lines


def _read_schedule(top: _Reader, notes: _Notes) -> list[InstalmentRule]:
    """``[[versements]]``: the instalments, their triggers and deadlines; shares add to 1."""
    schedule = []
    for v in top.tables("versements"):
        trigger = v.choice("declencheur", TRIGGERS, required=False, default="jalon") or "jalon"
        deadlines: dict[str, int | None] = {"acquisition": None, "conformite": None}
        for kind in deadlines:
            key = f"delai_{kind}_mois"
            if v.has(key):
                deadlines[kind] = v.figure(key, "int", notes.citations, notes.choices)
            elif trigger == "cibles_usage":
                v.error(key, "clé manquante (délai en mois pour atteindre les cibles d'usage)")
        service_check = False
        if v.has("verification_service_regulier"):
            service_check = bool(v.figure("verification_service_regulier", "bool",
                                          notes.citations, notes.choices))
            if service_check and trigger != "cibles_usage":
                v.error("verification_service_regulier",
                        "seule une tranche « cibles_usage » attend cette vérification")
        schedule.append(InstalmentRule(
            v.text("libelle"), v.share("part"), v.text("source"), trigger,
            deadlines["acquisition"], deadlines["conformite"], service_check,
        ))
        notes.choice_of(v)
        v.finish()
    if schedule and abs(sum(i.share for i in schedule) - 1.0) > 1e-9:
        total = sum(i.share for i in schedule)
        top.error("versements", f"la somme des parts vaut {total:g}, elle doit valoir 1")
    return schedule


def _read_eligibility(top: _Reader, notes: _Notes) -> list[EligibilityRule]:
    """``[[eligibilite]]``: the exclusion rules this call applies, with their source."""
    eligibility = []
    for e in top.tables("eligibilite", required=False):
        code = e.choice("code", ELIGIBILITY_CODES) or ""
        eligibility.append(EligibilityRule(code, e.text("source")))
        notes.choice_of(e)
        e.finish()
    return eligibility


def _read_grid(top: _Reader, notes: _Notes, line_codes: set[str]) -> Grid:
    """``[grille]``: the priority grid's criteria; their points add up to its total."""
    g = top.table("grille")
    grid_source = g.text("source")
    notes.choice_of(g, "grille")
    criteria = []
    for c in g.tables("criteres"):
        implied = c.strings("implique_par", required=False)
        unknown = [x for x in implied if x not in line_codes]
        if unknown:
            c.error("implique_par", f"ligne(s) de financement inconnue(s) : {', '.join(unknown)}")
        crit = Criterion(
            code=c.text("code"),
            group=c.text("groupe"),
            label=c.text("libelle"),
            points=c.integer("points") or 0,
            computed=c.choice("calcul", COMPUTED_CRITERIA, required=False),
            implied_by=implied,
            choix=c.text("choix", required=False),
        )
        if crit.choix:
            notes.choices[c.path] = crit.choix
        criteria.append(crit)
        c.finish()
    grid_max = g.integer("total") or 0
    if criteria and grid_max != sum(c.points for c in criteria):
        g.error("total", f"vaut {grid_max} mais les critères totalisent "
                f"{sum(c.points for c in criteria)} points")
    grid_codes = [c.code for c in criteria]
    if len(set(grid_codes)) != len(grid_codes):
        g.error("criteres", "deux critères ont le même code")
    grid = Grid(g.text("titre"), tuple(criteria), grid_max, grid_source)
    g.finish()
    return grid


def _read_windows(top: _Reader, notes: _Notes) -> list[Window]:
    """``[[fenetres]]``: the ARS's funding windows, cumulative shares growing."""
    windows = []
    previous = 0.0
    for w in top.tables("fenetres", required=False):
        win = Window(w.text("libelle"), w.share("part_cumulee"), w.text("source"))
        notes.choice_of(w)
        if win.share < previous:
            w.error("part_cumulee", "les parts cumulées des fenêtres doivent croître")
        previous = win.share
        windows.append(win)
        w.finish()
    return windows


def _read_targets(top: _Reader, notes: _Notes) -> list[UsageTarget]:
    """``[[cibles_usage]]``: the usage targets of the last instalment, one per indicator."""
    targets = []
    codes_targets: set[str] = set()
    for t in top.tables("cibles_usage", required=False):
        code = t.choice("code", USAGE_INDICATORS, required=False, default="") or ""
        if code and code in codes_targets:
            t.error("code", f"indicateur « {code} » déjà cité par une autre cible")
        codes_targets.add(code)
        perimetre = "esms"
        if t.has("perimetre"):
            perimetre = t.figure("perimetre", "text", notes.citations, notes.choices) or "esms"
            if perimetre not in PERIMETRES:
                t.error("perimetre", f"valeur attendue parmi : {', '.join(PERIMETRES)}")
        window = 1
        if t.has("premiere_mesure_mois"):
            window = t.figure("premiere_mesure_mois", "int", notes.citations,
                              notes.choices) or 1
            if not 1 <= window <= 12:
                t.error("premiere_mesure_mois", "entre 1 et 12 mois attendu")
        targets.append(UsageTarget(t.text("libelle"), t.share("cible"), t.text("source"),
                                   code, perimetre, window))
        notes.choice_of(t)
        t.finish()
    return targets


def _build(data: dict[str, Any], path: Path, parent: str | None,
           errors: list[str]) -> RuleSet | None:
    """The rule set of one file's data (its parent merged in), one reader per TOML table;
    None when any key is wrong (``errors`` lists each, with its path)."""
    top = _Reader(data, "", errors)
    top.used.add("herite")
    schema = top.integer("schema")
    if schema is not None and schema != SCHEMA_VERSION:
        top.error("schema", f"version {schema} non prise en charge (attendu {SCHEMA_VERSION})")
    name = top.text("nom", required=False, default=path.stem) or path.stem
    title = top.text("titre")
    year = top.integer("annee", required=False)
    notes = _Notes()
    sources = []
    for s in top.tables("sources"):
        sources.append(Source(s.text("code"), s.text("document"), s.text("url", required=False)))
        s.finish()
    reg = _read_grouping(top, notes)
    fin = _read_funding(top, notes)
    schedule = _read_schedule(top, notes)
    eligibility = _read_eligibility(top, notes)
    grid = _read_grid(top, notes, {line.code for line in fin.lines})
    windows = _read_windows(top, notes)
    targets = _read_targets(top, notes)
    typologies = _read_typologies(top, notes.choices)
    known_types = {t.code for t in typologies}
    for i, line in enumerate(fin.lines, 1):
        unknown = [x for x in line.typologies if x not in known_types]
        if unknown:
            errors.append(f"financement.lignes[{i}].typologies: type(s) de projet inconnu(s) "
                          f"{', '.join(unknown)} (déclarer [[types_projet]])")
    priorities = _read_priorities(top, notes.choices, len(windows))
    top.finish()

    if errors:
        return None
    grouping = GroupingRules(
        min_esms=reg.min_esms,
        min_esms_derogatoire=reg.min_derog,
        max_esms=reg.max_esms,
        solver_max_esms=reg.solver_size,
        min_og=reg.min_og,
        petit_og_max=reg.petit_max,
        petit_og_max_derogatoire=reg.petit_derog,
        max_other_field_share=reg.other_share,
        exclude_deja_finance=reg.exclude,
        deja_finance_small_og_counts=bool(reg.carried),
        exclude_upgrade_non_segur="conformite_non_segur" in {e.code for e in eligibility},
        eligible_champs=tuple(reg.champs),
        dominant_champs=tuple(reg.dominants) if reg.dominants is not None else None,
        medicalise_majority=reg.med_majority,
        field_families=tuple(t.champs for t in typologies),
        points_isole=grid.points_of("isole"),
        points_multi_og=grid.points_of("multi_og"),
        points_multi_departement=grid.points_of("multi_departement"),
    )
    return RuleSet(
        name=name,
        title=title,
        year=year,
        path=path,
        sources=tuple(sources),
        grouping=grouping,
        petit_og_max_derogatoire=reg.petit_derog,
        gros_og_min=reg.gros_min,
        type_by_statut=fin.type_by_statut,
        max_funded_esms=fin.max_funded,
        segur_default=bool(fin.segur_default),
        lines=tuple(fin.lines),
        schedule=tuple(schedule),
        eligibility=tuple(eligibility),
        grid=grid,
        windows=tuple(windows),
        usage_targets=tuple(targets),
        citations=notes.citations,
        choices=notes.choices,
        parent=parent,
        capped_types=tuple(fin.capped_types or ()),
        switch_type=fin.switch_type or "acquisition",
        typologies=typologies,
        priorities=priorities,
    )


def _read_typologies(top: _Reader, choices: dict[str, str]) -> tuple[ProjectTypology, ...]:
    """``[[types_projet]]``: 004's project types, each field in at most one."""
    out: list[ProjectTypology] = []
    seen: dict[str, str] = {}
    for t in top.tables("types_projet", required=False):
        code = t.text("code")
        champs = t.strings("champs", allowed=CHAMPS)
        for c in champs:
            if c in seen:
                t.error("champs", f"le champ {c} est déjà dans le type de projet {seen[c]}")
            seen[c] = code
        first = t.integer("fenetre", required=False, default=1) or 1
        if first < 1:
            t.error("fenetre", "numéro de fenêtre (1, 2, 3…) attendu")
        typ = ProjectTypology(
            code=code, champs=champs, first_window=first,
            sad=bool(t.boolean("passage_sad", required=False, default=False)),
            prerequisite=t.choice("prerequis_acquisition", PREREQUISITES, required=False,
                                  default="aucun") or "aucun",
            source=t.text("source"), choix=t.text("choix", required=False),
        )
        if typ.choix:
            choices[t.path] = typ.choix
        out.append(typ)
        t.finish()
    return tuple(out)


def _read_conditions(p: _Reader) -> tuple[PriorityCondition, ...]:
    out = []
    for c in p.tables("conditions"):
        tests = [k for k in ("min", "valeurs", "oui") if c.has(k)]
        if len(tests) != 1:
            c.error("colonne", "une seule épreuve attendue parmi min, valeurs, oui")
        minimum = c.number("min", required=False, default=None) if c.has("min") else None
        values = c.strings("valeurs", required=False)
        truth = c.boolean("oui", required=False)
        out.append(PriorityCondition(c.text("colonne"), minimum, values, truth))
        c.finish()
    return tuple(out)


def _read_priorities(top: _Reader, choices: dict[str, str],
                     n_windows: int) -> tuple[SelectionPriority, ...]:
    """``[selection]`` with its ``[[selection.priorites]]``, in rank order."""
    if not top.has("selection"):
        return ()
    sel = top.table("selection")
    if sel.has("choix"):
        choices["selection"] = sel.text("choix")
    if sel.has("source"):
        sel.text("source")
    out: list[SelectionPriority] = []
    for p in sel.tables("priorites"):
        kind = p.choice("sorte", PRIORITY_KINDS) or "palier"
        count = p.integer("nombre", required=False, default=1) or 1
        windows = tuple(int(w) for w in (p.raw("fenetres") or []) if isinstance(w, int))
        if p.has("fenetres") and not all(isinstance(w, int) and w >= 1
                                         for w in p.raw("fenetres") or [None]):
            p.error("fenetres", "liste de numéros de fenêtre attendue, par exemple [1]")
        if n_windows and any(w > n_windows for w in windows):
            p.error("fenetres", f"l'appel n'a que {n_windows} fenêtre(s)")
        prio = SelectionPriority(
            rank=p.integer("rang") or 0, kind=kind, label=p.text("libelle"),
            conditions=_read_conditions(p), count=count, windows=windows,
            source=p.text("source"), choix=p.text("choix", required=False),
        )
        if prio.choix:
            choices[p.path] = prio.choix
        out.append(prio)
        p.finish()
    sel.finish()
    ranks = [p.rank for p in out]
    if len(set(ranks)) != len(ranks):
        top.error("selection.priorites", "deux priorités ont le même rang")
    return tuple(sorted(out, key=lambda p: p.rank))


def load_all(folder: Path | None = None) -> tuple[list[RuleSet], dict[str, str]]:
    """Every installed rule set; malformed ones come back as name -> error message."""
    folder = folder or rules_dir()
    loaded: list[RuleSet] = []
    failed: dict[str, str] = {}
    for name in available_rules(folder):
        try:
            loaded.append(load_rules(folder / f"{name}.toml"))
        except RulesError as exc:
            failed[name] = str(exc)
    return loaded, failed
