"""The ``grappes`` command line (typer + rich). Each command lives in its own module."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from grappes.cli import french
from grappes.cli.old_names import modern_args, note_renamed
from grappes.cli.support import fail, internal_error
from grappes.core.errors import GrappesError


def _framework_errors() -> tuple[type[BaseException], ...]:
    """What the command-line framework raises itself (exit, usage errors): not ours.

    typer >= 0.16 ships its own copy of click; ``typer.TyperException`` is the root of its
    usage errors (pyproject.toml pins typer at that version or later).
    """
    return (typer.Exit, typer.Abort, typer.TyperException, SystemExit)


_PASS_THROUGH = _framework_errors()
french.apply()


class GrappesGroup(TyperGroup):
    """The command group: the one edge where errors become exit codes.

    A ``GrappesError`` that a command did not handle prints its French message (exit 1 or
    2); anything else is a bug of grappes: exit 3, a French message and a crash report
    (``grappes.cli.support.internal_error``), never a traceback.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """The old English spellings (``propose --out``) become the French ones first
        (``grappes.cli.old_names``): scripts written before the renaming keep working."""
        args, renamed = modern_args(args)
        note_renamed(renamed)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except GrappesError as exc:
            fail(Console(stderr=True), exc)
        except BrokenPipeError:
            reader_left()
        except Exception as exc:
            internal_error(exc)


def reader_left() -> None:
    """The program reading the output closed it (``grappes proposer --help | head``): stop
    quietly, as a pipe's writer does, instead of a crash report nobody needs. Python's own
    recipe: point standard output at ``/dev/null`` so the final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


app = typer.Typer(
    name="grappes",
    help="Former des grappes d'ESMS pour le programme ESMS numérique.",
    no_args_is_help=True,
    add_completion=False,
    cls=GrappesGroup,
    pretty_exceptions_enable=False,
)

#: modules that each define ``register(app: typer.Typer) -> None``
COMMAND_MODULES: tuple[str, ...] = (
    "grappes.cli.check",
    "grappes.cli.regles",
    "grappes.cli.chiffrer",
    "grappes.cli.selectionner",
    "grappes.cli.sample",
    "grappes.cli.propose",
    "grappes.cli.partners",
    "grappes.cli.registre",
    "grappes.cli.courriels",
    "grappes.cli.suivi",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    """Entry point of the ``grappes`` console script."""
    app()
