"""Did the ceasefire hold? A verdict on an agreement that claims no more than the data shows.

:func:`assess` is a pure function of enriched, scored detections (``geo.enrich`` +
``analysis.anomaly``), the incidents built from them, the agreement and the window's
:class:`~truceline.analysis.coverage.Coverage`. It gives:

- the incidents in scope during the window, each with the ground it lies on (never who
  fired) and how sure its timing is;
- counts and rates per side and sector, window against comparison, with the exact
  conditional rate ratio test (given ``n = x1 + x0``, ``x1 ~ Binomial(n, T1 r /
  (T1 r + T0))``; Clopper-Pearson interval mapped to the ratio ``r``);
- the front-against-control contrast: the ratio of rate ratios
  ``(F1/F0) / (C1/C0)`` (difference in differences on the log scale of a Poisson
  model with log link). Conditioning four Poisson counts on their margins gives Fisher's
  noncentral hypergeometric law with exactly this ratio as its odds parameter, so the
  exact conditional interval is scipy's conditional odds-ratio interval. Fire counts are
  clustered (overdispersed), which makes any Poisson interval too narrow: the interval
  the rules use is the hull of the exact interval and a quasi-Poisson Wald interval
  whose variance is scaled by the dispersion measured on daily counts;
- a verdict with the rule that decided it (:data:`RULES`, also in docs/VALIDATION.md).

Timing. Detections with a time are judged by it (half-open ``start <= t < end``, UTC).
A detection with a date only is *certainly* in the window only when its whole UTC day
is; a day that merely overlaps the window makes it *possibly* in. Violations need
certainty; a possible one blocks ``held`` and is reported. When any detection in the
counts lacks a time, rates switch to day resolution: the window is every UTC day that
overlaps it (the boundary day goes to the window, which makes ``reduced`` and ``held``
harder, never easier) and the comparison is its overlapping days minus those.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import odds_ratio

from truceline.analysis.coverage import Coverage, to_utc, utc_dates, utc_times, window_days
from truceline.errors import InputError
from truceline.sources.agreements import Agreement

__all__ = [
    "ALPHA_FALSE_ALARM",
    "ALPHA_VIOLATION",
    "DEFAULT_FALSE_INCIDENTS_PER_DAY",
    "RULES",
    "Assessment",
    "PlaceboResult",
    "RateRatio",
    "RatioOfRateRatios",
    "assess",
    "compare_control_maps",
    "false_incident_rate",
    "peacetime_rate",
    "placebo_study",
    "poisson_ci",
    "rate_ratio_test",
    "ratio_of_rate_ratios",
]

#: An incident supports ``violated`` only when its lowest p_natural is below this.
ALPHA_VIOLATION = 0.01
#: A fire at a protected site with p_natural below this blocks ``held`` (not natural enough
#: to ignore) even when it is too weak to prove a violation.
ALPHA_SITE_BLOCK = 0.05
#: Peacetime false alarms: incidents with p_min < 0.01 per day within 0-30 km of a whole
#: front line of ~1,200 km, when the caller measures none for the scope (see
#: :func:`false_incident_rate`). Measured on the southern third of the 2023 line over
#: 2018-2021 (docs/VALIDATION.md, Assessment): 0.016 a day there pooled, 0.027 in the
#: worst year (2021); about tripled for the whole line and rounded up.
DEFAULT_FALSE_INCIDENTS_PER_DAY = 0.1
#: The count of proving incidents must be this improbable as false alarms.
ALPHA_FALSE_ALARM = 0.01
LEVEL = 0.95
_SIDES_LINE = ("ua", "ru")

#: The verdict rules, in the order they are tried; the first that applies decides.
RULES: dict[str, str] = {
    "V1": "violated: at least one incident in scope with detections certainly inside the "
          "window (by time, or by a whole UTC day inside it) whose lowest p_natural among "
          "those detections (the incident's p_min when they have none) is < 0.01, and "
          "so many of them that peacetime false alarms cannot explain them: P(Poisson("
          "false-incident rate x window days) >= their number) < 0.01 (fire near the line "
          "prohibited)",
    "V2": "violated: an incident (or a single detection not in any incident) within a "
          "protected site's radius, certainly inside the window, with p_min (p_natural) < "
          "0.01, whatever its distance from the line (protected sites prohibited)",
    "H": "held: no incident and no war-flagged detection in scope possibly inside the "
         "window, no fire at a protected site with p < 0.05, adequate coverage, and (fire "
         "near the line prohibited) the window's front rate compatible with the peacetime "
         "rate: the lower end of its exact 95% Poisson interval is at most the peacetime "
         "rate for the same ground and season",
    "R": "reduced: fire near the line prohibited, adequate coverage, and the upper end of "
         "the 95% interval of the front/control ratio of rate ratios (the wider of exact "
         "and dispersion-scaled) below 1",
    "I": "inconclusive: none of the above; the reasons list what was missing",
}


# --------------------------------------------------------------------------- statistics


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
class _DaySpans:
    """Each detection's UTC day and the days the window and the comparison span, worked out
    once per assessment for the dispersion of every rate and contrast."""

    day: np.ndarray  # day number of each detection
    in_w: np.ndarray
    in_c: np.ndarray
    span_w: np.ndarray  # the distinct days of the window's detections, sorted
    span_c: np.ndarray

    @classmethod
    def of(cls, day_of: pd.Series, in_w: np.ndarray, in_c: np.ndarray) -> _DaySpans:
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


# --------------------------------------------------------------------------- inputs


def _col(det: pd.DataFrame, *names: str) -> str | None:
    for n in names:
        if n in det.columns:
            return n
    return None


def _normalise(det: pd.DataFrame) -> pd.DataFrame:
    """The columns assess needs, under one set of names; missing optional ones filled."""
    for req in ("lon", "lat", "acq_date", "side"):
        if req not in det.columns:
            raise InputError(f"assess: detections lack column '{req}': expected enriched "
                             "detections (geo.enrich) with lon, lat, acq_date, side, "
                             "dist_km (or distance_km)")
    dist = _col(det, "dist_km", "distance_km")
    if dist is None:
        raise InputError("assess: detections lack 'dist_km' (or 'distance_km'): expected "
                         "the signed distance to the line from geo.enrich")
    out = pd.DataFrame(index=det.index)
    out["lon"] = det["lon"].astype(float)
    out["lat"] = det["lat"].astype(float)
    out["date"] = utc_dates(det)
    out["t"] = utc_times(det)  # NaT where the file gave a date only
    out["side"] = det["side"].astype(object).where(det["side"].notna(), None)
    out["dist_km"] = det[dist].astype(float)
    out["sector"] = det["sector"].astype(object) if "sector" in det else None
    out["p_natural"] = det["p_natural"].astype(float) if "p_natural" in det else np.nan
    war = _col(det, "is_war", "war")
    out["is_war"] = det[war].fillna(False).astype(bool) if war else False
    out["incident_id"] = det["incident_id"].astype(object).where(
        det["incident_id"].notna(), None) if "incident_id" in det else None
    out["detection_id"] = det["detection_id"].astype(str) if "detection_id" in det else \
        pd.Series(np.arange(len(det)).astype(str), index=det.index)
    out["snapshot_id"] = det["snapshot_id"].astype(object) if "snapshot_id" in det else None
    return out


def _timing(det: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
            ) -> tuple[np.ndarray, np.ndarray]:
    """(certainly inside, possibly inside) the window ``[start, end)``, per detection."""
    t = det["t"]
    timed = t.notna().to_numpy()
    tin = ((t >= start) & (t < end)).to_numpy(dtype=bool)
    day0 = det["date"].dt.tz_localize("UTC")
    day1 = day0 + pd.Timedelta(days=1)
    whole = ((day0 >= start) & (day1 <= end)).to_numpy(dtype=bool)
    overlap = ((day0 < end) & (day1 > start)).to_numpy(dtype=bool)
    certain = np.where(timed, tin, whole)
    possible = np.where(timed, tin, overlap)
    return certain, possible


# --------------------------------------------------------------------------- result


def _clean(v: Any) -> Any:
    """JSON-able: NaN/inf to None, numpy scalars to Python, timestamps to ISO strings."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, pd.Timestamp | datetime):
        return None if pd.isna(v) else v.isoformat()
    if v is pd.NaT or (not isinstance(v, str | bool | int) and v is not None and pd.isna(v)):
        return None
    return v


