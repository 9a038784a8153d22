"""Scoring tracks against simulator truth: GOSPA and track metrics.

**Time steps.** Scores are taken at the truth's time steps (one truth line per live target
per step, 1 s unless configured). Where the truth skips steps (no live target) the missing
steps are scored as empty, so false tracks there still count; instants before the first
or after the last truth line are not scored. ``step=k`` scores every k-th step only.

**Track estimates.** At a step ``t`` a track's estimate is its latest update at or before
``t``, extrapolated to ``t`` along a straight line in ECEF with its velocity (the chord
differs from a curved path by d^2 / 2R: 1.6 m after 15 s at 300 m/s). A track takes part
when that update is at most ``max_age`` seconds old and its status is not ``deleted``; with
``confirmed_only`` only ``confirmed`` and ``coasting`` tracks take part (a coasting track
is a confirmed track that missed its last look).

**Distance.** Horizontal distance is the straight line between the two points' feet on
the ellipsoid (equal to the geodesic to 1e-9 relative within the cut-off); when the track
has an altitude the vertical difference is added: d = hypot(horizontal, alt_track -
alt_truth). A 2-D track (altitude null) is scored on horizontal distance only.

**GOSPA** (Rahmathullah, Garcia-Fernandez, Svensson, "Generalized optimal sub-pattern
assignment metric", FUSION 2017) between the truth set X and the track set Y of one step,
with cut-off ``c`` (m), order ``p`` and ``alpha`` in (0, 2]::

    d = ( min over assignments  sum_assigned d(x, y)^p
          + c^p * (min(|X|, |Y|) - k) + c^p / alpha * abs(|X| - |Y|) )^(1/p)

where only pairs with d(x, y) < c may be assigned and k is the number assigned. For
``alpha = 2`` this is the usual form  ( sum d^p + c^p / 2 * (missed + false) )^(1/p),
which splits into localisation, missed-target and false-track parts. The optimal
assignment is the same for every alpha (it minimises sum(d^p - c^p)); it is solved with
``scipy.optimize.linear_sum_assignment`` on each connected group of truths and tracks
that lie within ``c`` of each other, single pairs directly.

**Track metrics**, over the scored (step, truth) and (step, track) pairs, using the GOSPA
assignment: mean and RMS position error of assigned pairs; missed-target rate (truth
points with no assigned track); false-track rate (track points with no assigned truth)
and false tracks (track ids never assigned at any scored step, per hour of scored time);
id switches (CLEAR-MOT definition: a target's assigned track id differs from the last
track id it was assigned, even across a gap); coverage (truth points assigned to a
confirmed or coasting track), also over observable truth points only, since a target no
sensor sees cannot be tracked.

**Files.** Both are streamed. Lines may arrive out of time order by up to ``window``
seconds (formats.md says "a few"); later ones are counted as late (truth: dropped; tracks:
still applied if newer than what the track had). A tracks file may be a truth file: a line
with ``target`` and no ``track`` is read as a confirmed track whose id is the target id,
so truth scored against itself gives GOSPA 0, no misses and full coverage.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from . import geo
from .errors import ConfigError, RecordError
from .ingest.jsonl import ReadStats, read_jsonl, stderr_report
from .records import Alt, Lat, Lon, Speed, Time, TrackStatus, Truth

DEFAULT_MAX_AGE = 15.0  # s; a few missed scans of a slow radar, then the track is stale
REORDER_WINDOW = 10.0  # s of out-of-order arrival tolerated in either file

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

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


# -- GOSPA core -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GospaStep:
    """GOSPA of one step. ``pairs_*`` are the assigned (truth, track) indices and their
    distances (m); ``loc`` is sum d^p over them; ``missed``/``false`` count unassigned
    truths and tracks."""

    distance: float
    loc: float
    missed: int
    false: int
    pairs_truth: IntArray
    pairs_track: IntArray
    pairs_d: FloatArray


def _check_params(c: float, p: float, alpha: float) -> None:
    if not (math.isfinite(c) and c > 0):
        raise ConfigError(f"GOSPA cut-off c must be a positive distance in metres (got {c})")
    if not (math.isfinite(p) and p >= 1):
        raise ConfigError(f"GOSPA order p must be >= 1 (got {p})")
    if not 0 < alpha <= 2:
        raise ConfigError(f"GOSPA alpha must be in (0, 2] (got {alpha})")


def assign(
    n_truth: int, n_track: int, i: IntArray, j: IntArray, d: FloatArray, c: float, p: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """Optimal GOSPA assignment from the candidate pairs (i, j) at distances d (all < c).

    Minimises sum over assigned pairs of (d^p - c^p), each truth and track used once.
    Groups of truths and tracks linked by candidate pairs are solved separately: a lone
    pair directly, larger groups with ``linear_sum_assignment``.
    """
    if d.size == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty.copy(), np.zeros(0)
    graph = coo_matrix((np.ones(d.size), (i, n_truth + j)), shape=(n_truth + n_track,) * 2)
    _, label = connected_components(graph, directed=False)
    comp = label[i]
    n_t = np.bincount(label[:n_truth], minlength=label.max() + 1)
    n_k = np.bincount(label[n_truth:], minlength=label.max() + 1)
    lone = (n_t[comp] == 1) & (n_k[comp] == 1)  # one truth, one track: the only edge
    out_i, out_j, out_d = [i[lone]], [j[lone]], [d[lone]]
    rest = np.flatnonzero(~lone)
    rest = rest[np.argsort(comp[rest], kind="stable")]
    cp = c**p
    for group in np.split(rest, np.flatnonzero(np.diff(comp[rest])) + 1):
        if group.size == 0:
            continue
        ti, ri = np.unique(i[group], return_inverse=True)
        tj, rj = np.unique(j[group], return_inverse=True)
        cost = np.full((ti.size, tj.size), cp)
        cost[ri, rj] = d[group] ** p
        rows, cols = linear_sum_assignment(cost)
        ok = cost[rows, cols] < cp  # "assigned" at cost c^p is a miss plus a false track
        dist = np.full((ti.size, tj.size), np.inf)
        dist[ri, rj] = d[group]
        out_i.append(ti[rows[ok]])
        out_j.append(tj[cols[ok]])
        out_d.append(dist[rows[ok], cols[ok]])
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)


def gospa_from_pairs(
    n_truth: int, n_track: int, i: IntArray, j: IntArray, d: FloatArray,
    *, c: float, p: float, alpha: float,
) -> GospaStep:
    """GOSPA of one step from candidate pairs; pairs at d >= c are ignored."""
    near = d < c
    ai, aj, ad = assign(n_truth, n_track, i[near], j[near], d[near], c, p)
    k = ad.size
    loc = float(np.sum(ad**p))
    card = c**p * (min(n_truth, n_track) - k) + c**p / alpha * abs(n_truth - n_track)
    return GospaStep((loc + card) ** (1.0 / p), loc, n_truth - k, n_track - k, ai, aj, ad)


def gospa(distances: ArrayLike, *, c: float = 1000.0, p: float = 2.0, alpha: float = 2.0) -> float:
    """GOSPA from a dense (truths x tracks) distance matrix in metres; for checks by hand."""
    _check_params(c, p, alpha)
    dm = np.atleast_2d(np.asarray(distances, dtype=np.float64))
    i, j = np.nonzero(np.isfinite(dm))
    return gospa_from_pairs(dm.shape[0], dm.shape[1], i, j, dm[i, j], c=c, p=p, alpha=alpha).distance


def _surface(lat: FloatArray, lon: FloatArray) -> FloatArray:
    return geo.geodetic_to_ecef(lat, lon, 0.0).reshape(-1, 3)


def gospa_positions(
    truth_lat: ArrayLike, truth_lon: ArrayLike, truth_alt: ArrayLike,
    track_lat: ArrayLike, track_lon: ArrayLike, track_alt: ArrayLike,
    *, c: float = 1000.0, p: float = 2.0, alpha: float = 2.0,
) -> GospaStep:
    """GOSPA of one step from positions (degrees, metres; track altitude NaN for 2-D).

    Candidate pairs come from a k-d tree over the points' feet on the ellipsoid, so the
    cost is near-linear in the number of targets.
    """
    _check_params(c, p, alpha)
    t_lat, t_lon, t_alt = (np.atleast_1d(np.asarray(v, np.float64)) for v in
                           (truth_lat, truth_lon, truth_alt))
    k_lat, k_lon, k_alt = (np.atleast_1d(np.asarray(v, np.float64)) for v in
                           (track_lat, track_lon, track_alt))
    m, n = t_lat.size, k_lat.size
    if m and n:
        pairs = cKDTree(_surface(t_lat, t_lon)).sparse_distance_matrix(
            cKDTree(_surface(k_lat, k_lon)), c, output_type="ndarray"
        )
        i, j, h = pairs["i"].astype(np.intp), pairs["j"].astype(np.intp), pairs["v"]
        dv = k_alt[j] - t_alt[i]
        d = np.hypot(h, np.where(np.isnan(dv), 0.0, dv))
    else:
        i = j = np.zeros(0, dtype=np.intp)
        d = np.zeros(0)
    return gospa_from_pairs(m, n, i, j, d, c=c, p=p, alpha=alpha)


# -- streams ------------------------------------------------------------------------------


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



# -- accumulation and report ----------------------------------------------------------------


class _Tally:
    """Running totals over scored steps; ids are interned to ints for array bookkeeping."""

    def __init__(self, c: float, p: float, alpha: float) -> None:
        self.c, self.p, self.alpha = c, p, alpha
        self.targets: dict[str, int] = {}
        self.last_track = np.full(0, -1, dtype=np.intp)  # per target: last assigned track
        self.track_seen = np.zeros(0, dtype=bool)
        self.track_hit = np.zeros(0, dtype=bool)
        self.rows: list[tuple[float, float, float, int, int, int]] = []
        self.truth_points = self.track_points = self.assigned = 0
        self.err_sum = self.err_sq = 0.0
        self.covered = self.observable = self.covered_observable = self.switches = 0

    def add(self, truth: _TruthStep, track: IntArray, lat: FloatArray, lon: FloatArray,
            alt: FloatArray, confirmed: NDArray[np.bool_]) -> None:
        g = gospa_positions(truth.lat, truth.lon, truth.alt, lat, lon, alt,
                            c=self.c, p=self.p, alpha=self.alpha)
        m, n = len(truth.target), track.size
        self.rows.append((truth.time, g.distance, g.loc, m, n, g.pairs_d.size))
        self.truth_points += m
        self.track_points += n
        self.assigned += g.pairs_d.size
        self.err_sum += float(g.pairs_d.sum())
        self.err_sq += float((g.pairs_d**2).sum())
        # id switches: compare each assigned target's track with the last one it had
        tgt = np.array([self.targets.setdefault(t, len(self.targets)) for t in truth.target],
                       dtype=np.intp)
        self.last_track = _grown(self.last_track, len(self.targets), -1)
        top = int(track.max()) + 1 if n else 0
        self.track_seen = _grown(self.track_seen, top, False)
        self.track_hit = _grown(self.track_hit, top, False)
        self.track_seen[track] = True
        who, trk = tgt[g.pairs_truth], track[g.pairs_track]
        before = self.last_track[who]
        self.switches += int(np.count_nonzero((before >= 0) & (before != trk)))
        self.last_track[who] = trk
        self.track_hit[trk] = True
        covered = np.zeros(m, dtype=bool)
        covered[g.pairs_truth[confirmed[g.pairs_track]]] = True
        self.covered += int(covered.sum())
        self.observable += int(truth.observable.sum())
        self.covered_observable += int((covered & truth.observable).sum())


def _grown(a: NDArray[Any], size: int, fill: Any) -> NDArray[Any]:
    if a.size >= size:
        return a
    out = np.full(max(size, 2 * a.size), fill, dtype=a.dtype)
    out[: a.size] = a
    return out


@dataclass(frozen=True, slots=True)
class StepScores:
    """Per scored step: time (epoch s), GOSPA (m), sum of d^p over assigned pairs, and the
    numbers of truths, tracks and assigned pairs."""

    time: FloatArray
    gospa: FloatArray
    loc: FloatArray
    truths: IntArray
    tracks: IntArray
    assigned: IntArray

    def records(self) -> Iterator[dict[str, float | int]]:
        """One dict per step, ready for JSON Lines."""
        for row in zip(self.time, self.gospa, self.loc, self.truths, self.tracks,
                       self.assigned, strict=True):
            t, gd, loc, m, n, k = row
            yield {"time": float(t), "gospa": float(gd), "loc": float(loc), "truths": int(m),
                   "tracks": int(n), "assigned": int(k)}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


@dataclass(frozen=True, slots=True)
class ScoreReport:
    """Scores of a tracks file against a truth file (see the module docstring).

    Rates are fractions (0-1), distances metres, times epoch seconds; ``None`` where a
    value is undefined (no pairs, no observable truth, alpha != 2 for the split parts).
    """

    truth_file: str
    tracks_file: str
    c: float
    p: float
    alpha: float
    step: int
    confirmed_only: bool
    max_age: float
    distance: str
    steps: int
    time_start: float | None
    time_end: float | None
    gospa_mean: float | None
    gospa_max: float | None
    gospa_localisation_mean: float | None
    gospa_missed_mean: float | None
    gospa_false_mean: float | None
    truth_points: int
    track_points: int
    assigned: int
    mean_error_m: float | None
    rms_error_m: float | None
    missed_target_rate: float | None
    false_track_rate: float | None
    targets: int
    tracks_scored: int
    false_tracks: int
    false_tracks_per_hour: float | None
    id_switches: int
    coverage: float | None
    observable_points: int
    coverage_observable: float | None
    truth_lines_bad: int
    track_lines_bad: int
    late_truth_lines: int
    late_track_lines: int
    per_step: StepScores = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The summary (without ``per_step``) as plain JSON-ready values."""
        out = asdict(self)
        del out["per_step"]
        return out

    def to_json(self) -> str:
        """The summary as one JSON line (no trailing newline)."""
        return msgspec.json.encode(self.to_dict()).decode()

    def table(self) -> str:
        """A readable multi-line summary."""

        def num(v: float | None, fmt: str = "{:,.1f}", unit: str = "") -> str:
            return "n/a" if v is None else fmt.format(v) + unit

        def pct(v: float | None) -> str:
            return num(None if v is None else 100 * v, "{:.2f}", " %")

        which = "every step" if self.step == 1 else f"every {self.step}th step"
        span = ("" if self.time_start is None or self.time_end is None
                else f", {self.time_end - self.time_start:,.0f} s from t={self.time_start:,.0f}")
        tracks = "confirmed and coasting tracks" if self.confirmed_only else "all tracks"
        lines = [
            f"score of {self.tracks_file} against {self.truth_file}",
            f"  steps scored         {self.steps:,} ({which}{span})",
            f"  tracks scored        {tracks} updated in the last {self.max_age:g} s",
            f"  GOSPA                mean {num(self.gospa_mean, unit=' m')}, "
            f"max {num(self.gospa_max, unit=' m')}  (c = {self.c:g} m, p = {self.p:g}, "
            f"alpha = {self.alpha:g})",
        ]
        if self.gospa_missed_mean is not None:
            lines.append(
                f"    parts (mean p-th roots): localisation "
                f"{num(self.gospa_localisation_mean, unit=' m')}, missed "
                f"{num(self.gospa_missed_mean, unit=' m')}, false {num(self.gospa_false_mean, unit=' m')}"
            )
        lines += [
            f"  position error       mean {num(self.mean_error_m, unit=' m')}, rms "
            f"{num(self.rms_error_m, unit=' m')} over {self.assigned:,} assigned points",
            f"  distance             {self.distance}",
            f"  missed-target rate   {pct(self.missed_target_rate)} of {self.truth_points:,} "
            "truth points",
            f"  false-track rate     {pct(self.false_track_rate)} of {self.track_points:,} "
            "track points",
            f"  false tracks         {self.false_tracks:,} of {self.tracks_scored:,} tracks "
            f"({num(self.false_tracks_per_hour, '{:.2f}')} per hour)",
            f"  id switches          {self.id_switches:,} over {self.targets:,} targets",
            f"  coverage             {pct(self.coverage)} of truth points by confirmed tracks",
            f"    of observable      {pct(self.coverage_observable)} of "
            f"{self.observable_points:,} observable truth points",
        ]
        bad = self.truth_lines_bad + self.track_lines_bad
        late = self.late_truth_lines + self.late_track_lines
        if bad or late:
            lines.append(f"  input                {self.truth_lines_bad:,} bad truth lines, "
                         f"{self.track_lines_bad:,} bad track lines, {late:,} late lines")
        return "\n".join(lines)


