"""Placebo agreements over real peacetime: the method must not cry wolf (issue 5 §4).

Hypothetical ceasefires over 2018-2021 on the southern 2023 ISW line, judged as real
agreements are (docs/VALIDATION.md, "Assessment", "Placebo"). Nothing was violated in
peacetime, so the share judged ``violated`` must stay near zero, and the
front-against-control contrast, a 5 % test, must reject in about 5 % of windows.

The builder is benchmarks/placebo.py's (that script prints the whole 200-window table);
here 50 windows per sensor, same seed, so the first 50 windows of the table are
re-judged. The history and the leave-out climatology are the analysis conftest's
session fixtures (the product's loaders, truceline.validation.verdicts); one
module-scoped build (classification, enrichment: about a minute on 2 cores) serves every
test. Skipped without the data.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from truceline.analysis.placebo import PlaceboResult


def _load_builder() -> ModuleType:
    """benchmarks/placebo.py by path (benchmarks is a folder of scripts, not a package)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "placebo.py"
    spec = importlib.util.spec_from_file_location("truceline_benchmarks_placebo", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


placebo = _load_builder()
ROOT = placebo.data_root()
N_WINDOWS = 50  # issue 5 asks for at least 50; each costs ~0.2-0.4 s of assessment
SEED = 2023

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ROOT is None, reason="real data not found (FIRMS yearly lists): set "
                       "TRUCELINE_DATA or place it at ../shared/data"),
]


@pytest.fixture(scope="module")
def ground(history: pd.DataFrame, leave_out_climatologies: dict) -> placebo.Ground:
    """The classified, enriched southern ground, built once for the module from the
    session's history and leave-out climatology (the verdict tests share them)."""
    return placebo.build_ground(ROOT, history, climatologies=leave_out_climatologies)


@pytest.fixture(scope="module")
def results(ground: placebo.Ground) -> dict[str, PlaceboResult]:
    return {s: placebo.run_placebo(ground, s, n_windows=N_WINDOWS, seed=SEED)
            for s in placebo.SENSORS}


def test_placebo_judges_real_ground(ground: placebo.Ground,
                                    results: dict[str, PlaceboResult]) -> None:
    # Not vacuous: both sensors saw fire near the line, VIIRS had false incidents for
    # the false-alarm test to weigh, and every window got a verdict.
    for sensor, res in results.items():
        assert len(ground.detections[sensor]) > 10_000
        assert res.n_windows == N_WINDOWS
        assert res.windows["front_window"].sum() > 0
        total = (res.share_violated + res.share_held + res.share_reduced
                 + res.share_inconclusive)
        assert total == pytest.approx(1.0)
    assert len(ground.incidents["VIIRS"]) > 0


@pytest.mark.parametrize("sensor", ["VIIRS", "MODIS"])
def test_violated_near_zero(results: dict[str, PlaceboResult], sensor: str) -> None:
    # Measured 2026-11-26: none of these 50 windows, none of the script's 200, with the
    # worst other year's false-incident rate; with the other years' pooled rate (the
    # first version) VIIRS had 2 of these 50 (the false incidents of autumn 2021).
    res = results[sensor]
    w = res.windows
    judged = w.loc[w["verdict"] == "violated", ["start_utc", "end_utc", "n_proving",
                                                   "false_incident_rate"]]
    assert res.share_violated <= 0.05, f"{sensor}: peacetime windows judged violated:\n{judged}"


@pytest.mark.parametrize("sensor", ["VIIRS", "MODIS"])
def test_contrast_rejects_near_nominal(results: dict[str, PlaceboResult], sensor: str) -> None:
    # 5 % test on null windows; 0.10 leaves room for 50 windows (binomial sd ~3 %)
    assert 0.0 <= results[sensor].share_contrast_significant <= 0.10