@dataclass
class Assessment:
    """Everything a verdict rests on. ``to_dict()`` is JSON-able: ``null`` stands for a
    missing value or an unbounded interval end."""

    agreement: dict[str, Any]
    control_map: dict[str, Any]
    resolution: str
    exposure_days: dict[str, float]
    incidents: list[dict[str, Any]]
    site_hits: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    contrast: list[dict[str, Any]]
    war_counts: dict[str, int]
    peacetime: dict[str, Any]
    false_alarms: dict[str, Any]
    coverage: dict[str, Any]
    verdict: str
    rule: str
    reasons: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict (``json.dumps(a.to_dict())`` works)."""
        d: dict[str, Any] = _clean(asdict(self))
        d["rule_text"] = RULES[self.rule]
        return d


# --------------------------------------------------------------------------- assess


def assess(
    agreement: Agreement,
    detections: pd.DataFrame,
    incidents: pd.DataFrame | None,
    *,
    coverage: Coverage,
    sites: Any = None,
    peacetime_rate_per_day: float | None = None,
    dispersion: float | None = None,
    measure: str = "all",
    control_source: str | None = None,
    false_incident_rate_per_day: float | None = None,
) -> Assessment:
    """Judge ``agreement`` on enriched, scored detections; see :data:`RULES`.

    Parameters
    ----------
    detections
        Enriched and scored detections covering at least the window and the comparison
        window (lon, lat, acq_date, t_utc, side, dist_km or distance_km, sector,
        p_natural, is_war or war, incident_id).
    incidents
        One row per incident (incident_id, t_start, t_end, lon, lat, side, dist_km,
        sector, p_min or p_natural_min, n_detections); ``None`` or empty when there
        are none. Incidents named by detections but absent here are rebuilt from
        their detections.
    coverage
        :func:`truceline.analysis.coverage.assess_coverage` for the agreement window.
    sites
        Protected sites (``sources.sites.load_sites``); default: loaded from the
        agreement's ``prohibited.protected_sites`` when it names a file.
    peacetime_rate_per_day
        Expected detections per day in scope in peacetime for the same season, ground
        and sensors (see :func:`peacetime_rate`). Without it ``held`` cannot be given
        for fire near the line.
    dispersion
        Overdispersion factor for the contrast; default: measured on daily counts.
    measure
        ``all`` (every fire detection: season and farming cancel in the contrast) or
        ``war`` (war-flagged detections only).
    control_source
        The control map the detections were enriched with (deepstate, liveuamap, isw
        or a file name); recorded in the report. Default: the agreement's.
    false_incident_rate_per_day
        Incidents with p_min < 0.01 per day the detection stage finds in this scope in
        peacetime (:func:`false_incident_rate`); default
        :data:`DEFAULT_FALSE_INCIDENTS_PER_DAY`. A single incident is not proof when
        false alarms of that rate would often produce one.
    """
    if measure not in ("all", "war"):
        raise InputError(f"assess: measure = {measure!r}: expected 'all' or 'war'")
    det = _normalise(detections)
    if measure == "war":
        det_counts = det[det["is_war"]]
    else:
        det_counts = det
    w0, w1 = to_utc(agreement.start_utc), to_utc(agreement.end_utc)
    c0, c1 = to_utc(agreement.comparison.start_utc), to_utc(agreement.comparison.end_utc)
    if (coverage.start_utc, coverage.end_utc) != (w0, w1):
        raise InputError(f"assess: coverage is for {coverage.start_utc} to {coverage.end_utc}"
                         f": expected the agreement window {w0} to {w1}")
    prohibited = agreement.prohibited
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"])
    certain, possible = _timing(det, w0, w1)
    reasons: list[str] = []

    # ---- control map actually used
    snaps = sorted({str(s) for s in det.loc[scope & possible, "snapshot_id"].dropna()}) \
        if det["snapshot_id"].notna().any() else []
    source = control_source or agreement.control_source
    control_map = {
        "source": source,
        "agreement_control_source": agreement.control_source,
        "snapshots": snaps,
        "note": None if source else "control map source not named: the pipeline default "
                                    "(most recent snapshot of any source) was used",
    }

    # ---- incidents in scope during the window
    inc_rows = _scope_incidents(det, incidents, scope, certain, possible) \
        if prohibited.fire_near_line else []
    # ---- protected sites
    site_rows: list[dict[str, Any]] = []
    if sites is None and prohibited.protected_sites is not None:
        from truceline.sources.sites import load_sites
        sites = load_sites(prohibited.protected_sites)
    if sites is not None and len(sites):
        site_rows = _site_hits(det, incidents, sites, certain, possible)

    # ---- rates: resolution, exposures, groups
    line_side = det["side"].isin(_SIDES_LINE).to_numpy()
    control = agreement.control_mask(det["dist_km"]) & line_side
    if agreement.scope.sectors:  # compare like with like: the same stretches of the line
        wanted = {x.casefold() for x in agreement.scope.sectors}
        control &= det["sector"].astype("string").str.casefold().isin(wanted) \
            .fillna(False).to_numpy(dtype=bool)
    resolution, in_w, in_c, t_w, t_c, day_of = _windows(det, w0, w1, c0, c1)
    spans = _DaySpans.of(day_of, in_w, in_c)
    keep = det.index.isin(det_counts.index)
    rates = _rate_rows(det, keep, scope, control, in_w, in_c, t_w, t_c, spans)

    # ---- contrast (difference in differences), overall and per side
    contrast: list[dict[str, Any]] = []
    for label, sel in [("all", line_side)] + [(s, (det["side"] == s).to_numpy())
                                               for s in _SIDES_LINE]:
        f = keep & scope & sel
        c = keep & control & sel
        if dispersion is None:
            phi, df = spans.dispersion(f, c)
        else:
            phi, df = float(dispersion), -1
        r = ratio_of_rate_ratios(int((f & in_w).sum()), int((f & in_c).sum()),
                                 int((c & in_w).sum()), int((c & in_c).sum()), phi)
        row = {"side": label, **asdict(r), "dispersion_df": df}
        contrast.append(row)
    overall = contrast[0]

    # ---- war-flagged counts in scope
    war_counts = {
        "window_certain": int((det["is_war"].to_numpy() & scope & certain).sum()),
        "window_possible": int((det["is_war"].to_numpy() & scope & possible).sum()),
        "comparison": int((det["is_war"].to_numpy() & scope & in_c).sum()),
    }

    # ---- peacetime compatibility of the front rate
    front_all = keep & scope & line_side
    x_front = int((front_all & in_w).sum())
    lo, hi = poisson_ci(x_front)
    peace: dict[str, Any] = {
        "rate_per_day": peacetime_rate_per_day,
        "front_count_window": x_front,
        "front_rate_window": x_front / t_w,
        "front_rate_lo": lo / t_w,
        "front_rate_hi": hi / t_w,
        "compatible": None,
    }
    if peacetime_rate_per_day is not None:
        peace["compatible"] = bool(lo / t_w <= peacetime_rate_per_day)

    rate_fa = DEFAULT_FALSE_INCIDENTS_PER_DAY if false_incident_rate_per_day is None \
        else float(false_incident_rate_per_day)
    n_proof = sum(r["timing"] == "inside" and r["p_evidence"] < ALPHA_VIOLATION
                  for r in inc_rows)
    expected = rate_fa * t_w
    false_alarm = {
        "rate_per_day": rate_fa,
        "rate_given": false_incident_rate_per_day is not None,
        "window_days": t_w,
        "expected": expected,
        "n_incidents_p_below_alpha": n_proof,
        "p_value": float(stats.poisson.sf(n_proof - 1, expected)) if n_proof else 1.0,
    }
    verdict, rule = _verdict(prohibited.fire_near_line, inc_rows, site_rows, coverage,
                             overall, peace, war_counts, false_alarm, reasons)

    # Say what the coverage was whatever the verdict.
    reasons.extend(coverage.reasons)
    if resolution == "day":
        reasons.append("some detections have dates without times: rates use whole UTC days "
                       f"({t_w:g} window days, {t_c:g} comparison days; the boundary day "
                       "counts in the window)")
    return Assessment(
        agreement={
            "name": agreement.name,
            "parties": [{"id": p.id, "name": p.name} for p in agreement.parties],
            "start_utc": w0, "end_utc": w1,
            "comparison_start_utc": c0, "comparison_end_utc": c1,
            "time_zone": agreement.time_zone,
            "scope": agreement.scope.describe(),
            "control_band_km": list(agreement.control_band_km),
            "fire_near_line": prohibited.fire_near_line,
            # as the agreement writes it (relative), never a local absolute path
            "protected_sites": None if prohibited.protected_sites is None
            else prohibited.protected_sites_ref or prohibited.protected_sites.name,
            "declared_by": list(agreement.declared_by),
            "accepted_by": list(agreement.accepted_by),
        },
        control_map=control_map,
        resolution=resolution,
        exposure_days={"window": t_w, "comparison": t_c},
        incidents=inc_rows,
        site_hits=site_rows,
        rates=rates,
        contrast=contrast,
        war_counts=war_counts,
        peacetime=peace,
        false_alarms=false_alarm,
        coverage=coverage.to_dict(),
        verdict=verdict,
        rule=rule,
        reasons=reasons,
        parameters={"alpha_violation": ALPHA_VIOLATION, "alpha_site_block": ALPHA_SITE_BLOCK,
                    "level": LEVEL, "measure": measure,
                    "dispersion_given": dispersion},
    )


def _verdict(fire_near_line: bool, inc_rows: list[dict[str, Any]],
             site_rows: list[dict[str, Any]], coverage: Coverage, did: dict[str, Any],
             peace: dict[str, Any], war_counts: dict[str, int], false_alarm: dict[str, Any],
             reasons: list[str]) -> tuple[str, str]:
    """Apply :data:`RULES` in order; append the reasons to ``reasons``."""
    proof = [r for r in inc_rows
             if r["timing"] == "inside" and r["p_evidence"] < ALPHA_VIOLATION]
    fa_text = (f"peacetime false alarms would give {false_alarm['expected']:.2f} such "
               f"incident(s) in {false_alarm['window_days']:g} days (rate "
               f"{false_alarm['rate_per_day']:g}/day"
               + ("" if false_alarm["rate_given"] else ", the default") + "); "
               f"P(at least {len(proof)}) = {false_alarm['p_value']:.2g}")
    if proof and false_alarm["p_value"] < ALPHA_FALSE_ALARM:
        ids = ", ".join(str(r["incident_id"]) for r in proof[:10])
        reasons.append(f"{len(proof)} incident(s) in scope with p_natural < "
                       f"{ALPHA_VIOLATION} certainly inside the window: {ids}"
                       + (" ..." if len(proof) > 10 else ""))
        reasons.append(fa_text)
        where = sorted({f"{r['side']} ground" for r in proof if r.get("side")})
        if where:
            reasons.append("they lie on " + " and ".join(where) + " (where the fire was, "
                           "not who fired)")
        return "violated", "V1"
    site_proof = [r for r in site_rows if r["timing"] == "inside" and r["p"] < ALPHA_VIOLATION]
    if site_proof:
        names = sorted({r["site"] for r in site_proof})
        reasons.append(f"fire with p < {ALPHA_VIOLATION} at protected site(s) inside the "
                       f"window: {', '.join(names)}")
        return "violated", "V2"

    blockers: list[str] = []
    if proof:
        blockers.append(f"{len(proof)} incident(s) in scope with p_natural < "
                        f"{ALPHA_VIOLATION} certainly inside the window, too few to rule out "
                        f"false alarms: {fa_text}")
    elif inc_rows:
        weak = [r for r in inc_rows if r["p_evidence"] >= ALPHA_VIOLATION]
        unsure = [r for r in inc_rows if r["timing"] != "inside"]
        blockers.append(
            f"{len(inc_rows)} incident(s) in scope possibly inside the window but none proves "
            f"a violation ({len(weak)} with p_min >= {ALPHA_VIOLATION}, {len(unsure)} known "
            "only by date on a day partly outside the window)")
    elif fire_near_line and war_counts["window_possible"]:
        blockers.append(f"{war_counts['window_possible']} war-flagged detection(s) in scope "
                        "possibly inside the window (not in any incident)")
    site_block = [r for r in site_rows if r["p"] < ALPHA_SITE_BLOCK]
    if site_block:
        blockers.append(f"{len(site_block)} fire(s) at protected sites possibly inside the "
                        "window that are not clearly natural but prove no violation")
    if not coverage.adequate:
        blockers.append("coverage is poor, so a quiet window proves nothing")
    if fire_near_line:
        if peace["rate_per_day"] is None:
            blockers.append("no peacetime rate given for this ground and season, so the "
                            "front rate cannot be shown to be at peacetime level")
        elif not peace["compatible"]:
            blockers.append(
                f"front rate {peace['front_rate_window']:.2f}/day (95% CI "
                f"{peace['front_rate_lo']:.2f}-{peace['front_rate_hi']:.2f}) is above the "
                f"peacetime rate {peace['rate_per_day']:.2f}/day")
    if not blockers:
        reasons.append("no incident in scope, adequate coverage"
                       + (", front rate compatible with peacetime" if fire_near_line else ""))
        return "held", "H"

    if fire_near_line and coverage.adequate and did["hi"] < 1.0:
        reasons.append(
            f"front/control ratio of rate ratios {did['estimate']:.2f} (95% CI "
            f"{did['lo']:.2f}-{did['hi']:.2f}) is below 1: fire near the line fell more "
            "than in the control band")
        reasons.extend("not held: " + b for b in blockers)
        return "reduced", "R"
    reasons.extend(blockers)
    if fire_near_line and not coverage.adequate and did["hi"] < 1.0:
        reasons.append("the contrast suggests a drop, but not on adequate coverage")
    elif fire_near_line:
        hi = did["hi"]
        est = did["estimate"]
        if not math.isfinite(est):
            reasons.append("front/control ratio of rate ratios not estimable (no fire in a "
                           "band or window): it cannot show a drop")
        else:
            reasons.append(f"front/control ratio of rate ratios {est:.2f} (95% CI "
                           f"{did['lo']:.2f}-{'inf' if not math.isfinite(hi) else f'{hi:.2f}'})"
                           " does not show a drop")
    return "inconclusive", "I"


def _windows(det: pd.DataFrame, w0: pd.Timestamp, w1: pd.Timestamp, c0: pd.Timestamp,
             c1: pd.Timestamp
             ) -> tuple[str, np.ndarray, np.ndarray, float, float, pd.Series]:
    """Which detections count in window / comparison, the exposures in days, and each
    detection's day (for daily counts)."""
    day_of = det["date"]
    in_dates = det["date"].notna()
    relevant = in_dates & (det["date"] >= c0.tz_localize(None).normalize()
                           - pd.Timedelta(days=1)) \
        & (det["date"] <= w1.tz_localize(None).normalize() + pd.Timedelta(days=1))
    if det.loc[relevant, "t"].notna().all():
        t = det["t"]
        in_w = ((t >= w0) & (t < w1)).to_numpy(dtype=bool)
        in_c = ((t >= c0) & (t < c1)).to_numpy(dtype=bool)
        day = 86400.0
        return ("time", in_w, in_c, (w1 - w0).total_seconds() / day,
                (c1 - c0).total_seconds() / day, day_of)
    wd = window_days(w0, w1)
    cd = window_days(c0, c1).difference(wd)
    if len(cd) == 0:
        raise InputError("assess: with date-only detections the comparison window has no "
                         "UTC day of its own: give a comparison window at least a day long")
    in_w = det["date"].isin(wd).to_numpy()
    in_c = det["date"].isin(cd).to_numpy()
    return "day", in_w, in_c, float(len(wd)), float(len(cd)), day_of


