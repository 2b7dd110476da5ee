"""The dashboard at ``/``: one HTML page that draws from the API, with no internet.

Its script is ours (``templates/dashboard.html``); plotly.js is served from the
installed ``plotly`` package at ``/static/plotly.min.js``; no CDN, no third-party code in
the repository. A basemap appears only when ``TRUCELINE_TILE_URL`` is set.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from truceline.service.settings import Settings

TEMPLATE = Path(__file__).parent / "templates" / "dashboard.html"


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """plotly.min.js as the plotly package ships it."""
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


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
        return Response(plotly_js(), media_type="text/javascript",
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
