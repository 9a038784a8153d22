"""The compiled assignment solver against scipy's, which it follows step for step."""

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from skywarden.track.lsap import components, lsap


def test_lsap_returns_scipys_assignment_on_matrices_full_of_ties():
    # Costs from {0, 1, 2, 3}: many optimal assignments, so only the same scan order and
    # tie-breaks give the same one. The GNN's clusters are like this (miss columns, 1e12).
    rng = np.random.default_rng(5)
    for _ in range(2000):
        nr = int(rng.integers(1, 8))
        nc = nr + int(rng.integers(0, 6))
        cost = rng.integers(0, 4, (nr, nc)).astype(float)
        cost[rng.random((nr, nc)) < 0.3] = 1e12
        _, cols = linear_sum_assignment(cost)
        assert lsap(cost).tolist() == cols.tolist()


def test_lsap_is_optimal_on_real_valued_costs():
    rng = np.random.default_rng(6)
    for _ in range(500):
        nr = int(rng.integers(1, 12))
        nc = nr + int(rng.integers(0, 12))
        cost = rng.normal(5.0, 3.0, (nr, nc))
        cols = lsap(cost)
        assert len(set(cols.tolist())) == nr
        r, c = linear_sum_assignment(cost)
        assert cost[np.arange(nr), cols].sum() == cost[r, c].sum()
        assert cols.tolist() == c.tolist()


def test_components_label_as_scipy_does():
    """Same labels as scipy's connected_components (numbered by each component's lowest
    node), on sparse and dense random graphs, with isolated nodes, self-loops and repeated
    edges; and no edges at all."""
    rng = np.random.default_rng(5)
    for trial in range(300):
        n = int(rng.integers(1, 60))
        m = int(rng.integers(0, 3 * n))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        want = connected_components(coo_matrix((np.ones(m), (a, b)), shape=(n, n)),
                                    directed=False)[1]
        got = components(n, a, b)
        assert np.array_equal(got, want), trial
    assert components(4, np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == [0, 1, 2, 3]
    assert components(5, np.array([4, 3]), np.array([1, 0])).tolist() == [0, 1, 2, 0, 1]
