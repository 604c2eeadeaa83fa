"""The docs say what the code does: every name, path and command they cite exists.

Why: ``docs/solveur.md`` says « a fact here that the code contradicts is a bug », but nothing
checked it, and the docs had drifted (modules that no longer exist, packages never described).
As datasette does, these tests read the docs (``docs/*.md``, ``README.md``,
``bench/README.md`` and the READMEs under ``data/``) and check them against the code:

- every package of the import layers (``tests/test_architecture.py``'s ``LAYERS``) is
  described in ``docs/architecture.md``;
- every Python reference in backticks resolves: a dotted path (``grappes.solver.propose``,
  ``core.vocabulary``, ``Scenario.from_report``, ``scipy.stats.theilslopes``) imports and its
  attributes exist; a bare ``CamelCase`` or ``UPPER_CASE`` name, or a ``call()``, is defined in
  the project (or is one of the few outside names listed below); in ``docs/architecture.md``,
  a bare ``snake_case`` name is a project module or name too;
- every file path in backticks or in a code block (``grappes/ui/mapview.py``,
  ``data/rules/*.toml``, ``tests/x.py::test_y``, ``python bench/bench_solver.py``) exists;
- every ``grappes …`` command (inline or in a code block) names real commands and options,
  an option quoted alone (``--champ``) belongs to some command or script, and every command
  of the CLI is named somewhere in the docs.

What is left alone on purpose: words in backticks that are data, not code (column names,
TOML keys such as ``regroupement.min_esms``, values, messages, file names the tool writes
such as ``grappes.csv``). They are checked by the tests of the formats, not here.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from typer.main import get_command

from tests.test_architecture import LAYERS, ROOT, project_files

DOCS: tuple[Path, ...] = (
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "README.md",
    ROOT / "bench/README.md",
    *sorted((ROOT / "data").rglob("README.md")),
)

#: Docs left out of the checks while another change rewrites them (empty: every doc is checked).
NOT_YET_CHECKED: frozenset[str] = frozenset()

#: Names from outside the project that the docs cite bare (library classes and methods).
OUTSIDE_NAMES: frozenset[str] = frozenset(
    {
        "MaxPHeuristic",  # spopt
        "KMeansConstrained",  # k-means-constrained
        "AddHint",  # OR-Tools CP-SAT
        "MediaFileStorageError",  # streamlit
        "ceil",  # math, in a formula
    }
)

#: Where the tools write (ignored by git): a path there is an output, not a file to find.
OUTPUT_DIRS: tuple[str, ...] = ("bench/results/",)

#: Third-party or standard modules a dotted reference may start with.
OUTSIDE_MODULES: frozenset[str] = frozenset(
    {"json", "random", "numpy", "pandas", "scipy", "networkx", "streamlit", "ortools"}
)

#: File endings: ``grappes.csv`` is a file the tool writes, not ``module.attribute``.
FILE_ENDINGS: frozenset[str] = frozenset(
    {"csv", "json", "gz", "py", "md", "toml", "xlsx", "gpkg", "db", "txt", "mako", "jsonl"}
)

DOTTED = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(.*\))?(?:\.\w+\(.*\))?$")
CALL = re.compile(r"^([a-z_]\w*)\(.*\)$")
CAMEL = re.compile(r"^[A-Z][a-z]\w*$")
UPPER = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
SNAKE = re.compile(r"^[a-z_][a-z0-9_]*$")
OPTION = re.compile(r"^--?[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Span:
    """One piece of code in a doc: inline (between backticks) or one line of a code block."""

    doc: str
    line: int
    text: str
    inline: bool
    language: str = ""  # of the code block (``python``, ``bash``…)

    def where(self) -> str:
        return f"{self.doc}:{self.line} `{self.text}`"


@cache
def spans(doc: Path) -> tuple[Span, ...]:
    """Inline code spans and code-block lines of one doc, with their line numbers."""
    name = doc.relative_to(ROOT).as_posix()
    found: list[Span] = []
    in_block, language = False, ""
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_block, language = not in_block, line.strip().removeprefix("```")
            continue
        if in_block:
            text = line.split(" #", 1)[0].strip().removeprefix("$ ")
            if text:
                found.append(Span(name, number, text, inline=False, language=language))
            continue
        for match in re.finditer(r"`([^`]+)`", line):
            found.append(Span(name, number, match.group(1).strip(), inline=True))
    return tuple(found)


def checked_docs() -> list[Path]:
    return [d for d in DOCS if d.relative_to(ROOT).as_posix() not in NOT_YET_CHECKED]


# ------------------------------------------------------------------ what the project defines


@cache
def defined_names() -> dict[str, set[str]]:
    """Top-level names (functions, classes, constants) of every module, by name."""
    names: dict[str, set[str]] = {}
    for module, path in project_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            found: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found = [node.name]
            elif isinstance(node, ast.Assign):
                found = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found = [node.target.id]
            for name in found:
                names.setdefault(name, set()).add(module)
    return names


@cache
def function_names() -> frozenset[str]:
    """Every function and method name of the project (``scenario()`` is a method)."""
    return frozenset(
        node.name
        for path in project_files().values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


@cache
def source_words() -> frozenset[str]:
    """Every identifier-like word of the code and tests (environment variables, constants)."""
    words: set[str] = set()
    for top in ("app.py", "pages", "grappes", "bench", "tests", "data/build", ".ci"):
        target = ROOT / top
        files = [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file()]
        for path in files:
            if path.suffix in {".py", ".sh", ""}:
                words |= set(re.findall(r"\w+", path.read_text(encoding="utf-8")))
    return frozenset(words)


def _has_attribute(obj: object, name: str) -> bool:
    if hasattr(obj, name):
        return True
    fields = getattr(obj, "__dataclass_fields__", None)
    if fields and name in fields:
        return True
    return name in getattr(obj, "__annotations__", {})


def _walk_attributes(obj: object, parts: list[str]) -> bool:
    for part in parts:
        if not _has_attribute(obj, part):
            return False
        obj = getattr(obj, part, None)
        if obj is None:
            return True  # a field without a default: it exists, there is nothing below it
    return True


def _import_prefix(parts: list[str]) -> tuple[object, list[str]] | None:
    """The longest importable module at the head of ``parts``, and the attributes after it."""
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except (ImportError, ValueError):
            continue
        return importlib.import_module(name), parts[i:]
    return None


def resolves(reference: str) -> bool | None:
    """True or False for a Python reference, None when the words are not code at all."""
    parts = reference.split(".")
    if parts[-1] in FILE_ENDINGS:
        return None
    modules = project_files()
    if parts[0] in {"grappes", "bench"} or parts[0] in OUTSIDE_MODULES:
        found = _import_prefix(parts)
        return found is not None and _walk_attributes(*found)
    # relative to the project: ``core.vocabulary``, ``forecast.theil_sen``
    for i in range(len(parts), 0, -1):
        tail = "." + ".".join(parts[:i])
        for module in sorted(m for m in modules if ("." + m).endswith(tail)):
            if _walk_attributes(importlib.import_module(module), parts[i:]):
                return True
        if any(("." + m).endswith(tail) for m in modules):
            return False
    # a project class or constant and its attributes: ``Scenario.from_report``
    owners = defined_names().get(parts[0])
    if owners:
        return any(
            _walk_attributes(getattr(importlib.import_module(m), parts[0]), parts[1:])
            for m in sorted(owners)
        )
    return None  # TOML keys, JSON fields: not Python


def _bare_name_ok(name: str) -> bool:
    return (
        name in defined_names()
        or name in OUTSIDE_NAMES
        or hasattr(builtins, name)
        or any(m.rsplit(".", 1)[-1] == name for m in project_files())
    )


# ------------------------------------------------------------------ the command line


@cache
def commands() -> dict[tuple[str, ...], frozenset[str]]:
    """Every command path of ``grappes`` (groups too) with its options."""
    from grappes.cli.main import app

    found: dict[tuple[str, ...], frozenset[str]] = {}

    def walk(command, path: tuple[str, ...]) -> None:
        options = {"--help"}
        for param in command.params:
            options |= {o for o in (*param.opts, *param.secondary_opts) if o.startswith("-")}
        if not getattr(command, "hidden", False):
            found[path] = frozenset(options)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(get_command(app), ())
    return found


@cache
def script_options() -> dict[str, frozenset[str]]:
    """Options of the scripts a user runs outside the CLI (``bench/``, ``data/build/``)."""
    found: dict[str, frozenset[str]] = {}
    scripts = [*sorted((ROOT / "bench").glob("*.py")), *sorted((ROOT / "data/build").glob("*.py"))]
    for path in scripts:
        text = path.read_text(encoding="utf-8")
        options = re.findall(r"[\"'](--?[a-z][\w-]*)", text)
        found[path.relative_to(ROOT).as_posix()] = frozenset(options)
    return found


def _words(text: str) -> list[str]:
    return [w.strip("[](),;") for w in text.replace("\\|", "|").split()]


def _alternatives(text: str) -> list[str]:
    """``a | b`` split at bracket depth 0 (``[--exemple | FICHIER]`` stays whole)."""
    parts, depth, current = [], 0, ""
    for char in text.replace("\\|", "|"):
        depth += char == "["
        depth -= char == "]"
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def cli_problems(span: Span) -> tuple[list[str], set[tuple[str, ...]]]:
    """What a ``grappes …`` span gets wrong, and the commands it names."""
    problems: list[str] = []
    named: set[tuple[str, ...]] = set()
    known = commands()
    base: tuple[str, ...] = ()
    for k, alternative in enumerate(_alternatives(span.text.removeprefix("grappes"))):
        path = base if k else ()
        rest: list[str] = []
        words = _words(alternative)
        for i, word in enumerate(words):
            if (*path, word) in known and not rest:
                path = (*path, word)
                continue
            rest = words[i:]
            break
        named |= {path[:i] for i in range(len(path) + 1)}
        if k == 0 and len(path) > 1:
            base = path[:-1]
        is_group = any(len(p) > len(path) and p[: len(path)] == path for p in known)
        if is_group and rest and not rest[0].startswith(("-", "…")):
            problems.append(f"{span.where()} : pas de commande « {' '.join((*path, rest[0]))} »")
        for word in rest:
            option = OPTION.match(word)
            if option and option.group(0) not in known[path]:
                problems.append(f"{span.where()} : « grappes {' '.join(path)} » n'a pas {word}")
    return problems, named


# ------------------------------------------------------------------ the tests


def test_every_layer_is_described_in_the_architecture_doc() -> None:
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    cited = {s.text for s in spans(ROOT / "docs/architecture.md")}
    missing = []
    for layer in LAYERS:
        for package in layer:
            expected = "app.py" if package == "app" else package.replace(".", "/") + "/"
            if expected not in cited:
                missing.append(expected)
    for extra in ("grappes/synthetic/", "pages/", "bench/"):
        if extra not in cited:
            missing.append(extra)
    assert "|" in text and not missing, f"docs/architecture.md ne décrit pas : {missing}"


@pytest.mark.parametrize("doc", checked_docs(), ids=lambda d: d.relative_to(ROOT).as_posix())
def test_python_references_resolve(doc: Path) -> None:
    bad = []
    strict = doc.name == "architecture.md"
    for span in spans(doc):
        imported = re.fullmatch(r"from ([\w.]+) import ([\w, ]+)", span.text)
        if span.language == "python" and imported:
            for name in imported.group(2).split(","):
                if not resolves(f"{imported.group(1)}.{name.strip()}"):
                    bad.append(f"{span.where()} : {name.strip()}")
        if not span.inline:
            continue
        text = span.text
        dotted = DOTTED.match(text)
        if dotted:
            if resolves(dotted.group(1)) is False:
                bad.append(span.where())
        elif (call := CALL.match(text)) and not text.startswith(("dossier", "normalise")):
            if call.group(1) not in function_names() | OUTSIDE_NAMES:
                bad.append(span.where())
        elif (CAMEL.match(text) and not text.isupper()) or (strict and SNAKE.match(text)):
            if not _bare_name_ok(text) and text not in extras():
                bad.append(span.where())
        elif UPPER.match(text) and text not in source_words():
            bad.append(span.where())
    assert not bad, "noms de code introuvables :\n" + "\n".join(bad)


@cache
def extras() -> frozenset[str]:
    """The install extras of pyproject.toml (``dev``, ``bench``) and the packages they install
    (``vulture``): named bare in the docs."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    packages = [*project["dependencies"], *(p for group in extras.values() for p in group)]
    return frozenset(extras) | {re.split(r"[^\w-]", p, maxsplit=1)[0] for p in packages}


