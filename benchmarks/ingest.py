"""Ingest speed and memory on the real data, and readers during a big ingest: prints
figures, asserts nothing.

    python benchmarks/ingest.py [--data DIR] [--rows 2000000] [--skip-real]

Targets (issue 2 and 12, 2-core machine): all of firms/ukraine_yearly (~1.26 M rows)
< 30 s; all 769 DeepState snapshots and the 182 liveuamap maps < 90 s; one year of
detections read back < 1 s; peak memory <= 300 MB per million rows ingested whatever the
lake already holds (measured: ROWS new rows into a month already holding ROWS); `lake info`
answers in < 3 s while that ingest runs.

Every ingest runs in its own process, so its peak resident memory (VmHWM, imports
included) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HEADER = ("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,"
          "version,bright_ti5,frp,daynight,instrument")
SRC = Path(__file__).resolve().parents[1] / "src"


def synthetic_month(path: Path, rows: int, seed: int) -> Path:
    """``rows`` VIIRS archive rows in August 2025 over the theatre (distinct positions)."""
    rng = np.random.default_rng(seed)
    lat = np.round(rng.uniform(44.0, 52.0, rows), 5)
    lon = np.round(rng.uniform(30.0, 40.0, rows), 5)
    day = rng.integers(1, 32, rows)
    hhmm = rng.integers(0, 24, rows) * 100 + rng.integers(0, 60, rows)
    frp = np.round(rng.gamma(1.5, 4.0, rows), 2)
    with open(path, "w") as f:
        f.write(HEADER + "\n")
        for i in range(0, rows, 200_000):
            s = slice(i, i + 200_000)
            block = [f"{a:.5f},{o:.5f},330.1,0.4,0.4,2025-08-{d:02d},{t:04d},N20,n,2,290.2,{p},D,"
                     "VIIRS" for a, o, d, t, p in zip(lat[s], lon[s], day[s], hhmm[s], frp[s],
                                                       strict=True)]
            f.write("\n".join(block) + "\n")
    return path


def _run(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; its JSON result."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC),
                                                        os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       env=env)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-3000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


# VmHWM: the peak of this process's own memory (ru_maxrss also counts the parent's
# memory at fork time, which a big benchmark process would add to every child)
PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
INGEST = PEAK + """
import json, sys, time
from truceline.lake.store import Lake
t = time.perf_counter()
s = Lake(sys.argv[1]).ingest_firms([sys.argv[2]])
print(json.dumps({"rows": s.total("rows"), "added": s.total("added"),
                  "seconds": time.perf_counter() - t, "peak_mb": peak_mb()}))
"""
INFO_LOOP = """
import json, sys, time
from truceline.lake.store import Lake
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    Lake(sys.argv[1]).info()
    print(round(time.perf_counter() - t, 3), flush=True)
    time.sleep(0.5)
"""
IMPORTS = PEAK + """
import json
import truceline.lake.store
print(json.dumps({"peak_mb": peak_mb()}))
"""


def memory_and_readers(tmp: Path, rows: int) -> None:
    """ROWS rows into an empty lake, then ROWS more into the same month, timing `lake
    info` from another process all the while."""
    lake = tmp / "big"
    a = synthetic_month(tmp / "fire_archive_J1V-C2_a.csv", rows, 1)
    b = synthetic_month(tmp / "fire_archive_J1V-C2_b.csv", rows, 2)
    base = _run(IMPORTS)
    print(f"python + truceline imports alone: {base['peak_mb']:.0f} MB")
    first = _run(INGEST, str(lake), str(a))
    print(f"{first['rows']:,} rows into an empty lake: {first['seconds']:.1f} s, peak "
          f"{first['peak_mb']:.0f} MB ({first['peak_mb'] / (rows / 1e6):.0f} MB per million "
          "rows; target <= 300)")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    p = subprocess.Popen([sys.executable, "-c", INGEST, str(lake), str(b)],
                         stdout=subprocess.PIPE, text=True, env=env)
    loop = subprocess.Popen([sys.executable, "-c", INFO_LOOP, str(lake), "100000"],
                            stdout=subprocess.PIPE, text=True, env=env)
    waits = []
    while p.poll() is None:
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "truceline.cli", "lake", "info", "--json",
                            "--lake", str(lake)], capture_output=True, text=True, env=env)
        if p.poll() is None and r.returncode == 0:
            waits.append(time.perf_counter() - t)
        elif r.returncode != 0:
            print(f"lake info failed during the ingest: {r.stderr[-500:]}")
    out, _ = p.communicate()
    loop.kill()
    inside = [float(x) for x in loop.communicate()[0].split()]
    second = json.loads(out.strip().splitlines()[-1])
    print(f"{second['rows']:,} more rows into the same month (holding {first['added']:,}): "
          f"{second['seconds']:.1f} s, peak {second['peak_mb']:.0f} MB "
          f"({second['peak_mb'] / (rows / 1e6):.0f} MB per million rows; target <= 300)")
    if waits:
        print(f"`lake info` (a new process each time) during that ingest: {len(waits)} runs, "
              f"median {np.median(waits):.2f} s, max {max(waits):.2f} s (target < 3 s)")
    if inside:
        print(f"Lake.info() in a process already running, during that ingest: {len(inside)} "
              f"runs, median {np.median(inside):.2f} s, max {max(inside):.2f} s")


def real(data: Path, tmp: Path) -> None:
    from truceline.lake.store import Lake

    lake = Lake(tmp / "lake")
    t, cpu = time.perf_counter(), time.process_time()
    s = lake.ingest_firms([data / "firms/ukraine_yearly"])
    dt, dc = time.perf_counter() - t, time.process_time() - cpu
    rows = s.total("rows")
    print(f"firms yearly: {rows:,} rows in {dt:.1f} s, {dc:.1f} s CPU ({rows / dt:,.0f} "
          "rows/s; target < 30 s)")
    t, cpu = time.perf_counter(), time.process_time()
    c = lake.ingest_control([data / "frontline/deepstate", data / "frontline/liveuamap_nzz"])
    dt, dc = time.perf_counter() - t, time.process_time() - cpu
    print(f"control maps: {len(c.files)} files in {dt:.1f} s, {dc:.1f} s CPU (target < 90 s)")
    for year in (2020, 2022):
        t, cpu = time.perf_counter(), time.process_time()
        d = lake.read_detections(f"{year}-01-01", f"{year}-12-31")
        dt, dc = time.perf_counter() - t, time.process_time() - cpu
        print(f"read {year}: {len(d):,} detections in {dt:.2f} s, {dc:.2f} s CPU "
              "(target < 1 s)")


def main() -> None:
    from truceline import config

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--skip-real", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_real:
            data = config.data_dir(args.data)
            if data is None:
                raise SystemExit("no data: pass --data or set TRUCELINE_DATA")
            real(data, Path(tmp))
        memory_and_readers(Path(tmp), args.rows)


if __name__ == "__main__":
    main()
