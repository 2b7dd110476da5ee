"""The detection figures of docs/VALIDATION.md, rerun from a lake (`truceline validate
detection`).

Every figure goes through the code `truceline detect` runs (``pipeline.
enrich_detections`` then ``pipeline.detect_enriched``), with climatologies built from
the lake's own FIRMS history:

* **placebo**: peacetime 2018-2021 on the southern ground (Zaporizhzhia and Kherson
  oblasts: the region of the nearest GeoNames place), judged with climatologies that
  leave 2018-2021 out and against the line in force on 2023-01-05 as if it had been in
  force then (so rules that treat ground near the line differently are tested there);
  false war cell-days per 1,000 km² per year (target <= 0.5);
* **rear**: share of detections more than 150 km from the line of the map in force
  called war, 2022 (from 24 February) and 2023 (target <= 5 %);
* **war ground**: war cell-days per 1,000 km² per year on the same southern ground in
  2022 and 2023, over the placebo rate;
* **named cases**: the share of days with detections that have a war call, around
  towns fought over around their works (Mariupol, Sievierodonetsk/Lysychansk, Avdiivka,
  Bakhmut), and war calls at the works far from the front (Kryvyi Rih, Zaporizhzhia,
  Kamianske, Dnipro) in 2018-2021 (leave-out climatology) and 2022-2023;
* **events** (with an events file): recall, the share of events with a war call within
  10 km and one day of the event's days, beside the ceiling that all detections reach,
  and lift, how much more often a war-called detection has an event that near than a
  detection in general; 24 February 2022 to 28 February 2023 by default; and how much of
  the ceiling a peace year's fire at the same places and days reaches (2018-2021);
* **burn season**: what the wide-area burn-year and large-blaze tests remove within
  30 km of the line in July and August 2022 and 2023, and how often an event lies near
  what they remove.

Several rules are measured side by side on one reading and one enrichment of the lake.
``seasonal-v1`` (the rule before hot spot sites) is judged against climatologies built
as they were then (``BaselineParams(hot_spot_sites=False)``), so its column reproduces
the old figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truceline.analysis.anomaly import LEGACY_RULES, rule_params
from truceline.analysis.baseline import DEFAULT_YEARS, BaselineParams
from truceline.errors import InputError, LakeError
from truceline.validation.recall import (
    EVENTS_PERIOD,
    calls_beyond,
    chance_figures,
    chance_reach,
    event_figures,
    events_in_period,
    events_summary,
    in_events_period,
    near_an_event,
    placebo_recall,
)

__all__ = [
    "CASES", "FAR_WORKS", "PLACEBO_YEARS", "SOUTH", "TARGETS", "Place", "baseline_for",
    "figure_rows", "validate_detection",
]

PLACEBO_YEARS = (2018, 2019, 2020, 2021)
WAR_YEARS = (2022, 2023)
WAR_START = pd.Timestamp("2022-02-24")
#: The southern ground of the placebo and war-ground figures (GeoNames admin-1 names).
SOUTH = ("Zaporizhzhia Oblast", "Kherson Oblast")
REAR_KM = 150.0
NEAR_LINE_KM = 30.0

@dataclass(frozen=True)
class Place:
    """A town or works: centre (lat, lon), radius in km, and the days to look at."""

    name: str
    lat: float
    lon: float
    radius_km: float
    start: str = ""
    end: str = ""


#: Towns fought over around their works (issue 10), with the days of the fighting.
CASES = (
    Place("Mariupol", 47.10, 37.55, 12.0, "2022-03-01", "2022-05-20"),
    Place("Sievierodonetsk/Lysychansk", 48.93, 38.46, 10.0, "2022-05-01", "2022-07-31"),
    Place("Avdiivka", 48.14, 37.75, 8.0, "2023-10-01", "2023-12-31"),
    Place("Bakhmut", 48.59, 38.00, 8.0, "2022-08-01", "2023-02-28"),
)
#: Steel, coke and power works far from the front: they must stay quiet.
FAR_WORKS = (
    Place("Kryvyi Rih", 47.85, 33.40, 15.0),
    Place("Zaporizhzhia", 47.85, 35.18, 12.0),
    Place("Kamianske", 48.51, 34.62, 10.0),
    Place("Dnipro", 48.46, 34.99, 12.0),
)

#: Targets of issue 10, by figure key: (comparison, value).
TARGETS: dict[str, tuple[str, float]] = {
    "placebo_per_1000km2_year": ("<=", 0.5),
    "placebo_moving_per_1000km2_year": ("<=", 0.5),
    "rear_share_2022": ("<=", 0.05),
    "rear_share_2023": ("<=", 0.05),
    "recall_over_ceiling": (">=", 0.8),
    "lift": (">=", 2.3),
    "case_Mariupol": (">=", 0.5),
    "far_works_war_2018_2021": ("<=", 0),
}


def baseline_for(rule: str) -> BaselineParams:
    """The climatology a rule is judged against (the legacy rule: as it was built)."""
    return BaselineParams(hot_spot_sites=False) if rule in LEGACY_RULES else BaselineParams()


def _climatologies(cache: dict[tuple, dict[str, Any]], params: BaselineParams,
                   leave_out: tuple[int, ...], history: Callable[[], pd.DataFrame]
                   ) -> dict[str, Any]:
    """Both sensors' climatologies from the lake's history, built once per run for each
    (parameters, years left out) and shared by the rules that use them. The cache lives
    for one run only: four builds hold a few GB."""
    from truceline.analysis.baseline import build_climatologies

    key = (tuple(sorted(asdict(params).items())), leave_out)
    if key not in cache:
        cache[key] = build_climatologies(history(), years=_years_without(leave_out),
                                         params=params)
    return cache[key]


def _years_without(leave_out: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Each sensor's peacetime years (``DEFAULT_YEARS``) less ``leave_out``."""
    return {s: tuple(y for y in DEFAULT_YEARS[s] if y not in leave_out)
            for s in DEFAULT_YEARS}


