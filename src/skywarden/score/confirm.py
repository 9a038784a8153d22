"""Confirmation delay: how soon after a target's first radar plot a confirmed track holds it.

From labelled detections (``skywarden sim ... --labels`` writes each detection's truth
target in its ``target`` field), the truth and the tracks, per truth target:

- **first radar plot**: the time of the earliest detection labelled with the target from
  a sensor of type ``radar`` in the registry (without a registry entry: a ``polar``
  detection), and that radar's ``scan_period`` (registry; else the tracker's default for
  radars);
- **first confirmed**: the first scored step at which the scorer's GOSPA assignment
  (the same per-step assignment as :func:`skywarden.score.score_files`: truth steps,
  track estimates extrapolated to the step, cut-off ``c``) pairs the target with a
  confirmed or coasting track;
- **delay** = first confirmed - first radar plot, in seconds and in scans of that radar
  (``delay / scan_period``). A target already held by a confirmed track when radar first
  sees it (from ADS-B, say) has delay 0.

Beside the delay, each target's second radar plot and the number of its radar plots up
to its confirmation are given: no rule can tell a target from clutter on one plot, so a
target whose second plot comes late cannot be confirmed early, whatever the tracker does.

Targets can be restricted to one truth class (``target_class``) and to those that
entered a nation (``nation``, ISO alpha-3): a target entered it when any of its truth
points lies in that nation's territory, land or territorial sea
(:func:`skywarden.airspace.borders.load_borders`).
Targets no radar ever saw are counted apart; targets never confirmed have no delay and are
listed with the late ones (those over ``limit_scans`` scans).

A confirmation shows at the first truth step after it (1 s steps in the shipped
scenarios), so a delay is exact to one step; a target counts as late when its delay
exceeds ``limit_scans`` scans by more than one step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from ..errors import ConfigError, RecordError
from ..ingest.jsonl import ReadStats, read_jsonl, stderr_report
from ..records import Truth
from ..sensors import SensorRegistry
from .gospa import _check_params, gospa_positions
from .streams import (
    DEFAULT_MAX_AGE,
    REORDER_WINDOW,
    _TrackFeed,
    _TrackTable,
    _truth_steps,
    read_tracks,
)

# Revisit assumed for a radar the registry does not list (the tracker's default).
DEFAULT_RADAR_SCAN = 10.0
# Truth points checked against the borders at a time.
_NATION_CHUNK = 65536


class _Label(msgspec.Struct):
    """The fields of a detection line that the delay needs (the rest is ignored)."""

    time: float
    sensor: str
    kind: str = "position"
    target: str | None = None


def _check_label(d: _Label) -> None:
    if not math.isfinite(d.time):
        raise RecordError("field time: not a finite number")


@dataclass(frozen=True, slots=True)
class TargetDelay:
    """One target: its first radar plot, its first confirmed track, and the delay."""

    target: str
    cls: str
    radar: str | None  # sensor of the first radar plot (None: never seen by radar)
    first_radar: float | None  # time of that plot (epoch s)
    second_radar: float | None  # time of its second radar plot, any radar
    scan_period: float | None  # that radar's revisit (s)
    entered: float | None  # first truth time over the nation (None without a nation)
    confirmed: float | None  # first step held by a confirmed track (None: never)
    track: str | None  # that track's id
    delay_s: float | None
    delay_scans: float | None
    plots_to_confirm: int | None  # radar plots of the target up to its confirmation


@dataclass(frozen=True, slots=True)
class ConfirmationReport:
    """Confirmation delays of the selected targets (see the module docstring).

    The statistics run over targets seen by radar and confirmed; ``never`` are the
    targets seen by radar but never held by a confirmed track; ``late`` are those over
    ``limit_scans`` scans (plus one truth step), never-confirmed ones included.
    """

    nation: str | None
    target_class: str | None
    limit_scans: float
    step: float  # truth step (s): the resolution of every delay
    selected: int  # targets of the class (and nation) in the truth
    unseen: int  # of those, targets no radar detected
    count: int  # seen by radar and confirmed
    never: int
    median_s: float | None
    p90_s: float | None
    max_s: float | None
    median_scans: float | None
    p90_scans: float | None
    max_scans: float | None
    median_plots: float | None  # radar plots of a target up to its confirmation
    second_within: int  # targets whose second radar plot came within limit_scans
    late: list[TargetDelay]
    targets: list[TargetDelay] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; per-target rows under ``targets`` and ``late``."""
        return asdict(self)

    def table(self) -> str:
        """The readable block for the score table."""

        def num(v: float | None, fmt: str = "{:.1f}") -> str:
            return "n/a" if v is None else fmt.format(v)

        what = []
        if self.target_class:
            what.append(f"class {self.target_class}")
        if self.nation:
            what.append(f"entered {self.nation}")
        sel = ", ".join(what) or "all targets"
        lines = [
            f"  confirmation delay   {sel}: {self.selected} targets, {self.unseen} never seen "
            f"by radar, {self.count} confirmed, {self.never} never confirmed",
            f"    after first radar  median {num(self.median_s)} s "
            f"({num(self.median_scans, '{:.2f}')} scans), p90 {num(self.p90_s)} s ({num(self.p90_scans, '{:.2f}')} scans), max "
            f"{num(self.max_s)} s ({num(self.max_scans, '{:.2f}')} scans)",
            f"    radar plots        median {num(self.median_plots, '{:g}')} up to confirmation; "
            f"{self.second_within} of {self.selected - self.unseen} had a second plot within "
            f"{self.limit_scans:g} scans of the first",
            f"    over {self.limit_scans:g} scans     {len(self.late)} (one {self.step:g} s truth "
            "step allowed)",
        ]
        for d in self.late:
            delay = (
                "never confirmed"
                if d.delay_s is None
                else f"{d.delay_s:6.1f} s = {d.delay_scans:5.2f} scans, plot {d.plots_to_confirm}"
            )
            second = (
                "no second plot"
                if d.second_radar is None or d.first_radar is None
                else f"second plot +{d.second_radar - d.first_radar:.0f} s"
            )
            lines.append(f"      {d.target:24s} {delay} (first plot {d.radar}, "
                         f"scan {num(d.scan_period, '{:g}')} s; {second})")
        return "\n".join(lines)


