"""Compiled (numba) linear sum assignment for the GNN's many small contested clusters.

The union-find that finds the clusters also serves :func:`components`.

Two minutes of 10,000 targets hold some 8,000 contested clusters of a few pairs each.
scipy's ``linear_sum_assignment`` solves each in microseconds, but building each one's
matrix in numpy took some thirty array calls, twenty times the solve. Here the clusters
are found, built and solved in one compiled loop.

The solver is the shortest augmenting path method of Crouse (2016), the one scipy uses
(``rectangular_lsap``): rows are added one at a time, each by a Dijkstra search over
reduced costs, with scipy's scan order and tie-breaks (the lowest reduced cost; among
equals the last unassigned column scanned, else the first), so it returns the same
assignment as scipy, not only one of equal cost: tests compare the two on matrices full
of ties.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lsap(cost: np.ndarray) -> np.ndarray:
    """Column of each row in a minimum-cost assignment of ``cost`` (nr, nc), nr <= nc,
    finite entries. Equal to ``scipy.optimize.linear_sum_assignment(cost)[1]``."""
    nr, nc = cost.shape
    u = np.zeros(nr)
    v = np.zeros(nc)
    spc = np.empty(nc)  # shortest path cost to each column
    path = np.full(nc, -1, dtype=np.int64)
    col4row = np.full(nr, -1, dtype=np.int64)
    row4col = np.full(nc, -1, dtype=np.int64)
    sr = np.zeros(nr, dtype=np.bool_)
    sc = np.zeros(nc, dtype=np.bool_)
    remaining = np.empty(nc, dtype=np.int64)
    for cur in range(nr):
        # Dijkstra from row cur over reduced costs until an unassigned column is reached.
        for it in range(nc):
            remaining[it] = nc - it - 1
        n_rem = nc
        sr[:] = False
        sc[:] = False
        spc[:] = np.inf
        min_val = 0.0
        i = cur
        sink = -1
        while sink == -1:
            index = -1
            lowest = np.inf
            sr[i] = True
            for it in range(n_rem):
                j = remaining[it]
                r = min_val + cost[i, j] - u[i] - v[j]
                if r < spc[j]:
                    path[j] = i
                    spc[j] = r
                if spc[j] < lowest or (spc[j] == lowest and row4col[j] == -1):
                    lowest = spc[j]
                    index = it
            min_val = lowest
            j = remaining[index]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            sc[j] = True
            n_rem -= 1
            remaining[index] = remaining[n_rem]
        # dual update
        u[cur] += min_val
        for i in range(nr):
            if sr[i] and i != cur:
                u[i] += min_val - spc[col4row[i]]
        for j in range(nc):
            if sc[j]:
                v[j] -= min_val - spc[j]
        # augment along the path back to cur
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            col4row[i], j = j, col4row[i]
            if i == cur:
                break
    return col4row


@njit(cache=True)
def _codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Compact codes 0..n-1 of ``values`` in increasing order of value, and n."""
    order = np.argsort(values, kind="mergesort")
    code = np.empty(values.size, dtype=np.int64)
    n = 0
    for i in range(values.size):
        if i > 0 and values[order[i]] != values[order[i - 1]]:
            n += 1
        code[order[i]] = n
    return code, n + 1 if values.size else 0


