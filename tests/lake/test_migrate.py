"""`truceline lake migrate`: a first-layout lake becomes Delta tables with every row and
the ledger kept; opening an old lake says how; recovery never follows a planted path."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from firms_text import VIIRS_HEADER
from truceline.cli import app
from truceline.errors import LakeError
from truceline.lake import ledger as ledger_mod
from truceline.lake.migrate import migrate
from truceline.lake.store import Lake
from truceline.sources.firms import DETECTION_COLUMNS, parse_firms


def _detections(tmp_path: Path, name: str, rows: list[str]) -> pd.DataFrame:
    p = tmp_path / name
    p.write_text(VIIRS_HEADER + "\n" + "\n".join(rows) + "\n")
    return parse_firms(p).detections


def _write_geo(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                     crs=4326).to_parquet(path, index=False, schema_version="1.0.0")


def old_lake(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """A lake as the first layout wrote it: yearly rows with an all-null daynight and
    version (Arrow null type), NRT rows with strings, a snapshot, quarantine, ledger."""
    root = tmp_path / "old"
    yearly = _detections(tmp_path, "fire_archive_V1_1.csv", [
        f"48.{i},37.{i},330,0.4,0.4,2023-12-{10 + i},0100,N,n,2,290,3.0,D,VIIRS"
        for i in range(3)])
    yearly["daynight"] = None
    yearly["version"] = None
    nrt = _detections(tmp_path, "SUOMI_VIIRS_C2_Global_VNP14IMGTDL_NRT_2025223.txt", [
        f"47.{i},36.{i},330,0.4,0.4,2025-08-1{i},01:00:00,N,n,2.0NRT,290,3.0,N,VIIRS"
        for i in range(2)])
    _write_geo(yearly, root / "detections/sensor=VIIRS/year=2023/month=12/part.parquet")
    _write_geo(nrt, root / "detections/sensor=VIIRS/year=2025/month=08/part.parquet")
    snap = gpd.GeoDataFrame({
        "snapshot_id": ["deepstate:2025-08-20"], "source": ["deepstate"],
        "valid_from": [pd.Timestamp("2025-08-20")], "party": ["ru"], "crimea_missing": [False],
        "content_date": [pd.NaT], "area_km2": [12345.0], "repaired": [False],
        "repair_area_km2": [0.0], "filled_2014_km2": [0.0], "filled_from": [None],
        "source_file": ["deepstatemap_data_20250820.geojson"], "source_sha256": ["ab" * 32]},
        geometry=[shapely.box(37, 47, 38, 48)], crs=4326)
    (root / "control/source=deepstate").mkdir(parents=True)
    snap.to_parquet(root / "control/source=deepstate/2025-08-20.parquet", index=False)
    (root / "quarantine").mkdir()
    pd.DataFrame({"file": ["x.csv"], "line": [3], "raw": ["1,2"], "reason": ["bad"],
                  "file_sha256": ["cd" * 32], "txn": ["0123456789abcdef"]}).to_parquet(
        root / "quarantine/0123456789abcdef.parquet", index=False)
    chain: list[dict] = []
    for kind in ("ingest-firms", "ingest-control"):
        chain.append(ledger_mod.make_entry(chain, kind, txn=f"{len(chain):016x}"))
    ledger_mod.append_entries(root / "ledger.jsonl", chain, before=[])
    (root / ".txn").mkdir()
    return root, pd.concat([yearly, nrt], ignore_index=True)


def test_opening_an_old_lake_points_at_migrate(tmp_path):
    root, _ = old_lake(tmp_path)
    with pytest.raises(LakeError, match=f"truceline lake migrate --lake {root}"):
        Lake(root)
    r = CliRunner().invoke(app, ["lake", "info", "--lake", str(root)])
    assert isinstance(r.exception, LakeError) and r.exception.exit_code == 3


def test_migrate_keeps_every_row_the_ledger_and_one_schema(tmp_path):
    root, det = old_lake(tmp_path)
    entries = ledger_mod.read_entries(root / "ledger.jsonl")
    r = CliRunner().invoke(app, ["lake", "migrate", "--lake", str(root), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["rows"] == {"detections": 5, "control": 1, "quarantine": 1}
    lake = Lake(root)
    assert not any((root / d).exists() for d in ("detections", "control", "quarantine",
                                                 ".txn"))
    got = lake.read_detections(geometry=False).sort_values("detection_id")
    want = det.sort_values("detection_id")
    for c in DETECTION_COLUMNS:
        a, b = got[c].astype(object).tolist(), want[c].astype(object).tolist()
        if c in ("acq_date", "t_utc"):
            a, b = list(pd.to_datetime(pd.Series(a))), list(pd.to_datetime(pd.Series(b)))
        assert [None if pd.isna(x) else x for x in a] == [
            None if pd.isna(x) else x for x in b], c
    # item 5: one schema, read across the yearly (null) and NRT (string) rows
    across = lake.read_detections("2023-12-01", "2025-08-11")
    assert len(across) == 5 and across["daynight"].tolist().count("N") == 2
    snap = lake.read_control("deepstate")
    assert snap.geometry.iat[0].equals(shapely.box(37, 47, 38, 48))
    assert lake.read_quarantine()["reason"].tolist() == ["bad"]
    now = lake.ledger_entries()
    assert now[:2] == entries and now[2]["kind"] == "migrate" and lake.verify_ledger().ok
    again = migrate(root)
    assert not again["migrated"] and "already" in again["reason"]


def test_the_tables_folder_of_a_lake_is_refused_not_migrated(tmp_path):
    """A --lake that names a lake's tables/ folder (Delta tables with the first layout's
    folder names) is not taken for a first-layout lake, and migrating it deletes nothing."""
    root, det = old_lake(tmp_path)
    migrate(root)
    tables = root / "tables"
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    for argv in (["lake", "info"], ["lake", "migrate"]):
        r = CliRunner().invoke(app, [*argv, "--lake", str(tables)])
        assert isinstance(r.exception, LakeError) and r.exception.exit_code == 3
        assert "is the tables folder of a lake, not a lake" in str(r.exception)
        assert f"({root})" in str(r.exception)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert len(Lake(root).read_detections(geometry=False)) == len(det)


def test_a_killed_migration_is_finished_by_running_it_again(tmp_path, monkeypatch):
    root, _ = old_lake(tmp_path)

    def die(*a, **k):
        raise KeyboardInterrupt  # the process stops before the ledger commits

    monkeypatch.setattr(ledger_mod, "append_entries", die)
    with pytest.raises(KeyboardInterrupt):
        migrate(root)
    monkeypatch.undo()
    assert (root / "tables").is_dir() and (root / "detections").is_dir()
    with pytest.raises(LakeError, match="lake migrate"):
        Lake(root)  # still the old layout, whole
    assert migrate(root)["rows"]["detections"] == 5
    assert len(Lake(root).read_detections()) == 5


def test_planted_transaction_paths_never_touch_files_outside_the_lake(tmp_path):
    """Issue 12 item 1: `lake info` deleted ../victim.txt named in a plan.json."""
    scratch = tmp_path / "s"
    (scratch / "l/.txn/1").mkdir(parents=True)
    victim = scratch / "victim.txt"
    victim.write_text("precious")
    plan = [{"rel": "../victim.txt", "existed": False, "delete": False},
            {"rel": "detections/../../victim.txt", "existed": True, "delete": False},
            {"rel": "/etc/hostname", "existed": False, "delete": False}]
    for d in ("1", "0123456789abcdef"):
        (scratch / "l/.txn" / d).mkdir(exist_ok=True)
        (scratch / "l/.txn" / d / "plan.json").write_text(json.dumps(plan))
    r = CliRunner().invoke(app, ["lake", "info", "--lake", str(scratch / "l")])
    assert isinstance(r.exception, LakeError) and "lake migrate" in str(r.exception)
    assert victim.read_text() == "precious"
    migrate(scratch / "l")
    assert victim.read_text() == "precious" and Path("/etc/hostname").exists()
    assert not (scratch / "l/.txn").exists()


def test_recovery_follows_no_symlink_out_of_the_lake(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.record("test-finding", note="x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (lake.root / "tables").mkdir()
    (lake.root / "tables" / "evil").symlink_to(outside)
    (lake.root / "baseline").mkdir()
    (lake.root / "baseline" / "x.npz.0123456789abcdef.tmp").symlink_to(outside / "keep.txt")
    lake.record("test-finding", note="y")  # a writer recovers first
    assert (outside / "keep.txt").read_text() == "keep"
