"""Track life: initiate, confirm, coast, delete, merge. All steps work on slot arrays.

Initiate (one-point): a detection no track claims starts a TENTATIVE track at its
converted position (position reports directly; polar plots through the polar-to-ENU
Jacobian, with the assumed altitude's spread when a 2-D radar gives no elevation):

    x0 = [p_j, v_j or 0],     P0 = diag(Cov(p_j), Cov(v_0))

where Cov(v_0) is ``init_sigma_speed`` horizontally and ``init_sigma_vspeed`` vertically
unless the detection reports a velocity.

Confirm (sequential probability ratio test): a track's score L is the sum of the
log-likelihood ratios "target rather than clutter" of its updates (filter.track_score_
increment): ln Pd + ln N(r; 0, S) - ln lambda per plot, so it weighs the sensor's clutter
density, its Pd, and how tightly each plot falls where the track predicted it. Each look
that found nothing costs ln(1 - ``miss_pd``) (:func:`sprt_score`; looks are counted in
revisits of the fastest sensor that updated the track since it began). A TENTATIVE track
is CONFIRMED once

    hits >= confirm_hits (2)   and   L_sprt >= confirm_score

and no confirmed or coasting track explains it (below). Were the score an exact
likelihood ratio, a clutter-born track would reach the threshold with probability at
most exp(-confirm_score) (Wald); the plot each track picks is the best in its gate and the
clutter model is only a density, so the threshold carries a margin, checked on the
scenarios. Tracks holding a cooperative identity need only ``confirm_hits_cooperative``
hits: the identity itself rules out clutter.

Not a new target (:func:`explained`): a tentative track lying, horizontally, within the
gate plus ``confirm_clearance`` of a confirmed track is made of that target's plots (ones
a manoeuvring track missed, or a 2-D plot of a high target placed at the assumed
altitude), not of a new target's; with ``same_scan_split``, not where both tracks took
plots of one radar in the same window, more than ``confirm_clearance`` apart (one plot
per target per scan). It loses its score and dies (unless it holds a cooperative
identity, which the merge hands over); next to a coasting track it only waits, so that
a target whose track is lost is picked up again as soon as that track ends.

Prune (the SPRT's lower threshold): a tentative track whose score, misses included, falls
below ``tentative_min_score`` is clutter strung together and dies at once.

Coast: a confirmed track without a hit for ``coast_after_scans`` revisit periods (the scan
period of the sensor that last updated it) is COASTING, and CONFIRMED again on its next
hit.

Lost: a confirmed track that coasts is *lost* from its last hit until the plots it gets
again have won back what the looks without one cost (:func:`lost_score`):

    L_lost = (L - L_at_loss) + n_miss ln(1 - lost_pd)

A target's own plot where the track predicts it adds +8 to +12 and the track is healthy
again; a clutter plot in the wide gate of a track whose target turned away adds little or
less than nothing. The looks are counted as often as the track's plots came before the
loss (``hit_gap``; under four radars every second or so), at least once a revisit: a
track several radars fed and none now finds is lost within seconds, not a minute.

Delete: a tentative track after ``tentative_max_gap_scans`` revisits without a hit (a
target at the edge of cover is seen on one scan in three to seven), one pruned on its
score, or one whose speed is beyond any target's; a confirmed or coasting one after
max(``delete_after`` s, ``delete_after_scans`` revisits) without a hit, or a lost one whose
L_lost falls below ``lost_min_score`` (a plot now and then no longer keeps a track whose
target is gone alive on clutter: on the manoeuvre mix such tracks lived for minutes,
kilometres from any target).

Merge: two tracks of one target (born from two sensors' first plots before either
could claim the other's) are one when the joint test on position and velocity

    d^2 = (x_a - x_b)^T (P_a + P_b)^-1 (x_a - x_b)  <=  chi2_6(P_merge)

passes ``merge_checks`` checks in a row; crossing targets differ in velocity and fail it.
The older confirmed track survives and takes over the other's identities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import lifecycle_kernels as lk
from .associate import MARGIN, candidate_pairs
from .config import TrackerConfig
from .filter import chi2_gate, mahalanobis2, predict
from .measure import Measurements
from .motion import local_up
from .table import COASTING, CONFIRMED, TENTATIVE, TrackTable


def seed_state(m: Measurements, j: np.ndarray, cfg: TrackerConfig) -> tuple[np.ndarray, np.ndarray]:
    """One-point initial states (N, 6) and covariances (N, 6, 6) from measurement rows j."""
    x = np.empty((j.shape[0], 6))
    P = np.empty((j.shape[0], 6, 6))
    _seed_into(m, j, cfg, x, P, np.arange(j.shape[0]))
    return x, P


def _seed_into(
    m: Measurements, j: np.ndarray, cfg: TrackerConfig, x: np.ndarray, P: np.ndarray,
    rows: np.ndarray,
) -> None:
    """seed_state of measurement rows j written into rows ``rows`` of x and P."""
    lk.seed(m.point, m.vel, m.rot, m.point_cov, np.asarray(j, dtype=np.int64),
            cfg.sigma_velocity, cfg.init_sigma_speed, cfg.init_sigma_vspeed, x, P, rows)


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
    _start_times(table, slots, t)


def _start_times(table: TrackTable, slots: np.ndarray, t: np.ndarray) -> None:
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
        _seed_into(m, j, cfg, table.x, table.P, slots)
        _start_times(table, slots, m.time[j])
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
    rows = np.asarray(rows, dtype=np.int64)
    pts, reach, t_reach = lk.seed_points(m.point, m.reach, m.time, rows, k, max_speed)
    i, j = candidate_pairs(pts, t_reach, pts, reach)
    ids = m.ids[rows]
    has_id = ids != ""
    pick = lk.seed_choice(i, j, pts, reach, rows, m.time, m.sensor, m.reach, has_id,
                          ids[i] == ids[j], max_speed, MARGIN)
    return rows[pick]


def sprt_score(
    table: TrackTable, slots: np.ndarray, at: np.ndarray, cfg: TrackerConfig
) -> np.ndarray:
    """The track score of ``slots`` at times ``at`` with the looks that found nothing:

        L_sprt = L + n_miss ln(1 - miss_pd),   n_miss = max(looks - hits, 0)

    where looks = round((at - t_born) / revisit) + 1 counts the revisits of the fastest
    sensor that updated the track since it began. Without the miss term a track could
    wait in clutter for as long as it lives and collect the luckiest plots.
    """
    slots, at = _slots_at(slots, at)
    return lk.sprt_scores(table.llr, table.hits, table.t_born, table.revisit, slots, at,
                          float(np.log1p(-cfg.miss_pd)))


def _slots_at(slots: np.ndarray, at: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Slots as int64 and one time per slot (a single time is every slot's), for the
    score kernels."""
    slots = np.asarray(slots, dtype=np.int64)
    return slots, np.broadcast_to(np.asarray(at, dtype=np.float64), slots.shape)


