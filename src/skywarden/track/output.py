"""Track output: columnar rows gathered per window, turned into TrackUpdate records.

The tracker appends the rows of each window (which slots, at what time, with what state
and status) to an :class:`Emitter`; :meth:`Emitter.finish` converts all of them at once
(one geodetic conversion for the whole step, the per-row rotations in one compiled
pass) into a :class:`TrackBatch`, whose
:meth:`TrackBatch.updates` makes the shared-format records.

Output conventions (formats.md "Track"): lat/lon/alt WGS84 of the estimate; alt is null
when its 1-sigma exceeds ``alt_max_sigma`` (2-D sensors only); velocity east/north/up;
``sigma_h`` the per-axis horizontal 1-sigma, sqrt((var_e + var_n) / 2), the same meaning
as a detection's sigma_h; ``sigma_vel`` the same for the horizontal velocity (m/s), which
the assessment turns into the spread of predicted headings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

import msgspec
import numpy as np
from numba import njit

from ..geo import ecef_to_geodetic
from ..records import TARGET_CLASSES, TrackUpdate
from .classify import IDENTITIES
from .kernels import fma
from .table import STATUS_NAMES

DELETED = 4
STATUS_OUT = (*STATUS_NAMES[:4], "deleted")


@dataclass(slots=True)
class TrackBatch:
    """Track rows as columns (one row per track per update).

    Track ids, cooperative ids and contributing sensors stay compact until asked for:
    ``serial`` numbers the track (its id is ``prefix + serial``), ``ids`` holds one tuple
    per row, and the sensors of row i are ``sensor_names[sensor_flat[sensor_ptr[i]:
    sensor_ptr[i + 1]]]`` (CSR form), so a step with thousands of rows builds no strings
    until a writer needs them.
    """

    time: np.ndarray
    serial: np.ndarray  # (n,) int64
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray  # NaN: unknown
    vel: np.ndarray  # (n, 3) east, north, up
    sigma_h: np.ndarray
    sigma_v: np.ndarray
    status: np.ndarray  # codes into STATUS_OUT
    cls: np.ndarray
    cls_conf: np.ndarray
    identity: np.ndarray
    ids: np.ndarray  # (n,) object: tuple of cooperative ids
    sensor_ptr: np.ndarray  # (n + 1,) int64
    sensor_flat: np.ndarray  # int32 indices into sensor_names
    spoof: np.ndarray
    prefix: str = "T"
    sensor_names: tuple[str, ...] = ()
    # (n,) per-axis horizontal velocity 1-sigma, m/s; None (or NaN rows): not known. Last
    # and optional so that producers written before it still build batches.
    sigma_vel: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.time.shape[0])

    @property
    def track(self) -> list[str]:
        """Track ids of the rows."""
        p = self.prefix
        return [f"{p}{s}" for s in self.serial.tolist()]

    @property
    def sensors(self) -> list[list[str]]:
        """Names of the sensors that updated each row in its window."""
        names = self.sensor_names
        flat = [names[k] for k in self.sensor_flat.tolist()]
        ptr = self.sensor_ptr.tolist()
        return [flat[a:b] for a, b in zip(ptr[:-1], ptr[1:], strict=True)]

    def updates(self) -> list[TrackUpdate]:
        """The rows as TrackUpdate records, in row order."""
        alt = self.alt.tolist()
        status = [STATUS_OUT[k] for k in self.status.tolist()]
        cls = [TARGET_CLASSES[k] for k in self.cls.tolist()]
        identity = [IDENTITIES[k] for k in self.identity.tolist()]
        conf = np.round(self.cls_conf.astype(np.float64), 3).tolist()
        spoof = self.spoof.tolist()
        ids = self.ids.tolist()
        return [
            TrackUpdate(
                time=t,
                track=tid,
                lat=la,
                lon=lo,
                alt=None if a != a else a,
                vel_e=v[0],
                vel_n=v[1],
                vel_u=v[2],
                sigma_h=sh,
                status=st,  # type: ignore[arg-type]
                cls=c,  # type: ignore[arg-type]
                identity=ident,  # type: ignore[arg-type]
                ids=list(i),
                sensors=sens,
                class_confidence=cc,
                flags=["spoof_suspect"] if sp else [],
            )
            for t, tid, la, lo, a, v, sh, st, c, ident, i, sens, cc, sp in zip(
                self.time.tolist(),
                self.track,
                self.lat.tolist(),
                self.lon.tolist(),
                alt,
                self.vel.tolist(),
                self.sigma_h.tolist(),
                status,
                cls,
                identity,
                ids,
                self.sensors,
                conf,
                spoof,
                strict=True,
            )
        ]

    def json_lines(self) -> bytes:
        """The rows as JSON Lines, each the bytes msgspec writes for its record of
        :meth:`updates` (the same fields in the same order, the same number and string
        forms, defaults left out), made column by column: each float column encoded by
        msgspec as one array and cut at its commas, the strings from small tables, then
        one format per row. Building the records and encoding them one by one took 5-10
        us a row, most of the writing time of ``skywarden track``; this takes 2-3 times
        less (the 464,950 rows of the 10,000-target run: 3.2-4.8 s against 1.4-2.1 s)."""
        n = len(self)
        if n == 0:
            return b""
        vel = self.vel
        prefix = _ENCODE(self.prefix)[:-1]  # as msgspec writes the id, less its last quote
        track = np.char.add(np.char.add(prefix, self.serial.astype(np.int64).astype("S")),
                            b'"').tolist()
        known = (~np.isnan(self.alt)).tolist()  # NaN: unknown, the record's None, left out
        alt = [b',"alt":' + a if k else b""
               for a, k in zip(_numbers(self.alt), known, strict=True)]
        conf = np.round(self.cls_conf.astype(np.float64), 3)
        flags = _FLAGS[np.asarray(self.spoof, dtype=bool).astype(np.intp)].tolist()
        rows = zip(_numbers(self.time), track, _numbers(self.lat), _numbers(self.lon), alt,
                   _numbers(vel[:, 0]), _numbers(vel[:, 1]), _numbers(vel[:, 2]),
                   _numbers(self.sigma_h), _STATUS[self.status.astype(np.intp)].tolist(),
                   _CLASS[self.cls.astype(np.intp)].tolist(),
                   _IDENTITY[self.identity.astype(np.intp)].tolist(), self._ids_column(),
                   self._sensors_column(), _numbers(conf), flags, strict=True)
        line = _LINE
        return b"".join([line % r for r in rows])

    def _ids_column(self) -> list[bytes]:
        """',"ids":[...]' per row, b"" where a row holds none. A track's ids persist from
        window to window: their encodings are kept (_IDS_SEEN)."""
        global _IDS_SEEN
        seen = _IDS_SEEN
        if len(seen) > 200_000:  # a new table, not cleared: another thread may be reading
            seen = _IDS_SEEN = {(): b""}
        rows = self.ids.tolist()
        for ids in set(rows).difference(seen):
            seen[ids] = b',"ids":' + _ENCODE(list(ids))
        return list(map(seen.__getitem__, rows))

    def _sensors_column(self) -> list[bytes]:
        """',"sensors":[...]' per row, b"" where no sensor updated it: each distinct list
        of sensor indices (the rows padded with -1 to the longest) encoded once."""
        ptr = np.asarray(self.sensor_ptr, dtype=np.int64)
        count = np.diff(ptr)
        width = int(count.max(initial=0))
        padded = np.full((count.size, max(width, 1)), -1, dtype=np.int64)
        row = np.repeat(np.arange(count.size), count)
        padded[row, np.arange(row.size) - ptr[row]] = self.sensor_flat
        bits = max(int(len(self.sensor_names)).bit_length(), 1)
        if bits * padded.shape[1] <= 62:
            # each row's list packed into one integer (index + 1 in `bits` bits a place,
            # 0 for the padding): a 1-D unique is ten times quicker than one by rows
            key = np.zeros(count.size, dtype=np.int64)
            for c in range(padded.shape[1]):
                key = (key << bits) | (padded[:, c] + 1)
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            lists = padded[first]
        else:
            lists, inverse = np.unique(padded, axis=0, return_inverse=True)
        names = self.sensor_names
        tokens = np.empty(len(lists), dtype=object)
        tokens[:] = [b',"sensors":' + _ENCODE([names[i] for i in idx if i >= 0])
                     if idx[0] >= 0 else b"" for idx in lists.tolist()]
        return tokens[inverse.reshape(-1)].tolist()


_ENCODE = msgspec.json.Encoder().encode
# One row of json_lines: time, track (quoted), lat, lon, then the alt field or nothing,
# the velocity, sigma_h, the optional fields, class_confidence, the flags and the brace.
_LINE = (b'{"time":%s,"track":%s,"lat":%s,"lon":%s%s,"vel_e":%s,"vel_n":%s,"vel_u":%s,'
         b'"sigma_h":%s%s%s%s%s%s,"class_confidence":%s%s\n')
_IDS_SEEN: dict[tuple[str, ...], bytes] = {(): b""}


def _numbers(values: np.ndarray) -> list[bytes]:
    """Each float as msgspec writes it in a record (NaN and infinities as null): the
    column encoded as one JSON array, cut at its commas."""
    return _ENCODE(np.asarray(values, dtype=np.float64).tolist())[1:-1].split(b",")


def _optional(key: str, names: tuple[str, ...], default: str) -> np.ndarray:
    """',"key":"name"' per code of ``names``; b"" for ``default`` (a record leaves its
    default out)."""
    out = np.empty(len(names), dtype=object)
    out[:] = [b"" if name == default else b"," + _ENCODE(key) + b":" + _ENCODE(name)
              for name in names]
    return out


_STATUS = _optional("status", STATUS_OUT, "tentative")
_CLASS = _optional("class", TARGET_CLASSES, "unknown")
_IDENTITY = _optional("identity", IDENTITIES, "pending")
_FLAGS = np.array([b"}", b',"flags":["spoof_suspect"]}'], dtype=object)


@dataclass
class TrackerStats:
    """Counts over the tracker's life: detections by fate, tracks by milestone."""

    received: int = 0
    associated: int = 0
    initiated: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    bearings_waiting: int = 0
    tracks_started: int = 0
    tracks_confirmed: int = 0
    tracks_merged: int = 0
    spoof_flags: int = 0
    # (track, plot) pairs inside the gate dropped by the kinematic gate (config.py)
    speed_gated: int = 0

    @property
    def used(self) -> int:
        return self.associated + self.initiated


