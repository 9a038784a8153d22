"""Get the tracker's compiled kernels ready before live data needs them.

The kernels (kernels.py, lsap.py, lifecycle_kernels.py and those of classify.py,
measure.py, output.py, table.py and tracker.py) are compiled on their first call after an
install or an edit (about a minute) and loaded from numba's cache by every later process
(about half a second, with numba's own set-up). A service that waited for its first detections to pay that
would stall its first tick with the data queueing behind it; :func:`warm_kernels` pays
it at start-up instead, by tracking a small synthetic scene that takes every path the
kernels have: radar plots with clutter (polar, pre-gate, contested clusters), ADS-B
(position and velocity, a cooperative id, heard by two receivers), acoustic bearings, a
turning target.
"""

from __future__ import annotations

import time

import msgspec
import numpy as np

from ..records import DetectionBatch
from .synthetic import Mover, Scene, adsb_reports, bearings, radar_plots, registry
from .tracker import Tracker

_LAT0, _LON0 = 52.0, 21.0


def warm_kernels() -> float:
    """Track a 60 s synthetic scene through a throwaway tracker; return the seconds it
    took (compiling, or loading the cache, included)."""
    began = time.perf_counter()
    site = dict(owner="POL", lat=_LAT0, lon=_LON0, alt=100.0)
    reg = registry(
        dict(id="warm-radar", type="radar", max_range=250000, scan_period=4,
             sigma_range=50, sigma_azimuth=0.2, sigma_elevation=0.3, **site),
        dict(id="warm-adsb", type="adsb", **site),
        dict(id="warm-adsb2", type="adsb", **site),
        dict(id="warm-mic1", type="acoustic", max_range=5000.0,
             **{**site, "lat": _LAT0 + 0.01}),
        dict(id="warm-mic2", type="acoustic", max_range=5000.0,
             **{**site, "lon": _LON0 + 0.02}),
    )
    scene = Scene(_LAT0, _LON0, [
        Mover("drone", (2000.0, 2000.0, 300.0), (30.0, -10.0, 0.0)),
        Mover("turner", (20000.0, 0.0, 1500.0), (0.0, 60.0, 0.0), turn_rate=3.0,
              turn_from=20.0),
        Mover("airliner", (-40000.0, 30000.0, 10000.0), (220.0, 0.0, 0.0), icao="icao:4b1805"),
        Mover("twin", (-40200.0, 30000.0, 10000.0), (220.0, 0.0, 0.0)),
    ])
    rng = np.random.default_rng(0)
    adsb = adsb_reports(scene, reg["warm-adsb"], 0.0, 60.0, rng)
    # A second receiver hearing the same broadcasts (measure.merge_broadcasts).
    heard_twice = [msgspec.structs.replace(d, sensor="warm-adsb2") for d in adsb]
    dets = (radar_plots(scene, reg["warm-radar"], 0.0, 60.0, rng, clutter=20.0)
            + adsb + heard_twice
            + bearings(scene, reg["warm-mic1"], 0.0, 60.0, rng)
            + bearings(scene, reg["warm-mic2"], 0.0, 60.0, rng))
    dets.sort(key=lambda d: d.time)
    tracker = Tracker(reg)
    for i in range(0, len(dets), 50):
        part = dets[i:i + 50]
        tracker.step(DetectionBatch.from_records(part, reg.ids), part[-1].time)
    tracker.flush()
    return time.perf_counter() - began
