"""How far the data allow: recall near the line, priced in false alarms (issue 10).

Each point of the frontier is the rule (``seasonal`` by default) plus a *bound*: every
off-site fire with p_natural below ``alpha`` within ``km`` of the line of contact is
called war, whatever the season, wide-area, blaze and persistence tests say
(``RuleParams.line_call_km`` / ``line_call_alpha``). Any loosening of those tests
confined to that band and that p_natural calls a subset of it, so a point's recall is
the most such a loosening can reach, and its placebo says what calling all of it costs
on peacetime ground near a line. The points go through the code ``truceline detect``
runs (``pipeline.detect_enriched``), on the enrichment and climatologies of
``truceline validate detection``; the cell-days are scored once and every point reuses
the scores (they do not depend on the rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd

from truceline.analysis.anomaly import RuleParams, rule_params
from truceline.validation.detection import TARGETS

__all__ = ["ALPHAS", "CITY_KM", "CITY_POPULATIONS", "DISTANCES_KM", "best_within_targets",
           "cities", "detect_both", "frontier", "meets"]

#: The grid: distance to the line (km) and p_natural below which fire there is called.
DISTANCES_KM: tuple[float, ...] = (1, 2, 5, 10, 20, 30)
ALPHAS: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 0.05)

#: The city grid: the smallest city (people) and its distance to the line (km).
CITY_POPULATIONS: tuple[int, ...] = (20_000, 50_000, 100_000)
CITY_KM: tuple[float, ...] = (10, 30)

#: The figures each point reports (keys of ``validation.detection._figures``).
KEYS = ("placebo_per_1000km2_year", "placebo_near_line_war", "rear_share_2022",
        "rear_share_2023", "war_over_placebo_2022", "recall", "recall_over_ceiling", "lift",
        "case_Mariupol", "far_works_war_2018_2021", "far_works_war_2022_2023")

#: The targets a point must keep besides recall (issue 10; the moving-line placebo is
#: measured apart, ``validate detection``).
ROW_TARGETS = ("placebo_per_1000km2_year", "rear_share_2022", "rear_share_2023", "lift",
               "case_Mariupol", "far_works_war_2018_2021")


def frontier(enriched: dict[str, pd.DataFrame],
             spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
             climatologies: dict[str, dict[str, Any]], area_km2: float,
             events: pd.DataFrame, *, rule: str = "seasonal",
             distances_km: Sequence[float] = DISTANCES_KM,
             alphas: Sequence[float] = ALPHAS,
             progress: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """The frontier of ``rule``: its own figures, then one row per (km, alpha).

    ``enriched``/``spans``/``climatologies`` are keyed "placebo" and "war" as in
    :func:`truceline.validation.detection.validate_detection` (the placebo judged with
    the leave-out climatologies). Returns rows and two answers: the best recall/ceiling
    of a point that keeps every target, and the point of least placebo that reaches the
    recall target.
    """
    points = [({"km": 0.0, "alpha": None}, rule_params(rule))]
    for km in distances_km:
        for a in alphas:
            name = f"{rule} plus fire with p_natural < {a:g} within {km:g} km"
            points.append(({"km": float(km), "alpha": float(a)}, rule_params(
                rule, name=name, line_call_km=float(km), line_call_alpha=float(a))))
    rows = _measure(enriched, spans, climatologies, area_km2, events, points, progress)
    return {"rule": rule, "rows": rows, **_answers(rows, TARGETS)}


def cities(enriched: dict[str, pd.DataFrame],
           spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
           climatologies: dict[str, dict[str, Any]], area_km2: float,
           events: pd.DataFrame, *, rule: str = "seasonal",
           populations: Sequence[int] = CITY_POPULATIONS,
           distances_km: Sequence[float] = CITY_KM,
           progress: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """The city test (``RuleParams.city_min_population``/``city_line_km``) at every point
    of its grid, on top of ``rule`` without it, beside that rule alone: the rows and
    answers of :func:`frontier`. The default rule is one of its points (50,000 people,
    10 km)."""
    bare = f"{rule} without the city test"
    points = [({"population": None, "km": None},
               rule_params(rule, name=bare, city_min_population=None))]
    for pop in populations:
        for km in distances_km:
            points.append(({"population": int(pop), "km": float(km)}, rule_params(
                rule, name=f"{bare}, plus fire in cities of {pop:,}+ within {km:g} km",
                city_min_population=int(pop), city_line_km=float(km))))
    rows = _measure(enriched, spans, climatologies, area_km2, events, points, progress)
    return {"rule": rule, "rows": rows, **_answers(rows, TARGETS)}


def _measure(enriched: dict[str, pd.DataFrame],
             spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
             climatologies: dict[str, dict[str, Any]], area_km2: float,
             events: pd.DataFrame, points: list[tuple[dict[str, Any], RuleParams]],
             progress: Callable[[str], None]) -> list[dict[str, Any]]:
    """One row per point (its keys, then :data:`KEYS`): detected through
    ``pipeline.detect_enriched`` on cell-days scored once, the first point the
    yardstick of every later one's calls added and their lift."""
    from truceline.validation.detection import _figures
    from truceline.validation.recall import calls_beyond, in_events_period, near_an_event

    rows = []
    near_event: pd.Series | None = None  # per war detection of the events' period
    base_war: pd.Series | None = None
    found_each = detect_both(enriched, spans, climatologies, [rp for _, rp in points],
                             progress)
    for (keys, _), found in zip(points, found_each, strict=True):
        figs = _figures(found["placebo"], found["war"], area_km2, events)
        row: dict[str, Any] = {**keys, **{k: figs.get(k) for k in KEYS}}
        war = in_events_period(found["war"])
        if near_event is None:
            near_event, base_war = near_an_event(war, events), war["war"]
        row["added_war_detections"], row["added_lift"] = calls_beyond(war, base_war,
                                                                      near_event)
        row["meets_targets"] = all(meets(row.get(k), *TARGETS[k])
                                   for k in ROW_TARGETS)
        rows.append(row)
    return rows


