"""One table from truceline's error tree to HTTP statuses, installed on the app.

Every error leaves the service as JSON ``{"error": <class>, "detail": <message>}``;
the message is the same one the CLI prints, except that the server's own folders (the
lake's path) read "the lake": a client has no business knowing the server's file tree.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from truceline.errors import InputError, IntegrityError, LakeError, RemoteError, TrucelineError

#: most specific class first; the first match wins
STATUS_CODES: tuple[tuple[type[TrucelineError], int], ...] = (
    (InputError, 400),       # the request's file or value is not what was expected
    (LakeError, 404),        # the lake does not hold what was asked for (or is busy: 503)
    (IntegrityError, 500),   # a stored hash or signature does not match: the server's fault
    (RemoteError, 502),      # a remote source failed
    (TrucelineError, 400),
)
BUSY_MARK = "another truceline process is writing"


def status_for(exc: TrucelineError) -> int:
    """The HTTP status of a truceline error (a busy lake is 503: try again)."""
    if isinstance(exc, LakeError) and BUSY_MARK in str(exc):
        return 503
    return next(code for cls, code in STATUS_CODES if isinstance(exc, cls))


def error_body(kind: str, detail: object) -> dict[str, object]:
    return {"error": kind, "detail": detail}


def add_exception_handlers(app: FastAPI, lake: Path | None = None) -> None:
    """Install the table and JSON bodies for HTTP and validation errors (``lake``: the
    server's lake folder, never named to a client; the app opens it by this path)."""
    root = None if lake is None else str(lake.resolve())

    async def truceline_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TrucelineError)
        status = status_for(exc)
        headers = {"Retry-After": "5"} if status == 503 else None
        detail = str(exc)
        if root is not None:
            detail = detail.replace(root, "the lake")
        return JSONResponse(error_body(type(exc).__name__, detail), status_code=status,
                            headers=headers)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(error_body("HTTPError", exc.detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [{"where": ".".join(str(p) for p in e.get("loc", ())),
                     "problem": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(error_body("ValidationError", problems), status_code=422)

    app.add_exception_handler(TrucelineError, truceline_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
