"""What the sensor models share: sites, defaults, candidate culling, line layouts.

Each sensor model (:mod:`.radar`, :mod:`.cooperative`, :mod:`.acoustic`, :mod:`.citizen`)
works on one :class:`~.motion.Chunk` at a time and offers two things:

- ``cover(chunk, covered)``: OR into the ``(steps, n)`` boolean array where each target is
  inside the sensor's coverage at each step time (truth's ``observable``);
- ``detect(chunk)``: the chunk's detections as :class:`Block` s (sort keys and line rows).

Every random draw comes from the sensor's own ``numpy.random.Generator`` (spawned from the
run's seed in registry order), consumed in a fixed order, so the files are a pure function
of scenario and seed.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import msgspec
import numpy as np

from .. import geo
from ..records import TARGET_CLASSES
from ..sensors import Sensor
from .lines import LineFormat, Num, Text, choice_table, text_table
from .motion import Fleet

# Defaults the simulator uses where the registry leaves a key out. They are written into
# the output sensors.toml, so a tracker reading it knows the sigmas the noise was drawn with.
SENSOR_DEFAULTS: dict[str, dict[str, float]] = {
    "radar": {
        "alt": 0.0,
        "max_range": 200000.0,
        "scan_period": 10.0,
        "sigma_range": 100.0,
        "sigma_azimuth": 0.2,
        "pd": 0.95,
        "clutter_per_scan": 0.0,
    },
    "adsb": {"alt": 0.0, "max_range": 400000.0, "sigma_h": 30.0, "sigma_v": 15.0, "pd": 0.99},
    "remote_id": {"alt": 0.0, "max_range": 3000.0, "sigma_h": 10.0, "sigma_v": 15.0, "pd": 0.95},
    "acoustic": {
        "alt": 0.0,
        "max_range": 4000.0,
        "scan_period": 2.0,
        "sigma_azimuth": 8.0,
        "pd": 0.9,
    },
    "visual_report": {},
    "track_feed": {},
}

# Metres per degree of latitude, rounded down so culling boxes err on the large side.
_M_PER_DEG = 110000.0


def with_defaults(sensor: Sensor) -> Sensor:
    """The sensor with the simulator's defaults filled in for keys it leaves out."""
    missing = {k: v for k, v in SENSOR_DEFAULTS[sensor.type].items() if getattr(sensor, k) is None}
    return msgspec.structs.replace(sensor, **missing) if missing else sensor


def phase(sensor_id: str, period: float) -> float:
    """A fixed offset in [0, period) from the sensor id, so radars do not scan in step."""
    return (zlib.crc32(sensor_id.encode()) / 2.0**32) * period


class Site:
    """A sensor's site: ECEF origin and the rows of its east/north/up rotation."""

    def __init__(self, sensor: Sensor) -> None:
        assert sensor.lat is not None and sensor.lon is not None
        self.lat, self.lon = float(sensor.lat), float(sensor.lon)
        self.alt = float(sensor.alt or 0.0)
        self.origin = geo.geodetic_to_ecef(self.lat, self.lon, self.alt)
        self.rot_t = np.ascontiguousarray(geo.enu_rotation(self.lat, self.lon).T)
        # The site's share of the radio/radar horizon distance, m (geo.radar_horizon).
        self.horizon0 = float(geo.radar_horizon(self.alt, 0.0))

    def enu(self, xyz: np.ndarray) -> np.ndarray:
        """ECEF points (..., 3) -> east/north/up (..., 3) in metres from the site."""
        return (xyz - self.origin) @ self.rot_t

    def horizon(self, target_alt: np.ndarray) -> np.ndarray:
        """Greatest ground distance (m) at which targets at ``target_alt`` are above the
        horizon: smooth earth of 4/3 radius (geo.radar_horizon), site and target MSL."""
        re = geo.EFFECTIVE_RADIUS_FACTOR * geo.EARTH_RADIUS
        return self.horizon0 + np.sqrt(2.0 * re * np.maximum(target_alt, 0.0))

    def near(self, bounds, radius: float) -> np.ndarray:
        """Indices of targets whose chunk bounding box comes within ``radius`` m of the site
        (a box test: a superset of the targets that matter)."""
        south, north, west, east = bounds
        dlat = radius / _M_PER_DEG
        edge = min(89.0, abs(self.lat) + dlat)
        dlon = min(180.0, radius / (_M_PER_DEG * math.cos(math.radians(edge))))
        hit = (
            (north >= self.lat - dlat)
            & (south <= self.lat + dlat)
            & (east >= self.lon - dlon)
            & (west <= self.lon + dlon)
        )
        return np.flatnonzero(hit)


@dataclass(slots=True)
class Block:
    """Detection lines of one layout: ``keys`` (epoch ms, for the time sort) and rows."""

    keys: np.ndarray
    rows: np.ndarray


