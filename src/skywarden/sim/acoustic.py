"""Acoustic sensors: azimuth-only ``bearing`` reports of low, loud targets nearby.

Each sensor reports once per ``scan_period`` (at ``phase + m * period``, phase from its id)
every target it hears: ground distance <= ``max_range`` (a few km), height above the sensor
<= [sensor_model.acoustic] ``max_alt``, class in ``classes`` (drones, missiles and
helicopters are loud; airliners at altitude are not heard), with probability ``pd``.
The azimuth from the site carries Gaussian error ``sigma_azimuth`` (large: 5-10 deg); the
class hint is the true class (acoustic classifiers tell a two-stroke drone from a rotor).
Coverage (truth's ``observable``): the same conditions without the Pd draw.
"""

from __future__ import annotations

import numpy as np

from ..records import TARGET_CLASSES
from .model import AcousticModel as AcousticParams
from .motion import Chunk
from .sensing import Block, Context, Site, bearing_format, sensor_table
from .sensing import phase as sensor_phase


class AcousticModel:
    """All acoustic sensors, each with its own random stream."""

    def __init__(self, sensors, rngs, ctx: Context, params: AcousticParams) -> None:
        self.sensors = list(sensors)
        self.rngs = list(rngs)
        self.sites = [Site(s) for s in self.sensors]
        self.ctx = ctx
        self.max_alt = params.max_alt
        codes = [TARGET_CLASSES.index(c) for c in params.classes]
        self.audible = np.isin(ctx.fleet.cls, codes)
        self.phases = [sensor_phase(s.id, s.scan_period) for s in self.sensors]
        self.sensor_ids = sensor_table([s.id for s in self.sensors])
        self.format = bearing_format(
            self.sensor_ids.shape[1], ctx.class_hint.shape[1], ctx.labels.shape[1]
        )

    def _heard(self, site: Site, sensor, enu: np.ndarray, alt: np.ndarray) -> np.ndarray:
        ground2 = enu[..., 0] ** 2 + enu[..., 1] ** 2
        return (ground2 <= sensor.max_range**2) & (alt - site.alt <= self.max_alt)

    def _candidates(self, site: Site, sensor, bounds) -> np.ndarray:
        idx = site.near(bounds, sensor.max_range)
        return idx[self.audible[idx]]

    def cover(self, chunk: Chunk, covered: np.ndarray, bounds) -> None:
        steps = chunk.steps
        for s, site in zip(self.sensors, self.sites, strict=True):
            idx = self._candidates(site, s, bounds)
            if idx.size == 0:
                continue
            enu = site.enu(chunk.xyz[:steps, idx])
            ok = chunk.live[:steps, idx] & self._heard(site, s, enu, chunk.alt[:steps, idx])
            covered[:, idx] |= ok

    def detect(self, chunk: Chunk, bounds) -> list[Block]:
        if not self.sensors:
            return []
        parts = []
        for j, (s, site, rng) in enumerate(zip(self.sensors, self.sites, self.rngs, strict=True)):
            period = float(s.scan_period)
            first = np.ceil((chunk.t0 - self.phases[j]) / period - 1e-9)
            times = self.phases[j] + period * np.arange(
                first, first + chunk.steps * chunk.dt / period + 1
            )
            times = times[(times >= chunk.t0) & (times < chunk.t1)]
            idx = self._candidates(site, s, bounds)
            tgt = np.tile(idx, times.size)
            t = np.repeat(times, idx.size)
            k, f, ok = chunk.segment(t, tgt)
            enu = site.enu(chunk.xyz_at(k, f, tgt))
            heard = ok & self._heard(site, s, enu, chunk.at(k, f, tgt, "alt"))
            heard &= rng.random(t.size) < s.pd
            sel = np.flatnonzero(heard)
            az = np.degrees(np.arctan2(enu[sel, 0], enu[sel, 1]))
            az = (az + s.sigma_azimuth * rng.standard_normal(sel.size)) % 360.0
            parts.append((t[sel], np.full(sel.size, j), az, tgt[sel]))
        t, sensor, az, tgt = (np.concatenate(c) for c in zip(*parts, strict=True))
        key = self.ctx.keys(t)
        rows = self.format.rows(
            t.size,
            [
                key,
                (self.sensor_ids, sensor),
                az,
                (self.ctx.class_hint, self.ctx.fleet.cls[tgt]),
                (self.ctx.labels, self.ctx.label_index(tgt)),
            ],
        )
        return [Block(key, rows)]
