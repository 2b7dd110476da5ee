"""Numbers, times and keys in words people read: the formatting every report part shares.

Why one module: the HTML, the PDF, the map's hover text and the exports must print the same
number the same way (2,110 km, never 2.11e+03; "< 0.001" for a tiny p).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from truceline.publish import exports as ex


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]

def to_float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None

def num(value: Any) -> str:
    """Numbers as people read them: never in exponent notation.

    Integers plain below 10,000 (years and counts stay as written), grouped above;
    other numbers to 3 significant figures, grouped from 1,000; tiny ones as decimals.

    >>> [num(v) for v in (2112.8, 1895, 12345, 0.0123, 1.07e-05, 3e-9, float("nan"))]
    ['2,113', '1895', '12,345', '0.0123', '0.0000107', '< 0.000001', '—']
    """
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
            return num(int(f))
        if abs(f) >= 1000:
            return f"{f:,.0f}"
        if f != 0 and abs(f) < 1e-6:
            return "< 0.000001" if f > 0 else "> -0.000001"
        if f != 0 and abs(f) < 1e-3:
            return str(np.format_float_positional(f, precision=3, fractional=False))
        return f"{f:.3g}"
    return str(value)


def p_text(value: Any) -> str:
    f = to_float(value)
    if f is None:
        return "—"
    if f < 0.001:
        return "< 0.001"
    return f"{f:.3f}" if f < 0.01 else f"{f:.2f}"

def day_list(value: Any) -> list[str]:
    out = []
    for d in as_list(value):
        try:
            out.append(pd.Timestamp(d).strftime("%Y-%m-%d"))
        except (ValueError, TypeError):
            out.append(str(d))
    return out

def instant_text(value: Any, zone: str | None) -> str:
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

def key_label(key: str) -> str:
    return str(key).replace("_", " ").strip().capitalize()

def short_text(value: Any, limit: int = 400) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (list, tuple)) and all(not isinstance(v, (Mapping, list))
                                                   for v in value):
        text = ", ".join(num(v) for v in value)
    elif isinstance(value, (Mapping, list, tuple)):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    else:
        text = num(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

def details_text(d: Mapping[str, Any]) -> str:
    return "; ".join(f"{str(k).replace('_', ' ')}: {short_text(v)}" for k, v in
                     flatten(d).items())

def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        key = str(key).replace("_", " ")
        name = f"{prefix} › {key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out

def cell_text(value: Any) -> str:
    if ex._missing(value):
        return ""
    return num(value) if isinstance(value, (int, float, np.number)) else str(value)

def minute_text(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return str(pd.Timestamp(value).strftime("%Y-%m-%d %H:%M"))

def day_text(value: Any) -> str:
    """'2023-01-06 (no time)' for an instant known only to the day."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(pd.Timestamp(value).strftime("%Y-%m-%d")) + " (no time)"


def coords_text(r: Mapping[str, Any]) -> str:
    lon, lat = to_float(r.get("lon")), to_float(r.get("lat"))
    if lon is None or lat is None:
        return ""
    return f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.4f}° {'E' if lon >= 0 else 'W'}"

def ci_text(d: Mapping[str, Any]) -> str:
    lo, hi = to_float(d.get("ci_low")), to_float(d.get("ci_high"))
    if lo is None or hi is None:
        return ""
    return f" (95% interval {lo:.2f} to {hi:.2f})"

def interval_text(est: Any, lo: Any, hi: Any) -> str:
    e, low, high = to_float(est), to_float(lo), to_float(hi)
    if e is None:
        return "—"
    if low is None or high is None:
        return f"{e:.2f}"
    return f"{e:.2f} ({low:.2f}–{high:.2f})"
