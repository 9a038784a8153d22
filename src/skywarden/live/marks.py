"""Track rows as the live service publishes them: newest per track, marked.

The tracker emits one row per track per processing window, so one tick may hold several
rows of a track; subscribers want the newest. Each published row carries two marks the
file pipeline does not set (docs/API.md, "Records on the wire"):

- ``releasability`` (:mod:`.release`), sticky over every sensor the track has had;
- ``next_entry``: from the latest assessment, the soonest predicted entry of the track
  into a nation other than the one below it (rows with ``target_kind`` nation, not
  ``inside``, with a finite ETA), or none.

and goes out on ``tracks.<nation>``, the nation whose land is below it (``XXX`` over the
sea or outside the border data).
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from ..records import NextEntry, TrackUpdate
from ..track.output import TrackBatch, newest_index, take_rows
from ..warn.input import Assessment

__all__ = ["NO_NATION", "marked_updates", "newest_rows", "next_entries", "take_rows"]

NO_NATION = "XXX"


def newest_rows(batch: TrackBatch) -> TrackBatch:
    """The newest row of each track in ``batch`` (sensor lists kept), in serial order."""
    if len(batch) == 0:
        return batch
    last = newest_index(batch)
    if last.size == len(batch):
        return batch
    return take_rows(batch, last)


def next_entries(assessment: Assessment) -> dict[str, NextEntry]:
    """Per track id, its soonest predicted entry into another nation (see module doc)."""
    if not len(assessment):
        return {}
    a = assessment
    rows = np.flatnonzero((a.target_kind == "nation") & ~a.inside & np.isfinite(a.eta_s))
    if not rows.size:
        return {}
    eta = a.time[rows] + a.eta_s[rows]
    # soonest per track: sort by (track, eta), keep the first of each track
    order = np.lexsort((eta, a.track_id[rows]))
    tracks = a.track_id[rows][order]
    first = order[np.r_[True, tracks[1:] != tracks[:-1]]]
    pick = rows[first]
    out = {}
    for tid, nation, t, p, d in zip(
        a.track_id[pick].tolist(), a.target_id[pick].tolist(), eta[first].tolist(),
        a.probability[pick].tolist(), a.distance_m[pick].tolist(), strict=True,
    ):
        out[tid] = NextEntry(
            nation=nation, eta=round(t, 1), probability=round(min(max(p, 0.0), 1.0), 3),
            distance_m=round(max(d, 0.0), 0) if math.isfinite(d) else 0.0,
        )
    return out


def marked_updates(
    rows: TrackBatch, releasability: list[str], entries: dict[str, NextEntry]
) -> list[TrackUpdate]:
    """``rows`` as TrackUpdate records with their marks."""
    replace = msgspec.structs.replace
    return [
        replace(u, releasability=r, next_entry=entries.get(u.track))
        for u, r in zip(rows.updates(), releasability, strict=True)
    ]