def _check_years(lake: Any, years: Sequence[int], what: str) -> None:
    held = lake.detection_years("VIIRS") | lake.detection_years("MODIS")
    missing = [y for y in years if y not in held]
    if missing:
        raise InputError(f"the lake {lake.root} holds no FIRMS detections for "
                         f"{', '.join(map(str, missing))}, needed for {what}: ingest the "
                         "FIRMS yearly lists of those years first")


def validate_detection(lake: Any, *,
                       rules: Sequence[str] = ("seasonal", "seasonal+moved"),
                       events: pd.DataFrame | None = None,
                       frontier: bool = False,
                       cities: bool = False,
                       cities_grid: tuple[Sequence[int], Sequence[float]] | None = None,
                       frontier_grid: tuple[Sequence[float], Sequence[float]] | None = None,
                       context: str | Path | None = None,
                       progress: Callable[[str], None] = lambda msg: None,
                       ) -> dict[str, Any]:
    """All detection figures for each rule in ``rules``, as a JSON-ready dict.

    ``events``: from :func:`truceline.sources.events.read_events`; without it the recall
    and lift figures are left out. ``frontier``: also the frontier of the default rule
    (:mod:`truceline.validation.frontier`; needs ``events``), over ``frontier_grid``
    (distances in km, p_natural thresholds; default its whole grid). ``cities``: also
    the city test at every point of ``cities_grid`` (smallest cities in people, distances
    in km; default its whole grid: :func:`truceline.validation.frontier.cities`; needs
    ``events``). ``context``: a data folder with ``context/`` (weather, land use,
    population): also the context gates of the default rule
    (:mod:`truceline.validation.context_gates`; needs ``events``). Raises InputError
    when the lake lacks the FIRMS years a figure needs (2018-2021, 2022-2023).
    """
    from truceline.pipeline import (
        FOLLOW_ON_DAYS,
        HISTORY_MARGIN_DAYS,
        detect_enriched,
        enrich_detections,
    )

    for r in rules:
        rule_params(r)  # unknown names fail before any work
    if (frontier or cities or context is not None) and events is None:
        what = "frontier" if frontier else "city grid" if cities else "context gates"
        raise InputError(f"the {what} measures recall: give an events file (--events)")
    if events is not None and events_in_period(events).empty:
        raise InputError(f"--events: none of its {len(events):,} events lies in the events' "
                         f"period {EVENTS_PERIOD[0]}..{EVENTS_PERIOD[1]}, so recall and lift "
                         "cannot be measured")
    _check_years(lake, PLACEBO_YEARS, "the placebo (peacetime 2018-2021)")
    _check_years(lake, WAR_YEARS, "the war figures (2022-2023)")
    hist: list[pd.DataFrame] = []
    cache: dict[tuple, dict[str, Any]] = {}

    def history() -> pd.DataFrame:
        if not hist:
            from truceline.analysis.baseline import cells_of

            h = lake.read_detections(None, "2021-12-31",
                                     columns=["lon", "lat", "acq_date", "sensor"], geometry=False)
            hist.append(h.assign(h3=cells_of(h["lon"].to_numpy(), h["lat"].to_numpy(), 6)))
        return hist[0]

    margin = pd.Timedelta(days=HISTORY_MARGIN_DAYS)
    follow = pd.Timedelta(days=FOLLOW_ON_DAYS)
    spans = {"placebo": (pd.Timestamp(f"{PLACEBO_YEARS[0]}-01-01"),
                         pd.Timestamp(f"{PLACEBO_YEARS[-1]}-12-31")),
             "war": (pd.Timestamp(f"{WAR_YEARS[0]}-01-01"),
                     pd.Timestamp(f"{WAR_YEARS[-1]}-12-31"))}
    progress("enriching 2018-2021 and 2022-2023 against the lake's control maps")
    s, e = spans["placebo"]
    enriched = {"placebo": _enrich_placebo(lake, s - margin, e + follow),
                "war": enrich_detections(lake, spans["war"][0] - margin,
                                         spans["war"][1] + follow, map_required=False)}
    moving = _enrich_placebo_moving(lake, s - margin, e + follow)
    area = south_area_km2()
    aug = None
    if not lake.read_detections(*AUG_2025, columns=["acq_date"]).empty:
        aug = enrich_detections(lake, pd.Timestamp(AUG_2025[0]) - margin,
                                pd.Timestamp(AUG_2025[1]) + follow, map_required=False)
    line = enriched["placebo"].attrs.get("placebo_line")
    out: dict[str, Any] = {"rules": list(rules), "south_area_km2": round(area),
                           "placebo_line": line,
                           "events": None if events is None else events_summary(events),
                           "by_rule": {}}
    by_rule: dict[str, Any] = {}
    if frontier or cities or context is not None:
        from truceline.validation import frontier as grids

        clims = {"placebo": _climatologies(cache, BaselineParams(), PLACEBO_YEARS, history),
                 "war": _climatologies(cache, BaselineParams(), (), history)}
        if frontier:
            grid = dict(zip(("distances_km", "alphas"), frontier_grid, strict=True)) \
                if frontier_grid else {}
            out["frontier"] = grids.frontier(enriched, spans, clims, area, events,
                                             progress=progress, **grid)
        if cities:
            cgrid = dict(zip(("populations", "distances_km"), cities_grid, strict=True)) \
                if cities_grid else {}
            out["cities"] = grids.cities(enriched, spans, clims, area, events,
                                         progress=progress, **cgrid)
        if context is not None:
            from truceline.validation.context_gates import burnt_ground, context_gates

            progress("context gates: the ground peacetime fire fell on")
            burnt = {"placebo": burnt_ground(history(), _years_without(PLACEBO_YEARS)),
                     "war": burnt_ground(history(), _years_without(()))}
            out["context_gates"] = context_gates(enriched, spans, clims, area, events,
                                                 context, burnt=burnt, progress=progress)
    wars: dict[str, pd.DataFrame] = {}  # each rule's calls in the events' period
    # a peace year's fire at the events' places and days: the same for every rule
    reach = None if events is None else chance_reach(history(), events)
    order = sorted(rules, key=lambda r: r in LEGACY_RULES)  # one climatology at a time
    for i, r in enumerate(order):
        params = baseline_for(r)
        progress(f"{r}: climatologies ({'without' if r in LEGACY_RULES else 'with'} "
                 "hot spot sites)")
        full = _climatologies(cache, params, (), history)
        lo = _climatologies(cache, params, PLACEBO_YEARS, history)
        progress(f"{r}: detecting 2018-2021 and 2022-2023")
        found = {"placebo": _detect(enriched["placebo"], spans["placebo"], lo, r),
                 "war": _detect(enriched["war"], spans["war"], full, r)}
        figs = _figures(found["placebo"], found["war"], area, events)
        if reach is not None:
            figs.update(chance_figures(found["war"], events, reach))
        if moving is not None:
            peace_on_line = _detect(moving, spans["placebo"], lo, r)
            figs.update(_moving_figures(peace_on_line, area))
            if events is not None:
                figs.update(placebo_recall(peace_on_line, found["war"], events))
        if aug is not None:
            figs["aug2025"] = _aug_figures(detect_enriched(aug, *AUG_2025, full, rule=r))
        figs["rule"] = asdict(rule_params(r))
        figs["baseline"] = asdict(params)
        by_rule[r] = figs
        if events is not None:
            wars[r] = in_events_period(found["war"])
        if i + 1 == len(order) or baseline_for(order[i + 1]) != params:
            cache.clear()  # no later rule needs these climatologies
    if events is not None and len(rules) > 1:
        _compare_calls(by_rule, wars, rules[0], events)
    out["by_rule"] = {r: by_rule[r] for r in rules}
    out["table"] = figure_rows(out)
    return out


