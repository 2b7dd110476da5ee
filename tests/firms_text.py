"""FIRMS CSV headers for tests: the columns of the VIIRS and MODIS archive and NRT files."""

from __future__ import annotations

VIIRS_HEADER = ("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,"
                "confidence,version,bright_ti5,frp,daynight,instrument")
MODIS_HEADER = ("latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,"
                "instrument,confidence,version,bright_t31,frp,daynight,type")
