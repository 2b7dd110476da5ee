"""Rule V1's proof: incidents in scope against the false alarms the detector makes.

:func:`false_alarm_tests` counts the proving incidents (p_natural < 0.01, certainly inside
the window) against the measured false-incident rate, and with a measured contact-zone
rate the days their fire reached new ground at the line (:func:`near_line_test`).
:func:`moved_only_incidents` names the incidents only the moving-front test called war, so
`assess` can say whether a violation stands without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from truceline.analysis.peacetime import NEW_GROUND_DAY, count_false_alarms
from truceline.analysis.rates import at_least
from truceline.analysis.rules import ALPHA_VIOLATION, NEAR_LINE_KM

__all__ = ["count_in", "false_alarm_tests", "incidents_among", "moved_only_incidents",
           "near_line_test", "verdict_without_moved"]


def false_alarm_tests(det: pd.DataFrame, inc_rows: list[dict[str, Any]], rate_fa: float,
                       t_w: float, detail: dict[str, Any] | None, given: bool,
                       at_line: set[str], zone_rows: np.ndarray) -> dict[str, Any]:
    """Rule V1's tests of ``inc_rows`` against false alarms: the proving incidents in
    scope against the false-incident rate, all incidents (for ``held``), and with a
    measured contact-zone rate (``detail["near"]``), :func:`near_line_test`."""
    n_proof = sum(r["timing"] == "inside" and r["p_evidence"] < ALPHA_VIOLATION
                  for r in inc_rows)
    expected = rate_fa * t_w
    out = {
        **(detail or {}),
        "rate_per_day": rate_fa,
        "rate_given": given,
        "window_days": t_w,
        "expected": expected,
        "n_incidents_p_below_alpha": n_proof,
        "p_value": float(stats.poisson.sf(n_proof - 1, expected)) if n_proof else 1.0,
        "incidents_at_line": count_in(inc_rows, at_line),
        "p_all_incidents": float(stats.poisson.sf(len(inc_rows) - 1, expected))
        if inc_rows else 1.0,
    }
    near = (detail or {}).get("near")
    if near and near.get("rate_per_day") is not None:
        out["near"] = near_line_test(det, zone_rows, at_line, inc_rows, near, t_w)
    else:
        out.pop("near", None)
    return out


def moved_only_incidents(det: pd.DataFrame) -> set[str]:
    """Incidents whose every war call the moving-front test decided (``test ==
    "moved"``, :mod:`truceline.analysis.anomaly`): without the maps' motion none of their
    fire would be war. Empty when the detections do not say which test decided."""
    if "test" not in det or det["test"].isna().all():
        return set()
    war = det["is_war"].to_numpy(dtype=bool) & det["incident_id"].notna().to_numpy()
    by_moved = (det.loc[war, "test"].astype(str) == "moved").groupby(
        det.loc[war, "incident_id"].astype(str)).all()
    return set(by_moved.index[by_moved.to_numpy()])


def verdict_without_moved(assessment: Mapping[str, Any]) -> str | None:
    """The verdict an assessment (as a dict) gives without the incidents only the
    moving-front test called war: ``violated`` when the violation stands without them,
    what it would be otherwise; None when no such incident decided it."""
    fa = assessment.get("false_alarms")
    without = fa.get("without_moved_test") if isinstance(fa, Mapping) else None
    return str(without["verdict"]) if isinstance(without, Mapping) \
        and without.get("verdict") else None


def incidents_among(det: pd.DataFrame, rows: np.ndarray) -> set[str]:
    """Incidents with a detection among ``rows`` (e.g. in scope and in the contact zone,
    or on ground that changed hands)."""
    rows = rows & det["incident_id"].notna().to_numpy()
    return set(det.loc[rows, "incident_id"].astype(str))


def count_in(inc_rows: list[dict[str, Any]], ids: set[str]) -> int:
    """How many of ``inc_rows`` are among ``ids``."""
    return sum(str(r["incident_id"]) in ids for r in inc_rows)


def near_line_test(det: pd.DataFrame, rows: np.ndarray, at_line: set[str],
                    inc_rows: list[dict[str, Any]], near: dict[str, Any],
                    t_w: float) -> dict[str, Any]:
    """Rule V1's second look: the days on which a proving incident's fire reached new
    ground in the contact zone (its detections among ``rows``: in scope, in the zone,
    certainly inside the window, with p_natural < 0.01), against the zone's false-alarm
    rate counted the same way in peacetime, with the dispersion measured with it
    (:data:`~truceline.analysis.peacetime.NEW_GROUND_DAY`).

    Why days on new ground: a town fought over for weeks is one incident but weeks of
    evidence, while a farm fire is a day, and a static source burning at one spot day
    after day is one too; the days of one incident still cluster, which the negative
    binomial's dispersion carries.
    """
    proving = {str(r["incident_id"]) for r in inc_rows
               if r["timing"] == "inside" and r["p_evidence"] < ALPHA_VIOLATION} & at_line
    ids = np.zeros(len(det), dtype=bool)
    ids[rows] = det.loc[rows, "incident_id"].astype(str).isin(proving).to_numpy()
    n_days = int(count_false_alarms(det, ids, NEW_GROUND_DAY).sum())
    expected = float(near["rate_per_day"]) * t_w
    spread = float(near.get("dispersion", 1.0))
    return {**near, "km": float(near.get("km", NEAR_LINE_KM)), "unit": NEW_GROUND_DAY,
            "window_days": t_w, "expected": expected, "n_incidents": len(proving),
            "n_new_ground_days": n_days, "dispersion": spread,
            "p_value": at_least(n_days, expected, spread)}
