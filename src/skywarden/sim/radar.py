"""Rotating surveillance radars: plots stamped when the beam passes the target.

Model, per radar (registry keys in brackets, defaults in :data:`.sensing.SENSOR_DEFAULTS`):

- **Scans**: the beam turns clockwise once per ``scan_period`` P, crossing north at
  ``phase + n * P`` (:func:`.sensing.phase` of the sensor id, so radars are not in step).
  A target at azimuth a is looked at, once per scan, at ``scan start + a / 360 * P``; that
  time is found by fixed-point iteration (the target moves little while the beam sweeps).
- **Visibility**: slant range <= ``max_range``, and the ground distance within the radar
  horizon of a 4/3-earth (``geo.radar_horizon`` of site and target altitudes, MSL): low
  drones far away are below it.
- **Probability of detection**, Swerling 1 in closed form: ``Pd = Pfa ** (1 / (1 + SNR))``
  with ``Pfa = 1e-6`` and ``SNR = SNR_REF * rcs * (max_range / r) ** 4``, ``SNR_REF`` set
  so a 1 m^2 target has Pd 0.5 at ``max_range``; capped at the registry's ``pd``.
  Cross-sections per class: :data:`.model.DEFAULT_CLASSES` (aircraft 10 m^2, helicopter 3,
  drone 0.1, missile 0.5, balloon 1, bird 0.01, unknown 1), overridable per target.
- **Noise**: Gaussian with the registry's ``sigma_range`` (m), ``sigma_azimuth`` (deg) and,
  for 3-D radars (those with ``sigma_elevation``), ``sigma_elevation`` (deg).
- **Clutter**: Poisson(``clutter_per_scan``) false plots per scan, uniform in range
  (0, max_range] and azimuth, stamped when the beam passes their azimuth; 3-D radars give
  them an elevation uniform in [0, 3] deg.
- **Classification** (``classifier_accuracy``, optional): a radar that classifies its
  plots by their micro-Doppler signature (rotor blades, wing beats, jet engine
  modulation), as counter-drone radars do, writes a ``class_hint`` on each plot: the
  target's true class with probability ``classifier_accuracy``, else the class whose
  signature is nearest (:data:`CONFUSED_WITH`: a drone for a bird and a bird for a drone,
  a helicopter for an aircraft...). A clutter plot has no signature: ``unknown``. Radars
  without the key write no hint.
- **Coverage** (truth's ``observable``): visible and single-look Pd >= :data:`OBSERVABLE_PD`.

Chunks: a scan that straddles two chunks is visited by both; each keeps the plots whose
beam time falls in its own window (for clutter this thins one Poisson draw per chunk,
which keeps the per-scan count Poisson with the configured mean).
"""

from __future__ import annotations

import math

import numpy as np

from ..records import TARGET_CLASSES
from .lines import text_table
from .motion import Chunk
from .sensing import Block, Context, Site, polar_format, sensor_table
from .sensing import phase as sensor_phase

PFA = 1.0e-6
# SNR at which a Swerling-1 target has Pd 0.5 with PFA: 0.5 = PFA ** (1 / (1 + SNR)).
SNR_REF = math.log(PFA) / math.log(0.5) - 1.0
# A target counts as covered (truth "observable") where one look has at least this Pd.
OBSERVABLE_PD = 0.1
CLUTTER_ELEVATION = (0.0, 3.0)  # deg
# Fixed-point iterations for the beam time; 3 leave errors far below a millisecond.
BEAM_ITERATIONS = 3
# What a micro-Doppler classifier calls a target when it is wrong: the class whose
# signature is nearest (a gull's wing beat and a small drone's rotors are the classic
# confusion of counter-drone radars).
CONFUSED_WITH = {
    "aircraft": "helicopter",
    "helicopter": "aircraft",
    "drone": "bird",
    "missile": "aircraft",
    "balloon": "bird",
    "bird": "drone",
    "unknown": "unknown",
}
NO_HINT = 0  # row of RadarModel.hints that writes nothing
CLUTTER_HINT = 1 + TARGET_CLASSES.index("unknown")


def detection_probability(rcs, r, max_range: float, pd_cap: float = 1.0) -> np.ndarray:
    """Swerling-1 Pd of targets of ``rcs`` (m^2) at slant range ``r`` (m); 0 beyond max_range."""
    r = np.maximum(np.asarray(r, dtype=np.float64), 1.0)
    snr = SNR_REF * np.asarray(rcs) * (max_range / r) ** 4
    pd = np.minimum(pd_cap, PFA ** (1.0 / (1.0 + snr)))
    return np.where(r <= max_range, pd, 0.0)


