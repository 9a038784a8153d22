"""Gating candidates and global-nearest-neighbour assignment.

Gate, in two stages:

1. **Spatial pre-gate** (this module): a pair (track i, detection j) can pass the
   chi-square gate only if their horizontal separation is at most
   ``k (sigma_i + sigma_j) + margin`` with k = sqrt(chi2 gate), sigma_i the track's
   position spread (plus its motion over the window), sigma_j the detection's. Points
   are projected radially onto a sphere, where horizontal separation never grows, and
   searched (kernels.ball_pairs) in a hashed uniform grid, the detections bucketed by
   radius, so one 3 km citizen report does not widen every search; a small window's
   pairs (a few hundred tracks, dozens of plots) are all tested instead, which is
   quicker there and finds the same pairs. This never drops a
   pair that lies inside the Mahalanobis gate: ``|r| <= sqrt(chi2 * lambda_max(S))``.
2. **Chi-square gate** (filter.innovate) on the candidate pairs only.

The tracker runs both stages, and its coverage and kinematic gates after them, in one
compiled call (kernels.gate_pairs), the same steps as candidate_pairs and project here.

Associate: global nearest neighbour, one detection per track per sensor scan. The gated
pairs form a bipartite graph between (track, sensor) keys and detections; its connected
components (independent gated clusters) are solved separately, a lone pair directly and a
contested cluster by linear sum assignment (lsap.py: scipy's method, compiled) on

    | c_11 ... c_1m  miss_1   inf   ... |
    |  ...            inf    miss_2 ... |      c_ij = d^2_ij (+ penalty if i tentative)
    | c_n1 ... c_nm   ...     ...  miss_n|

where the diagonal block lets a track stay unassigned at cost ``miss_i``.
"""

from __future__ import annotations

import numpy as np

from ..geo import row_norm
from . import kernels, lsap

SPHERE_RADIUS = 6371000.0
# Projection slack: geodetic vs geocentric normals differ by up to 0.19 deg (35 m at
# 10 km altitude), and time rounding; a generous constant costs nothing.
MARGIN = 200.0
# Bucket edges (m) for the detections' search radii.
BUCKETS = np.array([2000.0, 10000.0, 50000.0])
# Relative slack on each pair's reach: the search compares squared distances, which may
# round a pair at exactly its reach the other way than |d| <= reach would; a pair too
# many costs one chi-square test, a pair too few a missed association.
SLACK = 1e-9
_BIG = 1.0e12


def project(points: np.ndarray) -> np.ndarray:
    """ECEF points (N, 3) radially onto the sphere of radius SPHERE_RADIUS."""
    norm = row_norm(points, keepdims=True)
    return points * (SPHERE_RADIUS / np.maximum(norm, 1.0))


def candidate_pairs(
    track_points: np.ndarray,
    track_reach: np.ndarray,
    det_points: np.ndarray,
    det_reach: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i into tracks, j into detections) with horizontal separation within
    ``track_reach[i] + det_reach[j] + MARGIN`` (points already projected), ordered by
    track, then detection."""
    i, j = kernels.ball_pairs(
        np.ascontiguousarray(track_points, dtype=np.float64),
        np.ascontiguousarray(track_reach, dtype=np.float64),
        np.ascontiguousarray(det_points, dtype=np.float64),
        np.ascontiguousarray(det_reach, dtype=np.float64),
        MARGIN,
        SLACK,
        BUCKETS,
    )
    # A fixed order: ties downstream (a track's two plots of the same time, equal gate
    # costs) are then broken the same way whatever order the search found the pairs in.
    order = np.lexsort((j, i))
    return i[order], j[order]


def assign(key: np.ndarray, det: np.ndarray, cost: np.ndarray, miss: np.ndarray) -> np.ndarray:
    """Global-nearest-neighbour choice among gated pairs; returns a boolean mask of pairs.

    ``key`` identifies the (track, sensor) of each pair, ``det`` its detection; each key
    and each detection is used at most once. ``miss[p]`` is the cost of leaving pair p's
    key unassigned (only its value for the key matters).
    """
    return lsap.gnn(np.ascontiguousarray(key, dtype=np.int64),
                    np.ascontiguousarray(det, dtype=np.int64),
                    np.ascontiguousarray(cost, dtype=np.float64),
                    np.ascontiguousarray(miss, dtype=np.float64), _BIG)
