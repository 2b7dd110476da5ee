"""The lake: ingest is idempotent, atomic, deduplicating, and logged in the ledger."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from firms_text import VIIRS_HEADER
from truceline.cli import app
from truceline.errors import InputError
from truceline.lake import ledger as ledger_mod
from truceline.lake.store import Lake


def viirs_file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    p = tmp_path / name
    p.write_text(VIIRS_HEADER + "\n" + "\n".join(rows) + "\n")
    return p


def row(lat: float, lon: float, day: str, time: str, version: str, frp: float = 3.0) -> str:
    return f"{lat},{lon},330,0.4,0.4,{day},{time},N20,n,{version},290,{frp},D,VIIRS"


def snapshot(root: Path) -> dict[str, str]:
    """Hash of every file in the lake, to prove nothing changed."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.fixture
def two_files(tmp_path):
    nrt = viirs_file(tmp_path, "J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025230.txt", [
        row(48.40647, 37.19036, "2025-08-18", "00:13:00", "2.0NRT", 1.0),
        row(47.62988, 35.50128, "2025-08-18", "00:13:00", "2.0NRT", 1.0),
        row(47.0, 35.0, "2025-09-01", "11:00:00", "2.0NRT", 1.0),
    ])
    archive = viirs_file(tmp_path, "fire_archive_J1V-C2_1.csv", [
        row(48.40647, 37.19036, "2025-08-18", "0013", "2", 9.0),
        row(46.5, 33.5, "2025-08-19", "1040", "2", 9.0),
        row(46.6, 33.6, "2025-09-02", "1040", "2", 9.0),
    ])
    return nrt, archive


def test_same_file_twice_adds_nothing(tmp_path, two_files):
    lake = Lake(tmp_path / "lake")
    first = lake.ingest_firms([two_files[0]])
    before = snapshot(lake.root)
    again = lake.ingest_firms([two_files[0]])
    assert first.total("added") == 3
    assert again.files == [] and again.skipped[0]["reason"] == "already ingested"
    assert snapshot(lake.root) == before


def test_archive_replaces_nrt_copy_of_same_detection(tmp_path, two_files):
    lake = Lake(tmp_path / "lake")
    lake.ingest_firms([two_files[0]])
    s = lake.ingest_firms([two_files[1]])
    assert s.files[0]["replaced_nrt"] == 1 and s.files[0]["added"] == 2
    d = lake.read_detections()
    assert len(d) == 5
    kept = d[(d["lat"] == 48.40647)]
    assert len(kept) == 1 and kept["frp"].iloc[0] == 9.0 and not kept["is_nrt"].iloc[0]
    # NRT arriving after the archive does not displace it
    lake2 = Lake(tmp_path / "lake2")
    lake2.ingest_firms([two_files[1]])
    s2 = lake2.ingest_firms([two_files[0]])
    assert s2.files[0]["already_in_lake"] == 1
    assert lake2.read_detections().query("lat == 48.40647")["frp"].iloc[0] == 9.0


def test_tables_are_delta_readable_by_deltalake_duckdb_and_geopandas(tmp_path, two_files):
    import duckdb
    from deltalake import DeltaTable

    lake = Lake(tmp_path / "lake")
    lake.ingest_firms(list(two_files))
    files = lake.detection_files()
    assert {f.parent.parent.name for f in files} == {"year=2025"}
    dt = DeltaTable(str(lake.root / "tables" / "detections"))
    assert dt.version() == lake.table_versions()["detections"]
    assert dt.to_pyarrow_dataset().count_rows() == 5
    listed = ", ".join(f"'{f}'" for f in files)  # the live files of the version read
    n = duckdb.sql(f"select count(*) from read_parquet([{listed}])").fetchall()[0][0]
    assert n == 5
    d = lake.read_detections()
    assert isinstance(d, gpd.GeoDataFrame) and d.crs.to_epsg() == 4326
    assert (d.geometry.x == d["lon"]).all() and (d.geometry.y == d["lat"]).all()
    plain = lake.read_detections(geometry=False)
    assert not isinstance(plain, gpd.GeoDataFrame) and list(plain.columns) == list(
        d.columns.drop("geometry"))


