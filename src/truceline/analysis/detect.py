"""One call from detections to incidents: what ``truceline detect`` runs.

Scores every cell-day against its sensor's climatology, labels war fire with a named
rule, and clusters it into incidents, keeping the parameters beside the results so a
report can say exactly how they were made. Pure: frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import pandas as pd

from truceline.analysis.anomaly import (
    RuleParams,
    classify_cell_days,
    label_detections,
    rule_params,
    score_cell_days,
)
from truceline.analysis.baseline import Climatology
from truceline.analysis.incidents import cluster_incidents

__all__ = ["DEFAULT_RULE", "Detection", "detect"]

#: The rule used when none is named: The Economist's rule plus the seasonal tests that
#: keep farm burns far from the front out (docs/VALIDATION.md, "Detection").
DEFAULT_RULE = "seasonal"


@dataclass
class Detection:
    """Results of :func:`detect` and the parameters that made them."""

    detections: pd.DataFrame
    cell_days: pd.DataFrame
    incidents: pd.DataFrame
    params: dict[str, object]


def detect(detections: pd.DataFrame, climatologies: Mapping[str, Climatology], *,
           rule: str | RuleParams = DEFAULT_RULE, radius_km: float = 5.0,
           gap_days: int = 3, min_detections: int = 1,
           scores: pd.DataFrame | None = None) -> Detection:
    """Classify ``detections`` and cluster the war fire into incidents.

    ``scores``: :func:`score_cell_days` of these detections, when the caller tries
    several rules on them (they do not depend on the rule).

    ``detections`` may carry enrichment columns (side, distance_km, band, sector, place,
    h3): they pass through to the classified rows and, summarised, to the incidents.
    """
    rp = rule_params(rule)
    if scores is None:
        scores = score_cell_days(detections, climatologies)
    cell_days = classify_cell_days(scores, climatologies, rp)
    classified = label_detections(detections, cell_days, climatologies)
    incidents, incident_of = cluster_incidents(classified, radius_km=radius_km,
                                               gap_days=gap_days,
                                               min_detections=min_detections)
    classified["incident_id"] = incident_of.reindex(classified.index)
    params: dict[str, object] = {
        "rule": asdict(rp), "radius_km": radius_km, "gap_days": gap_days,
        "min_detections": min_detections,
        "climatologies": {s: c.metadata for s, c in climatologies.items()},
    }
    return Detection(classified, cell_days, incidents, params)
