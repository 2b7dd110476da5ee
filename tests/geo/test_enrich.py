"""enrich(): the facts of issue 3 §4 on real snapshots, known answers, flags, bad input."""

from __future__ import annotations

import importlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely import box

from truceline.errors import InputError
from truceline.geo import outlines

# the module, not the function `truceline.geo.enrich` that the package re-exports
en = importlib.import_module("truceline.geo.enrich")

GEOD = pyproj.Geod(ellps="WGS84")
DAY = pd.Timestamp("2025-08-16")


def _det(points: dict[str, tuple[float, float]], day: pd.Timestamp = DAY) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": list(points),
            "lon": [p[0] for p in points.values()],
            "lat": [p[1] for p in points.values()],
            "acq_date": day,
        }
    )


def _random_det(seed: int, n: int, lon: tuple[float, float], lat: tuple[float, float],
                start: pd.Timestamp = DAY, days: tuple[int, int] | None = None) -> pd.DataFrame:
    """``n`` detections uniform in a lon/lat box, on ``start`` or a day drawn in ``days``."""
    rng = np.random.default_rng(seed)
    det = pd.DataFrame({"lon": rng.uniform(*lon, n), "lat": rng.uniform(*lat, n),
                        "acq_date": start})  # fmt: skip
    if days is not None:
        det["acq_date"] = start + pd.to_timedelta(rng.integers(*days, n), unit="D")
    return det


def _snap(geom, sid: str = "syn", day: str = "2025-08-01", crimea_missing: bool = False):
    return gpd.GeoDataFrame(
        [{"snapshot_id": sid, "source": "test", "valid_from": pd.Timestamp(day), "party": "ru",
          "geometry": geom, "crimea_missing": crimea_missing}],
        geometry="geometry", crs="EPSG:4326",
    )  # fmt: skip


# --------------------------------------------------------------------------- real facts

FACTS = {
    # name: (lon, lat, side, check on signed distance km)
    "Donetsk": (37.80, 48.00, "ru", lambda d: d < 0),
    "Simferopol": (34.10, 44.95, "ru", lambda d: d < -100),
    "Kyiv": (30.52, 50.45, "ua", lambda d: d > 150),
    "Pokrovsk": (37.18, 48.28, "ua", lambda d: abs(d) < 15),
    "Sea of Azov": (36.50, 46.30, "sea", lambda d: True),
    "Minsk": (27.56, 53.90, "third", lambda d: True),
    # Belgorod oblast, ~5 km from the border north of Kharkiv, which faces free ground
    "Belgorod oblast by the border": (36.00, 50.47, "ru", lambda d: -10 < d < 0),
    # Luhansk oblast on the Russian border near Izvaryne: inside held ground
    "Luhansk oblast, Izvaryne": (39.83, 48.15, "ru", lambda d: d < -100),
    "Luhansk oblast, Milove": (40.05, 49.40, "ru", lambda d: d < -100),
    # added: the Dnipro front at Kherson, Zaporizhzhia city, Sevastopol, Chisinau,
    # the Black Sea off Odesa, Kharkiv (30 km from the Belgorod border)
    "Kherson": (32.60, 46.655, "ua", lambda d: 0 < d < 8),
    # Kherson's centre and Ochakiv: Natural Earth's coast puts them just offshore; they
    # join the nearest land, and face held ground across the Dnipro / the Kinburn strait
    "Kherson centre": (32.617, 46.636, "ua", lambda d: 0 < d < 5),
    "Ochakiv": (31.54, 46.61, "ua", lambda d: 0 < d < 5),
    "Odesa, 1 km offshore": (30.775, 46.47, "ua", lambda d: 30 < d < 80),
    "Mykolaiv": (31.99, 46.97, "ua", lambda d: 15 < d < 60),
    "Zaporizhzhia": (35.14, 47.84, "ua", lambda d: 15 < d < 60),
    "Sevastopol": (33.52, 44.60, "ru", lambda d: d < -150),
    "Chisinau": (28.86, 47.01, "third", lambda d: d > 150),
    "Black Sea": (31.00, 45.50, "sea", lambda d: d > 60),
    "Kharkiv": (36.25, 50.00, "ua", lambda d: 15 < d < 60),
}


@pytest.fixture(scope="module")
def facts2025(ds2025: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pts = {k: (v[0], v[1]) for k, v in FACTS.items()}
    return en.enrich(_det(pts), ds2025).set_index("name")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FACTS))
