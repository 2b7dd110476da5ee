"""Yardsticks from peacetime on the agreement's own ground: the fire rate ``held`` is
compared with, and the false-incident rate that rule V1 must exceed.

Ground that was at war in the peacetime years (the climatology's exclusions: Donetsk and
Luhansk oblasts from March 2014) is no yardstick for peace: given a :class:`WarGround`,
the yardsticks are measured off it and scaled to the scope's whole area, as the
climatology is built off it (docs/VALIDATION.md, Assessment point 17).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import shapely

from truceline.analysis.baseline import Exclusion
from truceline.analysis.coverage import to_utc, window_days
from truceline.analysis.inputs import SIDES_LINE, normalise, within_km
from truceline.analysis.rules import ALPHA_VIOLATION, NEAR_LINE_KM
from truceline.errors import InputError
from truceline.sources.agreements import Agreement

__all__ = ["GROUND_RESOLUTION", "INCIDENT", "MIN_PEACE_SHARE", "NEW_GROUND_DAY", "WarGround",
           "count_false_alarms", "dispersion", "false_incident_rate",
           "measured_false_incident_rate", "measured_zone_false_rate", "new_ground_days",
           "off_exclusions", "peacetime_rate"]

#: The units rule V1 counts false alarms in: incidents (the whole scope), or days on
#: which an incident's fire reached new ground (the contact zone): a town fought over for
#: weeks is one incident but weeks of evidence, a farm fire is a day, and a static source
#: (a landfill, works the climatology does not know) burning at the same spot day after
#: day is a day too.
INCIDENT = "incident"
NEW_GROUND_DAY = "new-ground day"
#: H3 resolution of the cells "new ground" is counted in (~0.7 km², a few VIIRS pixels).
GROUND_RESOLUTION = 8
#: The least share of a scope's area (or of its contact zone's) that must lie off ground
#: at war for the yardsticks to be measured there alone: below it the scaled rate would
#: rest on a sliver, so the yardsticks keep all ground, war included, and say so (which
#: makes ``violated`` harder, as before).
MIN_PEACE_SHARE = 0.25


@dataclass(frozen=True)
class WarGround:
    """Ground at war in the peacetime years (``exclusions``, each from its start) and the
    share of the agreement's scope, and of its contact zone, that lies off it (by area,
    :func:`truceline.analysis.false_alarms.area_ratios`).

    Why: the yardsticks are "peacetime on the same ground", but along the Donbas stretch
    2018-2021 was a war of daily shelling, which the climatology leaves out and the
    yardsticks did not: 83 % of the war windows' yardstick incidents lay in Donetsk or
    Luhansk oblast (docs/VALIDATION.md, Assessment point 16).

    ``scope_share`` and ``near_share``: the shares with every exclusion in force.
    ``steps``: (first day, scope share, near share) from each exclusion's start on, with
    every exclusion started by then in force, by day (the last is the shares above);
    empty: the shares above from the first start on (one exclusion, or all starting
    together). Why: with exclusions of different starts, a peacetime year between them is
    read off the ground at war then, and scaled by the share off that ground, not by the
    share off the earliest exclusion alone nor off all of them (review of session 13,
    point 17 (e)).
    """

    exclusions: tuple[Exclusion, ...]
    scope_share: float
    near_share: float
    steps: tuple[tuple[dt.date, float, float], ...] = ()

    def share(self, near: bool = False) -> float:
        """The share of the scope (``near``: of its contact zone) off this ground, with
        every exclusion in force."""
        return self.near_share if near else self.scope_share

    @property
    def start(self) -> pd.Timestamp:
        """The first day any of this ground was at war (a peacetime year before it, such
        as 2012 for VIIRS, is measured on all ground and not scaled)."""
        return min(pd.Timestamp(e.start) for e in self.exclusions)

    def periods(self, near: bool = False) -> list[tuple[pd.Timestamp, float]]:
        """(first day, share of the scope, ``near``: of its contact zone, off the ground
        at war from that day on) of each period between the exclusions' starts, by day."""
        if not self.steps:
            return [(self.start, self.share(near))]
        return [(pd.Timestamp(d), n if near else s) for d, s, n in self.steps]

    def measurable(self, near: bool = False) -> bool:
        """Whether enough of the ground lies off it (:data:`MIN_PEACE_SHARE`), with every
        exclusion in force, for the yardsticks to be measured there alone."""
        return _measurable(self.share(near))

    def note(self, near: bool = False) -> dict[str, Any]:
        """What the yardsticks did with this ground, for the assessment's record (with
        several periods, each's own under ``periods``)."""
        out = self._said(self.exclusions, self.share(near), self.start, near)
        if len(self.steps) > 1:
            out["periods"] = [
                {"from": str(day.date())} | self._said(
                    tuple(e for e in self.exclusions if pd.Timestamp(e.start) <= day),
                    share, day, near) for day, share in self.periods(near)]
        return out

    @staticmethod
    def _said(exclusions: tuple[Exclusion, ...], share: float, start: pd.Timestamp,
              near: bool) -> dict[str, Any]:
        """:meth:`note` of ``exclusions`` with ``share`` off them, from ``start``."""
        names = [e.name for e in exclusions]
        out: dict[str, Any] = {"share_off": round(share, 4) if np.isfinite(share) else None,
                               "from": str(start.date())}
        if _measurable(share):
            return {"left_out": names} | out
        return {"left_out": [], **out,
                "why": f"less than {MIN_PEACE_SHARE:.0%} of the "
                       f"{'contact zone' if near else 'scope'} lies off ground at war in "
                       f"the peacetime years ({', '.join(names)}): the yardstick keeps it"}

    def off(self, det: pd.DataFrame) -> np.ndarray:
        """Which rows of a frame from :func:`normalise` lie off this ground (or before its
        start).

        >>> box = Exclusion("box", shapely.box(37, 47, 39, 49), dt.date(2014, 3, 1))
        >>> det = pd.DataFrame({"lon": [38.0, 38.0, 35.0], "lat": 48.0,
        ...     "date": pd.to_datetime(["2013-08-01", "2019-08-01", "2019-08-01"])})
        >>> WarGround((box,), 0.5, 0.5).off(det).tolist()
        [True, False, True]
        """
        return off_exclusions(self.exclusions, det)


