"""The assessment's figures in sentences and tables: rate ratios, contrast, counts, maps.

Every figure keeps its interval and its counts beside it, so a reader sees what it rests on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truceline.publish.report.content_model import Tabled
from truceline.publish.report.wording import (
    as_list,
    cell_text,
    ci_text,
    details_text,
    flatten,
    interval_text,
    key_label,
    num,
    p_text,
    short_text,
    to_float,
)


def pick_row(rows: Any, **match: str) -> dict[str, Any] | None:
    """The first row (a copy) of the assessment's list `rows` whose fields match, or None."""
    for r in as_list(rows):
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

def front_rate(rates: Any) -> dict[str, Any] | None:
    return _as_ratio(pick_row(rates, area="front", by="all"), "ratio")

def control_rate(rates: Any) -> dict[str, Any] | None:
    return _as_ratio(pick_row(rates, area="control", by="all"), "ratio")

def contrast_all(contrast: Any) -> dict[str, Any] | None:
    return _as_ratio(pick_row(contrast, side="all"), "estimate")

def _counts_phrase(d: Mapping[str, Any]) -> str:
    x1, x0 = to_float(d.get("x_window")), to_float(d.get("x_comparison"))
    if x1 is None or x0 is None:
        return ""
    text = f" ({num(x1)} detections in the window against {num(x0)} before"
    r1, r0 = to_float(d.get("rate_window")), to_float(d.get("rate_comparison"))
    if r1 is not None and r0 is not None:
        text += f": {r1:.1f} against {r0:.1f} a day"
    return text + ")"

def statistics(rate_ratio: Any, did: Any, control: Any = None) -> list[str]:
    out = []
    if isinstance(rate_ratio, Mapping):
        est = to_float(rate_ratio.get("estimate"))
        if est is not None:
            change = ("higher" if est > 1 else "lower") if est != 1 else "the same"
            text = (f"Rate ratio {est:.2f}{ci_text(rate_ratio)}: fire near the line during the "
                    f"agreement ran at {est:.2f} times the rate of the comparison period"
                    f"{_counts_phrase(rate_ratio)}")
            if change != "the same":
                pct = abs(est - 1) * 100
                text += f", {pct:.0f}% {change}"
            text += "."
            lo, hi = to_float(rate_ratio.get("ci_low")), to_float(rate_ratio.get("ci_high"))
            if lo is not None and hi is not None and lo <= 1 <= hi:
                text += " The interval includes 1: no clear change."
            out.append(text)
        out += _extras(rate_ratio, "Rate ratio details: ")
    if isinstance(control, Mapping) and to_float(control.get("estimate")) is not None:
        est = float(control["estimate"])
        out.append(f"Far from the line (control band) the rate ratio was {est:.2f}"
                   f"{ci_text(control)}{_counts_phrase(control)}.")
    if isinstance(did, Mapping):
        est = to_float(did.get("estimate"))
        if est is not None:
            text = (f"Front against control band (difference in differences): ratio of rate "
                    f"ratios {est:.2f}{ci_text(did)}")
            if "p_value" in did:
                pv = p_text(did["p_value"])
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
    return [label + details_text(extra)] if extra else []

def counts_table(counts: Any) -> tuple[list[str], list[list[str]]]:
    """Rows are what was counted, columns the periods (window, comparison, ...)."""
    if not isinstance(counts, Mapping) or not counts:
        return [], []
    periods = [k for k, v in counts.items() if isinstance(v, Mapping)]
    scalars = {k: v for k, v in counts.items() if not isinstance(v, Mapping)}
    flat = {p: flatten(counts[p]) for p in periods}
    rows: list[str] = []
    for p in periods:
        rows.extend(r for r in flat[p] if r not in rows)
    header = ["Counted"] + [key_label(p) for p in periods]
    table = [[r] + [num(flat[p].get(r)) for p in periods] for r in rows]
    if scalars:
        if not periods:
            header = ["Counted", "Value"]
        for k, v in scalars.items():
            table.append([str(k), num(v)] + [""] * max(len(periods) - 1, 0))
    return header, table

# keys given their own place in the report; every other key goes to "Other figures"
KNOWN_KEYS = {"agreement", "control_source", "control_map", "verdict", "rule", "rule_text",
               "reasons", "coverage", "counts", "rate_ratio", "did", "rates", "contrast",
               "caveats", "title", "incidents", "map_comparison"}

def is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(r, Mapping)
                                                           for r in value)

_RATE_HEADER = ["Where", "Group", "Window", "Comparison", "Per day, window",
                "Per day, comparison", "Rate ratio (95% interval)", "p"]

_CONTRAST_HEADER = ["Side", "Front, window", "Front, comparison", "Control, window",
                    "Control, comparison", "Ratio of rate ratios (95% interval)", "p"]

