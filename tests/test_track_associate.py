"""Spatial pre-gate and global-nearest-neighbour assignment."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.geo import geodetic_to_ecef
from skywarden.track.associate import MARGIN, SPHERE_RADIUS, assign, candidate_pairs, project


def _brute(tp, tr, dp, dr):
    d = np.linalg.norm(tp[:, None] - dp[None], axis=2)
    i, j = np.nonzero(d <= tr[:, None] + dr[None] + MARGIN)
    return set(zip(i.tolist(), j.tolist(), strict=True))


def test_candidate_search_finds_exactly_the_pairs_within_reach():
    rng = np.random.default_rng(0)
    n_t, n_d = 400, 300
    lat = rng.uniform(50, 54, n_t + n_d)
    lon = rng.uniform(14, 24, n_t + n_d)
    pts = project(geodetic_to_ecef(lat, lon, rng.uniform(0, 12000, lat.size)))
    tp, dp = pts[:n_t], pts[n_t:]
    # Radii spanning every bucket: a few huge, most small.
    tr = rng.choice([500.0, 3000.0, 20000.0, 80000.0], n_t, p=[0.6, 0.3, 0.08, 0.02])
    dr = rng.choice([300.0, 5000.0, 60000.0], n_d, p=[0.8, 0.18, 0.02])
    i, j = candidate_pairs(tp, tr, dp, dr)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    assert got == _brute(tp, tr, dp, dr)
    assert len(got) > 100
    # A small case agrees too.
    i2, j2 = candidate_pairs(tp[:20], tr[:20], dp[:30], dr[:30])
    assert set(zip(i2.tolist(), j2.tolist(), strict=True)) == _brute(
        tp[:20], tr[:20], dp[:30], dr[:30]
    )


def _search(name, tp, tr, dp, dr):
    """Pairs of one of the pre-gate's two searches, called directly (ball_pairs picks one
    by the number of pairs)."""
    from skywarden.track import associate, kernels

    args = (np.ascontiguousarray(tp, dtype=np.float64), np.asarray(tr, dtype=np.float64),
            np.ascontiguousarray(dp, dtype=np.float64), np.asarray(dr, dtype=np.float64),
            MARGIN, associate.SLACK)
    if name == "grid":
        i, j = kernels._grid_pairs(*args, associate.BUCKETS)
    else:
        i, j = kernels._direct_pairs(*args)
    pairs = list(zip(i.tolist(), j.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)  # never a pair twice
    return set(pairs)


@pytest.mark.parametrize("name", ["grid", "direct"])
def test_both_searches_find_exactly_the_pairs_within_reach(name):
    # ball_pairs tests every pair up to _DIRECT_PAIRS pairs and searches a grid beyond:
    # each must find the same pairs on any input, large or small.
    rng = np.random.default_rng(5)
    n_t, n_d = 300, 200
    lat, lon = rng.uniform(50, 54, n_t + n_d), rng.uniform(14, 24, n_t + n_d)
    pts = project(geodetic_to_ecef(lat, lon, rng.uniform(0, 12000, lat.size)))
    tp, dp = pts[:n_t], pts[n_t:]
    tr = rng.choice([500.0, 3000.0, 20000.0, 80000.0], n_t, p=[0.6, 0.3, 0.08, 0.02])
    dr = rng.choice([300.0, 5000.0, 60000.0], n_d, p=[0.8, 0.18, 0.02])
    want = _brute(tp, tr, dp, dr)
    assert len(want) > 100
    assert _search(name, tp, tr, dp, dr) == want
    # non-finite values: an infinite reach meets every point, a NaN reach or point none
    tr[1], tr[2], tp[3], dp[4] = np.inf, np.nan, np.nan, np.inf
    got = _search(name, tp, tr, dp, dr)
    assert {j for i, j in got if i == 1} == set(range(n_d)) - {4}
    assert not {i for i, _ in got} & {2, 3}
    assert not {j for _, j in got} & {4}


def test_candidate_search_past_the_direct_bound():
    # ball_pairs on a window with more pairs than it tests directly (its grid) agrees with
    # the brute force, as it does below the bound (the test before this one)
    from skywarden.track import kernels

    rng = np.random.default_rng(6)
    n_t, n_d = 1000, 300
    assert n_t * n_d > kernels._DIRECT_PAIRS
    lat, lon = rng.uniform(50, 54, n_t + n_d), rng.uniform(14, 24, n_t + n_d)
    pts = project(geodetic_to_ecef(lat, lon, 0.0))
    tr, dr = rng.uniform(100, 5000, n_t), rng.uniform(100, 3000, n_d)
    i, j = candidate_pairs(pts[:n_t], tr, pts[n_t:], dr)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == _brute(pts[:n_t], tr, pts[n_t:], dr)


def test_candidate_search_edge_cases():
    # One huge reach among small ones (that track tests every point instead of its many
    # cells), an infinite reach (every detection), a NaN reach or point (nothing), and
    # empty inputs; never a pair twice.
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(50, 54, 700), rng.uniform(14, 24, 700)
    pts = project(geodetic_to_ecef(lat, lon, 0.0))
    tp, dp = pts[:400].copy(), pts[400:].copy()
    tr, dr = np.full(400, 300.0), np.full(300, 100.0)
    tr[0] = 150000.0
    i, j = candidate_pairs(tp, tr, dp, dr)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == _brute(tp, tr, dp, dr)
    assert len(set(zip(i.tolist(), j.tolist(), strict=True))) == i.size
    tr[1], tr[2], tp[3] = np.inf, np.nan, np.nan
    i, j = candidate_pairs(tp, tr, dp, dr)
    assert sorted(j[i == 1].tolist()) == list(range(300))
    assert not np.isin(i, [2, 3]).any()
    e, f = candidate_pairs(tp[:0], tr[:0], dp, dr)
    assert e.size == f.size == 0
    e, f = candidate_pairs(tp, tr, dp[:0], dr[:0])
    assert e.size == f.size == 0


def test_projection_never_increases_horizontal_separation():
    a = geodetic_to_ecef(52.0, 21.0, 11000.0)
    b = geodetic_to_ecef(52.1, 21.1, 11000.0)
    ground = np.linalg.norm(geodetic_to_ecef(52.0, 21.0, 0.0) - geodetic_to_ecef(52.1, 21.1, 0.0))
    sep = np.linalg.norm(project(a[None])[0] - project(b[None])[0])
    assert sep <= np.linalg.norm(a - b)
    assert abs(sep - ground) < 0.005 * ground


def test_gnn_prefers_the_globally_best_assignment():
    # Track 0 is nearest to detection 0, but taking it leaves track 1 with nothing;
    # the global optimum gives 0->1 and 1->0.
    key = np.array([0, 0, 1])
    det = np.array([10, 11, 10])
    cost = np.array([1.0, 3.0, 2.0])
    miss = np.full(3, 16.0)
    chosen = assign(key, det, cost, miss)
    assert chosen.tolist() == [False, True, True]


def test_gnn_leaves_a_track_unassigned_when_that_is_cheaper():
    key = np.array([0, 1])
    det = np.array([5, 5])
    cost = np.array([2.0, 15.0])
    chosen = assign(key, det, cost, np.array([16.0, 16.0]))
    assert chosen.tolist() == [True, False]


def test_gnn_independent_clusters_and_lone_pairs():
    key = np.array([0, 1, 2, 2, 3])
    det = np.array([0, 1, 2, 3, 3])
    cost = np.array([5.0, 1.0, 4.0, 1.0, 0.5])
    chosen = assign(key, det, cost, np.full(5, 16.0))
    # Lone pairs taken; in the contested cluster {2, 3} x {2, 3}: 2->2 (4) + 3->3 (0.5).
    assert chosen.tolist() == [True, True, True, False, True]


def test_gnn_matches_a_full_assignment_on_random_graphs():
    # Stars are solved in closed form and the rest by linear_sum_assignment per cluster;
    # the total must equal one assignment over the whole problem.
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(11)
    for _ in range(200):
        nk, nd = rng.integers(1, 7), rng.integers(1, 7)
        mask = rng.random((nk, nd)) < 0.35
        if not mask.any():
            continue
        key, det = np.nonzero(mask)
        cost = rng.uniform(0, 20, key.size)
        miss_k = rng.uniform(5, 16, nk)
        chosen = assign(key, det, cost, miss_k[key])
        assert np.bincount(key[chosen], minlength=nk).max() <= 1
        assert np.bincount(det[chosen], minlength=nd).max() <= 1
        total = cost[chosen].sum() + miss_k[np.setdiff1d(np.arange(nk), key[chosen])].sum()
        big = 1e9
        mat = np.full((nk, nd + nk), big)
        mat[key, det] = cost
        mat[np.arange(nk), nd + np.arange(nk)] = miss_k
        r, c = linear_sum_assignment(mat)
        assert total == pytest.approx(mat[r, c].sum())


def test_search_points_match_the_reach_formula():
    # kernels.search_points against the formula written out in numpy: the track's
    # straight-line point at mid-window, projected, and
    # k (sqrt tr P_pos + |dt| sqrt tr P_vel + sqrt(q |dt|^3)) + half v + |omega| v |dt|^2 / 2.
    from skywarden.track.kernels import search_points

    rng = np.random.default_rng(3)
    n = 50
    x = np.concatenate([geodetic_to_ecef(rng.uniform(45, 60, n), rng.uniform(10, 30, n),
                                         rng.uniform(0, 12000, n)).reshape(n, 3),
                        rng.normal(0, 150, (n, 3))], axis=1)
    A = rng.normal(0, 30, (n, 6, 6))
    P = A @ np.swapaxes(A, 1, 2)
    t = rng.uniform(90, 100, n)
    q_scale, omega = rng.uniform(1, 20, n), rng.normal(0, 0.05, n)
    cand = np.sort(rng.choice(n, 30, replace=False))
    t_mid, half, q, k = 100.4, 0.5, 30.0, 4.0
    pts, reach = search_points(x, P, t, q_scale, omega, cand, t_mid, half, q, k,
                               SPHERE_RADIUS)
    dt = t_mid - t[cand]
    adt = np.abs(dt) + half
    v = np.linalg.norm(x[cand, 3:], axis=1)
    sigma = (np.sqrt(np.trace(P[cand, :3, :3], axis1=1, axis2=2))
             + adt * np.sqrt(np.trace(P[cand, 3:, 3:], axis1=1, axis2=2))
             + np.sqrt(q * q_scale[cand] * adt**3))
    want = k * sigma + half * v + 0.5 * np.abs(omega[cand]) * v * adt**2
    np.testing.assert_allclose(reach, want, rtol=1e-12)
    np.testing.assert_allclose(pts, project(x[cand, :3] + dt[:, None] * x[cand, 3:]),
                               rtol=1e-12)


def test_coverage_gate_decides_as_the_numpy_formula_at_its_boundary():
    # kernels' coverage gate of a bearing's pair against the numpy steps the tracker ran
    # before it was compiled, with each reach within a few ulps of where the decision
    # flips: its sums must be numpy's, term for term, to decide the same.
    from skywarden.geo import row_norm
    from skywarden.track.kernels import _beyond_coverage
    from skywarden.track.motion import local_up

    rng = np.random.default_rng(5)
    n, k = 2000, 3.7
    xm = np.concatenate([geodetic_to_ecef(rng.uniform(40, 60, n), rng.uniform(10, 30, n),
                                          rng.uniform(0, 3000, n)).reshape(n, 3),
                         rng.normal(0, 50, (n, 3))], axis=1)
    A = rng.normal(0, 40, (n, 6, 6))
    Pm = A @ np.swapaxes(A, 1, 2)
    site = xm[:, :3] + rng.normal(0, 3000, (n, 3))
    up = local_up(xm[:, :3])
    rel = xm[:, :3] - site
    ground = row_norm(rel - np.einsum("ni,ni->n", rel, up)[:, None] * up)
    P3 = Pm[:, :3, :3]
    var_h = np.trace(P3, axis1=1, axis2=2) - np.einsum("ni,nij,nj->n", up, P3, up)
    spread = k * np.sqrt(np.maximum(var_h, 0.0))
    reach = (ground - spread) * (1.0 + rng.integers(-4, 5, n) * 2.0**-52)
    want = ground > reach + spread
    got = np.array([_beyond_coverage(xm[q], Pm[q], site[q], reach[q], k) for q in range(n)])
    assert 0 < want.sum() < n
    np.testing.assert_array_equal(got, want)
