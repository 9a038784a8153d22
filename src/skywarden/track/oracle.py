"""The oracle tracker: the practical bound of tracking on labelled simulator data.

    oracle_file(detections.jsonl, sensors.toml, tracks.jsonl) -> OracleSummary

It is told which detection came from which target (the ``target`` label that
``skywarden sim --labels`` writes) and filters each target on its own, so it never
associates wrongly, never follows clutter, never confirms late and never switches ids.
What is left is the filter: the same code as :class:`~skywarden.track.Tracker` uses
(measure.prepare and merge_broadcasts, filter.update with adaptive process noise,
motion.estimate_turn_rate, lifecycle.seed_state), with the same TrackerConfig. Its GOSPA
is therefore the bound no tracker with that filter beats on that data; the benchmark
reports how close the tracker comes to it.

Per target:

- the first usable detection (not a bearing: one bearing has no position) starts the
  state as the tracker's one-point initiation does (lifecycle.seed_state);
- every later detection updates it at its own time (filter.update: predict by
  dt = t_j - t, EKF update; velocity reports sequentially after their position), then the
  process-noise scale and the turn-rate estimate are adapted as in the tracker;
- each update writes one track line, status ``confirmed`` from the first, track id =
  target id. Clutter (no label) and bearings before the first position are dropped.

All targets are filtered together, batched: detections wait ``reorder_lag`` seconds in
the reorder buffer, then go in windows of ``window`` seconds; within a window each
target's k-th detection is in round k, and a round is one batched update over all the
targets in it.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..ingest.jsonl import JsonlWriter, ReadStats, read_detections
from ..records import Detection, DetectionBatch, TrackUpdate
from ..sensors import SensorRegistry
from . import filter as kf
from .config import TrackerConfig
from .lifecycle import seed_state
from .measure import BEARING, Measurements, SensorTable, innovation, merge_broadcasts, prepare
from .measure import velocity_innovation as vel_innovation
from .motion import estimate_turn_rate
from .output import geodetic_rows
from .window import ReorderBuffer, Window

CHUNK = 8192


@dataclass
class OracleSummary:
    """What one oracle run did."""

    detections: int = 0
    labelled: int = 0
    clutter: int = 0
    rejected: int = 0
    broadcast_copies: int = 0
    bearings_dropped: int = 0
    targets: int = 0
    updates: int = 0
    lines_written: int = 0
    bad_lines: int = 0
    seconds: float = 0.0


class OracleTracker:
    """Per-target filtering of labelled detections; see the module docstring."""

    def __init__(
        self, registry: SensorRegistry, config: TrackerConfig | None = None, window: float = 10.0
    ) -> None:
        self.config = config or TrackerConfig()
        self.sensors = SensorTable.from_registry(registry, self.config)
        self.summary = OracleSummary()
        self.names: list[str] = []
        self._index: dict[str, int] = {}
        cap = 64
        self.x = np.zeros((cap, 6))
        self.P = np.zeros((cap, 6, 6))
        self.t = np.zeros(cap)
        self.q_scale = np.ones(cap)
        self.nis_avg = np.zeros(cap)
        self.omega = np.zeros(cap)
        self.live = np.zeros(cap, dtype=bool)
        self._buffer = ReorderBuffer()
        self._window = Window(window)
        self._rows: list[tuple[np.ndarray, ...]] = []

    # ---- public -------------------------------------------------------------------------

    def step(
        self, batch: DetectionBatch, labels: list[str | None], now: float
    ) -> list[TrackUpdate]:
        """Take detections with their labels (None: clutter); process what is older than
        ``now - reorder_lag``; return the track rows produced, in time order."""
        s = self.summary
        s.detections += len(batch)
        m, reject = prepare(batch, self.sensors, self.config)
        s.rejected += int(np.count_nonzero(reject))
        lab = np.array([x or "" for x in labels], dtype=object)[reject == 0]
        keep = np.flatnonzero(lab != "")
        s.labelled += int(keep.size)
        s.clutter += len(m) - int(keep.size)
        m = m.take(keep)
        # The label rides in the class_hint column (the oracle does not classify) so that
        # it stays with its row through the reorder buffer and merge_broadcasts.
        m.class_hint = lab[keep]
        self._buffer.push(m)
        self._run_until(now - self.config.reorder_lag)
        return self._finish()

    def flush(self) -> list[TrackUpdate]:
        """Process every buffered detection (end of input)."""
        self._run_until(np.inf)
        return self._finish()

    # ---- internals ----------------------------------------------------------------------

    def _run_until(self, horizon: float) -> None:
        m = self._buffer.pop_until(horizon)
        if m is None or not len(m):
            return
        m, merged = merge_broadcasts(m)
        self.summary.broadcast_copies += merged
        for w, _ in self._window.split(m):
            self._process(w)

    def _slots(self, labels: np.ndarray) -> np.ndarray:
        out = np.empty(labels.shape[0], dtype=np.int64)
        for k, name in enumerate(labels.tolist()):
            slot = self._index.get(name)
            if slot is None:
                slot = self._index[name] = len(self.names)
                self.names.append(name)
            out[k] = slot
        if len(self.names) > self.live.shape[0]:
            self._grow(len(self.names))
        self.summary.targets = len(self.names)
        return out

    def _grow(self, need: int) -> None:
        old = self.live.shape[0]
        new = max(2 * old, need)
        for name, fill in (("x", 0.0), ("P", 0.0), ("t", 0.0), ("q_scale", 1.0),
                           ("nis_avg", 0.0), ("omega", 0.0), ("live", False)):
            col = getattr(self, name)
            grown = np.full((new, *col.shape[1:]), fill, dtype=col.dtype)
            grown[:old] = col
            setattr(self, name, grown)

    def _process(self, m: Measurements) -> None:
        slot = self._slots(m.class_hint)
        order = np.lexsort((m.time, slot))
        s_all, j_all = slot[order], order
        first = np.r_[0, np.flatnonzero(np.diff(s_all)) + 1]
        rank = np.arange(s_all.size) - np.repeat(first, np.diff(np.r_[first, s_all.size]))
        for r in range(int(rank.max()) + 1):
            sel = rank == r
            s, j = s_all[sel], j_all[sel]
            alive = self.live[s]
            start = ~alive & (m.kind[j] != BEARING)
            self.summary.bearings_dropped += int(np.count_nonzero(~alive & ~start))
            if start.any():
                self._start(m, s[start], j[start])
            if alive.any():
                self._update(m, s[alive], j[alive])

    def _start(self, m: Measurements, s: np.ndarray, j: np.ndarray) -> None:
        x, P = seed_state(m, j, self.config)
        self.x[s], self.P[s], self.t[s] = x, P, m.time[j]
        self.q_scale[s], self.nis_avg[s], self.omega[s] = 1.0, 0.0, 0.0
        self.live[s] = True
        self._emit_rows(m, s, j)

    def _update(self, m: Measurements, s: np.ndarray, j: np.ndarray) -> None:
        """One batched EKF update per target, as Tracker._update_rounds does."""
        cfg = self.config
        v_before, t_before = self.x[s, 3:].copy(), self.t[s].copy()
        x, P, t, nis, _ = kf.update(
            self.x[s], self.P[s], self.t[s], m.time[j], cfg.q_horizontal, cfg.q_vertical,
            self.q_scale[s], lambda xm: (*innovation(m, j, xm), m.var[j]), self.omega[s],
        )
        has_v = np.isfinite(m.vel[j, 0])
        if has_v.any():
            vs, vj = np.flatnonzero(has_v), j[has_v]
            x[vs], P[vs], t[vs], _, _ = kf.update(
                x[vs], P[vs], t[vs], m.time[vj], cfg.q_horizontal, cfg.q_vertical,
                self.q_scale[s[vs]], lambda xm: vel_innovation(m, vj, xm), self.omega[s[vs]],
            )
        self.x[s], self.P[s], self.t[s] = x, P, t
        if cfg.turn_memory > 0:
            self.omega[s] = estimate_turn_rate(
                self.omega[s], v_before, x[:, 3:], x[:, :3], t - t_before,
                tau=cfg.turn_memory, min_speed=cfg.turn_min_speed,
                max_rate=np.radians(cfg.turn_max_rate),
            )
        self.q_scale[s], self.nis_avg[s] = kf.adapt_process_noise(
            self.q_scale[s], self.nis_avg[s], nis, m.dof[j], memory=cfg.nis_memory,
            threshold=np.where(m.reach[j] <= cfg.nis_precise_reach, cfg.nis_manoeuvre_precise,
                               cfg.nis_manoeuvre),
            boost=cfg.q_boost, decay=cfg.q_decay,
            scale_max=cfg.q_scale_max,
        )
        self._emit_rows(m, s, j)

    def _emit_rows(self, m: Measurements, s: np.ndarray, j: np.ndarray) -> None:
        self.summary.updates += s.size
        self._rows.append((self.t[s].copy(), self.x[s].copy(), self.P[s, :3, :3].copy(), s,
                           m.sensor[j].copy()))

    def _finish(self) -> list[TrackUpdate]:
        """The rows gathered since the last call as records, in time order (the shared
        Track format, with the tracker's output conventions: see output.py)."""
        if not self._rows:
            return []
        t, x, P, s, sensor = (np.concatenate(c) for c in zip(*self._rows, strict=True))
        self._rows.clear()
        order = np.argsort(t, kind="stable")
        t, x, P, s, sensor = t[order], x[order], P[order], s[order], sensor[order]
        lat, lon, alt, vel, sigma_h, _ = geodetic_rows(x, P, self.config.alt_max_sigma)
        alt_out = [None if a != a else a for a in alt.tolist()]
        names, ids = self.names, self.sensors.ids
        return [
            TrackUpdate(
                time=ti, track=names[si], lat=la, lon=lo, alt=a, vel_e=v[0], vel_n=v[1],
                vel_u=v[2], sigma_h=sh, status="confirmed", sensors=[ids[k]],
            )
            for ti, si, la, lo, a, v, sh, k in zip(
                t.tolist(), s.tolist(), lat.tolist(), lon.tolist(), alt_out, vel.tolist(),
                sigma_h.tolist(), sensor.tolist(),
                strict=True,
            )
        ]


def oracle_file(
    detections_path: str | Path,
    sensors_path: str | Path,
    out_path: str | Path,
    *,
    config: TrackerConfig | None = None,
    window: float = 10.0,
) -> OracleSummary:
    """Run the oracle over a labelled detections file into a tracks file."""
    started = _time.perf_counter()
    registry = SensorRegistry.load(sensors_path)
    oracle = OracleTracker(registry, config, window)
    read = ReadStats(report=lambda _msg: None)
    now = -np.inf
    with JsonlWriter(out_path) as writer:

        def write(rows: list[TrackUpdate]) -> None:
            for u in rows:
                writer.write(u)

        chunk: list[Detection] = []

        def feed() -> None:
            nonlocal now
            batch = DetectionBatch.from_records(chunk, registry.ids)
            now = max(now, float(batch.time.max()))
            write(oracle.step(batch, [d.target for d in chunk], now))

        for det in read_detections(detections_path, stats=read, sensors=registry):
            chunk.append(det)
            if len(chunk) >= CHUNK:
                feed()
                chunk = []
        if chunk:
            feed()
        write(oracle.flush())
        lines = writer.count
    summary = oracle.summary
    summary.lines_written = lines
    summary.bad_lines = read.bad
    summary.seconds = _time.perf_counter() - started
    return summary
