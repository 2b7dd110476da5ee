"""Events files for recall and lift: every bad value is named by line and column."""

from __future__ import annotations

import pandas as pd
import pytest

from truceline.errors import InputError
from truceline.sources.events import read_events

GOOD = "event_id,date,date_end,lat,lon,place\na,2022-03-01,2022-03-03,47.1,37.55,Mariupol\n" \
       "b,2022-03-02,,48.0,37.8,Donetsk\n"


def _write(tmp_path, text: str):
    p = tmp_path / "events.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_days_and_coordinates_keeping_other_columns(tmp_path) -> None:
    ev = read_events(_write(tmp_path, GOOD))
    assert ev["date"].tolist() == [pd.Timestamp("2022-03-01"), pd.Timestamp("2022-03-02")]
    # an empty date_end is a one-day event
    assert ev["date_end"].tolist() == [pd.Timestamp("2022-03-03"), pd.Timestamp("2022-03-02")]
    assert ev["lat"].dtype == float and ev["place"].tolist() == ["Mariupol", "Donetsk"]


@pytest.mark.parametrize(("text", "match"), [
    ("date,lat,lon\n2022-03-01,47,37\n", r"missing column\(s\) \['date_end'\]"),
    (GOOD.replace("2022-03-02,,", "2022-13-02,,"), r"line 3, column 'date': '2022-13-02'"),
    (GOOD.replace("47.1", "north"), r"line 2, column 'lat': 'north' is not a number"),
    (GOOD.replace("37.8", "237.8"), r"line 3, column 'lon': '237.8'"),
    (GOOD.replace("2022-03-03", "2022-02-01"), r"line 2, column 'date_end'.*on or after"),
    ("date,date_end,lat,lon\n", "no events under the header"),
])
def test_bad_values_name_line_and_column(tmp_path, text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        read_events(_write(tmp_path, text))


def test_missing_file(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_events(tmp_path / "nope.csv")


def test_the_shared_ucdp_file_reads(data_dir) -> None:
    ev = read_events(data_dir / "events" / "ucdp_ukraine_2022_2023.csv")
    assert len(ev) == 1085
    assert ev["date"].min() == pd.Timestamp("2022-02-24")