def _compare_calls(by_rule: dict[str, Any], wars: dict[str, pd.DataFrame], first: str,
                   events: pd.DataFrame) -> None:
    """Each later rule against the first: the war calls one makes and the other does not,
    in the events' period, with their lift (do the events support what a change adds?)."""
    near = near_an_event(wars[first], events)
    for r, war in wars.items():
        if r == first:
            continue
        added, added_lift = calls_beyond(war, wars[first]["war"], near)
        dropped, dropped_lift = calls_beyond(wars[first], war["war"], near)
        by_rule[r]["vs_first"] = {"rule": first, "calls_added": added,
                                  "calls_added_lift": added_lift, "calls_dropped": dropped,
                                  "calls_dropped_lift": dropped_lift}


#: NOAA-20 days of August 2025 (judged against the VIIRS S-NPP climatology), when the
#: lake holds them.
AUG_2025 = ("2025-08-11", "2025-08-31")


def _aug_figures(found: Any) -> dict[str, Any]:
    det, inc = found.detections, found.incidents
    dist = det["distance_km"].astype(float).abs()
    rear = (dist > REAR_KM).to_numpy()
    near = (inc["dist_km"].astype(float) <= 15) if len(inc) and "dist_km" in inc else \
        pd.Series(dtype=bool)
    far = (inc["dist_km"].astype(float) > REAR_KM) if len(inc) and "dist_km" in inc else \
        pd.Series(dtype=bool)
    return {"detections": int(len(det)), "war_detections": int(det["war"].sum()),
            "incidents": int(len(inc)), "incidents_within_15km": int(near.sum()),
            "incidents_over_150km": int(far.sum()),
            "rear_share": round(float(det["war"].to_numpy()[rear].mean()), 4)
            if rear.any() else None}