def _path_exists(word: str) -> bool | None:
    """True or False for a path of the repository, None for a word that is not one."""
    word = word.rstrip(".:,")
    if "<" in word or "…" in word:
        return None  # a placeholder: ``bench/<script>.py``
    path, _, test = word.partition("::")
    if path.startswith(OUTPUT_DIRS):
        return None
    top = path.split("/", 1)[0]
    if "/" in path and top and (ROOT / top).exists() and not top.startswith("<"):
        matches = list(ROOT.glob(path.rstrip("/"))) if "*" in path else [ROOT / path]
        if not any(m.exists() for m in matches):
            return False
        if test:
            return f"def {test}(" in (ROOT / path).read_text(encoding="utf-8")
        return True
    if "/" not in path and re.fullmatch(r"[\w-]+\.py", path):
        return any(ROOT.rglob(path))
    if "/" not in path and re.fullmatch(r"[\w-]+\.md", path):
        return (ROOT / "docs" / path).exists() or (ROOT / path).exists()
    return None


@pytest.mark.parametrize("doc", checked_docs(), ids=lambda d: d.relative_to(ROOT).as_posix())
def test_file_paths_exist(doc: Path) -> None:
    bad = []
    for span in spans(doc):
        for word in span.text.split():
            if _path_exists(word.strip("()[]\"'")) is False:
                bad.append(f"{span.where()} : {word}")
        dotted = re.search(r"python -m ([\w.]+)", span.text)
        if (
            dotted
            and dotted.group(1) not in {"pytest", "venv", "pip"}
            and importlib.util.find_spec(dotted.group(1)) is None
        ):
            bad.append(f"{span.where()} : module {dotted.group(1)}")
    assert not bad, "chemins introuvables :\n" + "\n".join(bad)