def tables(a: Mapping[str, Any]) -> list[Tabled]:
    """The assessment's row lists as tables: rates and contrast first, then any other."""
    out = []
    if is_table(a.get("rates")):
        rates = [r for r in a["rates"] if str(r.get("by")) != "sector"]
        rows = [[_AREAS.get(cell_text(r.get("area")), cell_text(r.get("area"))), _group(r),
                 num(r.get("x_window")), num(r.get("x_comparison")),
                 num(r.get("rate_window")), num(r.get("rate_comparison")),
                 interval_text(r.get("ratio"), r.get("lo"), r.get("hi")),
                 p_text(r.get("p_value"))] for r in rates]
        out.append(Tabled("saw", "Counts and rates, window against comparison",
                          "Fire detections counted in each area; the rate ratio is the "
                          "window's daily rate over the comparison period's.",
                          _RATE_HEADER, rows))
        sectors = sector_table(a)
        if sectors is not None:
            out.append(sectors)
    if is_table(a.get("contrast")):
        rows = [[cell_text(r.get("side")), num(r.get("front_window")),
                 num(r.get("front_comparison")), num(r.get("control_window")),
                 num(r.get("control_comparison")),
                 interval_text(r.get("estimate"), r.get("lo"), r.get("hi")),
                 p_text(r.get("p_value"))] for r in a["contrast"]]
        out.append(Tabled("saw", "Front against control band",
                          "Below 1: fire near the line fell more than fire far from it.",
                          _CONTRAST_HEADER, rows))
    cmp = a.get("map_comparison")
    if isinstance(cmp, Mapping) and is_table(cmp.get("maps")):
        lines = cmp.get("line_km") if isinstance(cmp.get("line_km"), Mapping) else {}
        rows = []
        for r in cmp["maps"]:
            km = lines.get(r.get("map"), {}) if isinstance(lines, Mapping) else {}
            rows.append([cell_text(r.get("map")),
                         f"{num(km.get('total'))} ({num(km.get('inside_ukraine'))} + "
                         f"{num(km.get('state_border'))})" if km else "—",
                         f"{num(r.get('front_window'))} / {num(r.get('front_comparison'))}",
                         interval_text(r.get("contrast"), r.get("contrast_lo"),
                                   r.get("contrast_hi")),
                         num(r.get("incidents")), cell_text(r.get("verdict"))])
        note = cell_text(cmp.get("note"))
        if cmp.get("flips"):
            note = "THE VERDICT DEPENDS ON THE CONTROL MAP: " + note
        out.append(Tabled("saw", "Which control map", note + ". Line of contact in km "
                          "(inside Ukraine + along the state border); front counts window / "
                          "comparison.", ["Map", "Line of contact, km", "Front",
                                          "Front against control (95% interval)",
                                          "Incidents in scope", "Verdict"], rows))
    for key, value in a.items():
        if key in KNOWN_KEYS or not is_table(value):
            continue
        cols: list[str] = []
        for r in value:
            cols.extend(str(c) for c in r if str(c) not in cols)
        rows = [[short_text(r.get(c), 120) if r.get(c) is not None else "" for c in cols]
                for r in value]
        out.append(Tabled("other", key_label(key), "", [c.replace("_", " ") for c in cols],
                          rows))
    return out

_AREAS = {"front": "near the line", "control": "control band"}
_SIDES = {"ua": "Ukrainian-held", "ru": "Russian-held", "third": "third country",
          "sea": "sea"}


def sector_table(a: Mapping[str, Any]) -> Tabled | None:
    """Sectors with fire near the line, those with incidents and most fire first.

    A sector with no detection in the window nor in the period compared is left out
    (the note says how many), so the table is about the places where something burned.
    """
    rows = [r for r in a.get("rates") or [] if isinstance(r, Mapping)
            and str(r.get("by")) == "sector" and str(r.get("area")) == "front"]
    if not rows:
        return None
    per: dict[str, int] = {}
    for inc in a.get("incidents") or []:
        if isinstance(inc, Mapping) and inc.get("sector"):
            per[str(inc["sector"])] = per.get(str(inc["sector"]), 0) + 1

    def count(r: Mapping[str, Any], key: str) -> float:
        return to_float(r.get(key)) or 0.0

    fire = [r for r in rows if count(r, "x_window") + count(r, "x_comparison") > 0
            or per.get(str(r.get("key")), 0)]
    fire.sort(key=lambda r: (-per.get(str(r.get("key")), 0), -count(r, "x_window"),
                             -count(r, "x_comparison"), str(r.get("key"))))
    left = len(rows) - len(fire)
    body = [[cell_text(r.get("key")), num(per.get(str(r.get("key")), 0)),
             num(r.get("x_window")), num(r.get("x_comparison")),
             interval_text(r.get("ratio"), r.get("lo"), r.get("hi")),
             p_text(r.get("p_value"))] for r in fire]
    note = ("Fire near the line by sector, sectors with incidents first, then by fire in "
            "the window. A sector's counts are small: read its interval, not its ratio alone.")
    if left:
        note += f" {left} sector{'s' if left != 1 else ''} with no fire in either period " \
                "are left out."
    return Tabled("saw", "Sectors with fire", note,
                  ["Sector", "Incidents", "Detections, window", "Detections, comparison",
                   "Rate ratio (95% interval)", "p"], body)


def _group(r: Mapping[str, Any]) -> str:
    by, key = cell_text(r.get("by")), cell_text(r.get("key"))
    if by in ("", "all") and key in ("", "all"):
        return "all"
    if by == "side":
        return f"{_SIDES.get(key, key)} ground"
    return f"{by}: {key}" if by else key
