"""Locate the bundled reference data (``data/`` at the repository root).

The data folder is not a Python package: it holds CSV, GeoJSON and TOML files that
are read at run time. ``GRAPPES_DATA`` overrides the location (for installs outside
the source tree).
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


def rules_dir() -> Path:
    """Folder of rule sets, one TOML file per call for projects."""
    return data_dir() / "rules"


def geo_dir() -> Path:
    """Folder of the bundled geography reference (communes, départements, régions)."""
    return data_dir() / "geo"


def sample_dir() -> Path:
    """Folder of the bundled synthetic sample region (Centre-Val de Loire)."""
    return data_dir() / "sample"
