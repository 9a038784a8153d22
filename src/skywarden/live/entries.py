"""Entries seen between assessment cycles: a track that has just crossed into a nation or
a zone that binds it asks for a warning cycle now, not at the next period.

Why: the full assessment (predicted entries, ETAs, probabilities for every track against
every nation and zone) runs every ``assess_period`` (2 s by default) because it costs a
hundred milliseconds or more. An *incursion* or a *restriction violation* must not wait
for it: operators need it as soon as the plot that shows it is tracked. What changed is
cheap to see on every tick, for the rows the tracker just updated: the nation below each
(the borders' raster) and the zones that contain it (the zone set's grid). When a track
is in a nation or zone it was not in at its previous update, the worker asks the
pipeline for a cycle at once (:meth:`skywarden.pipeline.Pipeline.assess_now`) of those
tracks only: the alerts they raise or escalate do not wait for a full assessment of the
whole picture, which the next period still makes.

A new track is not an entry into the nation below it (every track is over some nation),
but a new track inside a zone is: a drone first seen over an airport is news. Replays
from files do not use this (they assess every period of data time, exactly).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..track.output import TrackBatch

__all__ = ["EntryWatch"]

FORGET_S = 600.0  # a track not updated for this long (clock s) is forgotten


class EntryWatch:
    """What each live track is inside (nation, zones), and whether a tick brought an entry.

    ``zones``: returns the zone set in force (or None), read at each tick so restrictions
    made at run time count at once.
    """

    def __init__(self, zones: Callable[[], Any]) -> None:
        self.zones = zones
        # track serial -> (time of its row, the nation and zone ids it is inside)
        self._inside: dict[int, tuple[float, frozenset[str]]] = {}
        self._swept = -np.inf

    def entered(self, rows: TrackBatch, nation: np.ndarray, ended: np.ndarray) -> list[int]:
        """Note the rows' positions; return the serials of the tracks whose row is inside
        something their previous row was not in (empty: no entry). ``nation``: the nation
        below each row ('' for none, the worker looks it up once a tick); ``ended``: the
        rows that end their track."""
        n = len(rows)
        if not n:
            return []
        inside: list[set[str]] = [{c} if c else set() for c in nation.tolist()]
        zs = self.zones()
        if zs is not None and len(zs):
            coop = np.fromiter((bool(i) for i in rows.ids), dtype=bool, count=n)
            hits = zs.contains(rows.lat, rows.lon, rows.alt, rows.time,
                               np.asarray(rows.cls, dtype=np.int64), coop)
            ids = zs.ids
            for p, z in zip(hits.point.tolist(), hits.zone.tolist(), strict=True):
                inside[p].add("zone:" + ids[z])
        entry: list[int] = []
        memory = self._inside
        times = rows.time.tolist()
        for serial, t, now_in, gone in zip(rows.serial.tolist(), times, inside,
                                           ended.tolist(), strict=True):
            if gone:
                memory.pop(serial, None)
                continue
            before = memory.get(serial)
            fresh = frozenset(now_in)
            if before is None:
                # new track: only a zone is news (it is over some nation anyway)
                if any(x.startswith("zone:") for x in fresh):
                    entry.append(serial)
            elif not fresh <= before[1]:
                entry.append(serial)
            memory[serial] = (t, fresh)
        newest = max(times)
        if newest - self._swept > FORGET_S:
            # tracks that ended without a deleted row (dropped while tentative, say)
            self._inside = {k: v for k, v in memory.items() if newest - v[0] <= FORGET_S}
            self._swept = newest
        return entry
