"""What ``pip install .`` gives an end user: every library the code imports, the bundled data,
and none of the developer's or the benchmark's tools."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from fnmatch import fnmatch
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]

#: never in an end user's install (tests, linters, browser, benchmark peers)
DEVELOPER_ONLY = {"pytest", "pytest-xdist", "hypothesis", "ruff", "vulture", "playwright",
                  "spopt", "libpysal", "k-means-constrained", "scikit-learn"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def _imports(paths: list[Path]) -> set[str]:
    """Top-level names of the modules imported (at any depth) by these files."""
    names: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def test_user_install_pulls_no_developer_tool() -> None:
    user = {_name(r) for r in PROJECT["dependencies"]}
    assert not user & DEVELOPER_ONLY
    extras = PROJECT["optional-dependencies"]
    assert {"spopt", "libpysal", "k-means-constrained"} <= {_name(r) for r in extras["bench"]}
    assert {"pytest", "hypothesis", "ruff", "playwright"} <= {_name(r) for r in extras["dev"]}
    assert all(re.search(r">=\s*\d", r) for r in PROJECT["dependencies"]), "borne basse"


def test_every_library_the_code_imports_is_declared() -> None:
    files = [*(ROOT / "grappes").rglob("*.py"), ROOT / "app.py"]
    files = [f for f in files if "synthetic" not in f.parts]  # tests / bench / data-build only
    third_party = _imports(files) - set(sys.stdlib_module_names) - {"grappes"}
    declared = {_name(r) for r in PROJECT["dependencies"]}
    dists = packages_distributions()
    missing = {}
    for module in sorted(third_party):
        names = {d.lower() for d in dists.get(module, [module])}
        if not names & declared:
            missing[module] = sorted(names)
    assert not missing, f"importés mais non déclarés dans [project.dependencies] : {missing}"


def test_bundled_data_is_installed() -> None:
    """Every data file read at run time is listed in ``[tool.setuptools.data-files]``."""
    mapping = PYPROJECT["tool"]["setuptools"]["data-files"]
    patterns = [p for globs in mapping.values() for p in globs]
    data = ROOT / "data"
    # every folder of data/ but build/ (the scripts that made geo/, run before packaging):
    # registre/ and suivi/ were missed, and a non-editable install could not create an account
    subs = sorted(d.name for d in data.iterdir() if d.is_dir() and d.name != "build")
    assert {"rules", "sample", "geo", "nomenclatures", "registre", "suivi"} <= set(subs)
    for sub in subs:
        files = [f for f in (data / sub).rglob("*") if f.is_file()]
        assert files, sub
        for f in files:
            rel = f.relative_to(ROOT).as_posix()
            assert any(fnmatch(rel, p) for p in patterns), f"{rel} ne serait pas installé"
    for target, globs in mapping.items():
        for p in globs:
            assert all(Path(m).parent.as_posix() == target.replace("share/grappes/", "")
                       for m in (x.relative_to(ROOT).as_posix() for x in ROOT.glob(p)))


def test_one_top_level_package_named_grappes() -> None:
    """Issue 24: the distribution installed two top-level packages, ``matching`` and ``geo``,
    generic names that could clash with another distribution's. Now only ``grappes``: what
    setuptools finds with the project's own settings, and nothing else at the root."""
    from setuptools import find_packages

    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    found = find_packages(str(ROOT), include=find["include"])
    assert found and {p.split(".")[0] for p in found} == {"grappes"}
    assert "grappes.geo" in found and "grappes.registry.migrations.versions" in found
    roots = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert roots == {"grappes", "bench"}, roots  # bench/: in the source tree, never installed
    assert PROJECT["scripts"]["grappes"] == "grappes.cli.main:main"
    assert (ROOT / "grappes" / "__main__.py").is_file()  # python -m grappes