def _measurable(share: float) -> bool:
    """Whether ``share`` of the ground is enough to measure a yardstick on alone."""
    return bool(share >= MIN_PEACE_SHARE)  # NaN: no scope ground at all


def off_exclusions(exclusions: Sequence[Exclusion], det: pd.DataFrame) -> np.ndarray:
    """Which rows (``lon``, ``lat``, ``date``) lie off every exclusion in force on their
    day: :meth:`WarGround.off`, and the area shares it is scaled by."""
    out = np.ones(len(det), dtype=bool)
    x, y = det["lon"].to_numpy(dtype=float), det["lat"].to_numpy(dtype=float)
    day = pd.to_datetime(det["date"])
    for ex in exclusions:  # one or two polygons, not detections
        shapely.prepare(ex.geometry)
        out &= ~(shapely.contains_xy(ex.geometry, x, y)
                 & (day >= pd.Timestamp(ex.start)).to_numpy())
    return out


class PeaceGround(NamedTuple):
    """The ground a peacetime yardstick is read on (:func:`_peace_ground`): ``off``, the
    rows counted; each period's first day (``starts``, after the first period) and the
    factor that scales a count of its days to the whole scope (``factors``, the first
    period's before any exclusion: 1); ``note``, what was done."""

    off: np.ndarray
    starts: np.ndarray
    factors: tuple[float, ...]
    note: dict[str, Any]

    @property
    def scaled(self) -> bool:
        """Whether any period is read off ground at war (else all ground, unscaled)."""
        return len(self.factors) > 1

    def weigh(self, days: Any) -> float:
        """A count of units (detections, incidents, new-ground days) on ``days`` (one each)
        scaled to the whole scope: each period's count times its factor.

        Why each unit by its own day (review of session 13, point 17 (d)): a peacetime
        window across an exclusion's start (a window across the turn of 2013-2014, before
        1 March 2014) is read as two, the part before it on all ground and unscaled, the
        part from it off the ground at war then and scaled, as any year after it is; an
        incident across the start counts once, on its first day among the rows counted
        (:func:`_counted`), so nothing is dropped and nothing counted twice. A window in
        one period is scaled as one count, as before.

        >>> g = PeaceGround(np.ones(0, bool), pd.to_datetime(["2014-03-01"]).to_numpy(),
        ...                 (1.0, 2.0), {})
        >>> g.weigh(pd.to_datetime(["2014-02-27", "2014-02-28", "2014-03-01"]))
        4.0
        """
        at = np.searchsorted(self.starts, np.asarray(days, dtype="datetime64[ns]"),
                             side="right")
        n = np.bincount(at, minlength=len(self.factors))
        return float(sum(int(c) * f for c, f in zip(n, self.factors, strict=True) if c))


