"""The detection figures of docs/VALIDATION.md on the real data, through the product
(`truceline validate detection`): one session run on a lake of every FIRMS yearly list
and the 2022-2023 liveuamap maps, both the default rule and the rule it replaced
(issue 10). Slow: a few minutes on two cores; skipped when the shared data is absent.
"""

from __future__ import annotations

import pytest

from truceline.sources.events import read_events
from truceline.validation.detection import validate_detection

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def figures(history_lake, data_dir) -> dict:
    ev = read_events(data_dir / "events" / "ucdp_ukraine_2022_2023.csv")
    return validate_detection(history_lake, events=ev, rules=(
        "seasonal", "seasonal+moved", "seasonal-without-cities", "seasonal-war-in-wide",
        "seasonal-static", "seasonal-v1"), frontier=True, frontier_grid=((2.0, 20.0), (0.05,)),
        cities=True, cities_grid=((50_000, 100_000), (10.0,)), context=data_dir)


def test_no_condition_of_the_context_singles_out_the_missing_war_fire(figures: dict) -> None:
    """Issue 10: rain, snow, cold, cloud, the cold season, towns, people, the lack of
    fields or ground that never burned in peace each select part of the improbable fire
    within 30 km of the line; a rule that called only that part would keep the
    default's calls and add a subset of the bound's, so its recall and placebo lie
    between the two. None reaches the recall target within the other targets
    (docs/VALIDATION.md, "What the context singles out")."""
    cg, default = figures["context_gates"], figures["by_rule"]["seasonal"]
    rows = {r["gate"]: r for r in cg["rows"]}
    alone, bound = rows.pop("-"), rows.pop("all")
    assert alone["recall"] == default["recall"] and alone["added_war_detections"] == 0
    assert alone["placebo_per_1000km2_year"] == default["placebo_per_1000km2_year"]
    assert bound["recall_over_ceiling"] >= 0.8 and not bound["meets_targets"]
    assert len(rows) >= 10
    for r in rows.values():
        assert alone["recall"] <= r["recall"] <= bound["recall"], r["gate"]
        assert (alone["placebo_per_1000km2_year"] <= r["placebo_per_1000km2_year"]
                <= bound["placebo_per_1000km2_year"]), r["gate"]
        assert 0 < r["added_war_detections"] < bound["added_war_detections"], r["gate"]
        assert not (r["meets_targets"] and r["recall_over_ceiling"] >= 0.8), r["gate"]
    # fire on ground that never burned in peace (session 16) is no more war-like, to the
    # events, than fire picked at random
    new_ground = [r for g, r in rows.items() if g.startswith("new-ground")]
    assert len(new_ground) == 3 and all(r["added_lift"] < 1 for r in new_ground)


def test_the_frontier_prices_recall_near_the_line_in_false_alarms(figures: dict) -> None:
    """How far the data allow (issue 10): calling every improbable fire near the line,
    whatever the other tests say, buys recall only with placebo false alarms, and the
    bound that comes near the recall target breaks the placebo target many times over."""
    fr, default = figures["frontier"], figures["by_rule"]["seasonal"]
    base, near, wide = fr["rows"]
    assert base["km"] == 0 and base["recall"] == default["recall"]
    assert base["placebo_per_1000km2_year"] == default["placebo_per_1000km2_year"]
    assert base["recall"] < near["recall"] < wide["recall"]
    assert (base["placebo_per_1000km2_year"] < near["placebo_per_1000km2_year"]
            < wide["placebo_per_1000km2_year"])
    assert wide["placebo_per_1000km2_year"] > 10 * 0.5 and not wide["meets_targets"]
    assert fr["best_within_targets"]["recall_over_ceiling"] < 0.8


def test_fire_in_a_city_near_the_line_sees_more_and_keeps_the_targets(figures: dict) -> None:
    """The default calls improbable fire in a city of 50,000 or more within 10 km of the
    line war whatever the season tests say (issue 10); without that test it sees fewer
    events. The calls it adds lie near an independent event twice as often as fire in
    general or more, and it keeps every target but recall."""
    new = figures["by_rule"]["seasonal"]
    base, default, big = figures["cities"]["rows"]  # the default without it, with it, ...
    assert base["population"] is None and (default["population"], default["km"]) == (
        50_000, 10.0)
    assert default["recall"] == new["recall"] > base["recall"] + 0.005
    assert default["placebo_per_1000km2_year"] == new["placebo_per_1000km2_year"] <= 0.5
    assert new["lift"] >= 2.3 and default["meets_targets"]
    assert new["far_works_war_2018_2021"] == new["far_works_war_2022_2023"] == 0
    assert default["rear_share_2022"] == base["rear_share_2022"]  # only near the line
    assert default["added_war_detections"] > 100 and default["added_lift"] > 2.0
    # bigger cities only: fewer calls, recall between
    assert base["recall"] <= big["recall"] <= default["recall"]
    assert big["added_war_detections"] < default["added_war_detections"]
    # it added as much to the rule with the moving front, when that was the default
    before = figures["by_rule"]["seasonal-without-cities"]
    assert figures["by_rule"]["seasonal+moved"]["recall"] > before["recall"] + 0.005