def test_fact_deepstate_2025(facts2025: gpd.GeoDataFrame, name: str) -> None:
    _, _, side, check = FACTS[name]
    row = facts2025.loc[name]
    assert row.side == side, (name, row.side, row.distance_km)
    assert check(row.distance_km), (name, row.distance_km)
    assert row.flag == "ok"


@pytest.mark.slow
def test_fact_regions_and_places(facts2025: gpd.GeoDataFrame) -> None:
    assert facts2025.loc["Donetsk", "region"] == "Donetsk Oblast"
    assert facts2025.loc["Donetsk", "place"] == "Donetsk"
    assert facts2025.loc["Kyiv", "place"] == "Kyiv"
    assert facts2025.loc["Belgorod oblast by the border", "region"] == "Belgorod Oblast"
    assert facts2025.loc["Simferopol", "region"] == "Crimea"
    assert facts2025.loc["Luhansk oblast, Izvaryne", "region"] == "Luhansk Oblast"
    assert facts2025.loc["Pokrovsk", "sector"] == "Pokrovsk"
    assert facts2025.loc["Kyiv", "band"] == ">150"
    assert facts2025.loc["Pokrovsk", "band"] in ("0-5", "5-15")


@pytest.mark.slow
def test_liveuamap_crimea_is_added(frontlines) -> None:
    snap = frontlines.liveuamap("2023-01-05")
    out = en.enrich(_det({"Simferopol": (34.10, 44.95), "Bakhmut": (38.00, 48.595)},
                         pd.Timestamp("2023-01-06")), snap).set_index("name")  # fmt: skip
    assert out.loc["Simferopol", "side"] == "ru"
    assert out.loc["Simferopol", "distance_km"] < -100
    assert out.loc["Bakhmut", "side"] == "ua"
    assert out.loc["Bakhmut", "distance_km"] < 10


@pytest.mark.slow
def test_surrounded_ground_warns(frontlines) -> None:
    snap = frontlines.liveuamap("2025-08-15")
    en.clear_cache()
    with pytest.warns(UserWarning, match="leaves 16,[0-9]{3} km² of Ukrainian-held ground"):
        en.enrich(_det({"Kyiv": (30.52, 50.45)}, pd.Timestamp("2025-08-16")), snap)


@pytest.mark.slow
def test_liveuamap_kherson_before_and_after_liberation(frontlines) -> None:
    before = frontlines.liveuamap("2022-11-03")
    after = frontlines.liveuamap("2022-11-17")
    snaps = pd.concat([before, after], ignore_index=True)
    det = pd.concat([_det({"Kherson": (32.60, 46.655)}, pd.Timestamp("2022-11-05")),
                     _det({"Kherson": (32.60, 46.655)}, pd.Timestamp("2022-11-20"))])  # fmt: skip
    out = en.enrich(det, snaps)
    assert list(out.side) == ["ru", "ua"]
    assert list(out.staleness_days) == [
        (pd.Timestamp("2022-11-05") - before.valid_from.iat[0]).days,
        (pd.Timestamp("2022-11-20") - after.valid_from.iat[0]).days,
    ]


@pytest.mark.slow
def test_distance_within_one_percent_of_geodesic(ds2025: gpd.GeoDataFrame) -> None:
    n = 3000
    det = _random_det(7, n, (22.5, 40.0), (44.5, 52.3))
    out = en.enrich(det, ds2025)
    row = ds2025.iloc[0]
    line = en.prepare_snapshot(row.snapshot_id, row.geometry).contact.line
    pts = shapely.points(np.column_stack(outlines._TO_M.transform(det.lon, det.lat)))
    near = shapely.get_coordinates(shapely.shortest_line(pts, line))[1::2]
    lon2, lat2 = outlines._TO_LL.transform(near[:, 0], near[:, 1])
    geo_km = GEOD.inv(det.lon.to_numpy(), det.lat.to_numpy(), lon2, lat2)[2] / 1000
    ok = geo_km > 1.0  # relative error is meaningless at a few metres
    rel = np.abs(np.abs(out.distance_km.to_numpy()) - geo_km)[ok] / geo_km[ok]
    assert np.max(rel) < 0.01
    assert np.median(rel) < 0.003


