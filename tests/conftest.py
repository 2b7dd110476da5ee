"""Shared fixtures: where the real data is, and small lakes built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from truceline import config


def real_data() -> Path | None:
    return config.data_dir()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real sample data (../shared/data or $TRUCELINE_DATA); skip if absent."""
    d = real_data()
    if d is None:
        pytest.skip("real data not found: set TRUCELINE_DATA or place it at ../shared/data")
    return d