def _radar_plots(
    path: str | Path, registry: SensorRegistry | None, strict: bool, stats: ReadStats
) -> dict[str, tuple[np.ndarray, str]]:
    """Per labelled target: the times of its radar plots (sorted) and the radar of the
    first."""
    times: dict[str, list[float]] = {}
    first: dict[str, tuple[float, str]] = {}
    radar: dict[str, bool] = {}
    labelled = 0
    for d in read_jsonl(path, _Label, strict=strict, stats=stats, check=_check_label):
        if d.target is None:
            continue
        labelled += 1
        is_radar = radar.get(d.sensor)
        if is_radar is None:
            s = registry.get(d.sensor) if registry is not None else None
            is_radar = radar[d.sensor] = s.type == "radar" if s is not None else d.kind == "polar"
        if not is_radar:
            continue
        times.setdefault(d.target, []).append(d.time)
        seen = first.get(d.target)
        if seen is None or d.time < seen[0]:
            first[d.target] = (d.time, d.sensor)
    if stats.good and not labelled:
        raise ConfigError(
            f"{path}: no detection carries a target label (simulate with --labels)"
        )
    return {k: (np.sort(np.array(v)), first[k][1]) for k, v in times.items()}


class _TruthWatch:
    """Passes truth rows through, noting each target's class and first time over a nation."""

    def __init__(self, nation: str | None) -> None:
        self.nation = nation
        self.cls: dict[str, str] = {}
        self.entered: dict[str, float] = {}
        self._buf: list[tuple[str, float, float, float]] = []
        self._borders: Any = None
        if nation is not None:
            from ..airspace.borders import load_borders

            self._borders = load_borders()
            if nation not in self._borders.codes:
                raise ConfigError(f"unknown nation {nation!r}: not in the shipped borders")

    def rows(self, rows: Iterator[Truth]) -> Iterator[Truth]:
        for row in rows:
            self.cls.setdefault(row.target, row.cls)
            if self._borders is not None and row.target not in self.entered:
                self._buf.append((row.target, row.time, row.lat, row.lon))
                if len(self._buf) >= _NATION_CHUNK:
                    self._check()
            yield row
        self._check()

    def _check(self) -> None:
        if not self._buf:
            return
        tgt, t, lat, lon = zip(*self._buf, strict=True)
        self._buf = []
        nation = self._borders.nation_at(np.array(lat), np.array(lon))
        inside = np.flatnonzero(nation == self.nation)
        for k in inside.tolist():
            old = self.entered.get(tgt[k])
            if old is None or t[k] < old:
                self.entered[tgt[k]] = t[k]