def _adjusted(r: RateRatio, phi: float, level: float = LEVEL) -> dict[str, float]:
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


def _rate_rows(det: pd.DataFrame, keep: np.ndarray, scope: np.ndarray, control: np.ndarray,
               in_w: np.ndarray, in_c: np.ndarray, t_w: float, t_c: float,
               spans: _DaySpans) -> list[dict[str, Any]]:
    """Counts, rates and exact rate ratios (and their overdispersion-widened versions):
    front and control, overall, per side and per sector (front only)."""
    rows: list[dict[str, Any]] = []

    def add(area: str, by: str, key: str, m: np.ndarray) -> None:
        r = rate_ratio_test(int((m & in_w).sum()), t_w, int((m & in_c).sum()), t_c)
        phi, _ = spans.dispersion(m)
        rows.append({"area": area, "by": by, "key": key, **asdict(r), **_adjusted(r, phi)})

    side = det["side"].astype(object).fillna("(none)").to_numpy()
    line_side = np.isin(side, _SIDES_LINE)
    add("front", "all", "all", keep & scope & line_side)
    add("control", "all", "all", keep & control)
    for s in sorted(set(side[keep & scope & (in_w | in_c)])):
        add("front", "side", str(s), keep & scope & (side == s))
    for s in _SIDES_LINE:
        add("control", "side", s, keep & control & (side == s))
    sector = det["sector"].astype(object).fillna("(none)").to_numpy() \
        if det["sector"] is not None else np.full(len(det), "(none)", dtype=object)
    for s in sorted(set(sector[keep & scope & (in_w | in_c)]), key=str):
        add("front", "sector", str(s), keep & scope & (sector == s))
    return rows