class Context:
    """Per-run constants every model needs: start time, fleet, label and id tables."""

    def __init__(self, start: float, fleet: Fleet, labels: bool) -> None:
        self.start_ms = int(round(start * 1000.0))
        self.fleet = fleet
        # Row 0 is "no target" (clutter, or labels off); row i + 1 is target i.
        names: list[str | None] = [None] + (fleet.ids if labels else [None] * fleet.n)
        self.labels = text_table(names, ',"target":{}') if labels else text_table([None])
        self.label_on = labels
        self.class_hint = text_table(list(TARGET_CLASSES), ',"class_hint":{}')

    def label_index(self, idx: np.ndarray) -> np.ndarray:
        """Rows of :attr:`labels` for targets ``idx`` (-1 = clutter)."""
        if not self.label_on:
            return np.zeros(idx.shape, dtype=np.intp)
        return idx + 1

    def keys(self, t: np.ndarray) -> np.ndarray:
        """Epoch milliseconds of scenario times ``t`` (s): the written time and sort key."""
        return self.start_ms + np.rint(np.asarray(t) * 1000.0).astype(np.int64)


def sensor_table(ids: list[str]) -> np.ndarray:
    return text_table(ids, ',"sensor":{}')


def time_field() -> Num:
    return Num('{"time":', 3, 10)


def polar_format(sensor_w: int, hint_w: int, label_w: int) -> LineFormat:
    return LineFormat(
        time_field(),
        Text(sensor_w),
        ',"kind":"polar"',
        Num(',"range":', 1, 7),
        Num(',"azimuth":', 4, 3),
        Num(',"elevation":', 4, 2, optional=True),
        Text(hint_w),
        Text(label_w),
        "}\n",
    )


def position_format(sensor_w: int, tail_w: int, label_w: int) -> LineFormat:
    """Cooperative position reports; ``tail`` holds the per-target id/callsign/class."""
    return LineFormat(
        time_field(),
        Text(sensor_w),
        ',"kind":"position"',
        Num(',"lat":', 7, 2),
        Num(',"lon":', 7, 3),
        Num(',"alt":', 1, 6),
        Num(',"vel_e":', 2, 5),
        Num(',"vel_n":', 2, 5),
        Num(',"vel_u":', 2, 5),
        Text(tail_w),
        Text(label_w),
        "}\n",
    )


def bearing_format(sensor_w: int, hint_w: int, label_w: int) -> LineFormat:
    return LineFormat(
        time_field(),
        Text(sensor_w),
        ',"kind":"bearing"',
        Num(',"azimuth":', 4, 3),
        Text(hint_w),
        Text(label_w),
        "}\n",
    )


def report_format(sensor_w: int, hint_w: int, label_w: int) -> LineFormat:
    """Citizen reports: position, its sigma, what was seen, when it reached us."""
    return LineFormat(
        time_field(),
        Text(sensor_w),
        ',"kind":"position"',
        Num(',"lat":', 7, 2),
        Num(',"lon":', 7, 3),
        Num(',"sigma_h":', 1, 7),
        Text(hint_w),
        Num(',"received":', 3, 10),
        Text(label_w),
        "}\n",
    )


BOOL_TABLE = choice_table(["false", "true"])


def offsets_to_degrees(lat: np.ndarray, alt: np.ndarray, east: np.ndarray, north: np.ndarray):
    """Small east/north offsets (m) at ``lat`` (deg), ``alt`` (m) -> dlat, dlon (deg)."""
    s2 = np.sin(np.radians(lat)) ** 2
    m_rad = geo.A * (1 - geo.E2) / (1 - geo.E2 * s2) ** 1.5
    n_rad = geo.A / np.sqrt(1 - geo.E2 * s2)
    dlat = np.degrees(north / (m_rad + alt))
    dlon = np.degrees(east / ((n_rad + alt) * np.cos(np.radians(lat))))
    return dlat, dlon


def slots(t0: float, t1: float, offset: np.ndarray, period: np.ndarray):
    """Report times ``offset + m * period`` inside ``[t0, t1)``, for each row of ``offset``.

    Returns (row index, time) of every report, rows in order and times increasing per row.
    """
    first = np.ceil((t0 - offset) / period - 1e-9)
    last = np.ceil((t1 - offset) / period - 1e-9)  # exclusive
    count = np.maximum(last - first, 0).astype(np.int64)
    rows = np.repeat(np.arange(offset.shape[0]), count)
    start_of_row = np.cumsum(count) - count
    m = first[rows] + (np.arange(rows.shape[0]) - start_of_row[rows])
    t = offset[rows] + m * period[rows]
    keep = (t >= t0) & (t < t1)
    return rows[keep], t[keep]
