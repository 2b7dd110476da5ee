"""Paths the service tests share (the fixtures are in conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from truceline.lake.store import Lake

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agreements"
AUGUST = EXAMPLES / "august_2025_whatif.toml"
NRT = "firms/viirs_noaa20_nrt_2025"


def copy_lake(base: Path, target: Path) -> Lake:
    """A writable copy of a session lake."""
    shutil.copytree(base, target)
    return Lake(target)
