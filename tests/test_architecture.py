"""The project's import graph, read statically (ast) over ``grappes/``, ``app.py``, the app's
other pages (``pages/``) and the benchmarks (``bench/``).

Why: issue 9 asks for a layout whose arrows run one way. These tests keep it that way: no
import cycle between modules (imports inside functions count: a lazy import is still an
arrow), ``grappes.geo`` below the rest of ``grappes``, no private name (``_x``) taken from
another module, each package importing only itself and the layers below it, and the
synthetic generator kept out of everything the app and the CLI run. The benchmarks sit on top
of everything and may read the generator, but never the command line's modules: what they need
from it has a public home below (a benchmark measures the library, and the CLI may change its
helpers freely).

Imports under ``if TYPE_CHECKING:`` count too: an arrow that only type checkers follow is
still an arrow a reader follows. In a module that uses ``importlib``, a string constant that
names a project module (``"grappes.cli.check"`` in ``cli.main``) counts as an import of it.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Layers from the bottom up. A package may import itself and the packages of LOWER layers
#: only (two packages of one layer may not import each other).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("grappes.geo",),
    ("grappes", "grappes.core"),
    ("grappes.ingest",),
    ("grappes.programme",),
    ("grappes.solver",),
    ("grappes.scenarios",),
    ("grappes.exports",),
    # the multi-party service: declarations, invitations, accounts (registry), then the
    # follow-up of funded grappes on the same storage and policy
    ("grappes.registry",),
    ("grappes.followup",),
    ("grappes.cli", "grappes.ui"),
    # the Streamlit entry point and the app's other pages (« Mise en relation », « Suivi »)
    ("app", "pages"),
    # the benchmarks and the fuzzer: they measure everything below
    ("bench",),
)
#: The synthetic generator sits beside the pipeline: it may read the bottom layers, and only
#: its own modules and the benchmarks import it (tests and data/build/ are outside the graph).
SYNTHETIC: tuple[str, ...] = ("grappes.synthetic",)
SYNTHETIC_READERS: tuple[str, ...] = (*SYNTHETIC, "bench")
#: What the benchmarks may not import: the command line's own modules.
BENCH_MAY_NOT_IMPORT: tuple[str, ...] = ("grappes.cli",)
SYNTHETIC_MAY_IMPORT: tuple[str, ...] = (
    "grappes.geo", "grappes.core", "grappes.ingest", *SYNTHETIC)

#: Modules a user's run imports (app, CLI, their UI): none may pull the generator in.
APP_SIDE: tuple[str, ...] = (
    "grappes.ingest.sample",
    "grappes.ingest",
    "grappes.cli.main",
    "grappes.cli.sample",
    "grappes.ui.mapview",
    "grappes.solver.propose",
    "grappes.scenarios.whatif",
    "grappes.exports.dossier",
)


@dataclass(frozen=True)
class Arrow:
    """One import: ``source`` imports ``target`` at ``line`` (``names`` taken from it)."""

    source: str
    target: str
    line: int
    names: tuple[str, ...] = ()


def module_name(path: Path) -> str:
    """Dotted name of a project file (``grappes/core/__init__.py`` -> ``grappes.core``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_files() -> dict[str, Path]:
    """Every project module by dotted name."""
    files = [ROOT / "app.py"]
    for top in ("grappes", "pages", "bench"):
        files += sorted((ROOT / top).rglob("*.py"))
    return {module_name(p): p for p in files if p.is_file()}


def _resolve(source: str, is_package: bool, module: str | None, level: int) -> str:
    """Absolute module name of a (possibly relative) ``from ... import``."""
    if level == 0:
        return module or ""
    base = source.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The longest project module that ``name`` is or lies in (None outside the project)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in modules:
            return candidate
    return None


@cache
def arrows() -> tuple[Arrow, ...]:
    """Every import between project modules, at module level or inside functions."""
    modules = project_files()
    found: list[Arrow] = []
    for source, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        dynamic = "importlib" in {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        for node in ast.walk(tree):
            if (
                dynamic
                and isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in modules
                and node.value != source
            ):
                found.append(Arrow(source, node.value, node.lineno))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    target = _owner(alias.name, modules)
                    if target and target != source:
                        found.append(Arrow(source, target, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(source, is_package, node.module, node.level)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in modules:  # ``from package import submodule``
                        found.append(Arrow(source, submodule, node.lineno))
                        continue
                    target = _owner(base, modules)
                    if target and target != source:
                        found.append(Arrow(source, target, node.lineno, (alias.name,)))
    merged: dict[tuple[str, str, int], tuple[str, ...]] = {}
    for arrow in found:  # one arrow per import statement, with every name it takes
        key = (arrow.source, arrow.target, arrow.line)
        merged[key] = (*merged.get(key, ()), *arrow.names)
    return tuple(Arrow(*key, names) for key, names in merged.items())


def package_of(module: str) -> str:
    """The layer unit of a module: ``grappes.solver.core`` -> ``grappes.solver``."""
    parts = module.split(".")
    if parts[0] != "grappes":
        return parts[0]
    if len(parts) == 1:
        return "grappes"
    if parts[1] == "__main__":
        return "grappes.cli"
    return ".".join(parts[:2])


def layer_of(package: str) -> int:
    for rank, layer in enumerate(LAYERS):
        if package in layer:
            return rank
    msg = f"{package} n'a pas de couche : l'ajouter à LAYERS ou SYNTHETIC dans ce test"
    raise AssertionError(msg)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


# --------------------------------------------------------------------------- the graph itself


def test_the_graph_sees_the_project():
    """The reader finds the modules and arrows it should (guards against an empty graph)."""
    modules = project_files()
    assert {"app", "grappes.geo.territories", "grappes.core.model",
            "grappes.cli.main"} <= set(modules)
    assert {"pages.3_Suivi", "bench.bench_solver", "bench.metrics"} <= set(modules)
    pairs = {(a.source, a.target) for a in arrows()}
    # module level, relative to a package, and by name through importlib
    assert ("grappes.core.nomenclature", "grappes.core.model") in pairs
    assert ("grappes.cli.main", "grappes.cli.sample") in pairs
    # a lazy import inside a function is an arrow too
    assert ("grappes.ingest.sample", "grappes.ingest.errors") in pairs


def test_cycle_finder_finds_a_cycle():
    """The cycle finder is not blind: a -> b -> c -> a is reported, d -> a is not."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_relative_imports_resolve():
    assert _resolve("grappes.solver.core", False, "units", 1) == "grappes.solver.units"
    assert _resolve("grappes.solver", True, "units", 1) == "grappes.solver.units"
    assert _resolve("grappes.solver.core", False, None, 2) == "grappes"


# --------------------------------------------------------------------------- the rules


def test_no_import_cycle_between_modules():
    edges: dict[str, set[str]] = {}
    for arrow in arrows():
        edges.setdefault(arrow.source, set()).add(arrow.target)
    cycles = _cycles(edges)
    detail = [
        " <-> ".join(component)
        + " : "
        + ", ".join(
            f"{a.source}:{a.line} -> {a.target}"
            for a in arrows()
            if a.source in component and a.target in component
        )
        for component in cycles
    ]
    assert not cycles, "cycles d'import :\n" + "\n".join(detail)


def test_geo_imports_nothing_from_the_rest_of_grappes():
    bad = [a for a in arrows() if a.source.startswith("grappes.geo")
           and not a.target.startswith("grappes.geo")]
    assert not bad, [f"{a.source}:{a.line} -> {a.target}" for a in bad]


def test_no_private_name_imported_from_another_module():
    """``from x import _y`` and ``x._y`` on an imported module are both refused."""
    modules = project_files()
    bad = [
        f"{a.source}:{a.line} importe {name} de {a.target}"
        for a in arrows()
        for name in a.names
        if _private(name)
    ]
    bad += [
        f"{a.source}:{a.line} importe le module privé {a.target}"
        for a in arrows()
        if any(_private(part) for part in a.target.split("."))
    ]
    for source, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        aliases[alias.asname or alias.name] = alias.name
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(source, path.name == "__init__.py", node.module, node.level)
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and _private(node.attr)
            ):
                bad.append(f"{source}:{node.lineno} lit {aliases[node.value.id]}.{node.attr}")
    assert not bad, "\n".join(bad)


def test_layers_point_down():
    bad = []
    for arrow in arrows():
        source, target = package_of(arrow.source), package_of(arrow.target)
        if source == target:
            continue
        where = f"{arrow.source}:{arrow.line} -> {arrow.target}"
        if target in SYNTHETIC:
            if source not in SYNTHETIC_READERS:
                bad.append(f"{where} (seuls les générateurs et bench/ importent le générateur)")
            continue
        if source == "bench" and target in BENCH_MAY_NOT_IMPORT:
            bad.append(f"{where} (bench/ mesure la bibliothèque, pas les modules de la CLI)")
            continue
        if source in SYNTHETIC:
            if target not in SYNTHETIC_MAY_IMPORT:
                bad.append(f"{where} (le générateur ne lit que geo, core et ingest)")
            continue
        if layer_of(target) >= layer_of(source):
            bad.append(f"{where} ({target} n'est pas sous {source})")
    assert not bad, "flèches à contre-sens :\n" + "\n".join(bad)


def test_migrations_import_no_live_code():
    """A migration gives the same result whatever the code becomes: it imports nothing of the
    project (constants it needs are copied into it), so renaming a field never breaks one."""
    bad = [
        f"{a.source}:{a.line} -> {a.target}"
        for a in arrows()
        if a.source.startswith("grappes.registry.migrations.versions.")
    ]
    assert "grappes.registry.migrations.versions.r0004_verification_service" in project_files()
    assert not bad, "une migration importe le code vivant :\n" + "\n".join(bad)


def test_every_package_has_a_layer():
    packages = {package_of(m) for m in project_files()}
    for package in sorted(packages - set(SYNTHETIC)):
        layer_of(package)


def test_app_side_modules_do_not_load_the_generator():
    """At run time too, in a fresh interpreter: the app's imports and the CLI's load no generator.

    One interpreter for all of them is enough: if none of the modules pulls the generator in
    together, none does alone. ``app.py`` is a Streamlit script, so its ``grappes`` imports
    are read from its source and imported, without running it; so are those of the page parts
    in ``grappes/ui`` (the app's sidebar and tabs), lazy imports inside functions included.
    """
    code = (
        "import ast, glob, importlib, sys\n"
        f"modules = {list(APP_SIDE)!r}\n"
        "for path in ['app.py', *sorted(glob.glob('grappes/ui/*.py'))]:\n"
        "    tree = ast.parse(open(path, encoding='utf-8').read())\n"
        "    for node in ast.walk(tree):\n"
        "        if isinstance(node, ast.ImportFrom) and (node.module or '').startswith("
        "'grappes'):\n"
        "            modules.append(node.module)\n"
        "        elif isinstance(node, ast.Import):\n"
        "            modules += [a.name for a in node.names if a.name.startswith('grappes')]\n"
        "for name in modules:\n"
        "    importlib.import_module(name)\n"
        "print(len(modules))\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('grappes.synthetic'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    count, loaded = [*done.stdout.split("\n"), ""][:2]
    assert int(count) > len(APP_SIDE), "les imports de app.py n'ont pas été lus"
    assert loaded == "", f"le générateur est chargé à l'exécution : {loaded}"
