"""The report a person reads: verdict, map, timeline, incidents, method, in HTML and PDF.

Both parties, a mediator and a journalist must be able to open the report offline and
check it, so:

- ``report.html`` is one self-contained file: CSS inline, figures as inline SVG, no
  script, no font or image fetched from anywhere (the tests load it in headless Chromium
  and record every request);
- ``report.pdf`` carries the same content for print. It is laid out with ReportLab
  (pure Python, fonts embedded from Matplotlib's DejaVu, so every glyph of a place name
  prints) rather than by printing the HTML in a browser: a report must be re-made the same
  way on any machine, including one with no browser, and ReportLab writes reproducible
  bytes (``invariant``). Without ReportLab a plainer PDF is drawn with Matplotlib.

The content is assembled once (`report_content`) from the assessment dict, the incident
table, the line of contact and the daily timeline, then rendered twice. Keys of the
assessment that this module does not know are still shown ("Other figures"), never
dropped. The wording attributes only what the data shows: the ground an incident lies
on, never who fired.
"""

from __future__ import annotations

import html
import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup
from shapely.geometry.base import BaseGeometry

from truceline import __version__
from truceline.errors import InputError
from truceline.publish import exports as ex
from truceline.publish import maps

__all__ = [
    "DEFAULT_PARTY_NAMES",
    "Tabled",
    "HTML_FILE",
    "PDF_FILE",
    "VERDICTS",
    "ReportContent",
    "render_html",
    "report_content",
    "write_pdf",
    "write_report",
]

HTML_FILE = "report.html"
PDF_FILE = "report.pdf"
_TEMPLATES = Path(__file__).parent / "templates"

#: What each verdict means, in words a reader outside the field can use.
VERDICTS: Mapping[str, tuple[str, str]] = {
    "held": ("Held",
             "Fire near the line stopped, or stayed at the level expected without fighting, "
             "and the satellites saw enough of the period to tell."),
    "reduced": ("Reduced",
                "Fire near the line fell during the agreement compared with before it, "
                "but did not stop."),
    "violated": ("Violated",
                 "The satellites saw fire near the line during the agreement that is very "
                 "unlikely to be natural or agricultural."),
    "inconclusive": ("Inconclusive",
                     "The satellites did not see enough of the period (cloud, few passes or "
                     "too few fires to compare) to say whether the agreement held."),
}
#: Party names by side code when the agreement does not name them (first theatre).
DEFAULT_PARTY_NAMES: Mapping[str, str] = {"ua": "Ukraine", "ru": "Russia"}
# keys given their own place in the report; every other key goes to "Other figures"
_KNOWN_KEYS = {"agreement", "control_source", "control_map", "verdict", "rule", "rule_text",
               "reasons", "coverage", "counts", "rate_ratio", "did", "rates", "contrast",
               "caveats", "title", "incidents", "map_comparison"}
_POOR_CLOUD_PCT = 60.0
_PDF_MAX_ROWS = 400


# --------------------------------------------------------------------------- content


@dataclass
class Tabled:
    """A table of the assessment's: where it goes (``saw`` or ``other``), title, note."""

    section: str
    title: str
    note: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class ReportContent:
    """Everything both renderers show, already in words and formatted numbers."""

    title: str
    subtitle: str
    verdict: str
    verdict_label: str
    verdict_text: str
    reasons: list[str]
    rule: str
    summary: list[str]
    agreement: list[tuple[str, str]]
    coverage: list[tuple[str, str]]
    coverage_warning: str | None
    coverage_poor: bool
    cloud: list[tuple[str, str]]
    coverage_days: list[list[str]]
    statistics: list[str]
    counts_header: list[str]
    counts_rows: list[list[str]]
    incident_header: list[str]
    incident_rows: list[dict[str, Any]]
    method: list[tuple[str, str]]
    caveats: list[str]
    other: list[tuple[str, str]]
    tables: list[Tabled]
    footer: str
    map_caption: str = ""
    map_figure: maps.RenderedFigure | None = None
    timeline_figure: maps.RenderedFigure | None = None
    files: list[str] = field(default_factory=list)


