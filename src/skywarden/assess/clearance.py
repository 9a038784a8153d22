"""Directional clearance: how far a path may go in its direction without meeting a border.

The bound of a raster layer (:mod:`.raster`) is isotropic: a path approaching a border at
a shallow angle, or running along one, advances only by its distance to the border at
each step. This table adds the distance ahead. For every block of ``BLOCK`` x ``BLOCK``
cells and each of ``SECTORS`` direction sectors it holds a distance D (in units of
``UNIT`` cells) such that any ray starting anywhere in the block, with a direction in the
sector, stays in one value of the layer for at least D.

Built once by walking a tube from each block's centre along each sector's middle
direction: the tube's half-width is ``w0 + t * tan(h)`` at distance t, with w0 the
block's half-diagonal and h half the sector's width, so it holds every such ray (a ray
from p in direction u is within |p - c| + t * 2 sin(h/2) of the axis point at t). Each
step s from axis point t with isotropic bound r satisfies s + w0 + (t + s) tan(h) <= r,
which keeps the whole tube stretch inside r of that axis point. The walk stops where the
step would fall below half a cell; D is where it stopped.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SHIFT = 3
BLOCK = 1 << SHIFT  # cells
SECTORS = 32
UNIT = 4  # cells per step of the stored distance (uint8: up to 1,020 cells)


class Clearance:
    """The (block, sector) clearance table of one layer (module docstring)."""

    def __init__(self, bound: NDArray[np.uint8], shape: tuple[int, int]) -> None:
        """``bound``: the layer's padded, flattened bound; ``shape``: its padded shape."""
        ny2, nx2 = shape
        self.nbx = int(np.ceil(nx2 / BLOCK))
        self.nby = int(np.ceil(ny2 / BLOCK))
        n_blocks = self.nbx * self.nby
        half = np.pi / SECTORS
        slope = np.tan(half)
        w0 = BLOCK * np.sqrt(2.0) / 2.0
        angle = (np.arange(SECTORS) + 0.5) * (2.0 * np.pi / SECTORS)
        table = np.zeros(n_blocks * SECTORS, dtype=np.uint8)
        cap = 255 * UNIT
        chunk = 400_000
        for r0 in range(0, table.size, chunk):
            ray = np.arange(r0, min(r0 + chunk, table.size))
            block, sector = np.divmod(ray, SECTORS)
            x0 = (block % self.nbx + 0.5) * BLOCK
            y0 = (block // self.nbx + 0.5) * BLOCK
            dx, dy = np.cos(angle[sector]), np.sin(angle[sector])
            # walks end at the padded grid's edge
            with np.errstate(divide="ignore", invalid="ignore"):
                tx = np.where(dx > 0, (nx2 - 0.5 - x0) / dx,
                              np.where(dx < 0, (0.5 - x0) / dx, np.inf))
                ty = np.where(dy > 0, (ny2 - 0.5 - y0) / dy,
                              np.where(dy < 0, (0.5 - y0) / dy, np.inf))
            lend = np.minimum(np.maximum(np.minimum(tx, ty), 0.0), cap)
            inside = (x0 < nx2) & (y0 < ny2)
            lam = np.zeros(ray.size)
            out = np.zeros(ray.size)
            idx = np.flatnonzero(inside)
            lam, x0, y0, dx, dy, lend = lam[idx], x0[idx], y0[idx], dx[idx], dy[idx], lend[idx]
            for _ in range(64):
                if not idx.size:
                    break
                flat = (y0 + lam * dy).astype(np.int64) * nx2 + (x0 + lam * dx).astype(np.int64)
                r = bound[flat].astype(np.float64)
                step = (r - w0 - lam * slope) / (1.0 + slope)
                stop = (step < 0.5) | (lam + step >= lend)
                out[idx[stop]] = np.where(step[stop] < 0.5, lam[stop], lend[stop])
                keep = np.flatnonzero(~stop)
                idx, x0, y0, dx, dy, lend = idx[keep], x0[keep], y0[keep], dx[keep], dy[keep], lend[keep]
                lam = lam[keep] + step[keep]
            out[idx] = lam
            table[ray] = np.minimum(np.floor(out / UNIT), 255).astype(np.uint8)
        self.table = table

    @classmethod
    def restore(cls, table: NDArray[np.uint8], shape: tuple[int, int]) -> Clearance:
        """A table saved earlier, for a layer of padded ``shape``."""
        self = cls.__new__(cls)
        self.nbx = int(np.ceil(shape[1] / BLOCK))
        self.nby = int(np.ceil(shape[0] / BLOCK))
        if table.size != self.nbx * self.nby * SECTORS:
            raise ValueError("saved clearance table does not match the grid")
        self.table = table
        return self

    def sector(self, dx: NDArray[np.float64], dy: NDArray[np.float64]) -> NDArray[np.int64]:
        """Sector of plane directions."""
        a = np.arctan2(dy, dx) % (2.0 * np.pi)
        return np.minimum((a / (2.0 * np.pi / SECTORS)).astype(np.int64), SECTORS - 1)
