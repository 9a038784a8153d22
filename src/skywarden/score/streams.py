"""Reading and streaming truth and track files: truth steps, the track feed and table.

Lines may arrive out of time order by up to ``window`` seconds; see the package docstring
of :mod:`skywarden.score`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np
from numpy.typing import NDArray

from .. import geo
from ..errors import RecordError
from ..ingest.jsonl import ReadStats, read_jsonl
from ..records import Alt, Lat, Lon, Speed, Time, TrackStatus, Truth
from .gospa import FloatArray, IntArray

DEFAULT_MAX_AGE = 15.0  # s; a few missed scans of a slow radar, then the track is stale
REORDER_WINDOW = 10.0  # s of out-of-order arrival tolerated in either file

# Status codes in the track table; confirmed and coasting make a "confirmed track".
_STATUS = {"tentative": 0, "confirmed": 1, "coasting": 2, "deleted": 3}
_CONFIRMED = (1, 2)


class TrackLine(msgspec.Struct, frozen=True):
    """A tracks-file line: a Track (formats.md), or a Truth line read as a perfect track.

    A line with ``target`` and no ``track`` comes from a truth file: its :attr:`id` is the
    target id and its :attr:`state` ``confirmed``. Other fields are those of the Track
    format that scoring needs (unknown fields are ignored), with the same value ranges.
    """

    time: Time
    lat: Lat
    lon: Lon
    track: str | None = None
    target: str | None = None
    alt: Alt | None = None
    vel_e: Speed = 0.0
    vel_n: Speed = 0.0
    vel_u: Speed = 0.0
    status: TrackStatus | None = None

    @property
    def id(self) -> str:
        return self.track if self.track is not None else self.target or ""

    @property
    def state(self) -> str:
        """The track status; a truth line is confirmed, a track without one tentative."""
        if self.track is None:
            return "confirmed"
        return self.status or "tentative"  # TrackUpdate's default

    def check(self) -> None:
        if self.track is None and self.target is None:
            raise RecordError("missing field track (or target, for a truth file read as tracks)")


def read_tracks(
    path: str | Path, *, strict: bool = False, stats: ReadStats | None = None
) -> Iterator[TrackLine]:
    """The lines of a tracks file (or of a truth file read as tracks), bad lines skipped."""
    return read_jsonl(path, TrackLine, strict=strict, stats=stats, check=TrackLine.check)


@dataclass(slots=True)
class _TruthStep:
    time: float
    target: list[str]
    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    observable: NDArray[np.bool_]


def _truth_step(time: float, rows: list[Truth]) -> _TruthStep:
    return _TruthStep(
        time,
        [r.target for r in rows],
        np.array([r.lat for r in rows], dtype=np.float64),
        np.array([r.lon for r in rows], dtype=np.float64),
        np.array([r.alt for r in rows], dtype=np.float64),
        np.array([r.observable for r in rows], dtype=bool),
    )


def _truth_steps(rows: Iterator[Truth], window: float, counts: dict[str, int]) -> Iterator[_TruthStep]:
    """Truth grouped by time, in time order, with empty steps filled in where it skips.

    A time is released once a line more than ``window`` s later has been read; lines for a
    time already released are late and dropped (``counts["late_truth"]``). The step length
    is the smallest gap seen between truth times; a gap of more than 1.5 steps is filled
    with empty steps so false tracks there are scored.
    """
    pending: dict[float, list[Truth]] = {}
    heap: list[float] = []
    newest = -math.inf
    released = -math.inf
    dt = math.inf

    def release(until: float) -> Iterator[_TruthStep]:
        nonlocal released, dt
        while heap and heap[0] <= until:
            t = heapq.heappop(heap)
            if released > -math.inf:
                dt = min(dt, t - released)
                gap = released + dt
                while gap < t - 0.5 * dt:  # only when t - released > 1.5 dt
                    yield _truth_step(gap, [])
                    gap += dt
            released = t
            yield _truth_step(t, pending.pop(t))

    current: list[Truth] = []
    current_t = math.nan
    for row in rows:
        t = row.time
        if t == current_t:  # the common case: the same step as the line before
            current.append(row)
            continue
        if t <= released:
            counts["late_truth"] += 1
            continue
        if t not in pending:
            pending[t] = []
            heapq.heappush(heap, t)
        current, current_t = pending[t], t
        current.append(row)
        if t > newest:
            newest = t
            yield from release(newest - window)
            if current_t <= released:  # window 0: the line's own step went out
                current_t = math.nan
    yield from release(math.inf)


class _TrackFeed:
    """Track lines released in time order: ``until(t)`` gives every line with time <= t.

    Lines are held in one-second buckets until a line more than ``window`` s after ``t``
    has been read, so disorder of up to ``window`` s is absorbed; a line at or before an
    already released time is still returned (late, counted) at the next call.
    """

    def __init__(self, rows: Iterator[TrackLine], window: float, counts: dict[str, int]):
        self._rows = rows
        self._window = window
        self._counts = counts
        self._buckets: dict[int, list[TrackLine]] = {}
        self._keys: list[int] = []
        self._newest = -math.inf
        self._released = -math.inf
        self._done = False

    def until(self, t: float) -> list[TrackLine]:
        while not self._done and self._newest <= t + self._window:
            row = next(self._rows, None)
            if row is None:
                self._done = True
                break
            if row.time <= self._released:
                self._counts["late_tracks"] += 1
            key = math.floor(row.time)
            if key not in self._buckets:
                self._buckets[key] = []
                heapq.heappush(self._keys, key)
            self._buckets[key].append(row)
            self._newest = max(self._newest, row.time)
        out: list[TrackLine] = []
        while self._keys and self._keys[0] <= t:
            key = self._keys[0]
            bucket = self._buckets[key]
            if key + 1 <= t:
                out.extend(bucket)
            else:  # the bucket straddles t
                out.extend(r for r in bucket if r.time <= t)
                keep = [r for r in bucket if r.time > t]
                if keep:
                    self._buckets[key] = keep
                    break
            del self._buckets[key]
            heapq.heappop(self._keys)
        self._released = max(self._released, t)
        return out


class _TrackTable:
    """Latest update of every track seen, as numpy columns (ECEF for extrapolation)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.size = 0
        cap = 1024
        self.time = np.full(cap, -np.inf)
        self.lat = np.zeros(cap)
        self.lon = np.zeros(cap)
        self.alt = np.full(cap, np.nan)
        self.pos = np.zeros((cap, 3))
        self.vel = np.zeros((cap, 3))
        self.status = np.zeros(cap, dtype=np.int8)

    def _grow(self, need: int) -> None:
        cap = self.time.size
        if need <= cap:
            return
        new = max(need, 2 * cap)
        fill = {"time": -np.inf, "alt": np.nan}
        for name in ("time", "lat", "lon", "alt", "pos", "vel", "status"):
            old = getattr(self, name)
            arr = np.full((new, *old.shape[1:]), fill.get(name, 0), dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    def apply(self, lines: list[TrackLine]) -> None:
        if not lines:
            return
        index = self.index
        idx = np.array([index.setdefault(r.id, len(index)) for r in lines], dtype=np.intp)
        self._grow(len(index))
        self.size = len(index)
        t = np.array([r.time for r in lines], dtype=np.float64)
        # The newest line of each track wins, the later-read one on equal times.
        order = np.lexsort((np.arange(t.size), t))
        rev = order[::-1]
        uniq, first = np.unique(idx[rev], return_index=True)
        sel = rev[first]
        newer = t[sel] >= self.time[uniq]
        uniq, sel = uniq[newer], sel[newer]
        rows = [lines[s] for s in sel]
        lat = np.array([r.lat for r in rows], dtype=np.float64)
        lon = np.array([r.lon for r in rows], dtype=np.float64)
        alt = np.array([np.nan if r.alt is None else r.alt for r in rows], dtype=np.float64)
        v_enu = np.array([(r.vel_e, r.vel_n, 0.0 if r.alt is None else r.vel_u) for r in rows],
                         dtype=np.float64).reshape(-1, 3)
        self.time[uniq] = t[sel]
        self.lat[uniq], self.lon[uniq], self.alt[uniq] = lat, lon, alt
        self.pos[uniq] = geo.geodetic_to_ecef(lat, lon, np.nan_to_num(alt)).reshape(-1, 3)
        self.vel[uniq] = geo.enu_vector_to_ecef(v_enu, lat, lon).reshape(-1, 3)
        self.status[uniq] = [_STATUS[r.state] for r in rows]

    def estimates(
        self, t: float, max_age: float, confirmed_only: bool
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """(track index, lat, lon, alt) of the tracks taking part at ``t``, moved to ``t``."""
        n = self.size
        age = t - self.time[:n]
        st = self.status[:n]
        live = (age >= 0) & (age <= max_age) & (st != _STATUS["deleted"])
        if confirmed_only:
            live &= np.isin(st, _CONFIRMED)
        k = np.flatnonzero(live)
        lat, lon, alt = self.lat[k].copy(), self.lon[k].copy(), self.alt[k].copy()
        moved = np.flatnonzero(age[k] > 0)  # at age 0 the update itself, bit for bit
        if moved.size:
            km = k[moved]
            xyz = self.pos[km] + self.vel[km] * age[km, None]
            mlat, mlon, malt = geo.ecef_to_geodetic(xyz)
            lat[moved], lon[moved] = mlat, mlon
            alt[moved] = np.where(np.isnan(alt[moved]), np.nan, malt)
        return k, lat, lon, alt
