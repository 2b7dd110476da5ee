"""Kill -9 a real ingest at random moments; count lakes left unusable or different.

    python benchmarks/kill_ingest.py [--runs 100] [--seed 1] [--data DIR]

Each run starts a fresh process that ingests real files into a new lake (FIRMS NRT
files, a yearly list, DeepState maps, then a map re-ingested with --replace: appends,
a quarantine, deletes and the ledger), kills it with SIGKILL at a moment drawn uniformly
over the work (after the imports), then checks that the lake opens, its ledger verifies,
and that running the same ingest again gives exactly the rows of an uninterrupted run.
Target (issue 12): 0 of 100 unusable or different. `tests/lake/test_kill.py` runs 25.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def work(root: str | Path, data: str | Path) -> None:
    """The ingest that is killed: four writes touching every table and the ledger."""
    from truceline.lake.store import Lake

    data = Path(data)
    nrt = sorted((data / "firms/viirs_noaa20_nrt_2025").glob("*.csv"))[:3]
    maps = sorted((data / "frontline/deepstate").glob("*.geojson"))[-2:]
    lake = Lake(root)
    lake.ingest_firms(nrt)
    lake.ingest_firms([data / "firms/ukraine_yearly/ukr_fire_data_2010.csv"])
    lake.ingest_control(maps, source="deepstate")
    lake.ingest_control([maps[0]], source="deepstate", valid_from="2025-01-01", replace=True)


def state(root: str | Path) -> tuple[str, str, str]:
    """What a reader gets from every table (write ids and ledger times aside)."""
    import geopandas as gpd
    import pandas as pd

    from truceline.errors import LakeError
    from truceline.lake.store import Lake

    lake = Lake(root)
    d = lake.read_detections(geometry=False).sort_values("detection_id")
    q = lake.read_quarantine().drop(columns="txn").sort_values(["file", "line"])
    try:
        c = lake.read_control()
    except LakeError:  # killed before any map went in
        c = gpd.GeoDataFrame({"source": [], "valid_from": []}, geometry=[])
    c = pd.DataFrame(c.drop(columns="geometry")).assign(
        wkb=c.geometry.to_wkb(hex=True)).sort_values(["source", "valid_from"])
    return tuple(f.reset_index(drop=True).to_json(date_format="iso")  # type: ignore[return-value]
                 for f in (d, q, c))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = HERE.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(HERE), env.get("PYTHONPATH", "")])
    return env


def start(root: Path, data: Path) -> subprocess.Popen:
    """The ingest in its own process; it prints 'ready' once imported."""
    code = ("import sys, kill_ingest\nimport truceline.lake.store\nprint('ready', flush=True)\n"
            "kill_ingest.work(sys.argv[1], sys.argv[2])\n")
    return subprocess.Popen([sys.executable, "-c", code, str(root), str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())


def timed_run(root: Path, data: Path) -> float:
    """Seconds of work (after the imports) of an uninterrupted run in a process."""
    p = start(root, data)
    assert p.stdout is not None
    p.stdout.readline()
    t = time.perf_counter()
    _, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"the uninterrupted ingest failed: {err.decode()[-2000:]}")
    return time.perf_counter() - t


def kill_once(root: Path, data: Path, delay: float, reference: tuple) -> str:
    """Kill the ingest ``delay`` s into its work; 'same', or what went wrong."""
    from truceline.lake.store import Lake

    p = start(root, data)
    assert p.stdout is not None
    p.stdout.readline()
    time.sleep(delay)
    finished = p.poll() is not None
    p.send_signal(signal.SIGKILL)
    p.wait()
    try:
        lake = Lake(root)
        state(root)  # every table reads
        check = lake.verify_ledger()
        if not check.ok:
            return f"unusable: ledger fails verification: {check.problems}"
        work(root, data)  # the same ingest again, to the end
        if not Lake(root).verify_ledger().ok:
            return "unusable: ledger fails verification after the re-run"
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return f"unusable: {type(exc).__name__}: {str(exc)[:200]}"
    if state(root) != reference:
        return "different"
    return "same (finished before the kill)" if finished else "same"


def campaign(data: Path, runs: int, seed: int, tmp: Path) -> Counter:
    """``runs`` kills at uniform moments; a tally of outcomes."""
    ref_root = tmp / "reference"
    timed_run(tmp / "warm-up", data)  # the first run pays for cold caches
    work_s = timed_run(ref_root, data)
    reference = state(ref_root)
    rng = random.Random(seed)
    tally: Counter = Counter()
    for i in range(runs):
        root = tmp / f"run{i}"
        outcome = kill_once(root, data, rng.uniform(0, work_s), reference)
        tally[outcome.split(":")[0] if outcome.startswith("unusable") else outcome] += 1
        if not outcome.startswith("same"):
            print(f"run {i}: {outcome}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
    tally["work seconds"] = round(work_s, 2)  # type: ignore[assignment]
    return tally


def main() -> None:
    from truceline import config

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    data = config.data_dir(args.data)
    if data is None:
        raise SystemExit("no data: pass --data or set TRUCELINE_DATA")
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tally = campaign(data, args.runs, args.seed, Path(tmp))
    work_s = tally.pop("work seconds")
    bad = sum(v for k, v in tally.items() if not str(k).startswith("same"))
    print(f"kill -9 at {args.runs} uniform moments of a {work_s} s ingest (seed {args.seed}):")
    for k, v in sorted(tally.items()):
        print(f"  {v:4d}  {k}")
    print(f"unusable or different: {bad} of {args.runs} (target 0); "
          f"{time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
