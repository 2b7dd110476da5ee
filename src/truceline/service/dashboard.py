"""The dashboard at ``/``: one HTML page that draws from the API, with no internet.

Its script is ours (``templates/dashboard.html``); plotly.js is served from the
installed ``plotly`` package at ``/static/plotly.min.js``; no CDN, no third-party code in
the repository. The background (land, water, borders) and the colours of the held
ground and the line are the report's interactive map's (`truceline.publish.webmap`),
served once at ``/static/basemap.json``; with ``TRUCELINE_TILE_URL`` set, tiles instead.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from truceline.service.settings import Settings

TEMPLATE = Path(__file__).parent / "templates" / "dashboard.html"
#: The area the dashboard's background covers: Ukraine and room to pan around it.
BASEMAP_BBOX = (22.0, 43.0, 42.0, 53.0)


@lru_cache(maxsize=1)
def basemap_json() -> bytes:
    """The report map's background layers and colours as Plotly traces (built once)."""
    from truceline.publish.basemap import basemap
    from truceline.publish.webmap import STYLE, basemap_traces

    under, over = basemap_traces(basemap(BASEMAP_BBOX))
    return json.dumps({"under": under, "over": over, "style": dict(STYLE)},
                      separators=(",", ":"), allow_nan=False).encode()


def dashboard_router(settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    page = TEMPLATE.read_text(encoding="utf-8").replace(
        "__CONFIG__", json.dumps({"tileUrl": settings.tile_url,
                                  "publicRead": settings.public_read}))

    @router.get("/")
    def dashboard() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": _csp(settings)})

    @router.get("/static/plotly.min.js")
    def plotly_script() -> Response:
        from truceline.publish.webmap import plotly_js  # the report's, as the wheel ships it

        return Response(plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @router.get("/static/basemap.json")
    def background() -> Response:
        return Response(basemap_json(), media_type="application/json",
                        headers={"Cache-Control": "public, max-age=86400"})

    return router


def _csp(settings: Settings) -> str:
    """Only this server (and the tile host, when configured) may be contacted."""
    img = "'self' data: blob:"
    if settings.tile_url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.tile_url)
        img += f" {parts.scheme}://{parts.netloc}"
    return (f"default-src 'self'; img-src {img}; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'; worker-src 'self' blob:; "
            "connect-src 'self'")
