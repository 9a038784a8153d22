"""Time spikes in a recorded stream of detections: a few records stamped far ahead of the
records around them (a sensor clock that jumped, a corrupted time field).

A run fed from a file (``skywarden track``, ``skywarden replay``) takes the time the data
has reached from the data itself. One detection stamped an hour ahead would take it there
at once, and every detection after it would come too late to be used: an hour of good
data lost to one bad field. A live feed is not at risk: its time is the clock's.

A spike is a run of fewer than ``min_run`` records that starts more than ``max_jump``
seconds after the newest record before it and is followed by a record more than
``max_jump`` seconds before the run's first: the stream leapt ahead and came back. Its
records are bad lines (counted, reported with their line, skipped; ``strict`` raises).
A real gap (the stream resumes later and stays there) is a longer run and passes, as does
a short run at the very end (nothing after it is lost). A file's first records are held
the same way, so a file that starts with a spike loses the spike only. Records stamped
too early (reports that arrive late) are never spikes: the tracker uses or refuses them
by its own rules for late detections; but one that comes within the first ``min_run``
records after a real gap makes those records look like a spike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import BadLineError
from ..records import Detection
from .jsonl import ReadStats, read_detections

# Seconds ahead of the stream that make a record the start of a possible spike; within
# a recording, records follow each other by seconds (late ones come earlier, not later).
MAX_JUMP_S = 60.0
# Records a run must reach to be the stream's new time rather than a spike.
MIN_RUN = 16
SPIKE = "time far ahead of the detections around it"


def read_recording(path: str | Path, stats: ReadStats, *, strict: bool = False,
                   sensors: Any = None) -> Iterator[Detection]:
    """The detections of a recording as a run fed from it uses them: read_detections,
    less the time spikes (bad lines of ``stats``)."""
    dets = read_detections(path, strict=strict, stats=stats, sensors=sensors)
    return drop_time_spikes(dets, stats, str(path), strict=strict)


def drop_time_spikes(
    records: Iterable[Detection],
    stats: ReadStats,
    name: str,
    *,
    strict: bool = False,
    max_jump: float = MAX_JUMP_S,
    min_run: int = MIN_RUN,
) -> Iterator[Detection]:
    """``records`` (read with ``stats``, which gives each one's line) in their order,
    less the spikes (module docstring). A dropped record moves from ``stats.good`` to the
    bad lines of ``name``."""
    newest = -math.inf  # the newest time passed on
    # Records not yet passed on, as runs each starting more than max_jump after the
    # newest record before it (with that newest time), until one reaches min_run.
    runs: list[list[tuple[Detection, int]]] = []
    tops: list[float] = []
    limit = -math.inf  # newest + max_jump
    for rec in records:
        t = rec.time
        while runs and t < runs[-1][0][0].time - max_jump:  # came back: a spike
            tops.pop()
            before = tops[-1] if tops else newest
            for h, line in runs.pop():
                _drop(h, line, before, stats, name, strict)
        if not runs and t <= limit:  # most records: in the stream, nothing held
            if t > newest:
                newest, limit = t, t + max_jump
            yield rec
            continue
        if not runs or t > tops[-1] + max_jump:  # ahead of the stream (or a file's start)
            runs.append([])
            tops.append(t)
        runs[-1].append((rec, stats.line))
        tops[-1] = max(tops[-1], t)
        if len(runs[-1]) >= min_run:  # the stream is there now: all held runs were real
            for run in runs:
                yield from (h for h, _ in run)
            newest = max(newest, tops[-1])
            limit = newest + max_jump
            runs, tops = [], []
    for run in runs:
        yield from (h for h, _ in run)


def _drop(rec: Detection, line: int, newest: float, stats: ReadStats, name: str,
          strict: bool) -> None:
    ahead = (f"{rec.time - newest:,.0f} s after the newest detection before it"
             if math.isfinite(newest) else "the file's first lines")
    err = BadLineError(name, line, f"{SPIKE} (got time {rec.time} of {rec.sensor}, "
                                   f"{ahead}; those after it come back: a sensor's clock?)")
    if strict:
        raise err
    stats.good -= 1
    stats.reject(err)
