"""Compiled (numba) kernels for the tracker's numeric core: the filter's predict,
measurement residuals, innovation covariance and gate distance, and update; the
spatial pre-gate's search for pairs within reach; the update rounds, which apply a
window's associated detections to their tracks (Tracker._update_rounds); the
association gate, from the pre-gate to the assignment's costs (Tracker._gated_pairs);
and the spoof check's strike counts (cooperative.spoof_check).

The filter works on stacks of small matrices (x (N, 6), P (N, 6, 6), H (N, 3, 6)). In
numpy every 3x3 block product is its own pass over the whole stack with its own
temporaries, so a prediction is some thirty passes over N; here each row is done in one
pass with explicit loops over its small matrices, in registers and a few stack scratch
arrays. The maths is exactly that of motion.py and filter.py, where it is documented;
only the order of the floating-point operations differs (results agree to ~1e-15
relative), except in the update rounds' own helpers and the association gate, which
keep numpy's order (the gate but for the posterior ground speed, which it only
compares with a limit; see there).

``cache=True`` keeps the compiled code in ``__pycache__`` beside this file (or numba's
user cache when that is not writable), so only the first run after an install or an
edit pays the compilation (seconds); later runs load it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from ..geo import A, B

_INV_A2 = 1.0 / (A * A)
_INV_B2 = 1.0 / (B * B)


@njit(cache=True, inline="always")
def _local_up(px: float, py: float, pz: float) -> tuple[float, float, float]:
    # motion.local_up, one point.
    gx, gy, gz = px * _INV_A2, py * _INV_A2, pz * _INV_B2
    n = np.sqrt(gx * gx + gy * gy + gz * gz)
    return gx / n, gy / n, gz / n


@njit(cache=True)
def _turn_row(ux: float, uy: float, uz: float, omega: float, dt: float,
              R: np.ndarray, S: np.ndarray) -> None:
    """The turn blocks of motion.predict_turn for one row, into R and S (3, 3)."""
    # K, the cross-product matrix of u, and K^2 (as K @ K: the zero terms add nothing).
    K = ((0.0, -uz, uy), (uz, 0.0, -ux), (-uy, ux, 0.0))
    K2 = ((-uz * uz - uy * uy, uy * ux, uz * ux),
          (ux * uy, -uz * uz - ux * ux, uz * uy),
          (ux * uz, uy * uz, -uy * uy - ux * ux))
    th = omega * dt
    if abs(th) < 1e-4:
        a = omega * dt * dt / 2.0
        b = omega * omega * dt**3 / 6.0
    else:
        a = (1.0 - np.cos(th)) / omega
        b = dt - np.sin(th) / omega
    s, c1 = np.sin(th), 1.0 - np.cos(th)
    for i in range(3):
        for j in range(3):
            eye = 1.0 if i == j else 0.0
            R[i, j] = eye + s * K[i][j] + c1 * K2[i][j]
            S[i, j] = dt * eye + a * K[i][j] + b * K2[i][j]


@njit(cache=True)
def predict(x: np.ndarray, P: np.ndarray, dt: np.ndarray, qa: np.ndarray,
            omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """motion.predict_ncv where omega is 0, motion.predict_turn elsewhere (the turn model
    with omega = 0 is exactly NCV: R = I, S = dt I)."""
    n = x.shape[0]
    xn = np.empty_like(x)
    Pn = np.empty_like(P)
    R = np.empty((3, 3))
    S = np.empty((3, 3))
    SC = np.empty((3, 3))
    BSC = np.empty((3, 3))
    RC = np.empty((3, 3))
    for k in range(n):
        d = dt[k]
        ad = abs(d)
        q3 = ad**3 / 3.0
        # Q(|dt|) of the NCV model (motion.predict_ncv), its cross term taking dt's sign
        # (0 at dt = 0).
        q2 = ad**2 / 2.0 * np.sign(d)
        Pk, Nk, Q = P[k], Pn[k], qa[k]
        w = omega[k]
        if w == 0.0:
            for i in range(3):
                xn[k, i] = x[k, i] + d * x[k, 3 + i]
                xn[k, 3 + i] = x[k, 3 + i]
                for j in range(3):
                    Nk[i, j] = (Pk[i, j] + d * (Pk[i, 3 + j] + Pk[j, 3 + i])
                                + d * d * Pk[3 + i, 3 + j] + q3 * Q[i, j])
                    b = Pk[i, 3 + j] + d * Pk[3 + i, 3 + j] + q2 * Q[i, j]
                    Nk[i, 3 + j] = b
                    Nk[3 + j, i] = b
                    Nk[3 + i, 3 + j] = Pk[3 + i, 3 + j] + ad * Q[i, j]
            continue
        ux, uy, uz = _local_up(x[k, 0], x[k, 1], x[k, 2])
        _turn_row(ux, uy, uz, w, d, R, S)
        # A' = A + S B^T + B S^T + S C S^T,  B' = (B + S C) R^T,  C' = R C R^T.
        for i in range(3):
            for j in range(3):
                sc = 0.0
                rc = 0.0
                for m in range(3):
                    sc += S[i, m] * Pk[3 + m, 3 + j]
                    rc += R[i, m] * Pk[3 + m, 3 + j]
                SC[i, j] = sc
                RC[i, j] = rc
                BSC[i, j] = Pk[i, 3 + j] + sc
        for i in range(3):
            xs = x[k, i]
            xv = 0.0
            for m in range(3):
                xs += S[i, m] * x[k, 3 + m]
                xv += R[i, m] * x[k, 3 + m]
            xn[k, i] = xs
            xn[k, 3 + i] = xv
            for j in range(3):
                a = Pk[i, j] + q3 * Q[i, j]
                b = q2 * Q[i, j]
                c = ad * Q[i, j]
                for m in range(3):
                    # S B^T + B S^T + S C S^T
                    a += S[i, m] * Pk[j, 3 + m] + Pk[i, 3 + m] * S[j, m] + SC[i, m] * S[j, m]
                    b += BSC[i, m] * R[j, m]
                    c += RC[i, m] * R[j, m]
                Nk[i, j] = a
                Nk[i, 3 + j] = b
                Nk[3 + j, i] = b
                Nk[3 + i, 3 + j] = c
    return xn, Pn


@njit(cache=True, inline="always")
def _inv3_row(S: np.ndarray, inv: np.ndarray) -> float:
    """Inverse of one 3x3 matrix by cofactors, into inv; returns the determinant."""
    a, b, c = S[0, 0], S[0, 1], S[0, 2]
    d, e, f = S[1, 0], S[1, 1], S[1, 2]
    g, h, i = S[2, 0], S[2, 1], S[2, 2]
    A_, B_, C_ = e * i - f * h, -(d * i - f * g), d * h - e * g
    det = a * A_ + b * B_ + c * C_
    # A singular S means a degenerate geometry (a target exactly at a site); a tiny
    # floor keeps the pair's distance huge instead of producing NaN.
    safe = det if abs(det) > 1e-300 else 1e-300
    inv[0, 0], inv[1, 0], inv[2, 0] = A_ / safe, B_ / safe, C_ / safe
    inv[0, 1] = -(b * i - c * h) / safe
    inv[1, 1] = (a * i - c * g) / safe
    inv[2, 1] = -(a * h - b * g) / safe
    inv[0, 2] = (b * f - c * e) / safe
    inv[1, 2] = -(a * f - c * d) / safe
    inv[2, 2] = (a * e - b * d) / safe
    return det


@njit(cache=True)
def innovation_stats(P: np.ndarray, H: np.ndarray, var: np.ndarray, r: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """S = H P H^T + diag(var), S^-1, |S| and d^2 = r^T S^-1 r per row."""
    n = P.shape[0]
    S = np.empty((n, 3, 3))
    Sinv = np.empty((n, 3, 3))
    det = np.empty(n)
    d2 = np.empty(n)
    HP = np.empty((3, 6))
    for k in range(n):
        Pk, Hk, Sk = P[k], H[k], S[k]
        for i in range(3):
            for j in range(6):
                acc = 0.0
                for m in range(6):
                    acc += Hk[i, m] * Pk[m, j]
                HP[i, j] = acc
        for i in range(3):
            for j in range(3):
                acc = 0.0
                for m in range(6):
                    acc += HP[i, m] * Hk[j, m]
                Sk[i, j] = acc
            Sk[i, i] += var[k, i]
        det[k] = _inv3_row(Sk, Sinv[k])
        acc = 0.0
        for i in range(3):
            for j in range(3):
                acc += r[k, i] * Sinv[k, i, j] * r[k, j]
        d2[k] = acc
    return S, Sinv, det, d2


@njit(cache=True)
def update(x: np.ndarray, P: np.ndarray, dt: np.ndarray, omega: np.ndarray,
           xm: np.ndarray, Pm: np.ndarray, r: np.ndarray, H: np.ndarray, S: np.ndarray,
           Sinv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x+, P+ of filter.update from the pairs' innovations.

    Forward (dt >= 0): C = P- H^T from the predicted x-, P-. Out of sequence: C = P F^T H^T
    (F with the track's turn rate; omega = 0 gives NCV) from the current x, P. Then
    K = C S^-1, x+ = x0 + K r, P+ = P0 - K S K^T, symmetrised.
    """
    n = x.shape[0]
    xn = np.empty_like(x)
    Pn = np.empty_like(P)
    C = np.empty((6, 3))
    G = np.empty((3, 6))
    K = np.empty((6, 3))
    KS = np.empty((6, 3))
    R = np.empty((3, 3))
    Sb = np.empty((3, 3))
    for k in range(n):
        Hk = H[k]
        if dt[k] >= 0.0:
            x0, P0 = xm[k], Pm[k]
            for i in range(3):
                for j in range(6):
                    G[i, j] = Hk[i, j]
        else:
            x0, P0 = x[k], P[k]
            ux, uy, uz = _local_up(x[k, 0], x[k, 1], x[k, 2])
            _turn_row(ux, uy, uz, omega[k], dt[k], R, Sb)
            # G = H F, F = [[I, S], [0, R]]: G = [H_p, H_p S + H_v R].
            for i in range(3):
                for j in range(3):
                    G[i, j] = Hk[i, j]
                    acc = 0.0
                    for m in range(3):
                        acc += Hk[i, m] * Sb[m, j] + Hk[i, 3 + m] * R[m, j]
                    G[i, 3 + j] = acc
        for i in range(6):
            for j in range(3):
                acc = 0.0
                for m in range(6):
                    acc += P0[i, m] * G[j, m]
                C[i, j] = acc
        for i in range(6):
            for j in range(3):
                acc = 0.0
                for m in range(3):
                    acc += C[i, m] * Sinv[k, m, j]
                K[i, j] = acc
        for i in range(6):
            for j in range(3):
                acc = 0.0
                for m in range(3):
                    acc += K[i, m] * S[k, m, j]
                KS[i, j] = acc
        for i in range(6):
            acc = x0[i]
            for m in range(3):
                acc += K[i, m] * r[k, m]
            xn[k, i] = acc
        Nk = Pn[k]
        for i in range(6):
            for j in range(6):
                acc = P0[i, j]
                for m in range(3):
                    acc -= KS[i, m] * K[j, m]
                Nk[i, j] = acc
        for i in range(6):
            for j in range(i + 1, 6):
                s = 0.5 * (Nk[i, j] + Nk[j, i])
                Nk[i, j] = s
                Nk[j, i] = s
    return xn, Pn


