"""The compiled assignment solver against scipy's, which it follows step for step."""

import numpy as np
from scipy.optimize import linear_sum_assignment

from skywarden.track.lsap import lsap


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
