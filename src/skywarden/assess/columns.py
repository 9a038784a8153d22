"""The assessor's input from producers other than the tracker: tracks as columns.

Its own module so that the warm-up (:mod:`.warm`), which the assessor calls, can build
one without importing the assessor's module back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(slots=True)
class TrackColumns:
    """Tracks as columns, for producers other than the tracker (one row per track).

    ``vel``: (n, 3) east, north, up m/s (NaN rows: no velocity); ``alt`` metres MSL, NaN
    unknown; ``cls`` and ``identity`` strings as in the track format (unknown values read
    as ``unknown``); ``sigma_vel``: 1-sigma horizontal velocity error per axis, m/s, NaN
    where not known (the heading uncertainty then comes from the class allowance alone);
    ``class_confidence``: the confidence in ``cls``, 0-1, NaN or None where not known (a
    response rule with ``class_confidence_min`` then does not hold).
    """

    track_id: NDArray[np.str_]
    time: FloatArray
    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    vel: FloatArray
    sigma_h: FloatArray
    cls: NDArray[np.str_]
    identity: NDArray[np.str_]
    cooperative: NDArray[np.bool_]
    sigma_vel: FloatArray | None = None
    class_confidence: FloatArray | None = None

    def __len__(self) -> int:
        return int(np.asarray(self.time).shape[0])