def report_content(
    assessment: Mapping[str, Any],
    incidents: pd.DataFrame | None,
    line_of_contact: BaseGeometry | None,
    timeline: pd.DataFrame | None,
    ru_ground: BaseGeometry | None = None,
    *,
    window: tuple[Any, Any] | None = None,
    context: BaseGeometry | None = None,
    generated_utc: datetime | None = None,
    title: str | None = None,
    files: Sequence[str] = (),
) -> ReportContent:
    """Assemble the report's words, tables and figures from the assessment's pieces.

    `window` (start, end) defaults to the agreement's ``start_utc``/``end_utc``, then
    to ``timeline.attrs["window"]``;
    `context` is extra lon/lat geometry drawn under the map (country outlines).
    """
    if not isinstance(assessment, Mapping):
        raise InputError(f"assessment = {type(assessment).__name__}: expected a dict "
                         "(JSON-able) with at least 'verdict'")
    a = ex.jsonable(assessment)
    agreement = a.get("agreement") if isinstance(a.get("agreement"), Mapping) else {}
    name = str(agreement.get("name") or a.get("title") or "Unnamed agreement")
    verdict = str(a.get("verdict") or "unknown").strip().lower()
    label, meaning = VERDICTS.get(verdict, (verdict.title() or "Unknown",
                                            "The assessment gave no recognised verdict."))
    coverage = a.get("coverage") if isinstance(a.get("coverage"), Mapping) else {}
    if incidents is None and isinstance(a.get("incidents"), list) and a["incidents"]:
        incidents = pd.DataFrame([r for r in a["incidents"] if isinstance(r, Mapping)])
    inc = _incident_frame(incidents)
    if window is None:
        window = _agreement_window(agreement)
    if window is None and timeline is not None and timeline.attrs.get("window") is not None:
        start, end = timeline.attrs["window"]
        window = (start, end)
    generated = (generated_utc or datetime.now(UTC)).astimezone(UTC)
    control = _control_text(a.get("control_source") if a.get("control_source") is not None
                            else a.get("control_map"))
    names = _party_names(agreement)
    held_by = names.get("ru", "Russia")

    map_fig = maps.render_figure(maps.incident_map(
        inc if len(inc) and {"lon", "lat"} <= set(inc.columns) or isinstance(
            incidents, gpd.GeoDataFrame) else None,
        line_of_contact, ru_ground, context=context,
        held_label=f"Ground held by {held_by} (control map)"))
    tl_fig = None
    if timeline is not None:
        tl_fig = maps.render_figure(maps.timeline_chart(
            timeline, window, no_data_days=_days(coverage.get("days_without_data"))))

    counts_header, counts_rows = _counts_table(a.get("counts"))
    warning, poor = _coverage_warning(coverage, verdict)
    header, rows = _incident_rows(inc, names)
    return ReportContent(
        title=title or f"Ceasefire monitoring report: {name}",
        subtitle=_subtitle(agreement, control),
        verdict=verdict,
        verdict_label=label,
        verdict_text=meaning,
        reasons=[str(r) for r in _as_list(a.get("reasons"))],
        rule=_rule(a.get("rule"), a.get("rule_text")),
        summary=_summary(inc, names),
        agreement=_agreement_rows(agreement, control),
        coverage=_coverage_rows(coverage),
        coverage_warning=warning,
        coverage_poor=poor,
        cloud=_cloud_rows(coverage.get("cloud_pct_by_oblast", coverage.get("cloud_by_oblast"))),
        coverage_days=_coverage_days(coverage.get("days")),
        statistics=_statistics(a.get("rate_ratio", _front_rate(a.get("rates"))),
                               a.get("did", _contrast_all(a.get("contrast"))),
                               _control_rate(a.get("rates"))),
        counts_header=counts_header,
        counts_rows=counts_rows,
        incident_header=header,
        incident_rows=rows,
        method=_method(control),
        caveats=[str(c) for c in _as_list(a.get("caveats"))],
        other=_other(a),
        tables=_tables(a),
        footer=(f"Made by truceline {__version__} on "
                f"{generated.strftime('%Y-%m-%d %H:%M')} UTC from the files listed in "
                "manifest.json. Check it with: truceline verify <this folder>."),
        map_caption=("The line of contact (black), the distance bands around it, ground held "
                     f"by {held_by} (tan) and the incidents, coloured by confidence and "
                     "sized by number of detections. Drawn from the report's own data: no "
                     "map tiles."),
        map_figure=map_fig,
        timeline_figure=tl_fig,
        files=list(files),
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _incident_frame(incidents: pd.DataFrame | None) -> pd.DataFrame:
    if incidents is None:
        return pd.DataFrame()
    if not isinstance(incidents, pd.DataFrame):
        raise InputError(f"incidents = {type(incidents).__name__}: expected a GeoDataFrame "
                         "of incidents (or None)")
    df = pd.DataFrame(incidents).copy()
    for col in ("t_start", "t_end"):
        if col in df:
            df[col] = pd.to_datetime(df[col], utc=True, errors="coerce")
    if "t_start" in df:
        df = df.sort_values("t_start", kind="stable")
    return df.reset_index(drop=True)


def _agreement_window(agreement: Mapping[str, Any]) -> tuple[Any, Any] | None:
    start, end = agreement.get("start_utc"), agreement.get("end_utc")
    if not start or not end:
        return None
    try:
        return (pd.Timestamp(start), pd.Timestamp(end))
    except (ValueError, TypeError):
        return None


def _control_text(value: Any) -> str:
    """The control map in words: source, snapshots and any note the assessment made."""
    if value is None:
        return "not stated"
    if isinstance(value, Mapping):
        parts = [str(value.get(k)) for k in ("name", "source", "snapshot_id", "valid_from")
                 if value.get(k)]
        snaps = [str(x) for x in _as_list(value.get("snapshots")) if x]
        if snaps:
            parts.append("snapshot" + ("s " if len(snaps) > 1 else " ") + ", ".join(snaps))
        if not parts:
            parts.append("not named")
        text = ", ".join(parts)
        if value.get("note"):
            text += f" ({value['note']})"
        return text
    return str(value)


def _rule(rule: Any, text: Any) -> str:
    if not rule and not text:
        return ""
    if rule and text:
        return f"Rule {rule}: {text}"
    return f"Rule: {rule or text}"


def _when(value: Any, zone: str | None) -> str:
    """'2023-01-06 09:00 UTC (12:00 Europe/Moscow)' from an instant and an IANA zone."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    text = ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
    if zone and zone.upper() != "UTC":
        try:
            local = ts.tz_convert(ZoneInfo(zone))
            text += f" ({local.strftime('%Y-%m-%d %H:%M')} {zone})"
        except (ZoneInfoNotFoundError, ValueError):
            text += f" (time zone {zone!r} unknown)"
    return str(text)


def _parties(value: Any) -> str:
    names = []
    for p in _as_list(value):
        if isinstance(p, Mapping):
            names.append(str(p.get("name") or p.get("id") or json.dumps(p, sort_keys=True)))
        else:
            names.append(str(p))
    return ", ".join(names) or "not stated"


def _party_names(agreement: Mapping[str, Any]) -> dict[str, str]:
    """Side code -> party name, from the agreement's parties where they give both."""
    names = dict(DEFAULT_PARTY_NAMES)
    for p in _as_list(agreement.get("parties")):
        if isinstance(p, Mapping) and p.get("id") and p.get("name"):
            names[str(p["id"])] = str(p["name"])
    return names


def _ground_name(side: str, names: Mapping[str, str]) -> str:
    """'ground held by Russia', 'a third country's ground', 'the sea': where, not who."""
    if side == "sea":
        return "the sea"
    if side == "third":
        return "a third country's ground"
    if side in names:
        return f"ground held by {names[side]}"
    return f"ground of side {side!r}" if side else "ground of unknown control"


def _subtitle(agreement: Mapping[str, Any], control: str) -> str:
    bits = []
    if agreement.get("start_utc") and agreement.get("end_utc"):
        bits.append(f"{_when(agreement['start_utc'], None)} to "
                    f"{_when(agreement['end_utc'], None)}")
    bits.append(f"control map: {control}")
    return " · ".join(bits)


def _agreement_rows(agreement: Mapping[str, Any], control: str) -> list[tuple[str, str]]:
    zone = agreement.get("time_zone")
    rows = [("Agreement", str(agreement.get("name") or "not stated")),
            ("Parties", _parties(agreement.get("parties")))]
    if agreement.get("start_utc"):
        rows.append(("Starts", _when(agreement["start_utc"], zone)))
    if agreement.get("end_utc"):
        rows.append(("Ends", _when(agreement["end_utc"], zone)))
    if zone:
        rows.append(("Time zone of the terms", str(zone)))
    rows.append(("Map of who holds which ground", control))
    for key, value in agreement.items():
        if key in {"name", "parties", "start_utc", "end_utc", "time_zone"}:
            continue
        if value is None or value == [] or value == {} or value == "":
            continue
        if str(key).endswith("_utc"):
            text = _when(value, zone)
        elif isinstance(value, Mapping):
            text = _details(value)
        elif key in ("declared_by", "accepted_by"):
            names = _party_names(agreement)
            text = ", ".join(names.get(str(x), str(x)) for x in _as_list(value))
        else:
            text = _short(value)
        rows.append((_AGREEMENT_LABELS.get(key, _label(key)), text))
    return rows


_AGREEMENT_LABELS = {
    "comparison_start_utc": "Compared with the period from",
    "comparison_end_utc": "Compared with the period to",
    "scope": "Where it applies",
    "control_band_km": "Control band (km from the line)",
    "fire_near_line": "Fire near the line prohibited",
    "protected_sites": "Protected sites",
    "declared_by": "Declared by",
    "accepted_by": "Accepted by",
}


def _label(key: str) -> str:
    return str(key).replace("_", " ").strip().capitalize()


def _short(value: Any, limit: int = 400) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (list, tuple)) and all(not isinstance(v, (Mapping, list))
                                                   for v in value):
        text = ", ".join(_num(v) for v in value)
    elif isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    else:
        text = _num(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: Any) -> str:
    """Numbers as people read them: integers plain, others to 3 significant figures."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):  # 1895 and 2021 plain, 12,345 grouped
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            return "—"
        if f.is_integer() and abs(f) < 1e15:
            return _num(int(f))
        return f"{f:.3g}" if abs(f) < 1e4 else f"{f:,.0f}"
    return str(value)


def _p(value: Any) -> str:
    f = _float(value)
    if f is None:
        return "—"
    if f < 0.001:
        return "< 0.001"
    return f"{f:.3f}" if f < 0.01 else f"{f:.2f}"


def _days(value: Any) -> list[str]:
    out = []
    for d in _as_list(value):
        try:
            out.append(pd.Timestamp(d).strftime("%Y-%m-%d"))
        except (ValueError, TypeError):
            out.append(str(d))
    return out


_COVERAGE_LABELS = {
    "start_utc": "From", "end_utc": "To", "mean_passes_per_day": "Passes per day (mean)",
    "passes_timed": "Pass times known", "cloud_status": "Cloud data",
    "cloud_message": "Cloud", "mean_cloud_pct": "Mean cloud cover (%)",
    "adequate": "Coverage judged adequate", "thresholds": "Thresholds used",
}


def _with_data(cov: Mapping[str, Any]) -> list[str]:
    """Days with data: given, or the listed days that had a pass or a detection."""
    if "days_with_data" in cov:
        return _days(cov.get("days_with_data"))
    out = []
    for d in _as_list(cov.get("days")):
        if isinstance(d, Mapping) and ((_float(d.get("n_passes")) or 0) > 0
                                       or (_float(d.get("n_detections")) or 0) > 0):
            out.extend(_days(d.get("date")))
    return out


def _passes(cov: Mapping[str, Any]) -> float | None:
    if "passes" in cov:
        return _float(cov["passes"])
    days = [d for d in _as_list(cov.get("days")) if isinstance(d, Mapping)]
    if days and any("n_passes" in d for d in days):
        return float(sum(_float(d.get("n_passes")) or 0 for d in days))
    return None


def _coverage_rows(cov: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    passes = _passes(cov)
    if passes is not None:
        rows.append(("Satellite passes that delivered data", _num(passes)))
    with_data, without = _with_data(cov), _days(cov.get("days_without_data"))
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
            text = _when(value, None)
        elif isinstance(value, Mapping):
            text = _details(value)
        else:
            text = _short(value)
        rows.append((_COVERAGE_LABELS.get(key, _label(key)), text))
    for reason in _as_list(cov.get("reasons")):
        rows.append(("Judgement", str(reason)))
    if not rows:
        rows.append(("Coverage", "not reported by the assessment"))
    return rows


def _coverage_days(days: Any) -> list[list[str]]:
    """Date, passes, detections for each window day the assessment listed."""
    out = []
    for d in _as_list(days):
        if isinstance(d, Mapping) and d.get("date"):
            out.append([_days(d["date"])[0], _num(d.get("n_passes")),
                        _num(d.get("n_detections"))])
    return out


def _coverage_warning(cov: Mapping[str, Any], verdict: str) -> tuple[str | None, bool]:
    """A plain note on what the satellites missed, and whether coverage was poor.

    Poor: the assessment says so, a third or more of the days had no data, no pass
    delivered data, or the median region was mostly under cloud. Fewer missing days give
    a note, not a warning.
    """
    poor_bits: list[str] = []
    notes: list[str] = []
    without = _days(cov.get("days_without_data"))
    with_data = _with_data(cov)
    # the assessment's own judgement wins; the thresholds below only stand in for it
    judged = next((cov[k] for k in ("adequate", "ok") if isinstance(cov.get(k), bool)), None)
    if cov.get("poor") is True:
        judged = False
    if judged is False:
        reasons = [str(r) for r in _as_list(cov.get("reasons"))]
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


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


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
    out = [(k, f) for k, f in ((k, _float(v)) for k, v in pairs) if f is not None]
    return sorted(out, key=lambda kv: -kv[1])


def _cloud_rows(cloud: Any) -> list[tuple[str, str]]:
    return [(k, f"{v:.0f}%") for k, v in _cloud_values(cloud)]


def _ci(d: Mapping[str, Any]) -> str:
    lo, hi = _float(d.get("ci_low")), _float(d.get("ci_high"))
    if lo is None or hi is None:
        return ""
    return f" (95% interval {lo:.2f} to {hi:.2f})"


def _pick(rows: Any, **match: str) -> dict[str, Any] | None:
    for r in _as_list(rows):
        if isinstance(r, Mapping) and all(str(r.get(k)) == v for k, v in match.items()):
            return dict(r)
    return None


def _as_ratio(row: Mapping[str, Any] | None, estimate: str) -> dict[str, Any] | None:
    """A rates/contrast row in the {estimate, ci_low, ci_high, p_value} shape, with counts."""
    if row is None:
        return None
    out = {"estimate": row.get(estimate), "ci_low": row.get("lo"), "ci_high": row.get("hi")}
    if "p_value" in row:
        out["p_value"] = row["p_value"]
    for k in ("x_window", "x_comparison", "rate_window", "rate_comparison"):
        if k in row:
            out[k] = row[k]
    return out


def _front_rate(rates: Any) -> dict[str, Any] | None:
    return _as_ratio(_pick(rates, area="front", by="all"), "ratio")


def _control_rate(rates: Any) -> dict[str, Any] | None:
    return _as_ratio(_pick(rates, area="control", by="all"), "ratio")


def _contrast_all(contrast: Any) -> dict[str, Any] | None:
    return _as_ratio(_pick(contrast, side="all"), "estimate")


def _counts_phrase(d: Mapping[str, Any]) -> str:
    x1, x0 = _float(d.get("x_window")), _float(d.get("x_comparison"))
    if x1 is None or x0 is None:
        return ""
    text = f" ({_num(x1)} detections in the window against {_num(x0)} before"
    r1, r0 = _float(d.get("rate_window")), _float(d.get("rate_comparison"))
    if r1 is not None and r0 is not None:
        text += f": {r1:.1f} against {r0:.1f} a day"
    return text + ")"


def _statistics(rate_ratio: Any, did: Any, control: Any = None) -> list[str]:
    out = []
    if isinstance(rate_ratio, Mapping):
        est = _float(rate_ratio.get("estimate"))
        if est is not None:
            change = ("higher" if est > 1 else "lower") if est != 1 else "the same"
            text = (f"Rate ratio {est:.2f}{_ci(rate_ratio)}: fire near the line during the "
                    f"agreement ran at {est:.2f} times the rate of the comparison period"
                    f"{_counts_phrase(rate_ratio)}")
            if change != "the same":
                pct = abs(est - 1) * 100
                text += f", {pct:.0f}% {change}"
            text += "."
            lo, hi = _float(rate_ratio.get("ci_low")), _float(rate_ratio.get("ci_high"))
            if lo is not None and hi is not None and lo <= 1 <= hi:
                text += " The interval includes 1: no clear change."
            out.append(text)
        out += _extras(rate_ratio, "Rate ratio details: ")
    if isinstance(control, Mapping) and _float(control.get("estimate")) is not None:
        est = float(control["estimate"])
        out.append(f"Far from the line (control band) the rate ratio was {est:.2f}"
                   f"{_ci(control)}{_counts_phrase(control)}.")
    if isinstance(did, Mapping):
        est = _float(did.get("estimate"))
        if est is not None:
            text = (f"Front against control band (difference in differences): ratio of rate "
                    f"ratios {est:.2f}{_ci(did)}")
            if "p_value" in did:
                pv = _p(did["p_value"])
                text += f", p {pv if pv.startswith('<') else '= ' + pv}"
            text += (". This compares the change near the line with the change far from "
                     "it on the same side, so season, weather and satellite changes cancel.")
            out.append(text)
        out += _extras(did, "Difference-in-differences details: ")
    return out


#: What the sentences about a ratio already say; the rest goes to its "details" line.
_RATIO_SAID = frozenset({"estimate", "ci_low", "ci_high", "p_value", "x_window",
                         "x_comparison", "rate_window", "rate_comparison"})


def _extras(ratio: Mapping[str, Any], label: str) -> list[str]:
    extra = {k: v for k, v in ratio.items() if k not in _RATIO_SAID}
    return [label + _details(extra)] if extra else []


def _details(d: Mapping[str, Any]) -> str:
    return "; ".join(f"{str(k).replace('_', ' ')}: {_short(v)}" for k, v in
                     _flatten(d).items())


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        key = str(key).replace("_", " ")
        name = f"{prefix} › {key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


def _counts_table(counts: Any) -> tuple[list[str], list[list[str]]]:
    """Rows are what was counted, columns the periods (window, comparison, ...)."""
    if not isinstance(counts, Mapping) or not counts:
        return [], []
    periods = [k for k, v in counts.items() if isinstance(v, Mapping)]
    scalars = {k: v for k, v in counts.items() if not isinstance(v, Mapping)}
    flat = {p: _flatten(counts[p]) for p in periods}
    rows: list[str] = []
    for p in periods:
        rows.extend(r for r in flat[p] if r not in rows)
    header = ["Counted"] + [_label(p) for p in periods]
    table = [[r] + [_num(flat[p].get(r)) for p in periods] for r in rows]
    if scalars:
        if not periods:
            header = ["Counted", "Value"]
        for k, v in scalars.items():
            table.append([str(k), _num(v)] + [""] * max(len(periods) - 1, 0))
    return header, table


def _summary(inc: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    n = len(inc)
    if n == 0:
        return ["No incident was found in the agreement's area during the window."]
    out = []
    text = f"{n} incident{'s' if n != 1 else ''} of fire very unlikely to be natural"
    if "n_detections" in inc:
        det = int(pd.to_numeric(inc["n_detections"], errors="coerce").fillna(0).sum())
        text += f", made of {det:,} satellite fire detections"
    out.append(text + ".")
    if "confidence" in inc:
        vc = inc["confidence"].astype(str).str.lower().value_counts()
        parts = [f"{vc[c]} {c}" for c in ("high", "medium", "low") if c in vc]
        parts += [f"{v} {k}" for k, v in vc.items() if k not in ("high", "medium", "low")]
        out.append("Confidence: " + ", ".join(parts) + ".")
    if "side" in inc:
        vc = inc["side"].astype(str).value_counts()
        parts = [f"{v} at sea" if k == "sea" else f"{v} on {_ground_name(k, names)}"
                 for k, v in vc.items()]
        out.append("Where they lay: " + ", ".join(parts) + " (where the fire was, not who "
                   "caused it).")
    if "sector" in inc:
        vc = inc["sector"].dropna().astype(str).value_counts().head(5)
        if len(vc):
            out.append("Most incidents by sector: "
                       + ", ".join(f"{k} ({v})" for k, v in vc.items()) + ".")
    return out


def _incident_rows(inc: pd.DataFrame, names: Mapping[str, str],
                   ) -> tuple[list[str], list[dict[str, Any]]]:
    header = ["Incident", "When (UTC)", "Where", "Ground (by the control map)",
              "Detections", "p_natural (lowest)", "Confidence", "Evidence (detection ids)"]
    rows = []
    for r in inc.to_dict("records"):
        ids = r.get("detection_ids")
        if isinstance(ids, str):
            ids = [s for s in ids.split(ex.LIST_SEPARATOR) if s]
        elif isinstance(ids, (list, tuple, np.ndarray)):
            ids = [str(s) for s in ids]
        else:
            ids = []
        start, end = _time(r.get("t_start")), _time(r.get("t_end"))
        place = ", ".join(b for b in (_text(r.get("place")), _text(r.get("sector"))) if b)
        rows.append({
            "id": _text(r.get("incident_id")),
            "when_start": start,
            "when_end": (f"to {end}" if end else "") + _timing(r.get("timing")),
            "place": place,
            "coords": _coords(r),
            "ground": _ground(r, names),
            "detections": _text(r.get("n_detections")),
            "sensors": _text(r.get("sensors")),
            "p": _p(r.get("p_min", r.get("p_natural_min"))),
            "confidence": _text(r.get("confidence")).lower(),
            "evidence": ids,
        })
    return header, rows


def _text(value: Any) -> str:
    if ex._missing(value):
        return ""
    return _num(value) if isinstance(value, (int, float, np.number)) else str(value)


def _timing(value: Any) -> str:
    """How sure we are the incident fell inside the window, when the assessment says."""
    text = _text(value)
    if not text:
        return ""
    return {"inside": " · inside the window", "possible": " · possibly inside the window",
            "outside": " · outside the window"}.get(text, f" · {text}")


def _time(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return str(pd.Timestamp(value).strftime("%Y-%m-%d %H:%M"))


def _coords(r: Mapping[str, Any]) -> str:
    lon, lat = _float(r.get("lon")), _float(r.get("lat"))
    if lon is None or lat is None:
        return ""
    return f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}"


def _ground(r: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """'Held by Russia, 9.8 km from the line (5–15 km band)': where, never who fired."""
    side = _text(r.get("side"))
    if side == "sea":
        text = "At sea"
    elif side in names:
        text = f"Held by {names[side]}"
    else:
        text = _ground_name(side, names)
        text = text[0].upper() + text[1:]
    d = _float(r.get("dist_km"))
    if d is not None:
        text += f", {abs(d):.1f} km from the line"
    band = _text(r.get("band"))
    if band:
        text += f" ({band.replace('-', '–')} km band)"
    return text


def _method(control: str) -> list[tuple[str, str]]:
    return [
        ("What the satellites see",
         "The fires are NASA FIRMS active-fire detections from the VIIRS and MODIS "
         "instruments. A satellite sees a fire only when it passes over (a few times a "
         "day) and the sky is clear: small, short or cloud-covered fires are missed. "
         "A day without data is not a day without fire."),
        ("What counts as an incident",
         "Farming and wildfire make most fires. For each place and season we know from "
         "years without war how likely fire is. An incident is a cluster of detections, "
         "close in space and time, that would be very unlikely there in a normal year. "
         "'Lowest p_natural' is that chance: 0.001 means one in a thousand."),
        ("How the verdict is reached",
         "Fire near the line during the agreement is compared with a period just before "
         "it, and with a control band far from the line on the same side, so that "
         "season, weather and changes in satellite coverage cancel out. The rules are "
         "conservative: no 'violated' without at least one incident very unlikely to be "
         "natural, and never 'held' when coverage is poor."),
        ("Whose ground, not who fired",
         f"Each incident is placed on the ground held by one side according to the "
         f"control map ({control}). This says where a fire burned, not who caused it: "
         "fire on ground held by one side may well come from the other side's weapons, "
         "or from neither."),
        ("How to check this report",
         "manifest.json lists every input and output file with its SHA-256 hash, the "
         "parameters and the software version; manifest.sig is its Ed25519 signature. "
         "'truceline verify <folder>' checks both and can recompute the assessment. "
         "The incidents are also in incidents.geojson, .gpkg, .kml and .csv."),
    ]


def _other(a: Mapping[str, Any]) -> list[tuple[str, str]]:
    rest = {k: v for k, v in a.items() if k not in _KNOWN_KEYS and not _is_table(v)}
    return [(k, _short(v)) for k, v in _flatten(rest).items() if v is not None
            and v != [] and v != {}]


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, Mapping)
                                                           for r in value)


_RATE_HEADER = ["Where", "Group", "Window", "Comparison", "Per day, window",
                "Per day, comparison", "Rate ratio (95% interval)", "p"]
_CONTRAST_HEADER = ["Side", "Front, window", "Front, comparison", "Control, window",
                    "Control, comparison", "Ratio of rate ratios (95% interval)", "p"]


def _interval(est: Any, lo: Any, hi: Any) -> str:
    e, low, high = _float(est), _float(lo), _float(hi)
    if e is None:
        return "—"
    if low is None or high is None:
        return f"{e:.2f}"
    return f"{e:.2f} ({low:.2f}–{high:.2f})"


def _tables(a: Mapping[str, Any]) -> list[Tabled]:
    """The assessment's row lists as tables: rates and contrast first, then any other."""
    out = []
    if _is_table(a.get("rates")):
        rows = [[_text(r.get("area")), _group(r), _num(r.get("x_window")),
                 _num(r.get("x_comparison")), _num(r.get("rate_window")),
                 _num(r.get("rate_comparison")), _interval(r.get("ratio"), r.get("lo"),
                                                           r.get("hi")),
                 _p(r.get("p_value"))] for r in a["rates"]]
        out.append(Tabled("saw", "Counts and rates, window against comparison",
                          "Fire detections counted in each area; the rate ratio is the "
                          "window's daily rate over the comparison period's.",
                          _RATE_HEADER, rows))
    if _is_table(a.get("contrast")):
        rows = [[_text(r.get("side")), _num(r.get("front_window")),
                 _num(r.get("front_comparison")), _num(r.get("control_window")),
                 _num(r.get("control_comparison")),
                 _interval(r.get("estimate"), r.get("lo"), r.get("hi")),
                 _p(r.get("p_value"))] for r in a["contrast"]]
        out.append(Tabled("saw", "Front against control band",
                          "Below 1: fire near the line fell more than fire far from it.",
                          _CONTRAST_HEADER, rows))
    cmp = a.get("map_comparison")
    if isinstance(cmp, Mapping) and _is_table(cmp.get("maps")):
        lines = cmp.get("line_km") if isinstance(cmp.get("line_km"), Mapping) else {}
        rows = []
        for r in cmp["maps"]:
            km = lines.get(r.get("map"), {}) if isinstance(lines, Mapping) else {}
            rows.append([_text(r.get("map")),
                         f"{_num(km.get('total'))} ({_num(km.get('inside_ukraine'))} + "
                         f"{_num(km.get('state_border'))})" if km else "—",
                         f"{_num(r.get('front_window'))} / {_num(r.get('front_comparison'))}",
                         _interval(r.get("contrast"), r.get("contrast_lo"),
                                   r.get("contrast_hi")),
                         _num(r.get("incidents")), _text(r.get("verdict"))])
        note = _text(cmp.get("note"))
        if cmp.get("flips"):
            note = "THE VERDICT DEPENDS ON THE CONTROL MAP: " + note
        out.append(Tabled("saw", "Which control map", note + ". Line of contact in km "
                          "(inside Ukraine + along the state border); front counts window / "
                          "comparison.", ["Map", "Line of contact, km", "Front",
                                          "Front against control (95% interval)",
                                          "Incidents in scope", "Verdict"], rows))
    for key, value in a.items():
        if key in _KNOWN_KEYS or not _is_table(value):
            continue
        cols: list[str] = []
        for r in value:
            cols.extend(str(c) for c in r if str(c) not in cols)
        rows = [[_short(r.get(c), 120) if r.get(c) is not None else "" for c in cols]
                for r in value]
        out.append(Tabled("other", _label(key), "", [c.replace("_", " ") for c in cols],
                          rows))
    return out


