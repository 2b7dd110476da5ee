"""Time the detection stage on a lake's real history (issue 4 §5); prints the figures.

    python benchmarks/detect.py --lake LAKE [--year 2022]

LAKE holds the FIRMS yearly lists (e.g. the demo lake, or `truceline ingest firms
../shared/data/firms/ukraine_yearly`). Targets on a 2-core machine: both climatologies
from all 2001-2021 history < 60 s; scoring, classification and incident clustering for
one year < 10 s. The same calls as `truceline baseline build` and `truceline detect`.
"""

from __future__ import annotations

import argparse
import time
import warnings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lake", required=True, help="lake with the FIRMS yearly lists")
    ap.add_argument("--year", type=int, default=2022)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from truceline.lake.store import Lake
    from truceline.pipeline import build_baseline, detect_enriched, enrich_detections

    lake = Lake(args.lake)
    t = time.perf_counter()
    clim = build_baseline(lake)
    t_build = time.perf_counter() - t
    print(f"build MODIS + VIIRS climatologies from the lake (default peacetime years, "
          f"{len(clim['VIIRS'].cells):,} cells, {int(clim['VIIRS'].hot_spot.sum())} VIIRS "
          f"hot spots): {t_build:.1f} s  (target < 60 s)")

    s, e = f"{args.year}-01-01", f"{args.year}-12-31"
    t = time.perf_counter()
    enriched = enrich_detections(lake, s, e)
    t_enrich = time.perf_counter() - t
    t = time.perf_counter()
    found = detect_enriched(enriched, s, e, clim)
    t_detect = time.perf_counter() - t
    print(f"enrich {args.year}: {len(enriched):,} detections: {t_enrich:.1f} s; detect "
          f"(score, classify, cluster): {len(found.cell_days):,} cell-days, "
          f"{int(found.detections['war'].sum()):,} war detections, "
          f"{len(found.incidents):,} incidents: {t_detect:.1f} s  (target < 10 s)")


if __name__ == "__main__":
    main()
