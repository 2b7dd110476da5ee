"""Recall and lift against independent war events (issue 10), for `truceline validate
detection` and the grids that reuse it.

Why apart from the detection figures: matching detections to events (within
:data:`EVENT_KM` and :data:`EVENT_DAYS` of the event's days), the calls a rule adds over
another with their lift, recall split by the events' month, source and precision, and
what a peace year's fire and a rule's peacetime calls reach of the same events moved back
in time are the same yardstick for every rule, the frontier, the city grid and the context gates;
the placebo, rear and named-case figures stay in :mod:`truceline.validation.detection`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from truceline.analysis.anomaly import WORKS_TESTS

__all__ = ["CHANCE_SHIFT_YEARS", "EVENTS_PERIOD", "EVENT_DAYS", "EVENT_GROUPS", "EVENT_KM",
           "calls_beyond", "chance_figures", "chance_reach", "event_figures",
           "event_matches", "events_in_period", "events_summary", "in_events_period",
           "local_xy", "near_an_event", "placebo_recall", "recall_by_group"]

#: An event is matched by a detection within this many km ...
EVENT_KM = 10.0
#: ... and this many days of the event's days [date, date_end].
EVENT_DAYS = 1
#: The events' period: the UCDP events of the shared data (24 Feb 2022 - 28 Feb 2023).
EVENTS_PERIOD = ("2022-02-24", "2023-02-28")
#: Whole years the events are moved back to meet a peacetime year's fire at the same
#: places and days: 2020-21, 2019-20 and 2018-19, all inside the placebo years.
CHANCE_SHIFT_YEARS = (2, 3, 4)
#: The shifts whose peace years the moving-line placebo puts on the maps of the events'
#: own days (2020-21 and 2018-19 onto 2022-23: ``detection.MOVING_SHIFT_YEARS``).
PLACEBO_SHIFT_YEARS = (2, 4)


def local_xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Kilometres on a local equirectangular grid (good to < 1 % over 10-20 km)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return np.c_[lon * 111.32 * np.cos(np.radians(lat)), lat * 110.57]


def event_matches(det: pd.DataFrame, events: pd.DataFrame, km: float = EVENT_KM,
                  days: int = EVENT_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """(event row, detection row) pairs within ``km`` and ``days`` of the event's days
    [date, date_end]; a k-d tree query on local kilometres, then a vectorised date test.

    >>> det = pd.DataFrame({"lon": [30.0, 30.5], "lat": [50.0, 50.0],
    ...                     "acq_date": pd.to_datetime(["2022-03-02", "2022-03-02"])})
    >>> ev = pd.DataFrame({"lon": [30.01], "lat": [50.0], "date": pd.to_datetime(
    ...     ["2022-03-01"]), "date_end": pd.to_datetime(["2022-03-01"])})
    >>> [a.tolist() for a in event_matches(det, ev)]
    [[0], [0]]
    """
    from scipy.spatial import cKDTree

    if det.empty or events.empty:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    day = pd.to_datetime(det["acq_date"]).to_numpy().astype("datetime64[D]")
    # only detections within the events' whole span can match: the pairs within km of
    # years of detections would cost memory for nothing
    first = pd.to_datetime(events["date"]).min().to_datetime64().astype("datetime64[D]")
    last = pd.to_datetime(events["date_end"]).max().to_datetime64().astype("datetime64[D]")
    rows = np.flatnonzero((day >= first - np.timedelta64(days, "D"))
                          & (day <= last + np.timedelta64(days, "D")))
    if not len(rows):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    et = cKDTree(local_xy(events["lon"], events["lat"]))
    dt_ = cKDTree(local_xy(det["lon"].to_numpy()[rows], det["lat"].to_numpy()[rows]))
    pairs = et.sparse_distance_matrix(dt_, km, output_type="coo_matrix")
    ei, di = pairs.row.astype(np.int64), rows[pairs.col.astype(np.int64)]
    d = day[di]
    lo = pd.to_datetime(events["date"]).to_numpy().astype("datetime64[D]")[ei]
    hi = pd.to_datetime(events["date_end"]).to_numpy().astype("datetime64[D]")[ei]
    ok = (d >= lo - np.timedelta64(days, "D")) & (d <= hi + np.timedelta64(days, "D"))
    return ei[ok], di[ok]


def in_events_period(det: pd.DataFrame) -> pd.DataFrame:
    """The detections of the events' period (:data:`EVENTS_PERIOD`)."""
    s, e = (pd.Timestamp(x) for x in EVENTS_PERIOD)
    day = pd.to_datetime(det["acq_date"])
    return det[((day >= s) & (day <= e)).to_numpy()]


