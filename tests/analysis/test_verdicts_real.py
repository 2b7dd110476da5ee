"""`truceline validate verdicts` on a few real windows (the docs' run has hundreds).

War (NOAA-20, August 2025, DeepState lines) and peace (2018-2021 on the 2023 ISW line,
Donetsk and Luhansk oblasts left out, leave-out climatology) through the same functions
as `truceline assess`; the stress tests on the war ground. Skipped without the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from truceline.validation import verdicts as vv

ROOT = vv.data_root()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(ROOT is None, reason="real data not found (FIRMS yearly "
                                 "lists): set TRUCELINE_DATA or place it at ../shared/data")]


@pytest.fixture(scope="module")
def full(history: pd.DataFrame) -> dict:
    """The full VIIRS climatology the war grounds are scored with."""
    from truceline.analysis.baseline import build_climatologies

    return build_climatologies(history[history["sensor"] == "VIIRS"], sensors=("VIIRS",))


@pytest.fixture(scope="module")
def grounds(history: pd.DataFrame, full: dict,
            leave_out_climatologies: dict) -> dict[str, vv.Ground]:
    """The two grounds, from the analysis conftest's session history and leave-out
    climatology (the placebo test shares them)."""
    assert ROOT is not None
    return {n: vv.build_ground(n, ROOT, history=history, climatologies=full,
                               leave_out_climatologies=leave_out_climatologies)
            for n in ("war-2025-08", "peace-no-fighting")}


def test_war_and_peace_windows(grounds: dict[str, vv.Ground]) -> None:
    rows = vv.run_verdicts(grounds, {"war-2025-08": 6, "peace-no-fighting": 12}, seed=7)
    new = rows[rows["method"] == "new"]
    war, peace = new[new["kind"] == "war"], new[new["kind"] == "peace"]
    assert len(war) == 6 and len(peace) == 12
    assert not (war["verdict"] == "held").any()
    assert (war["verdict"] == "violated").sum() >= 3  # August 2025: dozens of incidents
    assert not (peace["verdict"] == "violated").any()
    assert (peace["false_source"] == "measured").all()
    # the old way is judged on the same windows, side by side
    old = rows[rows["method"] == "old"]
    assert old["start"].tolist() == new["start"].tolist()
    assert (old["false_rate"] == 0.1).all()
    # the method before the war ground left the yardsticks: `held` reads the peacetime
    # rate on all ground, the Donbas war included (more fire along the 2025 line)
    old_war, new_war = (r[r["kind"] == "war"].reset_index(drop=True) for r in (old, new))
    assert old_war["yardstick_share_off"].isna().all()
    assert (old_war["peacetime_rate"] != new_war["peacetime_rate"]).all()
    # and as `truceline assess` judges them: sky coverage, the largest of the constant,
    # the same days' control-band rate and the peacetime rate of the ground and season
    product = rows[rows["method"] == "product"].reset_index(drop=True)
    far = rows[rows["method"] == "new+far"].reset_index(drop=True)
    assert product["start"].tolist() == new["start"].tolist()
    assert np.allclose(product["false_rate"], np.maximum(0.1, far["false_rate"]))
    floor = product["false_source"] == "floor"
    assert (product.loc[floor, "false_rate"] == 0.1).all()
    assert (product.loc[~floor, "false_rate"] > 0.1).all()
    assert not ((product["kind"] == "war") & (product["verdict"] == "held")).any()
    # only a violation is judged again without the incidents the moving front alone called
    other = rows[rows["verdict"] != "violated"]
    assert (other["verdict_without_moved"] == other["verdict"]).all()
    # the yardsticks' incidents on ground at war since 2014: none where the ground leaves
    # Donetsk and Luhansk oblasts out; along the 2025 line some of them lie there
    assert (peace["yardstick_incidents_donbas"] == 0).all()
    assert (peace["yardstick_incidents"] > 0).any()
    assert (war["yardstick_incidents_donbas"] <= war["yardstick_incidents"]).all()
    assert war["yardstick_incidents_donbas"].sum() > 0
    # which the war ground's yardsticks leave out, as assess does, scaling the rest to the
    # scope (the 2025 line runs through Donetsk oblast for much of its length), each
    # window's share measured on its own day's line, so close to the ground's but not one
    share = grounds["war-2025-08"].war_ground.share()  # type: ignore[union-attr]
    per_window = war["yardstick_share_off"]
    assert 0.25 < share < 0.9 and per_window.between(share - 0.01, share + 0.01).all()
    assert grounds["peace-no-fighting"].war_ground is None  # nothing there to leave out
    text = vv.format_tables(rows)
    assert "### overall" in text and "### by coverage" in text
    assert "incidents on ground at war since 2014" in text
    # seeded: the same command draws the same windows
    again = vv.draw_windows(grounds["peace-no-fighting"], 3, np.random.default_rng(1))
    first = vv.draw_windows(grounds["peace-no-fighting"], 3, np.random.default_rng(1))
    assert [a.start_utc for a in again] == [a.start_utc for a in first]


def test_yardsticks_with_the_war_ground_kept(grounds: dict[str, vv.Ground],
                                            history: pd.DataFrame, full: dict,
                                            leave_out_climatologies: dict) -> None:
    """`validate verdicts --keep-war-ground` judges the same windows with the yardsticks
    of the method before (all ground, the Donbas war included): side by side, the
    August 2025 windows' peacetime false-incident rates differ, and the kept ones are
    measured on the whole scope."""
    assert ROOT is not None
    ground = grounds["war-2025-08"]
    kept = vv.build_ground("war-2025-08", ROOT, history=history, climatologies=full,
                           leave_out_climatologies=leave_out_climatologies,
                           keep_war_ground=True)
    assert kept.war_ground is None and ground.war_ground is not None
    rows = {g.name + str(g.war_ground is None): vv.run_verdicts(
        {g.name: g}, {g.name: 4}, seed=7, old=False) for g in (ground, kept)}
    new, old = (r[r["method"] == "new"].reset_index(drop=True) for r in rows.values())
    assert new["start"].tolist() == old["start"].tolist()
    assert old["yardstick_share_off"].isna().all()
    assert (new["false_rate"] != old["false_rate"]).any()


def test_stress_removal_and_cloud(grounds: dict[str, vv.Ground]) -> None:
    s = vv.stress(grounds["war-2025-08"], 3, seed=7, lengths=(3, 6))
    assert set(s["test"]) == {"remove 70%", "remove 90%", "remove 100%", "cloudy days only"}
    assert not (s.loc[s["test"] == "cloudy days only", "verdict"] == "held").any()
    assert not (s.loc[s["test"] == "remove 100%", "verdict"] == "violated").any()


def test_peace_judged_against_the_moving_line(history: pd.DataFrame,
                                              leave_out_climatologies: dict) -> None:
    """Peacetime fire judged against the real moving line of 2022-2023 (each day shifted
    onto its maps for side, distance and moved ground): the ground keeps its own days,
    sees ground that changed hands, and the study reports its violated share."""
    assert ROOT is not None
    g = vv.build_ground("peace-moving-line", ROOT, history=history,
                        climatologies=leave_out_climatologies,
                        leave_out_climatologies=leave_out_climatologies)
    d = g.detections
    assert d["acq_date"].dt.year.between(2018, 2021).all()
    assert d["moved"].any()
    # the default calls none of it war for the maps' motion alone (seasonal+moved did)
    assert not (d.loc[d["war"], "test"].astype(str) == "moved").any()
    rows = vv.run_verdicts({"peace-moving-line": g}, {"peace-moving-line": 6}, seed=7,
                           old=False)
    t = vv.targets(rows)
    assert t["moving_windows"] == 6 and 0 <= t["moving_violated"] <= 1
    # its yardsticks leave Donetsk and Luhansk out, its windows do not: as assess judges,
    # each violation is judged again without the fire there (at war in 2018-2021)
    p = vv.targets(rows, method="product")
    assert 0 <= p["moving_violated_without_donbas"] <= p["moving_violated"]
    assert t["moving_violated_without_donbas"] is None  # only the product's is judged
    off, _ = g.off_donbas()
    assert 0 < len(off) < len(d)
    # the re-judge weighs what is left against that ground alone: yardsticks off it, not
    # scaled, and the areas of the scope's part off it
    o = g.off_donbas_ground()
    assert o.war_ground.share() == 1.0 and not o.donbas_in_windows  # type: ignore[union-attr]
    assert o.area_ratio < g.area_ratio and len(o.detections) == len(off)
    # each window's yardsticks on its own line, as assess reads them: the map in force on
    # its first day shifted as its fire was, forced over peacetime, its own year left out
    drawn = vv.draw_windows(g, 40, np.random.default_rng(3))
    early = min(drawn, key=lambda a: pd.Timestamp(a.start_utc))
    late = max(drawn, key=lambda a: pd.Timestamp(a.start_utc))
    lines = [g.own_line.snapshot_for(a) for a in (early, late)]
    assert lines[0]["valid_from"].iloc[0] < lines[1]["valid_from"].iloc[0]
    # and the share of each window's scope off the ground at war, on that same line (as
    # assess measures it), not on one map for all; the ground off Donbas stays unscaled
    shares = [g.war_ground_for(a).share() for a in (early, late)]  # type: ignore[union-attr]
    assert shares[0] != shares[1] and all(0.25 < x < 1 for x in shares)
    # and so are the scope's and the contact zone's areas over the control band's
    ratios = [g.ratios_for(a) for a in (early, late)]
    assert ratios[0] != ratios[1] and all(r[0] > 0 and 0 < r[1] < r[0] for r in ratios)
    assert o.war_ground_for(late).share() == 1.0  # type: ignore[union-attr]
    # and its areas are each window's, the part of that window's scope off the ground
    # (session 16: they were the ground's, scaled once)
    o_ratios = [o.ratios_for(a) for a in (early, late)]
    for (scope, near), (o_scope, o_near), x in zip(ratios, o_ratios, shares, strict=True):
        assert o_scope == pytest.approx(scope * x) and o_near <= near
    y = g.yardstick_detections(late)
    assert set(y["incident_id"].dropna().str[:4]) <= {
        str(x) for x in vv.PLACEBO_YEARS if x != pd.Timestamp(late.start_utc).year}
    assert not y.get("moved", pd.Series(False)).any()  # a line forced valid never moves
    assert (y["distance_km"].abs() < 30).any()
