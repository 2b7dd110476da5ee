"""Matching detections to independent war events, and recall split by the events' month,
source and precision (`truceline validate detection`), on synthetic events with known
answers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from truceline.validation.recall import (
    chance_figures,
    chance_reach,
    event_matches,
    placebo_recall,
    recall_by_group,
)

KM_PER_DEG_LAT = 111.2


def _events() -> pd.DataFrame:
    return pd.DataFrame({
        "lon": [36.0, 36.0, 37.0, 38.0],
        "lat": [48.0, 49.0, 48.0, 48.0],
        "date": pd.to_datetime(["2022-03-01", "2022-03-10", "2022-09-05", "2022-09-20"]),
        "date_end": pd.to_datetime(["2022-03-01", "2022-03-12", "2022-09-05",
                                    "2022-09-20"]),
        "source": ["sample", "sample", "candidate", "candidate"],
        "precision": [1, 3, 1, 2],
    })


def _detections() -> pd.DataFrame:
    return pd.DataFrame({
        # 9 km north of event 0, the day after it: a match
        # 11 km north of event 0, the same day: too far
        # at event 1, 2 days after its last day: too late
        # at event 2, the day before it: a match; at event 3, two days before: too early
        "lon": [36.0, 36.0, 36.0, 37.0, 38.0],
        "lat": [48.0 + 9 / KM_PER_DEG_LAT, 48.0 + 11 / KM_PER_DEG_LAT, 49.0, 48.0, 48.0],
        "acq_date": pd.to_datetime(["2022-03-02", "2022-03-01", "2022-03-14", "2022-09-04",
                                    "2022-09-18"]),
    })


def test_a_match_is_within_ten_km_and_a_day_of_the_events_days() -> None:
    ei, di = event_matches(_detections(), _events())
    assert sorted(zip(ei.tolist(), di.tolist(), strict=True)) == [(0, 0), (2, 3)]


def test_recall_split_by_month_source_and_precision_adds_up() -> None:
    ev = _events()
    ei, di = event_matches(_detections(), ev)
    war = np.array([True, False, False, False, False])  # only the first detection is war
    reached = np.zeros(len(ev), dtype=bool)
    reached[ei] = True
    seen = np.zeros(len(ev), dtype=bool)
    seen[ei[war[di]]] = True
    by = recall_by_group(ev, seen, reached)
    assert by["month"] == {
        "2022-03": {"events": 2, "reached": 1, "seen": 1, "recall_over_ceiling": 1.0},
        "2022-09": {"events": 2, "reached": 1, "seen": 0, "recall_over_ceiling": 0.0},
    }
    assert by["source"]["candidate"]["seen"] == 0
    assert by["precision"]["1"] == {"events": 2, "reached": 2, "seen": 1,
                                    "recall_over_ceiling": 0.5}
    # a group no detection reaches has no ratio, not zero
    assert by["precision"]["3"]["recall_over_ceiling"] is None
    # plain numbers, as `--json` writes them
    assert type(by["month"]["2022-03"]["recall_over_ceiling"]) is float
    assert type(by["month"]["2022-03"]["seen"]) is int


def test_an_events_file_without_source_or_precision_splits_by_month_only() -> None:
    ev = _events().drop(columns=["source", "precision"])
    by = recall_by_group(ev, np.zeros(4, dtype=bool), np.ones(4, dtype=bool))
    assert set(by) == {"month"}


def test_each_group_names_what_left_its_missed_events_natural() -> None:
    ev = _events()
    seen = np.array([True, False, False, False])
    reached = np.array([True, False, True, True])
    missed_by = np.array([None, None, "season", "season"], dtype=object)
    by = recall_by_group(ev, seen, reached, missed_by)
    assert by["month"]["2022-09"]["missed_by_test"] == {"season": 2}
    assert "missed_by_test" not in by["month"]["2022-03"]  # nothing missed there
    assert by["precision"]["2"]["missed_by_test"] == {"season": 1}

def test_events_that_all_lie_outside_the_period_are_refused_before_the_work() -> None:
    import pytest

    from truceline.errors import InputError
    from truceline.validation.detection import validate_detection

    ev = _events().assign(date=pd.Timestamp("2024-05-01"), date_end=pd.Timestamp("2024-05-02"))
    with pytest.raises(InputError, match="none of its 4 events lies in the events' period "
                       "2022-02-24..2023-02-28"):
        validate_detection(object(), events=ev)  # refused before the lake is read


def test_a_peace_years_fire_at_the_same_place_and_days_is_the_ceilings_chance_part() -> None:
    """Events 0 and 2 have fire near them in a peace year too (event 0 in two of the
    three years moved back, event 2 in one); event 1 never. The war's detections reach
    events 0 and 2, and the war calls see event 0 only: what a peace year reaches is
    reported over all events, those seen, those missed though reached, those unreached."""
    ev = _events()
    peace = pd.DataFrame({
        "lon": [36.0, 36.0, 37.0, 36.0],
        "lat": [48.0, 48.0, 48.0, 49.0 + 30 / KM_PER_DEG_LAT],  # the last: 30 km off
        "acq_date": pd.to_datetime(["2020-03-01", "2019-03-02", "2018-09-06",
                                    "2020-03-11"]),
    })
    reach = chance_reach(peace, ev)
    assert reach.to_dict("list") == {-2: [True, False, False, False],
                                     -3: [True, False, False, False],
                                     -4: [False, False, True, False]}
    war = _detections().assign(war=[True, False, False, False, False])
    f = chance_figures(war, ev, reach)
    assert f["ceiling_chance"] == round(1 / 4, 3)
    assert f["ceiling_chance_by_years_back"] == {"-2": 0.25, "-3": 0.25, "-4": 0.25}
    assert f["ceiling_chance_seen"] == round(2 / 3, 3)  # event 0
    assert f["ceiling_chance_missed"] == round(1 / 3, 3)  # event 2
    assert f["ceiling_chance_unreached"] == 0.0  # events 1 and 3
    # ceiling 0.5; beyond a quarter reached by chance, were they independent: 1/3
    assert f["ceiling_beyond_chance"] == round((0.5 - 0.25) / 0.75, 3)
    assert f["recall_over_ceiling_beyond_chance"] == round(0.25 / (1 / 3), 3)


def test_the_placebo_recall_is_what_peacetime_calls_on_the_same_line_reach() -> None:
    """Peacetime detections on the events' own line (the moving-line placebo): the events
    moved back 2 and 4 years meet them; recall counts only those called war."""
    ev = _events()
    peace = pd.DataFrame({
        "lon": [36.0, 37.0, 38.0],
        "lat": [48.0, 48.0, 48.0],
        # event 0 two years back (called war), event 2 four years back (not called),
        # event 3 three years back (a shift the placebo does not use)
        "acq_date": pd.to_datetime(["2020-03-01", "2018-09-05", "2019-09-20"]),
        "war": [True, False, True],
    })
    war = _detections().assign(war=[True, False, False, False, True])
    f = placebo_recall(peace, war, ev)
    assert f["placebo_recall_by_years_back"] == {"-2": 0.25, "-4": 0.0}
    assert f["placebo_ceiling_by_years_back"] == {"-2": 0.25, "-4": 0.25}
    assert f["placebo_recall"] == 0.125 and f["placebo_ceiling"] == 0.25
    # events 2 and 3 (37 and 38 E, 48 N) lie in Donetsk oblast: off it, events 0 and 1,
    # event 0 seen in the war and, two years back, in peace
    assert f["events_off_donbas"] == 2
    assert f["recall_off_donbas"] == 0.5
    assert f["placebo_recall_off_donbas"] == round((0.5 + 0) / 2, 4)
