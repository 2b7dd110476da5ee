"""Lakes for the service tests, built once a session from the real data.

``base_lake``: the VIIRS peacetime history 2018-2021 (for the climatology), DeepState
maps of 10-31 August 2025 and a VIIRS climatology: everything but the August 2025
detections, which the watch replay drops in one day at a time. ``api_lake``: a copy
with the 21 NOAA-20 files of 11-31 August 2025 and the August what-if agreement
registered, for the API and the dashboard.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from service_data import AUGUST, NRT, copy_lake

from truceline import pipeline
from truceline.lake.store import Lake


@pytest.fixture(scope="session")
def base_lake(tmp_path_factory, data_dir) -> Path:
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
def api_lake(base_lake, tmp_path_factory, data_dir) -> Lake:
    lk = copy_lake(base_lake, tmp_path_factory.mktemp("api") / "lake")
    lk.ingest_firms([data_dir / NRT])
    lk.write_files({"agreements/august-2025-whatif.toml": AUGUST.read_bytes()},
                   kind="register-agreement", agreement="What-if ceasefire, August 2025",
                   id="august-2025-whatif")
    return lk
