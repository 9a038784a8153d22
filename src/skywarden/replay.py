"""Replay a recording through the whole pipeline: the file edge around :class:`Pipeline`.

    replay(detections.jsonl, sensors.toml, alerts_out=..., tracks_out=..., cap_dir=...)
        -> ReplaySummary

Detections are read in file order and fed in slices of ``slice_s`` seconds of data time
(default: the pipeline's assessment period)
(the clock of a replay is the data's own time, so results do not depend on the machine's
speed). Every alert event goes to ``alerts_out`` (formats.md "Alert event"), every track
row to ``tracks_out`` when given, and every CAP message to ``cap_dir`` as one XML file
each. :meth:`ReplaySummary.timeline` is the alert timeline for people.
"""

from __future__ import annotations

import math
import time as _time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .ingest.jsonl import JsonlWriter, ReadStats
from .ingest.timespikes import read_recording
from .pipeline import Pipeline, StageTimes, StepOutput
from .records import AlertEvent, Detection, DetectionBatch
from .sensors import SensorRegistry
from .warn.cap import CapMessage


@dataclass
class ReplaySummary:
    events: list[AlertEvent] = field(default_factory=list)
    cap: list[CapMessage] = field(default_factory=list)
    lines_good: int = 0
    lines_bad: int = 0
    bad_reasons: Counter[str] = field(default_factory=Counter)
    track_lines: int = 0
    tracks_confirmed: int = 0
    first: float = math.inf
    last: float = -math.inf
    seconds: float = 0.0
    times: StageTimes = field(default_factory=StageTimes)

    def timeline(
        self,
        limit: int | None = None,
        *,
        min_level: int = 0,
        nations: tuple[str, ...] = (),
        kinds: tuple[str, ...] = (),
    ) -> str:
        """The alert events as lines: time, nation, level, what happened, about what.

        ``min_level``, ``nations`` and ``kinds`` keep only the events of alerts that
        reached that level, of those nations, of those kinds (empty: all).
        """
        peak: dict[str, int] = {}
        for e in self.events:
            peak[e.alert] = max(peak.get(e.alert, 0), e.level)
        shown = [
            e
            for e in self.events
            if peak[e.alert] >= min_level
            and (not nations or e.nation in nations)
            and (not kinds or e.kind in kinds)
        ]
        if not shown:
            return "no alerts"
        t0 = self.first if math.isfinite(self.first) else shown[0].time
        rows = []
        for e in shown[:limit]:
            stamp = datetime.fromtimestamp(e.time, UTC).strftime("%H:%M:%S")
            level = f"L{e.level} {e.level_name or ''}".strip()
            what = e.zone or ""
            subject = e.track or e.sensor or ""
            extra = []
            if e.eta is not None and e.kind == "predicted_entry":
                extra.append(f"entry in {_mmss(e.eta - e.time)}")
            if e.probability is not None and e.kind == "predicted_entry":
                extra.append(f"p={e.probability:.2f}")
            if e.by:
                extra.append(f"by {e.by}")
            rows.append(
                f"{stamp} +{_mmss(e.time - t0):>6}  {e.nation:<4} {level:<14} "
                f"{e.event:<12} {e.kind:<22} {subject:<10} {what:<14} {' '.join(extra)}"
            )
        more = len(shown) - len(rows)
        if more > 0:
            rows.append(f"... and {more} more events")
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.table()

    def table(self) -> str:
        kinds = Counter(e.kind for e in self.events if e.event == "raised")
        by_nation = Counter(e.nation for e in self.events if e.event == "raised")
        # a warning is a CAP thread: its Alert opens it (one per region at risk)
        warned = Counter(m.nation for m in self.cap if m.msg_type == "Alert")
        span = max(self.last - self.first, 0.0) if math.isfinite(self.first) else 0.0
        rows = [
            ("input lines", f"{self.lines_good + self.lines_bad:,}"),
            ("  bad lines skipped", f"{self.lines_bad:,}"),
            *((f"    {r}", f"{n:,}") for r, n in self.bad_reasons.most_common()),
            ("data time", f"{span:,.0f} s"),
            ("track lines", f"{self.track_lines:,}"),
            ("tracks confirmed", f"{self.tracks_confirmed:,}"),
            ("alert events", f"{len(self.events):,}"),
            ("alerts raised", f"{sum(kinds.values()):,}"),
            *((f"  {k}", f"{n:,}") for k, n in kinds.most_common()),
            ("alerts raised per nation", ""),
            *((f"  {k}", f"{n:,}") for k, n in sorted(by_nation.items())),
            ("CAP messages", f"{len(self.cap):,}"),
            ("public warnings issued", f"{sum(warned.values()):,}"),
            *((f"  {k}", f"{n:,}") for k, n in sorted(warned.items())),
            ("assessment cycles", f"{self.times.cycles:,}"),
            ("wall time", f"{self.seconds:,.1f} s"),
            ("  track / assess / warn", f"{self.times.track:,.1f} / "
             f"{self.times.assess:,.1f} / {self.times.warn:,.1f} s"),
        ]  # fmt: skip
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{a:<{width}}  {b:>14}" for a, b in rows)


