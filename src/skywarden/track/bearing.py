"""Bearing-only initiation: triangulate new tracks from bearings of two sensors.

A bearing (acoustic sensor, RF direction finder) gives only an azimuth from its site, so
one bearing cannot start a track; it can update an existing one (measure.py, kind
``bearing``). Bearings no track claims wait here for ``bearing_span`` seconds. Two of
them from different sensors whose rays cross, in front of both sensors and inside both
coverages, at an angle of at least ``bearing_min_crossing``, give a point:

    s_a + alpha d_a = s_b + beta d_b,   alpha, beta > 0       (in the ENU plane of a)

with d = (sin az, cos az). Its horizontal covariance is the inverse Fisher information of
the two azimuths (the geometry's bound):

    J_i = d az_i / d(e, n) = (n_i, -e_i) / rho_i^2,    Cov = (sum_i J_i^T J_i / s_i^2)^-1

so a wide crossing is tight and a shallow one is long along the rays. The height is the
sensor's altitude plus ``bearing_assumed_height`` (acoustic sensors hear low targets),
with a broad vertical spread. Bearings are used once: pairs are taken greedily, widest
crossing first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .associate import project
from .config import TrackerConfig
from .measure import Measurements

# Spread added per second of time between the two bearings (m/s): targets heard by
# acoustic sensors are slow (drones, helicopters, cruise missiles low).
BEARING_TARGET_SPEED = 60.0
VERTICAL_SIGMA = 500.0


@dataclass(slots=True)
class BearingBuffer:
    """Unclaimed bearings of the last few seconds, as columns."""

    time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sensor: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    site: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    rot: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 3)))
    az: np.ndarray = field(default_factory=lambda: np.zeros(0))
    var: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reach: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hint: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def add(self, m: Measurements, j: np.ndarray) -> None:
        self.time = np.concatenate([self.time, m.time[j]])
        self.sensor = np.concatenate([self.sensor, m.sensor[j]])
        self.site = np.concatenate([self.site, m.origin[j]])
        self.rot = np.concatenate([self.rot, m.rot[j]])
        self.az = np.concatenate([self.az, m.z[j, 0]])
        self.var = np.concatenate([self.var, m.var[j, 0]])
        self.reach = np.concatenate([self.reach, m.reach[j]])
        self.hint = np.concatenate([self.hint, m.class_hint[j]])

    def keep(self, rows: np.ndarray) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name)[rows])


@dataclass(slots=True)
class Fix:
    """Triangulated points: ECEF position, its covariance, time, and the class hint."""

    point: np.ndarray  # (k, 3)
    cov: np.ndarray  # (k, 3, 3)
    time: np.ndarray  # (k,)
    hint: np.ndarray  # (k,) object


def triangulate_pairs(buf: BearingBuffer, now: float, cfg: TrackerConfig) -> Fix:
    """Drop bearings older than the span, triangulate what pairs, remove used bearings."""
    buf.keep(np.flatnonzero(buf.time >= now - cfg.bearing_span))
    n = len(buf)
    empty = Fix(np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros(0), np.zeros(0, dtype=object))
    if n < 2:
        return empty
    tree = cKDTree(project(buf.site))
    pairs = tree.query_pairs(2.0 * float(buf.reach.max()), output_type="ndarray")
    if pairs.shape[0] == 0:
        return empty
    a, b = pairs[:, 0], pairs[:, 1]
    ok = (buf.sensor[a] != buf.sensor[b]) & (np.abs(buf.time[a] - buf.time[b]) <= cfg.bearing_span)
    a, b = a[ok], b[ok]
    if a.size == 0:
        return empty
    e_a, cov2, sin_cross, valid = _intersect(buf, a, b)
    valid &= sin_cross >= np.sin(np.radians(cfg.bearing_min_crossing))
    a, b, e_a, cov2, sin_cross = a[valid], b[valid], e_a[valid], cov2[valid], sin_cross[valid]
    used = np.zeros(n, dtype=bool)
    chosen: list[int] = []
    for p in np.argsort(-sin_cross).tolist():
        if used[a[p]] or used[b[p]]:
            continue
        used[a[p]] = used[b[p]] = True
        chosen.append(p)
    if not chosen:
        return empty
    c = np.array(chosen, dtype=np.int64)
    a, b = a[c], b[c]
    dt = np.abs(buf.time[a] - buf.time[b])
    cov_enu = np.zeros((c.size, 3, 3))
    cov_enu[:, :2, :2] = cov2[c] + ((BEARING_TARGET_SPEED * dt) ** 2)[:, None, None] * np.eye(2)
    cov_enu[:, 2, 2] = VERTICAL_SIGMA**2
    enu = np.zeros((c.size, 3))
    enu[:, :2] = e_a[c]
    enu[:, 2] = cfg.bearing_assumed_height
    rot = buf.rot[a]
    point = buf.site[a] + np.einsum("nji,nj->ni", rot, enu)
    cov = np.swapaxes(rot, 1, 2) @ cov_enu @ rot
    time = np.maximum(buf.time[a], buf.time[b])
    hint = np.where(buf.hint[a] != "", buf.hint[a], buf.hint[b])
    buf.keep(np.flatnonzero(~used))
    return Fix(point, cov, time, hint)


def _intersect(
    buf: BearingBuffer, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ray crossings of bearing pairs in the ENU plane of sensor a.

    Returns the crossing (k, 2) relative to site a, its 2x2 covariance, |sin| of the
    crossing angle, and whether the crossing lies ahead of both sensors within reach.
    """
    rot_a = buf.rot[a]
    sb = np.einsum("nij,nj->ni", rot_a, buf.site[b] - buf.site[a])[:, :2]
    da = np.stack([np.sin(buf.az[a]), np.cos(buf.az[a])], axis=1)
    db_local = np.stack([np.sin(buf.az[b]), np.cos(buf.az[b]), np.zeros(a.size)], axis=1)
    db_ecef = np.einsum("nji,nj->ni", buf.rot[b], db_local)
    db = np.einsum("nij,nj->ni", rot_a, db_ecef)[:, :2]
    db /= np.linalg.norm(db, axis=1, keepdims=True)
    # Solve alpha da - beta db = sb by Cramer's rule.
    det = -da[:, 0] * db[:, 1] + da[:, 1] * db[:, 0]
    safe = np.where(np.abs(det) > 1e-9, det, 1e-9)
    alpha = (-sb[:, 0] * db[:, 1] + sb[:, 1] * db[:, 0]) / safe
    beta = (da[:, 0] * sb[:, 1] - da[:, 1] * sb[:, 0]) / safe
    valid = (
        (np.abs(det) > 1e-9)
        & (alpha > 0)
        & (beta > 0)
        & (alpha <= 1.2 * buf.reach[a])
        & (beta <= 1.2 * buf.reach[b])
    )
    p = alpha[:, None] * da
    cov = bearing_fix_covariance(
        np.stack([p, p - sb], axis=1), np.stack([buf.var[a], buf.var[b]], axis=1)
    )
    return p, cov, np.abs(det), valid


def bearing_fix_covariance(rel: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Inverse Fisher information of k azimuths of one point: (n, 2, 2).

    ``rel`` (n, k, 2) is the point relative to each site (east, north), ``var`` (n, k) the
    azimuth variances (rad^2).
    """
    e, nn = rel[..., 0], rel[..., 1]
    rho2 = np.maximum(e * e + nn * nn, 1.0)
    J = np.stack([nn / rho2, -e / rho2], axis=-1)  # (n, k, 2)
    info = np.einsum("nki,nkj,nk->nij", J, J, 1.0 / var)
    return np.linalg.inv(info)
