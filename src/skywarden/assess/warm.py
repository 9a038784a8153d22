"""Get the assessment's compiled kernels ready before the first warning cycle needs them.

The walks (walks.py) and the cone index query (cone.py) are compiled on their first call
after an install or an edit (about 6 s alone; 17 s on a service's first start, beside the
tracker's compilation) and loaded from numba's cache by every later
process (about 0.2 s). :meth:`Assessor.prepare` calls :func:`warm_kernels` once per
process, so the live service pays it on its warning thread at start-up, not in its first
cycle: a throwaway assessor, sharing the raster, assesses a few tracks at the
Poland-Belarus border (walks over both layers, crossings refined to the border edges)
against a circle zone and a cut one (the cone index, the zone geometry).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import numpy as np

from ..airspace.borders import Borders
from .raster import NationRaster


class _Assessor(Protocol):
    """What the warm-up uses of an assessor (the warm-up is called from the assessor's
    module, so it does not import that module back): its borders and raster, and its
    class, to make the throwaway."""

    borders: Borders

    @property
    def raster(self) -> NationRaster: ...

_lock = threading.RLock()  # the throwaway's own prepare() comes back here
_done = False


def warm_kernels(assessor: _Assessor) -> float:
    """Assess a few synthetic tracks with a throwaway assessor that shares ``assessor``'s
    borders and raster, the first time in this process; return the seconds it took."""
    global _done
    if _done:  # every cycle's prepare() comes here: nothing more to do
        return 0.0
    from ..airspace import geometry
    from ..airspace.zones import Limit, Zone
    from .columns import TrackColumns

    began = time.perf_counter()
    with _lock:
        if _done:
            return 0.0
        _done = True
        # a circle zone and, ahead of the first drone, a square one (cut into triangles)
        zones = [Zone(id="warm", name="warm-up zone", type="restricted",
                      geometry=geometry.circle(52.10, 23.40, 5000.0),
                      circle=(52.10, 23.40, 5000.0), applies="all", ceiling=Limit(3000.0)),
                 Zone(id="warm-cut", name="warm-up cut zone", type="restricted",
                      geometry=geometry.polygon([[(52.05, 23.60), (52.05, 23.65),
                                                  (52.11, 23.65), (52.11, 23.60)]]),
                      applies="all", ceiling=Limit(3000.0))]
        throwaway = type(assessor)(assessor.borders, zones, threads=1)
        throwaway._raster = assessor.raster
        # Poland-Belarus border near Terespol: drones across it both ways, one along it,
        # an aircraft from further off
        lat = np.array([52.08, 52.08, 52.30, 51.60])
        lon = np.array([23.30, 23.80, 23.55, 21.50])
        heading = np.radians([90.0, 270.0, 0.0, 80.0])
        speed = np.array([40.0, 40.0, 30.0, 200.0])
        n = lat.size
        now = 1_757_540_000.0
        throwaway.assess(TrackColumns(
            track_id=np.array([f"warm-{i}" for i in range(n)]), time=np.full(n, now),
            lat=lat, lon=lon, alt=np.array([300.0, 300.0, 200.0, 8000.0]),
            vel=np.column_stack([speed * np.sin(heading), speed * np.cos(heading),
                                 np.zeros(n)]),
            sigma_h=np.full(n, 100.0), cls=np.array(["drone"] * 3 + ["aircraft"]),
            identity=np.array(["unknown"] * n), cooperative=np.zeros(n, bool)), now)
    return time.perf_counter() - began
