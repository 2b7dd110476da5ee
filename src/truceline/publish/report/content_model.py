"""What a report holds, already in words: the one model the HTML and the PDF both render.

Kept apart from the code that fills it so the renderers and the content builders import
it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from truceline.publish import maps

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


@dataclass
class Tabled:
    """A table of the assessment's: where it goes (``saw`` or ``other``), title, note."""

    section: str
    title: str
    note: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class ReportData:
    """The tables a report's exports write, derived once with the report's own window.

    `incidents` are those given (in their order, with `truceline.publish.evidence`'s
    columns; empty when none were given), `detections` the detection table and
    `evidence` the FIRMS rows of each incident (None without detections); `held_by`
    names the party whose ground the control map shades.
    """

    incidents: pd.DataFrame
    detections: pd.DataFrame | None
    evidence: pd.DataFrame | None
    held_by: str


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
    plain_summary: str = ""
    banner: str | None = None
    credits: list[str] = field(default_factory=list)
    signer: str = ""
    web_map: Any = None  # truceline.publish.webmap.WebMap, for the HTML page
    sector_figure: maps.RenderedFigure | None = None
    sector_caption: str = ""
    incident_note: str = ""
    data: ReportData | None = None  # for the exports; the renderers do not read it
