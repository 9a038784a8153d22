"""The air picture: the latest row of every live track, as columns.

    picture = Picture()
    gone = picture.update(batch)      # a TrackBatch from Tracker.step; returns ended tracks
    picture.snapshot()                # TrackBatch, one row per live track

The tracker emits one row per track per update; assessment, the map and snapshots want
one row per track, the newest. :meth:`Picture.update` keeps, per track serial, the row
with the latest time (vectorized: one sort per batch), and drops tracks whose last row
says ``deleted``.
"""

from __future__ import annotations

import numpy as np

from .track.output import DELETED, TrackBatch, concat, newest_index, velocity_sigma

_ROW_COLUMNS = (
    "time", "serial", "lat", "lon", "alt", "vel", "sigma_h", "sigma_v", "status", "cls",
    "cls_conf", "identity", "ids", "spoof",
)  # fmt: skip


class Picture:
    """Latest state per live track; see the module docstring."""

    def __init__(self) -> None:
        self._rows: TrackBatch | None = None

    def __len__(self) -> int:
        return 0 if self._rows is None else len(self._rows)

    def update(self, batch: TrackBatch) -> list[str]:
        """Merge ``batch`` in; return the ids of tracks that ended (deleted) in it."""
        if not len(batch):
            return []
        both = batch if self._rows is None else concat([self._rows, batch])
        last = newest_index(both)
        dead = both.status[last] == DELETED
        ended = last[dead]
        keep = np.sort(last[~dead])
        self._rows = take_rows(both, keep)
        prefix = batch.prefix
        return [f"{prefix}{s}" for s in both.serial[ended].tolist()]

    def snapshot(self) -> TrackBatch:
        """One row per live track (in the order their latest rows arrived)."""
        if self._rows is None:
            return concat([])
        return self._rows

    def drop_older_than(self, t: float) -> list[str]:
        """Forget tracks not updated since ``t`` (a feed that stopped); return their ids."""
        if self._rows is None:
            return []
        old = self._rows.time < t
        ids = [f"{self._rows.prefix}{s}" for s in self._rows.serial[old].tolist()]
        self._rows = take_rows(self._rows, np.flatnonzero(~old))
        return ids


def take_rows(b: TrackBatch, idx: np.ndarray) -> TrackBatch:
    """Rows ``idx`` of a batch without their sensor lists (a picture row has none; the
    cheaper cousin of :func:`skywarden.track.output.take_rows`)."""
    cols = {k: getattr(b, k)[idx] for k in _ROW_COLUMNS}
    return TrackBatch(
        **cols,
        sensor_ptr=np.zeros(idx.size + 1, np.int64),
        sensor_flat=np.zeros(0, np.int32),
        prefix=b.prefix,
        sensor_names=b.sensor_names,
        sigma_vel=velocity_sigma(b)[idx],
    )