def _peace_ground(det: pd.DataFrame, war: WarGround | None, near: bool) -> PeaceGround:
    """The rows off ground at war, and the factors that scale the counts of each period
    to the whole scope (:class:`PeaceGround`): all rows and 1 without ``war``. A period
    with too little ground off it (:data:`MIN_PEACE_SHARE`) keeps all of it, unscaled."""
    everything = PeaceGround(np.ones(len(det), dtype=bool),
                             np.array([], dtype="datetime64[ns]"), (1.0,), {})
    if war is None or not war.exclusions:
        return everything
    note = {"war_ground": war.note(near)}
    periods = war.periods(near)
    measured = np.array([True] + [_measurable(s) for _, s in periods])
    if not measured[1:].any():
        return everything._replace(note=note)
    starts = pd.DatetimeIndex([d for d, _ in periods]).to_numpy(dtype="datetime64[ns]")
    at = np.searchsorted(starts, pd.to_datetime(det["date"]).to_numpy(dtype="datetime64[ns]"),
                         side="right")
    off = war.off(det) | ~measured[at]  # a period with too little ground off keeps it all
    factors = (1.0, *(1.0 / s if _measurable(s) else 1.0 for _, s in periods))
    return PeaceGround(off, starts, factors, note)


def peacetime_rate(detections: pd.DataFrame, agreement: Agreement, years: Sequence[int],
                   max_km: float | None = None, war_ground: WarGround | None = None) -> float:
    """Detections per day in the agreement's scope during the same calendar window in
    peacetime ``years`` (detections enriched against the agreement's line).

    Why: ``held`` needs a yardstick for "no more fire than in peace" on the same ground
    and in the same season; the caller must pass detections of the same sensors.
    ``max_km``: only the scope within that distance of the line (the contact zone).
    ``war_ground``: ground at war then: the rate is the lower of all ground's and the
    rate off it scaled to the whole scope. The lower, because the scaling takes fire to
    be spread evenly, and where it is not (a January with no fire on the war ground, all
    of it elsewhere) the scaled rate is the higher and would make ``held`` easier on a
    war window (docs/VALIDATION.md, Assessment point 17): ``held`` needs the window's fire
    at the level of both readings of peace.
    """
    if not years:
        raise InputError("peacetime_rate: expected at least one peacetime year")
    det = normalise(detections)
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"]) \
        & det["side"].isin(SIDES_LINE).to_numpy() & within_km(det, max_km)  # once
    every = _peacetime_rate(det, agreement, years, scope, _peace_ground(det, None, False))
    ground = _peace_ground(det, war_ground, max_km is not None)
    if not ground.scaled:
        return every
    return min(every, _peacetime_rate(det, agreement, years, scope & ground.off, ground))


def _peacetime_rate(det: pd.DataFrame, agreement: Agreement, years: Sequence[int],
                    scope: np.ndarray, ground: PeaceGround) -> float:
    """:func:`peacetime_rate` of the rows ``scope`` (normalised), each year's count scaled
    by ``ground`` (:meth:`PeaceGround.weigh`: each detection by its own day's period)."""
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    day = det["date"].to_numpy(dtype="datetime64[ns]")
    total = 0.0
    exposure = 0.0
    for y in years:
        shift = pd.DateOffset(years=int(y) - w0.year)
        s, e = w0 + shift, w1 + shift
        days = window_days(s, e)
        total += ground.weigh(day[scope & det["date"].isin(days).to_numpy()])
        exposure += float(len(days))
    return total / exposure


