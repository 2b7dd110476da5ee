"""Ingest speed on the real data: prints figures, asserts nothing.

    python benchmarks/ingest.py [--data DIR]

Targets (issue 2, 2-core machine): all of firms/ukraine_yearly (~1.26 M rows) < 30 s;
all 769 DeepState snapshots and the 182 liveuamap maps < 90 s; one year of detections
read back < 1 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from truceline import config
from truceline.lake.store import Lake


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    data = config.data_dir(args.data)
    if data is None:
        raise SystemExit("no data: pass --data or set TRUCELINE_DATA")
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(Path(tmp) / "lake")
        t = time.perf_counter()
        s = lake.ingest_firms([data / "firms/ukraine_yearly"])
        dt = time.perf_counter() - t
        rows = s.total("rows")
        print(f"firms yearly: {rows:,} rows in {dt:.1f} s ({rows / dt:,.0f} rows/s; target < 30 s)")
        t = time.perf_counter()
        c = lake.ingest_control([data / "frontline/deepstate", data / "frontline/liveuamap_nzz"])
        dt = time.perf_counter() - t
        print(f"control maps: {len(c.files)} files in {dt:.1f} s (target < 90 s)")
        for year in (2020, 2022):
            t = time.perf_counter()
            d = lake.read_detections(f"{year}-01-01", f"{year}-12-31")
            dt = time.perf_counter() - t
            print(f"read {year}: {len(d):,} detections in {dt:.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
