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
with a broad vertical spread.

Ghosts. Two bearings of two different targets cross too, and two sensors alone cannot
tell that crossing from a target's: with k targets heard by both there are up to k^2
crossings, k of them real. Pairs used to be taken greedily, widest crossing first, and a
ghost crossing is often wider than the true ones (it lies nearer the sensors). So bearings
are grouped: two bearings whose rays cross (as above, with class hints that do not
differ) are linked, and a connected group is one target only when every crossing in it
lies where its tightest crossing lies (chi-square gate on the two crossings'
covariances, widened by what a target flies between their times). Such a group gives one
fix, at its tightest crossing, and all its bearings are used (they are repeated looks at
that target: left in the buffer they could pair into a second fix of it). A group
whose crossings lie in two places or more is ambiguous: its bearings wait, for a track to
claim some of them or for the group to thin out, and are dropped after ``bearing_span``.
On mass-attack's acoustic bearings alone (drone streams over the picket lines near
Izmail, three or four drones heard by each sensor at once) fixes more than 1 km from any
target went from 38 of 1,116 to 28 of 1,001, more than 0.5 km from 242 to 211.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import lsap
from .associate import project
from .config import TrackerConfig
from .filter import chi2_gate, mahalanobis2
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
    # imported here: scipy.spatial adds about 0.13 s to every start, and only inputs with
    # bearings (acoustic nets, direction finders) come this far
    from scipy.spatial import cKDTree

    tree = cKDTree(project(buf.site))
    pairs = tree.query_pairs(2.0 * float(buf.reach.max()), output_type="ndarray")
    if pairs.shape[0] == 0:
        return empty
    a, b = pairs[:, 0], pairs[:, 1]
    ok = (buf.sensor[a] != buf.sensor[b]) & (np.abs(buf.time[a] - buf.time[b]) <= cfg.bearing_span)
    # Bearings whose sensors name different classes (a rotor, a two-stroke engine) are of
    # different targets.
    ha, hb = buf.hint[a], buf.hint[b]
    ok &= (ha == "") | (hb == "") | (ha == hb)
    a, b = a[ok], b[ok]
    if a.size == 0:
        return empty
    e_a, cov2, sin_cross, valid = _intersect(buf, a, b)
    valid &= sin_cross >= np.sin(np.radians(cfg.bearing_min_crossing))
    a, b, e_a, cov2 = a[valid], b[valid], e_a[valid], cov2[valid]
    if a.size == 0:
        return empty
    dt = np.abs(buf.time[a] - buf.time[b])
    cov2 = cov2 + ((BEARING_TARGET_SPEED * dt) ** 2)[:, None, None] * np.eye(2)
    c, used = _unambiguous(buf, a, b, e_a, cov2, cfg)
    if not c.size:
        return empty
    a, b = a[c], b[c]
    cov_enu = np.zeros((c.size, 3, 3))
    cov_enu[:, :2, :2] = cov2[c]
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


def _unambiguous(
    buf: BearingBuffer,
    a: np.ndarray,
    b: np.ndarray,
    e_a: np.ndarray,
    cov2: np.ndarray,
    cfg: TrackerConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """The crossings to start tracks from, one per unambiguous group (module docstring),
    as indices into the pairs (a, b), and the bearings those groups use (a mask over the
    buffer). ``e_a`` is each crossing in the east-north plane of its bearing a's site,
    ``cov2`` its 2x2 covariance (motion between the two times included)."""
    n = len(buf)
    label = lsap.components(n, a, b)
    # Crossings in one frame (ECEF, at the sites' height: the plane is a few km wide).
    enu = np.zeros((a.size, 3))
    enu[:, :2] = e_a
    point = buf.site[a] + np.einsum("nji,nj->ni", buf.rot[a], enu)
    group = label[a]
    tight = np.trace(cov2, axis1=1, axis2=2)
    # The tightest crossing of each group is its candidate fix.
    order = np.lexsort((tight, group))
    first = np.r_[True, np.diff(group[order]) != 0]
    best = np.full(int(label.max()) + 1, -1, dtype=np.int64)
    best[group[order[first]]] = order[first]
    ref = best[group]
    # Every crossing of the group must lie at the candidate: the east-north separation
    # (in the candidate's plane) within the chi-square gate of the two crossings'
    # covariances, widened by what a target flies between their times.
    sep = np.einsum("nij,nj->ni", buf.rot[a[ref]], point - point[ref])[:, :2]
    t_pair = np.maximum(buf.time[a], buf.time[b])
    flight = BEARING_TARGET_SPEED * np.abs(t_pair - t_pair[ref])
    S = cov2 + cov2[ref] + (flight**2)[:, None, None] * np.eye(2)
    d2 = mahalanobis2(S, sep)
    inside = d2 <= chi2_gate(cfg.gate_probability, 2)
    ambiguous = np.zeros(best.size, dtype=bool)
    ambiguous[group[~inside]] = True
    chosen = np.flatnonzero((best >= 0) & ~ambiguous)
    used = np.zeros(n, dtype=bool)
    linked = np.zeros(n, dtype=bool)
    linked[a] = linked[b] = True
    used[linked & np.isin(label, chosen)] = True
    return best[chosen], used


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
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:  # a flat information (mahalanobis2 says when)
        return np.linalg.pinv(info, hermitian=True)