def _incident_table(det: pd.DataFrame, incidents: pd.DataFrame | None, ids: Sequence[str]
                    ) -> pd.DataFrame:
    """Incident rows for ``ids``: from ``incidents`` where given, else rebuilt from the
    detections (p_min = lowest p_natural)."""
    cols = ["incident_id", "t_start", "t_end", "lon", "lat", "side", "dist_km", "sector",
            "p_min", "n_detections"]
    have = pd.DataFrame(columns=cols)
    if incidents is not None and len(incidents):
        inc = incidents.copy()
        if "dist_km" not in inc and "distance_km" in inc:
            inc = inc.rename(columns={"distance_km": "dist_km"})
        if "p_min" not in inc and "p_natural_min" in inc:  # incidents.cluster_incidents
            inc = inc.rename(columns={"p_natural_min": "p_min"})
        inc["incident_id"] = inc["incident_id"].astype(str)
        have = inc[inc["incident_id"].isin(ids)]
        have = have.reindex(columns=[c for c in cols if c in have.columns] +
                            [c for c in have.columns if c not in cols])
    known = set(have["incident_id"])
    missing = [i for i in ids if i not in known]
    if missing:
        d = det[det["incident_id"].astype(str).isin(missing)]
        t_or_day = d["t"].fillna(d["date"].dt.tz_localize("UTC"))
        g = d.assign(_t=t_or_day).groupby(d["incident_id"].astype(str))
        rebuilt = pd.DataFrame({
            "incident_id": g.size().index,
            "t_start": g["_t"].min().to_numpy(), "t_end": g["_t"].max().to_numpy(),
            "lon": g["lon"].mean().to_numpy(), "lat": g["lat"].mean().to_numpy(),
            "side": g["side"].agg(lambda s: s.mode().iat[0] if s.notna().any() else None)
            .to_numpy(),
            "dist_km": g["dist_km"].median().to_numpy(),
            "sector": g["sector"].agg(lambda s: s.mode().iat[0] if s.notna().any() else None)
            .to_numpy(),
            "p_min": g["p_natural"].min().to_numpy(), "n_detections": g.size().to_numpy(),
        })
        have = pd.concat([have, rebuilt], ignore_index=True) if len(have) else rebuilt
    return have