def detect_both(enriched: dict[str, pd.DataFrame],
                spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
                climatologies: dict[str, dict[str, Any]], rules: Sequence[RuleParams],
                progress: Callable[[str], None] = lambda msg: None
                ) -> Iterator[dict[str, pd.DataFrame]]:
    """The placebo's and the war's detections under each rule in turn, through
    ``pipeline.detect_enriched`` on cell-days scored once (the scores do not depend on
    the rule); lazily, so a grid holds one point's detections at a time."""
    from truceline.analysis.anomaly import score_cell_days
    from truceline.pipeline import detect_enriched, detection_context

    scores = {k: score_cell_days(detection_context(enriched[k], *spans[k],
                                                   climatologies[k]), climatologies[k])
              for k in ("placebo", "war")}
    for rp in rules:
        progress(f"measuring {rp.name}")
        yield {k: detect_enriched(enriched[k], *spans[k], climatologies[k], rule=rp,
                                  scores=scores[k]).detections
               for k in ("placebo", "war")}


def meets(value: float | None, op: str, target: float) -> bool:
    if value is None:
        return False
    return value <= target if op == "<=" else value >= target


def best_within_targets(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row of highest recall/ceiling among those that keep every other target."""
    kept = [r for r in rows if r["meets_targets"]]
    return max(kept, key=lambda r: r["recall_over_ceiling"] or 0.0) if kept else None


def _answers(rows: list[dict[str, Any]], targets: dict[str, tuple[str, float]]
             ) -> dict[str, Any]:
    """The best recall/ceiling within the other targets, and the cheapest point (least
    placebo) that reaches the recall target, with its placebo over the target."""
    best = best_within_targets(rows)
    goal = targets["recall_over_ceiling"][1]
    budget = targets["placebo_per_1000km2_year"][1]
    reach = [r for r in rows if (r["recall_over_ceiling"] or 0.0) >= goal]
    cheapest = min(reach, key=lambda r: r["placebo_per_1000km2_year"]) if reach else None
    return {"best_within_targets": best, "cheapest_reaching_recall": cheapest,
            "cheapest_placebo_over_target": round(
                cheapest["placebo_per_1000km2_year"] / budget, 1) if cheapest else None}
