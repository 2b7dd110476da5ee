"""Time the detection stage on the real history (issue 4 §5); prints the figures.

    python benchmarks/detect.py [--year 2022] [--data DIR]

Targets on a 2-core machine: both climatologies from all 2001-2021 history < 60 s;
scoring, classification and incident clustering for one year < 10 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--year", type=int, default=2022)
    ap.add_argument("--data", default=None, help="shared data folder (else TRUCELINE_DATA)")
    args = ap.parse_args()
    if args.data:
        os.environ["TRUCELINE_DATA"] = args.data
    import conftest as data  # the loader the tests use (precision split of MODIS/VIIRS)
    from truceline.analysis.anomaly import classify, score_cell_days
    from truceline.analysis.baseline import build_climatologies
    from truceline.analysis.incidents import cluster_incidents

    if data.data_root() is None:
        sys.exit("shared data not found: set TRUCELINE_DATA")
    t = time.perf_counter()
    hist = data.load_years(range(2000, 2024))
    t_load = time.perf_counter() - t
    print(f"load {len(hist):,} detections 2000-2023: {t_load:.1f} s")

    t = time.perf_counter()
    clim = build_climatologies(hist)
    t_build = time.perf_counter() - t
    cells = len(clim["VIIRS"].cells)
    print(f"build MODIS + VIIRS climatologies (2001-2021 peacetime years, {cells:,} cells): "
          f"{t_build:.1f} s  (target < 60 s)")

    year = hist[hist["acq_date"].dt.year == args.year]
    t = time.perf_counter()
    scores = score_cell_days(year, clim)
    out = classify(year, clim, "seasonal", scores=scores)
    inc, _ = cluster_incidents(out)
    t_detect = time.perf_counter() - t
    print(f"detect {args.year}: {len(year):,} detections, {len(scores):,} cell-days, "
          f"{int(out['war'].sum()):,} war detections, {len(inc):,} incidents: "
          f"{t_detect:.1f} s  (target < 10 s)")


if __name__ == "__main__":
    main()