def test_a_burn_year_without_the_front_s_war_fire_sees_more_and_keeps_the_targets(
        figures: dict) -> None:
    """The default measures the wide area's burn year again without the fire a first
    pass called war within 30 km of the line (issue 10); the rule before it did not."""
    new = figures["by_rule"]["seasonal-without-cities"]
    before = figures["by_rule"]["seasonal-war-in-wide"]
    assert new["recall"] > before["recall"] + 0.01
    assert new["placebo_per_1000km2_year"] <= 0.5 and new["lift"] >= 2.3
    assert new["war_over_placebo_2022"] > before["war_over_placebo_2022"]
    assert new["far_works_war_2018_2021"] == new["far_works_war_2022_2023"] == 0
    assert new["rear_share_2022"] <= 0.05 and new["rear_share_2023"] <= 0.05


def test_the_moving_line_placebo_prices_fire_on_moved_ground(figures: dict) -> None:
    """Peacetime fire judged against the real moving line of 2022-2023 (issue 10): the
    default, which does not look at moved ground, keeps the placebo target there too;
    fire on a moving front (``seasonal+moved``, the default until session 14) calls
    peacetime fire on ground that changed hands war, several times the target
    (docs/VALIDATION.md says by how much), and the calls it adds in the war lie near an
    independent event less often than fire picked at random."""
    default, moved = figures["by_rule"]["seasonal"], figures["by_rule"]["seasonal+moved"]
    static = figures["by_rule"]["seasonal-static"]
    for rule in (default, static):
        assert rule["placebo_moving_per_1000km2_year"] <= 0.5
        assert rule["placebo_moving_war_moved"] == 0
    assert moved["placebo_moving_war_moved"] > 100
    assert moved["placebo_moving_per_1000km2_year"] > 2 * 0.5
    assert moved["placebo_per_1000km2_year"] == default["placebo_per_1000km2_year"]
    step = moved["vs_first"]  # what it calls beyond the default, and the reverse
    assert step["calls_added"] > 1000 and step["calls_added_lift"] < 1.0
    assert step["calls_dropped"] == 0
    assert moved["recall"] > default["recall"]  # it did see more events: said, not hidden


def test_placebo_and_rear_stay_within_the_targets(figures: dict) -> None:
    for rule in ("seasonal", "seasonal-v1"):
        f = figures["by_rule"][rule]
        assert f["placebo_per_1000km2_year"] <= 0.5, rule
        assert f["rear_share_2022"] <= 0.05 and f["rear_share_2023"] <= 0.05, rule
        assert f["rear_detections_2022"] > 10000
        # war ground: tens of times the placebo rate, near the line
        assert f["war_over_placebo_2022"] > 10 and f["war_over_placebo_2023"] > 10
        assert f["south_war_within_15km_2022"] >= 0.6


def test_towns_fought_over_around_their_works_are_seen(figures: dict) -> None:
    new, old = figures["by_rule"]["seasonal"], figures["by_rule"]["seasonal-v1"]
    assert new["case_Mariupol"] >= 0.5 and old["case_Mariupol"] == 0
    assert new["case_Avdiivka"] >= 0.5 and old["case_Avdiivka"] == 0
    assert new["case_Bakhmut"] >= 0.5 and new["case_Sievierodonetsk/Lysychansk"] >= 0.5


def test_works_far_from_the_front_stay_quiet(figures: dict) -> None:
    for rule in ("seasonal", "seasonal-v1"):
        f = figures["by_rule"][rule]
        assert f["far_works_war_2018_2021"] == 0, (rule, {k: v for k, v in f.items()
                                                        if k.startswith("far_")})


