"""Track life: initiate, confirm, coast, delete, merge. All steps work on slot arrays.

Initiate (one-point): a detection no track claims starts a TENTATIVE track at its
converted position (position reports directly; polar plots through the polar-to-ENU
Jacobian, with the assumed altitude's spread when a 2-D radar gives no elevation):

    x0 = [p_j, v_j or 0],     P0 = diag(Cov(p_j), Cov(v_0))

where Cov(v_0) is ``init_sigma_speed`` horizontally and ``init_sigma_vspeed`` vertically
unless the detection reports a velocity.

Confirm (M hits and a track score): a tentative track is CONFIRMED once it has M
updates and its score, the sum of the log-likelihood ratios "target rather than clutter"
of its updates (filter.track_score_increment, a sequential probability ratio test),
reaches ``confirm_score``. Plots landing where a consistent track predicted them score
high; clutter strung together through wide one-point gates scores low and needs more
hits than it will get. Tracks holding a cooperative identity need only
``confirm_hits_cooperative`` hits: the identity itself rules out clutter. Because every
update counts, two radars seeing a new drone confirm it within about one scan.

Coast: a confirmed track without a hit for ``coast_after_scans`` revisit periods (the scan
period of the sensor that last updated it) is COASTING, and CONFIRMED again on its next
hit.

Delete: a tentative track after ``tentative_max_gap_scans`` revisits without a hit, or
one whose speed is beyond any target's; a confirmed or coasting one after
max(``delete_after`` s, ``delete_after_scans`` revisits) without a hit.

Merge: two tracks of one target (born from two sensors' first plots before either
could claim the other's) are one when the joint test on position and velocity

    d^2 = (x_a - x_b)^T (P_a + P_b)^-1 (x_a - x_b)  <=  chi2_6(P_merge)

passes ``merge_checks`` checks in a row; crossing targets differ in velocity and fail it.
The older confirmed track survives and takes over the other's identities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .associate import MARGIN, candidate_pairs, project
from .config import TrackerConfig
from .filter import chi2_gate
from .measure import Measurements
from .motion import approx_altitude, local_up
from .table import COASTING, CONFIRMED, TENTATIVE, TrackTable


def seed_state(m: Measurements, j: np.ndarray, cfg: TrackerConfig) -> tuple[np.ndarray, np.ndarray]:
    """One-point initial states (N, 6) and covariances (N, 6, 6) from measurement rows j."""
    pos = m.point[j]
    vel = m.vel[j]
    has_v = np.isfinite(vel[:, 0])
    has_vu = np.isfinite(vel[:, 2])
    v_ecef = np.einsum("nji,nj->ni", m.rot[j], np.nan_to_num(vel))
    sh = np.where(has_v, cfg.sigma_velocity, cfg.init_sigma_speed)
    sv = np.where(has_vu, cfg.sigma_velocity, cfg.init_sigma_vspeed)
    x = np.concatenate([pos, v_ecef], axis=1)
    P = np.zeros((j.shape[0], 6, 6))
    P[:, :3, :3] = m.point_cov[j]
    P[:, 3:, 3:] = _velocity_cov(pos, sh, sv)
    return x, P


def _velocity_cov(pos: np.ndarray, sh: np.ndarray, sv: np.ndarray) -> np.ndarray:
    """ECEF covariance of a velocity with horizontal sigma sh and vertical sigma sv."""
    up = local_up(pos)
    return (sh**2)[:, None, None] * np.eye(3) + (sv**2 - sh**2)[:, None, None] * (
        up[:, :, None] * up[:, None, :]
    )


def _start(
    table: TrackTable, slots: np.ndarray, x: np.ndarray, P: np.ndarray, t: np.ndarray
) -> None:
    table.x[slots] = x
    table.P[slots] = P
    table.t[slots] = t
    table.t_hit[slots] = t
    table.t_born[slots] = t
    table.hits[slots] = 1


def initiate(
    table: TrackTable, m: Measurements, j: np.ndarray, revisit: np.ndarray, cfg: TrackerConfig
) -> np.ndarray:
    """Start one tentative track per measurement row j (not bearing); return the slots."""
    slots = table.allocate(j.shape[0])
    if j.size:
        x, P = seed_state(m, j, cfg)
        _start(table, slots, x, P, m.time[j])
        table.revisit[slots] = revisit
    return slots


def place(
    table: TrackTable,
    slots: np.ndarray,
    point: np.ndarray,
    cov: np.ndarray,
    time: np.ndarray,
    cfg: TrackerConfig,
) -> None:
    """Start tracks at given points (triangulated fixes) with unknown velocity."""
    n = slots.size
    P = np.zeros((n, 6, 6))
    P[:, :3, :3] = cov
    P[:, 3:, 3:] = _velocity_cov(
        point, np.full(n, cfg.init_sigma_speed), np.full(n, cfg.init_sigma_vspeed)
    )
    _start(table, slots, np.concatenate([point, np.zeros((n, 3))], axis=1), P, time)


def seeds(m: Measurements, rows: np.ndarray, k: float, max_speed: float) -> np.ndarray:
    """One seed per group of unclaimed detections that may be one new target.

    Detections of different sensors within each other's reach (plus the distance a
    target flies between their times), or sharing an id, form a group; its seed is the
    most precise detection, preferring one with an id.
    """
    if rows.size < 2:
        return rows
    reach = k * m.reach[rows]
    pts = project(m.point[rows])
    span = float(m.time[rows].max() - m.time[rows].min())
    i, j = candidate_pairs(pts, reach + max_speed * span, pts, reach)
    keep = i < j
    i, j = i[keep], j[keep]
    dist = np.linalg.norm(pts[i] - pts[j], axis=1)
    dt = np.abs(m.time[rows[i]] - m.time[rows[j]])
    ids_i, ids_j = m.ids[rows[i]], m.ids[rows[j]]
    same = (
        (m.sensor[rows[i]] != m.sensor[rows[j]])
        & (dist <= reach[i] + reach[j] + max_speed * dt + MARGIN)
        & ((ids_i == "") | (ids_j == "") | (ids_i == ids_j))
    ) | ((ids_i == ids_j) & (ids_i != ""))
    n = rows.size
    graph = coo_matrix((np.ones(int(same.sum())), (i[same], j[same])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    score = m.reach[rows] * np.where(m.ids[rows] != "", 1e-3, 1.0)
    order = np.lexsort((score, label))
    first = np.r_[True, np.diff(label[order]) != 0]
    return rows[order[first]]


def confirm(table: TrackTable, slots: np.ndarray, cfg: TrackerConfig) -> np.ndarray:
    """Promote updated tentative tracks with enough hits, coasting ones back; return the
    slots that became CONFIRMED from TENTATIVE."""
    st = table.status[slots]
    coop = table.coop[slots] > 0
    need = np.where(coop, cfg.confirm_hits_cooperative, cfg.confirm_hits)
    score_ok = coop | (table.llr[slots] >= cfg.confirm_score)
    newly = slots[(st == TENTATIVE) & (table.hits[slots] >= need) & score_ok]
    table.status[newly] = CONFIRMED
    back = slots[st == COASTING]
    table.status[back] = CONFIRMED
    return newly


@dataclass(slots=True)
class Expiry:
    """What one lifecycle check changed."""

    coasting: np.ndarray  # slots that started coasting
    deleted: np.ndarray  # confirmed/coasting slots deleted (their deletion is reported)
    dropped: np.ndarray  # tentative slots deleted (never reported)


def expire(table: TrackTable, now: float, cfg: TrackerConfig) -> Expiry:
    """Coast and delete tracks by the time since their last hit (slots not yet released)."""
    act = table.active()
    st = table.status[act]
    gap = now - table.t_hit[act]
    rev = np.maximum(table.revisit[act], 0.5)
    tent = st == TENTATIVE
    speed = np.linalg.norm(table.x[act, 3:], axis=1)
    # A state no target can have (faster than any, far below ground) is a diverged
    # track: it goes, whatever its status.
    alt = approx_altitude(table.x[act, :3])
    sigma = np.sqrt(np.maximum(np.trace(table.P[act, :3, :3], axis1=1, axis2=2), 0.0))
    impossible = (table.hits[act] >= 2) & (
        (speed > cfg.max_speed) | (alt + 3.0 * sigma < -1000.0) | (alt > 60000.0)
    )
    drop = tent & ((gap > cfg.tentative_max_gap_scans * rev) | impossible)
    live = (st == CONFIRMED) | (st == COASTING)
    delete = live & (
        (gap > np.maximum(cfg.delete_after, cfg.delete_after_scans * rev)) | impossible
    )
    coast = (st == CONFIRMED) & ~delete & (gap > cfg.coast_after_scans * rev)
    table.status[act[coast]] = COASTING
    # A missed update of a confirmed track is most often a manoeuvre that left the gate:
    # open the gate for the next plot (adaptive process noise, see filter.py).
    grown = act[coast]
    table.q_scale[grown] = np.maximum(table.q_scale[grown], cfg.q_miss_scale)
    return Expiry(coasting=act[coast], deleted=act[delete], dropped=act[drop])


def merge_candidates(table: TrackTable, now: float, cfg: TrackerConfig) -> list[tuple[int, int]]:
    """Pairs (survivor, absorbed) of tracks that passed the merge test ``merge_checks``
    times in a row; each slot appears at most once."""
    act = table.active()
    if act.size < 2:
        return []
    dt = now - table.t[act]
    x = table.x[act].copy()
    x[:, :3] += dt[:, None] * x[:, 3:]
    P = table.P[act]
    k = float(np.sqrt(chi2_gate(cfg.merge_probability, 3)))
    reach = k * np.sqrt(np.trace(P[:, :3, :3], axis1=1, axis2=2)) + np.abs(dt) * np.linalg.norm(
        x[:, 3:], axis=1
    )
    ii, jj = candidate_pairs(project(x[:, :3]), reach, project(x[:, :3]), np.zeros(act.size))
    keep = ii < jj
    ii, jj = ii[keep], jj[keep]
    passed = np.zeros(act.size, dtype=bool)
    result: list[tuple[int, int]] = []
    if ii.size:
        # Tracks holding different identities of one kind are different aircraft.
        clash = (table.coop[act[ii]] & table.coop[act[jj]]) > 0
        ii, jj = ii[~clash], jj[~clash]
    if ii.size:
        diff = x[ii] - x[jj]
        S = P[ii] + P[jj]
        d2 = np.einsum("ni,ni->n", diff, np.linalg.solve(S, diff[:, :, None])[:, :, 0])
        ok = d2 <= chi2_gate(cfg.merge_probability, 6)
        ii, jj, d2 = ii[ok], jj[ok], d2[ok]
        passed[ii] = passed[jj] = True
        table.merge_count[act[passed]] += 1
        used: set[int] = set()
        for p in np.argsort(d2).tolist():
            a, b = int(act[ii[p]]), int(act[jj[p]])
            if a in used or b in used:
                continue
            if min(table.merge_count[a], table.merge_count[b]) < cfg.merge_checks:
                continue
            used.update((a, b))
            result.append(_survivor_first(table, a, b))
    table.merge_count[act[~passed]] = 0
    return result


def _survivor_first(table: TrackTable, a: int, b: int) -> tuple[int, int]:
    """Confirmed beats coasting beats tentative; then the older track survives."""
    rank = {CONFIRMED: 0, COASTING: 1, TENTATIVE: 2}
    ka = (rank.get(int(table.status[a]), 3), int(table.serial[a]))
    kb = (rank.get(int(table.status[b]), 3), int(table.serial[b]))
    return (a, b) if ka <= kb else (b, a)


def absorb(table: TrackTable, survivor: int, absorbed: int) -> None:
    """Move what the absorbed track knew into the survivor (its slot is released later)."""
    for ident in list(table.ids.get(absorbed, ())):
        table.attach_id(survivor, ident)
    table.hits[survivor] += table.hits[absorbed]
    table.t_radar[survivor] = max(table.t_radar[survivor], table.t_radar[absorbed])
    table.t_coop[survivor] = max(table.t_coop[survivor], table.t_coop[absorbed])
    table.cls_score[survivor] += table.cls_score[absorbed]
    table.spoof[survivor] |= table.spoof[absorbed]
    # The better-known state wins (smaller position uncertainty).
    if np.trace(table.P[absorbed, :3, :3]) < np.trace(table.P[survivor, :3, :3]):
        table.x[survivor] = table.x[absorbed]
        table.P[survivor] = table.P[absorbed]
        table.t[survivor] = table.t[absorbed]
    table.t_hit[survivor] = max(table.t_hit[survivor], table.t_hit[absorbed])
    table.merge_count[survivor] = 0
