"""The FastAPI application: routers from the factories, the error table, the limits.

Everything the browser loads comes from this server: the OpenAPI JSON, Swagger UI from
the ``swagger-ui-bundle`` package and plotly.js from the ``plotly`` package, never a CDN.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from truceline import __version__
from truceline.lake.store import Lake
from truceline.service import models
from truceline.service.dependencies import RateLimit
from truceline.service.errors import add_exception_handlers, error_body
from truceline.service.factory import ReadRouter, WriteRouter
from truceline.service.settings import Settings
from truceline.service.views import LakeViews

API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    """The service over ``settings.lake`` (which must exist: the service never makes one)."""
    from truceline.errors import LakeError

    if not (settings.lake / "ledger.jsonl").is_file():
        raise LakeError(f"{settings.lake}: not a truceline lake (no ledger.jsonl); build one "
                        "with `truceline ingest` or `truceline demo` first")
    app = FastAPI(title="truceline", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=f"{API_PREFIX}/openapi.json",
                  description="Ceasefire monitoring from space: incidents, verdicts, signed "
                              "reports. Errors are JSON {error, detail}.")
    app.state.settings = settings
    app.state.views = LakeViews(Lake(settings.lake.resolve()))  # errors name no path
    add_exception_handlers(app, settings.lake)
    _add_limits(app, settings)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Authorization",
                                                                          "Content-Type"])
    app.include_router(ReadRouter().router, prefix=API_PREFIX)
    app.include_router(WriteRouter().router, prefix=API_PREFIX)
    _add_docs(app)
    from truceline.service.dashboard import dashboard_router

    app.include_router(dashboard_router(settings))

    @app.get(f"{API_PREFIX}/health", response_model=models.Health, tags=["service"])
    def health(request: Request) -> Any:
        """Liveness: the lake is readable (no token needed)."""
        views: LakeViews = request.app.state.views
        return {"status": "ok", "lake": settings.lake.name, "ledger_head": views.version()}

    return app


def _add_docs(app: FastAPI) -> None:
    """Swagger UI served from the installed swagger-ui-bundle package (works offline)."""
    try:
        import swagger_ui_bundle
    except ImportError:  # the JSON at /api/v1/openapi.json still works
        return
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "", title="truceline API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")


def _add_limits(app: FastAPI, settings: Settings) -> None:
    """Shed load cleanly: 503 beyond ``max_in_flight`` requests, 429 beyond the per-client
    rate; both with Retry-After and a JSON body, before any work is done."""
    app.add_middleware(Limits, limiter=RateLimit(settings.rate_per_minute),
                       max_in_flight=settings.max_in_flight)


class Limits:
    """Plain ASGI middleware (no per-request task or body copy, unlike @app.middleware)."""

    def __init__(self, app: Any, *, limiter: RateLimit, max_in_flight: int) -> None:
        self.app, self.limiter, self.max_in_flight = app, limiter, max_in_flight
        self.in_flight = 0  # one event loop: no lock needed between awaits

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        auth = headers.get(b"authorization", b"")
        client = auth[-16:].decode("latin-1") if auth else (
            scope["client"][0] if scope.get("client") else "?")
        if not self.limiter.allow(client):
            await _refuse(send, 429, "TooManyRequests", "rate limit: slow down")
            return
        if self.in_flight >= self.max_in_flight:
            await _refuse(send, 503, "ServiceUnavailable", "the server is busy; retry")
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _refuse(send: Any, status: int, kind: str, detail: str) -> None:
    body = json.dumps(error_body(kind, detail)).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"retry-after", b"1"),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory truceline.service.app:app_from_env`` ($TRUCELINE_LAKE)."""
    return create_app(Settings.from_env())
