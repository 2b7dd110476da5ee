"""The context gates of `truceline validate detection --context` on synthetic data with
a known answer: each detection gets its oblast's weather of its day and its own cell's
land use and people, and a gate calls a whole cell-day of the band's fire or none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from truceline.validation.context_gates import (
    GATES,
    _gated_cell_days,
    burnt_ground,
    context_features,
    on_new_ground,
)


def _data(tmp_path: Path) -> Path:
    c = tmp_path / "context"
    for d in ("oblasts", "land_use", "pop_density", "weather"):
        (c / d).mkdir(parents=True)
    lon = [30.0, 30.1, 30.2]
    pd.DataFrame({"LATITUDE": 48.0, "LONGITUDE": lon, "OBLAST_ID": ["UA12", "UA12", "UA23"]}
                 ).to_csv(c / "oblasts" / "ukr_oblasts_10km.csv", index=False)
    pd.DataFrame({"LONGITUDE": lon, "LATITUDE": 48.0, "LAND_USE_CLASS_3": [0.9, 0.2, 0.5],
                  "LAND_USE_CLASS_4": [0.0, 0.5, 0.1]}
                 ).to_csv(c / "land_use" / "ukr_land_use_2022_10km.csv", index=False)
    pd.DataFrame({"LATITUDE": 48.0, "LONGITUDE": lon, "POP_DENSITY": [20.0, 900.0, 150.0]}
                 ).to_csv(c / "pop_density" / "ukr_pop_density_2020_10km.csv", index=False)
    pd.DataFrame({"OBLAST_ID": ["UA12", "UA23"], "ACQ_DATE": "2022-11-05",
                  "TEMPERATURE_2M_MAX (°C)": [3.0, 9.0], "RAIN_SUM (MM)": [6.0, 0.0],
                  "SNOWFALL_SUM (CM)": [0.0, 0.0], "CLOUD_COVER (%)": [85.0, 10.0]}
                 ).to_csv(c / "weather" / "ukr_weather_data_2022.csv", index=False)
    return tmp_path


def test_each_detection_gets_its_oblast_s_weather_and_its_cell_s_ground(tmp_path: Path
                                                                         ) -> None:
    det = pd.DataFrame({"lon": [30.01, 30.11, 30.19, 30.2], "lat": 48.0,
                        "acq_date": ["2022-11-05", "2022-11-05", "2022-11-05",
                                     "2022-11-06"]}, index=[7, 8, 9, 10])
    f = context_features(det, _data(tmp_path))
    assert f.index.tolist() == [7, 8, 9, 10]
    assert f["oblast_id"].tolist() == ["UA12", "UA12", "UA23", "UA23"]
    assert f["rain_mm"].tolist()[:3] == [6.0, 6.0, 0.0] and np.isnan(f["rain_mm"].iat[3])
    assert f["pop_km2"].tolist() == [20.0, 900.0, 150.0, 150.0]
    assert f["built"].tolist() == [0.0, 0.5, 0.1, 0.1]
    assert GATES["wet"].test(f).tolist() == [True, True, False, False]  # no row: never
    assert GATES["cold"].test(f).tolist() == [True, True, False, False]
    assert GATES["pop300"].test(f).tolist() == [False, True, False, False]
    assert GATES["cold-season+pop100"].test(f).tolist() == [False, True, True, True]
    assert GATES["few-crops"].test(f).tolist() == [False, True, False, False]


def test_a_gate_calls_a_whole_cell_day_of_the_band_s_fire_or_none() -> None:
    det = pd.DataFrame({"sensor": "VIIRS", "cell": ["a", "a", "a", "b", "a"],
                        "acq_date": ["2022-11-05", "2022-11-05", "2022-11-05",
                                     "2022-11-05", "2022-11-06"]})
    band = np.array([True, True, False, True, True])  # row 2: not the band's fire
    hit = np.array([False, True, False, False])  # per band row: one of cell a's day 1
    assert _gated_cell_days(det, band, hit).tolist() == [True, True, False, False, False]


def test_new_ground_is_judged_against_its_own_sensor_and_only_the_years_given() -> None:
    """A field that burnt in a peace year is old ground for that sensor only; fire of a
    war year never makes ground old; the coarser the cell, the more a pixel's jitter
    is forgiven."""
    hist = pd.DataFrame({"lon": [30.5000, 30.5000, 31.5000], "lat": [50.45, 50.45, 49.0],
                         "sensor": ["VIIRS", "MODIS", "VIIRS"],
                         "acq_date": pd.to_datetime(["2019-08-01", "2013-08-01",
                                                     "2022-08-01"])})
    burnt = burnt_ground(hist, {"VIIRS": (2019,), "MODIS": (2012,)})
    det = pd.DataFrame({"lon": [30.5000, 30.5000, 31.5000, 30.5060],
                        "lat": [50.45, 50.45, 49.0, 50.45],
                        "sensor": ["VIIRS", "MODIS", "VIIRS", "VIIRS"]})
    # VIIRS on the 2019 field: old; MODIS there: its 2013 fire is not among its years;
    # the 2022 fire (not a peace year given) leaves its ground new
    assert on_new_ground(det, burnt, 9).tolist()[:3] == [False, True, True]
    # ~430 m east of the 2019 fire: a new 0.1 km² cell, but the same 5 km² cell
    assert on_new_ground(det, burnt, 9)[3] and not on_new_ground(det, burnt, 7)[3]
    assert on_new_ground(det, {}, 8).all()  # no history: everything is new
