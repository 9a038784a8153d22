"""A small scene on the Poland-Belarus border for the live runtime's tests.

A drone flies west from Belarus into Poland at 45 m/s, seen by a Polish radar whose
data is national (Polish eyes only) and, when asked, an allied Lithuanian radar.
Detections are built with the tracker's synthetic sensors, so they are what real
radars report (polar plots, a rotating beam).
"""

from __future__ import annotations

import numpy as np

from skywarden.clock import ManualClock
from skywarden.records import Detection, DetectionBatch
from skywarden.sensors import SensorRegistry
from skywarden.track.synthetic import Mover, Scene, radar_plots, registry

# Centre: the border near Brest; the drone starts 12 km east of it, in Belarus.
LAT0, LON0 = 52.2, 23.75
T0 = 1_757_460_000.0  # 2025-09-09 23:20 UTC, the night of the incursion


def radar(sensor_id: str, owner: str, releasability: str, east: float, north: float) -> dict:
    lat = LAT0 + north / 111_200.0
    lon = LON0 + east / (111_200.0 * np.cos(np.radians(LAT0)))
    return dict(id=sensor_id, type="radar", owner=owner, lat=float(lat), lon=float(lon),
                alt=100.0, max_range=250_000, scan_period=4.0, sigma_range=50,
                sigma_azimuth=0.2, sigma_elevation=0.3, releasability=releasability)


PL_RADAR = radar("PL-R1", "POL", "national", -30_000.0, 0.0)
LT_RADAR = radar("LT-R1", "LTU", "allies", -10_000.0, 60_000.0)


def sensors(*tables: dict) -> SensorRegistry:
    return registry(*(tables or (PL_RADAR,)))


def drone(east: float = 12_000.0, speed: float = 45.0, t0: float = T0) -> Scene:
    return Scene(LAT0, LON0, [Mover("d", (east, 0.0, 300.0), (-speed, 0.0, 0.0), t0=t0)])


def plots(scene: Scene, reg: SensorRegistry, sensor_id: str, t_start: float, t_end: float,
          seed: int = 1) -> list[Detection]:
    rng = np.random.default_rng(seed)
    return sorted(radar_plots(scene, reg[sensor_id], t_start, t_end, rng),
                  key=lambda d: d.time)


def feed(runtime, clock: ManualClock, dets: list[Detection], until: float,
         step: float = 1.0, source: str = "test") -> None:
    """Ingest ``dets`` as a live feed would (each when the clock reaches its time) and
    tick the runtime every ``step`` seconds up to ``until``."""
    i = 0
    t = clock.now()
    while t < until:
        t = min(t + step, until)
        clock.set(t)
        chunk = []
        while i < len(dets) and dets[i].time <= t:
            chunk.append(dets[i])
            i += 1
        if chunk:
            runtime.ingest(DetectionBatch.from_records(chunk, runtime.registry.ids), source)
        runtime.tick()
