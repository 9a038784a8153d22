"""Time handling of incoming detections: the reorder buffer and processing windows.

Reorder: detections wait until the newest time seen is ``reorder_lag`` past them, then
leave in time order, so lines a few seconds out of order are used as if in order.
Detections arriving later still are processed in windows of their own as
out-of-sequence measurements (filter.update).

Windows: detections are processed in windows of fixed length W on a grid of whole
multiples of W in epoch seconds, ``[kW, (k+1)W)``. The replay and the live service cut
the data at whole seconds (their ticks, less the reorder lag); a grid anchored at the
first detection's fraction of a second was cut by every tick, and each cut window was
processed in two parts, each paying a window's fixed cost. A window is a batch for the numpy work;
within it each track is still predicted to each detection's own time, so a window is a
unit of speed, not of accuracy. It should be shorter than the fastest sensor's revisit
(one detection per track per sensor per window).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import fields

import numpy as np

from .measure import Measurements

_FIELDS = tuple(f.name for f in fields(Measurements))


def concat(chunks: list[Measurements]) -> Measurements:
    """One Measurements from several, rows in order."""
    if len(chunks) == 1:
        return chunks[0]
    return Measurements(*(np.concatenate([getattr(c, f) for c in chunks]) for f in _FIELDS))


class ReorderBuffer:
    """Chunks of measurements waiting to be old enough; each chunk knows its earliest time."""

    def __init__(self) -> None:
        self._chunks: list[Measurements] = []
        self._min: list[float] = []

    def __len__(self) -> int:
        return sum(len(c) for c in self._chunks)

    def push(self, m: Measurements) -> None:
        if len(m):
            self._chunks.append(m)
            self._min.append(float(m.time.min()))

    def pop_until(self, horizon: float) -> Measurements | None:
        """Every buffered row with time <= horizon, sorted by time (stable)."""
        out: list[Measurements] = []
        keep_chunks: list[Measurements] = []
        keep_min: list[float] = []
        for chunk, tmin in zip(self._chunks, self._min, strict=True):
            if tmin > horizon:
                keep_chunks.append(chunk)
                keep_min.append(tmin)
                continue
            ready = chunk.time <= horizon
            n_ready = int(np.count_nonzero(ready))
            if n_ready == ready.size:
                out.append(chunk)
                continue
            if ready[:n_ready].all():
                # A time-sorted chunk (the usual case) splits into views, not copies.
                out.append(chunk.take(slice(0, n_ready)))
                rest = chunk.take(slice(n_ready, None))
            else:
                out.append(chunk.take(np.flatnonzero(ready)))
                rest = chunk.take(np.flatnonzero(~ready))
            keep_chunks.append(rest)
            keep_min.append(float(rest.time.min()))
        self._chunks, self._min = keep_chunks, keep_min
        if not out:
            return None
        m = concat(out)
        if _in_time_order(m.time):  # the stable sort would leave it as it is
            return m
        return m.take(np.argsort(m.time, kind="stable"))


def _in_time_order(t: np.ndarray) -> bool:
    return bool(np.all(t[1:] >= t[:-1]))


class Window:
    """Splits time-sorted measurements on the window grid."""

    def __init__(self, length: float) -> None:
        self.length = length
        self.origin: float | None = None
        self.current = -1  # index of the last window processed

    def split(self, m: Measurements) -> Iterator[tuple[Measurements, float]]:
        """Yield (rows of one window, window end time) in time order.

        Late rows (from windows already processed) form their own windows again, so a
        burst of late data keeps one detection per track per sensor per window.
        """
        if not len(m):
            return
        if self.origin is None:
            self.origin = math.floor(float(m.time[0]) / self.length) * self.length
        idx = np.floor((m.time - self.origin) / self.length).astype(np.int64)
        # Rows are time-sorted, so idx is non-decreasing.
        bounds = np.flatnonzero(np.diff(idx)) + 1
        starts = np.r_[0, bounds]
        ends = np.r_[bounds, idx.size]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            k = int(idx[a])
            self.current = max(self.current, k)
            yield m.take(slice(a, b)), self.origin + (k + 1) * self.length
