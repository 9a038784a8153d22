"""Cooperative receivers: ADS-B (``icao:`` targets) and Remote ID (``rid:`` targets).

A cooperative target broadcasts its own position every ``report_period`` s
([sensor_model.adsb] / [sensor_model.remote_id]), on its own fixed schedule (an offset
drawn once per run). Each receiver hears a broadcast when the target is within
``max_range`` (Remote ID: 3 km by default, Bluetooth/Wi-Fi beacons) and above the radio
horizon (same 4/3-earth as radar), with probability ``pd``.

A report is a ``position`` detection with the broadcast id, callsign (ADS-B), class hint
(the emitter category: the true class), velocity, and Gaussian error ``sigma_h`` per
horizontal axis, ``sigma_v`` vertical (registry), velocity error :data:`VELOCITY_SIGMA`.
Coverage (truth's ``observable``): the right kind of id, in range, above the horizon.
"""

from __future__ import annotations

import numpy as np

from ..records import TARGET_CLASSES
from .lines import quote, text_table
from .motion import Chunk
from .sensing import Block, Context, Site, offsets_to_degrees, position_format, sensor_table, slots

VELOCITY_SIGMA = 0.5  # m/s per axis, typical of GNSS-derived broadcast velocity
PREFIX = {"adsb": "icao:", "remote_id": "rid:"}


class CooperativeModel:
    """All receivers of one type (``adsb`` or ``remote_id``)."""

    def __init__(
        self,
        kind: str,
        sensors,
        rngs,
        ctx: Context,
        period: float,
        schedule_rng: np.random.Generator,
    ) -> None:
        fleet = ctx.fleet
        self.kind = kind
        self.sensors = list(sensors)
        self.rngs = list(rngs)
        self.sites = [Site(s) for s in self.sensors]
        self.ctx = ctx
        self.period = period
        prefix = PREFIX[kind]
        self.members = np.array(
            [i for i, c in enumerate(fleet.coop_ids) if c and c.startswith(prefix)], dtype=np.intp
        )
        self.offset = schedule_rng.uniform(0.0, period, self.members.size)
        self.sensor_ids = sensor_table([s.id for s in self.sensors])
        tails = []
        for i in range(fleet.n):
            c = fleet.coop_ids[i]
            if not (c and c.startswith(prefix)):
                tails.append("")
                continue
            tail = f',"id":{quote(c)}'
            if fleet.callsigns[i]:
                tail += f',"callsign":{quote(fleet.callsigns[i])}'
            tail += f',"class_hint":{quote(TARGET_CLASSES[fleet.cls[i]])}'
            tails.append(tail)
        self.tails = text_table(tails, template="")
        self.format = position_format(
            self.sensor_ids.shape[1], self.tails.shape[1], ctx.labels.shape[1]
        )

    def cover(self, chunk: Chunk, covered: np.ndarray, bounds) -> None:
        if self.members.size == 0:
            return
        steps = chunk.steps
        member_mask = np.zeros(self.ctx.fleet.n, dtype=bool)
        member_mask[self.members] = True
        for s, site in zip(self.sensors, self.sites, strict=True):
            idx = site.near(bounds, s.max_range)
            idx = idx[member_mask[idx]]
            if idx.size == 0:
                continue
            enu = site.enu(chunk.xyz[:steps, idx])
            ground2 = enu[..., 0] ** 2 + enu[..., 1] ** 2
            ok = chunk.live[:steps, idx] & (ground2 + enu[..., 2] ** 2 <= s.max_range**2)
            ok &= ground2 <= site.horizon(chunk.alt[:steps, idx]) ** 2
            covered[:, idx] |= ok

    def detect(self, chunk: Chunk, bounds) -> list[Block]:
        if self.members.size == 0 or not self.sensors:
            return []
        row, t = slots(chunk.t0, chunk.t1, self.offset, np.full(self.members.size, self.period))
        tgt = self.members[row]
        k, f, ok = chunk.segment(t, tgt)
        tgt, t, k, f = tgt[ok], t[ok], k[ok], f[ok]
        xyz = chunk.xyz_at(k, f, tgt)
        lat = chunk.at(k, f, tgt, "lat")
        lon = chunk.at(k, f, tgt, "lon")
        alt = chunk.at(k, f, tgt, "alt")
        vel = [chunk.at(k, f, tgt, name) for name in ("ve", "vn", "vu")]
        parts = []
        for j, (s, site, rng) in enumerate(zip(self.sensors, self.sites, self.rngs, strict=True)):
            enu = site.enu(xyz)
            ground2 = enu[:, 0] ** 2 + enu[:, 1] ** 2
            heard = ground2 + enu[:, 2] ** 2 <= s.max_range**2
            heard &= ground2 <= site.horizon(alt) ** 2
            heard &= rng.random(t.size) < s.pd
            sel = np.flatnonzero(heard)
            noise = rng.standard_normal((sel.size, 6))
            dlat, dlon = offsets_to_degrees(
                lat[sel], alt[sel], s.sigma_h * noise[:, 0], s.sigma_h * noise[:, 1]
            )
            parts.append(
                (
                    t[sel],
                    np.full(sel.size, j),
                    tgt[sel],
                    lat[sel] + dlat,
                    (lon[sel] + dlon + 180.0) % 360.0 - 180.0,
                    alt[sel] + s.sigma_v * noise[:, 2],
                    vel[0][sel] + VELOCITY_SIGMA * noise[:, 3],
                    vel[1][sel] + VELOCITY_SIGMA * noise[:, 4],
                    vel[2][sel] + VELOCITY_SIGMA * noise[:, 5],
                )
            )
        t, sensor, tgt, *columns = (np.concatenate(c) for c in zip(*parts, strict=True))
        key = self.ctx.keys(t)
        rows = self.format.rows(
            t.size,
            [
                key,
                (self.sensor_ids, sensor),
                *columns,
                (self.tails, tgt),
                (self.ctx.labels, self.ctx.label_index(tgt)),
            ],
        )
        return [Block(key, rows)]
