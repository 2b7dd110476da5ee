"""Known-answer tests for the spatial follow-on (``neighbour_rings``/``neighbour_days``)
on synthetic cell-days: scores set by hand, so only the rule's logic is tested."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest
from synth import ORIGIN

from truceline.analysis.anomaly import RULES, TESTS, _classify_cell_days, rule_params

NEXT = sorted(h3.grid_ring(ORIGIN, 1))[0]   # ring 1 of ORIGIN
TWO = sorted(h3.grid_ring(ORIGIN, 2))[0]    # ring 2
FAR = sorted(h3.grid_ring(ORIGIN, 4))[0]    # ring 4

# a sustained war cell: improbable, out-of-season fire on 1 and 10 August
WAR = [dict(cell=ORIGIN, date="2022-08-01"), dict(cell=ORIGIN, date="2022-08-10")]


def cell_days(*extra: dict) -> pd.DataFrame:
    """Cell-days as score_cell_days returns them: war fire at ORIGIN, plus ``extra``
    rows (by default improbable fire that fails only the season test)."""
    base = dict(sensor="VIIRS", n_det=2, n_site=0, p_natural=0.001, p_season=0.001,
                p_season_wide=0.001, hot_spot=False, p_site=1.0, blaze=2, line_km=np.nan)
    weak = dict(p_natural=0.01, p_season=0.5, p_season_wide=0.5)
    rows = [{**base, **w} for w in WAR] + [{**base, **weak, **e} for e in extra]
    cd = pd.DataFrame(rows)
    cd["date"] = pd.to_datetime(cd["date"])
    return cd


def call(cd: pd.DataFrame, rule: str, **over: object) -> pd.DataFrame:
    """(war, test) of each cell-day under ``rule``, indexed by cell and date."""
    out = _classify_cell_days(cd, rule_params(rule, **over))
    return out.set_index(["cell", "date"])[["war", "test"]]


def at(out: pd.DataFrame, cell: str, date: str) -> tuple[bool, str]:
    row = out.loc[(cell, pd.Timestamp(date))]
    return bool(row["war"]), str(row["test"])


def test_weak_fire_beside_sustained_war_fire_is_war_with_its_own_label() -> None:
    cd = cell_days(dict(cell=NEXT, date="2022-08-11"))
    assert at(call(cd, "seasonal"), NEXT, "2022-08-11") == (False, "season")
    out = call(cd, "seasonal+neighbours")
    assert at(out, NEXT, "2022-08-11") == (True, "neighbour")
    assert at(out, ORIGIN, "2022-08-10") == (True, "excess")
    assert "neighbour" in TESTS


def test_far_away_or_out_of_the_day_window_is_not() -> None:
    cd = cell_days(dict(cell=FAR, date="2022-08-10"), dict(cell=NEXT, date="2022-08-13"),
                   dict(cell=TWO, date="2022-08-09"))
    out = call(cd, "seasonal+neighbours")  # 1 ring, 1 day
    assert not out["war"].loc[[FAR, NEXT, TWO]].any()
    # 3 days reach 13 August, 2 rings reach TWO; ring 4 stays out of every preset
    assert at(call(cd, "seasonal+neighbours-r1d3"), NEXT, "2022-08-13")[0]
    assert at(call(cd, "seasonal+neighbours-r2d1"), TWO, "2022-08-09")[0]
    assert not call(cd, "seasonal+neighbours-r2d3")["war"].loc[[FAR]].any()


def test_before_the_war_fire_counts_too_and_only_improbable_fire() -> None:
    cd = cell_days(dict(cell=NEXT, date="2022-07-31"),
                   dict(cell=NEXT, date="2022-08-02", p_natural=0.1))
    out = call(cd, "seasonal+neighbours")
    assert at(out, NEXT, "2022-07-31") == (True, "neighbour")
    assert at(out, NEXT, "2022-08-02") == (False, "p_natural")
    # the loose variant asks only p_natural < 0.2 of the weak side
    assert at(call(cd, "seasonal+neighbours-loose"), NEXT, "2022-08-02") == (
        True, "neighbour")


def test_site_pixels_never_spread_nor_receive() -> None:
    # a works' usual pixels beside war fire: no off-site fire, so nothing to call
    cd = cell_days(dict(cell=NEXT, date="2022-08-10", n_det=0, n_site=5, p_natural=1.0,
                        hot_spot=True))
    assert at(call(cd, "seasonal+neighbours-loose"), NEXT, "2022-08-10") == (
        False, "site-normal")
    # a site called war by its own count does not make its neighbours war
    cd = cell_days(dict(cell=NEXT, date="2022-08-10"))
    site = cd["cell"] == ORIGIN
    cd.loc[site, ["n_det", "n_site", "p_natural", "p_site", "hot_spot"]] = [0, 9, 1.0,
                                                                            1e-4, True]
    out = call(cd, "seasonal+site-count", neighbour_rings=2, neighbour_days=3)
    assert at(out, ORIGIN, "2022-08-10") == (True, "site")
    assert at(out, NEXT, "2022-08-10") == (False, "season")


def test_other_sensor_large_blazes_and_blind_cells_are_left_alone() -> None:
    cd = cell_days(dict(cell=NEXT, date="2022-08-10", sensor="MODIS"),
                   dict(cell=TWO, date="2022-08-10", blaze=40, p_season=0.001,
                        p_season_wide=0.001))
    out = call(cd, "seasonal+neighbours-r2d1")
    assert at(out, NEXT, "2022-08-10") == (False, "season")
    assert at(out, TWO, "2022-08-10") == (False, "blaze")  # far from any line
    # a rule blind to hot spot cells stays blind beside war fire
    cd = cell_days(dict(cell=NEXT, date="2022-08-10", hot_spot=True))
    out = call(cd, "seasonal-v1", neighbour_rings=1)
    assert at(out, NEXT, "2022-08-10") == (False, "hot-spot")


def test_the_default_does_not_spread() -> None:
    assert RULES["seasonal"].neighbour_rings == 0
    cd = cell_days(dict(cell=NEXT, date="2022-08-10"))
    assert not call(cd, "seasonal").loc[(NEXT, pd.Timestamp("2022-08-10")), "war"]


@pytest.mark.parametrize("rule", [r for r in RULES if "neighbours" in r])
def test_every_neighbour_preset_keeps_the_war_by_excess(rule: str) -> None:
    cd = cell_days(dict(cell=NEXT, date="2022-08-10"))
    base = call(cd, "seasonal")
    out = call(cd, rule)
    assert (out["war"] >= base["war"]).all()  # only adds
    assert (out["test"][base["war"]] == base["test"][base["war"]]).all()


def test_the_line_variant_reaches_only_fire_near_the_line() -> None:
    cd = cell_days(dict(cell=NEXT, date="2022-08-10", line_km=12.0),
                   dict(cell=NEXT, date="2022-08-11", line_km=80.0),
                   dict(cell=NEXT, date="2022-08-09"))  # no map in force: no distance
    out = call(cd, "seasonal+neighbours-line")
    assert at(out, NEXT, "2022-08-10") == (True, "neighbour")
    assert not at(out, NEXT, "2022-08-11")[0] and not at(out, NEXT, "2022-08-09")[0]
    assert call(cd, "seasonal+neighbours")["war"].all()
