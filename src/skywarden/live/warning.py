"""The warning worker: assessment and warning on a thread of their own.

Why: an assessment cycle of a thousand tracks takes a hundred milliseconds or more,
every ``assess_period`` seconds. Run inside the tracking tick, it would hold up every
detection that arrives meanwhile, and the track picture would stutter. So the tracking
tick only *decides* when to assess and with what, and hands that over:

- :class:`DeferredAssessor` stands in for the assessor inside the pipeline: it keeps
  the picture snapshot the pipeline asks it to assess and answers with no rows;
- :class:`DeferredEngine` stands in for the warning engine: it turns the pipeline's
  call (time, sensors seen, tracks gone) with that snapshot into a :class:`WarningJob`
  and answers with no events;
- :class:`WarningWorker` runs each job on the real assessor and engine, in order, and
  publishes the events and CAP messages.

The pipeline still chooses the cycle's time and inputs (its ``assess_period``, its
sigma filter, its sensor-seen times, its ended tracks), so the decisions are those of a
replay of the same data; they only come out on another thread. The one rule repeated
here is the pipeline's: nations in ``pipeline.not_warned`` get no rows.

Locks: ``assess_lock`` guards the assessor (jobs, ``set_zones``); ``engine_lock`` the
alert state (jobs, acknowledgements, the CAP feed, reads of open alerts).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..records import AlertEvent, NextEntry
from ..track.output import TrackBatch, concat, take_rows
from ..warn.cap import CapMessage
from ..warn.engine import WarningEngine, WarningOutput
from ..warn.input import Assessment
from .marks import next_entries
from .metrics import Metrics

__all__ = ["DeferredAssessor", "DeferredEngine", "WarningJob", "WarningWorker"]

log = logging.getLogger("skywarden.live")


@dataclass(slots=True)
class WarningJob:
    """One assessment cycle to run: what the pipeline passed, at time ``at``."""

    snapshot: TrackBatch | None
    at: float
    sensors_seen: dict[str, float]
    gone: list[str] = field(default_factory=list)
    # a partial cycle of these tracks only (Pipeline.assess_now); None: the whole picture
    only: frozenset[str] | None = None


class DeferredAssessor:
    """The pipeline's assessor during live running (module docstring)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.pending: TrackBatch | None = None
        self._empty = Assessment.empty()

    def assess(self, tracks: TrackBatch, now: float) -> Assessment:
        self.pending = tracks
        return self._empty


class DeferredEngine:
    """The pipeline's warning engine during live running (module docstring). ``state``,
    ``audit`` and ``cap`` are the real engine's (the pipeline starts the sensor watch on
    the real state before its first cycle, before any job exists)."""

    def __init__(self, inner: WarningEngine, assessor: DeferredAssessor,
                 submit: Callable[[WarningJob], None]) -> None:
        self.inner = inner
        self.assessor = assessor
        self.submit = submit

    @property
    def state(self) -> Any:
        return self.inner.state

    @property
    def audit(self) -> Any:
        return self.inner.audit

    @property
    def cap(self) -> Any:
        return self.inner.cap

    def step(self, assessment: Assessment, now: float, *,
             sensors_seen: Mapping[str, float] | None = None,
             gone_tracks: Iterable[str] = (),
             only_tracks: Collection[str] | None = None) -> WarningOutput:
        snapshot, self.assessor.pending = self.assessor.pending, None
        self.submit(WarningJob(snapshot, float(now), dict(sensors_seen or {}),
                               list(gone_tracks),
                               None if only_tracks is None else frozenset(only_tracks)))
        return WarningOutput()


def _merge_partial(jobs: list[WarningJob]) -> list[WarningJob]:
    """Partial cycles queued one after another become one: the newest row of each of
    their tracks, at the newest time (a burst of entries costs one cycle, as a burst of
    whole-picture cycles does)."""
    out: list[WarningJob] = []
    for job in jobs:
        prev = out[-1] if out else None
        if (job.only is None or prev is None or prev.only is None
                or job.snapshot is None or prev.snapshot is None):
            out.append(job)
            continue
        both = concat([prev.snapshot, job.snapshot])
        # newest row per track: the last occurrence of each serial
        _, last = np.unique(both.serial[::-1], return_index=True)
        rows = np.sort(len(both) - 1 - last)
        out[-1] = WarningJob(take_rows(both, rows), job.at, job.sensors_seen,
                             prev.gone + job.gone, prev.only | job.only)
    return out