def lost_score(
    table: TrackTable, slots: np.ndarray, at: np.ndarray, cfg: TrackerConfig
) -> np.ndarray:
    """The score a lost track (``t_lost`` set) has gathered since its last good hit:

        L_lost = (L - L_at_loss) + n_miss ln(1 - lost_pd),
        n_miss = max(looks - hits since the loss, 0),
        looks = floor((at - t_lost) / look_lost)

    with ``look_lost`` the time between the track's plots before the loss, at most its
    revisit and at least 0.5 s (set by :func:`expire` when the track starts to coast).

    A target's own plot, where the track predicts it, adds more than a few misses cost; a
    clutter plot in the wide gate of a lost track adds little or less than nothing.
    """
    slots, at = _slots_at(slots, at)
    return lk.lost_scores(table.llr, table.llr_lost, table.hits, table.hits_lost,
                          table.t_lost, table.look_lost, slots, at,
                          float(np.log1p(-cfg.lost_pd)))


def confirm(table: TrackTable, slots: np.ndarray, cfg: TrackerConfig,
            scan_feeds: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Promote updated tentative tracks that pass the confirmation test (module
    docstring), coasting ones back; return the slots that became CONFIRMED from TENTATIVE.

    Tentative tracks (two hits or more, no cooperative identity) that sit on a confirmed
    track lose their score, so :func:`expire` drops them at once (module docstring).
    ``scan_feeds``: (slots, radars) that took a plot of that radar in this window
    (:func:`explained`)."""
    # The test costs a search among all confirmed tracks: it is made (``check``) where it
    # decides something, on a track's second hit (a duplicate dies young) and before it
    # confirms.
    tent, ready, check = lk.confirm_candidates(
        table.status, table.hits, table.coop, table.llr, table.t_born, table.revisit,
        table.t_hit, np.asarray(slots, dtype=np.int64), int(cfg.confirm_hits),
        int(cfg.confirm_hits_cooperative), float(cfg.confirm_score),
        float(np.log1p(-cfg.miss_pd)))
    on_live = np.zeros(tent.size, dtype=bool)
    on_coasting = np.zeros(tent.size, dtype=bool)
    if check.any():
        on_live[check], on_coasting[check] = explained(table, tent[check], cfg, scan_feeds)
    return lk.confirm_settle(table.status, table.llr, table.coop, tent, ready, on_live,
                             on_coasting)


def explained(
    table: TrackTable, slots: np.ndarray, cfg: TrackerConfig,
    scan_feeds: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``slots`` lie where a confirmed track, or a coasting one, predicts its
    target: two boolean arrays (by a confirmed track, by a coasting track only).

    The test is on horizontal position only: with dp the east-north separation at the
    later of the two state times (the other state predicted there with its own process
    noise), S = P_a + P_b its covariance and u = dp / |dp|,

        |dp| <= sqrt(chi2_2(gate_probability) u^T S u) + confirm_clearance

    A track built from plots that a manoeuvring track missed has a velocity of its own,
    and the altitude of a young track is its least known part (2-D radars, an assumed
    altitude), but it sits on that track. The clearance covers what the covariances do
    not hold: the lag of a track that is missing a turning target's plots, and the
    ground-range error of a 2-D plot of a high target placed at the assumed altitude.
    Tracks holding different identities of one kind are different aircraft and never
    explain each other. With ``same_scan_split`` (off by default: the setting says
    what it cost at an airport's gulls), nor do two tracks that took plots of one radar
    in this window (``scan_feeds``: slots and the radars that fed them) and lie more than
    ``confirm_clearance`` apart: a radar reports a target once a scan, so those plots
    are of two targets. Without this, in a stream of drones a few kilometres apart the
    young track of each drone that came into cover sat inside a neighbour's gate and
    died, again and again (mass-attack, the 40 Shaheds to Odesa, 2.8 km apart, 120 km
    from a radar that saw each on most scans: confirmed tracks held them 69 % of their
    observable time, 77 % with this). Closer than the clearance, two plots of one scan
    are one radar cell's business (clutter, a split plot) and the rule stands: without
    that limit a clutter plot beside an aircraft made a false track on the manoeuvring
    mix.
    """
    by_live = np.zeros(slots.size, dtype=bool)
    by_coast = np.zeros(slots.size, dtype=bool)
    out = (by_live, by_coast)
    if not slots.size:
        return out
    slots = np.asarray(slots, dtype=np.int64)
    ref = lk.reference_tracks(table.status, slots)
    if not ref.size:
        return out
    now = float(table.t[slots].max())
    k = float(np.sqrt(chi2_gate(cfg.gate_probability, 3)))
    # Pairs within reach of each other (each track's position spread and its motion
    # since its state time): the pre-gate's grid search.
    pa, ra = lk.spread(table.x, table.P, table.t, slots, now, k, cfg.q_horizontal,
                       cfg.confirm_clearance)
    pb, rb = lk.spread(table.x, table.P, table.t, ref, now, k, cfg.q_horizontal, 0.0)
    ii, jj = candidate_pairs(pa, ra, pb, rb)
    if not ii.size:
        return out
    a, b = slots[ii], ref[jj]
    keep = (table.coop[a] & table.coop[b]) == 0
    ii, a, b = ii[keep], a[keep], b[keep]
    if not ii.size:
        return out
    xa, Pa = _predict_to(table, a, now, cfg)
    xb, Pb = _predict_to(table, b, now, cfg)
    inside = lk.clearance(xa, Pa, xb, Pb, float(chi2_gate(cfg.gate_probability, 2)),
                          float(cfg.confirm_clearance))
    if scan_feeds is not None and inside.any():
        # Horizontal separation (the up axis at a's point, spherical earth: km scale).
        up = xa[:, :3] / np.linalg.norm(xa[:, :3], axis=1, keepdims=True)
        dp = xa[:, :3] - xb[:, :3]
        across = np.linalg.norm(dp - np.sum(dp * up, axis=1, keepdims=True) * up, axis=1)
        inside &= ~(_same_scan(a, b, *scan_feeds) & (across > cfg.confirm_clearance))
    live = table.status[b] == CONFIRMED
    by_live[ii[inside & live]] = True
    by_coast[ii[inside & ~live]] = True
    by_coast &= ~by_live
    return out


def _same_scan(a: np.ndarray, b: np.ndarray, fed: np.ndarray, radar: np.ndarray) -> np.ndarray:
    """For each pair (a[q], b[q]), whether both slots took a plot of one radar: ``fed``
    and ``radar`` list (slot, radar) feeds."""
    if not fed.size:
        return np.zeros(a.size, dtype=bool)
    slots, row = np.unique(fed, return_inverse=True)
    radars = np.zeros((slots.size + 1, int(radar.max()) + 1), dtype=bool)  # last row: none
    radars[row.reshape(-1), radar] = True

    def of(s: np.ndarray) -> np.ndarray:
        at = np.searchsorted(slots, s).clip(0, slots.size - 1)
        return radars[np.where(slots[at] == s, at, slots.size)]

    return (of(a) & of(b)).any(axis=1)


def _predict_to(
    table: TrackTable, s: np.ndarray, now: float, cfg: TrackerConfig
) -> tuple[np.ndarray, np.ndarray]:
    return predict(
        table.x[s],
        table.P[s],
        np.maximum(now - table.t[s], 0.0),
        cfg.q_horizontal,
        cfg.q_vertical,
        table.q_scale[s],
        table.omega[s],
    )


@dataclass(slots=True)
class Expiry:
    """What one lifecycle check changed."""

    coasting: np.ndarray  # slots that started coasting
    deleted: np.ndarray  # confirmed/coasting slots deleted (their deletion is reported)
    dropped: np.ndarray  # tentative slots deleted (never reported)


def expire(table: TrackTable, now: float, cfg: TrackerConfig) -> Expiry:
    """Coast and delete tracks by the time since their last hit (slots not yet released):
    the rules of the module docstring, in one pass over the table (lifecycle_kernels)."""
    limits = (cfg.max_speed, cfg.tentative_min_score, cfg.tentative_max_gap_scans,
              cfg.delete_after, cfg.delete_after_scans, cfg.coast_after_scans,
              cfg.lost_min_score, cfg.q_miss_scale, np.log1p(-cfg.miss_pd),
              np.log1p(-cfg.lost_pd))
    coasting, deleted, dropped = lk.expire(
        table.status, table.hits, table.t_hit, table.t_born, table.revisit, table.llr,
        table.x, table.P, (table.t_lost, table.llr_lost, table.hits_lost, table.look_lost),
        table.hit_gap, table.q_scale, table.q_cap, float(now),
        tuple(float(v) for v in limits))
    return Expiry(coasting=coasting, deleted=deleted, dropped=dropped)


def merge_candidates(table: TrackTable, now: float, cfg: TrackerConfig) -> list[tuple[int, int]]:
    """Pairs (survivor, absorbed) of tracks that passed the merge test ``merge_checks``
    times in a row; each slot appears at most once."""
    act = table.active()
    if act.size < 2:
        return []
    k = float(np.sqrt(chi2_gate(cfg.merge_probability, 3)))
    x, pts, reach = lk.merge_points(table.x, table.P, table.t, act, float(now), k)
    ii, jj = candidate_pairs(pts, reach, pts, np.zeros(act.size))
    # Tracks holding different identities of one kind are different aircraft.
    ii, jj, diff, S = lk.merge_pairs(x, table.P, table.coop, act, ii, jj)
    result: list[tuple[int, int]] = []
    if ii.size:
        d2 = mahalanobis2(S, diff)
        ok = d2 <= chi2_gate(cfg.merge_probability, 6)
        ii, jj, d2 = ii[ok], jj[ok], d2[ok]
    lk.count_merge_checks(table.merge_count, act, ii, jj)
    if ii.size:
        used: set[int] = set()
        for p in np.argsort(d2).tolist():
            a, b = int(act[ii[p]]), int(act[jj[p]])
            if a in used or b in used:
                continue
            if min(table.merge_count[a], table.merge_count[b]) < cfg.merge_checks:
                continue
            used.update((a, b))
            result.append(_survivor_first(table, a, b))
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
    table.radar_hits[survivor] += table.radar_hits[absorbed]
    table.t_radar[survivor] = max(table.t_radar[survivor], table.t_radar[absorbed])
    table.t_coop[survivor] = max(table.t_coop[survivor], table.t_coop[absorbed])
    table.cls_score[survivor] += table.cls_score[absorbed]
    table.cls_hint[survivor] += table.cls_hint[absorbed]
    table.spoof[survivor] |= table.spoof[absorbed]
    # The better-known state wins (smaller position uncertainty).
    if np.trace(table.P[absorbed, :3, :3]) < np.trace(table.P[survivor, :3, :3]):
        table.x[survivor] = table.x[absorbed]
        table.P[survivor] = table.P[absorbed]
        table.t[survivor] = table.t[absorbed]
    table.t_hit[survivor] = max(table.t_hit[survivor], table.t_hit[absorbed])
    table.t_lost[survivor] = np.nan  # the hits counted since a loss now include another's
    table.merge_count[survivor] = 0
