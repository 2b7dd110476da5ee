"""Paths the service tests share (the fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "agreements"
AUGUST = EXAMPLES / "august_2025_whatif.toml"
NRT = "firms/viirs_noaa20_nrt_2025"