def _state(lake: Lake) -> tuple:
    """What a reader sees: every table's rows (write ids aside)."""
    d = lake.read_detections(geometry=False).sort_values("detection_id").reset_index(drop=True)
    q = lake.read_quarantine().drop(columns="txn")
    return d.to_json(date_format="iso"), q.to_json(date_format="iso")


@pytest.mark.parametrize("fail_at", ["delta-1", "delta-2", "ledger"])
def test_failure_mid_ingest_leaves_lake_as_it_was(tmp_path, two_files, monkeypatch, fail_at):
    import deltalake

    lake = Lake(tmp_path / "lake")
    lake.ingest_firms([two_files[0]])
    bad = viirs_file(tmp_path, "fire_archive_bad.csv", [
        row(48.40647, 37.19036, "2025-08-18", "0013", "2", 9.0),
        row(148.1, 37.1, "2025-08-18", "0013", "2")])  # one quarantined row: two tables
    before = _state(lake)
    real_write = deltalake.write_deltalake
    calls = {"n": 0}

    def flaky_write(*a, **k):
        calls["n"] += 1
        if fail_at == f"delta-{calls['n']}":
            raise OSError("disk full (injected)")
        return real_write(*a, **k)

    real_fsync = ledger_mod.os.fsync

    def flaky_fsync(fd):
        if ledger_mod.pending_path(lake.ledger_path).exists():
            raise OSError("ledger disk full (injected)")  # lines written, head not moved
        return real_fsync(fd)

    monkeypatch.setattr(deltalake, "write_deltalake", flaky_write)
    if fail_at == "ledger":
        monkeypatch.setattr(ledger_mod.os, "fsync", flaky_fsync)
    entries = lake.ledger_entries()
    with pytest.raises(OSError, match="injected"):
        lake.ingest_firms([bad])
    monkeypatch.undo()
    assert _state(Lake(lake.root)) == before
    assert lake.verify_ledger().ok
    after = lake.ledger_entries()  # an undone table commit is logged, nothing else
    assert after[:len(entries)] == entries
    assert {e["kind"] for e in after[len(entries):]} <= {"recover"}
    lake.ingest_firms([bad])  # and the same ingest then goes through
    assert lake.read_detections().query("lat == 48.40647")["frp"].iloc[0] == 9.0


def test_crash_between_table_commit_and_ledger_is_undone_by_next_writer(tmp_path, two_files,
                                                                        monkeypatch):
    lake = Lake(tmp_path / "lake")
    lake.ingest_firms([two_files[0]])
    before = _state(lake)
    versions = lake.table_versions()

    class Crash(BaseException):
        pass

    def dying_append(*a, **k):
        raise Crash()

    # the process dies after its Delta commits: nothing after runs, no undo
    monkeypatch.setattr(ledger_mod, "append_entries", dying_append)
    monkeypatch.setattr(Lake, "_undo", lambda self, w: None)
    with pytest.raises(Crash):
        lake.ingest_firms([two_files[1]])
    monkeypatch.undo()
    from deltalake import DeltaTable

    assert DeltaTable(str(lake.root / "tables/detections")).version() > versions["detections"]
    reader = Lake(lake.root)  # readers see the committed version meanwhile
    assert _state(reader) == before and reader.table_versions() == versions
    s = lake.ingest_firms([two_files[1]])  # the next writer restores, logs it, then writes
    assert s.files[0]["replaced_nrt"] == 1
    kinds = [e["kind"] for e in lake.ledger_entries()]
    assert kinds == ["ingest-firms", "recover", "ingest-firms"]
    assert lake.verify_ledger().ok


def test_bad_file_in_batch_writes_nothing(tmp_path, two_files):
    bad = tmp_path / "notes.csv"
    bad.write_text("name,value\na,1\n")
    lake = Lake(tmp_path / "lake")
    with pytest.raises(InputError, match="notes.csv: not a FIRMS file"):
        lake.ingest_firms([two_files[0], bad])
    assert lake.read_detections().empty and lake.ledger_entries() == []


