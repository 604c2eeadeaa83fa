"""Locate the bundled reference data (``data/`` at the repository root).

The data folder is not a Python package: it holds CSV, GeoJSON and TOML files that
are read at run time. ``GRAPPES_DATA`` overrides the location (for installs outside
the source tree). ``geo`` owns this lookup because it sits below ``matching``: the
geography must find its files without importing anything from ``matching``.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Return the folder holding the bundled reference data."""
    env = os.environ.get("GRAPPES_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "data"


def geo_dir() -> Path:
    """Folder of the bundled geography reference (communes, départements, régions)."""
    return data_dir() / "geo"