def confirmation_delays(
    truth_path: str | Path,
    tracks_path: str | Path,
    detections_path: str | Path,
    *,
    registry: SensorRegistry | str | Path | None = None,
    nation: str | None = None,
    target_class: str | None = None,
    limit_scans: float = 2.0,
    c: float = 1000.0,
    p: float = 2.0,
    alpha: float = 2.0,
    max_age: float = DEFAULT_MAX_AGE,
    window: float = REORDER_WINDOW,
    strict: bool = False,
) -> ConfirmationReport:
    """Confirmation delay of every selected target (see the module docstring).

    ``registry`` gives the radars' scan periods (a registry or its TOML path; None: the
    ``sensors.toml`` beside the detections if there is one). Only confirmed and coasting
    tracks count. Bad lines are reported on stderr and skipped (``strict``: an error).
    """
    _check_params(c, p, alpha)
    if not limit_scans > 0:
        raise ConfigError(f"confirmation limit must be > 0 scans (got {limit_scans})")
    if registry is None:
        beside = Path(detections_path).with_name("sensors.toml")
        registry = beside if beside.is_file() else None
    if registry is not None and not isinstance(registry, SensorRegistry):
        registry = SensorRegistry.load(registry)
    plots = _radar_plots(detections_path, registry, strict, ReadStats(report=stderr_report))
    watch = _TruthWatch(nation)
    counts = {"late_truth": 0, "late_tracks": 0}
    truth = watch.rows(read_jsonl(truth_path, Truth, strict=strict,
                                  stats=ReadStats(report=stderr_report)))
    feed = _TrackFeed(read_tracks(tracks_path, strict=strict,
                                  stats=ReadStats(report=stderr_report)), window, counts)
    table = _TrackTable()
    names: list[str] = []
    held: dict[str, tuple[float, str]] = {}  # target -> first step and track confirmed
    last, dt = -math.inf, math.inf
    for step in _truth_steps(truth, window, counts):
        dt = min(dt, step.time - last)
        last = step.time
        table.apply(feed.until(step.time))
        if len(names) < len(table.index):
            names = list(table.index)
        k, lat, lon, alt = table.estimates(step.time, max_age, True)
        g = gospa_positions(step.lat, step.lon, step.alt, lat, lon, alt, c=c, p=p, alpha=alpha)
        for ti, kj in zip(g.pairs_truth.tolist(), g.pairs_track.tolist(), strict=True):
            tgt = step.target[ti]
            if tgt not in held:
                held[tgt] = (step.time, names[int(k[kj])])
    step = dt if math.isfinite(dt) else 0.0
    return _summarise(watch, plots, held, registry, nation, target_class, limit_scans, step)


def _scan_period(registry: SensorRegistry | None, sensor: str) -> float:
    s = registry.get(sensor) if registry is not None else None
    return float(s.scan_period) if s is not None and s.scan_period else DEFAULT_RADAR_SCAN


def _summarise(
    watch: _TruthWatch,
    plots: dict[str, tuple[np.ndarray, str]],
    held: dict[str, tuple[float, str]],
    registry: SensorRegistry | None,
    nation: str | None,
    target_class: str | None,
    limit_scans: float,
    step: float,
) -> ConfirmationReport:
    rows: list[TargetDelay] = []
    for tgt, cls in watch.cls.items():
        if target_class is not None and cls != target_class:
            continue
        if nation is not None and tgt not in watch.entered:
            continue
        seen = plots.get(tgt)
        conf = held.get(tgt)
        t0 = float(seen[0][0]) if seen else None
        scan = _scan_period(registry, seen[1]) if seen else None
        delay = None
        n_plots = None
        if seen is not None and conf is not None:
            delay = max(float(conf[0] - seen[0][0]), 0.0)
            n_plots = int(np.searchsorted(seen[0], conf[0], side="right"))
        rows.append(TargetDelay(
            target=tgt, cls=cls, radar=seen[1] if seen else None, first_radar=t0,
            second_radar=float(seen[0][1]) if seen and seen[0].size > 1 else None,
            scan_period=scan, entered=watch.entered.get(tgt),
            confirmed=conf[0] if conf else None, track=conf[1] if conf else None,
            delay_s=delay, delay_scans=None if delay is None or scan is None else delay / scan,
            plots_to_confirm=n_plots,
        ))
    rows.sort(key=lambda r: (r.first_radar is None, r.first_radar or 0.0, r.target))
    seen = [r for r in rows if r.first_radar is not None]
    done = [r for r in seen if r.delay_s is not None]
    sec = np.array([r.delay_s for r in done], dtype=np.float64)
    scans = np.array([r.delay_scans for r in done], dtype=np.float64)

    def stat(a: np.ndarray, q: float | None) -> float | None:
        if not a.size:
            return None
        return float(a.max() if q is None else np.percentile(a, q))

    # A confirmation shows at the next truth step: one step of slack before "late".
    late = [
        r for r in seen
        if r.delay_s is None or r.scan_period is None
        or r.delay_s > limit_scans * r.scan_period + step
    ]
    n_plots = np.array([r.plots_to_confirm for r in done], dtype=np.float64)
    second = [
        r for r in seen
        if r.second_radar is not None and r.scan_period is not None and r.first_radar is not None
        and r.second_radar - r.first_radar <= limit_scans * r.scan_period
    ]
    return ConfirmationReport(
        nation=nation, target_class=target_class, limit_scans=limit_scans, step=step,
        selected=len(rows), unseen=len(rows) - len(seen), count=len(done),
        never=len(seen) - len(done),
        median_s=stat(sec, 50), p90_s=stat(sec, 90), max_s=stat(sec, None),
        median_scans=stat(scans, 50), p90_scans=stat(scans, 90), max_scans=stat(scans, None),
        median_plots=stat(n_plots, 50), second_within=len(second),
        late=late, targets=rows,
    )