def _scope_incidents(det: pd.DataFrame, incidents: pd.DataFrame | None, scope: np.ndarray,
                     certain: np.ndarray, possible: np.ndarray) -> list[dict[str, Any]]:
    """Incidents with at least one detection in scope possibly inside the window."""
    has = det["incident_id"].notna().to_numpy() if det["incident_id"] is not None else \
        np.zeros(len(det), dtype=bool)
    m = has & scope & possible
    if not m.any():
        return []
    sel = det[m].assign(_certain=certain[m])
    g = sel.groupby(sel["incident_id"].astype(str))
    inside = g["_certain"].any()
    n_in = g.size()
    # the evidence for the window: the lowest p_natural among the incident's detections
    # that are in scope and certainly inside it (an incident that began before the
    # window does not carry its earlier p-values into it)
    p_win = sel["p_natural"].where(sel["_certain"]).groupby(sel["incident_id"].astype(str)) \
        .min()
    table = _incident_table(det, incidents, list(inside.index)).set_index("incident_id")
    p_all = None  # each incident's lowest p_natural over all its detections, when needed
    rows = []
    for iid in inside.index:  # incidents, not detections
        r = table.loc[iid]
        if pd.notna(r["p_min"]):
            p_min = float(r["p_min"])
        else:
            if p_all is None:
                p_all = det.groupby(det["incident_id"].astype(str))["p_natural"].min()
            p_min = float(p_all.get(iid, math.nan))
        p_w = float(p_win.get(iid, math.nan))
        p_min = p_min if math.isfinite(p_min) else 1.0
        rows.append({
            "incident_id": iid,
            "timing": "inside" if bool(inside[iid]) else "overlaps",
            "p_min": p_min,
            "p_min_window": p_w if math.isfinite(p_w) else None,
            "p_evidence": p_w if math.isfinite(p_w) else p_min,
            "side": None if pd.isna(r.get("side")) else str(r.get("side")),
            "dist_km": float(r["dist_km"]) if pd.notna(r.get("dist_km")) else None,
            "sector": None if pd.isna(r.get("sector")) else str(r.get("sector")),
            "t_start": r.get("t_start"), "t_end": r.get("t_end"),
            "lon": float(r["lon"]), "lat": float(r["lat"]),
            "n_detections": int(r["n_detections"]) if pd.notna(r.get("n_detections"))
            else None,
            "n_detections_in_scope_window": int(n_in[iid]),
        })
    rows.sort(key=lambda r: (r["timing"] != "inside", r["p_evidence"]))
    return rows


