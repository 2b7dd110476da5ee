"""What the satellites saw of the window, in words: passes, days without data, cloud.

Poor coverage must be said before the reader trusts a 'held'; a day without data is not a
day without fire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from truceline.publish.report.wording import (
    as_list,
    day_list,
    details_text,
    instant_text,
    key_label,
    num,
    short_text,
    to_float,
)

_POOR_CLOUD_PCT = 60.0

_COVERAGE_LABELS = {
    "start_utc": "From", "end_utc": "To", "mean_passes_per_day": "Passes per day (mean)",
    "passes_timed": "Pass times known", "cloud_status": "Cloud data",
    "cloud_message": "Cloud", "mean_cloud_pct": "Mean cloud cover (%)",
    "adequate": "Coverage judged adequate", "thresholds": "Thresholds used",
    "method": "Coverage measured", "clear_passes": "Clear-sky passes in the window",
    "typical_clear_passes": "Clear-sky passes in a typical year",
    "ratio_to_typical": "Share of a typical year", "coverage_class": "Coverage class",
    "days_counting": "Days that count", "feed_gaps": "Feed gaps (missing data)",
    "sources": "Sources", "held_allowed": "Coverage allows 'held'",
    "cloud_known": "Cloud known every day",
}

def _with_data(cov: Mapping[str, Any]) -> list[str]:
    """Days with data: given, or the listed days that had a pass or a detection."""
    if "days_with_data" in cov:
        return day_list(cov.get("days_with_data"))
    out = []
    for d in as_list(cov.get("days")):
        if isinstance(d, Mapping) and ((to_float(d.get("n_passes")) or 0) > 0
                                       or (to_float(d.get("n_detections")) or 0) > 0):
            out.extend(day_list(d.get("date")))
    return out

def _passes(cov: Mapping[str, Any]) -> float | None:
    if "passes" in cov:
        return to_float(cov["passes"])
    days = [d for d in as_list(cov.get("days")) if isinstance(d, Mapping)]
    if days and any("n_passes" in d for d in days):
        return float(sum(to_float(d.get("n_passes")) or 0 for d in days))
    return None

def coverage_rows(cov: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    passes = _passes(cov)
    if passes is not None:
        rows.append(("Satellite passes that delivered data", num(passes)))
    with_data, without = _with_data(cov), day_list(cov.get("days_without_data"))
    if with_data or without or "days_with_data" in cov or "days" in cov:
        total = len(set(with_data) | set(without))
        rows.append(("Days with data", f"{len(with_data)} of {total}" if total else "0"))
        rows.append(("Days with no data", ", ".join(without) if without else "none"))
    skip = {"passes", "days", "days_with_data", "days_without_data", "cloud_pct_by_oblast",
            "cloud_by_oblast", "reasons"}
    for key, value in cov.items():
        if key in skip or value is None or value == [] or value == {}:
            continue
        if key in ("start_utc", "end_utc"):
            text = instant_text(value, None)
        elif key == "cloud_status":
            text = _CLOUD_STATUS.get(str(value), str(value).replace("_", " "))
        elif key == "thresholds" and isinstance(value, Mapping):
            text = _thresholds(value)
        elif isinstance(value, Mapping):
            text = details_text(value)
        else:
            text = short_text(value)
        rows.append((_COVERAGE_LABELS.get(key, key_label(key)), text))
    for reason in as_list(cov.get("reasons")):
        rows.append(("Judgement", str(reason)))
    if not rows:
        rows.append(("Coverage", "not reported by the assessment"))
    return rows

_CLOUD_STATUS = {"ok": "available for every day", "partial": "available for some days",
                 "out_of_range": "not available for these dates",
                 "missing": "not available (no weather files given)"}


def _thresholds(t: Mapping[str, Any]) -> str:
    """The coverage thresholds in words, not as a dict."""
    bits = []
    if to_float(t.get("min_passes_per_day")) is not None:
        bits.append(f"at least {num(t['min_passes_per_day'])} passes a day")
    if to_float(t.get("max_empty_day_share")) is not None:
        bits.append(f"at most {to_float(t['max_empty_day_share']) * 100:.0f}% of days "
                    "without data")
    if to_float(t.get("max_cloud_pct")) is not None:
        bits.append(f"cloud under {num(t['max_cloud_pct'])}%")
    if to_float(t.get("pass_gap_minutes")) is not None:
        bits.append(f"detections more than {num(t['pass_gap_minutes'])} minutes apart count "
                    "as separate passes")
    return "; ".join(bits) or details_text(t)


def coverage_days(days: Any) -> list[list[str]]:
    """The coverage strip in words: date, passes, detections, cloud and whether the day
    counts (``gap``: a feed gap, missing data, not calm) for each window day listed."""
    out = []
    for d in as_list(days):
        if isinstance(d, Mapping) and d.get("date"):
            cloud = to_float(d.get("cloud"))
            counts = "gap" if d.get("feed_gap") else ("yes" if d.get("counts") else "no") \
                if "counts" in d else ""
            out.append([day_list(d["date"])[0], num(d.get("n_passes")),
                        num(d.get("n_detections")),
                        "unknown" if cloud is None else f"{100 * cloud:.0f}%", counts])
    return out

def coverage_warning(cov: Mapping[str, Any], verdict: str) -> tuple[str | None, bool]:
    """A plain note on what the satellites missed, and whether coverage was poor.

    Poor: the assessment says so, a third or more of the days had no data, no pass
    delivered data, or the median region was mostly under cloud. Fewer missing days give
    a note, not a warning.
    """
    poor_bits: list[str] = []
    notes: list[str] = []
    without = day_list(cov.get("days_without_data"))
    with_data = _with_data(cov)
    # the assessment's own judgement wins; the thresholds below only stand in for it
    judged = next((cov[k] for k in ("adequate", "ok") if isinstance(cov.get(k), bool)), None)
    if cov.get("poor") is True:
        judged = False
    if judged is False:
        reasons = [str(r) for r in as_list(cov.get("reasons"))]
        poor_bits.append("the assessment judged satellite coverage too poor"
                         + (f" ({'; '.join(reasons)})" if reasons else ""))
    if without:
        total = len(set(without) | set(with_data))
        text = (f"{len(without)} of {total} days had no satellite data "
                f"({', '.join(without[:6])}{', …' if len(without) > 6 else ''})")
        (poor_bits if judged is None and len(without) * 3 >= total else notes).append(text)
    if judged is None and _passes(cov) == 0:
        poor_bits.append("no satellite pass delivered data")
    vals = [v for _, v in _cloud_values(cov.get("cloud_pct_by_oblast",
                                                cov.get("cloud_by_oblast")))]
    if judged is None and vals and float(np.median(vals)) >= _POOR_CLOUD_PCT:
        poor_bits.append(f"cloud covered a median {np.median(vals):.0f}% of the regions "
                         "watched, and satellites do not see fire through cloud")
    if not cov:
        poor_bits.append("the assessment reported no coverage at all")
    if not poor_bits and not notes:
        return None, False
    missed = ("A day without data is not a day without fire: fire under cloud or between "
              "passes is missed.")
    if not poor_bits:
        return "Note on coverage: " + "; ".join(notes) + ". " + missed, False
    text = "Coverage was poor: " + "; ".join(poor_bits + notes) + ". " + missed + " "
    if verdict == "held":
        text += "Read the verdict with that in mind."
    else:
        text += "On such coverage this report never says 'held'."
    return text, True

def _cloud_values(cloud: Any) -> list[tuple[str, float]]:
    """(region, cloud %) from a {region: pct} table or a list of {oblast, cloud_pct} rows."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(cloud, Mapping):
        pairs = [(str(k), v) for k, v in cloud.items()]
    elif isinstance(cloud, list):
        for r in cloud:
            if isinstance(r, Mapping):
                name = r.get("oblast") or r.get("region") or r.get("oblast_id") or "?"
                pairs.append((str(name), r.get("cloud_pct")))
    out = [(k, f) for k, f in ((k, to_float(v)) for k, v in pairs) if f is not None]
    return sorted(out, key=lambda kv: -kv[1])

def cloud_rows(cloud: Any) -> list[tuple[str, str]]:
    return [(k, f"{v:.0f}%") for k, v in _cloud_values(cloud)]
