"""Does anything in the context data point to the war fire the tests excuse near the line?

The frontier (:mod:`truceline.validation.frontier`) showed that calling every improbable
fire within 30 km of the line reaches the recall target at 36 times the placebo budget,
and that the fire it adds lies near an independent event no more often than fire picked
at random. A cleverer rule would call only part of it: the part that rain, cold, cloud,
towns or the lack of fields single out (fields are not burnt in the rain, in winter or
in a town; war fire is). Each *gate* here is such a condition, fixed in advance from
what the data folder holds (``context/weather``, ``land_use``, ``pop_density``) and
never chosen by its result. Its row is the rule plus the bound's calls that the gate
selects, exactly what a rule "``rule``, and improbable fire within ``km`` of the line
that meets the gate is war" calls (the bound's ``line`` calls feed no other test), with
every detection figure and the lift of the calls it adds.

A gate is decided per cell-day (any of its detections meets it), as a rule decides.
Weather is the oblast's of that day (``analysis.coverage.oblast_of``); days without a
weather row, and points off the context grids, never meet a gate that needs them.

The *new ground* gates (session 16) ask where in its cell a fire lies: fields burn on
the same ground year after year, shells fall on tree lines, positions and villages. A
detection is on new ground when no detection of its sensor fell on its H3 cell of
resolution 9, 8 or 7 (~0.1, ~0.7, ~5 km²) in the peacetime years of the climatology it is
judged against (:func:`burnt_ground`; the placebo's leave 2018-2021 out, as its
climatology does, so the placebo's fire is judged against fewer years and is new more
often: the test is harder on the placebo, not easier).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from truceline.analysis.anomaly import rule_params
from truceline.sources.context import LAND_USE, POPULATION, grid_values, read_weather
from truceline.validation.detection import TARGETS
from truceline.validation.frontier import (
    KEYS,
    ROW_TARGETS,
    best_within_targets,
    detect_both,
    meets,
)

__all__ = ["GATES", "NEW_GROUND_RES", "Gate", "burnt_ground", "context_features",
           "context_gates", "on_new_ground"]


@dataclass(frozen=True)
class Gate:
    """A condition on a cell-day's context: why it might single out war fire."""

    label: str
    why: str
    test: Callable[[pd.DataFrame], np.ndarray]


#: The resolutions of the new-ground gates (H3 9, 8, 7: ~0.1, ~0.7, ~5 km²), fixed
#: before measuring.
NEW_GROUND_RES = (9, 8, 7)


def burnt_ground(history: pd.DataFrame, years: dict[str, tuple[int, ...]],
                 resolutions: tuple[int, ...] = NEW_GROUND_RES
                 ) -> dict[tuple[str, int], np.ndarray]:
    """Per (sensor, H3 resolution): the sorted cells any detection of that sensor fell on
    in its peacetime ``years``: the ground that burns when there is no war.

    >>> h = pd.DataFrame({"lon": [30.5, 30.5], "lat": [50.45, 50.45], "sensor": "VIIRS",
    ...                   "acq_date": pd.to_datetime(["2019-08-01", "2022-08-01"])})
    >>> {k: len(v) for k, v in burnt_ground(h, {"VIIRS": (2019,)}, (8,)).items()}
    {('VIIRS', 8): 1}
    """
    from truceline.geo.grid import h3_cells

    year = pd.to_datetime(history["acq_date"]).dt.year.to_numpy()
    out = {}
    for sensor, ys in years.items():
        sel = (history["sensor"].astype(str).to_numpy() == sensor) & np.isin(year, ys)
        lat = history["lat"].to_numpy(dtype=float)[sel]
        lon = history["lon"].to_numpy(dtype=float)[sel]
        for r in resolutions:
            out[(sensor, r)] = np.unique(h3_cells(lat, lon, r))
    return out


def on_new_ground(det: pd.DataFrame, burnt: dict[tuple[str, int], np.ndarray],
                  resolution: int) -> np.ndarray:
    """Per detection: no peacetime fire of its sensor fell on its H3 cell of
    ``resolution`` (a sensor without a history is all new ground)."""
    from truceline.geo.grid import h3_cells

    cells = h3_cells(det["lat"].to_numpy(dtype=float), det["lon"].to_numpy(dtype=float),
                     resolution)
    sensor = det["sensor"].astype(str).to_numpy()
    out = np.ones(len(det), dtype=bool)
    for s in np.unique(sensor):  # one pass per sensor (two), not per detection
        m = sensor == s
        known = burnt.get((str(s), resolution), np.array([], dtype=np.uint64))
        out[m] = ~np.isin(cells[m], known)
    return out