#: The line the placebo's peacetime years are judged against, as if in force then: the
#: map in force on this day (the line of the Christmas truce of 2023).
PLACEBO_LINE_DAY = pd.Timestamp("2023-01-05")


def _enrich_placebo(lake: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Peacetime detections enriched against today's line forced valid over them, so a
    rule that treats ground near the line differently is tested there too (no map in the
    lake then: no line, and the figure says so)."""
    from truceline.geo.enrich import enrich
    from truceline.pipeline import no_snapshots, snapshot_at

    det = lake.read_detections(start, end, geometry=False)
    try:
        snap = snapshot_at(lake, None, PLACEBO_LINE_DAY)
    except LakeError:  # no map then: the placebo runs without a line
        snap = None
    if snap is None:
        out = enrich(det, no_snapshots())
        out.attrs["placebo_line"] = None
        return out
    forced = snap.assign(valid_from=pd.Timestamp("1900-01-01"))
    out = enrich(det, forced)
    out.attrs["placebo_line"] = str(snap["snapshot_id"].iat[0])
    return out


#: Years added to each peacetime day to judge it against the real moving line of the war
#: (2017-2019 onto 2021-2023, 2020-2022 onto 2022-2024): every placebo year meets the
#: maps of 2022 or 2023.
MOVING_SHIFT_YEARS = {2017: 4, 2018: 4, 2019: 4, 2020: 2, 2021: 2, 2022: 2}


def shifted_days(days: pd.Series, shift_years: Mapping[int, int]) -> pd.Series:
    """Each day moved by whole years, by its year (a year not listed stays): peacetime
    fire put onto the maps of a later, moving line (29 February onto the 28th).

    >>> shifted_days(pd.Series(pd.to_datetime(["2018-03-01", "2020-02-29", "2016-05-01"])),
    ...              MOVING_SHIFT_YEARS).dt.strftime("%Y-%m-%d").tolist()
    ['2022-03-01', '2022-02-28', '2016-05-01']
    """
    out = days.copy()
    for year, k in shift_years.items():
        on = (days.dt.year == year).to_numpy()
        out[on] = days[on] + pd.DateOffset(years=k)
    return out


def enrich_on_shifted_days(det: pd.DataFrame, snaps: Any,
                           shift_years: Mapping[int, int] | None = None,
                           every_map: Any = None) -> pd.DataFrame:
    """``det`` enriched against ``snaps`` with ``moved`` (read from ``every_map``, default
    ``snaps``), each day first shifted by :func:`shifted_days` when ``shift_years`` is
    given (peacetime fire put onto the maps of a later, moving line) and given back its
    own date after. ``moved_known`` as the product reads it where the maps are a series;
    a single map forced valid is the stand-in for a line that did not move, so there it
    is known."""
    from truceline.geo.enrich import enrich
    from truceline.geo.moved import changed_hands, maps_reach

    own_days = det["acq_date"]
    if shift_years:
        det = det.assign(acq_date=shifted_days(pd.to_datetime(own_days), shift_years)
                         .to_numpy())
    out = enrich(det, snaps)
    maps = snaps if every_map is None else every_map
    out["moved"] = changed_hands(out, maps)
    out["moved_known"] = maps_reach(out, maps) if len(maps) > 1 else True
    out["acq_date"] = own_days.to_numpy()
    return out


def _enrich_placebo_moving(lake: Any, start: pd.Timestamp, end: pd.Timestamp
                           ) -> pd.DataFrame | None:
    """Peacetime detections enriched against the real, moving line of the war: each day
    shifted by whole years onto the maps of 2022-2023 (:data:`MOVING_SHIFT_YEARS`) for
    side, distance and ``moved``, then given back its own date. The forced line of
    :func:`_enrich_placebo` never moves, so it cannot test what a rule calls on ground
    that changed hands; this placebo can: it asks what the rule would call there if
    farming went on as in peacetime. None when the lake holds no map of those years."""
    from truceline.geo.moved import MOVED_DAYS
    from truceline.pipeline import control_snapshots

    det = lake.read_detections(start, end, geometry=False)
    shifted = shifted_days(pd.to_datetime(det["acq_date"]), MOVING_SHIFT_YEARS)
    reach = pd.Timedelta(days=MOVED_DAYS)
    snaps = control_snapshots(lake, None, start=shifted.min() - reach,
                              end=shifted.max() + reach, required=False)
    if snaps is None or len(snaps) == 0:
        return None
    return enrich_on_shifted_days(det, snaps, MOVING_SHIFT_YEARS)


def _moving_figures(placebo: pd.DataFrame, area: float) -> dict[str, Any]:
    """The placebo's false war cell-days against the moving line, and how many of its
    war detections ground that changed hands decided (test ``moved``)."""
    south = placebo["region"].astype(object).isin(SOUTH).to_numpy()
    war = placebo[south & placebo["war"].to_numpy()]
    return {"placebo_moving_per_1000km2_year": round(
                _cell_days(war) / (area / 1000) / len(PLACEBO_YEARS), 3),
            "placebo_moving_war_moved": int((war["test"].astype(object) == "moved").sum()),
            "placebo_moving_war": int(len(war))}


def _detect(enriched: pd.DataFrame, span: tuple[pd.Timestamp, pd.Timestamp],
            clims: dict[str, Any], rule: str) -> pd.DataFrame:
    from truceline.pipeline import detect_enriched

    return detect_enriched(enriched, span[0], span[1], clims, rule=rule).detections


def south_area_km2(step: float = 0.05) -> float:
    """Area of the southern ground: the points of a ``step``° grid inside Ukraine whose
    nearest GeoNames place lies in :data:`SOUTH`, times each point's cell area."""
    import shapely

    from truceline.geo import outlines, places

    ukr = outlines.outline("UKR")
    x0, y0, x1, y1 = ukr.bounds
    lon, lat = np.meshgrid(np.arange(x0, x1, step) + step / 2, np.arange(y0, y1, step)
                           + step / 2)
    lon, lat = lon.ravel(), lat.ravel()
    inside = shapely.contains_xy(ukr, lon, lat)
    lon, lat = lon[inside], lat[inside]
    x, y = outlines._TO_M.transform(lon, lat)
    j, _ = places.nearest_place(np.asarray(x), np.asarray(y), np.zeros(len(x), dtype=np.int8))
    pl = places.places()
    region = np.asarray(pl.region_categories)[pl.region_code[j]]
    cell = (step * 111.32) ** 2 * np.cos(np.radians(lat))
    return float(cell[np.isin(region, SOUTH)].sum())


def _near(det: pd.DataFrame, place: Place) -> np.ndarray:
    dx = (det["lon"].to_numpy() - place.lon) * 111.32 * np.cos(np.radians(place.lat))
    dy = (det["lat"].to_numpy() - place.lat) * 110.57
    return np.hypot(dx, dy) <= place.radius_km


def _cell_days(frame: pd.DataFrame) -> int:
    return int(frame.groupby(["sensor", "cell", "acq_date"], observed=True).ngroups)


def _figures(placebo: pd.DataFrame, war: pd.DataFrame, area: float,
             events: pd.DataFrame | None) -> dict[str, Any]:
    f: dict[str, Any] = {}
    day_p = pd.to_datetime(placebo["acq_date"])
    south_p = placebo["region"].astype(object).isin(SOUTH).to_numpy()
    rows = []
    for y in PLACEBO_YEARS:
        s = placebo[south_p & (day_p.dt.year == y).to_numpy()]
        w = s[s["war"]]
        rows.append({"year": y, "detections": len(s), "war_detections": len(w),
                     "war_cell_days": _cell_days(w),
                     "incidents": int(w["incident_id"].nunique())})
    f["placebo"] = rows
    f["placebo_per_1000km2_year"] = round(
        sum(r["war_cell_days"] for r in rows) / (area / 1000) / len(PLACEBO_YEARS), 3)
    f["placebo_war_share"] = round(sum(r["war_detections"] for r in rows)
                                   / max(sum(r["detections"] for r in rows), 1), 4)
    near_p = (placebo["distance_km"].astype(float).abs() <= NEAR_LINE_KM).to_numpy()
    f["placebo_near_line_war"] = int(placebo.loc[south_p & near_p, "war"].sum())

    day = pd.to_datetime(war["acq_date"])
    side = war["side"].astype(object)
    dist = war["distance_km"].astype(float).abs()
    south = war["region"].astype(object).isin(SOUTH).to_numpy()
    held = side.isin(["ua", "ru"]).to_numpy()
    for y in WAR_YEARS:
        yy = ((day.dt.year == y) & (day >= WAR_START)).to_numpy()
        rear = yy & held & (dist > REAR_KM).to_numpy()
        f[f"rear_detections_{y}"] = int(rear.sum())
        f[f"rear_share_{y}"] = round(float(war["war"].to_numpy()[rear].mean()), 4) \
            if rear.any() else None
        s = war[south & (day.dt.year == y).to_numpy()]
        rate = _cell_days(s[s["war"]]) / (area / 1000)
        f[f"south_war_per_1000km2_{y}"] = round(rate, 1)
        f[f"war_over_placebo_{y}"] = round(rate / f["placebo_per_1000km2_year"], 1) \
            if f["placebo_per_1000km2_year"] > 0 else None
        near = s["distance_km"].astype(float).abs() <= 15
        f[f"south_war_within_15km_{y}"] = round(float(near[s["war"]].mean()), 3) \
            if s["war"].any() else None

    for c in CASES:
        s = war[_near(war, c) & (day >= c.start).to_numpy() & (day <= c.end).to_numpy()]
        by_day = s.groupby(pd.to_datetime(s["acq_date"]))["war"].any()
        f[f"case_{c.name}"] = round(float(by_day.mean()), 3) if len(by_day) else None
        f[f"case_{c.name}_days"] = f"{int(by_day.sum())}/{len(by_day)}"
    far_p = np.zeros(len(placebo), dtype=bool)
    far_w = np.zeros(len(war), dtype=bool)
    for c in FAR_WORKS:
        n_p = int(placebo.loc[_near(placebo, c), "war"].sum())
        n_w = int(war.loc[_near(war, c), "war"].sum())
        f[f"far_{c.name}"] = {"2018_2021": n_p, "2022_2023": n_w}
        far_p |= _near(placebo, c)
        far_w |= _near(war, c)
    f["far_works_war_2018_2021"] = int(placebo.loc[far_p, "war"].sum())
    f["far_works_war_2022_2023"] = int(war.loc[far_w, "war"].sum())

    tests = war["test"].astype(object)
    july_aug = day.dt.month.isin([7, 8]).to_numpy() & (dist <= NEAR_LINE_KM).to_numpy()
    burn: dict[str, Any] = {}
    for y in WAR_YEARS:
        sel = july_aug & (day.dt.year == y).to_numpy()
        part = war[sel]
        burn[str(y)] = {"detections": int(sel.sum()), "war": int(part["war"].sum()),
                        "removed_wide": int((tests[sel] == "wide").sum()),
                        "removed_blaze": int((tests[sel] == "blaze").sum())}
    f["burn_season"] = burn

    if events is not None:
        f.update(event_figures(war, events, NEAR_LINE_KM))
    return f


#: Rows of the terminal table: (figure key, label).
ROWS = (
    ("placebo_per_1000km2_year", "placebo: false war cell-days / 1,000 km² / yr (2018-21)"),
    ("placebo_war_share", "placebo: share of detections called war"),
    ("placebo_near_line_war", "placebo: war detections within 30 km of the line"),
    ("placebo_moving_per_1000km2_year",
     "placebo against the real moving line (2022-23 maps over 2018-21) / 1,000 km² / yr"),
    ("placebo_moving_war_moved", "   its war detections on ground that changed hands"),
    ("rear_share_2022", "rear (> 150 km) called war, 2022"),
    ("rear_share_2023", "rear (> 150 km) called war, 2023"),
    ("south_war_per_1000km2_2022", "south: war cell-days / 1,000 km², 2022"),
    ("south_war_per_1000km2_2023", "south: war cell-days / 1,000 km², 2023"),
    ("war_over_placebo_2022", "war ground over placebo, 2022"),
    ("war_over_placebo_2023", "war ground over placebo, 2023"),
    ("recall", "events: recall (war call within 10 km, ±1 day)"),
    ("ceiling", "events: ceiling (any detection)"),
    ("recall_over_ceiling", "events: recall / ceiling"),
    ("recall_over_ceiling_off_works", "events: recall / ceiling without the works' pixels"),
    ("ceiling_chance", "events: reached by a peace year's fire, same places and days"),
    ("ceiling_chance_seen", "   of the events seen"),
    ("ceiling_chance_missed", "   of the events missed though reached"),
    ("ceiling_beyond_chance", "events: ceiling beyond a peace year's (if independent)"),
    ("recall_over_ceiling_beyond_chance", "   recall over it"),
    ("placebo_recall", "events moved onto peace years on the same line: recall (placebo)"),
    ("placebo_ceiling", "   their ceiling"),
    ("recall_off_donbas", "events off Donetsk and Luhansk oblasts: recall"),
    ("placebo_recall_off_donbas", "   placebo recall"),
    ("lift", "events: lift"),
    ("vs_first.calls_added", "events' period: war calls the first rule does not make"),
    ("vs_first.calls_added_lift", "   their lift"),
    ("vs_first.calls_dropped", "events' period: the first rule's war calls it does not make"),
    ("vs_first.calls_dropped_lift", "   their lift"),
    *((f"case_{c.name}", f"case {c.name} {c.start[:7]}..{c.end[:7]}: days with war")
      for c in CASES),
    ("aug2025.incidents", "Aug 2025 (NOAA-20): incidents"),
    ("aug2025.incidents_within_15km", "Aug 2025: incidents within 15 km of the line"),
    ("aug2025.rear_share", "Aug 2025: rear (> 150 km) called war"),
    ("far_works_war_2018_2021", "far works: war detections 2018-21 (leave-out)"),
    ("far_works_war_2022_2023", "far works: war detections 2022-23"),
)


def figure_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: label, target, and each rule's value (shares as given)."""
    rows = []
    for key, label in ROWS:
        row: dict[str, Any] = {"figure": key, "label": label}
        tgt = TARGETS.get(key)
        row["target"] = f"{tgt[0]} {tgt[1]:g}" if tgt else ""
        for r, figs in result["by_rule"].items():
            head, _, tail = key.partition(".")
            v = (figs.get(head) or {}).get(tail) if tail else figs.get(key)
            if key.startswith("case_") and v is not None:
                v = f"{v:.0%} ({figs.get(key + '_days')})"
            row[r] = v
        rows.append(row)
    return rows