def _site_hits(det: pd.DataFrame, incidents: pd.DataFrame | None, sites: Any,
               certain: np.ndarray, possible: np.ndarray) -> list[dict[str, Any]]:
    """Fire within a protected site's radius possibly inside the window, grouped by
    incident (or per detection when it is in none), with its lowest p_natural."""
    from truceline.sources.sites import match_sites

    cand = np.flatnonzero(possible)
    if cand.size == 0:
        return []
    pos, dist_m = match_sites(sites, det["lon"].to_numpy()[cand], det["lat"].to_numpy()[cand])
    hit = pos >= 0
    if not hit.any():
        return []
    idx = cand[hit]
    sub = det.iloc[idx].assign(_site=pos[hit], _d=dist_m[hit], _certain=certain[idx])
    inc_p: dict[str, float] = {}
    ids = sorted({str(i) for i in sub["incident_id"].dropna()}) \
        if sub["incident_id"] is not None else []
    if ids:
        t = _incident_table(det, incidents, ids)
        inc_p = {str(i): float(p) for i, p in zip(t["incident_id"], t["p_min"], strict=True)}
    key = np.where(sub["incident_id"].notna(), sub["incident_id"].astype(str),
                   "detection:" + sub["detection_id"].astype(str))
    rows = []
    names = sites["name"].to_numpy(dtype=object)
    kinds = sites["kind"].to_numpy(dtype=object) if "kind" in sites else \
        np.full(len(sites), None, dtype=object)
    for k, grp in sub.groupby(key):
        site_i = int(grp["_site"].iloc[int(np.argmin(grp["_d"].to_numpy()))])
        # evidence inside the window first, as for incidents near the line
        p = float(grp["p_natural"].where(grp["_certain"]).min())
        if not math.isfinite(p):
            p = inc_p.get(str(k), float(grp["p_natural"].min()))
        p = p if math.isfinite(p) else 1.0
        rows.append({
            "key": str(k),
            "incident_id": None if str(k).startswith("detection:") else str(k),
            "site": str(names[site_i]), "kind": kinds[site_i],
            "distance_m": float(grp["_d"].min()),
            "timing": "inside" if bool(grp["_certain"].any()) else "overlaps",
            "p": p,
            "side": None if grp["side"].isna().all() else str(grp["side"].mode().iat[0]),
            "n_detections": len(grp),
            "detection_ids": grp["detection_id"].astype(str).tolist()[:50],
        })
    rows.sort(key=lambda r: (r["timing"] != "inside", r["p"]))
    return rows


