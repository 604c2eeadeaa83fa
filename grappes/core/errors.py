"""The root of every error the user is meant to read: :class:`GrappesError`.

Why one root: the edges (the ``grappes`` commands, the app) catch ``GrappesError`` and only
it, and show its French message as it is. Anything else that escapes (a pandas or numpy bug,
a ``KeyError`` in our code) is an internal error: the command line writes a crash report and
exits with code 3 (``grappes.cli.support.internal_error``), instead of showing a Python
error to the user as if it were a problem with their data.

Each domain keeps its own class (``IngestError``, ``RulesError``, ``RegistreError``,
``ScenarioFileError`` …) deriving from this one. The classes that used to be ``ValueError``
stay ``ValueError`` too, so older ``except ValueError`` code keeps working.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import traceback
from pathlib import Path

#: exit codes of every ``grappes`` command (the table in docs/formats-entree.md)
EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class GrappesError(Exception):
    """An error with a French message meant for the user as is.

    ``exit_code``: 1 (input unusable, nothing to do: the default) or 2 (bad usage).
    """

    exit_code: int = EXIT_DATA


class UnusableInput(GrappesError, ValueError):
    """A value or a file the user gave that the domain code cannot use (French message)."""


#: where crash reports are written (``GRAPPES_RAPPORTS`` overrides it)
CRASH_DIR_ENV = "GRAPPES_RAPPORTS"


def crash_dir() -> Path:
    """The folder of crash reports: ``$GRAPPES_RAPPORTS``, else ``<tmp>/grappes-rapports``."""
    return Path(os.environ.get(CRASH_DIR_ENV) or Path(tempfile.gettempdir()) / "grappes-rapports")


def write_crash_report(exc: BaseException) -> Path | None:
    """Write the traceback, the command line and the versions to a new file; its path.

    None when even that fails (a read-only disk): the message then says so. The command line
    and the app share it (one home).
    """
    from importlib import metadata

    try:
        version = metadata.version("grappes")
    except metadata.PackageNotFoundError:
        version = "?"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    lines = [
        "Rapport de plantage de grappes (à joindre à un signalement)",
        f"date (UTC) : {stamp}",
        f"grappes : {version}",
        f"python : {sys.version.split()[0]} ({sys.platform})",
        "commande : " + " ".join(sys.argv[1:])[:2000],
        "",
        *traceback.format_exception(exc),
    ]
    try:
        folder = crash_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"plantage-{stamp}-", suffix=".txt", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write("\n".join(line.rstrip("\n") for line in lines) + "\n")
    except OSError:
        return None
    return Path(name)


def internal_message(exc: BaseException, report: Path | None) -> str:
    """The French message of an internal error (command line and app alike)."""
    where = (f"Rapport écrit : {report}" if report is not None
             else "le rapport de plantage n'a pas pu être écrit")
    return (
        f"Erreur interne de grappes ({type(exc).__name__}) : ce n'est pas un problème de vos "
        f"données ni de la commande. {where} ; joignez-le à un signalement."
    )
