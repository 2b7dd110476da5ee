"""The report a person reads: verdict, map, timeline, incidents, method, in HTML and PDF.

Both parties, a mediator and a journalist must be able to open the report offline and
check it, so:

- ``report.html`` is one self-contained file: CSS inline, figures as inline SVG, no
  script, no font or image fetched from anywhere (the tests load it in headless Chromium
  and record every request);
- ``report.pdf`` carries the same content for print, laid out with ReportLab (see
  `pdf`).

The package works in stages, one module each: `content` assembles a `ReportContent`
(`content_model`) from the assessment dict, the incident table, the line of contact and
the daily timeline, with `wording` (numbers and times for people), `coverage` and
`statistics` (the figures in sentences and tables); `html_page` and `pdf` render it;
`write_report` here writes the whole folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from truceline.publish import exports as ex
from truceline.publish.report.content import report_content
from truceline.publish.report.content_model import (
    DEFAULT_PARTY_NAMES,
    VERDICTS,
    ReportContent,
    Tabled,
)
from truceline.publish.report.html_page import render_html
from truceline.publish.report.pdf import write_pdf

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
    detections: pd.DataFrame | None = None,
    snapshot: Mapping[str, Any] | None = None,
    signer_fingerprint: str | None = None,
    interactive: bool = True,
) -> list[Path]:
    """Write a report folder; return every path written (sign it after with sign_report).

    Writes report.html and report.pdf, the figures (map.png/.svg, timeline.png/.svg,
    sectors.png/.svg) when `figures`, and the data exports (incidents.*, detections.csv,
    incident_detections.csv, line_of_contact.geojson, assessment.json) when `exports`.
    `detections` are those the assessment rests on (see `report_content`); `snapshot`
    (``snapshot_id``, ``date``, ``source``) dates the line of contact in the exports.
    Pass `generated_utc` for reproducible bytes.
    """
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    content = report_content(assessment, incidents, line_of_contact, timeline, ru_ground,
                             window=window, context=context, generated_utc=generated_utc,
                             title=title, detections=detections,
                             signer_fingerprint=signer_fingerprint, interactive=interactive)
    if exports:
        written += _write_exports(d, assessment, incidents, line_of_contact, ru_ground,
                                  snapshot, content)
    if figures:
        for stem, fig in (("map", content.map_figure), ("timeline", content.timeline_figure),
                          ("sectors", content.sector_figure)):
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


def _write_exports(d: Path, assessment: Mapping[str, Any], incidents: pd.DataFrame | None,
                   line: BaseGeometry | None, held: BaseGeometry | None,
                   snapshot: Mapping[str, Any] | None, content: ReportContent) -> list[Path]:
    """The data files: incidents with their evidence columns, detections, line, JSON.

    The tables are the report's own (`ReportContent.data`), so the exports and the pages
    time the incidents against the same window.
    """
    data = content.data
    assert data is not None, "content from report_content carries its data"
    inc = incidents if incidents is not None else pd.DataFrame(
        {c: pd.Series(dtype="object") for c in ex.INCIDENT_COLUMNS})
    if len(inc):
        inc = (gpd.GeoDataFrame(data.incidents, geometry=inc.geometry.name, crs=inc.crs)
               if isinstance(inc, gpd.GeoDataFrame) else data.incidents)
    return ex.write_exports(
        d, inc, line, assessment, held=held, held_by=data.held_by,
        line_properties=dict(snapshot or {}), detections=data.detections,
        evidence=data.evidence, credits=content.credits)
