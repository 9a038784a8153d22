"""Compiled (numba) kernels for the per-window track life steps of lifecycle.py: the
SPRT and lost scores, the coast/lost/delete pass over the table, the confirmation
test's bookkeeping and clearance test, and one-point initiation.

Each window these steps touch every active track; in numpy each condition is its own
pass over the table's columns (dozens of small calls per window). Here each is one loop
over the rows. The formulas are lifecycle.py's (documented there), with the same
floating-point operations in the same order, so the results are the numpy code's to the
bit (save the clearance test's S, see there); where numpy's own order is not the obvious
one (einsum's pairing of terms) the comment says so. The merge test's solve stays in
numpy (LAPACK).

numba keys each cached kernel on the file that defines it, and a kernel's cached code
holds what it calls: these use ``kernels._local_up`` and ``lsap.components``, so after
an edit to those the kernels here keep the old code until this file changes or the
``__pycache__`` folders are removed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..geo import A, B
from . import lsap
from .associate import SPHERE_RADIUS
from .kernels import _local_up
from .table import COASTING, CONFIRMED, FREE, TENTATIVE

# What np.nan_to_num makes of an infinite velocity component.
_FLOAT_MAX = np.finfo(np.float64).max


@njit(cache=True, inline="always")
def _np_max(a: float, b: float) -> float:
    # np.maximum: NaN if either is NaN.
    return a if (a >= b or a != a) else b


@njit(cache=True, inline="always")
def _np_min(a: float, b: float) -> float:
    # np.minimum: NaN if either is NaN.
    return a if (a <= b or a != a) else b


@njit(cache=True, inline="always")
def _np_fmin(a: float, b: float) -> float:
    # np.fmin: the other where one is NaN.
    if a != a:
        return b
    if b != b:
        return a
    return a if a <= b else b


@njit(cache=True, inline="always")
def _sprt(llr: float, hits: int, t_born: float, revisit: float, at: float,
          ln_miss: float) -> float:
    # lifecycle.sprt_score of one track; ln_miss = ln(1 - miss_pd).
    rev = _np_max(revisit, 0.5)
    looks = np.floor((at - t_born) / rev + 0.5) + 1.0
    miss = _np_max(looks - hits, 0.0)
    return llr + miss * ln_miss


@njit(cache=True, inline="always")
def _lost(llr: float, llr_lost: float, hits: int, hits_lost: int, t_lost: float,
          look_lost: float, at: float, ln_lost: float) -> float:
    # lifecycle.lost_score of one track; ln_lost = ln(1 - lost_pd).
    looks = np.floor((at - t_lost) / look_lost)
    miss = _np_max(looks - (hits - hits_lost), 0.0)
    return llr - llr_lost + miss * ln_lost


@njit(cache=True)
def sprt_scores(llr: np.ndarray, hits: np.ndarray, t_born: np.ndarray, revisit: np.ndarray,
                slots: np.ndarray, at: np.ndarray, ln_miss: float) -> np.ndarray:
    """lifecycle.sprt_score of ``slots`` at times ``at``."""
    out = np.empty(slots.shape[0])
    for q in range(slots.shape[0]):
        s = slots[q]
        out[q] = _sprt(llr[s], hits[s], t_born[s], revisit[s], at[q], ln_miss)
    return out


@njit(cache=True)
def lost_scores(llr: np.ndarray, llr_lost: np.ndarray, hits: np.ndarray,
                hits_lost: np.ndarray, t_lost: np.ndarray, look_lost: np.ndarray,
                slots: np.ndarray, at: np.ndarray, ln_lost: float) -> np.ndarray:
    """lifecycle.lost_score of ``slots`` at times ``at``."""
    out = np.empty(slots.shape[0])
    for q in range(slots.shape[0]):
        s = slots[q]
        out[q] = _lost(llr[s], llr_lost[s], hits[s], hits_lost[s], t_lost[s], look_lost[s],
                       at[q], ln_lost)
    return out


@njit(cache=True, inline="always")
def _altitude(px: float, py: float, pz: float) -> float:
    # Height (m) above the ellipsoid along the radius (within ~10 m below 20 km): |p| less
    # the ellipsoid's radius at the point's geocentric latitude.
    r = np.sqrt(px * px + py * py + pz * pz)
    s = pz / _np_max(r, 1.0)
    s2 = s * s
    return r - A * B / np.sqrt(B * B * (1.0 - s2) + A * A * s2)


@njit(cache=True, inline="always")
def _impossible(x: np.ndarray, P: np.ndarray, s: int, max_speed: float) -> bool:
    # lifecycle.expire's diverged state: faster than any target, far below ground, or
    # above any aircraft.
    speed = np.sqrt(x[s, 3] * x[s, 3] + x[s, 4] * x[s, 4] + x[s, 5] * x[s, 5])
    alt = _altitude(x[s, 0], x[s, 1], x[s, 2])
    sigma = np.sqrt(_np_max(P[s, 0, 0] + P[s, 1, 1] + P[s, 2, 2], 0.0))
    return speed > max_speed or alt + 3.0 * sigma < -1000.0 or alt > 60000.0


@njit(cache=True)
def expire(status: np.ndarray, hits: np.ndarray, t_hit: np.ndarray, t_born: np.ndarray,
           revisit: np.ndarray, llr: np.ndarray, x: np.ndarray, P: np.ndarray,
           lost: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
           hit_gap: np.ndarray, q_scale: np.ndarray, q_cap: np.ndarray, now: float,
           limits: tuple[float, float, float, float, float, float, float, float, float,
                         float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lifecycle.expire over every active slot, in place: returns the slots that started
    coasting, the confirmed/coasting ones deleted, and the tentative ones dropped (each
    ascending).

    ``lost`` holds the columns (t_lost, llr_lost, hits_lost, look_lost); ``limits`` the
    settings (max_speed, tentative_min_score, tentative_max_gap_scans, delete_after,
    delete_after_scans, coast_after_scans, lost_min_score, q_miss_scale,
    ln(1 - miss_pd), ln(1 - lost_pd)).
    """
    t_lost, llr_lost, hits_lost, look_lost = lost
    (max_speed, tentative_min_score, tentative_max_gap_scans, delete_after,
     delete_after_scans, coast_after_scans, lost_min_score, q_miss_scale, ln_miss,
     ln_lost) = limits
    n = status.shape[0]
    coasting = np.empty(n, dtype=np.int64)
    deleted = np.empty(n, dtype=np.int64)
    dropped = np.empty(n, dtype=np.int64)
    n_coast = n_del = n_drop = 0
    for s in range(n):
        st = status[s]
        if st == FREE:
            continue
        gap = now - t_hit[s]
        rev = _np_max(revisit[s], 0.5)
        impossible = hits[s] >= 2 and _impossible(x, P, s, max_speed)
        if st == TENTATIVE:
            # SPRT lower threshold: a tentative track whose plots fell where clutter would.
            pruned = _sprt(llr[s], hits[s], t_born[s], revisit[s], now,
                           ln_miss) < tentative_min_score
            if gap > tentative_max_gap_scans * rev or impossible or pruned:
                dropped[n_drop] = s
                n_drop += 1
            continue
        # CONFIRMED or COASTING from here.
        given_up = False
        if t_lost[s] == t_lost[s]:  # lost: goes below lost_min_score, healthy from 0 up
            ls = _lost(llr[s], llr_lost[s], hits[s], hits_lost[s], t_lost[s], look_lost[s],
                       now, ln_lost)
            given_up = ls < lost_min_score
            if ls >= 0.0:
                t_lost[s] = np.nan
        if (gap > _np_max(delete_after, delete_after_scans * rev) or impossible
                or given_up):
            deleted[n_del] = s
            n_del += 1
            continue
        if st != CONFIRMED or not gap > coast_after_scans * rev:
            continue
        status[s] = COASTING
        coasting[n_coast] = s
        n_coast += 1
        if t_lost[s] != t_lost[s]:  # newly lost
            t_lost[s] = t_hit[s]
            llr_lost[s] = llr[s]
            hits_lost[s] = hits[s]
            look_lost[s] = _np_max(_np_fmin(hit_gap[s], revisit[s]), 0.5)
        q_scale[s] = _np_max(q_scale[s], _np_min(q_miss_scale, q_cap[s]))
    return coasting[:n_coast].copy(), deleted[:n_del].copy(), dropped[:n_drop].copy()


