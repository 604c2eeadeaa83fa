"""The English spellings of the planner's commands and options, kept for one release.

The language rule (docs/architecture.md, « Two languages, one rule »): what a user types is
French. The planner's commands were English (« check », « propose », ``--out``,
``--time-limit``…) while ``registre`` and ``suivi`` were French; they were renamed in
December 2026. Scripts written before keep working for one release: the command group
rewrites the old spellings before parsing (:func:`modern_args`), and the help shows only the
new ones. On a terminal, a note names the new spelling; in a script (no terminal), nothing
is printed, so an old script's output is unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: old command -> new command
OLD_COMMANDS: dict[str, str] = {
    "check": "verifier", "rules": "regles", "cost": "chiffrer", "select": "selectionner",
    "sample": "exemple", "propose": "proposer",
}
#: old option -> new option (every command that has it)
OLD_OPTIONS: dict[str, str] = {
    "--out": "--sortie", "--sample": "--exemple", "--rules": "--regles",
    "--envelope": "--enveloppe", "--time-limit": "--limite-temps", "--seed": "--graine",
    "--show": "--afficher", "--windows": "--fenetres",
    "--max-share-departement": "--part-max-departement",
    "--max-share-champ": "--part-max-champ", "--max-share-statut": "--part-max-statut",
    "--save-scenario": "--enregistrer-scenario", "--top": "--nombre", "--db": "--base",
}


def modern_args(args: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """``args`` with the old spellings replaced, and the (old, new) pairs replaced.

    The first word that is not an option is the command; option names are replaced in
    both forms (``--out DIR`` and ``--out=DIR``); nothing after ``--`` is touched (a file
    may be called « check »).
    """
    out: list[str] = []
    renamed: list[tuple[str, str]] = []
    command_seen = False
    for k, word in enumerate(args):
        if word == "--":
            out.extend(args[k:])
            break
        if not command_seen and not word.startswith("-"):
            command_seen = True
            if word in OLD_COMMANDS:
                renamed.append((word, OLD_COMMANDS[word]))
                word = OLD_COMMANDS[word]
        elif word.startswith("--"):
            name, eq, value = word.partition("=")
            if name in OLD_OPTIONS:
                renamed.append((name, OLD_OPTIONS[name]))
                word = OLD_OPTIONS[name] + eq + value
        out.append(word)
    return out, renamed


def note_renamed(renamed: Sequence[tuple[str, str]]) -> None:
    """On a terminal only: say once which new spelling replaces each old one."""
    if not renamed or not sys.stderr.isatty():
        return
    pairs = ", ".join(f"« {old} » → « {new} »" for old, new in dict(renamed).items())
    print(f"Note : nouveaux noms ({pairs}) ; les anciens seront retirés à la prochaine "
          "version.", file=sys.stderr)
