"""Fire on a moving front (rule ``seasonal+moved``, ``moved_ground``, issue 10; the
default until session 14): ground that changed hands within two weeks either side of a
fire, from maps (geo.moved), and the rule's logic on synthetic cell-days. The default
calls none of it war for the maps' motion alone."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import box
from synth import ORIGIN, frame, history
from test_neighbours import FAR, NEXT, at, call, cell_days

from truceline.analysis.anomaly import TESTS, _score_sensor
from truceline.analysis.baseline import build_climatology
from truceline.geo.moved import MOVED_DAYS, changed_hands, maps_reach

YEARS = tuple(range(2001, 2011))


def test_improbable_seasonal_fire_on_ground_that_changed_hands_is_war() -> None:
    cd = cell_days(dict(cell=NEXT, date="2022-09-10", moved=True),
                   dict(cell=FAR, date="2022-09-10", moved=False),
                   dict(cell=NEXT, date="2022-09-11", moved=True, p_natural=0.3),
                   dict(cell=FAR, date="2022-09-11", moved=True, n_det=0, n_site=4,
                        p_natural=1.0, hot_spot=True))
    cd["moved"] = cd["moved"].fillna(False).astype(bool)
    assert at(call(cd, "seasonal-static"), NEXT, "2022-09-10") == (False, "season")
    assert at(call(cd, "seasonal"), NEXT, "2022-09-10") == (False, "season")  # default
    out = call(cd, "seasonal+moved")
    assert at(out, NEXT, "2022-09-10") == (True, "moved") and "moved" in TESTS
    assert at(out, FAR, "2022-09-10") == (False, "season")  # the ground stayed put
    assert at(out, NEXT, "2022-09-11") == (False, "p_natural")  # fire not improbable
    assert not at(out, FAR, "2022-09-11")[0]  # a works' usual pixels: nothing off-site
    assert at(out, ORIGIN, "2022-08-10") == (True, "excess")  # war calls unchanged


def test_without_a_moved_column_the_rule_is_the_static_one() -> None:
    cd = cell_days(dict(cell=NEXT, date="2022-09-10"))
    assert call(cd, "seasonal+moved").equals(call(cd, "seasonal-static"))


# Maps of the Kharkiv counteroffensive's shape: Russian-held ground west to 36.0 E on
# 1 September, only east of 37.5 E from 15 September (and again on 1 October).
SNAPS = gpd.GeoDataFrame(
    {"snapshot_id": ["a", "b", "c"],
     "valid_from": pd.to_datetime(["2022-09-01", "2022-09-15", "2022-10-01"])},
    geometry=[box(36.0, 49.0, 38.5, 50.5), box(37.5, 49.0, 38.5, 50.5),
              box(37.5, 49.0, 38.5, 50.5)], crs="EPSG:4326")


def test_changed_hands_compares_the_maps_two_weeks_either_side() -> None:
    det = pd.DataFrame({"lon": [37.0, 37.0, 38.0, 37.0, 37.0],
                        "lat": [49.7, 49.7, 49.7, 49.7, 49.7],
                        "acq_date": pd.to_datetime(["2022-09-15", "2022-09-20",
                                                    "2022-09-15", "2022-08-20",
                                                    "2022-10-20"])})
    got = changed_hands(det, SNAPS, days=MOVED_DAYS)
    # retaken (maps a before, b and c after); Russian-held throughout; no map 14 days
    # before; 14 days after, the newest map is 33 days old: the maps do not reach it yet
    assert got.tolist() == [True, True, False, False, False]
    assert changed_hands(det.iloc[:0], SNAPS).shape == (0,)
    undated = det.assign(acq_date=pd.Series(pd.NaT, index=det.index, dtype="datetime64[ns]"))
    assert not changed_hands(undated, SNAPS).any()
    # a line that does not move (the same map every ten days) never gives `moved`
    still = SNAPS.iloc[[0, 0, 0]].assign(
        valid_from=pd.to_datetime(["2022-09-01", "2022-09-11", "2022-09-21"]))
    assert not changed_hands(det, still).any()
    # where changed_hands says False because the maps do not reach two weeks either
    # side, that is "not seen to move", and maps_reach says so (`held` waits for them);
    # 20 September: the newest map (1 October) is older than 14 days after it, so later
    # maps may still show more ground changing hands
    assert maps_reach(det, SNAPS).tolist() == [True, False, True, False, False]
    # a month without a map: the map in force 14 days after 15 September is 28 days old,
    # so whether the line moved by then is not known, though later maps exist
    sparse = SNAPS.iloc[[0, 2]].assign(valid_from=pd.to_datetime(["2022-09-01",
                                                                  "2022-10-14"]))
    assert maps_reach(det.iloc[[0]], sparse).tolist() == [False]
    assert not maps_reach(undated, SNAPS).any() and not maps_reach(det, SNAPS.iloc[:0]).any()


def test_scores_carry_moved_per_cell_day() -> None:
    """A cell-day is on moved ground when any of its detections is."""
    clim = build_climatology(history(), "VIIRS", years=YEARS, exclusions=())
    det = frame([(ORIGIN, "2012-09-16", 2), (FAR, "2012-09-16", 1)])
    det["moved"] = [False, True, False]
    cd = _score_sensor(det, clim).set_index("cell")
    assert bool(cd.loc[ORIGIN, "moved"]) and not bool(cd.loc[FAR, "moved"])
    assert not _score_sensor(det.drop(columns="moved"), clim)["moved"].any()