def _group(r: Mapping[str, Any]) -> str:
    by, key = _text(r.get("by")), _text(r.get("key"))
    if by in ("", "all") and key in ("", "all"):
        return "all"
    return f"{by}: {key}" if by else key


# --------------------------------------------------------------------------- HTML


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(content: ReportContent) -> str:
    """The self-contained HTML page: inline CSS and SVG, no script, no external URL."""
    env = _environment()
    css = (_TEMPLATES / "report.css").read_text(encoding="utf-8")
    page = env.get_template("report.html").render(
        c=content, css=css,
        map_svg=_svg_markup(content.map_figure, "Map of the line of contact, the distance "
                            "bands and the incidents"),
        timeline_svg=_svg_markup(content.timeline_figure, "Daily fire detections by "
                                 "distance band, with the agreement window shaded"),
    )
    return page


def _svg_markup(fig: maps.RenderedFigure | None, label: str) -> Markup | None:
    """The figure's SVG marked safe for the template (it is our own Matplotlib output)."""
    if fig is None:
        return None
    svg = fig.svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', 1)
    return Markup(svg)


# --------------------------------------------------------------------------- PDF


def write_pdf(path: str | Path, content: ReportContent,
              engine: Literal["auto", "reportlab", "matplotlib"] = "auto") -> Path:
    """Write the printable PDF; ReportLab when installed (or asked), else Matplotlib."""
    path = Path(path)
    if engine not in ("auto", "reportlab", "matplotlib"):
        raise InputError(f"engine = {engine!r}: expected 'auto', 'reportlab' or 'matplotlib'")
    if engine in ("auto", "reportlab"):
        try:
            import reportlab  # noqa: F401
        except ImportError as exc:
            if engine == "reportlab":
                raise InputError("engine = 'reportlab' but ReportLab is not installed: "
                                 "pip install reportlab") from exc
        else:
            _write_pdf_reportlab(path, content)
            return path
    _write_pdf_matplotlib(path, content)
    return path


