"""Yardsticks from peacetime on the agreement's own ground: the fire rate ``held`` is
compared with, and the false-incident rate that rule V1 must exceed."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from truceline.analysis.coverage import to_utc, window_days
from truceline.analysis.inputs import SIDES_LINE, normalise, within_km
from truceline.analysis.rules import ALPHA_VIOLATION
from truceline.errors import InputError
from truceline.sources.agreements import Agreement

__all__ = ["false_incident_rate", "measured_false_incident_rate", "peacetime_rate"]


def peacetime_rate(detections: pd.DataFrame, agreement: Agreement, years: Sequence[int],
                   max_km: float | None = None) -> float:
    """Detections per day in the agreement's scope during the same calendar window in
    peacetime ``years`` (detections enriched against the agreement's line).

    Why: ``held`` needs a yardstick for "no more fire than in peace" on the same ground
    and in the same season; the caller must pass detections of the same sensors.
    ``max_km``: only the scope within that distance of the line (the contact zone).
    """
    if not years:
        raise InputError("peacetime_rate: expected at least one peacetime year")
    det = normalise(detections)
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"]) \
        & det["side"].isin(SIDES_LINE).to_numpy() & within_km(det, max_km)
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    total = 0
    exposure = 0.0
    for y in years:
        shift = pd.DateOffset(years=int(y) - w0.year)
        s, e = w0 + shift, w1 + shift
        days = window_days(s, e)
        total += int((scope & det["date"].isin(days).to_numpy()).sum())
        exposure += float(len(days))
    return total / exposure


def false_incident_rate(detections: pd.DataFrame, agreement: Agreement,
                        years: Sequence[int], margin_days: int = 30,
                        pooled: bool = False) -> float:
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
    worst, pooled_rate = _false_rates(detections, agreement, years, margin_days)
    return pooled_rate if pooled else worst


def _false_rates(detections: pd.DataFrame, agreement: Agreement, years: Sequence[int],
                 margin_days: int, max_km: float | None = None) -> tuple[float, float]:
    """(worst year's, pooled) false-incident rates of :func:`false_incident_rate`, from one
    pass over the detections; with ``max_km``, of the incidents with a detection in scope
    within that distance of the line (rule V1's contact zone)."""
    det = normalise(detections)
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"]) \
        & within_km(det, max_km)
    has = det["incident_id"].notna().to_numpy()
    p_min = det.groupby(det["incident_id"].astype(str))["p_natural"].min() if has.any() \
        else pd.Series(dtype=float)
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    counts, exposures = [], []
    for y in years:  # a handful of years, not detections
        shift = pd.DateOffset(years=int(y) - w0.year)
        days = window_days(w0 + shift - pd.Timedelta(days=margin_days),
                           w1 + shift + pd.Timedelta(days=margin_days))
        m = has & scope & det["date"].isin(days).to_numpy()
        ids = det.loc[m, "incident_id"].astype(str).unique()
        counts.append(int((p_min.reindex(ids) < ALPHA_VIOLATION).sum()))
        exposures.append(float(len(days)))
    worst = max(c / e for c, e in zip(counts, exposures, strict=True))
    return worst, sum(counts) / sum(exposures)


def measured_false_incident_rate(detections: pd.DataFrame | None, agreement: Agreement,
                                 years: Sequence[int], margin_days: int = 30,
                                 fallback: float | None = None,
                                 max_km: float | None = None) -> dict[str, object]:
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
                "why": "no peacetime detections of this ground scored with a climatology "
                       "that leaves their year out: the constant rate is used"}
    worst, pooled = _false_rates(detections, agreement, years, margin_days, max_km)
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    exposure = float(len(window_days(w0 - pd.Timedelta(days=margin_days),
                                     w1 + pd.Timedelta(days=margin_days)))) * len(years)
    count = int(round(pooled * exposure))
    upper = poisson_ci(count)[1] / exposure
    return {"rate_per_day": max(worst, upper), "source": "measured", "years": list(years),
            "worst_year_per_day": worst, "pooled_per_day": pooled, "pooled_count": count,
            "pooled_days": exposure, "upper95_per_day": upper, "margin_days": margin_days,
            "max_km": max_km}