def _cold_season(f: pd.DataFrame) -> np.ndarray:
    return np.isin(f["month"].to_numpy(), (10, 11, 12, 1, 2, 3))


#: The gates, fixed before measuring (issue 10 session 14); ``all`` is the bound itself.
GATES: dict[str, Gate] = {
    "all": Gate("every improbable fire within the band", "the frontier's point itself",
                lambda f: np.ones(len(f), dtype=bool)),
    "wet": Gate("rain >= 1 mm in the oblast that day", "fields are not burnt in the rain",
                lambda f: (f["rain_mm"] >= 1).to_numpy()),
    "rain5": Gate("rain >= 5 mm", "still less in heavy rain",
                  lambda f: (f["rain_mm"] >= 5).to_numpy()),
    "snow": Gate("snowfall that day", "nor in snow",
                 lambda f: (f["snow_cm"] > 0).to_numpy()),
    "cold": Gate("day's maximum below 5 °C", "nor in the cold",
                 lambda f: (f["tmax_c"] < 5).to_numpy()),
    "overcast": Gate("cloud cover >= 80 %", "a fire seen through a gap in thick cloud",
                     lambda f: (f["cloud_pct"] >= 80).to_numpy()),
    "cold-season": Gate("October to March", "outside the burn seasons of crops",
                        _cold_season),
    "built10": Gate("built-up >= 10 % of the 0.1° cell", "towns have no burn season",
                    lambda f: (f["built"] >= 0.1).to_numpy()),
    "built20": Gate("built-up >= 20 %", "more town, less field",
                    lambda f: (f["built"] >= 0.2).to_numpy()),
    "few-crops": Gate("cropland < 40 % of the cell", "little stubble to burn",
                      lambda f: (f["crops"] < 0.4).to_numpy()),
    "pop100": Gate(">= 100 people per km²", "where people live, not fields",
                   lambda f: (f["pop_km2"] >= 100).to_numpy()),
    "pop300": Gate(">= 300 people per km²", "towns",
                   lambda f: (f["pop_km2"] >= 300).to_numpy()),
    "cold-season+pop100": Gate("October to March and >= 100 people per km²",
                               "both at once",
                               lambda f: _cold_season(f) & (f["pop_km2"] >= 100).to_numpy()),
    "new-ground9": Gate("on a ~0.1 km² cell (H3 9) no peacetime fire fell on",
                        "fields burn on the same ground every year, shells do not",
                        lambda f: f["new9"].to_numpy(dtype=bool)),
    "new-ground8": Gate("on a ~0.7 km² cell (H3 8) no peacetime fire fell on",
                        "the same, allowing for a pixel's jitter",
                        lambda f: f["new8"].to_numpy(dtype=bool)),
    "new-ground7": Gate("on a ~5 km² cell (H3 7) no peacetime fire fell on",
                        "the same, a whole stretch of ground",
                        lambda f: f["new7"].to_numpy(dtype=bool)),
}


def context_features(det: pd.DataFrame, data_dir: str | Path,
                     burnt: dict[tuple[str, int], np.ndarray] | None = None) -> pd.DataFrame:
    """Per detection (same index): month, the oblast's weather that day (tmax_c,
    rain_mm, snow_cm, cloud_pct), its 0.1° cell's built-up and crop shares and people
    per km², and (given ``burnt``, from :func:`burnt_ground`) whether it lies on new
    ground at each of :data:`NEW_GROUND_RES` (``new9``, ``new8``, ``new7``; all False
    without it)."""
    from truceline.analysis.coverage import oblast_of

    lon, lat = det["lon"].to_numpy(dtype=float), det["lat"].to_numpy(dtype=float)
    day = pd.to_datetime(det["acq_date"]).dt.normalize()
    out = pd.DataFrame({"oblast_id": oblast_of(lon, lat, data_dir),
                        "date": day.to_numpy(), "month": day.dt.month.to_numpy()})
    years = sorted(day.dt.year.unique().tolist()) if len(det) else []
    wx = read_weather(data_dir, years)
    out = out.merge(wx, on=["oblast_id", "date"], how="left", validate="many_to_one")
    lu = grid_values(data_dir, LAND_USE, ["LAND_USE_CLASS_3", "LAND_USE_CLASS_4"], lon, lat)
    out["crops"] = lu["LAND_USE_CLASS_3"].to_numpy()
    out["built"] = lu["LAND_USE_CLASS_4"].to_numpy()
    out["pop_km2"] = grid_values(data_dir, POPULATION, ["POP_DENSITY"], lon,
                                 lat)["POP_DENSITY"].to_numpy()
    for r in NEW_GROUND_RES:
        out[f"new{r}"] = on_new_ground(det, burnt, r) if burnt is not None else False
    out.index = det.index
    return out


