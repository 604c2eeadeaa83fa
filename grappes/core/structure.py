"""Limits on the structures read from files: nesting depth and duplicate keys.

Why: a JSON or TOML value nested 10,000 levels deep makes Python's own parsers (and every
``str()``, ``repr()`` or recursive walk) raise ``RecursionError``; a key given twice in one
object is silently resolved by ``json`` (the last one wins) and an establishment list or a
number can be lost without a word. Every reader of a structured file (the FINESS+ flow,
scenario files, rule files) applies the same limit, :data:`MAX_DEPTH`, and treats a duplicate
key as an error of the record that holds it, named with its path.

Everything here is iterative: nothing recurses on the data.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: deepest nesting accepted in a file read by grappes (the real files need less than 10)
MAX_DEPTH = 64

REASON_DEEP = (
    f"valeur imbriquée sur plus de {MAX_DEPTH} niveaux (structure anormale, refusée sans être "
    "lue)"
)

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def path_join(path: str, key: Any) -> str:
    """``a.b`` / ``a[3]``: the path of a child (an int is a list index)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def too_deep(value: Any, limit: int = MAX_DEPTH, path: str = "") -> str | None:
    """The path of the first container nested deeper than ``limit`` in ``value``, else None.

    ``value`` itself is level 1 when it is a list or a dict.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list | tuple):
            items = enumerate(node)
        else:
            continue
        if depth > limit:
            return where or "(racine)"
        for key, child in items:
            if isinstance(child, dict | list | tuple):
                stack.append((child, path_join(where, key), depth + 1))
    return None


def json_text_depth(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The character offset where a JSON text goes deeper than ``limit``, else None.

    A scan of the brackets outside strings, before ``json.loads`` (which recurses).
    """
    depth = 0
    stripped = _JSON_STRING.sub('""', text)
    for match in _BRACKETS.finditer(stripped):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        else:
            depth -= 1
    return None


class _Object(dict):
    """A JSON object that remembers the keys given more than once (with different values)."""

    __slots__ = ("duplicates",)


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj and key not in obj.duplicates:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


def duplicate_paths(value: Any, path: str = "") -> list[str]:
    """Paths of the keys given twice in the objects of a :func:`loads_checked` result."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            found += [path_join(where, k) for k in getattr(node, "duplicates", ())]
            stack.extend((v, path_join(where, k)) for k, v in node.items()
                         if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, path_join(where, i)) for i, v in enumerate(node)
                         if isinstance(v, dict | list))
    return sorted(found)


REASON_SURROGATE = (
    "caractère invalide : demi-paire de substitution UTF-16 isolée (\\udXXX), texte illisible"
)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def surrogate_path(value: Any, path: str = "") -> str | None:
    """The path of the first text (value or key) holding a lone UTF-16 surrogate, else None."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if _has_surrogate(node):
                return where or "(racine)"
        elif isinstance(node, dict):
            for k, v in node.items():
                if _has_surrogate(k):
                    return path_join(where, k.encode("utf-8", "backslashreplace").decode())
                stack.append((v, path_join(where, k)))
        elif isinstance(node, list):
            stack.extend((v, path_join(where, i)) for i, v in enumerate(node))
    return None


class StructureError(ValueError):
    """A JSON text too deep or with duplicate keys (``reason`` in French, ``path`` of it)."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def loads_checked(text: str, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` with the depth limit and duplicate keys refused (``StructureError``).

    ``json.JSONDecodeError`` still signals a malformed text.
    """
    offset = json_text_depth(text, limit)
    if offset is not None:
        line = text.count("\n", 0, offset) + 1
        raise StructureError(f"ligne {line} : {REASON_DEEP}", f"ligne {line}")
    try:
        value = json.loads(text, object_pairs_hook=_pairs)
    except RecursionError as exc:  # pragma: no cover - the scan above stops it first
        raise StructureError(REASON_DEEP) from exc
    bad_text = surrogate_path(value)
    if bad_text is not None:
        raise StructureError(f"« {bad_text} » : {REASON_SURROGATE}", bad_text)
    dups = duplicate_paths(value)
    if dups:
        shown = ", ".join(f"« {p} »" for p in dups[:5]) + (" …" if len(dups) > 5 else "")
        raise StructureError(
            f"clé(s) donnée(s) deux fois dans le même objet : {shown} ; laquelle garder est "
            "ambigu, rien n'est deviné", dups[0])
    return _plain(value)


def _plain(value: Any) -> Any:
    """The same structure with plain dicts (iterative)."""
    if not isinstance(value, dict | list):
        return value
    root = dict(value) if isinstance(value, dict) else list(value)
    stack = [root]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            if isinstance(v, dict):
                node[k] = dict(v)
                stack.append(node[k])
            elif isinstance(v, list):
                node[k] = list(v)
                stack.append(node[k])
    return root