@pytest.mark.slow
def test_near_line_distance_is_exact(ds2025: gpd.GeoDataFrame) -> None:
    row = ds2025.iloc[0]
    prep = en.prepare_snapshot(row.snapshot_id, row.geometry)
    rng = np.random.default_rng(3)
    xy = prep.seg_a[rng.integers(0, len(prep.seg_a), 5000)] + rng.normal(0, 3000, (5000, 2))
    _, d, _ = en.signed_distance_km(prep, xy[:, 0], xy[:, 1])
    exact = shapely.distance(prep.contact.line, shapely.points(xy)) / 1000
    err = np.abs(d) - exact
    assert np.all(err >= -1e-9)  # never shorter than the truth
    assert np.max(err) <= en.SEGMENT_M / 2 / 1000  # never more than half a segment long
    assert np.mean(err < 1e-6) > 0.99  # and exact almost always
    assert np.max(err[exact > 1] / exact[exact > 1]) < 0.01


# --------------------------------------------------------------------------- known answers

SQUARE = box(33.0, 49.4, 33.2, 49.6)  # Poltava oblast, far from borders and coasts


def test_known_distances_from_a_square() -> None:
    lon, lat, _ = GEOD.fwd(33.2, 49.5, 90, 10_000)  # 10 km (geodesic) east of its edge
    det = _det({"east": (lon, lat), "centre": (33.1, 49.5)})
    out = en.enrich(det, _snap(SQUARE)).set_index("name")
    assert out.loc["east", "side"] == "ua"
    assert out.loc["east", "distance_km"] == pytest.approx(10.0, rel=0.01)
    assert out.loc["east", "band"] == "5-15"
    half_width = GEOD.inv(33.0, 49.5, 33.1, 49.5)[2] / 1000
    assert out.loc["centre", "side"] == "ru"
    assert out.loc["centre", "distance_km"] == pytest.approx(-half_width, rel=0.01)


def test_snapshot_in_force_staleness_and_flags() -> None:
    s1 = _snap(SQUARE, "s1", "2025-08-01")
    s2 = _snap(box(33.0, 49.4, 33.3, 49.6), "s2", "2025-08-10")
    det = pd.DataFrame({
        "lon": [33.25, 33.25, 33.25, 33.25, 2.35],
        "lat": [49.5, 49.5, 49.5, 49.5, 48.85],
        "acq_date": pd.to_datetime(["2025-07-31", "2025-08-05", "2025-08-10", "2025-09-30",
                                    "2025-08-05"]),
    })  # fmt: skip
    out = en.enrich(det, pd.concat([s2, s1], ignore_index=True))
    assert list(out.snapshot_id.astype(object)) == [np.nan, "s1", "s2", "s2", "s1"]
    assert list(out.side.astype(object)) == [np.nan, "ua", "ru", "ru", np.nan]
    assert list(out.flag) == ["before_first_snapshot", "ok", "ok", "stale", "outside_theatre"]
    assert out.staleness_days.iloc[1] == 4 and out.staleness_days.iloc[3] == 51
    assert pd.isna(out.staleness_days.iloc[0])
    assert out.place.iloc[0] is not np.nan  # places need no snapshot
    assert np.isnan(out.distance_km.iloc[4]) and out.h3.iloc[4] > 0


def test_user_sectors() -> None:
    sectors = gpd.GeoDataFrame(
        {"name": ["north", "south"]},
        geometry=[shapely.LineString([(33.0, 49.6), (33.2, 49.6)]),
                  shapely.LineString([(33.0, 49.4), (33.2, 49.4)])],
        crs="EPSG:4326",
    )  # fmt: skip
    det = _det({"n": (33.1, 49.65), "s": (33.1, 49.35)})
    out = en.enrich(det, _snap(SQUARE), sectors=sectors)
    assert list(out.sector) == ["north", "south"]


def test_bad_sectors() -> None:
    bad = gpd.GeoDataFrame({"label": ["x"]}, geometry=[shapely.Point(33, 49)], crs=4326)
    with pytest.raises(InputError, match="sectors lack a 'name' column"):
        en.enrich(_det({"a": (33.5, 49.5)}), _snap(SQUARE), sectors=bad)


