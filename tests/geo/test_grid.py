"""H3 cells: the vectorised path gives the reference binding's cells."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from truceline.errors import InputError
from truceline.geo import grid


@pytest.mark.parametrize("res", [0, 5, 7, 9, 15])
def test_same_cells_as_reference_binding(res: int) -> None:
    rng = np.random.default_rng(res)
    lat, lon = rng.uniform(44, 53, 200), rng.uniform(22, 41, 200)
    got = grid.h3_to_str(grid.h3_cells(lat, lon, res))
    want = [h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lon, strict=True)]
    assert list(got) == want


def test_nan_gives_zero_and_bad_resolution_is_refused() -> None:
    out = grid.h3_cells(np.array([np.nan, 50.0]), np.array([30.0, 30.0]), 7)
    assert out.dtype == np.uint64 and out[0] == 0 and out[1] > 0
    with pytest.raises(InputError, match="h3_resolution must be an integer 0..15, got 16"):
        grid.h3_cells(np.array([50.0]), np.array([30.0]), 16)
