"""One process, read top to bottom: detections -> track -> picture -> assess -> warn.

    pipeline = Pipeline(registry)                     # shipped borders, zones, rules
    out = pipeline.step(detection_batch, now)         # StepOutput: tracks, events, cap
    out = pipeline.flush()                            # end of input

The tracker runs on every step. Assessment and warning run on the air picture (the
newest row of every live track) once per ``assess_period`` seconds of data time, at the
time up to which the tracker has processed detections (``now`` minus its reorder lag),
so a replay at any speed and a live run make the same decisions from the same data.

Sensor health comes from the detections themselves: the newest detection time per
sensor is what the warning stage's sensor-down watch compares with each sensor's period.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import ConfigError
from .picture import Picture, take_rows
from .records import AlertEvent, DetectionBatch
from .sensors import SensorRegistry
from .tomlfile import parse_toml, read_toml
from .track import TrackBatch, Tracker, TrackerConfig
from .track.output import concat
from .warn.cap import CapMessage
from .warn.engine import WarningEngine
from .warn.input import Assessment

# Sensor types whose silence means a fault (see Pipeline._maybe_assess).
WATCHED_TYPES = ("radar",)


class Assessor(Protocol):
    def assess(self, tracks: TrackBatch, now: float) -> Assessment: ...


@dataclass(slots=True)
class StepOutput:
    tracks: TrackBatch
    events: list[AlertEvent] = field(default_factory=list)
    cap: list[CapMessage] = field(default_factory=list)
    assessed: int = 0  # assessment rows of this step (0: no assessment ran)


@dataclass
class StageTimes:
    """Wall seconds spent per stage (for summaries and the benchmark)."""

    track: float = 0.0
    assess: float = 0.0
    warn: float = 0.0
    cycles: int = 0


class Pipeline:
    """Tracker, picture, assessor and warning engine wired in one process."""

    def __init__(
        self,
        registry: SensorRegistry,
        *,
        tracker_config: TrackerConfig | None = None,
        assessor: Assessor | None = None,
        engine: WarningEngine | None = None,
        assess_period: float = 2.0,
        not_warned: Collection[str] | None = None,
        max_sigma_h: float = 3000.0,
    ) -> None:
        if assessor is None:
            from .airspace import load_shipped_zones
            from .assess import Assessor as DefaultAssessor

            assessor = DefaultAssessor(zones=load_shipped_zones())
        self.registry = registry
        self.tracker = Tracker(registry, tracker_config)
        self.picture = Picture()
        self.assessor = assessor
        self.engine = engine or default_engine()
        self.assess_period = assess_period
        self.max_sigma_h = max_sigma_h
        self.not_warned = np.array(
            sorted(load_not_warned() if not_warned is None else not_warned), dtype=str
        )
        self.times = StageTimes()
        self._last_assess = -math.inf
        self._seen: dict[str, float] = {}
        self._gone: list[str] = []
        self._watching = False

    def step(self, batch: DetectionBatch | None, now: float) -> StepOutput:
        """Feed ``batch`` (may be None) with the clock at ``now``."""
        began = time.perf_counter()
        if batch is not None and len(batch):
            self._note_sensors(batch)
        tracks = self.tracker.step(batch, now)
        self._gone += self.picture.update(tracks)
        self.times.track += time.perf_counter() - began
        return self._maybe_assess(tracks, force=False)

    def assess_now(self, tracks: TrackBatch, only: Collection[int] | None = None
                   ) -> StepOutput | None:
        """Assess and warn at once, not waiting for the period: the live service calls it
        when a track has just entered a nation or zone (:mod:`skywarden.live.entries`).
        ``tracks``: the last step's rows, returned again. None when this moment was just
        assessed.

        ``only``: the serials of the tracks to assess (those that entered). That cycle
        raises, escalates or lowers their alerts only; every other alert, the sensor
        watch and the period stay as they are, and the next full cycle comes on time.
        A whole picture costs a hundred milliseconds or more to assess, a few tracks
        almost nothing, so the entry's alert goes out on the tick that saw it.
        Without ``only``, a full cycle, and the next period counts from now."""
        at = self.tracker.processed_until
        if not math.isfinite(at) or at <= self._last_assess:
            return None
        if only is None or not self._watching:
            return self._maybe_assess(tracks, force=True)
        serials = np.fromiter(only, dtype=np.int64)
        prefix = self.tracker.config.id_prefix
        return self._cycle(tracks, at, serials,
                           only_tracks={f"{prefix}{s}" for s in serials.tolist()})

    def flush(self) -> StepOutput:
        """Process every buffered detection, then assess and warn once more."""
        tracks = self.tracker.flush()
        self._gone += self.picture.update(tracks)
        return self._maybe_assess(tracks, force=True)

    def close(self) -> None:
        """Release what the stages hold open (the audit log)."""
        if self.engine.audit is not None:
            self.engine.audit.close()

    # ---- internals ----------------------------------------------------------------

    def _note_sensors(self, batch: DetectionBatch) -> None:
        # Newest time per sensor index in the batch, then by name.
        newest = np.full(len(batch.sensor_ids), -np.inf)
        np.maximum.at(newest, batch.sensor, batch.time)
        for name, t in zip(batch.sensor_ids, newest.tolist(), strict=True):
            if t > self._seen.get(name, -math.inf):
                self._seen[name] = t

    def _maybe_assess(self, tracks: TrackBatch, *, force: bool) -> StepOutput:
        at = self.tracker.processed_until
        if not math.isfinite(at):
            return StepOutput(tracks=tracks)
        if not force and at - self._last_assess < self.assess_period:
            return StepOutput(tracks=tracks)
        self._last_assess = at
        if not self._watching:
            # Sensor-down watch from the first data time on. Only radars: a rotating radar
            # reports every scan (plots, clutter; on a real feed its CAT034 north marker),
            # while ADS-B, Remote ID, acoustic and citizen reports fall silent whenever
            # nothing flies near them, which is not a failure.
            self.engine.state.watch_registry(
                [s for s in self.registry if s.type in WATCHED_TYPES], at
            )
            self._watching = True
        # A sensor heard after ``at`` was alive at ``at``: report it as seen then.
        seen = {k: min(v, at) for k, v in self._seen.items()}
        gone, self._gone = self._gone, []
        self.times.cycles += 1
        return self._cycle(tracks, at, None, sensors_seen=seen, gone_tracks=gone)

    def _cycle(self, tracks: TrackBatch, at: float, serials: np.ndarray | None,
               **engine_args: object) -> StepOutput:
        """Assess the picture (the tracks ``serials``, or all) at ``at`` and warn."""
        began = time.perf_counter()
        snap = self.picture.snapshot()
        if len(snap):
            # A track known only to within several km (long coasting, a diverging
            # estimate) is no basis for a warning: it is assessed again once re-detected.
            keep = snap.sigma_h <= self.max_sigma_h
            if serials is not None:
                keep &= np.isin(snap.serial, serials)
            if not keep.all():
                snap = take_rows(snap, np.flatnonzero(keep))
        assessment = self.assessor.assess(snap, at)
        if self.not_warned.size and len(assessment):
            assessment = assessment.take(~np.isin(assessment.target_owner, self.not_warned))
        mid = time.perf_counter()
        out = self.engine.step(assessment, at, **engine_args)  # type: ignore[arg-type]
        self.times.assess += mid - began
        self.times.warn += time.perf_counter() - mid
        return StepOutput(tracks=tracks, events=out.events, cap=out.cap,
                          assessed=len(assessment))


def load_not_warned(path: str | Path | None = None) -> tuple[str, ...]:
    """Nations the warning stage does not warn (``data/warned-nations.toml``)."""
    if path is None:
        where = "skywarden/data/warned-nations.toml"
        text = resources.files("skywarden").joinpath("data", "warned-nations.toml").read_text()
        doc = parse_toml(text, where)
    else:
        where, doc = str(path), read_toml(path)
    codes = doc.get("not_warned", [])
    if set(doc) - {"not_warned"} or not all(isinstance(c, str) and len(c) == 3 for c in codes):
        raise ConfigError(f"{where}: expected only not_warned = [ISO alpha-3 codes]")
    return tuple(codes)


def default_engine(
    *,
    cap_status: str = "Exercise",
    sender: str = "skywarden",
    audit_path: str | None = None,
    rules_dir: str | None = None,
) -> WarningEngine:
    """The warning engine with the shipped (or given) rules, CAP public warnings per
    region (the admin1 regions drawn from the shipped gazetteer, :mod:`.warn.regions`,
    that the threats' predicted paths cover, clipped to the nation warned; a thread per
    alert where the playbook names its own regions, for zones, or where no region is
    known), and an optional audit log.

    ``cap_status`` is ``Exercise`` by default: simulations and replays must never look
    like real warnings. A live deployment passes ``Actual``.
    """
    from .airspace import load_borders
    from .warn.alerts import AlertConfig
    from .warn.area import shipped_places
    from .warn.audit import AuditLog
    from .warn.cap import CapIssuer, CapSettings
    from .warn.regions import RegionMap
    from .warn.rules import load_rulebook

    rulebook = load_rulebook(rules_dir)
    borders = load_borders()

    def within(nation: str) -> Any:  # the nation's shapely geometry
        return borders.geometry(nation) if nation in borders.codes else None

    issuer = CapIssuer(CapSettings(sender=sender, status=cap_status), rulebook,
                       within=within, regions=RegionMap(shipped_places(), borders))
    audit = AuditLog(audit_path) if audit_path is not None else None
    # An alert stays open five minutes after its situation has passed: an orbiting or
    # weaving track that points at a border again soon is the same alert, not a new one.
    config = AlertConfig(clear_s=300.0)
    return WarningEngine(rulebook, config, audit=audit, cap=issuer)


def merge_outputs(outputs: list[StepOutput]) -> StepOutput:
    """Several step outputs as one (tracks concatenated, events in order)."""
    return StepOutput(
        tracks=concat([o.tracks for o in outputs]),
        events=[e for o in outputs for e in o.events],
        cap=[c for o in outputs for c in o.cap],
        assessed=sum(o.assessed for o in outputs),
    )
