"""The assessor: every track against every nation and zone, each cycle, vectorized.

:meth:`Assessor.assess` takes the tracks of one cycle (a tracker
:class:`~skywarden.track.output.TrackBatch` or :class:`TrackColumns`) and returns the
warning stage's input (:class:`~skywarden.warn.input.Assessment`), one row per (track,
target) that matters:

- the nation whose land is below the track (exact: ``Borders.index_at`` near borders, the
  raster elsewhere), ``inside`` true;
- each nation the track may enter within the horizon, with the probability of entering
  (weight of the heading fan's members that do, :mod:`.predict`), the ETA and the distance
  to that nation's territory (exact to the border data up to ``EXACT_DISTANCE_M``; beyond,
  the distance to the predicted entry point, an upper bound);
- each zone the track is inside now and that binds it (``ZoneSet.contains``: outline,
  floor and ceiling, schedule, class, cooperative flag), ``inside`` true;
- each zone it may enter (:mod:`.encounter`).

Rows below ``min_probability`` are left out. Tracks that cannot be placed (NaN or out of
range position or time, deleted, older than ``max_age_s`` before ``now``) are skipped
and counted by reason in :attr:`Assessor.stats`; tracks without a usable velocity are
assessed where they are, with no prediction. When a batch holds several rows of one
track, its latest is used.

Columns: ``eta_s`` counts from each track's own ``time``; ``distance_m`` is 0 and
``probability`` 1 on inside rows; ``target_owner`` of a zone without an owner is the
nation below it. The assessor keeps no state between cycles but what it builds once
(rasters, zone parts, caches of zone schedules per minute and of track id strings), so
a cycle's rows depend only on that cycle's tracks.
"""

from __future__ import annotations

import math
import time as _time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray

from ..airspace.borders import Borders, load_borders
from ..airspace.zones import Zone
from ..airspace.zoneset import ZoneSet
from ..records import TARGET_CLASSES
from ..track.classify import IDENTITIES
from ..track.output import STATUS_OUT, TrackBatch
from ..track.share import default_threads
from ..warn.input import Assessment
from .columns import TrackColumns
from .distance import MAX_SCALE, BorderDistance, haversine
from .encounter import ZoneParts, zone_entries
from .predict import Motion, entries, fan_offsets, fan_paths, motion
from .raster import NationRaster, shipped_raster
from .warm import warm_kernels

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# Reason counted in AssessStats.skipped for tracks assessed where they are.
NO_PREDICTION = "no prediction (slow, no velocity, heading unknown or speed beyond its class)"
# Distances to a nation are exact (to the border data) up to this far.
EXACT_DISTANCE_M = 25_000.0
# Rows of one kind: track, target (nation index, or n_nations + zone index), inside,
# eta_s, probability, distance_m.
_Rows = tuple[IntArray, IntArray, NDArray[np.bool_], FloatArray, FloatArray, FloatArray]
_DELETED = 4  # TrackBatch.status code of "deleted" (track.output.STATUS_OUT)
_FREE = 0
_CLASS_CODE = {c: i for i, c in enumerate(TARGET_CLASSES)}
_IDENT_CODE = {c: i for i, c in enumerate(IDENTITIES)}
# target_kind of a row by whether its target is a zone (a gather: np.where with two
# strings takes twice as long)
_TARGET_KIND = np.array(["nation", "zone"])


@dataclass
class AssessStats:
    """What the last cycle did: counts, and seconds per stage (``rows`` and ``total`` of
    the caller; ``paths``, ``nations``, ``distances``, ``zones`` summed over the threads
    that shared the tracks; ``inside`` the caller's normalising plus the threads'
    placing and motion)."""

    tracks: int = 0
    assessed: int = 0
    predicted: int = 0
    rows: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Tracks:
    """Normalised input: one row per track, with codes instead of strings."""

    ids: NDArray[np.str_]
    time: FloatArray
    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    vel: FloatArray
    cls: IntArray
    identity: IntArray
    cooperative: NDArray[np.bool_]
    sigma_vel: FloatArray
    status: NDArray[np.str_]  # the tracker's status; '' when the input does not say
    cls_conf: FloatArray  # confidence in cls, 0-1; NaN when the input does not say


