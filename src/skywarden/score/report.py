"""Accumulation over scored steps, the report (ScoreReport, StepScores) and score_files."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError
from ..ingest.jsonl import ReadStats, read_jsonl, stderr_report
from ..records import Truth
from .gospa import FloatArray, IntArray, _check_params, gospa_positions
from .streams import (
    _CONFIRMED,
    DEFAULT_MAX_AGE,
    REORDER_WINDOW,
    _TrackFeed,
    _TrackTable,
    _truth_steps,
    _TruthStep,
    read_tracks,
)

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
