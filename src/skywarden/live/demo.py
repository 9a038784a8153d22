"""The demo feed: a simulated night served live, as if its sensors were on the air.

    folder = prepare_demo("poland-2025-09", data_dir)        # simulate once, then reuse
    clock = SimClock(first_detection_time(folder), speed=1)
    feed = DemoFeed(runtime, folder, clock); feed.start()

The scenario is simulated once into ``DATA/demo/<scenario>-<seed>/`` (detections,
truth, the sensor registry) and reused on every later start. Its detections are then
played into :meth:`Runtime.ingest` in time order, each when the clock reaches its time:
the clock is a :class:`SimClock` that starts at the first detection and runs at
``speed`` times real time, so the whole service (tracker, alerts, the map's clock) lives
in the scenario's night.

At the end of the file the feed **stops**: the clock runs on, the tracks coast and end,
the alerts clear, and the service stays up with its history (the time slider, the
stored alerts). It does not loop, because time cannot run backwards for the tracker and
the store; restart the service (``--data`` a fresh directory) to see the night again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import SimClock
from ..ingest.jsonl import ReadStats, read_detections
from ..records import Detection, DetectionBatch
from ..sensors import SensorRegistry

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["DemoFeed", "first_detection_time", "prepare_demo"]

log = logging.getLogger("skywarden.live")
SOURCE = "demo"
BATCH_S = 0.02  # wall seconds: detections due are sent together at most this often


def prepare_demo(scenario: str, data_dir: Path, *, seed: int | None = None,
                 duration: float | None = None) -> Path:
    """The folder of the scenario's simulated output (made on first use)."""
    from ..sim.runner import run_scenario
    from ..sim.scenario import load_scenario

    overrides = {} if duration is None else {"duration": duration}
    model = load_scenario(scenario, **overrides)
    seed = model.seed if seed is None else seed
    name = Path(scenario).stem if scenario.endswith(".toml") else scenario
    suffix = "" if duration is None else f"-{int(duration)}s"
    folder = Path(data_dir) / "demo" / f"{name}-{seed}{suffix}"
    if (folder / "detections.jsonl").is_file() and (folder / "sensors.toml").is_file():
        return folder
    log.info("simulating %s (seed %s) into %s, once", scenario, seed, folder)
    run_scenario(model, folder, seed=seed)
    return folder


def first_detection_time(folder: Path) -> float:
    """Time of the first detection of a demo folder (its clock starts there)."""
    for det in read_detections(folder / "detections.jsonl"):
        return det.time
    raise ValueError(f"{folder}/detections.jsonl holds no detection")


class DemoFeed:
    """Plays a demo folder's detections into a runtime at its clock's pace."""

    def __init__(self, runtime: Runtime, folder: Path, clock: SimClock) -> None:
        self.runtime = runtime
        self.folder = Path(folder)
        self.clock = clock
        self.stats = ReadStats()
        self.sent = 0
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_send = -math.inf

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="skywarden-demo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def run(self) -> None:
        """Read, wait for each detection's time on the clock, ingest in small batches."""
        registry: SensorRegistry = self.runtime.registry
        pending: list[Detection] = []
        try:
            for det in read_detections(self.folder / "detections.jsonl", stats=self.stats,
                                       sensors=registry):
                if self._stop.is_set():
                    return
                if pending and det.time > self.clock.now():
                    # Send what is due, at most every BATCH_S of wall time (a fast demo
                    # would otherwise send one detection per call).
                    if time.monotonic() - self._last_send >= BATCH_S or \
                            self.clock.wall_delay(det.time) >= BATCH_S:
                        self._send(pending, registry)
                        pending = []
                    while det.time > self.clock.now():  # waits of more than 1 s, in steps
                        if self._stop.wait(min(self.clock.wall_delay(det.time), 1.0)):
                            return
                pending.append(det)
                if len(pending) >= 5000:
                    self._send(pending, registry)
                    pending = []
            if pending:
                self._send(pending, registry)
            log.info("demo feed: end of %s (%d detections played); the clock runs on",
                     self.folder / "detections.jsonl", self.sent)
        except Exception:
            log.exception("demo feed stopped")
        finally:
            self.finished.set()

    def _send(self, dets: list[Detection], registry: SensorRegistry) -> None:
        self.runtime.ingest(DetectionBatch.from_records(dets, registry.ids), SOURCE)
        self.sent += len(dets)
        self._last_send = time.monotonic()
