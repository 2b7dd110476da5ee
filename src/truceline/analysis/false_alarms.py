"""The false-incident rate rule V1 weighs, measured in the window's own days.

Why: a ``violated`` verdict must rest on more incidents than false alarms would give in
that window. A constant rate ignores the season and the line: in August the whole
country burns its stubble, and a 2,000 km line has more ground for false alarms than a
200 km sector. The window's own days are measured on the control band (60-150 km from
the line by default, on ground either party holds): its incidents with p_natural below
0.01 per day, scaled by the scope's area over the control band's, are the false alarms
that season and farming gave that very week far from the fighting. The rate used is the
largest of that, the rate measured in peacetime years on the same ground and season
(scored with a climatology that leaves those years out, when the lake holds one:
``pipeline.peacetime_false_rate_for``) and the constant floor
(:data:`~truceline.analysis.rules.DEFAULT_FALSE_INCIDENTS_PER_DAY`), so measuring can
only make ``violated`` harder, never easier; in war the control band also takes
strikes, which raises the rate and costs some true ``violated`` verdicts
(docs/VALIDATION.md gives the price).

The same three yardsticks are also given for the contact zone alone, the scope's ground
within :data:`~truceline.analysis.rules.NEAR_LINE_KM` of the line (``near``): fighting
concentrates there while farm fires are spread by area (docs/VALIDATION.md: 49 % of the
2022-2023 proving incidents within 5 km of the line, 19 % of the peacetime ones on the
same line), so rule V1 also tests the incidents there against the rate there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from truceline.analysis.baseline import Exclusion
from truceline.analysis.coverage import to_utc, window_days
from truceline.analysis.inputs import SIDES_LINE, normalise, within_km
from truceline.analysis.peacetime import (
    INCIDENT,
    NEW_GROUND_DAY,
    WarGround,
    count_false_alarms,
    dispersion,
    off_exclusions,
)
from truceline.analysis.rules import (
    ALPHA_VIOLATION,
    DEFAULT_FALSE_INCIDENTS_PER_DAY,
    NEAR_LINE_KM,
)
from truceline.sources.agreements import Agreement

__all__ = ["area_ratio", "area_ratios", "control_band_incidents", "grid_points",
           "window_false_rate"]

#: Spacing (km) of the grid that measures the scope's and the control band's areas.
GRID_KM = 5.0


def grid_points(spacing_km: float = GRID_KM) -> pd.DataFrame:
    """Points of a regular grid in the theatre's metric CRS inside Ukraine, as
    detection-like rows (lon, lat, acq_date, detection_id) for :func:`geo.enrich.enrich`.

    Why a grid: the scope is whatever the agreement says (bands, sectors, polygons,
    exclusions), and its own mask on enriched points measures any of them the same way.
    """
    from truceline.geo import outlines

    ukr = outlines.outline_m("UKR")
    x0, y0, x1, y1 = ukr.bounds
    step = spacing_km * 1000.0
    xs, ys = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    xs, ys = xs.ravel(), ys.ravel()
    shapely.prepare(ukr)
    inside = shapely.contains_xy(ukr, xs, ys)
    pts = outlines.to_lonlat(shapely.points(xs[inside], ys[inside]))
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    return pd.DataFrame({"lon": lon, "lat": lat, "acq_date": pd.Timestamp("2000-01-01"),
                         "detection_id": np.char.add("g", np.arange(int(inside.sum()))
                                                     .astype(str))})


def area_ratio(snapshot: Any, agreement: Agreement, spacing_km: float = GRID_KM) -> float:
    """The scope's area over the control band's, both on ground either party holds inside
    Ukraine, against ``snapshot`` (one control snapshot, a GeoDataFrame row); NaN when the
    control band holds no ground.

    Example: the whole line, 0-30 km against 60-150 km, is about 0.4 of it.
    """
    return area_ratios(snapshot, agreement, spacing_km)["scope"]


def area_ratios(snapshot: Any, agreement: Agreement, spacing_km: float = GRID_KM,
                near_km: float = NEAR_LINE_KM, exclusions: Sequence[Exclusion] = ()
                ) -> dict[str, Any]:
    """:func:`area_ratio` (``scope``) and the same for the scope's ground within
    ``near_km`` of the line (``near``: the contact zone rule V1 also tests), both over
    the control band's area; NaN when the control band holds no ground.

    With ``exclusions`` (the climatology's: ground at war in the peacetime years) also
    ``war_ground``: the :class:`~truceline.analysis.peacetime.WarGround` the peacetime
    yardsticks leave out, with the share of the scope and of its contact zone off it
    (NaN when the scope holds no ground), from each exclusion's start on with every
    exclusion started by then in force.
    """
    from truceline.geo.enrich import enrich

    snap = snapshot.iloc[[-1]].copy()
    snap["valid_from"] = pd.Timestamp("1900-01-01")
    e = normalise(pd.DataFrame(enrich(grid_points(spacing_km), snap).drop(columns="geometry")))
    held = e["side"].isin(SIDES_LINE).to_numpy()
    in_scope = held & agreement.scope.mask(e["dist_km"], e["sector"], e["lon"], e["lat"])
    near = in_scope & within_km(e, near_km)
    out: dict[str, Any] = {}
    if exclusions:
        # from each start on, every exclusion in force by then: the shares the peacetime
        # years between the starts are read at (one start today: one share)
        steps: list[tuple[Any, float, float]] = []
        for day in sorted({x.start for x in exclusions}):  # a start or two, not points
            off = off_exclusions(exclusions, e.assign(date=pd.Timestamp(day)))
            steps.append((day, _share(off, in_scope), _share(off, near)))
        out["war_ground"] = WarGround(tuple(exclusions), steps[-1][1], steps[-1][2],
                                      tuple(steps))
    control = int((held & agreement.control_mask(e["dist_km"])).sum())
    if not control:
        return out | {"scope": float("nan"), "near": float("nan")}
    return out | {"scope": int(in_scope.sum()) / control, "near": int(near.sum()) / control}


def _share(rows: np.ndarray, of: np.ndarray) -> float:
    """The share of the ``of`` rows that ``rows`` holds (NaN when none)."""
    n = int(of.sum())
    return int((rows & of).sum()) / n if n else float("nan")


def control_band_incidents(detections: pd.DataFrame, agreement: Agreement,
                           unit: str = INCIDENT) -> pd.Series:
    """Each incident's contribution to the count of incidents with a detection of
    p_natural < 0.01 on control-band ground either party holds, on a UTC day the window
    touches (1 each; ``unit`` :data:`~truceline.analysis.peacetime.NEW_GROUND_DAY`: its
    days on new ground there): ``.sum()`` is the count."""
    det, band = _band_rows(detections, agreement)
    return count_false_alarms(det, band, unit)


def _band_rows(detections: pd.DataFrame, agreement: Agreement) -> tuple[pd.DataFrame,
                                                                         np.ndarray]:
    """The normalised detections and which of them :func:`control_band_incidents`
    counts: control band, ground either party holds, window days, p_natural < 0.01."""
    det = normalise(detections)
    days = window_days(to_utc(agreement.start_utc), to_utc(agreement.end_utc))
    m = (agreement.control_mask(det["dist_km"]) & det["side"].isin(SIDES_LINE).to_numpy()
         & det["date"].isin(days).to_numpy()
         & (det["p_natural"] < ALPHA_VIOLATION).to_numpy())
    return det, m


def window_false_rate(detections: pd.DataFrame, agreement: Agreement, ratio: float, *,
                      floor: float = DEFAULT_FALSE_INCIDENTS_PER_DAY,
                      peacetime: dict[str, Any] | None = None,
                      near_ratio: float | None = None,
                      near_peacetime: dict[str, Any] | None = None) -> dict[str, Any]:
    """The false-incident rate for V1 and what it rests on: the largest of ``floor``, the
    control band's incidents per window day times ``ratio`` (:func:`area_ratio`) and the
    rate measured in peacetime on the agreement's own ground and season (``peacetime``:
    a dict with ``rate_per_day``, e.g. from
    :func:`truceline.analysis.peacetime.measured_false_incident_rate`; None, or a rate of
    None with ``why``, when it cannot be measured).

    ``detections``: the window's scored, clustered and enriched detections (with
    ``incident_id`` and ``p_natural``). A ratio that is not finite (no control band
    ground) leaves the band out.

    With ``near_ratio`` (:func:`area_ratios`, ``near``; positive) the result also holds
    ``near``: the same yardsticks for the contact zone (the floor scaled by its share of
    the scope's area, the band by ``near_ratio``, ``near_peacetime`` measured there), for
    rule V1's second test, which counts the days on which an incident's fire reached new
    ground there (:data:`~truceline.analysis.peacetime.NEW_GROUND_DAY`): the band's rate
    is then its new-ground days per window day, and ``near["dispersion"]`` (how that count
    clusters in incidents, :func:`~truceline.analysis.peacetime.dispersion`) the larger of
    the band's own and the one measured with the peacetime rate.

    Example
    -------
    >>> from truceline.sources.agreements import parse_agreement
    >>> a = parse_agreement('name = "x"\\ntime_zone = "UTC"\\nstart = "2021-08-01 00:00"\\n'
    ...     'duration_days = 2\\n[[parties]]\\nid = "ru"\\nname = "R"\\n'
    ...     '[[parties]]\\nid = "ua"\\nname = "U"\\n')
    >>> det = pd.DataFrame({"lon": [36.0] * 3, "lat": [48.0] * 3, "side": "ua",
    ...     "distance_km": [80.0, 90.0, 100.0], "p_natural": [0.001, 0.001, 0.5],
    ...     "incident_id": ["a", "b", "c"], "acq_date": pd.Timestamp("2021-08-01")})
    >>> r = window_false_rate(det, a, 0.5)
    >>> r["control_incidents"], r["control_per_day"], r["rate_per_day"], r["source"]
    (2, 0.5, 0.5, 'control band, same days')
    >>> window_false_rate(det, a, 0.5, peacetime={"rate_per_day": 0.8})["source"]
    'peacetime, same ground and season'
    >>> near = window_false_rate(det, a, 0.5, near_ratio=0.1)["near"]
    >>> near["rate_per_day"], near["source"], near["unit"], near["dispersion"]
    (0.1, 'control band, same days', 'new-ground day', 1.0)
    """
    det, in_band = _band_rows(detections, agreement)  # once, for both counts
    n = int(count_false_alarms(det, in_band).sum())
    days = len(window_days(to_utc(agreement.start_utc), to_utc(agreement.end_utc)))
    out = _largest(floor, n / max(days, 1) * ratio if np.isfinite(ratio) else float("nan"),
                   peacetime)
    out.update({"control_incidents": n, "control_days": days,
                "area_ratio": None if not np.isfinite(ratio) else round(float(ratio), 4)})
    if near_ratio is not None and np.isfinite(near_ratio) and near_ratio > 0:
        share = near_ratio / ratio if np.isfinite(ratio) and ratio > 0 else 1.0
        band = count_false_alarms(det, in_band, NEW_GROUND_DAY)
        n_days = int(band.sum())
        near = _largest(floor * share, n_days / max(days, 1) * near_ratio, near_peacetime)
        # the most clustered of the counts measured, as the rate is the largest
        measured = near_peacetime is not None and near_peacetime.get("rate_per_day") \
            is not None
        spread = max(dispersion(band), float(near_peacetime.get("dispersion", 1.0))
                     if measured else 1.0)  # type: ignore[union-attr]
        out["near"] = {**near, "km": NEAR_LINE_KM, "unit": NEW_GROUND_DAY,
                       "dispersion": spread, "control_incidents": n_days,
                       "control_days": days, "area_ratio": round(float(near_ratio), 4),
                       "share_of_scope": round(float(share), 4)}
    return out


def _largest(floor: float, band: float, peacetime: dict[str, Any] | None) -> dict[str, Any]:
    """The largest of the floor, the band's rate and the peacetime rate, named."""
    peace = None if peacetime is None or peacetime.get("rate_per_day") is None \
        else float(peacetime["rate_per_day"])
    candidates = {"floor": float(floor)}
    if np.isfinite(band):
        candidates["control band, same days"] = float(band)
    if peace is not None and np.isfinite(peace):
        candidates["peacetime, same ground and season"] = peace
    source = max(candidates, key=lambda k: (candidates[k], k == "floor"))
    return {"rate_per_day": candidates[source], "source": source, "floor_per_day": float(floor),
            "control_per_day": None if not np.isfinite(band) else float(band),
            "peacetime_per_day": peace, "peacetime": peacetime}