def test_quarantine_keeps_rejected_rows_and_counts(tmp_path):
    p = viirs_file(tmp_path, "fire_archive_J1V-C2_2.csv", [
        row(48.1, 37.1, "2025-08-18", "0013", "2"),
        row(148.1, 37.1, "2025-08-18", "0013", "2"),
        "48.1,37.1,330,0.4,0.4,2025-08-18,0013,N20,n,2,290,lots,D,VIIRS",
    ])
    lake = Lake(tmp_path / "lake")
    s = lake.ingest_firms([p])
    assert s.files[0]["rejected"] == 2 and s.files[0]["accepted"] == 1
    q = lake.read_quarantine()
    assert list(q["line"]) == [3, 4]
    assert "frp value 'lots' is not a number" in q["reason"].iloc[1]
    info = lake.info()
    assert info["quarantine"]["rows"] == 2 and info["total_detections"] == 1


def _tamper(path: Path, how: str) -> None:
    lines = path.read_text().splitlines()
    if how == "edit":
        e = json.loads(lines[1])
        e["accepted"] = e.get("accepted", 0) + 1
        lines[1] = json.dumps(e, sort_keys=True, separators=(",", ":"))
    elif how == "delete":
        del lines[1]
    elif how == "reorder":
        lines[0], lines[1] = lines[1], lines[0]
    elif how == "truncate":
        del lines[-1]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("how", ["edit", "delete", "reorder", "truncate"])
def test_ledger_catches_tampering(tmp_path, two_files, how):
    lake = Lake(tmp_path / "lake")
    lake.ingest_firms([two_files[0]])
    lake.ingest_firms([two_files[1]])
    lake.record("test-finding", note="x")
    assert lake.verify_ledger().ok
    _tamper(lake.ledger_path, how)
    check = lake.verify_ledger()
    assert not check.ok and check.problems
    result = CliRunner().invoke(app, ["ledger", "verify", "--lake", str(lake.root)])
    assert result.exit_code == 4


