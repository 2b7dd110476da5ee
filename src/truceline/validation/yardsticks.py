"""Peacetime yardsticks on each window's own line, read as ``truceline assess`` reads them.

A verdict weighs the window's fire against peacetime on the same ground: the peacetime
rate (``held``) and the false-incident rate (rule V1). `assess` measures both on the line
in force on the window's first day, forced valid over the peacetime years
(:func:`truceline.pipeline.peacetime_history`; :class:`OwnLine` calls the same
functions on the history in memory). On a ground whose line moves (the war of
2022-2023, peacetime fire shifted onto it) one map for the whole period would measure the
yardsticks on ground the window never saw; :class:`OwnLine` reads them per window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from truceline.analysis.baseline import Climatology
from truceline.analysis.coverage import to_utc
from truceline.sources.agreements import Agreement

__all__ = ["MARGIN_DAYS", "OwnLine", "in_force"]

#: Days either side of the window the false-incident rate counts in (the product's
#: ``measured_false_incident_rate`` default).
MARGIN_DAYS = 30


def in_force(snaps: Any, day: pd.Timestamp) -> Any:
    """The one snapshot of ``snaps`` in force on ``day`` (the earliest when none is yet)."""
    valid = pd.to_datetime(snaps["valid_from"])
    if valid.dt.tz is not None:
        valid = valid.dt.tz_convert("UTC").dt.tz_localize(None)
    before = (valid <= pd.Timestamp(day)).to_numpy()
    i = int(before.nonzero()[0][-1]) if before.any() else int(valid.to_numpy().argmin())
    return snaps.iloc[[i]].reset_index(drop=True)


@dataclass
class OwnLine:
    """Peacetime detections, unscored, and the maps windows take their line from.

    ``shift_years``: the ground's detections met the maps that many years later (by their
    year, :func:`truceline.validation.detection.shifted_days`), so a window's line is the
    map in force on its first day shifted the same way.
    """

    history: pd.DataFrame  # the peacetime years' detections of the ground's sensor
    snaps: Any  # every map of the ground's source
    climatologies: Mapping[str, Climatology]  # leaving the peacetime years out
    shift_years: Mapping[int, int] | None = None
    max_km: float = 150.0  # rows farther from the line are not kept (no yardstick reads them)
    rule: str = "seasonal"  # the war-fire rule the ground's own detections were called by

    def snapshot_for(self, a: Agreement) -> Any:
        """The map in force on the window's first day (shifted as the ground's days)."""
        w0 = to_utc(a.start_utc).tz_localize(None).normalize()
        if self.shift_years:
            w0 = w0 + pd.DateOffset(years=int(self.shift_years.get(w0.year, 0)))
        return in_force(self.snaps, w0)

    def __post_init__(self) -> None:
        self._day = pd.to_datetime(self.history["acq_date"]).dt.normalize()  # once

    def _read(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        return self.history[((self._day >= start) & (self._day <= end)).to_numpy()]

    def scored(self, a: Agreement, years: Sequence[int]) -> pd.DataFrame | None:
        """Per peacetime year, the window's calendar days widened by :data:`MARGIN_DAYS`
        (and the detection's look-back and follow-on days), enriched against the window's
        line forced valid, classified and clustered by the functions `assess` uses
        (:func:`truceline.pipeline.peacetime_frames`,
        :func:`truceline.pipeline.detect_peacetime`); incident ids carry their year. None
        when no peacetime year holds a detection of those days."""
        from truceline.pipeline import (
            FOLLOW_ON_DAYS,
            HISTORY_MARGIN_DAYS,
            detect_peacetime,
            peacetime_frames,
        )

        frames = peacetime_frames(self._read, a, self.snapshot_for(a), list(years),
                                  MARGIN_DAYS + HISTORY_MARGIN_DAYS,
                                  MARGIN_DAYS + FOLLOW_ON_DAYS)
        d = detect_peacetime(frames, a, dict(self.climatologies), MARGIN_DAYS,
                             rule=self.rule)
        if d is None:
            return None
        d = pd.DataFrame(d.drop(columns="geometry", errors="ignore"))
        return d[d["distance_km"].abs() < self.max_km].reset_index(drop=True)