# -- entry point ---------------------------------------------------------------------------


def score_files(
    truth_path: str | Path,
    tracks_path: str | Path,
    *,
    c: float = 1000.0,
    p: float = 2.0,
    alpha: float = 2.0,
    confirmed_only: bool = True,
    max_age: float = DEFAULT_MAX_AGE,
    step: int = 1,
    strict: bool = False,
    window: float = REORDER_WINDOW,
    truth_stats: ReadStats | None = None,
    track_stats: ReadStats | None = None,
) -> ScoreReport:
    """Score a tracks file against a truth file (JSON Lines, ``.gz`` read too).

    ``c`` cut-off (m), ``p`` order, ``alpha`` cardinality weight of GOSPA; ``step`` scores
    every step-th truth step; ``max_age`` (s) is the oldest update still taken as a track
    estimate; ``window`` (s) the out-of-order arrival tolerated. Bad lines are reported
    (to stderr unless stats with another ``report`` are given) and skipped, or raise
    :class:`~skywarden.errors.BadLineError` with ``strict``. Memory stays bounded by the
    live targets and tracks plus ``window`` seconds of lines.
    """
    _check_params(c, p, alpha)
    if step < 1:
        raise ConfigError(f"score step must be >= 1 (got {step})")
    if not max_age >= 0 or not window >= 0:
        raise ConfigError("score max_age and window must be >= 0 seconds")
    truth_stats = truth_stats or ReadStats(report=stderr_report)
    track_stats = track_stats or ReadStats(report=stderr_report)
    counts = {"late_truth": 0, "late_tracks": 0}
    truth = read_jsonl(truth_path, Truth, strict=strict, stats=truth_stats)
    lines = read_tracks(tracks_path, strict=strict, stats=track_stats)
    feed = _TrackFeed(lines, window, counts)
    table = _TrackTable()
    tally = _Tally(c, p, alpha)
    for n, truth_step in enumerate(_truth_steps(truth, window, counts)):
        if n % step:
            continue
        table.apply(feed.until(truth_step.time))
        k, lat, lon, alt = table.estimates(truth_step.time, max_age, confirmed_only)
        confirmed = np.isin(table.status[k], _CONFIRMED)
        tally.add(truth_step, k, lat, lon, alt, confirmed)
    return _report(tally, str(truth_path), str(tracks_path), step, confirmed_only, max_age,
                   truth_stats.bad, track_stats.bad, counts)


