"""The tracker: detections in, track rows out, one ``step`` at a time.

    Tracker(registry, config).step(batch, now) -> TrackBatch

Each step buffers its detections for ``reorder_lag`` seconds (so detections up to that
late arrive in time order), then processes what is old enough in windows of
``window`` seconds. Per window, on numpy columns over all tracks at once:

1. **predict + gate**: every track is predicted to each candidate detection's own time;
   candidates come from a spatial pre-gate (associate.py), then the chi-square gate on
   d^2 = r^T S^-1 r (filter.innovate). A bearing, which has no range, is also refused
   by a track predicted beyond its sensor's reach (plus the track's spread): the sensor
   cannot have heard it. All of it runs in one compiled call (kernels.gate_pairs).
   Detections carrying a cooperative id (icao:, rid:) already held by a track go to that
   track directly; the spoof check tests them against the gate instead.
   Copies of one ADS-B / Remote ID broadcast heard by several receivers are merged
   into one measurement first (measure.merge_broadcasts).
2. **associate**: GNN, one detection per track per sensor (associate.assign). Plots no
   track claimed get a second chance against confirmed tracks with manoeuvre-sized
   process noise (the manoeuvre gate).
3. **update**: assigned pairs in rounds (a track's k-th detection of the window in round
   k, in time order), each round one batched EKF update (filter.update), velocity
   reports sequentially after position, then adaptive process noise, the track's
   turn-rate estimate (motion.estimate_turn_rate) and its score (target vs clutter).
4. **initiate**: unclaimed detections start tentative tracks, one per group of nearby
   detections of different sensors (so a new aircraft seen at once by radar and ADS-B is
   one track); unclaimed bearings wait for a second sensor's (bearing.py).
5. **confirm, coast, delete, merge** (lifecycle.py); class and identity (classify.py).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ..records import DetectionBatch
from ..sensors import SensorRegistry
from . import cooperative, kernels, lifecycle
from . import filter as kf
from .associate import BUCKETS, MARGIN, SLACK, SPHERE_RADIUS, assign
from .bearing import BearingBuffer, triangulate_pairs
from .classify import (
    CLASS_SPEED_LIMIT,
    IdentityRules,
    class_codes,
    latest_hints,
    speed_and_altitude,
    update_class,
)
from .config import TrackerConfig
from .measure import (
    BEARING,
    IS_COOPERATIVE,
    POLAR,
    POSITION,
    RADAR_TYPE,
    REJECT_REASONS,
    Measurements,
    SensorTable,
    merge_broadcasts,
    prepare,
)
from .output import DELETED, Emitter, TrackBatch, TrackerStats, sensor_csr
from .share import Workers, default_threads, even_cuts, track_cuts
from .table import COASTING, CONFIRMED, FREE, TENTATIVE, TrackTable, slot_set
from .window import ReorderBuffer, Window

# Weight of the newest gap in a track's mean time between hits (TrackTable.hit_gap).
HIT_GAP_WEIGHT = 0.2
# Weight of each update in the mean ground speed (TrackTable.speed_avg): about the last
# five updates, so a jump on one wrong plot shows against what the track flew before.
SPEED_AVG_WEIGHT = 0.2


class Merge(NamedTuple):
    """Two tracks found to be one target: ``absorbed`` ends, ``survivor`` carries on."""

    survivor: int  # serial
    absorbed: int  # serial
    sensors: np.ndarray  # registry indices that fed the absorbed track in its last window


class Tracker:
    """Multi-sensor tracker over a sensor registry; see the module docstring."""

    def __init__(self, registry: SensorRegistry, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.registry = registry
        self.sensors = SensorTable.from_registry(registry, self.config)
        self.table = TrackTable()
        self.rules = IdentityRules.load(self.config.identity_rules)
        self.stats = TrackerStats()
        self._buffer = ReorderBuffer()
        self._bearings = BearingBuffer()
        self._window = Window(self.config.window)
        self._k = float(np.sqrt(kf.chi2_gate(self.config.gate_probability, 3)))
        # The compiled gate's and update rounds' settings, from the configuration once.
        cfg = self.config
        self._chi2 = kf.chi2_table(cfg.gate_probability)
        self._gate_settings = kernels.GateSettings(*(float(v) for v in (
            cfg.q_horizontal, cfg.q_vertical, self._k, SPHERE_RADIUS, MARGIN, SLACK,
            cfg.speed_gate_confidence, cfg.speed_gate_hits, cfg.speed_jump_ratio,
            cfg.speed_jump_margin, cfg.tentative_penalty, kf.chi2_gate(cfg.gate_probability, 3))))
        self._round_settings = kernels.RoundSettings(*(float(v) for v in (
            cfg.q_horizontal, cfg.q_vertical, cfg.nis_memory, cfg.nis_manoeuvre,
            cfg.nis_manoeuvre_precise, cfg.nis_precise_reach, cfg.q_boost,
            cfg.q_decay, cfg.q_scale_max, cfg.q_precise_reach, cfg.q_noisy_scale_max,
            cfg.turn_memory, cfg.turn_min_speed, np.radians(cfg.turn_max_rate),
            SPEED_AVG_WEIGHT, HIT_GAP_WEIGHT)))
        self._workers = Workers(cfg.threads or default_threads())
        self._processed = -np.inf  # time up to which detections have been processed
        self._last_merge = -np.inf
        self._emit = Emitter(self.config.alt_max_sigma, self.config.id_prefix, self.sensors.ids)
        self._used_keys = np.zeros(0, dtype=np.int64)  # (track, sensor) keys of this window
        self._hints: list[tuple[np.ndarray, np.ndarray]] = []
        self._contrib: list[tuple[np.ndarray, np.ndarray]] = []
        # Merges since the last take_merges(), for consumers that keep per-track state
        # (the live service's releasability); None: nobody asked, keep nothing.
        self._merges: list[Merge] | None = None

    # ---- public -----------------------------------------------------------------------

    def step(self, batch: DetectionBatch | None, now: float) -> TrackBatch:
        """Take ``batch`` (may be None), process detections older than now - reorder_lag."""
        if batch is not None and len(batch):
            self._accept(batch)
        self._run_until(now - self.config.reorder_lag)
        return self._emit.finish()

    def flush(self) -> TrackBatch:
        """Process every buffered detection (end of input)."""
        self._run_until(np.inf)
        return self._emit.finish()

    def take_merges(self) -> list[Merge]:
        """Merges since the last call: (survivor serial, absorbed serial, the sensors,
        by registry index, that fed the absorbed track in its last window and appear in
        no emitted row). The first call starts the recording."""
        got = self._merges or []
        self._merges = []
        return got

    @property
    def processed_until(self) -> float:
        return self._processed

    @property
    def threads(self) -> int:
        """Threads that share a large window's gate and updates (share.py)."""
        return self._workers.threads

    # ---- detections in ------------------------------------------------------------------

    def _accept(self, batch: DetectionBatch) -> None:
        self.stats.received += len(batch)
        m, reject = prepare(batch, self.sensors, self.config)
        for code, n in zip(*np.unique(reject[reject > 0], return_counts=True), strict=True):
            self.stats.rejected[REJECT_REASONS[code]] += int(n)
        self._buffer.push(m)

    def _run_until(self, horizon: float) -> None:
        m = self._buffer.pop_until(horizon)
        if m is not None and len(m):
            too_old = m.time < self._processed - self.config.max_oosm_age
            if too_old.any():
                self.stats.rejected["older than max_oosm_age"] += int(too_old.sum())
                m = m.take(np.flatnonzero(~too_old))
            m, merged = merge_broadcasts(m)
            self.stats.associated += merged  # copies of a broadcast its first copy used
            for w, t_end in self._window.split(m):
                start = float(w.time[0])  # (rows come time-sorted)
                if (np.isfinite(self._processed)
                        and start - self._processed > self.config.delete_after):
                    # A gap in the data longer than a track outlives its last hit: the
                    # tracks that died in it end first. Left alive, a track predicted
                    # over the gap has a gate wide enough to take any plot (after hours,
                    # its state ends up under the ground).
                    self._lifecycle(start)
                # A window cut by the horizon (a live tick, the reorder lag) is processed up
                # to the horizon only: its lifecycle, coasting rows and processed_until
                # must not run ahead of the data into the rest of the window.
                self._process_window(w, min(t_end, horizon))
        if np.isfinite(horizon) and horizon > self._processed:
            self._lifecycle(horizon)

    # ---- one window ---------------------------------------------------------------------

    def _process_window(self, m: Measurements, t_end: float) -> None:
        claimed = np.zeros(len(m), dtype=bool)
        self._used_keys = np.zeros(0, dtype=np.int64)
        updated = self._associate_update(m, np.arange(len(m)), None, claimed)
        updated = slot_set(self.table.capacity, [updated, self._manoeuvre_gate(m, claimed)])
        self.stats.associated += int(claimed.sum())
        new = self._initiate(m, claimed)
        self._lifecycle(t_end, updated=slot_set(self.table.capacity, [updated, new]))

    def _manoeuvre_gate(self, m: Measurements, claimed: np.ndarray) -> np.ndarray:
        """Second chance for plots just outside a confirmed track's gate.

        A manoeuvring target leaves the gate of the nearly-constant-velocity model before
        the adaptive noise has grown. Detections no track claimed are gated once more
        against confirmed and coasting tracks with the acceleration density scaled by
        ``q_miss_scale``; a track that takes one keeps that scale (it is manoeuvring).
        """
        tab = self.table
        rows = np.flatnonzero(~claimed & (m.kind != BEARING))
        if not rows.size:
            return np.zeros(0, dtype=np.int64)
        # Only tracks that have waited most of a revisit (0.6) can have missed a plot.
        cand, old = kernels.boost_late_tracks(
            tab.status, tab.t_hit, tab.revisit, tab.q_scale, tab.q_cap, float(m.time.max()),
            0.6, float(self.config.q_miss_scale), CONFIRMED, COASTING)
        if not cand.size:
            return cand
        updated = self._associate_update(m, rows, cand, claimed)
        kernels.restore_scales(tab.q_scale, cand, old, updated)
        return updated

    def _associate_update(
        self, m: Measurements, rows: np.ndarray, slots: np.ndarray | None, claimed: np.ndarray
    ) -> np.ndarray:
        """Gate, associate and update ``rows`` against ``slots`` (None: all tracks); mark
        the rows used in ``claimed``; return the updated slots."""
        tab = self.table
        n_sensors = len(self.sensors.ids)
        pair_s, pair_j, inn = self._forced_pairs(m, rows, claimed)
        n_forced = pair_s.size
        # One detection per track per sensor: a forced pair holds its (track, sensor) key
        # before the others compete.
        if pair_s.size:
            self._used_keys = np.concatenate([self._used_keys,
                                              pair_s * n_sensors + m.sensor[pair_j]])
        rest = rows[~claimed[rows]]
        cand = tab.active() if slots is None else slots
        if rest.size and cand.size:
            s, j, key, gated = self._gated_pairs(m, rest, cand)
            if key.size:
                self._used_keys = np.concatenate([self._used_keys, key])
            if inn is None:
                pair_s, pair_j, inn = s, j, gated
            else:
                pair_s, pair_j = np.concatenate([pair_s, s]), np.concatenate([pair_j, j])
                inn = kf.Innovation.concat([inn, gated])
        if not pair_s.size or inn is None:
            return pair_s
        claimed[pair_j] = True
        self._update_rounds(m, pair_s, pair_j, inn)
        # Cooperative ids seen for the first time join the track they were assigned to.
        # The forced pairs' ids are held already (and stay so): only the GNN's pairs.
        coop = n_forced + np.flatnonzero(m.coop_bits[pair_j[n_forced:]] > 0)
        for s_, ident in zip(pair_s[coop].tolist(), m.ids[pair_j[coop]].tolist(), strict=True):
            if ident not in tab.id_map:
                tab.attach_id(s_, ident)
        self._pending_hint(pair_s, m.hint[pair_j])
        self._pending_sensors(pair_s, m.sensor[pair_j])
        return slot_set(tab.capacity, [pair_s])

    def _forced_pairs(
        self, m: Measurements, rows: np.ndarray, claimed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, kf.Innovation | None]:
        """Pairs of detections whose cooperative id a track already holds (spoof-checked)."""
        s, j = cooperative.held_pairs(self.table, m, rows)
        if not s.size:
            return s, j, None
        inn = self._innovate(m, s, j)
        keep, flagged, jumped = cooperative.spoof_check(self.table, m, s, j, inn.d2,
                                                        self.config)
        self.stats.spoof_flags += flagged
        if jumped.any():
            # Those tracks start again at their report: innovated against the old state,
            # the update would put them between the two places (through the Earth, for a
            # far jump), so they are innovated again against the new one (the report
            # then updates the state it seeded: for that step the spread is too small,
            # as if two such reports had come).
            again = np.flatnonzero(jumped)
            inn.put(again, self._innovate(m, s[again], j[again]))
        claimed[j] = True
        refused = keep.size - int(np.count_nonzero(keep))
        if not refused:
            return s, j, inn
        self.stats.rejected["cooperative report inconsistent with radar track"] += refused
        return s[keep], j[keep], inn.take(np.flatnonzero(keep))

    def _innovate(self, m: Measurements, s: np.ndarray, j: np.ndarray) -> kf.Innovation:
        """The pairs (track s, detection j) predicted and innovated (filter.innovate)."""
        tab, cfg = self.table, self.config
        return kf.Innovation(*kernels.pair_innovations(
            s, j, tab.x, tab.P, tab.t, tab.q_scale, tab.omega,
            m.time, m.rot, m.origin, m.z, m.mask, m.kind, m.var,
            float(cfg.q_horizontal), float(cfg.q_vertical), POSITION, POLAR, BEARING))

    def _gated_pairs(
        self, m: Measurements, rows: np.ndarray, cand: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, kf.Innovation]:
        """Spatial pre-gate, chi-square gate and GNN of ``rows`` against tracks ``cand``;
        the chosen pairs, their (track, sensor) keys and their innovations.

        Up to the assignment in one compiled call (kernels.gate_pairs, which documents
        the gates). Coverage gate: a bearing gives no range, but its sensor hears only
        within its reach; without it, bearings of other targets held tracks that slid
        along the rays out of the sensors' cover (mass-attack: acoustic tracks 10 km north
        of the Danube line warned Moldova). Kinematic gate: a plot that would make the
        track faster than its class flies, or than it has flown (speed_jump_ratio).
        """
        tab = self.table

        def gate(lo: int, hi: int) -> tuple:
            return kernels.gate_pairs(
                cand[lo:hi], rows, tab.x, tab.P, tab.t, tab.q_scale, tab.omega, tab.coop,
                tab.status, tab.cls, tab.cls_conf, tab.hits, tab.speed_avg,
                m.time, m.sensor, m.kind, m.point, m.reach, m.coop_bits, m.rot, m.origin, m.z,
                m.mask, m.var, m.dof, self._used_keys, len(self.sensors.ids),
                self._chi2, CLASS_SPEED_LIMIT, BUCKETS, self._gate_settings,
                TENTATIVE, POSITION, POLAR, BEARING)

        # Large windows: the candidates cut into runs, one per thread (share.py).
        parts = self._workers.parts(min(rows.size, cand.size))
        done = self._workers.run(gate, even_cuts(cand.size, parts))
        if len(done) == 1:
            s, j, key, cost, miss, *inn, fast = done[0]
        else:
            columns = zip(*(d[:-1] for d in done), strict=True)
            s, j, key, cost, miss, *inn = (np.concatenate(c) for c in columns)
            fast = sum(d[-1] for d in done)
        self.stats.speed_gated += fast
        chosen = assign(key, j, cost, miss)
        if chosen.all():  # often: no pair contested (each take copies its column)
            return s, j, key, kf.Innovation(*inn)
        chosen = np.flatnonzero(chosen)
        return s[chosen], j[chosen], key[chosen], kf.Innovation(*(a[chosen] for a in inn))

    def _update_rounds(
        self, m: Measurements, s: np.ndarray, j: np.ndarray, inn: kf.Innovation
    ) -> None:
        """Apply pairs in rounds: each track's detections in time order, one per round.
        Round 0 reuses the gate's innovations (no track has changed since). All rounds
        run in one compiled call (kernels.update_rounds)."""
        tab = self.table
        order = np.lexsort((m.time[j], s))
        s_o, j_o = s[order], j[order]

        def rounds(lo: int, hi: int) -> None:
            kernels.update_rounds(
                s_o[lo:hi], j_o[lo:hi], order[lo:hi],
                inn.xm, inn.Pm, inn.r, inn.H, inn.S, inn.Sinv, inn.det, inn.d2,
                tab.x, tab.P, tab.t, tab.omega, tab.q_scale, tab.nis_avg, tab.q_cap,
                tab.speed_avg, tab.llr, tab.hit_gap, tab.t_hit, tab.hits, tab.t_radar,
                tab.radar_hits, tab.t_coop, tab.revisit,
                m.time, m.sensor, m.stype, m.kind, m.origin, m.rot, m.z, m.var, m.mask,
                m.vel, m.vel_var, m.dof, m.reach, m.ln_pd, m.ln_clutter,
                self.sensors.scan_period, RADAR_TYPE, IS_COOPERATIVE, self._round_settings,
                POSITION, POLAR, BEARING,
            )

        # Large windows: the pairs cut between tracks, one part per thread (share.py).
        self._workers.run(rounds, track_cuts(s_o, self._workers.parts(s_o.size)))

    # ---- initiation -----------------------------------------------------------------------

    def _initiate(self, m: Measurements, claimed: np.ndarray) -> np.ndarray:
        """Start tracks from unclaimed detections; return all slots started or updated."""
        cfg = self.config
        touched: list[np.ndarray] = []
        free = np.flatnonzero(~claimed)
        brg = free[m.kind[free] == BEARING]
        if brg.size:
            self._bearings.add(m, brg)
            self.stats.bearings_waiting += int(brg.size)
            claimed[brg] = True
        for attempt in range(4):
            rows = np.flatnonzero(~claimed)
            if not rows.size:
                break
            seeds = rows if attempt == 3 else lifecycle.seeds(m, rows, self._k, cfg.max_speed)
            slots = self._start(m, seeds, claimed)
            touched.append(slots)
            rest = np.flatnonzero(~claimed)
            if rest.size and attempt < 3:
                before = int(claimed.sum())
                touched.append(self._associate_update(m, rest, slots, claimed))
                self.stats.associated += int(claimed.sum()) - before
        fix = triangulate_pairs(self._bearings, float(m.time.max()), cfg)
        if fix.time.size:
            slots = self.table.allocate(fix.time.size)
            lifecycle.place(self.table, slots, fix.point, fix.cov, fix.time, cfg)
            self.table.revisit[slots] = cfg.scan_period.get("acoustic", 2.0)
            hint = class_codes(fix.hint)
            self._pending_hint(slots, hint)
            self.stats.tracks_started += int(slots.size)
            self.stats.bearings_waiting -= 2 * int(slots.size)
            self.stats.initiated += 2 * int(slots.size)
            touched.append(slots)
        return slot_set(self.table.capacity, touched)

    def _start(self, m: Measurements, rows: np.ndarray, claimed: np.ndarray) -> np.ndarray:
        revisit = self.sensors.scan_period[m.sensor[rows]]
        slots = lifecycle.initiate(self.table, m, rows, revisit, self.config)
        claimed[rows] = True
        self.stats.initiated += int(rows.size)
        self.stats.tracks_started += int(rows.size)
        for s_, ident in zip(slots.tolist(), m.ids[rows].tolist(), strict=True):
            if ident:
                self.table.attach_id(s_, ident)
        _first_report_times(slots, rows, m.time, m.stype, RADAR_TYPE, IS_COOPERATIVE,
                            self.table.t_radar, self.table.t_coop)
        self._pending_hint(slots, m.hint[rows])
        self._pending_sensors(slots, m.sensor[rows])
        return slots

    # ---- per-window bookkeeping, lifecycle and output -------------------------------------

    def _pending_hint(self, slots: np.ndarray, hint: np.ndarray) -> None:
        self._hints.append((slots, hint))

    def _pending_sensors(self, slots: np.ndarray, sensor: np.ndarray) -> None:
        self._contrib.append((slots, sensor))

    def _pending_of(self, slot: int) -> np.ndarray:
        """Registry indices of the sensors that fed ``slot`` in this window."""
        if not self._contrib:
            return np.zeros(0, dtype=np.int32)
        s = np.concatenate([c[0] for c in self._contrib])
        k = np.concatenate([c[1] for c in self._contrib])
        return np.unique(k[s == slot]).astype(np.int32)

    def _radar_feeds(self) -> tuple[np.ndarray, np.ndarray]:
        """(slot, radar) for every radar plot a track took in this window."""
        if not self._contrib:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        s = np.concatenate([c[0] for c in self._contrib])
        k = np.concatenate([c[1] for c in self._contrib]).astype(np.int64)
        radar = self.sensors.type_code[k] == RADAR_TYPE
        return s[radar].astype(np.int64), k[radar]

    def _lifecycle(self, t_end: float, updated: np.ndarray | None = None) -> None:
        """Confirm, merge, coast, delete at ``t_end``; classify; emit this window's rows."""
        tab, cfg = self.table, self.config
        self._processed = max(self._processed, t_end)
        upd = np.zeros(0, dtype=np.int64) if updated is None else updated
        upd = upd[tab.status[upd] != FREE]
        feeds = self._radar_feeds() if cfg.same_scan_split else None
        self.stats.tracks_confirmed += int(lifecycle.confirm(tab, upd, cfg, feeds).size)
        absorbed: list[int] = []
        gone: list[int] = []  # confirmed tracks that end now: their deletion is reported
        if t_end - self._last_merge >= cfg.merge_period:
            self._last_merge = t_end
            for keep, lose in lifecycle.merge_candidates(tab, t_end, cfg):
                if self._merges is not None:
                    self._merges.append(Merge(int(tab.serial[keep]), int(tab.serial[lose]),
                                              self._pending_of(lose)))
                lifecycle.absorb(tab, keep, lose)
                absorbed.append(lose)
                if tab.status[lose] != TENTATIVE:
                    gone.append(lose)
            self.stats.tracks_merged += len(absorbed)
        ab = np.array(absorbed, dtype=np.int64)
        ex = lifecycle.expire(tab, t_end, cfg)
        upd = slot_set(tab.capacity, [upd], [ab, ex.dropped, ex.deleted])
        self._classify(upd)
        if not cfg.emit_tentative:
            upd = upd[tab.status[upd] != TENTATIVE]
        coasting = (
            np.flatnonzero(
                (tab.status == COASTING)
                & (t_end - tab.t_report >= max(cfg.coast_report_period, 1e-9))
            )
            if cfg.coast_report_period > 0
            else ex.coasting
        )
        coasting = slot_set(tab.capacity, [coasting, ex.coasting], [upd, ab])
        dead = slot_set(tab.capacity, [ex.deleted, np.array(gone, dtype=np.int64)])
        self._emit_rows(
            upd, None, sensor_csr(self._contrib, upd, tab.capacity, len(self.sensors.ids))
        )
        self._emit_rows(coasting, t_end, None)
        self._emit_rows(dead, t_end, None, status=DELETED)
        tab.release(np.concatenate([ab, ex.dropped, ex.deleted]))
        self._hints.clear()
        self._contrib.clear()

    def _classify(self, slots: np.ndarray) -> None:
        tab = self.table
        if not slots.size:
            return
        hint = (latest_hints(slots, np.concatenate([s for s, _ in self._hints]),
                             np.concatenate([h for _, h in self._hints]), tab.capacity)
                if self._hints else np.full(slots.size, -1, dtype=np.int64))
        speed, alt = speed_and_altitude(tab.x, tab.P, slots, self.config.alt_max_sigma)
        update_class(tab, slots, speed, alt, hint)
        self.rules.apply(tab, slots, speed, alt)

    def _emit_rows(
        self,
        slots: np.ndarray,
        at: float | None,
        sensors: tuple[np.ndarray, np.ndarray] | None,
        status: int | None = None,
    ) -> None:
        """Queue output rows for ``slots``: at their state time, or predicted to ``at``."""
        if not slots.size:
            return
        tab, cfg = self.table, self.config
        # np.take copies the (6,) and (6, 6) rows several times faster than fancy indexing.
        x, P, t = np.take(tab.x, slots, axis=0), np.take(tab.P, slots, axis=0), tab.t[slots]
        if at is not None:
            x, P = kf.predict(
                x,
                P,
                np.maximum(at - t, 0.0),
                cfg.q_horizontal,
                cfg.q_vertical,
                tab.q_scale[slots],
                tab.omega[slots],
            )
            t = np.maximum(t, at)
        st = tab.status[slots] if status is None else np.full(slots.size, status, np.int8)
        tab.t_report[slots] = t
        self._emit.add(
            t,
            x,
            P,
            st,
            tab.cls[slots],
            tab.cls_conf[slots],
            tab.identity[slots],
            tab.spoof[slots],
            tab.serial[slots],
            tab.id_tuple[slots],
            sensors,
        )


@njit(cache=True)
def _first_report_times(slots, rows, time, stype, radar_type, is_coop, t_radar, t_coop):
    """New tracks (``slots``, started from detections ``rows``): the time of their radar
    plot or cooperative report, when their detection is one."""
    for q in range(slots.size):
        j = rows[q]
        if stype[j] == radar_type:
            t_radar[slots[q]] = time[j]
        if is_coop[stype[j]]:
            t_coop[slots[q]] = time[j]
