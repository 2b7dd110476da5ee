"""Placebo studies: hypothetical agreements over peacetime, judged as real ones are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from truceline.analysis.assess import assess
from truceline.analysis.coverage import Coverage
from truceline.analysis.inputs import clean
from truceline.errors import InputError
from truceline.sources.agreements import Agreement

__all__ = ["PlaceboResult", "placebo_study"]


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
        return clean(d)  # type: ignore[no-any-return]


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
