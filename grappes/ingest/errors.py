"""The error raised when an input file cannot be used at all (as opposed to rejected rows)."""

from __future__ import annotations

from grappes.core.errors import GrappesError


class IngestError(GrappesError, ValueError):
    """A whole input file is unusable: empty, binary, wrong separator, too big, unknown format.

    The message is in French and meant for the user as is (CLI, app). Row-level problems are
    never raised: they become ``grappes.core.model.Rejet`` entries of the ``LoadResult``.
    """

    def __init__(self, message_fr: str, exit_code: int = 1) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        #: for the command line: 1 bad data (the default), 2 bad usage (missing file...)
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message_fr