_VERDICT_COLORS = {"held": "#1a7f37", "reduced": "#9a6700", "violated": "#b2182b",
                   "inconclusive": "#57606a"}


def _register_fonts() -> tuple[str, str, str]:
    """DejaVu Sans from Matplotlib's own data: every Latin and Cyrillic glyph, embedded."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    names = ("TLSans", "TLSans-Bold", "TLSans-Oblique")
    if names[0] in pdfmetrics.getRegisteredFontNames():
        return names
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in zip(names, ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
                                  "DejaVuSans-Oblique.ttf"), strict=True):
        pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
    addMapping(names[0], 0, 0, names[0])
    addMapping(names[0], 1, 0, names[1])
    addMapping(names[0], 0, 1, names[2])
    addMapping(names[0], 1, 1, names[1])
    return names


def _write_pdf_reportlab(path: Path, content: ReportContent) -> None:
    """A4 pages laid out with ReportLab's Platypus; same sections as the HTML."""
    from PIL import Image as PILImage
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        Image,
        KeepTogether,
        ListFlowable,
        ListItem,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    regular, bold, italic = _register_fonts()
    ink, grey = colors.HexColor("#1f2328"), colors.HexColor("#57606a")
    rule = colors.HexColor("#d0d7de")
    vcolor = colors.HexColor(_VERDICT_COLORS.get(content.verdict, "#57606a"))

    def style(name: str, **kw: Any) -> ParagraphStyle:
        base = {"fontName": regular, "fontSize": 9.5, "leading": 13, "textColor": ink,
                "alignment": TA_LEFT}
        base.update(kw)
        return ParagraphStyle(name, **base)

    s_title = style("title", fontName=bold, fontSize=17, leading=21, spaceAfter=3)
    s_sub = style("sub", fontSize=8.5, leading=11, textColor=grey, spaceAfter=8)
    s_h2 = style("h2", fontName=bold, fontSize=12.5, leading=16, spaceBefore=10,
                 spaceAfter=4)
    s_h3 = style("h3", fontName=bold, fontSize=10, leading=13, spaceBefore=5, spaceAfter=2)
    s_body = style("body", spaceAfter=4)
    s_small = style("small", fontSize=7.5, leading=9.5, textColor=grey)
    s_cell = style("cell", fontSize=7.5, leading=9.5)
    s_cellb = style("cellb", fontName=bold, fontSize=7.5, leading=9.5)
    s_wrap = style("wrap", fontSize=7, leading=9, wordWrap="CJK")  # long ids break anywhere
    s_tcell = style("tcell", fontSize=7, leading=9)
    s_thead = style("thead", fontName=bold, fontSize=6.5, leading=8.5)
    s_verdict = style("verdict", fontName=bold, fontSize=20, leading=24, textColor=vcolor)
    s_warn = style("warn", fontSize=9, leading=12.5)

    def p(text: str, st: ParagraphStyle = s_body) -> Paragraph:
        return Paragraph(html.escape(str(text)), st)

    def bullets(items: Sequence[str], st: ParagraphStyle = s_body) -> ListFlowable:
        return ListFlowable([ListItem(p(i, st), leftIndent=10, value="•") for i in items],
                            bulletType="bullet", start="•", leftIndent=10,
                            bulletFontName=regular, bulletFontSize=8)

    def _cell(main: str, minor: str, st: ParagraphStyle) -> Paragraph:
        text = html.escape(main)
        if minor:
            text += f"<br/><font color='#57606a' size='6.3'>{html.escape(minor)}</font>"
        return Paragraph(text, st)

    def kv_table(rows: Sequence[tuple[str, str]], widths: tuple[float, float]) -> Table:
        t = Table([[p(k, s_cellb), p(v, s_cell)] for k, v in rows], colWidths=widths,
                  hAlign="LEFT")
        t.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, rule),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]))
        return t

    def grid(header: Sequence[str], rows: Sequence[Sequence[Any]],
             widths: Sequence[float], head_style: ParagraphStyle | None = None) -> Table:
        data = [[p(h, head_style or s_cellb) for h in header]]
        data += [[c if isinstance(c, Paragraph) else p(c, s_cell) for c in r] for r in rows]
        t = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f2f5")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, grey),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, rule),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        return t

    def figure(rendered: maps.RenderedFigure, caption: str, max_h: float) -> KeepTogether:
        w_px, h_px = PILImage.open(BytesIO(rendered.png)).size
        w = width
        h = w * h_px / w_px
        if h > max_h:
            w, h = w * max_h / h, max_h
        return KeepTogether([Image(BytesIO(rendered.png), width=w, height=h),
                             p(caption, s_small), Spacer(1, 6)])

    def table_block(t: Tabled) -> list[Any]:
        n = max(len(t.header), 1)
        block: list[Any] = [p(t.title, s_h3)]
        if t.note:
            block.append(p(t.note, s_small))
        # columns as wide as their content wants (capped), so short cells never break
        want = []
        for i, h in enumerate(t.header):
            cells = [len(r[i]) for r in t.rows if i < len(r)]
            word = max((len(w) for w in h.split()), default=4)
            want.append(float(min(max([word, *cells]) + 2, 34)))
        total = sum(want) or float(n)
        widths = [width * w / total for w in want]
        block.append(grid(t.header, [[p(c, s_tcell) for c in r] for r in t.rows], widths,
                          head_style=s_thead))
        return block

    page_w, page_h = A4
    margin = 16 * mm
    width = page_w - 2 * margin

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(grey)
        canvas.drawString(margin, 9 * mm, content.title[:110])
        canvas.drawRightString(page_w - margin, 9 * mm, f"page {doc.page}")
        canvas.restoreState()

    story: list[Any] = [p(content.title, s_title), p(content.subtitle, s_sub)]

    box = [p(f"Verdict: {content.verdict_label}", s_verdict), Spacer(1, 3),
           p(content.verdict_text)]
    if content.reasons:
        box += [p("Why:", s_h3), bullets(content.reasons)]
    if content.rule:
        box += [Spacer(1, 2), p(content.rule, s_small)]
    vt = Table([[box]], colWidths=[width])
    vt.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.8, vcolor),
        ("LINEBEFORE", (0, 0), (0, -1), 5, vcolor),
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fafbfc")),
        ("LEFTPADDING", (0, 0), (-1, -1), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
        ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
    ]))
    story += [vt, Spacer(1, 6)]
    if content.coverage_warning:
        wt = Table([[p(content.coverage_warning, s_warn)]], colWidths=[width])
        poor = content.coverage_poor
        wt.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fff8c5" if poor else "#f6f8fa")),
            ("BOX", (0, 0), (-1, -1), 0.6, colors.HexColor("#d4a72c" if poor else "#d0d7de")),
            ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]))
        story += [wt, Spacer(1, 4)]

    story += [p("What the satellites saw", s_h2), bullets(content.summary + content.statistics)]
    if content.counts_rows:
        n = len(content.counts_header)
        first = min(width * 0.45, 80 * mm)
        story += [p("Counts", s_h3), grid(content.counts_header, content.counts_rows,
                                           [first] + [(width - first) / max(n - 1, 1)] * (n - 1))]

    for t in content.tables:
        if t.section == "saw":
            story += table_block(t)

    story += [p("The agreement", s_h2), kv_table(content.agreement, (48 * mm, width - 48 * mm))]
    story += [p("Satellite coverage", s_h2), kv_table(content.coverage,
                                                       (48 * mm, width - 48 * mm))]
    def two_up(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """A long narrow table as two side by side: first half left, second half right."""
        half = (len(rows) + 1) // 2
        pad = [[""] * len(rows[0])] * (2 * half - len(rows))
        return [[*a, *b] for a, b in zip(rows[:half], [*rows[half:], *pad], strict=True)]

    if content.cloud:
        story += [p("Cloud cover by region during the window", s_h3),
                  grid(["Region", "Cloud", "Region", "Cloud"], two_up(content.cloud),
                       [width * 0.35, width * 0.15, width * 0.35, width * 0.15])]
    if content.coverage_days:
        story += [p("Day by day in the window", s_h3),
                  grid(["Date (UTC)", "Passes", "Detections"] * 2, two_up(content.coverage_days),
                       [width / 6] * 6)]

    if content.map_figure is not None:
        # the heading travels with its figure: never alone at the foot of a page
        story += [CondPageBreak(120 * mm), KeepTogether([
            p("Map", s_h2), figure(content.map_figure, content.map_caption,
                                   page_h - 2 * margin - 40 * mm)])]
    if content.timeline_figure is not None:
        story += [CondPageBreak(85 * mm), KeepTogether([
            p("Day by day", s_h2),
            figure(content.timeline_figure, "Fire detections per UTC day in each distance "
                   "band (bars) and in the control band far from the line (green line); the "
                   "agreement window is shaded, days without satellite data are hatched.",
                   90 * mm)])]

    story += [CondPageBreak(60 * mm),
              p(f"Incidents ({len(content.incident_rows)})", s_h2)]
    if content.incident_rows:
        rows = []
        for r in content.incident_rows[:_PDF_MAX_ROWS]:
            ev = r["evidence"]
            ev_text = ", ".join(ev[:4]) + (f" and {len(ev) - 4} more" if len(ev) > 4 else "")
            rows.append([
                p(r["id"], s_wrap),
                _cell(r["when_start"], r["when_end"], s_tcell),
                _cell(r["place"], r["coords"], s_tcell),
                p(r["ground"], s_tcell),
                _cell(r["detections"], r["sensors"], s_tcell),
                p(r["p"], s_tcell), p(r["confidence"], s_tcell), p(ev_text, s_wrap)])
        widths = [0.08, 0.145, 0.165, 0.145, 0.095, 0.09, 0.095, 0.185]
        header = ["Incident", "When (UTC)", "Where", "Ground (control map)", "Detections",
                  "p_natural (lowest)", "Confidence", "Evidence (detection ids)"]
        table = grid(header, rows, [width * w for w in widths], head_style=s_thead)
        table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 2),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
        story.append(table)
        if len(content.incident_rows) > _PDF_MAX_ROWS:
            story.append(p(f"The first {_PDF_MAX_ROWS} incidents are listed; all "
                           f"{len(content.incident_rows)} are in incidents.csv.", s_small))
        story.append(p("Every detection id of every incident is in incidents.csv, "
                       ".geojson, .gpkg and .kml.", s_small))
    else:
        story.append(p("No incident was found in the agreement's area during the window."))

    story += [CondPageBreak(50 * mm), p("Method and caveats", s_h2)]
    for heading, text in content.method:
        story += [p(heading, s_h3), p(text)]
    if content.caveats:
        story += [p("Caveats of this assessment", s_h3), bullets(content.caveats)]
    others = [t for t in content.tables if t.section != "saw"]
    if content.other or others:
        story += [p("Other figures", s_h2)]
    if content.other:
        story += [kv_table(content.other, (60 * mm, width - 60 * mm))]
    for t in others:
        story += table_block(t)
    if content.files:
        story += [p("Files in this report", s_h3), p(", ".join(content.files), s_small)]
    story += [Spacer(1, 8), p(content.footer, s_small)]

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=margin, rightMargin=margin,
                            topMargin=14 * mm, bottomMargin=16 * mm, title=content.title,
                            author="truceline", creator=f"truceline {__version__}",
                            subject=f"Verdict: {content.verdict}", invariant=1)
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)