class WarningWorker:
    """Runs warning jobs: assess, warn, publish (module docstring).

    ``publish(events, cap)`` marks and publishes a cycle's output (the runtime's);
    ``not_warned``: the pipeline's array of nations not warned.
    """

    def __init__(self, assessor: Any, engine: WarningEngine, not_warned: np.ndarray,
                 publish: Callable[[list[AlertEvent], list[CapMessage]], None],
                 metrics: Metrics) -> None:
        self.assessor = assessor
        self.engine = engine
        self.not_warned = not_warned
        self.publish = publish
        self.metrics = metrics
        self.assess_lock = threading.RLock()
        self.engine_lock = threading.RLock()
        self.jobs: queue.SimpleQueue[WarningJob] = queue.SimpleQueue()
        self.last: Assessment | None = None
        self.entries: dict[str, NextEntry] = {}
        self.cycles = 0

    def submit(self, job: WarningJob) -> None:
        self.jobs.put(job)

    def run_pending(self) -> int:
        """Run every job queued now (in order); returns how many cycles ran."""
        jobs = []
        while True:
            try:
                jobs.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        return self._run(jobs)

    def _run(self, jobs: list[WarningJob]) -> int:
        full = [k for k, j in enumerate(jobs) if j.only is None]
        if len(full) > 1 or (full and full[-1] > 0):
            # Behind: assess only the newest whole picture, but end every track that
            # ended; partial cycles queued before it are covered by it, those after run.
            last = full[-1]
            gone = [g for j in jobs[:last + 1] for g in j.gone]
            newest = jobs[last]
            jobs = [WarningJob(newest.snapshot, newest.at, newest.sensors_seen, gone),
                    *jobs[last + 1:]]
        jobs = _merge_partial(jobs)
        for job in jobs:
            self.cycle(job)
        return len(jobs)

    def cycle(self, job: WarningJob) -> None:
        began = time.monotonic()
        with self.assess_lock:
            if job.snapshot is not None:
                a = self.assessor.assess(job.snapshot, job.at)
            else:
                a = Assessment.empty()
        if job.only is None:
            self.last = a
            self.entries = next_entries(a)
        else:
            # a partial cycle refreshes its own tracks' next entries, no other
            kept = {k: v for k, v in self.entries.items() if k not in job.only}
            self.entries = {**kept, **next_entries(a)}
        if self.not_warned.size and len(a):
            a = a.take(~np.isin(a.target_owner, self.not_warned))
        with self.engine_lock:
            out = self.engine.step(a, job.at, sensors_seen=job.sensors_seen,
                                   gone_tracks=job.gone, only_tracks=job.only)
            levels = [x.level for x in self.engine.state.alerts.values()]
            if self.engine.cap is not None:
                # The issuer keeps every message it made; the runtime stores them (the
                # writer), so a long-running service lets that list go.
                self.engine.cap.issued.clear()
        self.cycles += 1
        self.publish(out.events, out.cap)
        self.metrics.set_open_alerts(levels)
        self.metrics.warn_cycle.observe(time.monotonic() - began)

    def run(self, stop: threading.Event) -> None:
        """The thread's loop: prepare the assessor (its rasters and zone index, built
        once), then wait for a job, run it and any that queued meanwhile."""
        prepare = getattr(self.assessor, "prepare", None)
        if prepare is not None:
            began = time.monotonic()
            with self.assess_lock:
                prepare()
            log.info("assessment ready in %.1f s (nation raster, zone index, compiled kernels)",
                     time.monotonic() - began)
        while not stop.is_set():
            try:
                first = self.jobs.get(timeout=0.2)
            except queue.Empty:
                continue
            jobs = [first]
            while True:
                try:
                    jobs.append(self.jobs.get_nowait())
                except queue.Empty:
                    break
            try:
                self._run(jobs)
            except Exception:  # keep warning; the error is logged with its trace
                log.exception("warning cycle failed")
        self.run_pending()
