"""Routers of related endpoints, each built by a small factory (as titiler does).

Endpoints are thin: they check access, read parameters through the dependencies and
call :class:`~truceline.service.views.LakeViews` (reads) or the same lake and pipeline
functions as the CLI (writes). Nothing here builds a path from a request: reports are
named by ledger sequence number, agreements by a checked id, uploads by their hash.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from truceline.errors import InputError
from truceline.service import models
from truceline.service.answers import Answer, State
from truceline.service.dependencies import (
    AGREEMENT_TYPES,
    MAX_AGREEMENT_CHARS,
    STALE_HEADER,
    STATE_HEADER,
    Day,
    DaySpan,
    Freshness,
    Page,
    Views,
    agreement_text,
    bbox_param,
    freshness_param,
    get_settings,
    page_param,
    require_read,
    require_write,
    source_param,
    span_param,
)
from truceline.service.views import AGREEMENTS_DIR, ASSESSMENTS_DIR, StateView

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": models.ErrorBody} for s in (400, 401, 403, 404, 413, 422, 429, 503)}
#: GeoJSON answers carry their own media type (RFC 7946); the schema is the response model
GEOJSON: dict[int | str, dict[str, Any]] = {200: {"content": {"application/geo+json": {
    "schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}}
INCIDENT_COLUMNS = ("incident_id", "t_start", "t_end", "first_utc", "last_utc", "n_detections",
                    "n_days", "p_min", "confidence", "side", "band", "sector", "place",
                    "region", "dist_km", "frp_sum", "frp_max")
DETECTION_COLUMNS = ("detection_id", "t_utc", "acq_date", "satellite", "confidence", "frp",
                     "side", "distance_km", "band", "sector", "place", "p_natural", "war",
                     "hot_spot", "incident_id")
AGREEMENT_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"


def imagery_links(inc: pd.DataFrame) -> dict[str, list[str]]:
    """NASA Worldview and the FIRMS fire map at each incident's spot and first time (the
    links the report's interactive map gives: `truceline.publish.webmap`)."""
    from truceline.publish.webmap import firms_map_url, worldview_url

    t = pd.to_datetime(inc["first_utc"], utc=True) if "first_utc" in inc else \
        pd.Series(pd.NaT, index=inc.index, dtype="datetime64[ns, UTC]")
    t = t.fillna(pd.to_datetime(inc["t_start"], utc=True))
    # at the coordinates the answers give (5 decimals), so a client gets the same links
    spots = list(zip(inc["lon"].astype(float).round(5), inc["lat"].astype(float).round(5), t,
                     strict=True))
    return {"worldview": [worldview_url(x, y, w) for x, y, w in spots],
            "firms": [firms_map_url(x, y, w) for x, y, w in spots]}