class RadarModel:
    """All radars of the registry, each with its own random stream."""

    def __init__(self, sensors, rngs, ctx: Context) -> None:
        self.sensors = list(sensors)
        self.rngs = list(rngs)
        self.ctx = ctx
        self.sites = [Site(s) for s in self.sensors]
        self.phases = [sensor_phase(s.id, s.scan_period) for s in self.sensors]
        self.sensor_ids = sensor_table([s.id for s in self.sensors])
        # Row 0 writes no hint; row 1 + c the class c (sensing.Context.class_hint).
        self.hints = text_table([None, *TARGET_CLASSES], ',"class_hint":{}')
        self.format = polar_format(self.sensor_ids.shape[1], self.hints.shape[1],
                                   ctx.labels.shape[1])
        # The row written when a classifier is wrong, per true class.
        self.wrong = np.array([1 + TARGET_CLASSES.index(CONFUSED_WITH[c])
                               for c in TARGET_CLASSES], dtype=np.int64)
        snr_min = math.log(PFA) / math.log(OBSERVABLE_PD) - 1.0
        # Range (as a fraction of max_range) out to which each target is covered.
        self.cover_fraction = np.minimum(1.0, (SNR_REF * ctx.fleet.rcs / snr_min) ** 0.25)

    def cover(self, chunk: Chunk, covered: np.ndarray, bounds) -> None:
        s_count = chunk.steps
        for s, site in zip(self.sensors, self.sites, strict=True):
            if (s.pd or 0.0) < OBSERVABLE_PD:
                continue
            idx = site.near(bounds, s.max_range)
            if idx.size == 0:
                continue
            enu = site.enu(chunk.xyz[:s_count, idx])
            ground2 = enu[..., 0] ** 2 + enu[..., 1] ** 2
            r2 = ground2 + enu[..., 2] ** 2
            reach = s.max_range * self.cover_fraction[idx]
            ok = chunk.live[:s_count, idx] & (r2 <= reach * reach)
            ok &= ground2 <= site.horizon(chunk.alt[:s_count, idx]) ** 2
            covered[:, idx] |= ok

    def detect(self, chunk: Chunk, bounds) -> list[Block]:
        if not self.sensors:
            return []
        parts = [
            self._one(j, s, site, rng, chunk, bounds)
            for j, (s, site, rng) in enumerate(
                zip(self.sensors, self.sites, self.rngs, strict=True)
            )
        ]
        t, sensor, r, az, el, three_d, hint, tgt = (
            np.concatenate(c) for c in zip(*parts, strict=True))
        key = self.ctx.keys(t)
        rows = self.format.rows(
            t.size,
            [
                key,
                (self.sensor_ids, sensor),
                r,
                az,
                (el, three_d),
                (self.hints, hint),
                (self.ctx.labels, self.ctx.label_index(tgt)),
            ],
        )
        return [Block(key, rows)]

    def _one(self, j, s, site: Site, rng: np.random.Generator, chunk: Chunk, bounds):
        period = float(s.scan_period)
        t0, t1 = chunk.t0, chunk.t1
        first = math.floor((t0 - self.phases[j]) / period)
        last = math.floor((t1 - self.phases[j]) / period)
        scans = self.phases[j] + period * np.arange(first, last + 1)
        idx = site.near(bounds, s.max_range)
        # Every (scan, candidate) pair; the beam time starts as mid-scan and converges.
        tgt = np.tile(idx, scans.size)
        scan = np.repeat(scans, idx.size)
        t = scan + 0.5 * period
        for _ in range(BEAM_ITERATIONS):
            k, f, _ok = chunk.segment(t, tgt)
            enu = site.enu(chunk.xyz_at(k, f, tgt))
            az = np.degrees(np.arctan2(enu[:, 0], enu[:, 1])) % 360.0
            t = scan + az / 360.0 * period
        inside = (t >= t0) & (t < t1)
        tgt, t = tgt[inside], t[inside]
        k, f, ok = chunk.segment(t, tgt)
        enu = site.enu(chunk.xyz_at(k, f, tgt))
        ground = np.hypot(enu[:, 0], enu[:, 1])
        rng_m = np.hypot(ground, enu[:, 2])
        alt = chunk.at(k, f, tgt, "alt")
        visible = ok & (rng_m <= s.max_range) & (ground <= site.horizon(alt))
        pd = detection_probability(self.ctx.fleet.rcs[tgt], rng_m, s.max_range, s.pd)
        hit = visible & (rng.random(tgt.size) < pd)
        tgt, t, enu, rng_m, ground = tgt[hit], t[hit], enu[hit], rng_m[hit], ground[hit]
        noise = rng.standard_normal((tgt.size, 3))
        meas_r = np.maximum(rng_m + s.sigma_range * noise[:, 0], 1.0)
        meas_az = (
            np.degrees(np.arctan2(enu[:, 0], enu[:, 1])) + s.sigma_azimuth * noise[:, 1]
        ) % 360.0
        el = np.degrees(np.arctan2(enu[:, 2], ground))
        three_d = s.sigma_elevation is not None
        meas_el = np.clip(el + (s.sigma_elevation or 0.0) * noise[:, 2], -90.0, 90.0)
        # Clutter: Poisson per scan, kept where its beam time is in this chunk.
        n_false = rng.poisson(s.clutter_per_scan or 0.0, scans.size)
        c_scan = np.repeat(scans, n_false)
        c_az = rng.uniform(0.0, 360.0, c_scan.size)
        c_r = np.maximum(s.max_range * (1.0 - rng.random(c_scan.size)), 1.0)
        c_el = rng.uniform(*CLUTTER_ELEVATION, c_scan.size)
        c_t = c_scan + c_az / 360.0 * period
        c_in = (c_t >= t0) & (c_t < t1)
        all_t = np.concatenate([t, c_t[c_in]])
        n = all_t.size
        hint = np.full(n, NO_HINT, dtype=np.int64)
        if s.classifier_accuracy is not None:
            cls = self.ctx.fleet.cls[tgt]
            right = rng.random(tgt.size) < s.classifier_accuracy
            hint[: tgt.size] = np.where(right, 1 + cls, self.wrong[cls])
            hint[tgt.size:] = CLUTTER_HINT
        return (
            all_t,
            np.full(n, j),
            np.concatenate([meas_r, c_r[c_in]]),
            np.concatenate([meas_az, c_az[c_in]]),
            np.concatenate([meas_el, c_el[c_in]]),
            np.full(n, three_d),
            hint,
            np.concatenate([tgt, np.full(n - tgt.size, -1)]),
        )