def false_incident_rate(detections: pd.DataFrame, agreement: Agreement,
                        years: Sequence[int], margin_days: int = 30,
                        pooled: bool = False, war_ground: WarGround | None = None) -> float:
    """Incidents with p_min < 0.01 per day in the agreement's scope in peacetime ``years``,
    around the same calendar window (+- ``margin_days``: false alarms are rare, and
    seasonal): the rate of the worst of those years, or with ``pooled`` their pooled rate.

    Why: the detection stage has a false-alarm rate; a verdict of ``violated`` must rest
    on more incidents than that rate would produce in the window. The rate moves a lot
    from year to year (southern line, VIIRS, whole years: 7, 4, 2 and 10 false incidents
    in 2018-2021), so the pooled rate of other years under-predicts a bad year; the
    worst year's rate asks that the incidents be improbable even then.
    ``detections``: scored peacetime detections with ``incident_id``, enriched against
    the agreement's line.
    """
    if not years:
        raise InputError("false_incident_rate: expected at least one peacetime year")
    worst, pooled_rate, *_ = _false_rates(detections, agreement, years, margin_days,
                                          war_ground=war_ground)
    return pooled_rate if pooled else worst


def new_ground_days(det: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """Per incident with a detection of p_natural < 0.01 among ``rows``: the UTC days on
    which such a detection lit an H3 cell (:data:`GROUND_RESOLUTION`) that the incident had
    not lit on an earlier day among ``rows``.

    Example: a static source seen on three days counts 1; a fire that moves to new
    cells on each of three days counts 3.

    >>> det = pd.DataFrame({"incident_id": ["s"] * 3 + ["m"] * 3, "p_natural": 1e-3,
    ...     "lon": [37.0] * 3 + [37.0, 37.02, 37.04], "lat": 48.0,
    ...     "date": pd.to_datetime(["2021-08-01", "2021-08-02", "2021-08-03"] * 2)})
    >>> new_ground_days(det, np.ones(6, dtype=bool)).to_dict()
    {'m': 3, 's': 1}
    """
    first = _first_lit(det, rows)
    if first.empty:
        return pd.Series(dtype=np.int64)
    return first.groupby("incident_id")["date"].nunique().astype(np.int64)


def _first_lit(det: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """(``incident_id``, ``cell``, ``date``): the first day among ``rows`` on which each
    incident lit each H3 cell with a detection of p_natural < 0.01 (:func:`new_ground_days`
    counts each incident's distinct such days)."""
    from truceline.geo.grid import h3_cells

    pick = rows & det["incident_id"].notna().to_numpy() \
        & (det["p_natural"] < ALPHA_VIOLATION).to_numpy()
    d = det.loc[pick, ["incident_id", "date"]].astype({"incident_id": str})
    if d.empty:
        return pd.DataFrame({"incident_id": [], "cell": [], "date": []})
    d["cell"] = h3_cells(det.loc[pick, "lat"].to_numpy(), det.loc[pick, "lon"].to_numpy(),
                         GROUND_RESOLUTION)
    return d.groupby(["incident_id", "cell"])["date"].min().reset_index()


def dispersion(per_incident: pd.Series) -> float:
    """Variance over mean of a count made of incidents' contributions (Σ n² / Σ n): what
    a compound Poisson count of incidents, each contributing ``n``, has; 1.0 with none.

    >>> dispersion(pd.Series([1, 1, 4]))
    3.0
    """
    total = float(per_incident.sum())
    return float((per_incident.astype(float) ** 2).sum()) / total if total > 0 else 1.0


def count_false_alarms(det: pd.DataFrame, rows: np.ndarray, unit: str = INCIDENT,
                       p_min: pd.Series | None = None) -> pd.Series:
    """Each incident's contribution to a count of false alarms among ``rows``: 1 for an
    incident with a detection there whose p_min is below 0.01 (``unit``
    :data:`INCIDENT`), or its :func:`new_ground_days` (:data:`NEW_GROUND_DAY`).

    ``det``: normalised detections (``incident_id``, ``p_natural``, ``date``, ``lon``,
    ``lat``); ``p_min``: each incident's lowest p_natural (computed from ``det`` when not
    given).

    Example
    -------
    >>> det = pd.DataFrame({"incident_id": ["a", "a", "a", "b"], "p_natural": [1e-3] * 4,
    ...     "lon": [37.0, 37.0, 37.03, 36.0], "lat": 48.0,
    ...     "date": pd.to_datetime(["2021-08-01", "2021-08-01", "2021-08-02", "2021-08-01"])})
    >>> rows = np.ones(4, dtype=bool)
    >>> int(count_false_alarms(det, rows).sum()), int(count_false_alarms(det, rows,
    ...     NEW_GROUND_DAY).sum())
    (2, 3)
    """
    if unit not in (INCIDENT, NEW_GROUND_DAY):
        raise InputError(f"false alarms: unit {unit!r}: expected {INCIDENT!r} or "
                         f"{NEW_GROUND_DAY!r}")
    if unit == NEW_GROUND_DAY:
        return new_ground_days(det, rows)
    rows = rows & det["incident_id"].notna().to_numpy()
    present = det.loc[rows, "incident_id"].unique()
    if p_min is None:  # only the incidents among the rows: a window, not the history
        of = det.loc[det["incident_id"].isin(present)]
        p_min = of.groupby(of["incident_id"].astype(str))["p_natural"].min()
    ids = pd.Index(pd.Series(present, dtype=object).astype(str).unique())
    ids = ids[(p_min.reindex(ids) < ALPHA_VIOLATION).to_numpy()]
    return pd.Series(1, index=ids, dtype=np.int64)


def _counted(det: pd.DataFrame, rows: np.ndarray, unit: str, p_min: pd.Series | None
             ) -> tuple[pd.Series, np.ndarray]:
    """:func:`count_false_alarms` and the day each unit it counts falls on (an incident:
    its first day among ``rows``; a new-ground day: that day), for
    :meth:`PeaceGround.weigh`."""
    if unit == NEW_GROUND_DAY:
        first = _first_lit(det, rows)
        if first.empty:
            return pd.Series(dtype=np.int64), np.array([], dtype="datetime64[ns]")
        days = first[["incident_id", "date"]].drop_duplicates()["date"]
        return (first.groupby("incident_id")["date"].nunique().astype(np.int64),
                days.to_numpy(dtype="datetime64[ns]"))
    part = count_false_alarms(det, rows, unit, p_min)
    r = rows & det["incident_id"].notna().to_numpy()
    first_day = det.loc[r, "date"].groupby(det.loc[r, "incident_id"].astype(str)).min()
    return part, first_day.reindex(part.index).to_numpy(dtype="datetime64[ns]")


def _false_rates(detections: pd.DataFrame, agreement: Agreement, years: Sequence[int],
                 margin_days: int, max_km: float | None = None,
                 unit: str = INCIDENT, war_ground: WarGround | None = None
                 ) -> tuple[float, float, float, float, int, dict[str, Any]]:
    """(worst year's, pooled) false-incident rates of :func:`false_incident_rate`, from one
    pass over the detections, the :func:`dispersion` of the pooled count, the mean factor
    (over the days) the counts were scaled by to the whole scope, the pooled count itself
    and what :class:`WarGround` did; with
    ``max_km``, of the incidents with a detection in scope within that distance of the
    line (rule V1's contact zone); counted in ``unit`` (:func:`count_false_alarms`)."""
    det = normalise(detections)
    ground = _peace_ground(det, war_ground, max_km is not None)
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"]) \
        & within_km(det, max_km) & ground.off
    p_min = None  # each incident's lowest p_natural, once for every year: incidents only
    if unit == INCIDENT:
        has = det["incident_id"].notna().to_numpy()
        p_min = det.loc[has].groupby(det.loc[has, "incident_id"].astype(str))["p_natural"].min()
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    counts, scaled, exposures, parts, scaled_days = [], [], [], [], []
    for y in years:  # a handful of years, not detections
        shift = pd.DateOffset(years=int(y) - w0.year)
        first = w0 + shift - pd.Timedelta(days=margin_days)
        days = window_days(first, w1 + shift + pd.Timedelta(days=margin_days))
        m = scope & det["date"].isin(days).to_numpy()
        part, on = _counted(det, m, unit, p_min)
        counts.append(int(part.sum()))
        scaled.append(ground.weigh(on))  # each unit by its own day's period
        parts.append(part)
        exposures.append(float(len(days)))
        scaled_days.append(ground.weigh(days))
    worst = max(c / e for c, e in zip(scaled, exposures, strict=True))
    spread = dispersion(pd.concat(parts, ignore_index=True)) if parts else 1.0
    pooled = sum(scaled) / sum(exposures)
    mean_scale = sum(scaled_days) / sum(exposures)
    return worst, pooled, spread, mean_scale, sum(counts), ground.note


def measured_false_incident_rate(detections: pd.DataFrame | None, agreement: Agreement,
                                 years: Sequence[int], margin_days: int = 30,
                                 fallback: float | None = None,
                                 max_km: float | None = None,
                                 unit: str = INCIDENT,
                                 war_ground: WarGround | None = None) -> dict[str, object]:
    """The false-incident rate rule V1 weighs, measured on the agreement's own ground,
    line and season, with what it rests on.

    ``detections``: peacetime detections scored with a climatology that leaves their
    year out (``incident_id`` and ``p_natural``), enriched against the agreement's line.
    The rate is the larger of the worst year's rate (:func:`false_incident_rate`) and the
    upper end of the exact 95 % Poisson interval of the pooled count over the pooled
    days: with few or no false incidents seen, the rate still cannot be lower than what
    those days could not rule out. Without any peacetime year or detection it falls back
    to ``fallback`` (default: :data:`~truceline.analysis.rules.DEFAULT_FALSE_INCIDENTS_PER_DAY`,
    the constant used before), so a missing measurement never makes ``violated`` easier.
    ``max_km``: only incidents with a detection in scope within that distance of the
    line (the contact zone rule V1 also tests, :data:`~truceline.analysis.rules.NEAR_LINE_KM`).
    ``unit``: what is counted (:func:`count_false_alarms`); the rate is per day in it,
    and ``dispersion`` (:func:`dispersion`) says how the count clusters in incidents.
    ``war_ground``: ground at war in those years, left out; the count off it is scaled to
    the whole scope (its Poisson bound too, so less ground measured means a wider bound).

    Example
    -------
    >>> from truceline.sources.agreements import parse_agreement
    >>> a = parse_agreement('name = "x"\\ntime_zone = "UTC"\\nstart = "2021-08-01 00:00"\\n'
    ...     'duration_days = 7\\n[[parties]]\\nid = "ru"\\nname = "R"\\n'
    ...     '[[parties]]\\nid = "ua"\\nname = "U"\\n')
    >>> measured_false_incident_rate(None, a, [])["source"]
    'fallback'
    """
    from truceline.analysis.rates import poisson_ci
    from truceline.analysis.rules import DEFAULT_FALSE_INCIDENTS_PER_DAY

    default = DEFAULT_FALSE_INCIDENTS_PER_DAY if fallback is None else float(fallback)
    if detections is None or not len(years) or detections.empty:
        return {"rate_per_day": default, "source": "fallback", "years": list(years),
                "unit": unit,
                "why": "no peacetime detections of this ground scored with a climatology "
                       "that leaves their year out: the constant rate is used"}
    worst, pooled, spread, scale, count, note = _false_rates(
        detections, agreement, years, margin_days, max_km, unit, war_ground)
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    exposure = float(len(window_days(w0 - pd.Timedelta(days=margin_days),
                                     w1 + pd.Timedelta(days=margin_days)))) * len(years)
    upper = poisson_ci(count)[1] / exposure * scale  # scaled as the counts were
    return {"rate_per_day": max(worst, upper), "source": "measured", "years": list(years),
            "worst_year_per_day": worst, "pooled_per_day": pooled, "pooled_count": count,
            "pooled_days": exposure, "upper95_per_day": upper, "margin_days": margin_days,
            "max_km": max_km, "unit": unit, "dispersion": spread, **note}


def measured_zone_false_rate(detections: pd.DataFrame | None, agreement: Agreement,
                             years: Sequence[int], margin_days: int = 30,
                             war_ground: WarGround | None = None) -> dict[str, object]:
    """:func:`measured_false_incident_rate` for rule V1's contact zone, counted as V1
    counts there: days on which an incident's fire reached new ground within
    :data:`~truceline.analysis.rules.NEAR_LINE_KM` of the line (:data:`NEW_GROUND_DAY`).
    One place says what the zone's yardstick is, for `assess` and the validation alike."""
    return measured_false_incident_rate(detections, agreement, years, margin_days,
                                        max_km=NEAR_LINE_KM, unit=NEW_GROUND_DAY,
                                        war_ground=war_ground)