@pytest.mark.parametrize("doc", checked_docs(), ids=lambda d: d.relative_to(ROOT).as_posix())
def test_cli_commands_and_options_exist(doc: Path) -> None:
    bad: list[str] = []
    every_option = set().union(*commands().values(), *script_options().values())
    for span in spans(doc):
        if span.text.startswith("grappes ") or span.text == "grappes":
            problems, _ = cli_problems(span)
            bad += problems
            continue
        script = re.search(r"python (bench/\w+\.py|data/build/\w+\.py)", span.text)
        if script and script.group(1) in script_options():
            options = script_options()[script.group(1)] | {"--help"}
            for word in _words(span.text[script.end():]):
                option = OPTION.match(word)
                if option and option.group(0) not in options:
                    bad.append(f"{span.where()} : {script.group(1)} n'a pas {word}")
            continue
        option = OPTION.match(span.text) if span.inline and " " not in span.text else None
        if option and option.group(0) not in every_option:
            bad.append(f"{span.where()} : option inconnue")
    assert not bad, "commandes ou options introuvables :\n" + "\n".join(bad)


def test_every_command_has_a_doc_entry() -> None:
    named: set[tuple[str, ...]] = set()
    for doc in DOCS:
        for span in spans(doc):
            if span.text.startswith("grappes "):
                named |= cli_problems(span)[1]
    missing = [" ".join(p) for p in commands() if p and p not in named]
    assert not missing, f"commandes sans entrée dans la doc : {missing}"


