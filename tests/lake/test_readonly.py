"""Readers are never locked out (issue 12, item 8): a lake copied to a read-only medium
answers every read command, and reads go on while another process writes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from firms_text import VIIRS_HEADER
from truceline.errors import LakeError
from truceline.lake.store import Lake

SRC = Path(__file__).resolve().parents[2] / "src"


def _small_lake(root: Path, tmp: Path) -> Lake:
    firms = tmp / "fire_archive_J1V-C2_1.csv"
    firms.write_text(VIIRS_HEADER + "\n" + "\n".join(
        f"47.{i},37.{i},330,0.4,0.4,2025-08-1{i},0100,N20,n,2,290,3.0,D,VIIRS"
        for i in range(5)) + "\n48.0,37.0,330,0.4,0.4,2025-08-10,0100,N20,n,2,290,x,D,VIIRS\n")
    held = tmp / "deepstatemap_data_20250801.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.box(37.5, 47.0, 39.0, 48.5)],
                     crs=4326).to_file(held)
    lake = Lake(root)
    lake.ingest_firms([firms])
    lake.ingest_control([held], source="deepstate")
    lake.record("test-finding", note="x")
    return lake


def _as_reader(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run as a user who cannot write the lake: `nobody` when we are root (root writes
    through any permission bits), else ourselves."""
    cmd = [sys.executable, *args]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop write permission")
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def readonly_lake(tmp_path):
    base = Path(tempfile.mkdtemp(prefix="truceline-ro-", dir="/tmp"))
    os.chmod(base, 0o755)  # nobody must reach it (pytest's tmp_path is private)
    root = base / "lake"
    _small_lake(root, tmp_path)
    (root / ".lock").unlink()
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) | stat.S_IROTH
                | (stat.S_IXOTH if p.is_dir() else 0))
    yield root
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    shutil.rmtree(base)


def test_a_read_only_lake_answers_every_read_command(readonly_lake, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC), "HOME": "/tmp"}
    before = {str(p): p.stat().st_mtime_ns for p in readonly_lake.rglob("*")}
    cli = ["-m", "truceline.cli"]
    lake = ["--lake", str(readonly_lake)]
    out = tempfile.mkdtemp(dir="/tmp")
    os.chmod(out, 0o777)
    for args in (["lake", "info", "--json"], ["ledger", "verify"], ["ledger", "anchor"],
                 ["line", "--date", "2025-08-20", "--control-source", "deepstate", "--out",
                  f"{out}/line.geojson"]):
        r = _as_reader([*cli, *args, *lake], env)
        assert r.returncode == 0, (args, r.stderr[-2000:])
        assert "Traceback" not in r.stderr
    info = json.loads(_as_reader([*cli, "lake", "info", "--json", *lake], env).stdout)
    assert info["total_detections"] == 5 and info["quarantine"]["rows"] == 1
    code = ("import sys\nfrom truceline.lake.store import Lake\nlake = Lake(sys.argv[1])\n"
            "d = lake.read_detections('2025-08-10', '2025-08-14')\n"
            "c = lake.read_control('deepstate')\nq = lake.read_quarantine()\n"
            "old = lake.at(lake.table_versions()).read_detections()\n"
            "print(len(d), len(c), len(q), len(old), d.crs.to_epsg())\n")
    r = _as_reader(["-c", code, str(readonly_lake)], env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["5", "1", "1", "5", "4326"]
    # a write is refused with the reason, exit 3, no traceback
    firms = Path(out) / "fire_archive_J1V-C2_9.csv"
    firms.write_text(VIIRS_HEADER
                     + "\n47.9,37.9,330,0.4,0.4,2025-08-19,0100,N20,n,2,290,3,D,VIIRS\n")
    r = _as_reader([*cli, "ingest", "firms", str(firms), *lake], env)
    assert r.returncode == 3 and "cannot write to this lake" in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    assert {str(p): p.stat().st_mtime_ns for p in readonly_lake.rglob("*")} == before
    shutil.rmtree(out)


def test_reads_and_ledger_checks_go_on_while_a_writer_holds_the_lock(tmp_path):
    """`lake info`, `ledger verify` and reads were refused for the whole of an ingest."""
    import fcntl

    lake = _small_lake(tmp_path / "lake", tmp_path)
    with open(lake.root / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process is "writing"
        reader = Lake(lake.root)
        assert reader.info()["total_detections"] == 5
        assert reader.verify_ledger().ok and len(reader.read_detections()) == 5
        with pytest.raises(LakeError, match="another truceline process is writing"):
            reader.ingest_control([tmp_path / "deepstatemap_data_20250801.geojson"],
                                  source="deepstate", replace=True)