def _gated_cell_days(det: pd.DataFrame, rows: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """Over all of ``det``: the rows ``rows`` (a mask) whose cell-day has any row of
    ``rows`` meeting the gate (``hit``, aligned with ``det[rows]``)."""
    sub = det.loc[rows, ["sensor", "cell"]].assign(
        day=pd.to_datetime(det.loc[rows, "acq_date"]).dt.normalize().to_numpy(), hit=hit)
    any_hit = sub.groupby(["sensor", "cell", "day"], observed=True)["hit"].transform("any")
    out = np.zeros(len(det), dtype=bool)
    out[np.flatnonzero(rows)] = any_hit.to_numpy(dtype=bool)
    return out


def context_gates(enriched: dict[str, pd.DataFrame],
                  spans: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
                  climatologies: dict[str, dict[str, Any]], area_km2: float,
                  events: pd.DataFrame, data_dir: str | Path, *, rule: str = "seasonal",
                  km: float = 30.0, alpha: float = 0.05,
                  gates: dict[str, Gate] | None = None,
                  burnt: dict[str, dict[tuple[str, int], np.ndarray]] | None = None,
                  progress: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """``rule`` alone, then one row per gate: ``rule`` plus the improbable fire
    (p_natural < ``alpha``) within ``km`` of the line that the gate selects.

    Each row has the figures of :data:`truceline.validation.frontier.KEYS`, the calls it
    adds to ``rule`` in the events' period and their lift, and whether it keeps every
    target but recall; the answer names the best gate within those targets. ``burnt``:
    per frame (``placebo``, ``war``) the peacetime ground of its climatology's years
    (:func:`burnt_ground`); without it no fire is on new ground.
    """
    from truceline.validation.detection import _figures
    from truceline.validation.recall import calls_beyond, in_events_period, near_an_event

    gates = GATES if gates is None else gates
    base_rp = rule_params(rule)
    bound_rp = rule_params(rule, name=f"{rule} plus fire with p_natural < {alpha:g} "
                           f"within {km:g} km", line_call_km=float(km),
                           line_call_alpha=float(alpha))
    progress(f"context gates: detecting with {bound_rp.name}")
    base, bound = detect_both(enriched, spans, climatologies, [base_rp, bound_rp])
    line = {k: (bound[k]["test"].astype(object) == "line").to_numpy() for k in bound}
    progress("context gates: weather, land use and population of the band's fire")
    feats = {k: context_features(bound[k].loc[line[k]], data_dir,
                                 None if burnt is None else burnt[k]) for k in bound}
    near_event = near_an_event(in_events_period(base["war"]), events)
    base_war = in_events_period(base["war"])["war"]
    rows = []
    for name, gate in [("-", None), *gates.items()]:
        for k in bound:  # the bound's frames, their war column that of this row
            add = np.zeros(len(bound[k]), dtype=bool) if gate is None else \
                _gated_cell_days(bound[k], line[k], np.asarray(gate.test(feats[k]), bool))
            bound[k]["war"] = base[k]["war"].to_numpy() | add
        figs = _figures(bound["placebo"], bound["war"], area_km2, events)
        row: dict[str, Any] = {"gate": name, "label": gate.label if gate else rule,
                               "why": gate.why if gate else "the rule alone",
                               **{k: figs.get(k) for k in KEYS}}
        row["added_war_detections"], row["added_lift"] = calls_beyond(
            in_events_period(bound["war"]), base_war, near_event)
        row["meets_targets"] = all(meets(row.get(k), *TARGETS[k]) for k in ROW_TARGETS)
        rows.append(row)
    return {"rule": rule, "km": float(km), "alpha": float(alpha), "rows": rows,
            "best_within_targets": best_within_targets(rows[1:]),
            "band_calls": {k: int(line[k].sum()) for k in line}}
