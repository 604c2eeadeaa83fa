"""The ``grappes`` command line (typer + rich). Each command lives in its own module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="grappes",
    help="Former des grappes d'ESMS pour le programme ESMS numérique.",
    no_args_is_help=True,
    add_completion=False,
)

#: modules that each define ``register(app: typer.Typer) -> None``
COMMAND_MODULES: tuple[str, ...] = (
    "matching.cli.check",
    "matching.cli.rules",
    "matching.cli.sample",
    "matching.cli.propose",
    "matching.cli.partners",
    "matching.cli.registre",
    "matching.cli.courriels",
    "matching.cli.suivi",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    """Entry point of the ``grappes`` console script."""
    app()