def geodetic_rows(
    x: np.ndarray, P_pos: np.ndarray, alt_max_sigma: float, P_vel: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """ECEF states (n, 6) and position covariances (n, 3, 3) as output columns: lat, lon,
    alt (NaN when unknown), ENU velocity, sigma_h, sigma_v (module docstring); with the
    velocity covariances ``P_vel`` (n, 3, 3) also sigma_vel, the per-axis horizontal
    velocity 1-sigma (only the east and north axes: the vertical speed does not turn a
    track's heading)."""
    lat, lon, alt = ecef_to_geodetic(x[:, :3])
    # The sines and cosines of geo.enu_rotation, which the kernel assembles row by row.
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    sl, cl, so, co = np.sin(lat_r), np.cos(lat_r), np.sin(lon_r), np.cos(lon_r)
    with_vel = P_vel is not None
    vel, sigma_h, sigma_v, sigma_vel = _enu_columns(
        x, P_pos, P_pos if P_vel is None else P_vel, with_vel, sl, cl, so, co, alt,
        float(alt_max_sigma),
    )
    if not with_vel:
        return lat, lon, alt, vel, sigma_h, sigma_v
    return lat, lon, alt, vel, sigma_h, sigma_v, sigma_vel


@njit(cache=True)
def _rotated_variance(rot: np.ndarray, i: int, P: np.ndarray, k: int) -> float:
    """(rot @ P[k] @ rot.T)[i, i] with numpy's (BLAS) rounding: each matrix product
    entry a chain of fused multiply-adds (kernels.fma)."""
    var = 0.0
    for j in range(3):
        t = rot[i, 0] * P[k, 0, j]
        t = fma(rot[i, 1], P[k, 1, j], t)
        t = fma(rot[i, 2], P[k, 2, j], t)
        var = t * rot[i, 0] if j == 0 else fma(t, rot[i, j], var)
    return var


@njit(cache=True)
def _sigma(var: float) -> float:
    # np.sqrt(np.maximum(var, 0.0)): a NaN stays NaN.
    return np.sqrt(0.0 if var < 0.0 else var)


@njit(cache=True)
def _enu_columns(x, P_pos, P_vel, with_vel, sl, cl, so, co, alt, alt_max_sigma):
    """Velocity (n, 3), sigma_h, sigma_v, sigma_vel and the masked alt (in place) of
    :func:`geodetic_rows`, one row at a time with the ENU rotation of the row's
    latitude and longitude (sines and cosines given)."""
    n = x.shape[0]
    vel = np.empty((n, 3))
    sigma_h, sigma_v = np.empty(n), np.empty(n)
    sigma_vel = np.empty(n if with_vel else 0)
    rot = np.empty((3, 3))
    for k in range(n):
        rot[0, 0], rot[0, 1], rot[0, 2] = -so[k], co[k], 0.0
        rot[1, 0], rot[1, 1], rot[1, 2] = -sl[k] * co[k], -sl[k] * so[k], cl[k]
        rot[2, 0], rot[2, 1], rot[2, 2] = cl[k] * co[k], cl[k] * so[k], sl[k]
        for i in range(3):
            # np.einsum's sum of three products: (a0 + a2) + a1.
            v = (rot[i, 0] * x[k, 3] + rot[i, 2] * x[k, 5]) + rot[i, 1] * x[k, 4]
            # np.clip: a NaN stays NaN.
            vel[k, i] = -9999.0 if v < -9999.0 else (9999.0 if v > 9999.0 else v)
        s_h = _sigma(0.5 * (_rotated_variance(rot, 0, P_pos, k)
                            + _rotated_variance(rot, 1, P_pos, k)))
        sigma_h[k] = s_h if np.isfinite(s_h) else 1.0e9
        sigma_v[k] = _sigma(_rotated_variance(rot, 2, P_pos, k))
        # Outside the record's valid ranges (a diverged track's last line): unknown.
        a = alt[k]
        if not (sigma_v[k] <= alt_max_sigma and a > -1000.0 and a < 1.0e6):
            alt[k] = np.nan
        if with_vel:
            s_v = _sigma(0.5 * (_rotated_variance(rot, 0, P_vel, k)
                                + _rotated_variance(rot, 1, P_vel, k)))
            sigma_vel[k] = s_v if np.isfinite(s_v) else 1.0e9
    return vel, sigma_h, sigma_v, sigma_vel


_COLS = ("time", "x", "P", "status", "cls", "cls_conf", "identity", "spoof", "serial", "ids")


class Emitter:
    """Rows gathered over one step; see the module docstring."""

    def __init__(self, alt_max_sigma: float, prefix: str = "T", names: tuple[str, ...] = ()):
        self.alt_max_sigma = alt_max_sigma
        self.prefix = prefix
        self.names = names
        self._cols: dict[str, list[np.ndarray]] = {k: [] for k in _COLS}
        self._counts: list[np.ndarray] = []
        self._flat: list[np.ndarray] = []

    def add(
        self,
        time: np.ndarray,
        x: np.ndarray,
        P: np.ndarray,
        status: np.ndarray,
        cls: np.ndarray,
        cls_conf: np.ndarray,
        identity: np.ndarray,
        spoof: np.ndarray,
        serial: np.ndarray,
        ids: np.ndarray,
        sensors: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Queue rows; ``sensors`` is (count per row, flat sensor indices) or None."""
        n = time.shape[0]
        if not n:
            return
        for k, v in zip(
            _COLS, (time, x, P, status, cls, cls_conf, identity, spoof, serial, ids), strict=True
        ):
            self._cols[k].append(np.asarray(v))
        if sensors is None:
            sensors = (np.zeros(n, np.int64), np.zeros(0, np.int32))
        self._counts.append(sensors[0])
        self._flat.append(sensors[1])

    def finish(self) -> TrackBatch:
        if not self._cols["time"]:
            z = np.zeros(0)
            i8 = np.zeros(0, np.int8)
            return TrackBatch(
                z, np.zeros(0, np.int64), z, z, z, np.zeros((0, 3)), z, z, i8, i8, z, i8,
                np.zeros(0, object), np.zeros(1, np.int64), np.zeros(0, np.int32),
                np.zeros(0, bool), self.prefix, self.names, z,
            )  # fmt: skip
        c = {k: np.concatenate(v) for k, v in self._cols.items()}
        lat, lon, alt, vel, sigma_h, sigma_v, sigma_vel = geodetic_rows(
            c["x"], c["P"][:, :3, :3], self.alt_max_sigma, c["P"][:, 3:, 3:]
        )
        batch = TrackBatch(
            time=c["time"],
            serial=c["serial"].astype(np.int64),
            lat=lat,
            lon=lon,
            alt=alt,
            vel=vel,
            sigma_h=sigma_h,
            sigma_v=sigma_v,
            status=c["status"],
            cls=c["cls"],
            cls_conf=c["cls_conf"],
            identity=c["identity"],
            ids=c["ids"],
            sensor_ptr=np.r_[0, np.cumsum(np.concatenate(self._counts))].astype(np.int64),
            sensor_flat=np.concatenate(self._flat).astype(np.int32),
            spoof=c["spoof"],
            prefix=self.prefix,
            sensor_names=self.names,
            sigma_vel=sigma_vel,
        )
        self._cols = {k: [] for k in _COLS}
        self._counts, self._flat = [], []
        return batch


def concat(batches: list[TrackBatch]) -> TrackBatch:
    """One batch from several (in order; they share prefix and sensor names)."""
    batches = [b for b in batches if len(b)]
    if not batches:
        return Emitter(0.0).finish()
    if len(batches) == 1:
        return batches[0]
    arr = {
        k: np.concatenate([getattr(b, k) for b in batches])
        for k in (
            "time", "serial", "lat", "lon", "alt", "vel", "sigma_h", "sigma_v", "status",
            "cls", "cls_conf", "identity", "ids", "sensor_flat", "spoof",
        )
    }  # fmt: skip
    counts = np.concatenate([np.diff(b.sensor_ptr) for b in batches])
    return TrackBatch(
        sensor_ptr=np.r_[0, np.cumsum(counts)].astype(np.int64),
        prefix=batches[0].prefix,
        sensor_names=batches[0].sensor_names,
        sigma_vel=np.concatenate([velocity_sigma(b) for b in batches]),
        **arr,
    )


def take_rows(batch: TrackBatch, idx: np.ndarray) -> TrackBatch:
    """Rows ``idx`` (integers, in the order given) of a batch, their sensor lists kept.

    Every per-row column is taken, whatever the batch holds (fields added to TrackBatch
    later come along: an optional column that is None stays None)."""
    n = len(batch)
    counts = np.diff(batch.sensor_ptr)[idx]
    starts = batch.sensor_ptr[:-1][idx]
    # flat positions of the kept rows' sensors: start of each row plus 0..count-1
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    flat = batch.sensor_flat[np.repeat(starts, counts) + offsets]
    cols: dict[str, object] = {}
    for f in fields(batch):
        value = getattr(batch, f.name)
        if f.name == "sensor_ptr":
            value = np.r_[0, np.cumsum(counts)].astype(np.int64)
        elif f.name == "sensor_flat":
            value = flat.astype(np.int32)
        elif isinstance(value, np.ndarray) and value.ndim and value.shape[0] == n:
            value = value[idx]
        cols[f.name] = value
    return TrackBatch(**cols)  # type: ignore[arg-type]


def newest_index(batch: TrackBatch) -> np.ndarray:
    """Row indices of the newest row of each track (by serial, then time), in serial order."""
    order = np.lexsort((batch.time, batch.serial))
    serial = batch.serial[order]
    return order[np.r_[serial[1:] != serial[:-1], True]]


def velocity_sigma(b: TrackBatch) -> np.ndarray:
    """The batch's ``sigma_vel`` column, NaN (not known) where the producer gave none."""
    return np.full(len(b), np.nan) if b.sigma_vel is None else b.sigma_vel


def sensor_csr(
    contrib: list[tuple[np.ndarray, np.ndarray]], slots: np.ndarray, capacity: int, n_sensors: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per slot of ``slots``, the distinct sensors of the (slot, sensor) chunks in
    ``contrib``, as (count per slot, flat sensor indices in slot order)."""
    if not slots.size or not contrib:
        return np.zeros(slots.size, np.int64), np.zeros(0, np.int32)
    s = np.concatenate([c[0] for c in contrib]).astype(np.int64)
    k = np.concatenate([c[1] for c in contrib]).astype(np.int64)
    return _distinct_sensors(s, k, slots.astype(np.int64, copy=False), capacity, n_sensors)


@njit(cache=True)
def _distinct_sensors(s, k, slots, capacity, n_sensors):
    """:func:`sensor_csr` of the pairs (s[q], k[q]), in one compiled pass."""
    # Rank of each slot in ``slots`` (-1 when not reported), then unique (rank, sensor).
    rank = np.full(capacity, -1, np.int64)
    for i in range(slots.size):
        rank[slots[i]] = i
    key = np.empty(s.size, np.int64)
    m = 0
    for q in range(s.size):
        r = rank[s[q]]
        if r >= 0:
            key[m] = r * n_sensors + k[q]
            m += 1
    key = np.sort(key[:m])
    counts = np.zeros(slots.size, np.int64)
    flat = np.empty(m, np.int32)
    u = 0
    for q in range(m):
        if q == 0 or key[q] != key[q - 1]:
            counts[key[q] // n_sensors] += 1
            flat[u] = key[q] % n_sensors
            u += 1
    return counts, flat[:u].copy()