class Assessor:
    """Assesses tracks against the borders and zones (module docstring).

    ``borders``: default the shipped Natural Earth borders. ``zones``: a ZoneSet or
    zones, or None. ``horizon_s``: prediction horizon. ``fan``: members of the heading fan
    (odd). ``min_probability``: rows of predicted entry below it are left out.
    ``min_speed``, ``max_speed`` (m/s), ``max_heading_sigma_deg``, ``max_sigma_vel`` (m/s,
    per axis; default no bound): which tracks get a prediction (also never one faster than
    its class, :mod:`.predict`). ``heading_from_sigma_vel``: widen the heading spread by the
    tracks' own velocity error (docs/ASSESSMENT.md: off, as it removed true warnings).
    ``min_step_m``: the shortest step of the march (narrower features along a path may be
    stepped over). ``cell_m``: raster cell, plane metres. ``refine_s``:
    entries predicted within this many seconds get their time from the exact border line,
    later ones from the raster (about +-0.7 km along the path). ``max_age_s``: tracks
    whose time is older than this before ``now`` are skipped (None: keep all).
    ``threads``: the tracks are shared among this many threads (numpy, scipy and shapely
    release the GIL in their loops, so each uses a core); default the cores, at most 4;
    1 runs everything in the caller. The rows do not depend on it.
    """

    def __init__(
        self,
        borders: Borders | None = None,
        zones: ZoneSet | Sequence[Zone] | None = None,
        *,
        horizon_s: float = 1800.0,
        fan: int = 3,
        min_probability: float = 0.05,
        min_speed: float = 2.0,
        max_speed: float = 1500.0,
        max_heading_sigma_deg: float = 45.0,
        max_sigma_vel: float = math.inf,
        heading_from_sigma_vel: bool = False,
        min_step_m: float = 2000.0,
        cell_m: float = 1000.0,
        refine_s: float = 900.0,
        max_age_s: float | None = 300.0,
        threads: int | None = None,
    ) -> None:
        self.borders = borders if borders is not None else load_borders()
        self.zones: ZoneSet | None = None
        self.horizon_s = float(horizon_s)
        self.offsets, self.weights = fan_offsets(fan)
        self.min_probability = float(min_probability)
        self.min_speed, self.max_speed = float(min_speed), float(max_speed)
        self.max_heading_sigma_deg = float(max_heading_sigma_deg)
        self.max_sigma_vel = float(max_sigma_vel)
        self.heading_from_sigma_vel = bool(heading_from_sigma_vel)
        self.min_step_m = float(min_step_m)
        self.cell_m = float(cell_m)
        self.refine_s = float(refine_s)
        self.max_age_s = max_age_s
        self.threads = int(threads) if threads else default_threads()
        self._executor: ThreadPoolExecutor | None = None
        self.stats = AssessStats()
        self._raster: NationRaster | None = None
        self._parts: ZoneParts | None = None
        self._distance: BorderDistance | None = None
        self._id_cache: tuple[NDArray[np.int64], NDArray[np.str_], str] = (
            np.zeros(0, np.int64), np.zeros(0, dtype="<U1"), "")
        self._n_nations = len(self.borders.codes)
        self.set_zones(zones)

    # -- set-up --------------------------------------------------------------------------

    @property
    def raster(self) -> NationRaster:
        """The nation raster, built on first use (about a second)."""
        if self._raster is None:
            shipped = self.borders is load_borders()
            self._raster = (shipped_raster(self.cell_m) if shipped
                            else NationRaster.cached(self.borders, self.cell_m))
        return self._raster

    def prepare(self) -> None:
        """Build everything that is built once (raster, zone parts), now, and get the
        compiled kernels ready (once per process: :mod:`.warm`)."""
        _ = self.raster
        warm_kernels(self)
        if self.zones is not None and self._parts is None:
            self._parts = self.parts_for(self.zones)
        if self._distance is None:
            # built here, not lazily: the threads of a cycle share it read-only
            distance = BorderDistance(self.raster)
            distance.build()
            self._distance = distance

    def parts_for(self, zones: ZoneSet) -> ZoneParts:
        """The zone parts and their index for ``zones`` (about a second per 1,000 zones).
        Reads the assessor only, so a caller may build them on its own thread while
        cycles run, then hand them to :meth:`set_zones`."""
        parts = ZoneParts(zones, self.raster.plane)
        for kind in (0, 1):
            parts.index(kind, self._extent())
        return parts

    def set_zones(self, zones: ZoneSet | Sequence[Zone] | None,
                  parts: ZoneParts | None = None) -> None:
        """Assess against other zones from the next cycle on (restrictions made or ended).
        ``parts``: built beforehand by :meth:`parts_for` for these zones; without them the
        next cycle (or :meth:`prepare`) builds them."""
        if zones is not None and not isinstance(zones, ZoneSet):
            zones = ZoneSet(list(zones))
        self.zones = zones if zones is not None and len(zones) else None
        self._parts = parts if self.zones is not None else None
        z = self.zones.zones if self.zones is not None else ()
        codes = list(self.borders.codes)
        self._target_id = np.array(codes + [x.id for x in z], dtype=str)
        self._target_owner = np.array(codes + self._zone_owners(), dtype="<U3")
        self._zone_type = np.array([""] * len(codes) + [x.type for x in z], dtype=str)

    def _extent(self) -> tuple[float, float, float, float]:
        r = self.raster
        return (r.xmin, r.ymin, r.xmin + r.nx * r.cell, r.ymin + r.ny * r.cell)

    def _zone_owners(self) -> list[str]:
        """Each zone's owner, or where none is given the nation below the zone."""
        if self.zones is None:
            return []
        owners = [z.owner for z in self.zones.zones]
        missing = [i for i, o in enumerate(owners) if not o]
        if missing:
            pts = shapely.point_on_surface(
                np.array([self.zones.zones[i].geometry for i in missing], dtype=object))
            below = self.borders.nation_at(shapely.get_y(pts), shapely.get_x(pts))
            for i, code in zip(missing, below.tolist(), strict=True):
                owners[i] = code
        return owners

    # -- one cycle -----------------------------------------------------------------------

    def assess(self, tracks: TrackBatch | TrackColumns, now: float) -> Assessment:
        """One row per (track, target) that matters (module docstring)."""
        self.prepare()
        clock = _time.perf_counter
        t0 = clock()
        stats = AssessStats(tracks=len(tracks))
        tr = self._normalise(tracks, float(now), stats)
        n = stats.assessed = tr.time.size
        # filled by the threads, each for its own tracks
        x, y = np.empty(n), np.empty(n)
        nation = np.empty(n, dtype=np.intp)
        can = np.zeros(n, dtype=bool)
        t1 = clock()
        # Each thread assesses a share of the tracks against everything (numpy, scipy and
        # shapely release the GIL in their loops, so two threads use two cores). Shares are
        # interleaved, every threads-th track: tracks that arrive grouped by place (a
        # sensor's, a region's) still spread evenly over the threads.
        shares = [np.arange(i, n, self.threads) for i in range(min(self.threads, n))]
        seconds: list[dict[str, float]] = [{} for _ in shares]
        jobs = [lambda s=s, sec=sec: self._share(tr, x, y, nation, can, s, sec)
                for s, sec in zip(shares, seconds, strict=True)]
        none = np.zeros(0, dtype=np.intp)
        rows = [_inside_rows(none, none)]  # the columns' types, when no track is left
        if len(jobs) > 1:
            for future in [self._pool().submit(job) for job in jobs]:
                rows.extend(future.result())
        else:
            for job in jobs:
                rows.extend(job())
        stats.predicted = int(can.sum())
        stats.skipped[NO_PREDICTION] += n - stats.predicted
        t4 = clock()
        out = self._rows(tr, rows)
        stats.rows = len(out)
        t5 = clock()
        stages = {k: sum(sec.get(k, 0.0) for sec in seconds)
                  for k in ("inside", "paths", "nations", "distances", "zones")}
        stages["inside"] += t1 - t0
        stats.seconds = {**stages, "rows": t5 - t4, "total": t5 - t0}
        self.stats = stats
        return out

    def _share(self, tr: _Tracks, x: FloatArray, y: FloatArray, nation: IntArray,
               can: NDArray[np.bool_], share: IntArray, seconds: dict[str, float]
               ) -> list[_Rows]:
        """Rows of the tracks ``share`` (indices into ``tr``, ascending): the nation and
        zones they are in, and the nations and zones they may enter. Fills ``x``, ``y``
        (plane), ``nation`` and ``can`` (gets a prediction) at ``share``. ``seconds``
        gets the time of each stage. The tracks' motion is worked out here, per share
        (track by track: the same values as for all at once)."""
        clock = _time.perf_counter
        out: list[_Rows] = []
        t_in = clock()
        raster = self.raster
        lat, lon = tr.lat[share], tr.lon[share]
        xs, ys = raster.plane.forward(lat, lon)
        here = raster.nation_index(lat, lon, xs, ys)
        x[share], y[share], nation[share] = xs, ys, here
        mo = motion(tr.vel[share], tr.cls[share], tr.sigma_vel[share], self.min_speed,
                    self.max_speed, self.max_heading_sigma_deg, self.max_sigma_vel,
                    self.heading_from_sigma_vel)
        predicted = mo.predict & np.isfinite(xs)
        can[share] = predicted
        placed = here >= 0
        out.append(_inside_rows(share[placed], here[placed]))
        t0 = clock()
        seconds["inside"] = t0 - t_in
        pred = share[predicted]
        mo = Motion(mo.speed[predicted], mo.heading[predicted], mo.sigma_heading[predicted],
                    mo.vel_u[predicted], mo.predict[predicted])  # of the tracks pred
        paths = None
        if pred.size:
            paths = fan_paths(self.raster, tr.lat[pred], tr.lon[pred], mo, self.horizon_s,
                              self.offsets)
        t1 = clock()
        if paths is not None:
            ent = entries(self.raster, paths, nation[pred], self.weights, self.min_step_m,
                          self.min_probability, refine_s=self.refine_s)
            t2 = clock()
            trk = pred[ent.track]
            assert self._distance is not None
            # exact within EXACT_DISTANCE_M; beyond, the distance to the predicted entry
            # point, an upper bound (the entry is far: rules about distance look closer)
            dist = np.full(trk.size, np.nan)
            near = np.flatnonzero(self._distance.lower_bound(x[trk], y[trk], ent.nation)
                                  <= EXACT_DISTANCE_M)
            dist[near] = self._distance.to_nation(
                x[trk[near]], y[trk[near]], tr.lat[trk[near]], tr.lon[trk[near]],
                ent.nation[near], EXACT_DISTANCE_M * MAX_SCALE)
            far = np.isnan(dist)
            dist[far] = haversine(tr.lat[trk][far], tr.lon[trk][far], ent.lat[far],
                                  ent.lon[far])
            out.append((trk, ent.nation, np.zeros(trk.size, bool), ent.eta_s,
                        ent.probability, dist))
        else:
            t2 = clock()
        t3 = clock()
        if self.zones is not None and self._parts is not None:
            hits = self.zones.contains(tr.lat[share], tr.lon[share], tr.alt[share],
                                       tr.time[share], tr.cls[share], tr.cooperative[share])
            warned = self._parts.warned[hits.zone]
            hit_track, hit_zone = share[hits.point[warned]], hits.zone[warned]
            out.append(_inside_rows(hit_track, hit_zone + self._n_nations))
            if paths is not None:
                k = self.offsets.size
                nominal = paths.take(np.arange(pred.size) * k + k // 2)
                ze = zone_entries(
                    self._parts, nominal, np.radians(mo.sigma_heading), tr.time[pred],
                    tr.alt[pred], mo.vel_u, tr.cls[pred], tr.cooperative[pred],
                    _rank(pred, hit_track), hit_zone, self.min_probability, self._extent())
                trk = pred[ze.track]
                out.append((trk, ze.zone + self._n_nations, np.zeros(trk.size, bool),
                            ze.eta_s, ze.probability, ze.distance_m))
        t4 = clock()
        seconds.update(paths=t1 - t0, nations=t2 - t1, distances=t3 - t2, zones=t4 - t3)
        return out

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.threads,
                                                thread_name_prefix="assess")
        return self._executor

    # -- input and output ----------------------------------------------------------------

    def _normalise(self, tracks: TrackBatch | TrackColumns, now: float,
                   stats: AssessStats) -> _Tracks:
        n = len(tracks)
        time = np.asarray(tracks.time, dtype=np.float64).reshape(n)
        lat = np.asarray(tracks.lat, dtype=np.float64).reshape(n)
        lon = np.asarray(tracks.lon, dtype=np.float64).reshape(n)
        good = np.isfinite(time) & np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
        stats.skipped["position or time not a number or out of range"] += int((~good).sum())
        if isinstance(tracks, TrackBatch):
            key = np.asarray(tracks.serial, dtype=np.int64)
            status = np.asarray(tracks.status)
            dead = good & ((status == _DELETED) | (status == _FREE))
            stats.skipped["deleted"] += int(dead.sum())
            good &= ~dead
        else:
            _, inv = np.unique(np.asarray(tracks.track_id).astype(str), return_inverse=True)
            key = inv.astype(np.int64).reshape(n)
        if self.max_age_s is not None:
            stale = good & (time < now - self.max_age_s)
            stats.skipped["older than max_age_s"] += int(stale.sum())
            good &= ~stale
        sel = np.flatnonzero(good)
        if _has_repeats(key[sel]):  # several rows of a track: keep the latest
            order = sel[np.lexsort((time[sel], key[sel]))]
            last = np.r_[key[order][1:] != key[order][:-1], True]
            stats.skipped["superseded by a later row of the track"] += int((~last).sum())
            sel = np.sort(order[last])
        vel = np.asarray(tracks.vel, dtype=np.float64).reshape(n, 3)[sel]
        alt = np.asarray(tracks.alt, dtype=np.float64).reshape(n)[sel]
        if isinstance(tracks, TrackBatch):
            ids = self._ids(tracks.prefix, np.asarray(tracks.serial, dtype=np.int64)[sel])
            cls = np.asarray(tracks.cls).astype(np.intp)[sel]
            ident = np.asarray(tracks.identity).astype(np.intp)[sel]
            coop = np.asarray(tracks.ids, dtype=object)[sel].astype(bool)
            st = np.array(STATUS_OUT)[np.asarray(tracks.status).astype(np.intp)[sel]]
            conf = _optional_floats(tracks.cls_conf, n, sel)
        else:
            ids = np.asarray(tracks.track_id).astype(str)[sel]
            cls = _codes(np.asarray(tracks.cls)[sel], _CLASS_CODE, "unknown")
            ident = _codes(np.asarray(tracks.identity)[sel], _IDENT_CODE, "unknown")
            coop = np.asarray(tracks.cooperative, dtype=bool).reshape(n)[sel]
            st = np.full(sel.size, "", dtype=str)
            conf = _optional_floats(tracks.class_confidence, n, sel)
        sigma_vel = _optional_floats(tracks.sigma_vel, n, sel)
        cls = np.where((cls >= 0) & (cls < len(TARGET_CLASSES)), cls, _CLASS_CODE["unknown"])
        ident = np.where((ident >= 0) & (ident < len(IDENTITIES)), ident, _IDENT_CODE["unknown"])
        lo = _wrap_lon(lon[sel])
        return _Tracks(ids, time[sel], lat[sel], lo, alt, vel, cls, ident, coop, sigma_vel, st,
                       conf)

    def _ids(self, prefix: str, serial: NDArray[np.int64]) -> NDArray[np.str_]:
        """Track ids of serials, reusing last cycle's strings (tracks persist)."""
        cached_serial, cached_ids, cached_prefix = self._id_cache
        hit = np.zeros(serial.size, dtype=bool)
        pos = np.zeros(serial.size, dtype=np.intp)
        if cached_prefix == prefix and cached_serial.size:
            pos = np.minimum(np.searchsorted(cached_serial, serial), cached_serial.size - 1)
            hit = cached_serial[pos] == serial
        new = _track_ids(prefix, serial[~hit])
        width = max(cached_ids.dtype.itemsize, new.dtype.itemsize) // 4
        ids = np.empty(serial.size, dtype=f"<U{max(width, 1)}")
        ids[hit] = cached_ids[pos[hit]]
        ids[~hit] = new
        if serial.size > 1 and not (serial[1:] > serial[:-1]).all():
            order = np.argsort(serial)
            self._id_cache = (serial[order], ids[order], prefix)
        else:
            self._id_cache = (serial.copy(), ids, prefix)
        return ids

    def _rows(self, tr: _Tracks, parts: list[_Rows]) -> Assessment:
        track, target, inside, eta, prob, dist = (np.concatenate(c) for c in zip(*parts,
                                                                                 strict=True))
        order = np.argsort(track, kind="stable")
        track, target, inside = track[order], target[order], inside[order]
        eta, prob, dist = eta[order], prob[order], dist[order]
        classes = np.array(TARGET_CLASSES)
        identities = np.array(IDENTITIES)
        is_zone = target >= self._n_nations
        return Assessment(
            track_id=tr.ids[track],
            time=tr.time[track],
            lat=tr.lat[track],
            lon=tr.lon[track],
            alt=tr.alt[track],
            cls=classes[tr.cls[track]],
            identity=identities[tr.identity[track]],
            cooperative=tr.cooperative[track],
            status=tr.status[track],
            target_kind=_TARGET_KIND[is_zone.astype(np.intp)],
            target_id=self._target_id[target],
            target_owner=self._target_owner[target],
            zone_type=self._zone_type[target],
            inside=inside,
            eta_s=np.where(inside, np.nan, eta),
            probability=prob,
            distance_m=np.where(inside, 0.0, dist),
            vel_e=tr.vel[track, 0],
            vel_n=tr.vel[track, 1],
            class_confidence=tr.cls_conf[track],
        )