def compare_control_maps(results: dict[str, Assessment]) -> dict[str, Any]:
    """Line up assessments of one agreement made with different control maps (keyed by
    map name): verdict, front counts, incidents per map, and whether the verdict flips.

    Why: the control map decides what is "near the line" and whose ground a fire is on;
    a verdict that depends on the map must say so in the report.
    """
    if not results:
        raise InputError("compare_control_maps: expected at least one assessment")
    rows = []
    for name, a in results.items():
        front = next(r for r in a.rates if r["area"] == "front" and r["by"] == "all")
        sides = {r["key"]: r["x_window"] for r in a.rates
                 if r["area"] == "front" and r["by"] == "side"}
        rows.append({"map": name, "verdict": a.verdict, "rule": a.rule,
                     "front_window": front["x_window"],
                     "front_comparison": front["x_comparison"],
                     "front_window_by_side": sides, "incidents": len(a.incidents),
                     "contrast": a.contrast[0]["estimate"],
                     "contrast_lo": a.contrast[0]["lo"], "contrast_hi": a.contrast[0]["hi"]})
    verdicts = sorted({r["verdict"] for r in rows})
    flips = len(verdicts) > 1
    per_map = ", ".join(str(r["map"]) + ": " + str(r["verdict"]) for r in rows)
    maps = ", ".join(str(r["map"]) for r in rows)
    note = (f"the verdict depends on the control map ({per_map})" if flips
            else f"the verdict is {verdicts[0]} with every map compared ({maps})")
    return _clean({"maps": rows, "flips": flips, "note": note})  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- baselines


