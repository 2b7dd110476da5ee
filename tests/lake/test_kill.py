"""kill -9 at 25 random moments of a real ingest in a subprocess: the lake always opens,
verifies, and a re-run gives exactly the rows of an uninterrupted run (issue 12).
The 100-kill tally is `python benchmarks/kill_ingest.py`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "kill_ingest.py"


def _harness():  # noqa: ANN202 - a module loaded from benchmarks/
    spec = importlib.util.spec_from_file_location("kill_ingest", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_kill_9_at_25_random_moments_leaves_a_lake_that_recovers_exactly(tmp_path, data_dir):
    tally = _harness().campaign(data_dir, runs=25, seed=12, tmp=tmp_path)
    tally.pop("work seconds")
    assert set(tally) <= {"same", "same (finished before the kill)"}, tally
    assert tally["same"] >= 10  # most kills land inside the work, not after it
