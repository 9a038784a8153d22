"""Citizen reports (``visual_report`` sensors): sparse, late, rough ``position`` reports.

Per visual_report sensor (a reporting channel: an app, a hotline), every live target at
or below [sensor_model.visual_report] ``max_alt`` (m MSL) and inside ``area`` (if given)
is reported as a Poisson process of ``reports_per_target_hour``. Drawn per chunk: the
number of reports is Poisson(rate x eligible target-seconds), each placed on a uniformly
chosen eligible (step, target) at a uniform time within that step. Each report has:

- ``time``: the sighting; ``received`` (extension field): sighting + a delay uniform in
  ``delay``; the file is ordered by ``time``, as every detection file is;
- ``lat``/``lon``: true position plus Gaussian error of ``sigma_h`` per axis, ``sigma_h``
  drawn uniform in ``sigma_h`` per report and written; no altitude (people cannot tell);
- ``class_hint``: what people say they saw: the true class (birds are reported as
  drones) with probability ``class_correct``, else another of drone, aircraft,
  helicopter, missile.

Citizens do not count toward truth's ``observable``: a report an hour is no coverage.
"""

from __future__ import annotations

import numpy as np
import shapely

from ..records import TARGET_CLASSES
from .model import VisualModel
from .motion import Chunk
from .sensing import Block, Context, offsets_to_degrees, report_format, sensor_table

SEEN_AS = {"bird": "drone"}  # what people report a true class as, where it differs
CONFUSED_WITH = ("drone", "aircraft", "helicopter", "missile")


class CitizenModel:
    def __init__(self, sensors, rngs, ctx: Context, params: VisualModel) -> None:
        self.sensors = list(sensors)
        self.rngs = list(rngs)
        self.ctx = ctx
        self.p = params
        self.area = None
        if params.area:
            self.area = shapely.Polygon([(lon, lat) for lat, lon in params.area])
            shapely.prepare(self.area)
        self.sensor_ids = sensor_table([s.id for s in self.sensors])
        self.format = report_format(
            self.sensor_ids.shape[1], ctx.class_hint.shape[1], ctx.labels.shape[1]
        )
        seen = [TARGET_CLASSES.index(SEEN_AS.get(c, c)) for c in TARGET_CLASSES]
        self.seen = np.array(seen, dtype=np.int64)
        self.confused = np.array([TARGET_CLASSES.index(c) for c in CONFUSED_WITH])
        # Position of each class in CONFUSED_WITH, -1 if absent: a wrong hint must differ.
        self.confused_pos = np.full(len(TARGET_CLASSES), -1)
        self.confused_pos[self.confused] = np.arange(self.confused.size)

    def cover(self, chunk: Chunk, covered: np.ndarray, bounds) -> None:
        """Citizens give no coverage (see the module docstring)."""

    def detect(self, chunk: Chunk, bounds) -> list[Block]:
        if not self.sensors or self.p.reports_per_target_hour <= 0:
            return []
        steps = chunk.steps
        eligible = (
            chunk.live[:steps] & chunk.live[1 : steps + 1] & (chunk.alt[:steps] <= self.p.max_alt)
        )
        if self.area is not None and eligible.any():
            kk, ii = np.nonzero(eligible)
            inside = shapely.contains_xy(self.area, chunk.lon[kk, ii], chunk.lat[kk, ii])
            eligible[kk[~inside], ii[~inside]] = False
        flat = np.flatnonzero(eligible.reshape(-1))
        rate = self.p.reports_per_target_hour * chunk.dt / 3600.0
        parts = []
        for j, rng in enumerate(self.rngs):
            count = int(rng.poisson(rate * flat.size)) if flat.size else 0
            pick = flat[rng.integers(0, flat.size, count)] if count else flat[:0]
            k, tgt = np.divmod(pick, chunk.lat.shape[1])
            f = rng.random(count)
            t = chunk.t0 + (k + f) * chunk.dt
            lat = chunk.at(k, f, tgt, "lat")
            lon = chunk.at(k, f, tgt, "lon")
            alt = chunk.at(k, f, tgt, "alt")
            sigma = rng.uniform(self.p.sigma_h[0], self.p.sigma_h[1], count)
            noise = rng.standard_normal((count, 2)) * sigma[:, None]
            dlat, dlon = offsets_to_degrees(lat, alt, noise[:, 0], noise[:, 1])
            delay = rng.uniform(self.p.delay[0], self.p.delay[1], count)
            hint = self.seen[self.ctx.fleet.cls[tgt]]
            wrong = rng.random(count) >= self.p.class_correct
            m = self.confused.size
            pos = self.confused_pos[hint]
            other = np.where(
                pos >= 0, (pos + rng.integers(1, m, count)) % m, rng.integers(0, m, count)
            )
            hint = np.where(wrong, self.confused[other], hint)
            parts.append(
                (
                    t,
                    np.full(count, j),
                    np.clip(lat + dlat, -90.0, 90.0),
                    (lon + dlon + 180.0) % 360.0 - 180.0,
                    sigma,
                    hint,
                    t + delay,
                    tgt,
                )
            )
        t, sensor, lat, lon, sigma, hint, received, tgt = (
            np.concatenate(c) for c in zip(*parts, strict=True)
        )
        key = self.ctx.keys(t)
        rows = self.format.rows(
            t.size,
            [
                key,
                (self.sensor_ids, sensor),
                lat,
                lon,
                sigma,
                (self.ctx.class_hint, hint),
                self.ctx.keys(received),
                (self.ctx.labels, self.ctx.label_index(tgt)),
            ],
        )
        return [Block(key, rows)]
