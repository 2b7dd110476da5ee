"""Response models: the OpenAPI documents every answer (and the fuzz tests check them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Confidence = Literal["high", "medium", "low"]


class ErrorBody(BaseModel):
    error: str = Field(description="Error class, e.g. InputError, LakeError.")
    detail: Any = Field(description="What was wrong, naming the value and what was expected.")


class Feature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str | None = None
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class Link(BaseModel):
    rel: str
    href: str


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    numberMatched: int = Field(description="Features matching the filters.")  # noqa: N815
    numberReturned: int = Field(description="Features in this page.")  # noqa: N815
    links: list[Link] = []


class LineOfContact(BaseModel):
    date: str
    snapshot_id: str
    source: str
    valid_from: str
    length_km: float
    staleness_days: int = Field(description="Days from the map's day to the day asked.")
    stale: bool = Field(description="The map is older than detection accepts (14 days): "
                        "the line may have moved since.")
    line: Feature
    held: Feature
    bands: list[Feature] = Field(description="The line buffered by 5, 15 and 30 km.")


class CoverageDay(BaseModel):
    date: str
    n_passes: int = Field(description="Satellite passes that delivered data.")
    n_detections: int
    timed: bool = Field(description="False: passes counted per satellite-day (no times).")


class TimelineDay(BaseModel):
    date: str
    band: str
    n_detections: int
    n_war: int | None = None


class Agreement(BaseModel):
    id: str
    name: str
    start_utc: str
    end_utc: str
    time_zone: str
    scope: str
    control_source: str | None
    latest_assessment: dict[str, Any] | None
    watch: dict[str, Any] | None


class Report(BaseModel):
    id: int
    seq: int
    agreement: str | None
    verdict: str | None
    control_source: str | None
    manifest_sha256: str | None
    ts: str | None = Field(None, description="When the ledger recorded the report (UTC, "
                           "ISO 8601).")


class LedgerHead(BaseModel):
    entries: int
    head: str
    ok: bool


class PublicKey(BaseModel):
    public_key: str
    fingerprint: str


class IngestResult(BaseModel):
    files: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    added: int


class AssessmentResult(BaseModel):
    agreement_id: str
    verdict: Literal["held", "reduced", "violated", "inconclusive"]
    rule: str
    reasons: list[str]
    incidents: int
    report_id: int | None
    assessed_utc: str
    #: A violation judged again without the incidents only the moving-front test called
    #: war (fire the control maps' motion made war): ``violated`` when it stands without
    #: them, otherwise what it would be; None when no such incident decided it.
    verdict_without_moved_test: Literal["held", "reduced", "violated",
                                        "inconclusive"] | None = None


class Health(BaseModel):
    status: Literal["ok"]
    lake: str
    ledger_head: str


class LakeSummary(BaseModel):
    detections: dict[str, dict[str, int]] = Field(description="Per sensor and year.")
    total_detections: int
    date_range: list[str] | None
    control: list[dict[str, Any]]