def _write_pdf_matplotlib(path: Path, content: ReportContent) -> None:
    """A plain A4 PDF from Matplotlib alone: wrapped text pages, then the two figures."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from PIL import Image

    lines: list[tuple[str, float, str]] = []  # text, font size, weight

    def add(text: str, size: float = 9.5, weight: str = "normal", width: int = 100) -> None:
        for i, chunk in enumerate(textwrap.wrap(text, width) or [""]):
            lines.append((("   " if i and text.startswith("•") else "") + chunk, size, weight))

    add(content.title, 15, "bold", 70)
    add(content.subtitle, 9, "normal")
    lines.append(("", 6, "normal"))
    add(f"Verdict: {content.verdict_label}", 14, "bold")
    add(content.verdict_text)
    if content.rule:
        add(content.rule, 8.5)
    for r in content.reasons:
        add("• " + r)
    if content.coverage_warning:
        add(content.coverage_warning, 9.5, "bold")
    for heading, rows in (("Agreement", content.agreement), ("Coverage", content.coverage),
                          ("Cloud cover by region", content.cloud)):
        if rows:
            lines.append(("", 6, "normal"))
            add(heading, 12, "bold")
            for k, v in rows:
                add(f"{k}: {v}")
    lines.append(("", 6, "normal"))
    add("What the satellites saw", 12, "bold")
    for s in content.summary + content.statistics:
        add("• " + s)
    for row in content.counts_rows:
        add(" | ".join(row))
    for tab in content.tables:
        add(tab.title, 10, "bold")
        add(" | ".join(tab.header), 8)
        for row in tab.rows:
            add(" | ".join(row), 8)
    lines.append(("", 6, "normal"))
    add(f"Incidents ({len(content.incident_rows)})", 12, "bold")
    for inc in content.incident_rows[:_PDF_MAX_ROWS]:
        add(f"{inc['id']} · {inc['when_start']} {inc['when_end']} · {inc['place']} "
            f"{inc['coords']} · {inc['ground']} · {inc['detections']} detections · "
            f"p {inc['p']} · {inc['confidence']} · "
            f"{ex.LIST_SEPARATOR.join(inc['evidence'][:8])}", 8)
    lines.append(("", 6, "normal"))
    add("Method and caveats", 12, "bold")
    for h, t in content.method:
        add(f"{h}. {t}")
    for c in content.caveats:
        add("• " + c)
    for k, v in content.other:
        add(f"{k}: {v}", 8)
    add(content.footer, 8)

    with PdfPages(path, metadata={"Title": content.title, "Creator": "truceline",
                                  "CreationDate": None, "ModDate": None}) as pdf:
        i = 0
        while i < len(lines):
            fig = Figure(figsize=(8.27, 11.69))
            y = 0.95
            while i < len(lines) and y > 0.05:
                text, size, weight = lines[i]
                fig.text(0.07, y, text, fontsize=size, fontweight=weight, va="top")
                y -= size * 1.45 / (11.69 * 72)
                i += 1
            pdf.savefig(fig)
        for rendered in (content.map_figure, content.timeline_figure):
            if rendered is None:
                continue
            img = np.asarray(Image.open(BytesIO(rendered.png)))
            wide = img.shape[1] > img.shape[0]  # landscape page for a wide figure
            fig = Figure(figsize=(11.69, 8.27) if wide else (8.27, 11.69))
            ax = fig.add_axes((0.04, 0.04, 0.92, 0.92))
            ax.imshow(img)
            ax.set_axis_off()
            pdf.savefig(fig)


# --------------------------------------------------------------------------- all


def write_report(
    out_dir: str | Path,
    assessment: Mapping[str, Any],
    incidents: pd.DataFrame | None,
    line_of_contact: BaseGeometry | None,
    timeline: pd.DataFrame | None,
    ru_ground: BaseGeometry | None = None,
    *,
    window: tuple[Any, Any] | None = None,
    context: BaseGeometry | None = None,
    generated_utc: datetime | None = None,
    title: str | None = None,
    exports: bool = True,
    figures: bool = True,
    pdf: bool = True,
    pdf_engine: Literal["auto", "reportlab", "matplotlib"] = "auto",
) -> list[Path]:
    """Write a report folder; return every path written (sign it after with sign_report).

    Writes report.html and report.pdf, the figures (map.png/.svg, timeline.png/.svg)
    when `figures`, and the data exports (incidents.*, line_of_contact.geojson,
    assessment.json) when `exports`. Pass `generated_utc` for reproducible bytes.
    """
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if exports:
        inc = incidents if incidents is not None else pd.DataFrame(
            {c: pd.Series(dtype="object") for c in ex.INCIDENT_COLUMNS})
        written += ex.write_exports(d, inc, line_of_contact, assessment)
    content = report_content(assessment, incidents, line_of_contact, timeline, ru_ground,
                             window=window, context=context, generated_utc=generated_utc,
                             title=title)
    if figures:
        for stem, fig in (("map", content.map_figure), ("timeline", content.timeline_figure)):
            if fig is None:
                continue
            written += fig.write(d, stem)
    content.files = sorted([p.name for p in written] + [HTML_FILE]
                           + ([PDF_FILE] if pdf else []) + ["manifest.json", "manifest.sig"])
    html_path = d / HTML_FILE
    html_path.write_text(render_html(content), encoding="utf-8")
    written.append(html_path)
    if pdf:
        written.append(write_pdf(d / PDF_FILE, content, engine=pdf_engine))
    return written