def _mmss(seconds: float) -> str:
    s = int(round(seconds))
    sign = "-" if s < 0 else ""
    s = abs(s)
    return f"{sign}{s // 60}:{s % 60:02d}"


def replay(
    detections_path: str | Path,
    sensors_path: str | Path,
    *,
    alerts_out: str | Path | None = None,
    tracks_out: str | Path | None = None,
    cap_dir: str | Path | None = None,
    pipeline: Pipeline | None = None,
    slice_s: float | None = None,
    strict: bool = False,
    report: Callable[[str], None] | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> ReplaySummary:
    """Run a detections file through the pipeline; see the module docstring."""
    started = _time.perf_counter()
    registry = SensorRegistry.load(sensors_path)
    pipe = pipeline or Pipeline(registry)
    # Feed the data in slices of one assessment period: finer slices only add calls.
    slice_s = slice_s or pipe.assess_period
    read = ReadStats(report=report)
    summary = ReplaySummary()
    cap_folder = Path(cap_dir) if cap_dir is not None else None
    if cap_folder is not None:
        cap_folder.mkdir(parents=True, exist_ok=True)

    alerts_w = JsonlWriter(alerts_out) if alerts_out is not None else None
    tracks_w = JsonlWriter(tracks_out) if tracks_out is not None else None
    try:

        def take(out: StepOutput) -> None:
            summary.events += out.events
            summary.cap += out.cap
            if alerts_w is not None:
                for e in out.events:
                    alerts_w.write(e)
            if tracks_w is not None and len(out.tracks):
                tracks_w.write_raw(out.tracks.json_lines(), len(out.tracks))
            summary.track_lines += len(out.tracks)
            if cap_folder is not None:
                for msg in out.cap:
                    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in msg.identifier)
                    (cap_folder / f"{name}.xml").write_bytes(msg.xml)

        chunk: list[Detection] = []
        edge = -math.inf
        for det in read_recording(detections_path, read, strict=strict, sensors=registry):
            summary.first = min(summary.first, det.time)
            summary.last = max(summary.last, det.time)
            if det.time >= edge and chunk:
                take(pipe.step(DetectionBatch.from_records(chunk, registry.ids), edge))
                chunk = []
                if progress is not None:
                    progress(read.good, edge)
            if det.time >= edge:
                edge = (math.floor(det.time / slice_s) + 1) * slice_s
            chunk.append(det)
        if chunk:
            take(pipe.step(DetectionBatch.from_records(chunk, registry.ids), edge))
        take(pipe.flush())
    except BaseException:
        pipe.close()
        # Nothing half-written: the outputs appear whole or not at all.
        for w in (alerts_w, tracks_w):
            if w is not None:
                w.abort()
        raise
    pipe.close()
    for w in (alerts_w, tracks_w):
        if w is not None:
            w.close()
    summary.lines_good, summary.lines_bad = read.good, read.bad
    summary.bad_reasons = Counter(read.reasons)
    summary.tracks_confirmed = pipe.tracker.stats.tracks_confirmed
    summary.times = pipe.times
    summary.seconds = _time.perf_counter() - started
    return summary
