"""The service's configuration: argument, environment variable, default (as config.py).

Read access is private unless ``public_read``; CORS is off unless origins are given;
the basemap is off unless a tile URL is given (the dashboard then draws our own layers
only, and works with no internet).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from truceline import config
from truceline.errors import InputError


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know, fixed at start-up."""

    lake: Path
    public_read: bool = False
    cors_origins: tuple[str, ...] = ()
    tile_url: str | None = None
    max_upload_bytes: int = 256 * 1024 * 1024
    max_in_flight: int = 128          # more concurrent requests than this: 503
    rate_per_minute: int = 6000       # per client (token or address): beyond, 429
    uploads_dir: Path = field(default=Path())
    reports_dir: Path = field(default=Path())
    #: None: the latest map of any source in force each day, the CLI's default
    #: (`truceline detect`, `assess`), so the API and the CLI answer alike
    control_source: str | None = None

    @classmethod
    def from_env(cls, lake: str | os.PathLike[str] | None = None, **overrides: object
                 ) -> Settings:
        """Settings from ``TRUCELINE_*`` variables, then ``overrides`` (non-None)."""
        root = config.lake_dir(lake)
        env = os.environ
        tile = env.get("TRUCELINE_TILE_URL") or None
        if tile is not None and not tile.startswith(("http://", "https://")):
            raise InputError(f"TRUCELINE_TILE_URL {tile!r}: expected an http(s) URL with "
                             "{z}/{x}/{y}")
        try:
            max_mb = float(env.get("TRUCELINE_MAX_UPLOAD_MB", "256"))
        except ValueError:
            raise InputError("TRUCELINE_MAX_UPLOAD_MB: expected a number of megabytes"
                             ) from None
        limits = {}
        for name, var in (("max_in_flight", "TRUCELINE_MAX_IN_FLIGHT"),
                          ("rate_per_minute", "TRUCELINE_RATE_PER_MINUTE")):
            if env.get(var):
                try:
                    limits[name] = int(env[var])
                except ValueError:
                    raise InputError(f"{var}: expected a whole number") from None
        values: dict[str, object] = {
            "lake": root,
            "public_read": _flag(env.get("TRUCELINE_PUBLIC_READ")),
            "cors_origins": tuple(o.strip() for o in env.get("TRUCELINE_CORS_ORIGINS", "")
                                  .split(",") if o.strip()),
            "tile_url": tile,
            "max_upload_bytes": int(max_mb * 1024 * 1024),
            "uploads_dir": root.parent / f"{root.name}-uploads",
            "reports_dir": root.parent / f"{root.name}-reports",
        }
        values.update(limits)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