def near_an_event(det: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Whether each detection has an event within the match distance and days."""
    _, di = event_matches(det, events_in_period(events))
    near = np.zeros(len(det), dtype=bool)
    near[di] = True
    return pd.Series(near, index=det.index)


def calls_beyond(war: pd.DataFrame, other: pd.Series, near: pd.Series
                 ) -> tuple[int, float | None]:
    """(war calls in ``war`` that ``other`` does not make, their lift): how often they
    lie near an event (``near``, per detection) over all detections. 1 is no better than
    fire picked at random; a rule's own calls reach its lift."""
    added = war["war"] & ~other.reindex(war.index, fill_value=False)
    share = near.reindex(war.index, fill_value=False)
    lift = round(float(share[added].mean() / share.mean()), 2) \
        if added.any() and share.any() else None
    return int(added.sum()), lift


def events_in_period(events: pd.DataFrame) -> pd.DataFrame:
    s, e = (pd.Timestamp(x) for x in EVENTS_PERIOD)
    return events[(events["date"] <= e) & (events["date_end"] >= s)].reset_index(drop=True)


def events_summary(events: pd.DataFrame) -> dict[str, Any]:
    ev = events_in_period(events)
    return {"events": int(len(events)), "in_period": int(len(ev)),
            "period": list(EVENTS_PERIOD), "km": EVENT_KM, "days": EVENT_DAYS}


def event_figures(war: pd.DataFrame, events: pd.DataFrame, near_line_km: float
                  ) -> dict[str, Any]:
    """Recall, ceiling (also without the works' usual pixels) and lift of ``war``'s calls
    in the events' period; how often an event lies near what the burn-season tests
    remove within ``near_line_km`` of the line in July-August; the test that left each
    missed event's nearest fire natural; recall by the events' month, source, precision."""
    det = in_events_period(war).reset_index(drop=True)
    ev = events_in_period(events)
    ei, di = event_matches(det, ev)
    is_war = det["war"].to_numpy()
    near = np.zeros(len(det), dtype=bool)
    near[di] = True
    recall = len(np.unique(ei[is_war[di]])) / max(len(ev), 1)
    ceiling = len(np.unique(ei)) / max(len(ev), 1)
    lift = float(near[is_war].mean() / near.mean()) if is_war.any() and near.any() else None
    # the ceiling without the works' usual pixels: a hot spot's site within its own
    # peacetime days is the works, never war, so events only it reaches are out of reach
    works = np.isin(det["test"].astype(object).to_numpy(), WORKS_TESTS)
    off_site = len(np.unique(ei[~works[di]])) / max(len(ev), 1)
    out = {"recall": round(recall, 3), "ceiling": round(ceiling, 3),
           "recall_over_ceiling": round(recall / ceiling, 3) if ceiling else None,
           "ceiling_off_works": round(off_site, 3),
           "recall_over_ceiling_off_works": round(recall / off_site, 3) if off_site else None,
           "lift": round(lift, 2) if lift is not None else None,
           "war_detections_near_event": round(float(near[is_war].mean()), 4)
           if is_war.any() else None,
           "detections_near_event": round(float(near.mean()), 4)}
    # what the burn-season tests removed near the line in July-August: event support
    tests = det["test"].astype(object).to_numpy()
    dist = det["distance_km"].astype(float).abs().to_numpy()
    ja = pd.to_datetime(det["acq_date"]).dt.month.isin([7, 8]).to_numpy() & (
        dist <= near_line_km)
    for t in ("wide", "blaze"):
        sel = ja & (tests == t)
        out[f"burn_season_{t}_near_event"] = round(float(near[sel].mean()), 4) \
            if sel.any() else None
    sel = ja & is_war
    out["burn_season_war_near_event"] = round(float(near[sel].mean()), 4) \
        if sel.any() else None
    sel = ja
    out["burn_season_all_near_event"] = round(float(near[sel].mean()), 4) \
        if sel.any() else None
    # missed events: the test that decided their nearest calls (the most war-like first)
    hit = np.zeros(len(ev), dtype=bool)
    hit[ei[is_war[di]]] = True
    order = ["persistence", "wide", "blaze", "season", "site-normal", "hot-spot",
             "p_natural"]
    missed = pd.DataFrame({"e": ei, "t": tests[di]})
    missed = missed[~hit[missed["e"].to_numpy()]]
    rank = missed["t"].map({t: i for i, t in enumerate(order)}).fillna(len(order))
    best = missed.assign(rank=rank).sort_values("rank").drop_duplicates("e")
    out["missed_events_by_test"] = {str(k): int(v)
                                    for k, v in best["t"].value_counts().items()}
    reached = np.zeros(len(ev), dtype=bool)
    reached[ei] = True
    missed_by = np.full(len(ev), None, dtype=object)
    missed_by[best["e"].to_numpy()] = best["t"].astype(str).to_numpy()
    out["events_by"] = recall_by_group(ev, hit, reached, missed_by)
    return out


#: Columns of an events file to split recall by, when present (month always).
EVENT_GROUPS = ("source", "precision")


def recall_by_group(events: pd.DataFrame, seen: np.ndarray, reached: np.ndarray,
                    missed_by: np.ndarray | None = None
                    ) -> dict[str, dict[str, dict[str, Any]]]:
    """Recall over the ceiling within groups of the events: by the month the event
    starts, and by ``source`` and ``precision`` when the file has them.

    Why: the events are uneven in time and in kind (a random sample beside whole
    months of another source; places, 25 km, raions), so one ratio hides where the
    detector sees and where it does not. ``seen``: an event has a war call near it;
    ``reached``: any detection near it; ``missed_by``: for a reached event not seen, the
    test that left its most war-like nearby fire natural (``missed_by_test``).

    >>> ev = pd.DataFrame({"date": pd.to_datetime(["2022-03-01", "2022-03-09",
    ...                                            "2022-09-01"])})
    >>> g = recall_by_group(ev, np.array([True, False, False]), np.array([True, True, True]))
    >>> g["month"]["2022-03"]
    {'events': 2, 'reached': 2, 'seen': 1, 'recall_over_ceiling': 0.5}
    """
    keys = {"month": pd.to_datetime(events["date"]).dt.strftime("%Y-%m")}
    keys.update({c: events[c].astype(str) for c in EVENT_GROUPS if c in events.columns})
    frame = pd.DataFrame({"seen": seen & reached, "reached": reached})
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, key in keys.items():
        t = frame.groupby(key.to_numpy(), sort=True).agg(
            events=("seen", "size"), reached=("reached", "sum"), seen=("seen", "sum"))
        out[name] = {str(k): {"events": int(r.events), "reached": int(r.reached),
                              "seen": int(r.seen),
                              "recall_over_ceiling": round(float(r.seen / r.reached), 3)
                              if r.reached else None}
                     for k, r in t.iterrows()}
        if missed_by is not None:
            tests = pd.DataFrame({"g": key.to_numpy(), "t": missed_by}).dropna()
            for (g, test), n in tests.value_counts(sort=False).sort_index().items():
                out[name][str(g)].setdefault("missed_by_test", {})[str(test)] = int(n)
    return out


def chance_reach(history: pd.DataFrame, events: pd.DataFrame,
                 shifts: tuple[int, ...] = CHANCE_SHIFT_YEARS) -> pd.DataFrame:
    """Per event of the events' period (rows) and each of ``shifts`` (columns): whether a
    peacetime year's fire at the same place and days reaches it (the event's days moved
    back by that many whole years, matched against ``history`` as the war's detections
    are).

    Why: the ceiling counts every event any detection lies near, and fields, forests and
    works burn near the same towns in the same season in peacetime too. The share a
    peace year reaches is the part of the ceiling a detector that never calls such fire
    war cannot be expected to see.

    >>> hist = pd.DataFrame({"lon": [30.0], "lat": [50.0],
    ...                      "acq_date": pd.to_datetime(["2020-03-02"])})
    >>> ev = pd.DataFrame({"lon": [30.01, 35.0], "lat": [50.0, 48.0],
    ...                    "date": pd.to_datetime(["2022-03-01"] * 2),
    ...                    "date_end": pd.to_datetime(["2022-03-01"] * 2)})
    >>> chance_reach(hist, ev, shifts=(2, 3)).to_dict("list")  # 2020 reaches the first
    {-2: [True, False], -3: [False, False]}
    """
    ev = events_in_period(events)
    out = {}
    for k in shifts:
        ei, _ = event_matches(history, _moved_back(ev, k))
        hit = np.zeros(len(ev), dtype=bool)
        hit[ei] = True
        out[-k] = hit
    return pd.DataFrame(out)


def chance_figures(war: pd.DataFrame, events: pd.DataFrame, reached_in_peace: pd.DataFrame
                   ) -> dict[str, Any]:
    """How much of the ceiling a peace year's fire reaches (``reached_in_peace`` from
    :func:`chance_reach`; an event's share of the peace years), overall, per year moved
    back, and among the events ``war``'s calls see, those they miss though a detection
    reaches them, and those no detection reaches; and the share of events reached beyond
    it, were peace fire and war fire independent (``(ceiling - chance) / (1 - chance)``).
    """
    reach = reached_in_peace.mean(axis=1).to_numpy(dtype=float)
    seen, reached = _seen_reached(in_events_period(war), events_in_period(events))

    def mean(sel: np.ndarray) -> float | None:
        return round(float(reach[sel].mean()), 3) if sel.any() else None

    chance, ceiling = float(reach.mean()) if len(reach) else 0.0, float(reached.mean())
    beyond = (ceiling - chance) / (1 - chance) if chance < 1 else None
    beyond = beyond if beyond is not None and beyond > 0 else None  # nothing beyond chance
    return {"ceiling_chance": round(chance, 3),
            "ceiling_chance_by_years_back": {str(k): round(float(v), 3) for k, v in
                                             reached_in_peace.mean(axis=0).items()},
            "ceiling_chance_seen": mean(seen),
            "ceiling_chance_missed": mean(reached & ~seen),
            "ceiling_chance_unreached": mean(~reached),
            "ceiling_beyond_chance": None if beyond is None else round(beyond, 3),
            "recall_over_ceiling_beyond_chance": round(float(seen.mean()) / beyond, 3)
            if beyond else None}


def placebo_recall(peace: pd.DataFrame, war: pd.DataFrame, events: pd.DataFrame,
                   shifts: tuple[int, ...] = PLACEBO_SHIFT_YEARS) -> dict[str, Any]:
    """Recall and ceiling of a rule's calls on peacetime fire judged against the line of
    the events' own days (``peace``: the moving-line placebo's detections, 2018-2021 put
    on the maps of 2022-2023), the events moved back by each of ``shifts`` years; also
    for the events off Donetsk and Luhansk oblasts alone, beside the war's (``war``).

    Why: the same rule, the same line, the same places and days of the year, and no war:
    the recall it reaches there is what its false alarms alone would give it, and the
    war's recall means something only as far as it stands above it. Donetsk and Luhansk
    oblasts saw war in 2018-2021 too, so their "peace" calls are partly war calls.
    """
    from truceline.analysis.baseline import DONBAS_2014

    ev = events_in_period(events)
    off = ~shapely.contains_xy(DONBAS_2014.geometry, ev["lon"].to_numpy(dtype=float),
                               ev["lat"].to_numpy(dtype=float))

    by: dict[str, dict[str, float]] = {"recall": {}, "ceiling": {}, "recall_off_donbas": {},
                                       "ceiling_off_donbas": {}}
    for k in shifts:
        seen, reached = _seen_reached(peace, _moved_back(ev, k))
        for key, part in (("recall", seen), ("ceiling", reached)):
            by[key][str(-k)] = float(part.mean()) if len(part) else np.nan
            by[key + "_off_donbas"][str(-k)] = float(part[off].mean()) if off.any() \
                else np.nan
    seen, reached = _seen_reached(in_events_period(war), ev)
    out: dict[str, Any] = {f"placebo_{key}": _mean_or_none(v.values())
                           for key, v in by.items()}
    out["placebo_recall_by_years_back"] = {k: round(v, 4) for k, v in by["recall"].items()}
    out["placebo_ceiling_by_years_back"] = {k: round(v, 3) for k, v in by["ceiling"].items()}
    out["events_off_donbas"] = int(off.sum())
    out["recall_off_donbas"] = round(float(seen[off].mean()), 4) if off.any() else None
    out["ceiling_off_donbas"] = round(float(reached[off].mean()), 4) if off.any() else None
    return out


def _moved_back(events: pd.DataFrame, years: int) -> pd.DataFrame:
    """The events with their days moved back by whole years (29 February onto the 28th)."""
    back = pd.DateOffset(years=years)
    return events.assign(date=pd.to_datetime(events["date"]) - back,
                         date_end=pd.to_datetime(events["date_end"]) - back)


def _seen_reached(det: pd.DataFrame, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per event: a war call of ``det`` lies near it (seen), any detection does (reached)."""
    det = det.reset_index(drop=True)
    ei, di = event_matches(det, events)
    seen, reached = np.zeros(len(events), dtype=bool), np.zeros(len(events), dtype=bool)
    seen[ei[det["war"].to_numpy(dtype=bool)[di]]] = True
    reached[ei] = True
    return seen, reached


def _mean_or_none(values: Any) -> float | None:
    """The mean, rounded; None when there was nothing to measure (no events)."""
    v = np.asarray(list(values), dtype=float)
    return None if not len(v) or np.isnan(v).any() else round(float(v.mean()), 4)
