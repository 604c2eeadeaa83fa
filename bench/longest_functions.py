"""The longest functions of the project, measured with ``ast``.

Run: ``python bench/longest_functions.py [--most 15]`` from the repository root.

Why: issue 24 asks for functions a reader can hold in one's head, and for the 15 longest
before and after each clean-up. Lines are counted from the ``def`` (decorators excluded) to
the function's last line, docstring and comments included: what a reader has to scroll
through. Nested functions are counted on their own and inside their parent.
"""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The code a user's run goes through, plus the scripts around it.
SOURCES: tuple[str, ...] = ("app.py", "pages", "grappes", "bench", "data/build")


@dataclass(frozen=True)
class FunctionLength:
    """One function: its qualified name, its file and how many lines it spans."""

    name: str
    path: str
    line: int
    lines: int


def _walk(tree: ast.AST, path: str, prefix: str = "") -> list[FunctionLength]:
    found: list[FunctionLength] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            end = node.end_lineno or node.lineno
            found.append(FunctionLength(name, path, node.lineno, end - node.lineno + 1))
            found += _walk(node, path, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            found += _walk(node, path, f"{prefix}{node.name}.")
        else:
            found += _walk(node, path, prefix)
    return found


def function_lengths(root: Path = ROOT) -> list[FunctionLength]:
    """Every function under ``SOURCES``, longest first (ties by file and line)."""
    files: list[Path] = []
    for source in SOURCES:
        target = root / source
        files += [target] if target.is_file() else sorted(target.rglob("*.py"))
    found: list[FunctionLength] = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += _walk(tree, path.relative_to(root).as_posix())
    return sorted(found, key=lambda f: (-f.lines, f.path, f.line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--most", type=int, default=15, help="how many rows (default 15)")
    args = parser.parse_args()
    print("| lines | function | file:line |")
    print("|---:|---|---|")
    for f in function_lengths()[: args.most]:
        print(f"| {f.lines} | `{f.name}` | `{f.path}:{f.line}` |")


if __name__ == "__main__":
    main()
