"""Locate the bundled reference data (``data/`` at the repository root).

The data folder is not a Python package: it holds CSV, GeoJSON and TOML files that
are read at run time. From a source tree (or an editable install) it is ``data/`` next to
the ``grappes/`` package; a regular ``pip install`` copies it to ``<prefix>/share/grappes/data``
(``[tool.setuptools.data-files]`` in ``pyproject.toml``). ``GRAPPES_DATA`` overrides both.
``grappes.geo`` owns this lookup because it is the lowest layer: the geography must find its
files without importing anything from the layers above it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """Return the folder holding the bundled reference data."""
    env = os.environ.get("GRAPPES_DATA")
    if env:
        return Path(env)
    source = Path(__file__).resolve().parents[2] / "data"
    if source.is_dir():
        return source
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        installed = Path(prefix) / "share" / "grappes" / "data"
        if installed.is_dir():
            return installed
    return source


def geo_dir() -> Path:
    """Folder of the bundled geography reference (communes, départements, régions)."""
    return data_dir() / "geo"
