"""The live service's settings: one frozen dataclass, checked when made.

Why the live defaults differ from a file replay's: a replay reads a whole file and can
wait 10 s of data time for stragglers (``TrackerConfig.reorder_lag``); a live picture
cannot. ``reorder_lag`` here is how long the tracker waits for out-of-order detections
before it processes a moment. A detection that arrives after its moment was processed is
*late* and counted: up to ``max_late_s`` behind it is still used, as an out-of-sequence
update (the tracker re-runs that moment's window for it: correct, and a little costlier);
further behind it is dropped (citizen reports, late by nature, are never dropped). A
longer lag takes more stragglers in order and adds that much delay to every track
update; a shorter one is fresher and leaves more to the late path. Ingest-to-publish
latency is about ``reorder_lag + tick_s / 2 + processing`` at ``speed`` 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..store import DAY

__all__ = ["Retention", "RuntimeSettings"]


@dataclass(frozen=True, slots=True)
class Retention:
    """How long the store keeps what (seconds; None: for ever), and how often it prunes."""

    track_history_s: float | None = 7 * DAY
    events_s: float | None = 365 * DAY
    audit_s: float | None = None
    every_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """Everything a :class:`~skywarden.live.runtime.Runtime` can be told.

    ``data_dir`` holds ``skywarden.db`` (the store), ``run`` (the run counter that makes
    track ids unique across restarts) and ``cap/`` (CAP messages as XML). Times are
    seconds: ``tick_s`` and ``writer_poll_s`` of wall time; ``reorder_lag``,
    ``max_late_s`` and ``assess_period`` of clock time (scenario time in a demo).
    """

    data_dir: Path = Path("skywarden-data")
    # 0.05 s each: a track row on a client within 200 ms at the 99th percentile under
    # 5,000 detections/s (docs/PERFORMANCE.md, bench_service); stragglers take the late path.
    reorder_lag: float = 0.05
    max_late_s: float = 1.0
    max_ahead_s: float = 60.0  # detections further ahead of the clock are refused
    tick_s: float = 0.05
    assess_period: float = 2.0
    cap_status: str = "Exercise"
    sender: str = "skywarden"
    detection_queue: int = 4096  # det.* messages waiting for the worker (drop_oldest)
    track_queue: int = 1024  # tracks.* messages waiting for the store writer (drop_oldest)
    alert_queue: int = 100_000  # alerts.* and cap.* waiting for the writer (block)
    writer_poll_s: float = 0.2
    history_every_s: float = 1.0  # a track's stored history: a row per this much time
    retention: Retention = field(default_factory=Retention)

    def __post_init__(self) -> None:
        checks = {
            "reorder_lag": (self.reorder_lag, 0.0, 600.0),
            "max_late_s": (self.max_late_s, 0.0, 86400.0),
            "max_ahead_s": (self.max_ahead_s, 0.0, 86400.0),
            "tick_s": (self.tick_s, 0.01, 10.0),
            "assess_period": (self.assess_period, 0.1, 600.0),
            "writer_poll_s": (self.writer_poll_s, 0.01, 10.0),
            "history_every_s": (self.history_every_s, 0.0, 3600.0),
        }
        for name, (value, lo, hi) in checks.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi):
                raise ConfigError(f"live setting {name} = {value!r} is outside [{lo:g}, {hi:g}] s")
        for name in ("detection_queue", "track_queue", "alert_queue"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"live setting {name} = {value!r}: a whole number >= 1")

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "skywarden.db"
