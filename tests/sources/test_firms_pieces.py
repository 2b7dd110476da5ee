"""Parsing a FIRMS file in pieces gives exactly what parsing it whole gives (the lake
ingests big files piece by piece so that memory follows the piece)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from firms_text import VIIRS_HEADER
from truceline.sources.firms import parse_firms, parse_firms_pieces


def _joined(path: Path, rows: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    parts = list(parse_firms_pieces(path, rows=rows))
    return (pd.concat([p.detections for p in parts], ignore_index=True),
            pd.concat([p.rejected for p in parts], ignore_index=True),
            sum(p.n_rows for p in parts))


def _same(path: Path, rows: int) -> None:
    whole = parse_firms(path)
    det, rej, n = _joined(path, rows)
    pd.testing.assert_frame_equal(det, whole.detections, check_dtype=False)
    pd.testing.assert_frame_equal(rej.sort_values("line", kind="stable").reset_index(
        drop=True), whole.rejected, check_dtype=False)
    assert n == whole.n_rows


@pytest.mark.parametrize("rows", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("block", [5, 64, 1 << 23])
def test_pieces_equal_the_whole_with_repeats_bad_rows_and_blank_lines(tmp_path, monkeypatch,
                                                                      rows, block):
    from truceline.sources import firms

    real = firms._blocks
    monkeypatch.setattr(firms, "_blocks", lambda path: real(path, block))  # read in blocks
    lines = [f"4{i % 4}.12345,3{i % 5}.54321,330,0.4,0.4,2025-08-1{i % 9},01{i % 60:02d},"
             f"N20,n,2,290,{i}.5,D,VIIRS" for i in range(12)]
    lines[3] = lines[1]  # the same detection twice, pieces apart when rows is small
    lines[9] = lines[1].replace(",n,", ",n,")  # and a third time
    lines[5] = "48.1,37.1,330,0.4,0.4,2025-08-18,0013,N20,n,2,290,lots,D,VIIRS"  # bad frp
    lines.insert(7, "")  # a blank line
    lines.insert(8, "1,2,3")  # a row with the wrong number of fields
    p = tmp_path / "fire_archive_J1V-C2_1.csv"
    p.write_text(VIIRS_HEADER + "\n" + "\n".join(lines) + "\n")
    _same(p, rows)


def test_gzip_and_header_only_files(tmp_path):
    import gzip

    p = tmp_path / "fire_archive_J1V-C2_2.csv"
    p.write_text(VIIRS_HEADER + "\n")
    assert [len(x.detections) for x in parse_firms_pieces(p)] == [0]
    g = tmp_path / "fire_archive_J1V-C2_3.csv.gz"
    g.write_bytes(gzip.compress((VIIRS_HEADER + "\n" + "\n".join(
        f"47.{i},37.{i},330,0.4,0.4,2025-08-1{i},0100,N20,n,2,290,3.0,D,VIIRS"
        for i in range(5)) + "\n").encode()))
    _same(g, 2)


def test_pieces_of_a_real_nrt_file(data_dir):
    f = sorted((data_dir / "firms/viirs_noaa20_nrt_2025").glob("*.csv"))[0]
    _same(f, 97)