@njit(cache=True)
def _root(parent: np.ndarray, a: int) -> int:
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@njit(cache=True)
def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the undirected graph on nodes 0..n-1 with edges (a, b):
    each node's label, numbered in the order of each component's lowest node (the labels
    scipy's ``connected_components`` gives). Union-find, without scipy's sparse matrix:
    the tracker asks this of a few dozen nodes every window."""
    parent = np.arange(n)
    for e in range(a.size):
        r, q = _root(parent, a[e]), _root(parent, b[e])
        if r != q:
            parent[max(r, q)] = min(r, q)
    label = np.empty(n, dtype=np.int32)
    count = 0
    for v in range(n):
        r = _root(parent, v)
        if r == v:
            label[v] = count
            count += 1
        else:
            label[v] = label[r]  # r < v: labelled already
    return label


@njit(cache=True)
def gnn(key: np.ndarray, det: np.ndarray, cost: np.ndarray, miss: np.ndarray,
        big: float) -> np.ndarray:
    """associate.assign, compiled (its docstring): the clusters are the connected
    components of the (key, detection) graph, found by union-find; a star (one key or one
    detection) takes its pair of least ``cost - miss`` if that is negative (ties: the
    first pair); a contested cluster is solved by :func:`lsap`."""
    n = key.size
    chosen = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return chosen
    k, nk = _codes(key)
    d, nd = _codes(det)
    parent = np.arange(nk + nd)
    for p in range(n):
        a, b = _root(parent, k[p]), _root(parent, nk + d[p])
        if a != b:
            parent[max(a, b)] = min(a, b)
    comp = np.empty(n, dtype=np.int64)
    for p in range(n):
        comp[p] = _root(parent, k[p])
    keys_in = np.zeros(nk + nd, dtype=np.int64)
    dets_in = np.zeros(nk + nd, dtype=np.int64)
    for a in range(nk):
        keys_in[_root(parent, a)] += 1
    for b in range(nd):
        dets_in[_root(parent, nk + b)] += 1
    best = np.full(nk + nd, -1, dtype=np.int64)
    n_contested = 0
    for p in range(n):
        c = comp[p]
        if keys_in[c] == 1 or dets_in[c] == 1:
            if best[c] == -1 or cost[p] - miss[p] < cost[best[c]] - miss[best[c]]:
                best[c] = p
        else:
            n_contested += 1
    for c in range(nk + nd):
        p = best[c]
        if p >= 0 and cost[p] - miss[p] < 0.0:
            chosen[p] = True
    if n_contested:
        contested = np.empty(n_contested, dtype=np.int64)
        m = 0
        for p in range(n):
            c = comp[p]
            if not (keys_in[c] == 1 or dets_in[c] == 1):
                contested[m] = p
                m += 1
        order = contested[np.argsort(comp[contested], kind="mergesort")]
        cuts = [0]
        for i in range(1, order.size):
            if comp[order[i]] != comp[order[i - 1]]:
                cuts.append(i)
        cuts.append(order.size)
        solve_clusters(order, np.array(cuts, dtype=np.int64), k, d, cost, miss, big, chosen)
    return chosen


@njit(cache=True)
def solve_clusters(order: np.ndarray, starts: np.ndarray, key: np.ndarray, det: np.ndarray,
                   cost: np.ndarray, miss: np.ndarray, big: float,
                   chosen: np.ndarray) -> None:
    """Solve each contested cluster ``order[starts[g]:starts[g + 1]]`` (pair indices) and
    set ``chosen`` at the pairs assigned (associate.assign's matrix: rows the cluster's
    keys in increasing order, columns its detections in increasing order, then one miss
    column per row). ``key`` and ``det`` are compact (0..n-1) codes."""
    row_of = np.full(key.max() + 1, -1, dtype=np.int64)
    col_of = np.full(det.max() + 1, -1, dtype=np.int64)
    for g in range(starts.size - 1):
        group = order[starts[g]:starts[g + 1]]
        keys = np.unique(key[group])
        dets = np.unique(det[group])
        nr, nc = keys.size, dets.size
        for a in range(nr):
            row_of[keys[a]] = a
        for b in range(nc):
            col_of[dets[b]] = b
        mat = np.full((nr, nc + nr), big)
        pair_of = np.full((nr, nc), -1, dtype=np.int64)
        for p in group:
            r, c = row_of[key[p]], col_of[det[p]]
            mat[r, c] = cost[p]
            mat[r, nc + r] = miss[p]
            pair_of[r, c] = p
        col4row = lsap(mat)
        for r in range(nr):
            c = col4row[r]
            if c < nc:
                chosen[pair_of[r, c]] = True