def _optional_floats(col: FloatArray | None, n: int, sel: NDArray[np.intp]) -> FloatArray:
    """Rows ``sel`` of an optional float column of ``n`` rows; NaN where it is None."""
    if col is None:
        return np.full(sel.size, np.nan)
    return np.asarray(col, dtype=np.float64).reshape(n)[sel]


def _wrap_lon(lon: FloatArray) -> FloatArray:
    """Longitudes into [-180, 180) as ``(lon + 180) % 360 - 180``, to the bit. Where
    every ``lon + 180`` is already in [0, 360) the remainder is that value itself, so the
    float modulo (the slowest step of normalising) is skipped."""
    shifted = lon + 180.0
    if shifted.size and shifted.min() >= 0.0 and shifted.max() < 360.0:
        return shifted - 180.0
    return shifted % 360.0 - 180.0


def _has_repeats(key: NDArray[np.int64]) -> bool:
    """Whether any value occurs twice. A tracker batch comes in serial order, so a strictly
    increasing check (one pass) answers most cycles without sorting (np.unique: 8 ms at
    30,000 tracks)."""
    if key.size < 2 or bool((key[1:] > key[:-1]).all()):
        return False
    return bool(np.unique(key).size < key.size)


def _inside_rows(track: IntArray, target: IntArray) -> _Rows:
    n = track.size
    return (track.astype(np.intp), target.astype(np.intp), np.ones(n, bool), np.full(n, np.nan),
            np.ones(n), np.zeros(n))


