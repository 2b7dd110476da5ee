"""KML for Google Earth: incidents on the time slider, styled by confidence, and the line.

Written with ``xml.etree`` rather than GDAL's KML driver, which has no ``TimeSpan`` and no
styles: each incident is a Placemark with a ``TimeSpan`` from its first to its last
detection (so Google Earth's time slider plays the incidents), a style per confidence
class, its fields as ``ExtendedData`` (GDAL and QGIS read them back as columns) and a
one-sentence description; the line of contact is a second folder of lines. The
document's description carries the credits, so the file keeps them when it travels
alone. Bytes are reproducible: same rows, same file.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.publish.credits import credit_sentence

__all__ = ["KML_NS", "STYLE_COLORS", "write_kml"]

KML_NS = "http://www.opengis.net/kml/2.2"
#: KML colours (aabbggrr) per confidence class: the static map's red ramp.
STYLE_COLORS: dict[str, str] = {"high": "ff2b18b2", "medium": "ff628aef", "low": "ffc7dbfd",
                                "unknown": "ffbdbdbd"}
_ICON = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
_K = f"{{{KML_NS}}}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, _K + tag, attrib)
    if text is not None:
        el.text = text
    return el


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _kml_time(value: Any) -> str | None:
    """ISO 8601 UTC as KML wants it (``2025-08-21T10:45:00Z``)."""
    if _missing(value) or value == "":
        return None
    t = pd.Timestamp(value)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _styles(doc: ET.Element) -> None:
    for name, color in STYLE_COLORS.items():
        st = _sub(doc, "Style", id=f"confidence-{name}")
        icon = _sub(st, "IconStyle")
        _sub(icon, "color", color)
        _sub(icon, "scale", {"high": "1.2", "medium": "1.0"}.get(name, "0.8"))
        _sub(_sub(icon, "Icon"), "href", _ICON)
        _sub(_sub(st, "LabelStyle"), "scale", "0.7")
    line = _sub(doc, "Style", id="line-of-contact")
    ls = _sub(line, "LineStyle")
    _sub(ls, "color", "ff000000")
    _sub(ls, "width", "2.5")


def _line_parts(geom: BaseGeometry) -> list[Any]:
    parts = shapely.get_parts(shapely.get_parts(geom))
    return [p for p in parts if p.geom_type in ("LineString", "LinearRing") and not p.is_empty]


def write_kml(path: str | Path, flat: pd.DataFrame, *, line: BaseGeometry | None = None,
              line_name: str = "Line of contact", line_date: Any = None,
              credits: Sequence[str] = (), title: str = "truceline incidents") -> Path:
    """Write `flat` (one row per incident, plain columns, a point geometry) as KML.

    Columns used when present: incident_id (name), Description, t_first/t_last (else
    t_start/t_end) for the TimeSpan, confidence for the style; every other non-geometry
    column goes to ExtendedData.
    """
    path = Path(path)
    ET.register_namespace("", KML_NS)
    root = ET.Element(_K + "kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", title)
    if credits:
        _sub(doc, "description", credit_sentence(credits))
    _styles(doc)
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "incidents")
    geom_col = flat.geometry.name if hasattr(flat, "geometry") else None
    for i, row in enumerate(flat.to_dict("records")):
        pm = _sub(folder, "Placemark")
        _sub(pm, "name", str(row.get("incident_id", f"incident {i + 1}")))
        if not _missing(row.get("Description")):
            _sub(pm, "description", str(row["Description"]))
        begin = _kml_time(row.get("t_first", row.get("t_start")))
        end = _kml_time(row.get("t_last", row.get("t_end")))
        if begin or end:
            span = _sub(pm, "TimeSpan")
            if begin:
                _sub(span, "begin", begin)
            if end:
                _sub(span, "end", end)
        conf = str(row.get("confidence") or "unknown").lower()
        _sub(pm, "styleUrl", f"#confidence-{conf if conf in STYLE_COLORS else 'unknown'}")
        ext = _sub(pm, "ExtendedData")
        for key, value in row.items():
            if key in (geom_col, "Description") or _missing(value):
                continue
            _sub(_sub(ext, "Data", name=str(key)), "value", str(value))
        geom = row.get(geom_col) if geom_col else None
        if geom is not None and not geom.is_empty:
            pt = shapely.point_on_surface(geom)
            _sub(_sub(pm, "Point"), "coordinates", f"{pt.x:.6f},{pt.y:.6f}")
    if line is not None and not line.is_empty:
        lf = _sub(doc, "Folder")
        _sub(lf, "name", "line_of_contact")
        pm = _sub(lf, "Placemark")
        _sub(pm, "name", line_name)
        when = _kml_time(line_date)
        if when:
            _sub(_sub(pm, "TimeStamp"), "when", when)
        _sub(pm, "styleUrl", "#line-of-contact")
        multi = _sub(pm, "MultiGeometry")
        for part in _line_parts(line):
            ls = _sub(multi, "LineString")
            _sub(ls, "tessellate", "1")
            xy = shapely.get_coordinates(part)
            pairs = np.char.add(np.char.add(np.char.mod("%.6f", xy[:, 0]), ","),
                                np.char.mod("%.6f", xy[:, 1]))
            _sub(ls, "coordinates", " ".join(pairs.tolist()))
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
