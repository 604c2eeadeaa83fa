"""The command line's own words in French: help panels, the help option, the usage line, the
usage errors.

typer writes these in English with no translation hook (its bundled click has the strings in
the code), so a French user read « Usage: », « Commands » and « Show this message and exit. »
around our French help. They are set here, once, when the CLI is built. The attributes are
typer's (pinned in pyproject.toml); if a later typer renames one, the CLI keeps working in
English and ``tests/test_cli_french.py`` says which word went back to English.

Passwords are asked twice with :func:`new_password` (typer's confirmation prompt prints
« Repeat for confirmation » and « Error: The two entered values do not match. »).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import typer
from typer import rich_utils

HELP_TEXT = "Afficher cette aide et quitter."
USAGE = "Utilisation : "

#: typer.rich_utils constant -> French
PANEL_WORDS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
    "DEFAULT_STRING": "[défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEPRECATED_STRING": "(obsolète) ",
    "RICH_HELP": "Aide : [blue]'{command_path} {help_option}'[/]",
}


#: typer's usage-error messages (English in its code) -> French, first match wins
USAGE_ERRORS: tuple[tuple[str, str], ...] = (
    (r"^No such option: (\S+) \(Possible options: (.+)\)$",
     r"option inconnue : \1 (options proches : \2)"),
    (r"^No such option: (\S+)\s*Did you mean (.+)\?$",
     r"option inconnue : \1 ; voulez-vous dire \2 ?"),
    (r"^No such option: (.+)$", r"option inconnue : \1"),
    (r"^No such command '(.+)'\.?$", r"commande inconnue : « \1 »"),
    (r"^Missing option '(.+)'\.?(.*)$", r"option obligatoire manquante : \1\2"),
    (r"^Missing argument '(.+)'\.?(.*)$", r"argument obligatoire manquant : \1\2"),
    (r"^Missing parameter: (.+)$", r"paramètre manquant : \1"),
    (r"^Option '(.+)' requires an argument\.$", r"l'option \1 attend une valeur"),
    (r"^Option '(.+)' does not take a value\.$", r"l'option \1 ne prend pas de valeur"),
    (r"^Got unexpected extra argument(?:s|\(s\))? \((.+)\)$", r"argument(s) en trop : \1"),
    (r"^Invalid value for (.+?): '(.*)' is not a valid integer\.?$",
     r"valeur invalide pour \1 : « \2 » n'est pas un nombre entier"),
    (r"^Invalid value for (.+?): '(.*)' is not a valid float\.?$",
     r"valeur invalide pour \1 : « \2 » n'est pas un nombre"),
    (r"^Invalid value for (.+?): '(.*)' is not one of (.+)\.$",
     r"valeur invalide pour \1 : « \2 » ; valeurs permises : \3"),
    (r"^Invalid value for (.+?): (.*)$", r"valeur invalide pour \1 : \2"),
    (r"^Invalid value: (.*)$", r"valeur invalide : \1"),
)


#: what typer says about a value it could not convert -> French
VALUE_ERRORS: tuple[tuple[str, str], ...] = (
    (r"Input should be a valid integer.*", "nombre entier attendu"),
    (r"Input should be a valid (?:number|float).*", "nombre attendu"),
    (r"Input should be a valid boolean.*", "oui/non attendu (true, false, 1, 0)"),
    (r"Input should be a valid date.*", "date attendue (AAAA-MM-JJ)"),
)


def usage_error_fr(message: str) -> str:
    """The French of one of typer's usage-error messages (unchanged when not recognised)."""
    text = message.strip()
    for pattern, french in VALUE_ERRORS:
        text = re.sub(pattern, french, text, flags=re.S)
    for pattern, french in USAGE_ERRORS:
        out, n = re.subn(pattern, french, text, flags=re.S)
        if n:
            return out
    return text


def _french_errors(original: Any) -> Any:
    def rich_format_error(exc: Any) -> None:
        english = exc.format_message
        exc.format_message = lambda: usage_error_fr(english())
        original(exc)

    rich_format_error.__wrapped__ = original  # type: ignore[attr-defined]
    return rich_format_error


def _french_help_option(original: Any) -> Any:
    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    get_help_option.__wrapped__ = original  # type: ignore[attr-defined]
    return get_help_option


def _french_usage(original: Any) -> Any:
    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        original(self, prog, args, USAGE if prefix is None else prefix)

    write_usage.__wrapped__ = original  # type: ignore[attr-defined]
    return write_usage


def apply() -> None:
    """Put the French words in place (idempotent)."""
    for name, word in PANEL_WORDS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, word)
    if not hasattr(rich_utils.rich_format_error, "__wrapped__"):
        rich_utils.rich_format_error = _french_errors(rich_utils.rich_format_error)
    highlighter = getattr(rich_utils, "OptionHighlighter", None)
    if highlighter is not None:
        highlighter.highlights = [h.replace("Usage: ", USAGE) for h in highlighter.highlights]
    with contextlib.suppress(ImportError):
        from typer._click import core, formatting

        if not hasattr(core.Command.get_help_option, "__wrapped__"):
            core.Command.get_help_option = _french_help_option(core.Command.get_help_option)
        if not hasattr(formatting.HelpFormatter.write_usage, "__wrapped__"):
            formatting.HelpFormatter.write_usage = _french_usage(
                formatting.HelpFormatter.write_usage)


def new_password(label: str) -> str:
    """A new password typed twice (hidden); asked again until both entries agree."""
    while True:
        first = typer.prompt(label, hide_input=True)
        second = typer.prompt("Confirmez le mot de passe", hide_input=True)
        if first == second:
            return first
        typer.echo("Les deux saisies diffèrent : recommencez.", err=True)
