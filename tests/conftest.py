"""Shared fixtures: where the real data is, and small lakes built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from truceline import config


def real_data() -> Path | None:
    return config.data_dir()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real sample data (../shared/data or $TRUCELINE_DATA); skip if absent."""
    d = real_data()
    if d is None:
        pytest.skip("real data not found: set TRUCELINE_DATA or place it at ../shared/data")
    return d


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory, data_dir):
    """Three days of NOAA-20 NRT detections (20-22 Aug 2025) and the DeepState maps of
    18-22 August 2025: enough for sectors, lines and reads, not for detection (no
    history). Read-only for the tests that share it."""
    from truceline.lake.store import Lake

    lk = Lake(tmp_path_factory.mktemp("small") / "lake")
    nrt = data_dir / "firms/viirs_noaa20_nrt_2025"
    lk.ingest_firms([nrt / f"J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025{d}.txt.csv"
                     for d in (232, 233, 234)])
    maps = data_dir / "frontline/deepstate"
    lk.ingest_control([maps / f"deepstatemap_data_202508{d}.geojson" for d in range(18, 23)])
    return lk