def test_recall_and_lift_against_the_events(figures: dict) -> None:
    new, old = figures["by_rule"]["seasonal"], figures["by_rule"]["seasonal-v1"]
    assert figures["events"]["in_period"] == 1085
    assert new["ceiling"] == old["ceiling"] > 0.3  # the same detections
    assert new["lift"] >= 2.3 and old["lift"] >= 2.3
    # more events seen than by the rule it replaced (the 80 % target is not reached:
    # docs/VALIDATION.md says by how much)
    assert new["recall"] > old["recall"]
    assert new["recall_over_ceiling"] >= 0.5
    # events that only a works' usual pixels reach are out of reach by design
    assert new["ceiling_off_works"] < new["ceiling"]
    assert new["recall_over_ceiling_off_works"] > new["recall_over_ceiling"]
    # most of the ceiling is reached by a peace year's fire at the same places and days
    # as well (2018-2021): the same figure for every rule, read from the lake's history
    assert new["ceiling_chance"] == old["ceiling_chance"] > 0.5 * new["ceiling"]
    assert new["ceiling_beyond_chance"] < 0.5 * new["ceiling"]


def test_recall_stands_above_what_the_rule_reaches_in_peace_on_the_same_line(
        figures: dict) -> None:
    """The same rule on peacetime fire judged against the events' own line (the
    moving-line placebo), the events moved back 2 and 4 years: off Donetsk and Luhansk
    oblasts (at war in 2018-2021 too) its false alarms reach a small part of what its
    war calls reach; the moving front's step gains about as much recall in peace as in
    the war, which is why it left the default."""
    new, moved = figures["by_rule"]["seasonal"], figures["by_rule"]["seasonal+moved"]
    assert 0 < new["placebo_recall_off_donbas"] < 0.2 * new["recall_off_donbas"]
    assert new["placebo_recall"] < new["recall"]
    assert new["placebo_ceiling"] == moved["placebo_ceiling"]  # the same detections
    assert moved["placebo_recall"] - new["placebo_recall"] >= 0.5 * (
        moved["recall"] - new["recall"]) > 0


def test_recall_split_by_the_events_month_source_and_precision(figures: dict) -> None:
    """Each split of the events adds up to the whole (every event in one month, one
    source, one precision), so a reader can see where the detector falls short."""
    new = figures["by_rule"]["seasonal"]
    n = figures["events"]["in_period"]
    by = new["events_by"]
    assert set(by) == {"month", "source", "precision"}
    assert set(by["source"]) == {"ucdp_ged251_sample", "ucdp_candidate"}
    for groups in by.values():
        assert sum(g["events"] for g in groups.values()) == n
        assert round(sum(g["reached"] for g in groups.values()) / n, 3) == new["ceiling"]
        assert round(sum(g["seen"] for g in groups.values()) / n, 3) == new["recall"]
        # every miss a detection reaches names the test that left its fire natural
        for g in groups.values():
            assert sum(g.get("missed_by_test", {}).values()) == g["reached"] - g["seen"]
    assert "2022-09" in by["month"] and "2023-02" in by["month"]


def test_each_rule_says_what_it_calls_beyond_the_first(figures: dict) -> None:
    """What a change adds or drops, with how often the events lie near it. The steps
    kept in the default only added calls: it calls all that the rule before them called
    in the events' period, and more; of the first version's calls it leaves a handful
    (8, which only the moving front's step reached), against thousands it adds."""
    for rule in ("seasonal-static", "seasonal-v1"):
        before = figures["by_rule"][rule]["vs_first"]
        assert before["rule"] == "seasonal", rule
        assert before["calls_dropped"] > 1000 and 0 < before["calls_dropped_lift"] < 5, rule
    assert figures["by_rule"]["seasonal-static"]["vs_first"]["calls_added"] == 0
    v1 = figures["by_rule"]["seasonal-v1"]["vs_first"]
    assert v1["calls_added"] < 0.01 * v1["calls_dropped"]


def test_august_2025_incidents_follow_the_line(figures: dict) -> None:
    a = figures["by_rule"]["seasonal"]["aug2025"]
    assert a["incidents"] >= 30
    assert a["incidents_within_15km"] >= 0.7 * a["incidents"]
    assert a["incidents_over_150km"] <= 0.05 * a["incidents"]
    assert a["rear_share"] <= 0.05


def test_fire_on_a_moving_front_sees_more_events_and_no_more_placebo(figures: dict) -> None:
    """The default counts improbable fire on ground that changed hands within 14 days
    (issue 10); the rule before it did not. A line forced valid never moves."""
    new, static = figures["by_rule"]["seasonal-war-in-wide"], figures["by_rule"]["seasonal-static"]
    assert new["placebo_per_1000km2_year"] == static["placebo_per_1000km2_year"]
    assert new["placebo_near_line_war"] == static["placebo_near_line_war"]
    assert new["recall"] > static["recall"] + 0.01 and new["lift"] >= 2.3
    assert new["case_Sievierodonetsk/Lysychansk"] > static["case_Sievierodonetsk/Lysychansk"]
    assert new["far_works_war_2022_2023"] == 0