def peacetime_rate(detections: pd.DataFrame, agreement: Agreement, years: Sequence[int]
                   ) -> float:
    """Detections per day in the agreement's scope during the same calendar window in
    peacetime ``years`` (detections enriched against the agreement's line).

    Why: ``held`` needs a yardstick for "no more fire than in peace" on the same ground
    and in the same season; the caller must pass detections of the same sensors.
    """
    if not years:
        raise InputError("peacetime_rate: expected at least one peacetime year")
    det = _normalise(detections)
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"]) \
        & det["side"].isin(_SIDES_LINE).to_numpy()
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
    det = _normalise(detections)
    scope = agreement.scope.mask(det["dist_km"], det["sector"], det["lon"], det["lat"])
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
    if pooled:
        return sum(counts) / sum(exposures)
    return max(c / e for c, e in zip(counts, exposures, strict=True))


# --------------------------------------------------------------------------- placebo


@dataclass(frozen=True)
class PlaceboResult:
    """Hypothetical agreements over peacetime: how often the method cries wolf."""

    n_windows: int
    share_violated: float
    share_held: float
    share_reduced: float
    share_inconclusive: float
    share_rate_significant: float  # front window-vs-comparison exact test, p < 0.05
    share_rate_adj_significant: float  # the same, widened for overdispersion
    share_contrast_significant: float  # front-vs-control contrast, p < 0.05
    windows: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (without the per-window table)."""
        d = {k: v for k, v in asdict(self).items() if k != "windows"}
        return _clean(d)  # type: ignore[no-any-return]


def placebo_study(
    detections: pd.DataFrame,
    incidents: pd.DataFrame | None,
    make_agreement: Callable[[np.random.Generator], Agreement],
    *,
    n_windows: int = 50,
    seed: int = 0,
    coverage_fn: Callable[[Agreement], Coverage] | None = None,
    peacetime_rate_per_day: float | None = None,
    peacetime_fn: Callable[[Agreement], float | None] | None = None,
    false_rate_fn: Callable[[Agreement], float | None] | None = None,
    alpha: float = 0.05,
) -> PlaceboResult:
    """Run ``n_windows`` hypothetical agreements (``make_agreement(rng)`` draws one) over
    peacetime detections; return the shares judged violated and with a significant rate
    change at ``alpha``. In peacetime nothing is violated, so ``share_violated`` should
    be near 0 and the significant shares near ``alpha``.

    ``coverage_fn`` gives each window's coverage (default: from the detections, no
    cloud); ``peacetime_fn`` each window's peacetime rate (e.g. :func:`peacetime_rate`
    over the other years), else ``peacetime_rate_per_day`` for all; ``false_rate_fn``
    each window's false-incident rate (e.g. :func:`false_incident_rate` over the other
    years), else the default.
    """
    from truceline.analysis.coverage import assess_coverage

    if n_windows < 1:
        raise InputError(f"placebo_study: n_windows = {n_windows}: expected >= 1")
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_windows):
        a = make_agreement(rng)
        cov = coverage_fn(a) if coverage_fn is not None else assess_coverage(
            detections, a.start_utc, a.end_utc)
        rate = peacetime_fn(a) if peacetime_fn is not None else peacetime_rate_per_day
        fa = false_rate_fn(a) if false_rate_fn is not None else None
        res = assess(a, detections, incidents, coverage=cov, peacetime_rate_per_day=rate,
                     false_incident_rate_per_day=fa)
        front = next(r for r in res.rates if r["area"] == "front" and r["by"] == "all")
        did = res.contrast[0]
        rows.append({"start_utc": res.agreement["start_utc"], "end_utc": res.agreement["end_utc"],
                     "verdict": res.verdict, "rule": res.rule,
                     "front_window": front["x_window"], "front_comparison": front["x_comparison"],
                     "rate_p": front["p_value"], "rate_p_adj": front["p_adj"],
                     "contrast": did["estimate"],
                     "contrast_p": did["p_value"], "dispersion": did["dispersion"],
                     "n_incidents": len(res.incidents), "peacetime_rate": rate,
                     "false_incident_rate": res.false_alarms["rate_per_day"],
                     "n_proving": res.false_alarms["n_incidents_p_below_alpha"],
                     "coverage_adequate": cov.adequate})
    w = pd.DataFrame(rows)

    def share(v: str) -> float:
        return float((w["verdict"] == v).mean())

    return PlaceboResult(
        n_windows=n_windows,
        share_violated=share("violated"), share_held=share("held"),
        share_reduced=share("reduced"), share_inconclusive=share("inconclusive"),
        share_rate_significant=float((w["rate_p"] < alpha).mean()),
        share_rate_adj_significant=float((w["rate_p_adj"] < alpha).mean()),
        share_contrast_significant=float((w["contrast_p"] < alpha).mean()),
        windows=w,
    )