def test_cli_refuses_non_firms_file_with_exit_2_and_writes_nothing(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "x.csv"
    bad.write_text("foo,bar\n1,2\n")
    lake = tmp_path / "lake"
    r = subprocess.run([sys.executable, "-m", "truceline.cli", "ingest", "firms", str(bad),
                        "--lake", str(lake)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "x.csv: not a FIRMS file" in r.stderr and "latitude" in r.stderr
    assert not (lake / "detections").exists() and not (lake / "ledger.jsonl").exists()


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def real_lake(tmp_path_factory, data_dir):
    lake = Lake(tmp_path_factory.mktemp("real") / "lake")
    y = data_dir / "firms/ukraine_yearly"
    s = lake.ingest_firms([y / "ukr_fire_data_2021.csv", y / "ukr_fire_data_2022.csv",
                           data_dir / "firms/viirs_noaa20_nrt_2025"])
    front = data_dir / "frontline"
    c = lake.ingest_control([front / "deepstate/deepstatemap_data_20250820.geojson",
                             front / "liveuamap_nzz/nzz_2023-01-05.json",
                             front / "rus_control_2023/rus_control_2023.shp"])
    return lake, s, c


def test_real_counts_equal_raw_rows_minus_rejected(real_lake, data_dir):
    from truceline.config import resolve_portable

    lake, s, _ = real_lake
    # the ledger names files by their place in the data folder, never a local path
    files = [e["file"] for e in lake.ledger_entries() if "file" in e]
    assert files and all(f.startswith("data:firms/") or f.startswith("data:frontline/")
                         for f in files), files
    for f in s.files:
        raw_rows = len(pd.read_csv(resolve_portable(f["file"])))
        assert f["rows"] == raw_rows
        assert f["accepted"] == raw_rows - f["rejected"]
    info = lake.info()
    assert info["total_detections"] == s.total("accepted")
    assert info["detections"]["VIIRS"]["2025"] == 10_523
    assert info["quarantine"]["rows"] == s.total("rejected")
    assert info["ledger"]["ok"] and info["ledger"]["entries"] == len(s.files) + 3


def test_real_values_round_trip(real_lake, data_dir):
    lake, _, _ = real_lake
    raw = pd.read_csv(data_dir / "firms/ukraine_yearly/ukr_fire_data_2021.csv")
    d = lake.read_detections("2021-01-01", "2021-12-31")
    assert len(d) == len(raw)
    a = raw.sort_values(["ACQ_DATE", "LATITUDE", "LONGITUDE"]).reset_index(drop=True)
    b = d.sort_values(["acq_date", "lat", "lon"]).reset_index(drop=True)
    assert (a["LATITUDE"].to_numpy() == b["lat"].to_numpy()).all()
    assert (a["LONGITUDE"].to_numpy() == b["lon"].to_numpy()).all()
    assert (pd.to_datetime(a["ACQ_DATE"]).to_numpy() == b["acq_date"].to_numpy()).all()


def test_real_control_snapshots(real_lake):
    lake, _, c = real_lake
    snaps = lake.read_control().set_index("source")
    assert snaps.loc["deepstate", "valid_from"] == pd.Timestamp("2025-08-20")
    assert not snaps.loc["deepstate", "crimea_missing"]
    assert snaps.loc["liveuamap", "crimea_missing"]
    assert snaps.loc["liveuamap", "valid_from"] == pd.Timestamp("2023-01-05")
    # liveuamap without Crimea ~83,000 km2 (110,000 with Crimea's 26,689, per SOURCES.md)
    assert 80_000 < snaps.loc["liveuamap", "area_km2"] < 86_000
    isw = snaps.loc["isw"]
    assert isw["content_date"] == pd.Timestamp("2023-03-28")
    minx, miny, maxx, maxy = isw.geometry.bounds  # reprojected from EPSG:3857 to degrees
    assert 22 < minx < 40 and 44 < miny < 53 and maxx < 41
    assert lake.read_control("deepstate").shape[0] == 1
    assert all(f["repair_area_km2"] >= 0 for f in c.files)


def test_liveuamap_2014_ground_is_filled_from_an_earlier_map(tmp_path, data_dir):
    """NZZ's liveuamap maps leave out the ground held since 2014 from 2024-03-14 on."""
    import shapely

    maps = data_dir / "frontline/liveuamap_nzz"
    alone = Lake(tmp_path / "alone")
    s = alone.ingest_control([maps / "nzz_2025-08-20.json"])
    assert s.files[0]["filled_2014_km2"] == 0 and "Donetsk" in s.warnings[0]
    lake = Lake(tmp_path / "lake")
    lake.ingest_control([maps / "nzz_2024-03-07.json"])
    s = lake.ingest_control([maps / "nzz_2025-08-20.json"])
    rec = s.files[0]
    assert 15_000 < rec["filled_2014_km2"] < 18_000 and rec["filled_from"].startswith(
        "liveuamap:2024-03")
    snap = lake.read_control("liveuamap").iloc[-1]
    assert snap.geometry.contains(shapely.Point(37.80, 48.02))  # Donetsk
    # with Crimea (26,689 km2) it agrees with DeepState's 114,578 km2 that week within 2 %
    assert abs(snap["area_km2"] + 26_689 - 114_578) / 114_578 < 0.02
    assert lake.ledger_entries()[-1]["filled_2014_km2"] == rec["filled_2014_km2"]


def test_any_polygon_file_with_valid_from(tmp_path):
    """A GeoPackage (or shapefile, GeoJSON) from any source, in any CRS, with a date."""
    import shapely

    from truceline.errors import InputError as InErr

    poly = shapely.box(37.0, 47.0, 38.0, 48.0)
    gpkg = tmp_path / "held.gpkg"
    gpd.GeoDataFrame({"name": ["held"]}, geometry=[poly], crs="EPSG:4326").to_crs(
        "EPSG:3857").to_file(gpkg, driver="GPKG")
    lake = Lake(tmp_path / "lake")
    with pytest.raises(InErr, match=r"held.gpkg: no date found .* --valid-from"):
        lake.ingest_control([gpkg])
    s = lake.ingest_control([gpkg], source="other", valid_from="2024-05-01")
    snap = lake.read_control("other").iloc[0]
    assert snap["valid_from"] == pd.Timestamp("2024-05-01") and s.files[0]["source"] == "other"
    assert snap.geometry.bounds == pytest.approx((37.0, 47.0, 38.0, 48.0), abs=1e-6)
    with pytest.raises(InErr, match="--source 'nato'"):
        lake.ingest_control([gpkg], source="nato", valid_from="2024-05-01")


def _two_maps(tmp_path: Path) -> list[Path]:
    from shapely import box

    paths = []
    for i, geom in enumerate([box(37.5, 47.5, 38.0, 48.0), box(37.5, 47.5, 38.5, 48.5)]):
        p = tmp_path / f"copy{i}" / "deepstatemap_data_20250101.geojson"  # one day, twice
        p.parent.mkdir()
        gpd.GeoDataFrame({"name": [f"m{i}"]}, geometry=[geom], crs=4326).to_file(p)
        paths.append(p)
    return paths


def test_second_map_for_a_source_and_day_is_refused_without_replace(tmp_path: Path) -> None:
    """Issue 12 item 4: a map was silently replaced and could not be restored."""
    paths = _two_maps(tmp_path)
    lake = Lake(tmp_path / "lake")
    lake.ingest_control([paths[0]], source="deepstate")
    state = lake.table_versions(), lake.ledger_entries()
    with pytest.raises(InputError, match=r"copy1.*already has a deepstate map for 2025-01-01 "
                                         r"\(from deepstatemap_data_20250101.geojson\); pass "
                                         r"--replace"):
        lake.ingest_control([paths[1]], source="deepstate")
    assert (lake.table_versions(), lake.ledger_entries()) == state
    with pytest.raises(InputError, match="pass --replace"):  # two in one call, likewise
        Lake(tmp_path / "lake2").ingest_control(paths, source="deepstate")
    s = lake.ingest_control([paths[1]], source="deepstate", replace=True)
    snaps = lake.read_control("deepstate")
    assert len(snaps) == 1
    assert snaps.geometry.iat[0].bounds == pytest.approx((37.5, 47.5, 38.5, 48.5))
    rec = s.files[0]
    assert rec["replaces_snapshot"] and rec["replaced"][0]["sha256"] == hashlib.sha256(
        paths[0].read_bytes()).hexdigest()
    assert "stays readable at control table version" in s.warnings[0]
    # the earlier map is kept: read the version the ledger names
    old = lake.at({"control": rec["replaced_readable_at_version"]}).read_control("deepstate")
    assert old.geometry.iat[0].bounds == pytest.approx((37.5, 47.5, 38.0, 48.0))
    # the original is no longer "already in the lake": it can be put back
    lake.ingest_control([paths[0]], source="deepstate", replace=True)
    assert lake.read_control("deepstate").geometry.iat[0].bounds == pytest.approx(
        (37.5, 47.5, 38.0, 48.0))
    assert lake.verify_ledger().ok


def test_no_snapshot_in_force_is_an_empty_frame_not_an_arrow_error(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    lake.ingest_control([_two_maps(tmp_path)[0]], source="deepstate")
    for geometry in (True, False):
        snaps = lake.read_control(None, start="2000-01-01", end="2000-01-01",
                                  geometry=geometry)
        assert snaps.empty and "valid_from" in snaps.columns
    from truceline.errors import LakeError
    from truceline.pipeline import snapshot_at

    with pytest.raises(LakeError, match="no control snapshot"):
        snapshot_at(lake, None, pd.Timestamp("2000-01-01"))


def test_map_with_wrong_valid_from_or_source_can_be_corrected(tmp_path: Path) -> None:
    import shapely

    poly = shapely.box(37.0, 47.0, 38.0, 48.0)
    f = tmp_path / "held.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[poly], crs=4326).to_file(f)
    lake = Lake(tmp_path / "lake")
    lake.ingest_control([f], source="other", valid_from="2024-05-10")
    again = lake.ingest_control([f], source="other", valid_from="2024-05-01")
    assert again.files == [] and again.skipped[0]["reason"] == "already ingested"
    # the options given are not applied, and the user hears so and how to apply them
    assert again.warnings == [f"{f}: already in the lake as other:2024-05-10; --valid-from "
                              "2024-05-01 not applied (pass --replace to store it that way "
                              "instead)"]
    assert lake.ingest_control([f], source="other").warnings == []  # nothing asked
    s = lake.ingest_control([f], source="other", valid_from="2024-05-01", replace=True)
    snaps = lake.read_control("other")
    assert list(snaps["valid_from"]) == [pd.Timestamp("2024-05-01")]
    assert s.files[0]["replaced"][0]["snapshot_id"].endswith("2024-05-10")
    lake.ingest_control([f], source="isw", valid_from="2024-05-01", replace=True)
    assert set(lake.read_control()["source"]) == {"isw"}
    same = lake.ingest_control([f], source="isw", valid_from="2024-05-01", replace=True)
    assert same.files == [] and "already ingested" in same.skipped[0]["reason"]


def test_a_snapshot_stored_with_another_party_is_put_right_by_replace(tmp_path: Path
                                                                     ) -> None:
    """A lake written before --party was checked may hold a map under a party no
    command reads; --replace with the same file and the right party corrects it (it
    used to be skipped as "already ingested as this source and day")."""
    from truceline.sources import frontlines

    path = _two_maps(tmp_path)[0]
    lake = Lake(tmp_path / "lake")
    real = frontlines.check_party
    try:  # the lake of an earlier version, which took any party
        import truceline.lake.control_tables as ct

        ct.check_party = frontlines.check_party = lambda party: None
        lake.ingest_control([path], source="deepstate", party="ua")
    finally:
        ct.check_party = frontlines.check_party = real
    assert lake.read_control("deepstate")["party"].tolist() == ["ua"]
    s = lake.ingest_control([path], source="deepstate", party="ru", replace=True)
    assert not s.skipped
    assert lake.read_control("deepstate")["party"].tolist() == ["ru"]


def test_a_file_that_is_not_utf8_is_refused_before_the_files_before_it_are_written(
        tmp_path, two_files) -> None:
    """The call is one write, but a bad byte deep in the second file used to be met only
    once the first was merged: the write was undone, yet the lake's folder held new
    files and the ledger a recovery. Now the text is checked first: nothing on disk
    changes, and the message names the line."""
    nrt, archive = two_files
    lake = Lake(tmp_path / "lake")
    lake.ingest_firms([nrt])
    bad = tmp_path / "bad" / archive.name
    bad.parent.mkdir()
    lines = archive.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"2025-08-19", b"2025-08-\xff9")
    bad.write_bytes(b"\n".join(lines))
    before = sorted((p.relative_to(lake.root), p.read_bytes())
                    for p in lake.root.rglob("*") if p.is_file())
    with pytest.raises(InputError, match=r"fire_archive_J1V-C2_1.csv: line 3: bytes "
                                         r".*are not UTF-8 text"):
        lake.ingest_firms([_copy_to(tmp_path, nrt), bad])  # a new good file first
    after = sorted((p.relative_to(lake.root), p.read_bytes())
                   for p in lake.root.rglob("*") if p.is_file())
    assert after == before


def _copy_to(tmp_path: Path, src: Path) -> Path:
    """A new file of the same rows under another name (so it is not already ingested)."""
    out = tmp_path / "good" / src.name.replace("2025230", "2025231")
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(src.read_bytes().replace(b"2025-09-01", b"2025-09-03"))
    return out