def _rank(sorted_rows: IntArray, values: IntArray) -> IntArray:
    """Position of each value in ``sorted_rows`` (-1 where absent)."""
    pos = np.searchsorted(sorted_rows, values)
    pos = np.minimum(pos, max(sorted_rows.size - 1, 0))
    ok = sorted_rows.size > 0
    return np.where(ok & (sorted_rows[pos] == values), pos, -1) if ok else np.full(
        values.size, -1)


def _codes(values: NDArray[np.str_], table: dict[str, int], default: str) -> IntArray:
    """Codes of strings through ``table`` (unknown strings: ``default``)."""
    if not values.size:
        return np.zeros(0, np.intp)
    uniq, inv = np.unique(values.astype(str), return_inverse=True)
    codes = np.array([table.get(u, table[default]) for u in uniq.tolist()], dtype=np.intp)
    return codes[inv.reshape(-1)]


def _track_ids(prefix: str, serial: NDArray[np.int64]) -> NDArray[np.str_]:
    """``prefix + str(serial)`` for every row, without a Python loop.

    Digits are written, column by column, into an (n, width) array of code points,
    left-aligned with trailing NULs (which numpy strings drop), viewed as strings.
    """
    s = np.asarray(serial, dtype=np.int64)
    n = s.size
    if n == 0:
        return np.zeros(0, dtype=f"<U{max(len(prefix), 1)}")
    if (s < 0).any():
        return np.char.add(prefix, s.astype(str))
    digits = np.searchsorted(_POW10, s, side="right").astype(np.int64)  # >= 1
    width = int(digits.max())
    p = len(prefix)
    buf = np.zeros((n, p + width), dtype=np.uint32)
    if p:
        buf[:, :p] = np.frombuffer(prefix.encode("utf-32-le"), dtype=np.uint32)
    for k in range(width):
        power = digits - 1 - k
        digit = (s // _POW10[np.maximum(power, 0)]) % 10
        buf[:, p + k] = np.where(power >= 0, digit + ord("0"), 0)
    return buf.view(f"<U{p + width}").reshape(n)


_POW10 = 10 ** np.arange(19, dtype=np.int64)