@njit(cache=True)
def acceleration_density(pos: np.ndarray, q_h: float, q_v: float, scale: np.ndarray
                         ) -> np.ndarray:
    """motion.acceleration_density: (q_h I + (q_v - q_h) u u^T) scale, u the local up."""
    n = pos.shape[0]
    qa = np.empty((n, 3, 3))
    for k in range(n):
        u = _local_up(pos[k, 0], pos[k, 1], pos[k, 2])
        for i in range(3):
            for j in range(3):
                eye = q_h if i == j else 0.0
                qa[k, i, j] = (eye + (q_v - q_h) * u[i] * u[j]) * scale[k]
    return qa


@njit(cache=True, inline="always")
def _wrap(a: float) -> float:
    # An angle wrapped to [-pi, pi); numba's float % has Python's sign convention.
    return (a + np.pi) % (2.0 * np.pi) - np.pi


@njit(cache=True)
def innovation(rot: np.ndarray, origin: np.ndarray, z: np.ndarray, mask: np.ndarray,
               kind: np.ndarray, j: np.ndarray, x: np.ndarray,
               position: int, polar: int, bearing: int) -> tuple[np.ndarray, np.ndarray]:
    """measure.innovation: residuals (N, 3) and Jacobians (N, 3, 6) of detections j
    (rows of the measurement columns) at states x; ``position``, ``polar`` and
    ``bearing`` are measure's kind codes."""
    n = j.shape[0]
    res = np.zeros((n, 3))
    H = np.zeros((n, 3, 6))
    d = np.empty(3)
    Jd = np.empty((3, 3))
    for k in range(n):
        q = j[k]
        for i in range(3):
            d[i] = (rot[q, i, 0] * (x[k, 0] - origin[q, 0])
                    + rot[q, i, 1] * (x[k, 1] - origin[q, 1])
                    + rot[q, i, 2] * (x[k, 2] - origin[q, 2]))
        e, nn, u = d[0], d[1], d[2]
        rho2 = max(e * e + nn * nn, 1e-6)
        rho = np.sqrt(rho2)
        r2 = rho2 + u * u
        r = np.sqrt(r2)
        Jd[:] = 0.0
        kd = kind[q]
        if kd == position:
            for i in range(3):
                Jd[i, i] = 1.0
                res[k, i] = -d[i]
        elif kd == polar:
            az = np.arctan2(e, nn)
            el = np.arctan2(u, rho)
            for i in range(3):
                Jd[0, i] = d[i] / r
            Jd[1, 0], Jd[1, 1] = nn / rho2, -e / rho2
            Jd[2, 0] = -e * u / (r2 * rho)
            Jd[2, 1] = -nn * u / (r2 * rho)
            Jd[2, 2] = rho / r2
            res[k, 0] = z[q, 0] - r
            res[k, 1] = _wrap(z[q, 1] - az)
            res[k, 2] = z[q, 2] - el
        elif kd == bearing:
            Jd[0, 0], Jd[0, 1] = nn / rho2, -e / rho2
            res[k, 0] = _wrap(z[q, 0] - np.arctan2(e, nn))
        # Masked components are zero in both; H = [Jd rot, 0].
        for i in range(3):
            if not mask[q, i]:
                res[k, i] = 0.0
                continue
            for c in range(3):
                H[k, i, c] = (Jd[i, 0] * rot[q, 0, c] + Jd[i, 1] * rot[q, 1, c]
                              + Jd[i, 2] * rot[q, 2, c])
    return res, H


