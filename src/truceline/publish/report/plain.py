"""The report's first paragraph, in plain words, and the banner for a what-if agreement.

A reader who stops after one paragraph must still leave with what the satellites saw,
compared with what, how well they saw it and what that means for the agreement, without
a single statistical term; the figures follow under it for those who read on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from truceline.analysis.proof import verdict_without_moved
from truceline.publish.report.statistics import pick_row
from truceline.publish.report.wording import num, to_float

__all__ = ["hypothetical_banner", "plain_summary"]


def hypothetical_banner(agreement: Mapping[str, Any]) -> str | None:
    """A banner when the agreement is a what-if (``hypothetical = true``), else None."""
    if agreement.get("hypothetical") is True:
        return ("Hypothetical agreement: nobody agreed to this ceasefire. The report applies "
                "the method to these dates as if a ceasefire had begun, to show what the "
                "satellites would have seen.")
    return None


def _days_text(start: Any, end: Any) -> tuple[str, str]:
    """('10 days', '21 to 31 August 2025') for the window, in UTC."""
    try:
        s, e = pd.Timestamp(start), pd.Timestamp(end)
    except (TypeError, ValueError):
        return "", ""
    if pd.isna(s) or pd.isna(e):
        return "", ""
    s = s.tz_localize("UTC") if s.tzinfo is None else s.tz_convert("UTC")
    e = e.tz_localize("UTC") if e.tzinfo is None else e.tz_convert("UTC")
    hours = (e - s).total_seconds() / 3600
    span = (f"{hours / 24:.1f} days".replace(".0 days", " days") if hours >= 36
            else f"{hours:.0f} hours")
    last = e - pd.Timedelta(seconds=1)
    if s.year == last.year and s.month == last.month:
        dates = f"{s.day} to {last.day} {s:%B %Y}"
    elif s.year == last.year:
        dates = f"{s.day} {s:%B} to {last.day} {last:%B %Y}"
    else:
        dates = f"{s.day} {s:%B %Y} to {last.day} {last:%B %Y}"
    return span, dates


def _change(ratio: Any) -> str:
    """'fell by 39%', 'rose by 12%', 'stayed about the same' from a rate ratio."""
    r = to_float(ratio)
    if r is None:
        return ""
    if abs(r - 1) < 0.05:
        return "stayed about the same"
    return f"fell by {(1 - r) * 100:.0f}%" if r < 1 else f"rose by {(r - 1) * 100:.0f}%"


def _count(value: Any) -> str:
    """A count with thousands grouped (1,895), as in running text."""
    f = to_float(value)
    return f"{f:,.0f}" if f is not None else "—"


def plain_summary(assessment: Mapping[str, Any], incidents: pd.DataFrame,
                  verdict_label: str, coverage_poor: bool) -> str:
    """One paragraph: what was seen, against what, how well, and the verdict.

    `incidents` carries ``timing`` when the detections were given (see
    `truceline.publish.evidence.incident_evidence`); otherwise every incident is taken
    as the assessment listed it.
    """
    agreement = assessment.get("agreement") if isinstance(assessment.get("agreement"),
                                                          Mapping) else {}
    span, dates = _days_text(agreement.get("start_utc"), agreement.get("end_utc"))
    when = f"during the {span} of the agreement ({dates}, UTC)" if span else \
        "during the agreement"
    n = len(incidents)
    if "timing" in incidents:
        inside = int((incidents["timing"].astype(str) == "inside").sum())
        maybe = int((incidents["timing"].astype(str) == "possibly inside").sum())
    else:
        inside, maybe = n, 0
    det = None
    if "n_in_window" in incidents:
        det = int(pd.to_numeric(incidents["n_in_window"], errors="coerce").fillna(0).sum())
    parts: list[str] = []
    if inside or maybe:
        text = (f"Fire very unlikely to be natural or agricultural, the kind fighting makes, "
                f"was seen at {num(inside + maybe)} place{'s' if inside + maybe != 1 else ''} "
                f"near the line of contact {when}")
        if det:
            text += (f", with {_count(det)} satellite fire detection{'s' if det != 1 else ''} "
                     "inside the window")
        if maybe:
            text += (f" ({num(maybe)} of them possibly just outside the window: the data give "
                     "the day, not the hour)")
        parts.append(text + ".")
    else:
        parts.append(f"No fire very unlikely to be natural or agricultural was seen near the "
                     f"line of contact {when}.")
        if n:
            parts[-1] = parts[-1][:-1] + (f"; {num(n)} such incident{'s' if n != 1 else ''} "
                                          "lay before or after it.")
    front = pick_row(assessment.get("rates"), area="front", by="all")
    control = pick_row(assessment.get("rates"), area="control", by="all")
    if front and _change(front.get("ratio")):
        text = (f"Counting all fire near the line, the satellites recorded "
                f"{_count(front.get('x_window'))} detections in the window against "
                f"{_count(front.get('x_comparison'))} in the period before it: fire near the line "
                f"{_change(front.get('ratio'))} per day")
        if control and _change(control.get("ratio")):
            text += f", while far from the line it {_change(control.get('ratio'))}"
        parts.append(text + ".")
    cov = assessment.get("coverage") if isinstance(assessment.get("coverage"), Mapping) else {}
    passes = to_float(cov.get("mean_passes_per_day"))
    if coverage_poor:
        parts.append("The satellites saw too little of the period (few passes, cloud or "
                     "days without data) to rule out fire they missed.")
    elif passes is not None:
        parts.append(f"The satellites saw the period well enough, with about {passes:.0f} "
                     "passes a day.")
    parts.append(f"Verdict: {verdict_label.lower()}. This shows where fire burned, not who "
                 "caused it.")
    maps = _rests_on_maps(assessment)
    if maps:
        parts.append(maps)
    return " ".join(parts)


def _rests_on_maps(assessment: Mapping[str, Any]) -> str | None:
    """A sentence when the violation would not stand without the fire only the control
    maps' motion made war (``false_alarms.without_moved_test``, `analysis.assess`)."""
    without = verdict_without_moved(assessment)
    if without in (None, "violated"):
        return None
    counts = assessment.get("war_counts")
    n = counts.get("incidents_moved_test_only") if isinstance(counts, Mapping) else None
    places = f"{num(n)} of those places" if to_float(n) else "Some of those places"
    return (f"{places} burned in the usual season for fire there and count as fighting "
            "only because the control maps show the ground changing hands around then; "
            f"without them the verdict would be {without}, so it rests on the maps as "
            "well as on the satellites.")
