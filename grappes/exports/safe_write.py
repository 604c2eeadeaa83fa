"""Write an output file safely: never through a symbolic link, never half-written.

Why: a symbolic link named ``rejets.csv`` in the output folder was followed and its target
overwritten. Every file the tool writes goes through :func:`write_bytes_safely`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from grappes.core.errors import GrappesError


class OutputError(GrappesError, ValueError):
    """An output file cannot be written where asked (French message; bad usage: exit 2)."""

    exit_code = 2


def write_bytes_safely(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` without following links and without half-written files.

    Why: a symbolic link named ``rejets.csv`` in the output folder was followed and its
    target overwritten. Here a link (even a broken one) or a folder in the way is refused
    with a French :class:`OutputError`; the bytes go to a temporary file in the same folder
    which is then renamed over the target (atomic on one file system).
    """
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"dossier de sortie impossible à créer : {folder} ({exc.strerror or exc})"
        raise OutputError(msg) from exc
    if not folder.is_dir():
        msg = f"sortie impossible : {folder} n'est pas un dossier"
        raise OutputError(msg)
    if path.is_symlink():
        msg = (
            f"refus d'écrire {path} : c'est un lien symbolique (le fichier visé serait "
            "écrasé) ; supprimez le lien ou choisissez un autre dossier --sortie"
        )
        raise OutputError(msg)
    if path.is_dir():
        msg = f"impossible d'écrire {path} : un dossier porte déjà ce nom"
        raise OutputError(msg)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        msg = f"écriture impossible dans le dossier {folder} ({exc.strerror or exc})"
        raise OutputError(msg) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        msg = f"écriture impossible : {path} ({exc.strerror or exc})"
        raise OutputError(msg) from exc
    return path
