"""The root of every error the user is meant to read: :class:`GrappesError`.

Why one root: the edges (the ``grappes`` commands, the app) catch ``GrappesError`` and only
it, and show its French message as it is. Anything else that escapes (a pandas or numpy bug,
a ``KeyError`` in our code) is an internal error: the command line writes a crash report and
exits with code 3 (``matching.cli.support.internal_error``), instead of showing a Python
error to the user as if it were a problem with their data.

Each domain keeps its own class (``IngestError``, ``RulesError``, ``RegistreError``,
``ScenarioFileError`` …) deriving from this one. The classes that used to be ``ValueError``
stay ``ValueError`` too, so older ``except ValueError`` code keeps working.
"""

from __future__ import annotations

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
