"""The compiled walks (assess/walks.py) against the walks written out one path at a
time in plain Python: the same points, the same changes, to the bit; the event buffers
running out part-way; the cone."""

import functools

import numpy as np
import pytest

from skywarden.assess import Assessor, walks
from skywarden.assess.clearance import SECTORS, SHIFT, UNIT
from skywarden.assess.plane import Paths
from skywarden.assess.predict import REGION_STEP, _on_grid, _span

MIN_STEP = 2000.0


@functools.cache
def raster():
    return Assessor().raster


def cells(n: int, seed: int):
    """Paths of tracks over and around the borders' box (some off it), in cells of the
    padded grid, with where each is on the grid."""
    r = raster()
    rng = np.random.default_rng(seed)
    lat, lon = rng.uniform(36.0, 74.0, n), rng.uniform(5.0, 48.0, n)
    paths = Paths.fan(r.plane, lat, lon, rng.uniform(0.0, 360.0, n), np.zeros((n, 1)),
                      rng.uniform(20.0, 300.0, n), 1800.0)
    x0, y0, dx, dy, enter, leave = _on_grid(r, paths, np.arange(n))
    lend = np.minimum(paths.lam_max / r.cell, leave)
    lam_from = rng.uniform(0.0, 1.0, n) * np.maximum(lend, 0.0) * (rng.random(n) < 0.5)
    return x0, y0, dx, dy, lam_from, enter, lend


def march_by_hand(x0, y0, dx, dy, lam_from, enter, lend, value, bound, table, nbx, sector,
                  nx2, ms, target, max_iterations):
    """predict.march's walk, one path at a time (its docstring and the module's)."""
    out = []
    for i in range(x0.size):
        if lend[i] < enter[i]:
            continue
        lam = min(max(lam_from[i], enter[i]), lend[i])
        lprev, prev, walking = lam, walks.NOTHING, True
        for _ in range(max_iterations):
            ix, iy = int(x0[i] + lam * dx[i]), int(y0[i] + lam * dy[i])
            v, r = int(value[iy * nx2 + ix]), int(bound[iy * nx2 + ix])
            if table.size:
                r = max(r, int(table[((iy >> SHIFT) * nbx + (ix >> SHIFT)) * SECTORS
                                     + sector[i]]) * UNIT)
            hit = v == target[i] if target.size else v != prev
            if hit:
                out.append((i, lprev, lam, v))
            if r >= lend[i] - lam or (hit and target.size):
                walking = False
                break
            lprev, prev = lam, v
            lam = min(lam + max(r, ms), lend[i])
        if not walking:
            continue
        before, before_lam = prev, lprev
        for s in range(1, int(np.ceil((lend[i] - lprev) / ms)) + 1):
            lam_s = min(lprev + s * ms, lend[i])
            v = int(value[int(y0[i] + lam_s * dy[i]) * nx2 + int(x0[i] + lam_s * dx[i])])
            if v == target[i] if target.size else v != before:
                out.append((i, before_lam, lam_s, v))
                if target.size:
                    break
            before, before_lam = v, lam_s
    return out


def run_march(args, cap):
    i, a, b, v = walks.march_all(*args, cap)
    return list(zip(i.tolist(), a.tolist(), b.tolist(), v.tolist(), strict=True))


@pytest.mark.parametrize("layer_name, stop, max_iterations",
                         [("region", False, 40), ("region", False, 3), ("land", True, 40),
                          ("land", True, 2), ("land", False, 40)])
def test_march_is_the_walk_by_hand(layer_name, stop, max_iterations):
    r = raster()
    layer = getattr(r, layer_name)
    x0, y0, dx, dy, lam_from, enter, lend = cells(600, seed=len(layer_name) + max_iterations)
    n = x0.size
    clr = layer.clearance
    table, nbx, sector = ((clr.table, clr.nbx, clr.sector(dx, dy)) if clr is not None
                          else (np.zeros(0, np.uint8), 0, np.zeros(0, np.int64)))
    # stop at the value halfway along (where on the grid): most walks find it
    mid = np.clip(0.5 * (np.maximum(lam_from, enter) + lend), 0.0, None)
    flat = (y0 + mid * dy).astype(np.int64) * (r.nx + 2) + (x0 + mid * dx).astype(np.int64)
    on = (flat >= 0) & (flat < layer.value.size)
    target = (np.where(on, layer.value[np.where(on, flat, 0)], -3).astype(np.int8) if stop
              else np.zeros(0, np.int8))
    ms = (REGION_STEP if layer_name == "region" else 1.0) * MIN_STEP / r.cell
    args = (x0, y0, dx, dy, lam_from, enter, lend, layer.value, layer.bound, table, nbx,
            sector, r.nx + 2, ms, target, max_iterations)
    want = march_by_hand(*args)
    assert len(want) > n // 4  # the walks found changes to compare
    assert run_march(args, 4 * n) == want
    # buffers far too small: walks stop part-way, resume with more room, find the same
    assert run_march(args, 8) == want


