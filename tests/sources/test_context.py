"""The context tables (land use, population, weather by oblast) as the validation reads
them: each point gets its own 0.1° cell's values, never a neighbour's, and a file
without the columns it needs is refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from truceline.errors import InputError
from truceline.sources.context import LAND_USE, grid_values, read_weather


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "context" / "land_use").mkdir(parents=True)
    (tmp_path / "context" / "weather").mkdir()
    pd.DataFrame({"LONGITUDE": [30.0, 30.1], "LATITUDE": [48.0, 48.0],
                  "LAND_USE_CLASS_3": [0.9, 0.1], "LAND_USE_CLASS_4": [0.0, 0.6]}
                 ).to_csv(tmp_path / "context" / LAND_USE, index=False)
    pd.DataFrame({"OBLAST_ID": ["UA12", "UA12"], "ACQ_DATE": ["2022-03-01", "2022-03-02"],
                  "TEMPERATURE_2M_MAX (°C)": [2.5, 7.0], "RAIN_SUM (MM)": [0.0, 6.2],
                  "SNOWFALL_SUM (CM)": [1.0, 0.0], "CLOUD_COVER (%)": [90.0, None]}
                 ).to_csv(tmp_path / "context" / "weather" / "ukr_weather_data_2022.csv",
                          index=False)
    return tmp_path


def test_each_point_reads_its_own_cell_and_nothing_off_the_grid(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    got = grid_values(root, LAND_USE, ["LAND_USE_CLASS_3", "LAND_USE_CLASS_4"],
                      lon=np.array([30.03, 30.12, 35.0, np.nan]),
                      lat=np.array([47.98, 48.04, 48.0, 48.0]))
    assert got["LAND_USE_CLASS_4"].tolist()[:2] == [0.0, 0.6]
    assert got["LAND_USE_CLASS_3"].tolist()[:2] == [0.9, 0.1]
    assert got.iloc[2:].isna().all().all()  # off the grid, and no position: unknown


def test_a_table_without_a_needed_column_is_refused_by_name(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    with pytest.raises(InputError, match=r"ukr_land_use_2022_10km\.csv.*POP_DENSITY"):
        grid_values(root, LAND_USE, ["POP_DENSITY"], np.array([30.0]), np.array([48.0]))
    w = root / "context" / "weather" / "ukr_weather_data_2022.csv"
    pd.read_csv(w).drop(columns="RAIN_SUM (MM)").to_csv(w, index=False)
    with pytest.raises(InputError, match=r"ukr_weather_data_2022\.csv.*RAIN_SUM"):
        read_weather(root, [2022])


def test_weather_by_oblast_and_day_with_gaps_kept_as_unknown(tmp_path: Path) -> None:
    wx = read_weather(_folder(tmp_path), [2021, 2022])  # 2021 has no file: no rows
    assert wx["date"].dt.strftime("%Y-%m-%d").tolist() == ["2022-03-01", "2022-03-02"]
    assert wx["rain_mm"].tolist() == [0.0, 6.2] and wx["tmax_c"].tolist() == [2.5, 7.0]
    assert wx["snow_cm"].tolist() == [1.0, 0.0]
    assert wx["cloud_pct"].iloc[0] == 90.0 and np.isnan(wx["cloud_pct"].iloc[1])


def test_a_weather_day_that_does_not_parse_is_refused_with_its_line(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    w = root / "context" / "weather" / "ukr_weather_data_2022.csv"
    t = pd.read_csv(w)
    t.loc[1, "ACQ_DATE"] = "02/03/2022"
    t.to_csv(w, index=False)
    with pytest.raises(InputError, match=r"ukr_weather_data_2022\.csv, line 3, column "
                       r"ACQ_DATE.*'02/03/2022'"):
        read_weather(root, [2022])


def test_the_cloud_reader_is_the_same_reader_and_refuses_the_same_way(tmp_path: Path
                                                                      ) -> None:
    """The coverage's cloud comes through the one weather reader: same values, and a
    bad day is refused with its line there too (it used to pass to pandas' own error)."""
    from truceline.analysis.coverage import read_cloud_cover

    root = _folder(tmp_path)
    got = read_cloud_cover(root, "2022-03-01", "2022-03-02").table
    assert got["cloud_pct"].iloc[0] == 90.0 and np.isnan(got["cloud_pct"].iloc[1])
    w = root / "context" / "weather" / "ukr_weather_data_2022.csv"
    t = pd.read_csv(w).drop(columns=["RAIN_SUM (MM)"])  # the cloud reader does not need it
    t.loc[0, "ACQ_DATE"] = "2022-13-01"
    t.to_csv(w, index=False)
    with pytest.raises(InputError, match=r"line 2, column ACQ_DATE.*'2022-13-01'"):
        read_cloud_cover(root, "2022-03-01", "2022-03-02")