def _report(tally: _Tally, truth_file: str, tracks_file: str, step: int, confirmed_only: bool,
            max_age: float, truth_bad: int, track_bad: int, counts: dict[str, int]) -> ScoreReport:
    c, p, alpha = tally.c, tally.p, tally.alpha
    rows = np.array(tally.rows, dtype=np.float64).reshape(-1, 6)
    per_step = StepScores(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3].astype(np.intp),
                          rows[:, 4].astype(np.intp), rows[:, 5].astype(np.intp))
    steps = len(rows)
    split = alpha == 2 and steps > 0
    miss_n = per_step.truths - per_step.assigned
    false_n = per_step.tracks - per_step.assigned
    t0, t1 = (float(rows[0, 0]), float(rows[-1, 0])) if steps else (None, None)
    hours = (t1 - t0) / 3600.0 if t0 is not None and t1 is not None else 0.0
    seen, hit = tally.track_seen, tally.track_hit
    false_tracks = int(np.count_nonzero(seen & ~hit))
    return ScoreReport(
        truth_file=truth_file,
        tracks_file=tracks_file,
        c=c, p=p, alpha=alpha, step=step, confirmed_only=confirmed_only, max_age=max_age,
        distance="3-D where the track has altitude, else horizontal",
        steps=steps,
        time_start=t0,
        time_end=t1,
        gospa_mean=float(per_step.gospa.mean()) if steps else None,
        gospa_max=float(per_step.gospa.max()) if steps else None,
        gospa_localisation_mean=float(np.mean(per_step.loc ** (1 / p))) if split else None,
        gospa_missed_mean=float(np.mean((c**p / 2 * miss_n) ** (1 / p))) if split else None,
        gospa_false_mean=float(np.mean((c**p / 2 * false_n) ** (1 / p))) if split else None,
        truth_points=tally.truth_points,
        track_points=tally.track_points,
        assigned=tally.assigned,
        mean_error_m=_ratio(tally.err_sum, tally.assigned),
        rms_error_m=(math.sqrt(tally.err_sq / tally.assigned) if tally.assigned else None),
        missed_target_rate=_ratio(tally.truth_points - tally.assigned, tally.truth_points),
        false_track_rate=_ratio(tally.track_points - tally.assigned, tally.track_points),
        targets=len(tally.targets),
        tracks_scored=int(np.count_nonzero(seen)),
        false_tracks=false_tracks,
        false_tracks_per_hour=_ratio(false_tracks, hours),
        id_switches=tally.switches,
        coverage=_ratio(tally.covered, tally.truth_points),
        observable_points=tally.observable,
        coverage_observable=_ratio(tally.covered_observable, tally.observable),
        truth_lines_bad=truth_bad,
        track_lines_bad=track_bad,
        late_truth_lines=counts["late_truth"],
        late_track_lines=counts["late_tracks"],
        per_step=per_step,
    )
