"""`import truceline as tl` on a small real lake: GeoDataFrames in EPSG:4326, UTC times,
the same checks and messages as the CLI."""

from __future__ import annotations

import pandas as pd
import pytest

import truceline as tl


def test_read_detections_is_a_geodataframe_in_wgs84_with_utc_times(small_lake):
    det = tl.read_detections(small_lake, "2025-08-21", "2025-08-21")
    assert len(det) > 100
    assert det.crs.to_epsg() == 4326
    assert str(det["t_utc"].dt.tz) == "UTC"
    assert (det.geometry.x == det["lon"]).all() and (det.geometry.y == det["lat"]).all()
    assert set(pd.to_datetime(det["acq_date"]).dt.strftime("%Y-%m-%d")) == {"2025-08-21"}
    assert (det["t_utc"].dt.strftime("%Y-%m-%d") == "2025-08-21").all()


def test_read_detections_checks_dates_first(small_lake):
    with pytest.raises(tl.InputError, match="--from 2025-08-22 is after --to 2025-08-21"):
        tl.read_detections(small_lake, "2025-08-22", "2025-08-21")


def test_a_wrong_lake_or_sensor_is_an_error_not_an_empty_frame(small_lake, tmp_path):
    """A mistyped path or sensor name must not read as a lake or a sensor without fire."""
    with pytest.raises(tl.InputError, match="the folder does not exist"):
        tl.read_detections(tmp_path / "nolake", "2025-08-21", "2025-08-21")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "fires.csv").write_text("x\n")
    with pytest.raises(tl.InputError, match="the folder holds files but no lake.json"):
        tl.read_detections(tmp_path / "data", "2025-08-21", "2025-08-21")
    with pytest.raises(tl.InputError, match="expected a Lake or a folder path, not int"):
        tl.read_detections(123, "2025-08-21", "2025-08-21")
    with pytest.raises(tl.InputError, match="expected a list of sensor names"):
        tl.read_detections(small_lake, "2025-08-21", "2025-08-21", sensors="VIIRS")
    with pytest.raises(tl.InputError, match=r"sensors \['N20'\]: expected names among"):
        tl.read_detections(small_lake, "2025-08-21", "2025-08-21", sensors=["N20"])
    # any case, as the CLI takes it
    assert len(tl.read_detections(small_lake, "2025-08-21", "2025-08-21",
                                  sensors=["viirs"])) > 100


def test_enrich_gives_points_with_side_and_distance(small_lake):
    e = tl.enrich(small_lake, "2025-08-21", "2025-08-21", control_source="deepstate")
    assert e.crs.to_epsg() == 4326 and str(e["t_utc"].dt.tz) == "UTC"
    near = e[e["distance_km"].abs() < 5]
    assert len(near) > 10 and set(near["side"].astype(str)) <= {"ua", "ru"}


def test_sectors_and_line_of_the_day(small_lake):
    s = tl.sectors(small_lake, "2025-08-21")
    assert {"Pokrovsk", "Kherson"} <= set(s["name"])
    assert (s["line_km"] > 0).all()
    line = tl.line_of_contact(small_lake, "2025-08-21")
    assert line.crs.to_epsg() == 4326 and line["length_km"].iat[0] > 1000
    assert s["line_km"].sum() <= line["length_km"].iat[0] + 1


def test_an_unknown_sector_fails_before_any_detection(small_lake):
    with pytest.raises(tl.InputError, match=r"--sector 'Pokrovks'.*closest: Pokrovsk"):
        tl.timeline(small_lake, "2025-08-20", "2025-08-22", sector="Pokrovks")
    assert tl.check_sector(small_lake, "pokrovsk", "2025-08-20", "2025-08-22") == "Pokrovsk"


def test_progress_is_reported_to_the_end(small_lake):
    seen: list[tuple[str, int, int]] = []
    tl.enrich(small_lake, "2025-08-20", "2025-08-22", progress=lambda *a: seen.append(a))
    assert seen and seen[-1][1] == seen[-1][2] and {s[0] for s in seen} == {"enrich"}
    done = [d for _, d, _ in seen]
    assert done == sorted(done)


def test_progress_bars_draw_on_a_terminal_only():
    import io

    from rich.console import Console

    for terminal in (True, False):
        buf = io.StringIO()
        console = Console(file=buf, force_terminal=terminal, force_jupyter=False, width=80)
        with tl.progress_bars(console) as progress:
            progress("enrich", 3, 7)
        assert ("enrich" in buf.getvalue()) is terminal
    buf = io.StringIO()
    with tl.progress_bars(Console(file=buf, force_terminal=True), enabled=False) as progress:
        progress("enrich", 3, 7)
    assert buf.getvalue() == ""


def test_empty_incidents_are_still_a_utc_geodataframe():
    from truceline.api import as_geoframe

    g = as_geoframe(pd.DataFrame(columns=["incident_id", "t_start", "t_end", "lon", "lat"]))
    assert g.crs.to_epsg() == 4326 and len(g) == 0
    assert str(g["t_start"].dt.tz) == "UTC"
