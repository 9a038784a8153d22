"""Track a detections file: the file-to-file edge around :class:`Tracker`.

    track_file(detections.jsonl, sensors.toml, tracks.jsonl) -> TrackSummary

Streams the input (bounded memory: chunks of ``CHUNK`` lines), feeds the tracker with
"now" = the newest detection time seen (so the reorder buffer holds ``reorder_lag``
seconds), writes one line per track per update in the shared Track format, and returns
what happened to every detection and how many tracks were confirmed.
"""

from __future__ import annotations

import time as _time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..ingest.jsonl import JsonlWriter, ReadStats
from ..ingest.timespikes import read_recording
from ..records import Detection, DetectionBatch
from ..sensors import SensorRegistry
from .config import TrackerConfig
from .output import TrackBatch
from .tracker import Tracker

CHUNK = 8192


@dataclass
class TrackSummary:
    """What one tracking run did. ``str()`` gives a readable table."""

    lines_good: int = 0
    lines_bad: int = 0
    bad_reasons: Counter[str] = field(default_factory=Counter)
    detections: int = 0
    associated: int = 0
    initiated: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    bearings_unused: int = 0
    tracks_started: int = 0
    tracks_confirmed: int = 0
    tracks_merged: int = 0
    tracks_output: int = 0
    spoof_flags: int = 0
    lines_written: int = 0
    seconds: float = 0.0
    scenario_seconds: float = 0.0

    @property
    def used(self) -> int:
        return self.associated + self.initiated

    @property
    def rate(self) -> float:
        """Detections per second of wall time."""
        return self.detections / self.seconds if self.seconds > 0 else 0.0

    def table(self) -> str:
        rows = [
            ("input lines", f"{self.lines_good + self.lines_bad:,}"),
            ("  bad lines skipped", f"{self.lines_bad:,}"),
            *((f"    {r}", f"{n:,}") for r, n in self.bad_reasons.most_common()),
            ("detections", f"{self.detections:,}"),
            ("  used", f"{self.used:,}"),
            ("    updated a track", f"{self.associated:,}"),
            ("    started a track", f"{self.initiated:,}"),
            ("  rejected", f"{sum(self.rejected.values()):,}"),
            *((f"    {r}", f"{n:,}") for r, n in self.rejected.most_common()),
            ("  bearings never triangulated", f"{self.bearings_unused:,}"),
            ("  other (clutter, unclaimed)", f"{self._other():,}"),
            ("tracks started (tentative)", f"{self.tracks_started:,}"),
            ("tracks confirmed", f"{self.tracks_confirmed:,}"),
            ("tracks merged", f"{self.tracks_merged:,}"),
            ("tracks in output", f"{self.tracks_output:,}"),
            ("spoof flags", f"{self.spoof_flags:,}"),
            ("track lines written", f"{self.lines_written:,}"),
            ("scenario time", f"{self.scenario_seconds:,.0f} s"),
            ("wall time", f"{self.seconds:,.1f} s"),
            ("speed", f"{self.rate:,.0f} detections/s"),
        ]
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{a:<{width}}  {b:>12}" for a, b in rows)

    def _other(self) -> int:
        return max(
            self.detections - self.used - sum(self.rejected.values()) - self.bearings_unused, 0
        )

    def __str__(self) -> str:
        return self.table()


def track_file(
    detections_path: str | Path,
    sensors_path: str | Path,
    out_path: str | Path,
    *,
    strict: bool = False,
    progress: Callable[[int, float], None] | None = None,
    config: TrackerConfig | None = None,
    report: Callable[[str], None] | None = None,
) -> TrackSummary:
    """Track ``detections_path`` with the registry ``sensors_path`` into ``out_path``.

    Bad input lines are skipped and counted (``strict`` raises on the first); ``report``
    receives their messages. ``progress(detections_read, newest_time)`` is called per chunk.
    """
    started = _time.perf_counter()
    registry = SensorRegistry.load(sensors_path)
    tracker = Tracker(registry, config)
    read = ReadStats(report=report)
    summary = TrackSummary()
    seen: set[int] = set()  # track serials
    now = -float("inf")
    first = float("inf")

    def write(batch: TrackBatch) -> None:
        if len(batch):
            writer.write_raw(batch.json_lines(), len(batch))
            seen.update(batch.serial.tolist())

    with JsonlWriter(out_path) as writer:
        chunk: list[Detection] = []
        for det in read_recording(detections_path, read, strict=strict, sensors=registry):
            chunk.append(det)
            if len(chunk) >= CHUNK:
                now, first = _feed(tracker, chunk, registry, now, first, write)
                chunk = []
                if progress is not None:
                    progress(read.good, now)
        if chunk:
            now, first = _feed(tracker, chunk, registry, now, first, write)
        write(tracker.flush())
        summary.lines_written = writer.count

    st = tracker.stats
    summary.lines_good, summary.lines_bad = read.good, read.bad
    summary.bad_reasons = Counter(read.reasons)
    summary.detections = st.received
    summary.associated, summary.initiated = st.associated, st.initiated
    summary.rejected = Counter(st.rejected)
    summary.bearings_unused = st.bearings_waiting
    summary.tracks_started = st.tracks_started
    summary.tracks_confirmed = st.tracks_confirmed
    summary.tracks_merged = st.tracks_merged
    summary.spoof_flags = st.spoof_flags
    summary.tracks_output = len(seen)
    summary.seconds = _time.perf_counter() - started
    summary.scenario_seconds = max(now - first, 0.0) if first < float("inf") else 0.0
    return summary


def _feed(
    tracker: Tracker,
    chunk: list[Detection],
    registry: SensorRegistry,
    now: float,
    first: float,
    write: Callable[[TrackBatch], None],
) -> tuple[float, float]:
    batch = DetectionBatch.from_records(chunk, registry.ids)
    now = max(now, float(batch.time.max()))
    first = min(first, float(batch.time.min()))
    write(tracker.step(batch, now))
    return now, first