#: Columns that hold a calendar day (UTC), written as YYYY-MM-DD, not as a midnight.
DAY_COLUMNS = ("acq_date", "t_start", "t_end", "date")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN as null, days as YYYY-MM-DD, times as ISO 8601 UTC with its
    ``Z`` (a naive time here is UTC; pandas does it column-wise)."""
    if frame.empty:
        return []
    frame = frame.copy()
    for c in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[c]):
            if c in DAY_COLUMNS:
                frame[c] = frame[c].dt.strftime("%Y-%m-%d")
            elif frame[c].dt.tz is None:
                frame[c] = frame[c].dt.tz_localize("UTC")
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s"))  # type: ignore[no-any-return]


Fresh = Annotated[Freshness, Depends(freshness_param)]


async def cached_json(request: Request, views: Any, fresh: Freshness,
                build: Callable[[StateView], Any], media_type: str = "application/json"
                ) -> Response:
    """The answer for this exact URL, kept as bytes, from the newest lake state that
    has one (see :mod:`truceline.service.answers`); its state in ``X-Truceline-State``,
    and ``X-Truceline-Stale: 1`` while a newer state's answer is being computed.

    Why: a monitor's dashboard and many clients ask the same week again and again;
    from the second time on an answer costs a dictionary look-up, not a table filter,
    a GeoJSON build and a pydantic pass (the response model still documents it), and
    after a write nobody waits seconds for the new state's answer. A held answer is
    served from the event loop; a computation runs in a worker thread."""
    def compute() -> Answer:
        view = views.current()
        return Answer(view.state, json.dumps(build(view), separators=(",", ":"),
                                             allow_nan=False).encode())
    key = str(request.url)
    found = views.answers.peek(key, fresh.current, compute, need=fresh.need)
    if found is None:
        found = await run_in_threadpool(views.answers.get, key, fresh.current, compute,
                                        need=fresh.need)
    answer, stale = found
    return Response(answer.body, media_type=media_type,
                    headers=state_headers(answer.state, stale))


def state_headers(state: State, stale: bool = False) -> dict[str, str]:
    """``X-Truceline-State: SEQ:HASH`` (and the stale mark) for an answer."""
    return {STATE_HEADER: state.tag} | ({STALE_HEADER: "1"} if stale else {})


def _in_box(frame: pd.DataFrame, bbox: tuple[float, float, float, float] | None
            ) -> np.ndarray:
    if bbox is None:
        return np.ones(len(frame), dtype=bool)
    lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    return (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])


def _collection(frame: pd.DataFrame, columns: tuple[str, ...], page: Page, request: Request,
                id_column: str) -> dict[str, Any]:
    matched = len(frame)
    part = frame.iloc[page.offset:page.offset + page.limit]
    props = records(part[[c for c in columns if c in part.columns]])
    lon, lat = part["lon"].to_numpy(float), part["lat"].to_numpy(float)
    features = [{"type": "Feature", "id": str(p.get(id_column)),
                 "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]},
                 "properties": p} for p, x, y in zip(props, lon, lat, strict=True)]
    links = []
    if page.offset + page.limit < matched:
        nxt = request.url.include_query_params(offset=page.offset + page.limit)
        links.append({"rel": "next", "href": str(nxt)})
    return {"type": "FeatureCollection", "features": features, "numberMatched": matched,
            "numberReturned": len(features), "links": links}


@dataclass
class ReadRouter:
    """GET endpoints over the lake: what monitors look at."""

    router: APIRouter = field(default_factory=lambda: APIRouter(
        dependencies=[Depends(require_read)], responses=ERRORS))

    def __post_init__(self) -> None:
        r = self.router

        @r.get("/agreements", response_model=list[models.Agreement], tags=["agreements"])
        def agreements(views: Views, response: Response) -> Any:
            """Registered agreements with their latest assessment and watch verdict so far
            (always of the lake's state now: cheap to read)."""
            view = views.current()
            response.headers.update(state_headers(view.state))
            return view.agreements()

        @r.get("/incidents", response_model=models.FeatureCollection, tags=["incidents"],
               responses=GEOJSON)
        async def incidents(request: Request, views: Views, span: Annotated[DaySpan,
                            Depends(span_param)], source: Annotated[str | None,
                            Depends(source_param)], bbox: Annotated[Any, Depends(bbox_param)],
                            page: Annotated[Page, Depends(page_param)], fresh: Fresh,
                            sector: Annotated[str | None, Query(max_length=80)] = None,
                            confidence: Annotated[list[models.Confidence] | None, Query()] = None,
                            agreement: Annotated[str | None, Query(pattern=AGREEMENT_ID)] = None
                            ) -> Any:
            """Incidents touching [start, end] as GeoJSON points, filtered and paged.

            With ``agreement``, each incident's ``phase`` says whether it began before,
            during or after the agreement window."""
            return await cached_json(request, views, fresh, lambda view: _incidents(
                view, span, source, bbox, page, sector, confidence, agreement, request),
                media_type="application/geo+json")

        @r.get("/detections", response_model=models.FeatureCollection, tags=["detections"],
               responses=GEOJSON)
        async def detections(request: Request, views: Views,
                             day: Annotated[Day, Query(description="UTC day, YYYY-MM-DD.")],
                             source: Annotated[str | None, Depends(source_param)],
                             bbox: Annotated[Any, Depends(bbox_param)],
                             page: Annotated[Page, Depends(page_param)], fresh: Fresh) -> Any:
            """One day's detections with the war call (p_natural, war, incident)."""
            def build(view: StateView) -> dict[str, Any]:
                d = pd.Timestamp(day)
                det = view.scored(d, d, source).detections
                return _collection(det[_in_box(det, bbox)], DETECTION_COLUMNS, page, request,
                                   "detection_id")
            return await cached_json(request, views, fresh, build,
                                     media_type="application/geo+json")

        @r.get("/timeline", response_model=list[models.TimelineDay], tags=["timeline"])
        async def timeline(request: Request, views: Views,
                           span: Annotated[DaySpan, Depends(span_param)],
                           source: Annotated[str | None, Depends(source_param)], fresh: Fresh,
                           sector: Annotated[str | None, Query(max_length=80)] = None) -> Any:
            """Detections (and war calls) per UTC day and distance band."""
            from truceline.analysis.timeline import daily_series

            def build(view: StateView) -> list[dict[str, Any]]:
                name = view.sector(sector, span.start, span.end, source) if sector else None
                found = view.scored(span.start, span.end, source)
                series = daily_series(found.detections, start=span.start, end=span.end,
                                      sector=name)
                series["date"] = pd.to_datetime(series["date"]).dt.strftime("%Y-%m-%d")
                return records(series)
            return await cached_json(request, views, fresh, build)

        @r.get("/line", response_model=models.LineOfContact, tags=["map"])
        async def line(request: Request, views: Views,
                       day: Annotated[Day, Query(description="UTC day, YYYY-MM-DD.")],
                       source: Annotated[str | None, Depends(source_param)], fresh: Fresh) -> Any:
            """The line of contact and the held ground in force on ``day``."""
            def build(view: StateView) -> dict[str, Any]:
                from truceline.geo.enrich import map_age

                c = view.contact(pd.Timestamp(day), source)
                age, stale = map_age(c["valid_from"], day)
                return {"date": day.isoformat(), **{k: c[k] for k in (
                    "snapshot_id", "source", "valid_from", "length_km")},
                    "staleness_days": age, "stale": stale,
                    "line": {"type": "Feature", "geometry": c["line"], "properties": {
                        "kind": "line of contact"}},
                    "held": {"type": "Feature", "geometry": c["held"], "properties": {
                        "kind": "held ground", "party": "ru"}},
                    "bands": [{"type": "Feature", "geometry": g, "properties": {
                        "kind": "distance band", "km": int(km)}}
                        for km, g in c["bands"].items()]}
            return await cached_json(request, views, fresh, build)

        @r.get("/coverage", response_model=list[models.CoverageDay], tags=["coverage"])
        async def coverage(request: Request, views: Views,
                           span: Annotated[DaySpan, Depends(span_param)], fresh: Fresh) -> Any:
            """Satellite passes that delivered data, per UTC day."""
            def build(view: StateView) -> list[dict[str, Any]]:
                cov = view.coverage(span.start, span.end).copy()
                cov["date"] = cov["date"].dt.strftime("%Y-%m-%d")
                return records(cov)
            return await cached_json(request, views, fresh, build)

        @r.get("/reports", response_model=list[models.Report], tags=["reports"])
        def reports(views: Views, response: Response) -> Any:
            """Signed reports published from this lake (from the ledger)."""
            response.headers.update(state_headers(views.state()))
            return views.reports()

        @r.get("/reports/{report_id}/manifest", tags=["reports"])
        def manifest(request: Request, views: Views, report_id: int) -> dict[str, Any]:
            """A report's signed manifest, checked against the hash in the ledger."""
            return views.report_manifest(report_id, get_settings(request).reports_dir)

        @r.get("/public-key", response_model=models.PublicKey, tags=["integrity"])
        def public_key() -> Any:
            """The public key that verifies this server's reports."""
            from truceline import config
            from truceline.publish.signing import (
                PUBLIC_KEY_FILE,
                key_fingerprint,
                load_public_key,
                public_key_text,
            )

            path = config.keys_dir() / PUBLIC_KEY_FILE
            if not path.is_file():  # the server's set-up, not the request: 503
                raise HTTPException(503, "this server has no signing key yet (its operator "
                                    "runs `truceline keys generate`)")
            key = load_public_key(path)
            return {"public_key": public_key_text(key), "fingerprint": key_fingerprint(key)}

        @r.get("/lake", response_model=models.LakeSummary, tags=["lake"])
        def lake(views: Views, response: Response) -> Any:
            """What the lake holds: detections per sensor and year, dates, snapshots."""
            view = views.current()
            response.headers.update(state_headers(view.state))
            return view.summary()

        @r.get("/ledger/head", response_model=models.LedgerHead, tags=["integrity"])
        def ledger_head(views: Views, response: Response) -> Any:
            """The ledger's length and head hash, and whether the chain verifies."""
            view = views.current()
            response.headers.update(state_headers(view.state))
            return view.ledger_head()


def _incidents(view: StateView, span: DaySpan, source: str | None, bbox: Any, page: Page,
               sector: str | None, confidence: list[str] | None, agreement: str | None,
               request: Request) -> dict[str, Any]:
    if sector:
        sector = view.sector(sector, span.start, span.end, source)
    inc = view.scored(span.start, span.end, source).incidents
    keep = _in_box(inc, bbox)
    if sector:
        keep &= (inc["sector"].astype(str).str.casefold() == sector.casefold()).to_numpy()
    if confidence:
        keep &= inc["confidence"].isin(confidence).to_numpy()
    inc = inc[keep]
    if agreement is not None:
        inc = _phase(inc, view, agreement)
    out = inc.assign(**imagery_links(inc))
    cols = (*INCIDENT_COLUMNS, "worldview", "firms") + (("phase",) if agreement else ())
    return _collection(out, cols, page, request, "incident_id")


def _stored_name(data: bytes) -> str:
    """The name in a registered agreement's TOML (for a message; '?' if unreadable)."""
    try:
        return str(tomllib.loads(data.decode("utf-8")).get("name", "?"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "?"


def _phase(inc: pd.DataFrame, view: StateView, agreement_id: str) -> pd.DataFrame:
    from truceline.sources.agreements import load_agreement

    ag = load_agreement(view.agreement_path(agreement_id))
    w0 = pd.Timestamp(ag.start_utc).tz_localize(None)
    w1 = pd.Timestamp(ag.end_utc).tz_localize(None)
    t = pd.to_datetime(inc["last_utc"], utc=True).dt.tz_localize(None)
    t0 = pd.to_datetime(inc["first_utc"], utc=True).dt.tz_localize(None)
    phase = np.where(t < w0, "before", np.where(t0 >= w1, "after", "during"))
    return inc.assign(phase=phase)


@dataclass
class WriteRouter:
    """POST endpoints: new data, agreements and assessments (write tokens only)."""

    router: APIRouter = field(default_factory=lambda: APIRouter(
        dependencies=[Depends(require_write)], responses=ERRORS))

    def __post_init__(self) -> None:
        r = self.router
        # each answer's X-Truceline-State is the lake state after the write: a follow-up
        # read sends it as X-Truceline-Min-State to see the write's effect

        @r.post("/firms", response_model=models.IngestResult, tags=["uploads"])
        async def upload_firms(request: Request, views: Views, response: Response,
                               file: Annotated[UploadFile, File(description=(
                                   "A FIRMS CSV or TXT file."))]) -> Any:
            """Ingest one FIRMS file (same validation, quarantine and ledger as the CLI)."""
            path = await _save_upload(request, file, (".csv", ".txt"))
            # in a worker thread: the event loop keeps answering readers meanwhile
            with _refused_upload(path, file.filename):
                summary = await run_in_threadpool(views.lake.ingest_firms, [path])
            response.headers.update(state_headers(views.state()))
            return {"files": summary.files, "skipped": summary.skipped,
                    "added": summary.total("added")}

        @r.post("/control", response_model=models.IngestResult, tags=["uploads"])
        async def upload_control(
                request: Request, views: Views, response: Response,
                file: Annotated[UploadFile, File(description="A GeoJSON or GeoPackage "
                                                 "control map.")],
                source: Annotated[str, Form(pattern=r"^(deepstate|liveuamap|isw|other|auto)$"
                                            )] = "auto",
                valid_from: Annotated[Day | None, Form(description="The map's day, "
                                                        "YYYY-MM-DD.")] = None) -> Any:
            """Ingest one control map as a snapshot of held ground."""
            path = await _save_upload(request, file, (".geojson", ".json", ".gpkg"))
            with _refused_upload(path, file.filename):
                summary = await run_in_threadpool(
                    views.lake.ingest_control, [path], source=source,
                    valid_from=valid_from.isoformat() if valid_from else None)
            response.headers.update(state_headers(views.state()))
            return {"files": summary.files, "skipped": summary.skipped, "added":
                    len(summary.files)}

        @r.post("/agreements", response_model=models.Agreement, tags=["agreements"],
                responses={415: {"model": models.ErrorBody, "description": "A body that "
                                 "is not " + " or ".join(AGREEMENT_TYPES) + "."}},
                openapi_extra={"requestBody": {"required": True, "description": (
                    "The agreement TOML (docs/AGREEMENTS.md); polygons inline. "
                    "Content-Type: " + " or ".join(AGREEMENT_TYPES) + " (UTF-8)."),
                    "content": {t: {"schema": {"type": "string", "maxLength":
                                               MAX_AGREEMENT_CHARS}}
                                for t in AGREEMENT_TYPES}}})
        def register(views: Views, response: Response,
                text: Annotated[str, Depends(agreement_text)],
                agreement_id: Annotated[str | None, Query(alias="id", pattern=AGREEMENT_ID)
                                        ] = None,
                replace: Annotated[bool, Query(description="Replace the agreement already "
                                               "registered under this id.")] = False) -> Any:
            """Register an agreement (validated like `truceline assess` does). An id that
            holds other terms is a 409 unless ``replace``: an agreement's terms never change
            silently under its verdicts; the same terms again change nothing."""
            ag = _parse_uploaded_agreement(text)
            aid = agreement_id or _slug(ag.name)
            stored = views.lake.root / AGREEMENTS_DIR / f"{aid}.toml"
            held = stored.read_bytes() if stored.is_file() else None
            if held is not None and held != text.encode() and not replace:
                raise HTTPException(409, f"id {aid!r} already holds other terms (agreement "
                                    f"{_stored_name(held)!r}): choose another id, or send "
                                    "replace=true to replace them")
            if held != text.encode():
                views.lake.write_files({f"{AGREEMENTS_DIR}/{aid}.toml": text.encode()},
                                       kind="register-agreement", agreement=ag.name, id=aid)
            view = views.current()
            response.headers.update(state_headers(view.state))
            return next(a for a in view.agreements() if a["id"] == aid)

        @r.post("/agreements/{agreement_id}/assessments",
                response_model=models.AssessmentResult, tags=["agreements"])
        def assess(request: Request, views: Views, response: Response, agreement_id: Annotated[
                str, Path_(pattern=AGREEMENT_ID)]) -> Any:
            """Run the assessment now: verdict, reasons, a signed report in the ledger."""
            summary = run_and_store_assessment(views, agreement_id,
                                               get_settings(request).reports_dir)
            response.headers.update(state_headers(views.state()))
            return summary


def Path_(**kw: Any) -> Any:  # noqa: N802 - fastapi.Path, renamed beside pathlib.Path
    from fastapi import Path as FPath

    return FPath(**kw)


def run_and_store_assessment(views: Any, agreement_id: str, reports_dir: Path
                             ) -> dict[str, Any]:
    """`truceline assess` for a registered agreement; the summary is kept in the lake."""
    from truceline import config
    from truceline.analysis.proof import verdict_without_moved
    from truceline.pipeline import run_assessment, write_assessment
    from truceline.publish.signing import PRIVATE_KEY_FILE, KeySigner
    from truceline.sources.agreements import load_agreement

    ag = load_agreement(views.agreement_path(agreement_id))
    key = config.keys_dir() / PRIVATE_KEY_FILE
    if not key.is_file():  # the server's set-up, not the request: 503, never a path
        raise HTTPException(503, "this server has no signing key yet: its operator runs "
                            "`truceline keys generate` before assessments can be signed")
    run = run_assessment(views.lake, ag, climatologies=views.climatologies())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    written = write_assessment(run, reports_dir / agreement_id / stamp,
                               signer=KeySigner.from_file(key), lake=views.lake)
    a = run.assessment
    summary = {"agreement_id": agreement_id, "verdict": a["verdict"], "rule": a["rule"],
               "reasons": a["reasons"], "incidents": len(run.incidents),
               "report_id": written["ledger_seq"],
               "assessed_utc": datetime.now(UTC).replace(microsecond=0).isoformat(),
               "verdict_without_moved_test": verdict_without_moved(a)}
    views.lake.write_files({f"{ASSESSMENTS_DIR}/{agreement_id}--{stamp}.json":
                            json.dumps(summary, indent=1).encode()},
                           kind="service-assessment", agreement=ag.name,
                           verdict=a["verdict"])
    return summary


def _slug(name: str) -> str:
    """An agreement id from its name.

    >>> _slug("What-if ceasefire, August 2025")
    'what-if-ceasefire-august-2025'
    """
    s = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:64].strip("-")
    return s or "agreement"


def _parse_uploaded_agreement(text: str) -> Any:
    """Validate an uploaded agreement; file references are refused (no server paths)."""
    import tempfile

    from truceline.sources.agreements import parse_agreement

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"agreement: not valid TOML: {exc}") from None
    scope, prohibited = doc.get("scope", {}), doc.get("prohibited", {})
    for table, key in ((scope, "polygons"), (scope, "exclusions"),
                       (prohibited, "protected_sites")):
        if isinstance(table, dict) and isinstance(table.get(key), str):
            raise InputError(f"agreement: {key} names a file ({table[key]!r}); over the API "
                             "give polygons inline as GeoJSON tables, and protected sites "
                             "are not accepted (use the CLI)")
    with tempfile.TemporaryDirectory() as empty:
        return parse_agreement(text, source="uploaded agreement", base_dir=empty)


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
CHUNK = 1024 * 1024


@contextmanager
def _refused_upload(path: Path, client_name: str | None) -> Iterator[None]:
    """An upload the ingest refuses is not kept (an accepted one stays: the lake's
    records name it), and the message names the client's file, not the server's path."""
    try:
        yield
    except InputError as exc:
        path.unlink(missing_ok=True)
        raise InputError(str(exc).replace(str(path), repr(client_name or path.name))
                         ) from None


async def _save_upload(request: Request, file: UploadFile, suffixes: tuple[str, ...]) -> Path:
    """Stream an upload to the uploads folder under a safe name, within the size limit.

    The client's file name keeps only its last part, in safe characters; the file is
    stored as ``<sha256 prefix>_<name>`` so two uploads never collide.
    """
    settings = get_settings(request)
    raw = Path((file.filename or "upload").replace("\\", "/")).name
    name = _SAFE_NAME.sub("_", raw).lstrip(".")[-100:] or "upload"
    if not name.lower().endswith(suffixes):
        raise InputError(f"file {raw!r}: expected a name ending in {', '.join(suffixes)}")
    folder = settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    tmp = folder / f".incoming-{id(file)}-{name}"
    try:
        with open(tmp, "wb") as out:
            while chunk := await file.read(CHUNK):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise HTTPException(413, f"file {raw!r}: larger than the limit of "
                                        f"{settings.max_upload_bytes // 2**20} MB")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InputError(f"file {raw!r}: is empty")
        target = folder / f"{digest.hexdigest()[:16]}_{name}"
        tmp.replace(target)
        return target
    finally:
        tmp.unlink(missing_ok=True)
