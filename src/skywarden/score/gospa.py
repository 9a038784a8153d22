"""GOSPA core: the optimal assignment and the GOSPA of one step.

See the package docstring of :mod:`skywarden.score` for the definitions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .. import geo
from ..errors import ConfigError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class GospaStep:
    """GOSPA of one step. ``pairs_*`` are the assigned (truth, track) indices and their
    distances (m); ``loc`` is sum d^p over them; ``missed``/``false`` count unassigned
    truths and tracks."""

    distance: float
    loc: float
    missed: int
    false: int
    pairs_truth: IntArray
    pairs_track: IntArray
    pairs_d: FloatArray


def _check_params(c: float, p: float, alpha: float) -> None:
    if not (math.isfinite(c) and c > 0):
        raise ConfigError(f"GOSPA cut-off c must be a positive distance in metres (got {c})")
    if not (math.isfinite(p) and p >= 1):
        raise ConfigError(f"GOSPA order p must be >= 1 (got {p})")
    if not 0 < alpha <= 2:
        raise ConfigError(f"GOSPA alpha must be in (0, 2] (got {alpha})")


def assign(
    n_truth: int, n_track: int, i: IntArray, j: IntArray, d: FloatArray, c: float, p: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Optimal GOSPA assignment from the candidate pairs (i, j) at distances d (all < c).

    Minimises sum over assigned pairs of (d^p - c^p), each truth and track used once.
    Groups of truths and tracks linked by candidate pairs are solved separately: a lone
    pair directly, larger groups with ``linear_sum_assignment``.
    """
    if d.size == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy(), np.zeros(0)
    graph = coo_matrix((np.ones(d.size), (i, n_truth + j)), shape=(n_truth + n_track,) * 2)
    _, label = connected_components(graph, directed=False)
    comp = label[i]
    n_t = np.bincount(label[:n_truth], minlength=label.max() + 1)
    n_k = np.bincount(label[n_truth:], minlength=label.max() + 1)
    lone = (n_t[comp] == 1) & (n_k[comp] == 1)  # one truth, one track: the only edge
    out_i, out_j, out_d = [i[lone]], [j[lone]], [d[lone]]
    rest = np.flatnonzero(~lone)
    rest = rest[np.argsort(comp[rest], kind="stable")]
    cp = c**p
    for group in np.split(rest, np.flatnonzero(np.diff(comp[rest])) + 1):
        if group.size == 0:
            continue
        ti, ri = np.unique(i[group], return_inverse=True)
        tj, rj = np.unique(j[group], return_inverse=True)
        cost = np.full((ti.size, tj.size), cp)
        cost[ri, rj] = d[group] ** p
        rows, cols = linear_sum_assignment(cost)
        ok = cost[rows, cols] < cp  # "assigned" at cost c^p is a miss plus a false track
        dist = np.full((ti.size, tj.size), np.inf)
        dist[ri, rj] = d[group]
        out_i.append(ti[rows[ok]])
        out_j.append(tj[cols[ok]])
        out_d.append(dist[rows[ok], cols[ok]])
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)


def gospa_from_pairs(
    n_truth: int, n_track: int, i: IntArray, j: IntArray, d: FloatArray,
    *, c: float, p: float, alpha: float,
) -> GospaStep:
    """GOSPA of one step from candidate pairs; pairs at d >= c are ignored."""
    near = d < c
    ai, aj, ad = assign(n_truth, n_track, i[near], j[near], d[near], c, p)
    k = ad.size
    loc = float(np.sum(ad**p))
    card = c**p * (min(n_truth, n_track) - k) + c**p / alpha * abs(n_truth - n_track)
    return GospaStep((loc + card) ** (1.0 / p), loc, n_truth - k, n_track - k, ai, aj, ad)


def gospa(distances: ArrayLike, *, c: float = 1000.0, p: float = 2.0, alpha: float = 2.0) -> float:
    """GOSPA from a dense (truths x tracks) distance matrix in metres; for checks by hand."""
    _check_params(c, p, alpha)
    dm = np.atleast_2d(np.asarray(distances, dtype=np.float64))
    i, j = np.nonzero(np.isfinite(dm))
    return gospa_from_pairs(dm.shape[0], dm.shape[1], i, j, dm[i, j], c=c, p=p, alpha=alpha).distance


def _surface(lat: FloatArray, lon: FloatArray) -> FloatArray:
    return geo.geodetic_to_ecef(lat, lon, 0.0).reshape(-1, 3)


def gospa_positions(
    truth_lat: ArrayLike, truth_lon: ArrayLike, truth_alt: ArrayLike,
    track_lat: ArrayLike, track_lon: ArrayLike, track_alt: ArrayLike,
    *, c: float = 1000.0, p: float = 2.0, alpha: float = 2.0,
) -> GospaStep:
    """GOSPA of one step from positions (degrees, metres; track altitude NaN for 2-D).

    Candidate pairs come from a k-d tree over the points' feet on the ellipsoid, so the
    cost is near-linear in the number of targets.
    """
    _check_params(c, p, alpha)
    t_lat, t_lon, t_alt = (np.atleast_1d(np.asarray(v, np.float64)) for v in
                           (truth_lat, truth_lon, truth_alt))
    k_lat, k_lon, k_alt = (np.atleast_1d(np.asarray(v, np.float64)) for v in
                           (track_lat, track_lon, track_alt))
    m, n = t_lat.size, k_lat.size
    if m and n:
        pairs = cKDTree(_surface(t_lat, t_lon)).sparse_distance_matrix(
            cKDTree(_surface(k_lat, k_lon)), c, output_type="ndarray"
        )
        i, j, h = pairs["i"].astype(np.intp), pairs["j"].astype(np.intp), pairs["v"]
        dv = k_alt[j] - t_alt[i]
        d = np.hypot(h, np.where(np.isnan(dv), 0.0, dv))
    else:
        i = j = np.zeros(0, dtype=np.intp)
        d = np.zeros(0)
    return gospa_from_pairs(m, n, i, j, d, c=c, p=p, alpha=alpha)
