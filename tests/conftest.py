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


# --------------------------------------------------------------------------- the service
@pytest.fixture(scope="session")
def base_lake(tmp_path_factory, data_dir) -> Path:
    """The VIIRS peacetime history 2018-2021, DeepState maps of 10-31 August 2025 and a
    VIIRS climatology: everything but the August 2025 detections (the watch replay drops
    them in one day at a time). Copy it before writing (tests/service/service_data.py)."""
    from truceline import pipeline
    from truceline.lake.store import Lake

    root = tmp_path_factory.mktemp("service") / "base"
    lk = Lake(root)
    yearly = data_dir / "firms/ukraine_yearly"
    lk.ingest_firms([yearly / f"ukr_fire_data_{y}.csv" for y in (2018, 2019, 2020, 2021)])
    maps = sorted((data_dir / "frontline/deepstate").glob("deepstatemap_data_20250[78]*"))
    lk.ingest_control([m for m in maps if m.name >= "deepstatemap_data_20250810"])
    pipeline.save_baseline(lk, pipeline.build_baseline(
        lk, sensors=("VIIRS",), years={"VIIRS": "2018-2021"}))
    return root


@pytest.fixture(scope="session")
def api_lake(base_lake, tmp_path_factory, data_dir):
    """``base_lake`` with the 21 NOAA-20 files of 11-31 August 2025 and the August
    what-if agreement registered: what the API and dashboard tests read."""
    import shutil

    from truceline.lake.store import Lake

    target = tmp_path_factory.mktemp("api") / "lake"
    shutil.copytree(base_lake, target)
    lk = Lake(target)
    lk.ingest_firms([data_dir / "firms/viirs_noaa20_nrt_2025"])
    agreement = Path(__file__).resolve().parents[1] / "examples/agreements/august_2025_whatif.toml"
    lk.write_files({"agreements/august-2025-whatif.toml": agreement.read_bytes()},
                   kind="register-agreement", agreement="What-if ceasefire, August 2025",
                   id="august-2025-whatif")
    return lk


@pytest.fixture(scope="session")
def history_lake(tmp_path_factory, data_dir):
    """Every FIRMS yearly list (2000-2023: both sensors' peacetime climatologies and
    the war years), the NOAA-20 days of August 2025, the liveuamap maps of 2022-2023
    and the DeepState maps of August 2025: the ground the detection figures are
    measured on (`truceline validate detection`). About a minute to build on two
    cores. Read-only for the tests that share it."""
    from truceline.lake.store import Lake

    lk = Lake(tmp_path_factory.mktemp("history") / "lake")
    firms = data_dir / "firms"
    lk.ingest_firms([firms / "ukraine_yearly", firms / "viirs_noaa20_nrt_2025"])
    front = data_dir / "frontline"
    maps = sorted((front / "liveuamap_nzz").glob("nzz_202[23]-*.json"))
    maps += sorted((front / "deepstate").glob("deepstatemap_data_202508*.geojson"))
    lk.ingest_control(maps)
    return lk
