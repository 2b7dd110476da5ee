"""Rates and their uncertainty: exact Poisson intervals, the exact conditional rate-ratio
test, the front-against-control ratio of rate ratios, and the overdispersion that widens
them (daily counts are clustered, so plain Poisson intervals are too narrow).

Pure functions of counts and exposures; :mod:`truceline.analysis.assess` applies them to
an agreement's window and comparison window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import odds_ratio

from truceline.errors import InputError

__all__ = ["LEVEL", "DaySpans", "RateRatio", "RatioOfRateRatios", "at_least",
           "nbinom_at_least", "poisson_ci", "rate_ratio_test", "ratio_of_rate_ratios",
           "widened"]

LEVEL = 0.95


def poisson_ci(x: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson mean given count ``x``.

    Example
    -------
    >>> [round(v, 3) for v in poisson_ci(0)]
    [0.0, 3.689]
    """
    a = 1.0 - level
    lo = 0.0 if x == 0 else float(stats.chi2.ppf(a / 2, 2 * x) / 2)
    hi = float(stats.chi2.ppf(1 - a / 2, 2 * x + 2) / 2)
    return lo, hi


def at_least(n: int, mean: float, dispersion: float = 1.0) -> float:
    """P(X >= n) for a count with this ``mean``: Poisson, or with ``dispersion`` > 1 a
    negative binomial whose variance is ``dispersion`` x mean (a count made of clusters,
    e.g. incidents contributing several days each, is not Poisson).

    Example
    -------
    >>> round(at_least(3, 0.5), 4), round(at_least(3, 0.5, dispersion=2.0), 4)
    (0.0144, 0.0498)
    """
    if n <= 0:
        return 1.0
    if dispersion <= 1.0:
        return float(stats.poisson.sf(n - 1, mean))
    return float(nbinom_at_least(np.asarray(n), np.asarray(mean),
                                 np.asarray(dispersion * mean)))