def test_cone_is_the_walk_by_hand():
    r = raster()
    x0, y0, dx, dy, _, enter, lend = cells(800, seed=3)
    slope = np.random.default_rng(5).uniform(0.0, 0.05, x0.size)
    ms, bound, nx2 = MIN_STEP / r.cell, r.region.bound, r.nx + 2
    clear, stop = walks.cone(x0, y0, dx, dy, enter, lend, slope, bound, nx2, ms, 40)
    for i in range(x0.size):
        want_clear, want_stop = lend[i] < enter[i], 0.0
        if not want_clear:
            lam, want_stop = enter[i], None
            for _ in range(40):
                b = float(bound[int(y0[i] + lam * dy[i]) * nx2 + int(x0[i] + lam * dx[i])])
                step = (b - lam * slope[i]) / (1.0 + slope[i])
                if step < ms:
                    want_stop = lam
                    break
                if lam + step >= lend[i]:
                    want_clear, want_stop = True, 0.0
                    break
                lam += step
            if want_stop is None:
                want_stop = lam
        assert (clear[i], stop[i]) == (want_clear, want_stop), i
    assert 0 < clear.sum() < x0.size


def test_refine_finds_the_crossing_a_search_of_every_edge_does():
    """Chords across the borders around Poland: the crossing nearest the chord's middle
    among the nation's edges listed in the chord's cells is the one among all its edges."""
    r = raster()
    rng = np.random.default_rng(11)
    n = 400
    codes = [r.borders.codes.index(c) for c in ("POL", "BLR", "UKR", "LTU")]
    # chords through points near these nations' edges, a few cells long, any direction
    edge = rng.choice(np.flatnonzero(np.isin(r.edge_owner, codes)), n)
    mx = 0.5 * (r.ex0[edge] + r.ex1[edge]) + rng.normal(0.0, 0.5 * r.cell, n)
    my = 0.5 * (r.ey0[edge] + r.ey1[edge]) + rng.normal(0.0, 0.5 * r.cell, n)
    ang = rng.uniform(0.0, 2.0 * np.pi, n)
    half = 0.5 * rng.uniform(0.5, 3.0, n) * r.cell
    ax, ay = mx - half * np.cos(ang), my - half * np.sin(ang)
    bx, by = mx + half * np.cos(ang), my + half * np.sin(ang)
    nation = rng.choice(codes, n)
    got = r.refine(ax, ay, bx, by, nation)
    for c in range(n):
        own = np.flatnonzero(r.edge_owner == nation[c])
        qx, qy = r.ex0[own], r.ey0[own]
        sx, sy = r.ex1[own] - qx, r.ey1[own] - qy
        rx, ry = bx[c] - ax[c], by[c] - ay[c]
        den = rx * sy - ry * sx
        with np.errstate(divide="ignore", invalid="ignore"):
            u = ((qx - ax[c]) * sy - (qy - ay[c]) * sx) / den
            v = ((qx - ax[c]) * ry - (qy - ay[c]) * rx) / den
        u = u[(den != 0) & (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)]
        want = u[np.argmin(np.abs(u - 0.5))] if u.size else np.nan
        assert got[c] == want or (np.isnan(got[c]) and np.isnan(want)), c
    assert 20 < np.isfinite(got).sum() < n


def test_span_is_the_slab_intersection():
    """Where rays are on the grid: the slabs [0.5, n + 1.5] of both axes intersected, in
    numpy, including rays along an axis (inside or outside it) and NaN starts."""
    r = raster()
    rng = np.random.default_rng(2)
    n = 2000
    x0 = rng.uniform(-500.0, r.nx + 500.0, n)
    y0 = rng.uniform(-500.0, r.ny + 500.0, n)
    a = rng.uniform(0.0, 2.0 * np.pi, n)
    dx, dy = np.cos(a), np.sin(a)
    dx[:200], dy[200:400] = 0.0, 0.0  # along one axis
    x0[400:410] = np.nan

    def slab(p0, d, hi):
        with np.errstate(divide="ignore", invalid="ignore"):
            t_hi = np.where(d > 0, (hi - p0) / d, np.where(d < 0, (0.5 - p0) / d, np.inf))
            t_lo = np.where(d > 0, (0.5 - p0) / d, np.where(d < 0, (hi - p0) / d, -np.inf))
        out = (d == 0) & ((p0 < 0.5) | (p0 > hi))
        return np.where(out, np.inf, t_lo), np.where(out, -np.inf, t_hi)

    in_x, out_x = slab(x0, dx, r.nx + 1.5)
    in_y, out_y = slab(y0, dy, r.ny + 1.5)
    enter = np.maximum(np.maximum(in_x, in_y), 0.0)
    out = np.minimum(out_x, out_y)
    leave = np.where(out < enter, -1.0, np.maximum(out, 0.0))
    got_enter, got_leave = _span(r, x0, y0, dx, dy)
    np.testing.assert_array_equal(got_enter, enter)
    np.testing.assert_array_equal(got_leave, leave)
    assert 0 < (leave < enter).sum() < n and (enter > 0).any() and (enter == 0).any()