# ------------------------------------------------------------------ the checker is not blind


def test_the_checker_sees_wrong_references() -> None:
    assert resolves("grappes.solver.propose.propose") is True
    assert resolves("core.vocabulary") is True
    assert resolves("Scenario.from_report") is True
    assert resolves("grappes.graph") is False
    assert resolves("grappes.solver.propose.to_json") is False
    assert resolves("regroupement.min_esms") is None  # a TOML key
    assert resolves("grappes.csv") is None
    assert _path_exists("grappes/graph.py") is False
    assert _path_exists("grappes/ui/mapview.py") is True
    assert _path_exists("tests/test_docs.py::test_the_checker_sees_wrong_references") is True
    assert _path_exists("tests/test_docs.py::test_nothing") is False
    assert _path_exists("resultats/grappes.csv") is None
    span = Span("x.md", 1, "grappes proposer --exemple --enveloppe 3 | regles --afficher X",
                True)
    problems, named = cli_problems(span)
    assert named == {(), ("proposer",), ("regles",)}
    assert len(problems) == 1 and "--enveloppe" in problems[0]
    # the old English spellings are accepted by the command, not written in the docs
    old = "grappes " + "propose --" + "sample"  # (split: the renaming script skips it)
    assert cli_problems(Span("x.md", 1, old, True))[0]
    problems, named = cli_problems(Span("x.md", 1, "grappes registre init | compte liste", True))
    assert not problems
    assert ("registre", "compte") in named and ("registre", "compte", "liste") in named
    assert cli_problems(Span("x.md", 1, "grappes registre ouvrir", True))[0]
