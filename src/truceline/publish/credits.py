"""Who made the data a report rests on, and under what licence: printed on every output.

A report is re-published by journalists and monitors; each copy must carry its sources'
credits (NASA FIRMS asks to be cited; DeepStateMap's archive is GPL-3.0; liveuamap/NZZ
and ISW state no open licence and must be credited) whatever piece travels alone: the
HTML and PDF, the map and timeline images, and the exports' own metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from truceline.publish.basemap import BASEMAP_CREDITS

__all__ = ["CONTROL_MAP_CREDITS", "FIRMS_CREDIT", "control_sources", "credit_lines",
           "credit_sentence", "data_credits"]

FIRMS_CREDIT = ("Fire detections: NASA FIRMS (Fire Information for Resource Management "
                "System), VIIRS and MODIS active fire products; cite NASA FIRMS")
#: Control-map sources by the lake's source name.
CONTROL_MAP_CREDITS: Mapping[str, str] = {
    "deepstate": ("Control map: DeepStateMap, daily archive by cyterat/deepstate-map-data "
                  "(GPL-3.0)"),
    "liveuamap": ("Control map: liveuamap, as published by NZZ (credit liveuamap and NZZ; "
                  "no licence stated)"),
    "isw": ("Control map: Institute for the Study of War (ISW), assessed Russian control "
            "(credit ISW; no open licence stated)"),
    "donbas": "Control map: ISW, Donbas line of contact before 24 February 2022 (credit ISW)",
}
_PLACES = "Place names: GeoNames (CC BY 4.0)"
_OUTLINES = "Country outlines: Natural Earth (public domain)"


def control_sources(assessment: Mapping[str, Any]) -> list[str]:
    """The control-map sources an assessment used or compared, in order, without repeats."""
    out: list[str] = []
    for key in ("control_map", "control_source"):
        v = assessment.get(key)
        if isinstance(v, Mapping):
            v = v.get("source") or v.get("name")
        if isinstance(v, str) and v and v != "any":
            out.append(v)
    cmp = assessment.get("map_comparison")
    if isinstance(cmp, Mapping):
        for row in cmp.get("maps") or []:
            if isinstance(row, Mapping) and isinstance(row.get("map"), str):
                out.append(row["map"])
    return list(dict.fromkeys(s.split(":")[0] for s in out))


def data_credits(sources: Iterable[str] = ()) -> list[str]:
    """The credits of the data drawn on top of any background: fires, control maps, places.

    >>> data_credits(["deepstate"])[1]
    'Control map: DeepStateMap, daily archive by cyterat/deepstate-map-data (GPL-3.0)'
    """
    lines = [FIRMS_CREDIT]
    for s in dict.fromkeys(sources):
        lines.append(CONTROL_MAP_CREDITS.get(s, f"Control map: {s} (see its own licence)"))
    lines.append(_PLACES)
    return lines


def credit_lines(sources: Iterable[str] = (), *, basemap: bool = False) -> list[str]:
    """Every credit line for a report on these control-map sources: `data_credits`, then
    the background's (`BASEMAP_CREDITS` with `basemap`, else the country outlines')."""
    return data_credits(sources) + (list(BASEMAP_CREDITS[:2]) if basemap else [_OUTLINES])


def credit_sentence(lines: Sequence[str]) -> str:
    """The credit lines as one sentence, as printed under a figure or in a file's metadata.

    >>> credit_sentence(["NASA FIRMS", "ISW"])
    'Sources: NASA FIRMS; ISW.'
    """
    return "Sources: " + "; ".join(lines) + "."
