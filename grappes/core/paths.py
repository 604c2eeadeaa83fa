"""Folders of the bundled data that ``grappes`` reads (rule sets, sample region).

The data root itself is found by :func:`grappes.geo.paths.data_dir` (``GRAPPES_DATA`` overrides it).
"""

from __future__ import annotations

from pathlib import Path

from grappes.geo.paths import data_dir, geo_dir

__all__ = ["data_dir", "geo_dir", "rules_dir", "sample_dir"]


def rules_dir() -> Path:
    """Folder of rule sets, one TOML file per call for projects."""
    return data_dir() / "rules"


def sample_dir() -> Path:
    """Folder of the bundled synthetic sample region (Centre-Val de Loire)."""
    return data_dir() / "sample"