@njit(cache=True)
def confirm_candidates(status: np.ndarray, hits: np.ndarray, coop: np.ndarray,
                       llr: np.ndarray, t_born: np.ndarray, revisit: np.ndarray,
                       t_hit: np.ndarray, slots: np.ndarray, confirm_hits: int,
                       confirm_hits_cooperative: int, confirm_score: float, ln_miss: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first half of lifecycle.confirm: coasting ``slots`` CONFIRMED again, in place;
    returns the tentative ones with two hits or more, whether each is ready to confirm
    (hits and SPRT score), and whether the clearance test must be made for it (ready,
    or on its second hit)."""
    n = slots.shape[0]
    tent = np.empty(n, dtype=np.int64)
    ready = np.empty(n, dtype=np.bool_)
    check = np.empty(n, dtype=np.bool_)
    m = 0
    for q in range(n):
        s = slots[q]
        if status[s] == COASTING:
            status[s] = CONFIRMED
        elif status[s] == TENTATIVE and hits[s] >= 2:
            is_coop = coop[s] > 0
            need = confirm_hits_cooperative if is_coop else confirm_hits
            score = _sprt(llr[s], hits[s], t_born[s], revisit[s], t_hit[s], ln_miss)
            tent[m] = s
            ready[m] = hits[s] >= need and (is_coop or score >= confirm_score)
            check[m] = ready[m] or hits[s] == 2
            m += 1
    return tent[:m].copy(), ready[:m].copy(), check[:m].copy()


@njit(cache=True)
def confirm_settle(status: np.ndarray, llr: np.ndarray, coop: np.ndarray, tent: np.ndarray,
                   ready: np.ndarray, on_live: np.ndarray, on_coasting: np.ndarray
                   ) -> np.ndarray:
    """The second half of lifecycle.confirm, in place: a track on a confirmed one loses
    its score (unless it holds a cooperative identity); a ready one on neither is
    CONFIRMED. Returns those confirmed."""
    newly = np.empty(tent.shape[0], dtype=np.int64)
    m = 0
    for q in range(tent.shape[0]):
        s = tent[q]
        if on_live[q] and coop[s] == 0:
            llr[s] = -np.inf
        if ready[q] and not on_live[q] and not on_coasting[q]:
            status[s] = CONFIRMED
            newly[m] = s
            m += 1
    return newly[:m].copy()


@njit(cache=True)
def reference_tracks(status: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Confirmed and coasting slots, ascending, less ``slots``: the tracks that may
    explain them (lifecycle.explained)."""
    live = np.empty(status.shape[0], dtype=np.bool_)
    for s in range(status.shape[0]):
        live[s] = status[s] == CONFIRMED or status[s] == COASTING
    for q in range(slots.shape[0]):
        live[slots[q]] = False
    return np.flatnonzero(live)


@njit(cache=True)
def spread(x: np.ndarray, P: np.ndarray, t: np.ndarray, slots: np.ndarray, now: float,
           k: float, q_h: float, extra: float) -> tuple[np.ndarray, np.ndarray]:
    """The pre-gate's view of ``slots`` at ``now`` for lifecycle.explained: the straight
    line position projected onto the sphere (associate.project), and the reach

        k (sqrt(tr P_pos) + dt sqrt(tr P_vel)) + sqrt(q_h dt^3) + extra,
        dt = max(now - t, 0)."""
    n = slots.shape[0]
    pts = np.empty((n, 3))
    reach = np.empty(n)
    for q in range(n):
        s = slots[q]
        dt = _np_max(now - t[s], 0.0)
        px = x[s, 0] + dt * x[s, 3]
        py = x[s, 1] + dt * x[s, 4]
        pz = x[s, 2] + dt * x[s, 5]
        f = SPHERE_RADIUS / _np_max(np.sqrt(px * px + py * py + pz * pz), 1.0)
        pts[q, 0], pts[q, 1], pts[q, 2] = px * f, py * f, pz * f
        var_p = P[s, 0, 0] + P[s, 1, 1] + P[s, 2, 2]
        var_v = P[s, 3, 3] + P[s, 4, 4] + P[s, 5, 5]
        sig = np.sqrt(_np_max(var_p, 0.0)) + dt * np.sqrt(_np_max(var_v, 0.0))
        # dt ** 3.0 (libm's pow, as numpy's dt ** 3), not numba's dt ** 3 (products).
        reach[q] = k * sig + np.sqrt(q_h * dt ** 3.0) + extra
    return pts, reach


@njit(cache=True)
def clearance(xa: np.ndarray, Pa: np.ndarray, xb: np.ndarray, Pb: np.ndarray,
              chi2: float, confirm_clearance: float) -> np.ndarray:
    """lifecycle.explained's test of pairs (a, b) predicted to one time: whether

        |dp| <= sqrt(chi2 u^T S u) + confirm_clearance

    with dp the east-north separation (axes at a's point), S = E (P_a + P_b) E^T its
    covariance and u = dp / |dp|."""
    n = xa.shape[0]
    inside = np.empty(n, dtype=np.bool_)
    E = np.empty((2, 3))
    d = np.empty(3)
    M = np.empty((3, 3))
    EM = np.empty((2, 3))
    S = np.empty((2, 2))
    for q in range(n):
        ux, uy, uz = _local_up(xa[q, 0], xa[q, 1], xa[q, 2])
        # east = (0, 0, 1) x up, north = up x east (geo.cross_rows' products).
        ex, ey, ez = 0.0 * uz - 1.0 * uy, 1.0 * ux - 0.0 * uz, 0.0 * uy - 0.0 * ux
        en = _np_max(np.sqrt(ex * ex + ey * ey + ez * ez), 1e-12)
        ex, ey, ez = ex / en, ey / en, ez / en
        E[0, 0], E[0, 1], E[0, 2] = ex, ey, ez
        E[1, 0], E[1, 1], E[1, 2] = uy * ez - uz * ey, uz * ex - ux * ez, ux * ey - uy * ex
        for i in range(3):
            d[i] = xa[q, i] - xb[q, i]
            for j in range(3):
                M[i, j] = Pa[q, i, j] + Pb[q, i, j]
        # The separation's terms paired as numpy's einsum pairs them (0 and 2, then 1).
        d0 = E[0, 0] * d[0] + E[0, 2] * d[2] + E[0, 1] * d[1]
        d1 = E[1, 0] * d[0] + E[1, 2] * d[2] + E[1, 1] * d[1]
        # (numpy formed S by matmul, through BLAS, which may fuse multiply-adds: S can
        # differ in its last bit, which moves only a pair exactly at its boundary.)
        for i in range(2):
            for j in range(3):
                EM[i, j] = E[i, 0] * M[0, j] + E[i, 1] * M[1, j] + E[i, 2] * M[2, j]
        for i in range(2):
            for j in range(2):
                S[i, j] = EM[i, 0] * E[j, 0] + EM[i, 1] * E[j, 1] + EM[i, 2] * E[j, 2]
        dist = np.sqrt(d0 * d0 + d1 * d1)
        g = _np_max(dist, 1e-9)
        u0, u1 = d0 / g, d1 / g
        quad = u0 * S[0, 0] * u0 + u0 * S[0, 1] * u1 + u1 * S[1, 0] * u0 + u1 * S[1, 1] * u1
        inside[q] = dist <= np.sqrt(chi2 * quad) + confirm_clearance
    return inside


@njit(cache=True)
def seed(point: np.ndarray, vel: np.ndarray, rot: np.ndarray, point_cov: np.ndarray,
         j: np.ndarray, sigma_velocity: float, init_sigma_speed: float,
         init_sigma_vspeed: float, x: np.ndarray, P: np.ndarray, rows: np.ndarray) -> None:
    """lifecycle.seed_state of measurement rows ``j``, written into rows ``rows`` of x
    (N, 6) and P (N, 6, 6): position and its covariance from the detection; velocity
    its reported one (ENU turned to ECEF) or 0, with the velocity covariance of
    lifecycle._velocity_cov."""
    v = np.empty(3)
    for q in range(j.shape[0]):
        m, r = j[q], rows[q]
        for i in range(3):
            vi = vel[m, i]
            # np.nan_to_num: NaN 0, +-inf the largest finite float.
            if vi != vi:
                vi = 0.0
            elif vi == np.inf:
                vi = _FLOAT_MAX
            elif vi == -np.inf:
                vi = -_FLOAT_MAX
            v[i] = vi
        sh = sigma_velocity if np.isfinite(vel[m, 0]) else init_sigma_speed
        sv = sigma_velocity if np.isfinite(vel[m, 2]) else init_sigma_vspeed
        sh2 = sh * sh
        dv = sv * sv - sh2
        up = _local_up(point[m, 0], point[m, 1], point[m, 2])
        for i in range(6):
            for c in range(6):
                P[r, i, c] = 0.0
        for i in range(3):
            x[r, i] = point[m, i]
            x[r, 3 + i] = rot[m, 0, i] * v[0] + rot[m, 1, i] * v[1] + rot[m, 2, i] * v[2]
            for c in range(3):
                P[r, i, c] = point_cov[m, i, c]
                eye = 1.0 if i == c else 0.0
                P[r, 3 + i, 3 + c] = sh2 * eye + dv * (up[i] * up[c])


@njit(cache=True)
def seed_points(point: np.ndarray, reach: np.ndarray, time: np.ndarray, rows: np.ndarray,
                k: float, max_speed: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lifecycle.seeds' search: detections ``rows`` projected onto the sphere
    (associate.project), each one's reach k reach, and that plus the distance a target
    flies over the rows' time span."""
    n = rows.shape[0]
    pts = np.empty((n, 3))
    d_reach = np.empty(n)
    t_reach = np.empty(n)
    t_lo = t_hi = time[rows[0]]
    for q in range(n):
        r = rows[q]
        t_lo = min(t_lo, time[r])
        t_hi = max(t_hi, time[r])
        px, py, pz = point[r, 0], point[r, 1], point[r, 2]
        f = SPHERE_RADIUS / _np_max(np.sqrt(px * px + py * py + pz * pz), 1.0)
        pts[q, 0], pts[q, 1], pts[q, 2] = px * f, py * f, pz * f
        d_reach[q] = k * reach[r]
    span = t_hi - t_lo
    for q in range(n):
        t_reach[q] = d_reach[q] + max_speed * span
    return pts, d_reach, t_reach


@njit(cache=True)
def seed_choice(i: np.ndarray, j: np.ndarray, pts: np.ndarray, d_reach: np.ndarray,
                rows: np.ndarray, time: np.ndarray, sensor: np.ndarray, reach: np.ndarray,
                has_id: np.ndarray, same_id: np.ndarray, max_speed: float, margin: float
                ) -> np.ndarray:
    """lifecycle.seeds' groups and their seeds: candidate pairs (i, j) of ``rows`` are
    one target when of different sensors within each other's reach (plus the distance
    flown between their times) and not holding different ids, or when sharing an id;
    each group's seed is its detection of least reach (an id divides it by 1000; ties:
    the first row). Returns the seeds' indices into ``rows``, in the order of each
    group's first row."""
    n = rows.shape[0]
    ea = np.empty(i.shape[0], dtype=np.int64)
    eb = np.empty(i.shape[0], dtype=np.int64)
    m = 0
    for p in range(i.shape[0]):
        a, b = i[p], j[p]
        if a >= b:
            continue
        ra, rb = rows[a], rows[b]
        dx = pts[a, 0] - pts[b, 0]
        dy = pts[a, 1] - pts[b, 1]
        dz = pts[a, 2] - pts[b, 2]
        dist = np.sqrt(dx * dx + dy * dy + dz * dz)
        dt = abs(time[ra] - time[rb])
        near = (sensor[ra] != sensor[rb]
                and dist <= d_reach[a] + d_reach[b] + max_speed * dt + margin
                and (not has_id[a] or not has_id[b] or same_id[p]))
        if near or (same_id[p] and has_id[a]):
            ea[m], eb[m] = a, b
            m += 1
    label = lsap.components(n, ea[:m], eb[:m])
    best = np.full(n, -1, dtype=np.int64)
    score = np.empty(n)
    n_groups = 0
    for v in range(n):
        score[v] = reach[rows[v]] * (1e-3 if has_id[v] else 1.0)
        c = label[v]
        n_groups = max(n_groups, c + 1)
        b = best[c]
        # (as a stable sort by score would choose: the least, NaN last, ties the first)
        if b < 0 or score[v] < score[b] or (score[b] != score[b] and score[v] == score[v]):
            best[c] = v
    return best[:n_groups].copy()


@njit(cache=True)
def merge_points(x: np.ndarray, P: np.ndarray, t: np.ndarray, act: np.ndarray, now: float,
                 k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lifecycle.merge_candidates' search: the states of ``act`` moved along their
    velocity to ``now`` (N, 6), their positions projected onto the sphere
    (associate.project), and each one's reach k sqrt(tr P_pos) + |dt| |v|."""
    n = act.shape[0]
    xn = np.empty((n, 6))
    pts = np.empty((n, 3))
    reach = np.empty(n)
    for q in range(n):
        s = act[q]
        dt = now - t[s]
        for i in range(3):
            xn[q, i] = x[s, i] + dt * x[s, 3 + i]
            xn[q, 3 + i] = x[s, 3 + i]
        px, py, pz = xn[q, 0], xn[q, 1], xn[q, 2]
        f = SPHERE_RADIUS / _np_max(np.sqrt(px * px + py * py + pz * pz), 1.0)
        pts[q, 0], pts[q, 1], pts[q, 2] = px * f, py * f, pz * f
        vx, vy, vz = xn[q, 3], xn[q, 4], xn[q, 5]
        reach[q] = (k * np.sqrt(P[s, 0, 0] + P[s, 1, 1] + P[s, 2, 2])
                    + abs(dt) * np.sqrt(vx * vx + vy * vy + vz * vz))
    return xn, pts, reach


@njit(cache=True)
def merge_pairs(xn: np.ndarray, P: np.ndarray, coop: np.ndarray, act: np.ndarray,
                i: np.ndarray, j: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The candidate pairs (i < j, indices into ``act``) that may be one target (not
    holding different identities of one kind), with their state difference and summed
    covariance for the merge test: i, j, x_i - x_j (M, 6), P_i + P_j (M, 6, 6)."""
    keep = np.empty(i.shape[0], dtype=np.int64)
    m = 0
    for p in range(i.shape[0]):
        if i[p] < j[p] and (coop[act[i[p]]] & coop[act[j[p]]]) == 0:
            keep[m] = p
            m += 1
    ii = np.empty(m, dtype=np.int64)
    jj = np.empty(m, dtype=np.int64)
    diff = np.empty((m, 6))
    S = np.empty((m, 6, 6))
    for q in range(m):
        a, b = i[keep[q]], j[keep[q]]
        ii[q], jj[q] = a, b
        sa, sb = act[a], act[b]
        for r in range(6):
            diff[q, r] = xn[a, r] - xn[b, r]
            for c in range(6):
                S[q, r, c] = P[sa, r, c] + P[sb, r, c]
    return ii, jj, diff, S


@njit(cache=True)
def count_merge_checks(merge_count: np.ndarray, act: np.ndarray, i: np.ndarray,
                       j: np.ndarray) -> None:
    """One more merge check passed for the slots of ``act`` in a passing pair (i, j);
    the count of every other one starts again from 0."""
    passed = np.zeros(act.shape[0], dtype=np.bool_)
    for p in range(i.shape[0]):
        passed[i[p]] = True
        passed[j[p]] = True
    for q in range(act.shape[0]):
        s = act[q]
        merge_count[s] = merge_count[s] + 1 if passed[q] else 0