@njit(cache=True)
def search_points(x: np.ndarray, P: np.ndarray, t: np.ndarray, q_scale: np.ndarray,
                  omega: np.ndarray, cand: np.ndarray, t_mid: float, half: float,
                  q_max: float, k: float, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The pre-gate's view of tracks ``cand`` for a window centred on ``t_mid`` (half
    width ``half``): each one's straight-line position at t_mid projected radially onto
    the sphere of ``radius`` (associate.project), and its search reach (m)

        k (sqrt(tr P_pos) + |dt| sqrt(tr P_vel) + sqrt(q |dt|^3)) + half v
            + omega v |dt|^2 / 2,       |dt| = |t_mid - t| + half, v = |velocity|,

    the spread of its position over the window, its motion within the window, and
    how far a turn at rate omega bends it off the straight line."""
    n = cand.shape[0]
    pts = np.empty((n, 3))
    reach = np.empty(n)
    for q in range(n):
        i = cand[q]
        dt = t_mid - t[i]
        adt = abs(dt) + half
        px = x[i, 0] + dt * x[i, 3]
        py = x[i, 1] + dt * x[i, 4]
        pz = x[i, 2] + dt * x[i, 5]
        norm = np.sqrt(px * px + py * py + pz * pz)
        f = radius / max(norm, 1.0)
        pts[q, 0], pts[q, 1], pts[q, 2] = px * f, py * f, pz * f
        speed = np.sqrt(x[i, 3] * x[i, 3] + x[i, 4] * x[i, 4] + x[i, 5] * x[i, 5])
        sigma = (np.sqrt(P[i, 0, 0] + P[i, 1, 1] + P[i, 2, 2])
                 + adt * np.sqrt(P[i, 3, 3] + P[i, 4, 4] + P[i, 5, 5])
                 + np.sqrt(q_max * q_scale[i] * adt**3))
        reach[q] = k * sigma + half * speed + 0.5 * abs(omega[i]) * speed * adt**2
    return pts, reach


# Grid cells are keyed by their integer coordinates, 21 bits each (offset to be >= 0).
_CELL_OFFSET = 1 << 20
# Points lie within this of the Earth's centre, so no two are farther apart than twice
# it: a longer search distance finds nothing more, and is cut to that for the grid.
_EARTH_BOUND = 6.4e6
# A track whose search spans more cells than this along an axis tests every point.
_MAX_CELLS_SPAN = 8.0
# Up to this many (track, detection) pairs the pre-gate tests every pair, without a grid:
# a small window's few hundred tracks and dozens of plots (the 200-target scenario:
# 30,000-60,000 pairs, tested at about 1 ns each) cost the grid 60-250 us, a quarter of
# that tested directly. Past some 200,000 pairs the grid is quicker.
_DIRECT_PAIRS = 200_000
# Cell side over the typical search distance (the mean track reach plus the bucket's
# largest detection reach): larger cells mean fewer hash look-ups per track and more
# points per cell to test. 6 was fastest on the 10,000-target scenario and on synthetic
# cases 10x denser (2 cost up to 4x more, 4 1.5x, 8 and 12 up to 1.4x).
_CELL_PER_REACH = 6.0


@njit(cache=True, inline="always")
def _cell_hash(cx: int, cy: int, cz: int, mask: int) -> int:
    # Spatial hash (Teschner et al. 2003); coordinates < 2^21, so no product overflows.
    return ((cx * 73856093) ^ (cy * 19349663) ^ (cz * 83492791)) & mask


@njit(cache=True)
def _reserve(out_i: np.ndarray, out_j: np.ndarray, n: int, extra: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """out_i, out_j with room for ``extra`` more pairs after their first n."""
    if n + extra <= out_i.shape[0]:
        return out_i, out_j
    cap = max(2 * out_i.shape[0], n + extra)
    grown_i = np.empty(cap, dtype=np.int64)
    grown_j = np.empty(cap, dtype=np.int64)
    # (Element loops: numba compiles slice assignment slowly.)
    for q in range(n):
        grown_i[q] = out_i[q]
        grown_j[q] = out_j[q]
    return grown_i, grown_j


@njit(cache=True, inline="always")
def _within(x: float, y: float, z: float, t_reach: float, px: float, py: float, pz: float,
            d_reach: float, margin: float, s1: float) -> bool:
    """The pre-gate's test of one pair (the grid and the direct search both use it, so
    they decide a pair on its boundary alike)."""
    dx, dy, dz = x - px, y - py, z - pz
    lim = (t_reach + d_reach + margin) * s1
    return dx * dx + dy * dy + dz * dz <= lim * lim


@njit(cache=True)
def _direct_pairs(tp: np.ndarray, t_reach: np.ndarray, dp: np.ndarray, d_reach: np.ndarray,
                  margin: float, slack: float) -> tuple[np.ndarray, np.ndarray]:
    """ball_pairs by testing every pair, with the grid's test and its treatment of
    non-finite values (a point or reach that is not a number is within reach of nothing).
    Two passes: count each track's pairs (a branch-free loop the compiler vectorizes),
    then list them for the tracks that have any."""
    nt, nd = tp.shape[0], dp.shape[0]
    px, py, pz = np.empty(nd), np.empty(nd), np.empty(nd)
    for j in range(nd):
        good = np.isfinite(dp[j, 0] + dp[j, 1] + dp[j, 2])
        px[j] = dp[j, 0] if good else np.nan  # NaN: every comparison with it fails
        py[j], pz[j] = dp[j, 1], dp[j, 2]
    s1 = 1.0 + slack
    counts = np.zeros(nt, dtype=np.int64)
    for i in range(nt):
        x, y, z, ti = tp[i, 0], tp[i, 1], tp[i, 2], t_reach[i]
        if not np.isfinite(x + y + z + min(ti, 2.0 * _EARTH_BOUND)):
            continue
        c = 0
        for j in range(nd):
            c += _within(x, y, z, ti, px[j], py[j], pz[j], d_reach[j], margin, s1)
        counts[i] = c
    out_i = np.empty(counts.sum(), dtype=np.int64)
    out_j = np.empty(out_i.shape[0], dtype=np.int64)
    n = 0
    for i in range(nt):
        if counts[i] == 0:
            continue
        x, y, z, ti = tp[i, 0], tp[i, 1], tp[i, 2], t_reach[i]
        for j in range(nd):
            if _within(x, y, z, ti, px[j], py[j], pz[j], d_reach[j], margin, s1):
                out_i[n] = i
                out_j[n] = j
                n += 1
    return out_i, out_j


@njit(cache=True)
def ball_pairs(tp: np.ndarray, t_reach: np.ndarray, dp: np.ndarray, d_reach: np.ndarray,
               margin: float, slack: float, edges: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) with |tp_i - dp_j| <= (t_reach_i + d_reach_j + margin) (1 + slack)
    (reaches >= 0; a point or reach that is not a number is within reach of nothing), in
    no particular order: every pair tested (_direct_pairs) where there are at most
    _DIRECT_PAIRS of them, else searched in a hashed grid (_grid_pairs). Both find the
    same pairs."""
    if tp.shape[0] * dp.shape[0] <= _DIRECT_PAIRS:
        return _direct_pairs(tp, t_reach, dp, d_reach, margin, slack)
    return _grid_pairs(tp, t_reach, dp, d_reach, margin, slack, edges)