def nbinom_at_least(n: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """P(X >= n), elementwise, for negative binomials of this mean and variance
    (``var`` > ``mean``): :func:`at_least` and the detection's season test
    (:mod:`truceline.analysis.anomaly`) share it."""
    r = mean**2 / (var - mean)
    return stats.nbinom.sf(n - 1, r, r / (r + mean))


@dataclass(frozen=True)
class RateRatio:
    """Window rate over comparison rate, exact conditional test (Poisson counts)."""

    x_window: int
    x_comparison: int
    t_window: float
    t_comparison: float
    rate_window: float
    rate_comparison: float
    ratio: float
    lo: float
    hi: float
    p_value: float


def rate_ratio_test(x1: int, t1: float, x0: int, t0: float, level: float = LEVEL
                    ) -> RateRatio:
    """Exact conditional test and interval for the ratio of two Poisson rates.

    Why conditional: given the total ``n``, the window's share is binomial with a
    probability that depends on the ratio alone, so the interval (Clopper-Pearson) and
    the two-sided p-value (H0: ratio 1) are exact whatever the unknown baseline rate.

    Example
    -------
    >>> r = rate_ratio_test(10, 1.0, 20, 1.0)
    >>> round(r.ratio, 2), round(r.lo, 3), round(r.hi, 3)
    (0.5, 0.209, 1.119)
    """
    if t1 <= 0 or t0 <= 0:
        raise InputError(f"rate_ratio_test: exposures must be positive, got {t1}, {t0}")
    if x1 < 0 or x0 < 0:
        raise InputError(f"rate_ratio_test: counts must be >= 0, got {x1}, {x0}")
    x1, x0 = int(x1), int(x0)
    n = x1 + x0
    r1, r0 = x1 / t1, x0 / t0
    ratio = r1 / r0 if x0 > 0 else (math.inf if x1 > 0 else math.nan)
    if n == 0:
        return RateRatio(x1, x0, t1, t0, r1, r0, ratio, 0.0, math.inf, 1.0)
    a = 1.0 - level
    p_lo = 0.0 if x1 == 0 else float(stats.beta.ppf(a / 2, x1, n - x1 + 1))
    p_hi = 1.0 if x1 == n else float(stats.beta.ppf(1 - a / 2, x1 + 1, n - x1))
    k = t0 / t1

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1.0 else p / (1.0 - p) * k

    p_value = float(stats.binomtest(x1, n, t1 / (t1 + t0)).pvalue)
    return RateRatio(x1, x0, t1, t0, r1, r0, ratio, to_ratio(p_lo), to_ratio(p_hi),
                     min(p_value, 1.0))


@dataclass(frozen=True)
class RatioOfRateRatios:
    """Front-vs-control difference in differences: ``(F1/F0) / (C1/C0)``.

    ``lo``/``hi`` and ``p_value`` are what the rules use: the hull of the exact
    conditional interval and the dispersion-scaled Wald interval, and the larger of the
    two p-values.
    """

    front_window: int
    front_comparison: int
    control_window: int
    control_comparison: int
    estimate: float
    exact_lo: float
    exact_hi: float
    exact_p: float
    dispersion: float
    wald_lo: float
    wald_hi: float
    wald_p: float
    lo: float
    hi: float
    p_value: float


def ratio_of_rate_ratios(f1: int, f0: int, c1: int, c0: int, dispersion: float = 1.0,
                         level: float = LEVEL) -> RatioOfRateRatios:
    """Difference in differences on counts, with an interval robust to overdispersion.

    Window and comparison exposures are the same for front and control, so they cancel.
    The Wald part is the Poisson GLM ``log mu = a + b*window + c*front + d*window*front``
    (saturated: ``d`` is the log of the ratio of counts' cross product, its variance the
    sum of reciprocal counts) with 0.5 added to each count and the variance multiplied
    by ``max(dispersion, 1)``.

    Example
    -------
    >>> d = ratio_of_rate_ratios(10, 40, 50, 50)
    >>> round(d.estimate, 2), d.hi < 1
    (0.25, True)
    """
    counts = [int(v) for v in (f1, f0, c1, c0)]
    if min(counts) < 0:
        raise InputError(f"ratio_of_rate_ratios: counts must be >= 0, got {counts}")
    f1, f0, c1, c0 = counts
    table = [[f1, f0], [c1, c0]]
    if (f1 + f0 == 0) or (c1 + c0 == 0) or (f1 + c1 == 0) or (f0 + c0 == 0):
        est = math.nan
        e_lo, e_hi, e_p = 0.0, math.inf, 1.0
    else:
        res = odds_ratio(table, kind="conditional")
        ci = res.confidence_interval(level)
        est = float(res.statistic)
        e_lo, e_hi = float(ci.low), float(ci.high)
        e_p = float(stats.fisher_exact(table)[1])
    phi = max(float(dispersion), 1.0) if math.isfinite(dispersion) else 1.0
    h = [v + 0.5 for v in counts]
    log_est = math.log(h[0] * h[3] / (h[1] * h[2]))
    se = math.sqrt(phi * sum(1.0 / v for v in h))
    z = float(stats.norm.ppf(0.5 + level / 2))
    w_lo, w_hi = math.exp(log_est - z * se), math.exp(log_est + z * se)
    w_p = float(2 * stats.norm.sf(abs(log_est) / se))
    if not math.isfinite(est):
        est = math.exp(log_est) if sum(counts) else math.nan
    return RatioOfRateRatios(f1, f0, c1, c0, est, e_lo, e_hi, e_p, phi, w_lo, w_hi, w_p,
                             min(e_lo, w_lo), max(e_hi, w_hi), max(e_p, w_p))


@dataclass(frozen=True)
class DaySpans:
    """Each detection's UTC day and the days the window and the comparison span, worked out
    once per assessment for the dispersion of every rate and contrast."""

    day: np.ndarray  # day number of each detection
    in_w: np.ndarray
    in_c: np.ndarray
    span_w: np.ndarray  # the distinct days of the window's detections, sorted
    span_c: np.ndarray

    @classmethod
    def of(cls, day_of: pd.Series, in_w: np.ndarray, in_c: np.ndarray) -> DaySpans:
        day = day_of.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
        return cls(day, in_w, in_c, np.unique(day[in_w]), np.unique(day[in_c]))

    def dispersion(self, front: np.ndarray, control: np.ndarray | None = None
                   ) -> tuple[float, int]:
        """Pearson dispersion of daily counts about their group means (groups: front and
        control x window and comparison, each zero-filled over the days it spans); returns
        (phi, degrees of freedom). Fewer than 2 df: phi = 1."""
        terms, df = [], 0
        for m in (front, control) if control is not None else (front,):
            for inside, span in ((self.in_w, self.span_w), (self.in_c, self.span_c)):
                if span.size == 0:
                    continue
                n = np.bincount(np.searchsorted(span, self.day[m & inside]), minlength=span.size)
                mean = n.mean()
                if mean > 0:
                    terms.append((n - mean) ** 2 / mean)
                    df += span.size - 1
        if df < 2:
            return 1.0, df
        return float(np.concatenate(terms).sum()) / df, df



def widened(r: RateRatio, phi: float, level: float = LEVEL) -> dict[str, float]:
    """The rate ratio's interval and p-value widened for overdispersion: the hull of the
    exact interval and a quasi-Poisson Wald interval (0.5 added to each count, variance
    times ``max(phi, 1)``); the larger p-value."""
    phi = max(phi, 1.0)
    a, b = r.x_window + 0.5, r.x_comparison + 0.5
    log_rr = math.log(a / r.t_window) - math.log(b / r.t_comparison)
    se = math.sqrt(phi * (1 / a + 1 / b))
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = float(2 * stats.norm.sf(abs(log_rr) / se))
    return {"dispersion": phi, "lo_adj": min(r.lo, math.exp(log_rr - z * se)),
            "hi_adj": max(r.hi, math.exp(log_rr + z * se)), "p_adj": max(r.p_value, p)}