def test_output_keeps_rows_index_and_columns() -> None:
    det = _det({"a": (33.5, 49.5), "b": (33.1, 49.5)})
    det.index = [10, 20]
    det["frp"] = [1.0, 2.0]
    out = en.enrich(det, _snap(SQUARE))
    assert list(out.index) == [10, 20] and list(out.frp) == [1.0, 2.0]
    assert out.crs == "EPSG:4326"
    for col in ("snapshot_id", "staleness_days", "side", "distance_km", "band", "h3",
                "region", "sector", "place", "place_km", "flag"):  # fmt: skip
        assert col in out.columns
    assert out.h3.dtype == np.uint64


def test_empty_detections() -> None:
    det = _det({}).astype({"lon": float, "lat": float})
    out = en.enrich(det, _snap(SQUARE))
    assert len(out) == 0 and "side" in out.columns


# --------------------------------------------------------------------------- bad input


def test_snapshot_covering_nothing_of_ukraine_is_an_error() -> None:
    with pytest.raises(InputError, match=r"snapshot\(s\) \['warsaw'\] cover nothing of Ukraine"):
        en.enrich(_det({"a": (33.5, 49.5)}), _snap(box(20.5, 52.0, 21.5, 52.5), "warsaw"))
    # even when no detection falls in its days
    both = pd.concat([_snap(SQUARE, "ok", "2025-08-01"),
                      _snap(box(20.5, 52.0, 21.5, 52.5), "warsaw", "2025-09-01")])  # fmt: skip
    with pytest.raises(InputError, match="warsaw"):
        en.enrich(_det({"a": (33.5, 49.5)}), both)
    # touching Ukraine only along a hair: caught when prepared
    hair = box(24.0, 50.0, 24.00001, 50.00001)
    with pytest.raises(InputError, match="'hair' covers 0.000 km² of Ukraine"):
        en.enrich(_det({"a": (33.5, 49.5)}), _snap(hair, "hair"))


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"lon": [1.0], "lat": [2.0]}), r"lack column\(s\) \['acq_date'\]"),
        (pd.DataFrame({"lon": ["x"], "lat": [2.0], "acq_date": [DAY]}), "'lon' must be numeric"),
    ],
)
def test_bad_detections(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(InputError, match=match):
        en.enrich(frame, _snap(SQUARE))


def test_timezone_aware_dates_are_read_in_utc() -> None:
    det = _det({"a": (33.25, 49.5)})
    det["acq_date"] = pd.to_datetime(["2025-08-05 01:00"]).tz_localize("Europe/Kyiv")
    out = en.enrich(det, _snap(SQUARE, "s1", "2025-08-05"))
    assert out.flag.iloc[0] == "before_first_snapshot"  # 22:00 UTC on 4 August


def test_no_snapshot_gives_place_but_no_side() -> None:
    # no control map in force (e.g. peacetime years): H3, region and place only
    out = en.enrich(_det({"a": (33.5, 49.5)}), _snap(SQUARE).iloc[:0])
    assert out.flag.iloc[0] == "before_first_snapshot"
    assert pd.isna(out.side.iloc[0]) and np.isnan(out.distance_km.iloc[0])
    assert pd.isna(out.sector.iloc[0]) and out.h3.iloc[0] > 0
    assert isinstance(out.place.iloc[0], str)


def test_bad_snapshots() -> None:
    with pytest.raises(InputError, match=r"lack column\(s\) \['valid_from'\]"):
        en.enrich(_det({"a": (33.5, 49.5)}), _snap(SQUARE).drop(columns="valid_from"))
    with pytest.raises(InputError, match="party must be 'ru'"):
        en.enrich(_det({"a": (33.5, 49.5)}), _snap(SQUARE).assign(party="ua"))


@pytest.mark.slow
def test_columns_agree_with_each_other(ds2025: gpd.GeoDataFrame) -> None:
    det = _random_det(11, 20_000, (21.0, 41.0), (43.5, 53.0))
    out = en.enrich(det, ds2025)
    side = out.side.astype(str)
    d = out.distance_km.to_numpy()
    assert (d[side == "ua"] >= 0).all() and (d[side == "ru"] <= 0).all()
    assert (d[(side == "third") | (side == "sea")] >= 0).all()
    edges = np.array([0, *en.BAND_EDGES_KM, np.inf])
    code = out.band.cat.codes.to_numpy()
    assert ((np.abs(d) >= edges[code]) & (np.abs(d) < edges[code + 1])).all()
    assert out.sector.notna().all() and out.place.notna().all() and out.region.notna().all()
    land = (side != "sea").to_numpy()
    assert (out.place_km[land] < 30).mean() > 0.99  # sea points can be far from any place
    assert set(side) == {"ua", "ru", "third", "sea"}


def test_chunks_and_threads_do_not_change_results(
    ds2025: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cutting the work into many small chunks (on several threads) gives the same frame."""
    det = _random_det(12, 6_000, (30.0, 40.0), (45.0, 51.0), days=(-2, 2))
    whole = en.enrich(det, ds2025)
    monkeypatch.setattr(en, "_CHUNK", 97)
    monkeypatch.setattr(en, "_GIL_CHUNK", 101)
    chunked = en.enrich(det, ds2025)
    pd.testing.assert_frame_equal(
        pd.DataFrame(whole.drop(columns="geometry")), pd.DataFrame(chunked.drop(columns="geometry"))
    )
    assert whole.geometry.geom_equals_exact(chunked.geometry, 0).all()


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collector_is_left_as_it_was(enabled: bool) -> None:
    """enrich pauses the collector while it builds geometries; the caller's setting survives,
    including when enrich fails."""
    import gc

    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        en.enrich(_det({"a": (33.5, 49.5)}), _snap(SQUARE))
        assert gc.isenabled() is enabled
        with pytest.raises(InputError):
            en.enrich(_det({"a": (33.5, 49.5)}).drop(columns="lat"), _snap(SQUARE))
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_repeated_index_labels_keep_every_row_in_place() -> None:
    """The caller's columns are carried as Series: rows must not be realigned by label."""
    det = _det({"a": (33.5, 49.5), "b": (33.1, 49.5), "c": (33.2, 49.4)})
    det.index = [7, 7, 3]
    det["frp"] = [1.0, 2.0, 3.0]
    out = en.enrich(det, _snap(SQUARE))
    assert list(out.index) == [7, 7, 3] and list(out.frp) == [1.0, 2.0, 3.0]
    assert list(out.name) == ["a", "b", "c"]


def test_result_does_not_share_changes_with_the_input() -> None:
    det = _det({"a": (33.5, 49.5), "b": (33.1, 49.5)})
    det["frp"] = [1.0, 2.0]
    out = en.enrich(det, _snap(SQUARE))
    out.loc[out.index[0], "frp"] = 99.0
    out.loc[out.index[0], "lon"] = 0.0
    assert list(det.frp) == [1.0, 2.0] and det.lon.iat[0] == 33.5


def test_maps_prepared_side_by_side_give_what_one_at_a_time_gives(frontlines) -> None:
    """Cold, enrich prepares two maps at a time (no lock): the frame must be the one given
    by maps prepared one after the other beforehand."""
    days = ["20250601", "20250615", "20250701", "20250715", "20250801", "20250815"]
    snaps = gpd.GeoDataFrame(pd.concat([frontlines.deepstate(d) for d in days],
                                       ignore_index=True), crs="EPSG:4326")  # fmt: skip
    det = _random_det(13, 30_000, (30.0, 40.0), (45.0, 52.0), pd.Timestamp("2025-06-01"),
                      days=(0, 90))
    en.clear_cache()
    side_by_side = pd.DataFrame(en.enrich(det, snaps).drop(columns="geometry"))
    en.clear_cache()
    for row in snaps.itertuples():  # six maps, one at a time
        en.prepare_snapshot(row.snapshot_id, row.geometry)
    one_at_a_time = pd.DataFrame(en.enrich(det, snaps).drop(columns="geometry"))
    pd.testing.assert_frame_equal(side_by_side, one_at_a_time)
    assert side_by_side.snapshot_id.nunique() == len(days)


def test_two_callers_at_once_get_what_each_gets_alone(ds2025: gpd.GeoDataFrame) -> None:
    """A service may enrich two requests at the same time: each frame must be the one a
    call on its own gives (the GEOS lock and the paused collector are shared)."""
    from concurrent.futures import ThreadPoolExecutor

    frames = [_random_det(seed, 20_000, (30.0, 40.0), (45.0, 52.0)) for seed in (14, 15)]
    alone = [pd.DataFrame(en.enrich(f, ds2025).drop(columns="geometry")) for f in frames]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(lambda f: en.enrich(f, ds2025), frames))
    for a, b in zip(alone, together, strict=True):
        pd.testing.assert_frame_equal(a, pd.DataFrame(b.drop(columns="geometry")))