@njit(cache=True)
def _grid_pairs(tp: np.ndarray, t_reach: np.ndarray, dp: np.ndarray, d_reach: np.ndarray,
                margin: float, slack: float, edges: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """ball_pairs' pairs searched in a grid.

    The detections are split into buckets by reach (``edges``), so one 3 km citizen
    report does not widen every search. Each bucket's points are hashed into a uniform
    grid of cubes of side _CELL_PER_REACH times the typical search distance (the mean
    track reach plus the bucket's largest detection reach); a track looks in the cells
    that the cube [tp_i - r_i, tp_i + r_i] overlaps, r_i its largest search distance, or
    (a diffuse track, whose cube spans many cells) at every point of the bucket. Points
    are ECEF metres near the Earth's surface: with cells of 12 m or more their
    coordinates fit 21 bits.
    """
    nt, nd = tp.shape[0], dp.shape[0]
    t_mean = 0.0
    count = 0
    for i in range(nt):
        if np.isfinite(t_reach[i]):
            t_mean += min(t_reach[i], 2.0 * _EARTH_BOUND)
            count += 1
    t_mean /= max(count, 1)
    # Bucket of each detection: how many edges lie below its reach.
    nb = edges.shape[0] + 1
    bucket = np.zeros(nd, dtype=np.int64)
    for j in range(nd):
        b = 0
        while b < nb - 1 and edges[b] < d_reach[j]:
            b += 1
        bucket[j] = b
    out_i = np.empty(4 * (nt + nd) + 16, dtype=np.int64)
    out_j = np.empty(4 * (nt + nd) + 16, dtype=np.int64)
    n = 0
    size = 16
    while size < 2 * nd:
        size *= 2
    mask = size - 1
    slot_key = np.empty(size, dtype=np.int64)
    start = np.empty(size + 1, dtype=np.int64)
    slot_of = np.empty(nd, dtype=np.int64)
    members = np.empty(nd, dtype=np.int64)
    for bd in range(nb):
        d_max = 0.0
        any_in = False
        for j in range(nd):
            if bucket[j] == bd:
                any_in = True
                d_max = max(d_max, d_reach[j])  # (a NaN reach is skipped: it matches nothing)
        if not any_in:
            continue
        d_max = min(d_max, 2.0 * _EARTH_BOUND)
        cell = max(_CELL_PER_REACH * (t_mean + d_max + margin),
                   2.0 * _EARTH_BOUND / _CELL_OFFSET)
        inv = 1.0 / cell
        # An open-addressing hash table of the occupied cells (slot_key: the cell's packed
        # coordinates), then the bucket's points listed cell by cell: those of the cell in
        # slot h are members[start[h]:start[h + 1]] (a counting sort).
        slot_key[:] = -1
        start[:] = 0
        for j in range(nd):
            slot_of[j] = -1
            if bucket[j] != bd or not np.isfinite(dp[j, 0] + dp[j, 1] + dp[j, 2]):
                continue  # (a non-finite point is within reach of nothing)
            a = int(np.floor(dp[j, 0] * inv)) + _CELL_OFFSET
            b = int(np.floor(dp[j, 1] * inv)) + _CELL_OFFSET
            c = int(np.floor(dp[j, 2] * inv)) + _CELL_OFFSET
            key = (a << 42) | (b << 21) | c
            h = _cell_hash(a, b, c, mask)
            while slot_key[h] != -1 and slot_key[h] != key:
                h = (h + 1) & mask
            slot_key[h] = key
            start[h + 1] += 1
            slot_of[j] = h
        for h in range(size):
            start[h + 1] += start[h]
        fill = start[:-1].copy()
        for j in range(nd):
            h = slot_of[j]
            if h >= 0:
                members[fill[h]] = j
                fill[h] += 1
        total = start[size]
        for i in range(nt):
            x, y, z = tp[i, 0], tp[i, 1], tp[i, 2]
            r = (min(t_reach[i], 2.0 * _EARTH_BOUND) + d_max + margin) * (1.0 + slack)
            if not np.isfinite(x + y + z + r):
                continue  # a NaN reach or point is within reach of nothing
            if r > _MAX_CELLS_SPAN * cell:
                # Too many cells to look in: test every point, as one "cell".
                x0 = x1 = y0 = y1 = z0 = z1 = -1
            else:
                x0 = int(np.floor((x - r) * inv)) + _CELL_OFFSET
                x1 = int(np.floor((x + r) * inv)) + _CELL_OFFSET
                y0 = int(np.floor((y - r) * inv)) + _CELL_OFFSET
                y1 = int(np.floor((y + r) * inv)) + _CELL_OFFSET
                z0 = int(np.floor((z - r) * inv)) + _CELL_OFFSET
                z1 = int(np.floor((z + r) * inv)) + _CELL_OFFSET
            for a in range(x0, x1 + 1):
                for b in range(y0, y1 + 1):
                    for c in range(z0, z1 + 1):
                        if a < 0:
                            lo, hi = 0, total
                        else:
                            want = (a << 42) | (b << 21) | c
                            h = _cell_hash(a, b, c, mask)
                            while slot_key[h] != -1 and slot_key[h] != want:
                                h = (h + 1) & mask
                            if slot_key[h] == -1:
                                continue
                            lo, hi = start[h], start[h + 1]
                        out_i, out_j = _reserve(out_i, out_j, n, hi - lo)
                        for k in range(lo, hi):
                            j = members[k]
                            if _within(x, y, z, t_reach[i], dp[j, 0], dp[j, 1], dp[j, 2],
                                       d_reach[j], margin, 1.0 + slack):
                                out_i[n] = i
                                out_j[n] = j
                                n += 1
    return out_i[:n].copy(), out_j[:n].copy()


# ---- the tracker's update rounds (Tracker._update_rounds) ---------------------------------
#
# Unlike the kernels above, these reproduce their numpy counterparts to the bit: the same
# operations in the same order (numpy's add.reduce sums three terms as (a + b) + c, its
# einsum as (a + c) + b), so the tracker's output does not depend on which one ran.

_LN_2PI = float(np.log(2.0 * np.pi))


class RoundSettings(NamedTuple):
    """The settings the update rounds use, as floats (TrackerConfig documents them)."""

    q_h: float  # acceleration densities (motion.acceleration_density)
    q_v: float
    nis_memory: float  # adaptive process noise (filter.adapt_process_noise)
    nis_manoeuvre: float
    nis_manoeuvre_precise: float  # ... for a plot within nis_precise_reach
    nis_precise_reach: float
    q_boost: float
    q_decay: float
    q_scale_max: float
    q_precise_reach: float  # its cap from the plot's precision (noise_scale_cap)
    q_noisy_scale_max: float
    turn_memory: float  # turn-rate estimate (motion.estimate_turn_rate); 0: none
    turn_min_speed: float
    turn_max_rate: float  # rad/s
    speed_avg_weight: float  # weights of the newest value in the mean ground speed
    hit_gap_weight: float  # and in the mean time between hits


@njit(cache=True, inline="always")
def _ewma(avg: float, value: float, weight: float) -> float:
    # An exponential average that starts at its first value (NaN: none yet).
    return value if np.isnan(avg) else avg + weight * (value - avg)


@njit(cache=True)
def ground_speed(x: np.ndarray) -> float:
    """motion.ground_speed of one state x (6,): the velocity less its component along
    the local up, its length."""
    ux, uy, uz = _local_up(x[0], x[1], x[2])
    dot = (x[3] * ux + x[5] * uz) + x[4] * uy
    hx, hy, hz = x[3] - dot * ux, x[4] - dot * uy, x[5] - dot * uz
    return np.sqrt(hx * hx + hy * hy + hz * hz)


@njit(cache=True)
def turn_rate(omega: float, v0x: float, v0y: float, v0z: float, x: np.ndarray, dt: float,
              tau: float, min_speed: float, max_rate: float) -> float:
    """motion.estimate_turn_rate of one track: its rate ``omega`` smoothed toward the
    rotation of its horizontal velocity from v0 to that of the state x (6,) in dt."""
    ux, uy, uz = _local_up(x[0], x[1], x[2])
    d0 = (v0x * ux + v0y * uy) + v0z * uz
    ax, ay, az = v0x - d0 * ux, v0y - d0 * uy, v0z - d0 * uz
    d1 = (x[3] * ux + x[4] * uy) + x[5] * uz
    bx, by, bz = x[3] - d1 * ux, x[4] - d1 * uy, x[5] - d1 * uz
    cross = (ux * (ay * bz - az * by) + uy * (az * bx - ax * bz)) + uz * (ax * by - ay * bx)
    angle = np.arctan2(cross, (ax * bx + ay * by) + az * bz)
    ok = dt > 1e-3 and np.sqrt(bx * bx + by * by + bz * bz) >= min_speed
    inst = angle / np.maximum(dt, 1e-3) if ok else 0.0
    gain = 1.0 - np.exp(-np.maximum(dt, 0.0) / tau)
    return np.minimum(np.maximum(omega + gain * (inst - omega), -max_rate), max_rate)


@njit(cache=True)
def adapted_noise(scale: float, nis_avg: float, nis: float, dof: int, memory: float,
                  threshold: float, boost: float, decay: float, scale_max: float
                  ) -> tuple[float, float]:
    """filter.adapt_process_noise of one track: its new scale and mean NIS per dof."""
    avg = memory * nis_avg + (1.0 - memory) * (nis / max(dof, 1))
    if avg > threshold:
        return np.minimum(scale * boost, scale_max), avg
    return np.maximum(scale * decay, 1.0), avg


@njit(cache=True, inline="always")
def manoeuvre_threshold(reach: float, cfg: RoundSettings) -> float:
    """The mean NIS per dof above which a plot of horizontal 1-sigma ``reach`` (m) raises
    its track's process noise: lower for a precise plot, which shows a turn soon
    (TrackerConfig.nis_manoeuvre_precise)."""
    if reach <= cfg.nis_precise_reach:
        return cfg.nis_manoeuvre_precise
    return cfg.nis_manoeuvre


@njit(cache=True)
def noise_scale_cap(reach: float, scale_max: float, precise_reach: float,
                    noisy_max: float) -> float:
    """Bound on the process-noise scale from the precision of a plot:

        cap = clip(scale_max (precise_reach / reach)^2, noisy_max, scale_max)

    with ``reach`` the plot's horizontal 1-sigma (m). A manoeuvre displaces a target by
    a T^2 / 2 in a revisit T; a plot that is uncertain by more cannot show it, and
    boosting the noise then only turns measurement noise (or a neighbour's plot) into
    velocity."""
    ratio = precise_reach / np.maximum(reach, 1e-9)
    return np.minimum(np.maximum(scale_max * ratio * ratio, min(noisy_max, scale_max)),
                      scale_max)


@njit(cache=True)
def track_score_increment(nis: float, det: float, dof: int, ln_pd: float,
                          ln_clutter: float) -> float:
    """Log-likelihood ratio of "target" over "clutter" for one associated detection,
    from its innovation's NIS d^2 and |S|:

        dL = ln Pd + ln N(r; 0, S) - ln lambda
           = ln Pd - dof/2 ln(2 pi) - 1/2 ln|S| - 1/2 d^2 - ln lambda

    with lambda the sensor's false-report density in measurement space, clipped to
    [-10, 30]. A plot that falls where a consistent track predicted it, tightly, scores
    high; one that merely lands in a wide gate scores little. NaN ln lambda (no clutter
    model) scores 0.
    """
    logdet = np.log(np.maximum(det, 1e-300))
    dl = ln_pd - 0.5 * dof * _LN_2PI - 0.5 * logdet - 0.5 * nis - ln_clutter
    return 0.0 if np.isnan(dl) else np.minimum(np.maximum(dl, -10.0), 30.0)


@njit(cache=True)
def velocity_innovation(rot: np.ndarray, vel: np.ndarray, vel_var: np.ndarray,
                        j: np.ndarray, x: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """measure.velocity_innovation: residuals, Jacobians and variances of the velocity
    reports of detections j at states x; a missing component is masked."""
    n = j.shape[0]
    res = np.zeros((n, 3))
    H = np.zeros((n, 3, 6))
    var = np.ones((n, 3))
    for k in range(n):
        q = j[k]
        for i in range(3):
            if not np.isfinite(vel[q, i]):
                continue
            res[k, i] = vel[q, i] - ((rot[q, i, 0] * x[k, 3] + rot[q, i, 2] * x[k, 5])
                                     + rot[q, i, 1] * x[k, 4])
            var[k, i] = vel_var[q, i]
            for c in range(3):
                H[k, i, 3 + c] = rot[q, i, c]
    return res, H, var


@njit(cache=True)
def _predict_pairs(x: np.ndarray, P: np.ndarray, dt: np.ndarray, q_h: float, q_v: float,
                   scale: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """filter.predict: the states moved by dt with each track's turn rate, or copies
    when no dt moves (a velocity report at the time of its position)."""
    for k in range(dt.shape[0]):
        if dt[k] != 0.0:
            return predict(x, P, dt, acceleration_density(x[:, :3], q_h, q_v, scale), omega)
    return x.copy(), P.copy()


@njit(cache=True)
def _apply(x: np.ndarray, P: np.ndarray, t: np.ndarray, tm: np.ndarray, omega: np.ndarray,
           xm: np.ndarray, Pm: np.ndarray, r: np.ndarray, H: np.ndarray, S: np.ndarray,
           Sinv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """filter.update from the pairs' innovations: x+, P+ and the time, tm (out of
    sequence: the track's own)."""
    dt = tm - t
    xn, Pn = update(x, P, dt, omega, xm, Pm, r, H, S, Sinv)
    return xn, Pn, np.where(dt >= 0.0, tm, t)


@njit(cache=True)
def _update_velocities(x: np.ndarray, P: np.ndarray, t: np.ndarray, tm: np.ndarray,
                       j: np.ndarray, scale: np.ndarray, omega: np.ndarray, rot: np.ndarray,
                       vel: np.ndarray, vel_var: np.ndarray, q_h: float, q_v: float) -> None:
    """The second, sequential update of the pairs (rows of x, P, t, in place) whose
    detection j reports a velocity."""
    vs = np.flatnonzero(np.isfinite(vel[j, 0]))
    if not vs.size:
        return
    xv, Pv, tv, tmv, wv = x[vs], P[vs], t[vs], tm[vs], omega[vs]
    xm, Pm = _predict_pairs(xv, Pv, tmv - tv, q_h, q_v, scale[vs], wv)
    r, H, var = velocity_innovation(rot, vel, vel_var, j[vs], xm)
    S, Sinv, _, _ = innovation_stats(Pm, H, var, r)
    xn, Pn, tn = _apply(xv, Pv, tv, tmv, wv, xm, Pm, r, H, S, Sinv)
    for q in range(vs.size):
        k = vs[q]
        x[k] = xn[q]
        P[k] = Pn[q]
        t[k] = tn[q]


@njit(cache=True)
def _round_pairs(start: np.ndarray, r: int) -> np.ndarray:
    """Round r of pairs sorted by track: each track's r-th pair (``start``: where each
    track's pairs begin, and their end)."""
    p = np.empty(start.shape[0] - 1, dtype=np.int64)
    n = 0
    for g in range(start.shape[0] - 1):
        if start[g + 1] - start[g] > r:
            p[n] = start[g] + r
            n += 1
    return p[:n]


@njit(cache=True, nogil=True)
def update_rounds(
    s: np.ndarray, j: np.ndarray, gate_row: np.ndarray,
    xm0: np.ndarray, Pm0: np.ndarray, r0: np.ndarray, H0: np.ndarray, S0: np.ndarray,
    Sinv0: np.ndarray, det0: np.ndarray, d20: np.ndarray,
    x: np.ndarray, P: np.ndarray, t: np.ndarray, omega: np.ndarray, q_scale: np.ndarray,
    nis_avg: np.ndarray, q_cap: np.ndarray, speed_avg: np.ndarray, llr: np.ndarray,
    hit_gap: np.ndarray, t_hit: np.ndarray, hits: np.ndarray, t_radar: np.ndarray,
    radar_hits: np.ndarray, t_coop: np.ndarray, revisit: np.ndarray,
    time: np.ndarray, sensor: np.ndarray, stype: np.ndarray, kind: np.ndarray,
    origin: np.ndarray, rot: np.ndarray, z: np.ndarray, var: np.ndarray, mask: np.ndarray,
    vel: np.ndarray, vel_var: np.ndarray, dof: np.ndarray, reach: np.ndarray,
    ln_pd: np.ndarray, ln_clutter: np.ndarray,
    scan_period: np.ndarray, radar_type: int, is_coop: np.ndarray, cfg: RoundSettings,
    position: int, polar: int, bearing: int,
) -> None:
    """Tracker._update_rounds: apply the pairs (track s, detection j), sorted by track
    and then time, to the track table's columns (x ... revisit, in place).

    Round r updates each track with its r-th pair, all of them as one batch: the EKF
    update of the position (filter.update; round 0 with the gate's innovations, row
    ``gate_row`` of xm0 ... d20, as no track has changed since), then that of the
    velocity where the detection reports one (measure.velocity_innovation); then per
    track its mean ground speed, turn rate, adaptive process noise and its cap, score,
    mean time between hits and the times of its last hits. Last, each track's revisit:
    the shortest scan period of the sensors that updated it. ``position``, ``polar``
    and ``bearing`` are measure's kind codes; the other arguments are the columns of
    the same names of the track table, the measurements and the sensor table.
    """
    if not s.size:
        return
    starts = np.flatnonzero(s[1:] != s[:-1]) + 1
    start = np.empty(starts.size + 2, dtype=np.int64)
    start[0], start[-1] = 0, s.size
    start[1:-1] = starts
    r = 0
    while True:
        p = _round_pairs(start, r)
        if not p.size:
            break
        rs, rj = s[p], j[p]
        x0, P0, t0, tm, w = x[rs], P[rs], t[rs], time[rj], omega[rs]
        if r == 0:
            g = gate_row[p]
            xn, Pn, tn = _apply(x0, P0, t0, tm, w, xm0[g], Pm0[g], r0[g], H0[g], S0[g],
                                Sinv0[g])
            det, nis = det0[g], d20[g]
        else:
            xm, Pm = _predict_pairs(x0, P0, tm - t0, cfg.q_h, cfg.q_v, q_scale[rs], w)
            res, H = innovation(rot, origin, z, mask, kind, rj, xm, position, polar, bearing)
            S, Sinv, det, nis = innovation_stats(Pm, H, var[rj], res)
            xn, Pn, tn = _apply(x0, P0, t0, tm, w, xm, Pm, res, H, S, Sinv)
        _update_velocities(xn, Pn, tn, tm, rj, q_scale[rs], w, rot, vel, vel_var,
                           cfg.q_h, cfg.q_v)
        for k in range(p.size):
            i, q = rs[k], rj[k]
            v0x, v0y, v0z = x[i, 3], x[i, 4], x[i, 5]
            dt = tn[k] - t[i]
            x[i] = xn[k]
            P[i] = Pn[k]
            t[i] = tn[k]
            speed_avg[i] = _ewma(speed_avg[i], ground_speed(xn[k]), cfg.speed_avg_weight)
            if cfg.turn_memory > 0:
                omega[i] = turn_rate(omega[i], v0x, v0y, v0z, xn[k], dt, cfg.turn_memory,
                                     cfg.turn_min_speed, cfg.turn_max_rate)
            scale, nis_avg[i] = adapted_noise(q_scale[i], nis_avg[i], nis[k], dof[q],
                                              cfg.nis_memory, manoeuvre_threshold(reach[q], cfg),
                                              cfg.q_boost, cfg.q_decay, cfg.q_scale_max)
            q_cap[i] = noise_scale_cap(reach[q], cfg.q_scale_max, cfg.q_precise_reach,
                                       cfg.q_noisy_scale_max)
            q_scale[i] = np.minimum(scale, q_cap[i])
            llr[i] += track_score_increment(nis[k], det[k], dof[q], ln_pd[q], ln_clutter[q])
            gap = np.maximum(time[q] - t_hit[i], 0.0)
            hit_gap[i] = _ewma(hit_gap[i], gap, cfg.hit_gap_weight)
            t_hit[i] = np.maximum(t_hit[i], time[q])
            hits[i] += 1
            if stype[q] == radar_type:
                t_radar[i] = np.maximum(t_radar[i], time[q])
                radar_hits[i] += 1
            if is_coop[stype[q]]:
                t_coop[i] = np.maximum(t_coop[i], time[q])
        r += 1
    for g in range(start.size - 1):
        fastest = np.inf
        for q in range(start[g], start[g + 1]):
            fastest = np.minimum(fastest, scan_period[sensor[j[q]]])
        revisit[s[start[g]]] = fastest


# ---- the association gate (Tracker._gated_pairs) ------------------------------------------
#
# The pairs' innovations come from the filter kernels above, as filter.innovate has them,
# and the coverage gate's sums keep numpy's order (its einsum of two operands sums three
# terms as (a + c) + b, of three in row-major order), so the gates pass and refuse what
# the numpy steps did and the update rounds reuse the same innovations. The posterior
# ground speed sums its products in plain order where numpy's matrix products (BLAS) may
# fuse them: it can differ in the last bit, and it is only compared with a speed limit.


class GateSettings(NamedTuple):
    """The settings the association gate uses, as floats (TrackerConfig documents them)."""

    q_h: float  # acceleration densities (motion.acceleration_density)
    q_v: float
    k: float  # gate sigmas: sqrt of the 3-dof chi-square gate quantile
    sphere_radius: float  # the spatial pre-gate (associate.py)
    margin: float
    slack: float
    speed_gate_confidence: float  # the kinematic gate
    speed_gate_hits: float
    speed_jump_ratio: float
    speed_jump_margin: float
    tentative_penalty: float  # added to a tentative track's costs
    miss: float  # cost of leaving a (track, sensor) key unassigned, before the penalty


@njit(cache=True)
def pair_innovations(
    s: np.ndarray, j: np.ndarray, x: np.ndarray, P: np.ndarray, t: np.ndarray,
    q_scale: np.ndarray, omega: np.ndarray, time: np.ndarray, rot: np.ndarray,
    origin: np.ndarray, z: np.ndarray, mask: np.ndarray, kind: np.ndarray, var: np.ndarray,
    q_h: float, q_v: float, position: int, polar: int, bearing: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           np.ndarray, np.ndarray]:
    """filter.innovate of the pairs (track s, detection j) from the track table's and the
    measurements' columns: each track predicted to its detection's time (filter.predict),
    the residual and Jacobian (measure.innovation), S, S^-1, |S| and d^2."""
    n = s.shape[0]
    xs = np.empty((n, 6))
    Ps = np.empty((n, 6, 6))
    dt = np.empty(n)
    scale = np.empty(n)
    w = np.empty(n)
    vj = np.empty((n, 3))
    for q in range(n):
        i = s[q]
        xs[q] = x[i]
        Ps[q] = P[i]
        dt[q] = time[j[q]] - t[i]
        scale[q] = q_scale[i]
        w[q] = omega[i]
        vj[q] = var[j[q]]
    xm, Pm = _predict_pairs(xs, Ps, dt, q_h, q_v, scale, w)
    r, H = innovation(rot, origin, z, mask, kind, j, xm, position, polar, bearing)
    S, Sinv, det, d2 = innovation_stats(Pm, H, vj, r)
    return xm, Pm, r, H, S, Sinv, det, d2


@njit(cache=True)
def _window_pairs(
    cand: np.ndarray, rows: np.ndarray, x: np.ndarray, P: np.ndarray, t: np.ndarray,
    q_scale: np.ndarray, omega: np.ndarray, time: np.ndarray, point: np.ndarray,
    kind: np.ndarray, reach: np.ndarray, edges: np.ndarray, cfg: GateSettings, bearing: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The spatial pre-gate of detections ``rows`` against tracks ``cand``: pairs (slot,
    row) whose horizontal separation is within reach (associate.candidate_pairs), the
    tracks seen at mid-window (search_points), the detections projected onto the sphere
    (associate.project) with their reach (k sigma; a bearing's coverage as it is); ordered
    by track, then detection."""
    t_lo = t_hi = time[rows[0]]
    for r in rows:
        t_lo = min(t_lo, time[r])
        t_hi = max(t_hi, time[r])
    pts, t_reach = search_points(x, P, t, q_scale, omega, cand, 0.5 * (t_lo + t_hi),
                                 0.5 * (t_hi - t_lo), max(cfg.q_h, cfg.q_v), cfg.k,
                                 cfg.sphere_radius)
    n = rows.shape[0]
    dp = np.empty((n, 3))
    d_reach = np.empty(n)
    for q in range(n):
        r = rows[q]
        px, py, pz = point[r, 0], point[r, 1], point[r, 2]
        f = cfg.sphere_radius / np.maximum(np.sqrt((px * px + py * py) + pz * pz), 1.0)
        dp[q, 0], dp[q, 1], dp[q, 2] = px * f, py * f, pz * f
        d_reach[q] = reach[r] if kind[r] == bearing else cfg.k * reach[r]
    ci, cj = ball_pairs(pts, t_reach, dp, d_reach, cfg.margin, cfg.slack, edges)
    # The pairs are distinct: any sort of these keys gives lexsort's order.
    order = np.argsort(ci * n + cj)
    return cand[ci[order]], rows[cj[order]]


@njit(cache=True)
def _admissible(s: np.ndarray, j: np.ndarray, key: np.ndarray, coop: np.ndarray,
                coop_bits: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Pairs whose detection may join the track: no cooperative id of a kind the track
    holds another of (two transponders are two aircraft), and a (track, sensor) ``key``
    not ``used`` already (one detection per track per sensor)."""
    held = np.sort(used)
    ok = np.empty(s.shape[0], dtype=np.bool_)
    for q in range(s.shape[0]):
        at = np.searchsorted(held, key[q])
        taken = at < held.shape[0] and held[at] == key[q]
        ok[q] = (coop[s[q]] & coop_bits[j[q]]) == 0 and not taken
    return ok


@njit(cache=True)
def _beyond_coverage(xm: np.ndarray, Pm: np.ndarray, site: np.ndarray, reach: float,
                     k: float) -> bool:
    """The coverage gate of a bearing's pair: the track predicted (xm, Pm) farther from
    the sensor's ``site`` than its ``reach`` plus k times the track's horizontal spread,

        |rel - (rel . u) u|  >  reach + k sqrt(max(tr P_pos - u^T P_pos u, 0)),

    rel the track's position less the site, u the local up there."""
    ux, uy, uz = _local_up(xm[0], xm[1], xm[2])
    rx, ry, rz = xm[0] - site[0], xm[1] - site[1], xm[2] - site[2]
    along = (rx * ux + rz * uz) + ry * uy
    hx, hy, hz = rx - along * ux, ry - along * uy, rz - along * uz
    ground = np.sqrt((hx * hx + hy * hy) + hz * hz)
    u = (ux, uy, uz)
    vertical = 0.0
    for a in range(3):
        for b in range(3):
            vertical += u[a] * Pm[a, b] * u[b]
    var_h = (Pm[0, 0] + Pm[1, 1]) + Pm[2, 2] - vertical
    return ground > reach + k * np.sqrt(np.maximum(var_h, 0.0))


@njit(cache=True)
def _speed_limit(i: int, cls: np.ndarray, cls_conf: np.ndarray, hits: np.ndarray,
                 status: np.ndarray, coop: np.ndarray, speed_avg: np.ndarray,
                 class_limit: np.ndarray, cfg: GateSettings, tentative: int) -> float:
    """Fastest credible ground speed (m/s) of track i: its class's limit when the class
    is settled (speed_gate_hits hits, confidence speed_gate_confidence), and for a
    confirmed track with no cooperative id and speed_gate_hits hits at most
    speed_jump_ratio times its mean ground speed plus speed_jump_margin; else inf."""
    limit = np.inf
    enough = hits[i] >= cfg.speed_gate_hits
    if enough and cls_conf[i] >= cfg.speed_gate_confidence and cls[i] >= 0:
        limit = class_limit[cls[i]]
    if enough and status[i] != tentative and coop[i] == 0:
        jump = cfg.speed_jump_ratio * speed_avg[i] + cfg.speed_jump_margin
        if jump < limit:  # np.fmin: a NaN mean (none yet) bounds nothing
            limit = jump
    return limit


@njit(cache=True)
def posterior_ground_speed(xm: np.ndarray, Pm: np.ndarray, r: np.ndarray, H: np.ndarray,
                           Sinv: np.ndarray) -> float:
    """Ground speed (m/s) a pair's track would have after its update, from its
    innovation (xm (6,), Pm (6, 6), r (3,), H (3, 6), S^-1 (3, 3)):

        v+ = v- + K_v r,     K_v = P-[v, :] H^T S^-1

    horizontal part only (the component along the local up at the predicted position
    removed). For the kinematic gate: a plot that would make a drone's track fly at
    300 m/s is another target's."""
    post = np.empty(6)
    ph = np.empty(3)
    for a in range(3):
        for c in range(3):
            acc = 0.0
            for m in range(6):
                acc += Pm[3 + a, m] * H[c, m]
            ph[c] = acc
        gain_r = 0.0
        for b in range(3):
            kv = 0.0
            for c in range(3):
                kv += ph[c] * Sinv[c, b]
            gain_r += kv * r[b]
        post[a] = xm[a]
        post[3 + a] = xm[3 + a] + gain_r
    return ground_speed(post)


@njit(cache=True, nogil=True)
def gate_pairs(
    cand: np.ndarray, rows: np.ndarray,
    x: np.ndarray, P: np.ndarray, t: np.ndarray, q_scale: np.ndarray, omega: np.ndarray,
    coop: np.ndarray, status: np.ndarray, cls: np.ndarray, cls_conf: np.ndarray,
    hits: np.ndarray, speed_avg: np.ndarray,
    time: np.ndarray, sensor: np.ndarray, kind: np.ndarray, point: np.ndarray,
    reach: np.ndarray, coop_bits: np.ndarray, rot: np.ndarray, origin: np.ndarray,
    z: np.ndarray, mask: np.ndarray, var: np.ndarray, dof: np.ndarray,
    used: np.ndarray, n_sensors: int, quantile: np.ndarray, class_limit: np.ndarray,
    edges: np.ndarray, cfg: GateSettings, tentative: int,
    position: int, polar: int, bearing: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           np.ndarray, np.ndarray, int]:
    """Tracker._gated_pairs up to the assignment: the pairs (slot s, row j) of detections
    ``rows`` and tracks ``cand`` that pass every gate, in the pre-gate's order, with their
    (track, sensor) keys, GNN costs d^2 + penalty and miss costs miss + penalty (penalty:
    tentative_penalty for a tentative track), their innovations (xm ... d2, computed only
    for the pairs the spatial pre-gate and the id rules let through), and how many pairs
    the kinematic gate refused.

    In order: the spatial pre-gate (_window_pairs); the id and (track, sensor) rules
    (_admissible; ``used``: the keys taken this window); the chi-square gate
    d^2 <= chi2_dof (``quantile``: filter.chi2_gate's table by dof); for bearings the
    coverage gate (_beyond_coverage); the kinematic gate, the posterior ground speed
    against _speed_limit (``class_limit``: the class speed limits). The other arguments
    are the columns of the same names of the track table and the measurements.
    """
    s, j = _window_pairs(cand, rows, x, P, t, q_scale, omega, time, point, kind, reach,
                         edges, cfg, bearing)
    key = s * n_sensors + sensor[j]
    ok = np.flatnonzero(_admissible(s, j, key, coop, coop_bits, used))
    s, j, key = s[ok], j[ok], key[ok]
    xm, Pm, r, H, S, Sinv, det, d2 = pair_innovations(
        s, j, x, P, t, q_scale, omega, time, rot, origin, z, mask, kind, var,
        cfg.q_h, cfg.q_v, position, polar, bearing)
    keep = np.zeros(s.shape[0], dtype=np.bool_)
    n_fast = 0
    for q in range(s.shape[0]):
        i, row = s[q], j[q]
        if not d2[q] <= quantile[min(max(dof[row], 0), 7)]:
            continue
        if kind[row] == bearing and _beyond_coverage(xm[q], Pm[q], point[row], reach[row],
                                                     cfg.k):
            continue
        limit = _speed_limit(i, cls, cls_conf, hits, status, coop, speed_avg, class_limit,
                             cfg, tentative)
        if np.isfinite(limit) and posterior_ground_speed(xm[q], Pm[q], r[q], H[q], Sinv[q]) > limit:
            n_fast += 1
            continue
        keep[q] = True
    sel = np.flatnonzero(keep)
    penalty = np.zeros(sel.shape[0])
    for q in range(sel.shape[0]):
        if status[s[sel[q]]] == tentative:
            penalty[q] = cfg.tentative_penalty
    return (s[sel], j[sel], key[sel], d2[sel] + penalty, cfg.miss + penalty,
            xm[sel], Pm[sel], r[sel], H[sel], S[sel], Sinv[sel], det[sel], d2[sel], n_fast)


# ---- the spoof check (cooperative.spoof_check) --------------------------------------------


@njit(cache=True)
def spoof_strikes(
    s: np.ndarray, j: np.ndarray, d2: np.ndarray, quantile: np.ndarray, dof: np.ndarray,
    time: np.ndarray, stype: np.ndarray, is_coop: np.ndarray, t_radar: np.ndarray,
    radar_hits: np.ndarray, strikes: np.ndarray, spoof: np.ndarray, support_age: float,
    support_hits: int, count: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """cooperative.spoof_check's bookkeeping for the pairs (track s, report j) with gate
    distances d2: a report is far when d2 > chi2_dof (``quantile``: filter.chi2_table of
    the spoof probability), its track radar-supported when it had a radar plot within
    ``support_age`` seconds and ``support_hits`` of them. A far report of a cooperative
    sensor type (``is_coop`` by ``stype``) on a supported track is a strike (its track's ``strikes`` count one more; ``count`` of
    them flag it in ``spoof``); a report that is not far clears its track's count (after
    the window's strikes are counted). Returns the strike and the jump (far, unsupported)
    masks and how many tracks were newly flagged."""
    n = s.shape[0]
    far = np.empty(n, dtype=np.bool_)
    strike = np.empty(n, dtype=np.bool_)
    jump = np.empty(n, dtype=np.bool_)
    for q in range(n):
        i, row = s[q], j[q]
        far[q] = d2[q] > quantile[min(max(dof[row], 0), 7)]
        supported = (t_radar[i] >= time[row] - support_age
                     and radar_hits[i] >= support_hits)
        strike[q] = far[q] and supported and is_coop[stype[row]]
        jump[q] = far[q] and not supported
        if strike[q]:
            strikes[i] += 1
    for q in range(n):
        if not far[q]:
            strikes[s[q]] = 0
    newly = 0
    for q in range(n):
        i = s[q]
        if strike[q] and strikes[i] >= count and not spoof[i]:
            spoof[i] = True
            newly += 1
    return strike, jump, newly


# ---- the manoeuvre gate (Tracker._manoeuvre_gate) -----------------------------------------


@njit(cache=True)
def boost_late_tracks(status: np.ndarray, t_hit: np.ndarray, revisit: np.ndarray,
                      q_scale: np.ndarray, q_cap: np.ndarray, t_now: float, wait: float,
                      q_miss_scale: float, confirmed: int, coasting: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The manoeuvre gate's tracks: confirmed or coasting, without a hit for more than
    ``wait`` revisits at ``t_now``; each one's q_scale raised to at least
    min(q_miss_scale, q_cap) in place. Returns them, ascending, and their scales before."""
    n = 0
    cand = np.empty(status.shape[0], dtype=np.int64)
    for i in range(status.shape[0]):
        if ((status[i] == confirmed or status[i] == coasting)
                and t_now - t_hit[i] > wait * revisit[i]):
            cand[n] = i
            n += 1
    cand = cand[:n].copy()
    old = np.empty(n)
    for q in range(n):
        i = cand[q]
        old[q] = q_scale[i]
        q_scale[i] = np.maximum(old[q], np.minimum(q_miss_scale, q_cap[i]))
    return cand, old


@njit(cache=True)
def restore_scales(q_scale: np.ndarray, cand: np.ndarray, old: np.ndarray,
                   updated: np.ndarray) -> None:
    """q_scale of the tracks ``cand`` back to ``old``, but for those ``updated``."""
    kept = np.sort(updated)
    for q in range(cand.shape[0]):
        i = cand[q]
        at = np.searchsorted(kept, i)
        if not (at < kept.shape[0] and kept[at] == i):
            q_scale[i] = old[q]


# ---- fused multiply-add ------------------------------------------------------------------


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (LLVM's fma). numpy's matmul of small stacked matrices goes
    through BLAS, whose kernels (OpenBLAS on CPUs with FMA, as numpy's wheels ship it)
    accumulate each entry as fma(a2, b2, fma(a1, b1, a0 * b0)); kernels that replace such
    a product use this to give the same bits."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return sig, codegen
