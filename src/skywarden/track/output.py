"""Track output: columnar rows gathered per window, turned into TrackUpdate records.

The tracker appends the rows of each window (which slots, at what time, with what state
and status) to an :class:`Emitter`; :meth:`Emitter.finish` converts all of them at once
(one geodetic conversion for the whole step) into a :class:`TrackBatch`, whose
:meth:`TrackBatch.updates` makes the shared-format records.

Output conventions (formats.md "Track"): lat/lon/alt WGS84 of the estimate; alt is null
when its 1-sigma exceeds ``alt_max_sigma`` (2-D sensors only); velocity east/north/up;
``sigma_h`` the per-axis horizontal 1-sigma, sqrt((var_e + var_n) / 2), the same meaning
as a detection's sigma_h.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..geo import ecef_to_geodetic, enu_rotation
from ..records import TARGET_CLASSES, TrackUpdate
from .classify import IDENTITIES
from .table import STATUS_NAMES

DELETED = 4
STATUS_OUT = (*STATUS_NAMES[:4], "deleted")


@dataclass(slots=True)
class TrackBatch:
    """Track rows as columns (one row per track per update)."""

    time: np.ndarray
    track: list[str]
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
    ids: list[list[str]]
    sensors: list[list[str]]
    spoof: np.ndarray

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def updates(self) -> list[TrackUpdate]:
        """The rows as TrackUpdate records, in row order."""
        out = []
        alt = self.alt.tolist()
        for i, (t, tid, la, lo, v, sh) in enumerate(
            zip(
                self.time.tolist(),
                self.track,
                self.lat.tolist(),
                self.lon.tolist(),
                self.vel.tolist(),
                self.sigma_h.tolist(),
                strict=True,
            )
        ):
            a = alt[i]
            out.append(
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
                    status=STATUS_OUT[self.status[i]],  # type: ignore[arg-type]
                    cls=TARGET_CLASSES[self.cls[i]],  # type: ignore[arg-type]
                    identity=IDENTITIES[self.identity[i]],  # type: ignore[arg-type]
                    ids=self.ids[i],
                    sensors=self.sensors[i],
                    class_confidence=round(float(self.cls_conf[i]), 3),
                    flags=["spoof_suspect"] if self.spoof[i] else [],
                )
            )
        return out


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

    @property
    def used(self) -> int:
        return self.associated + self.initiated


class Emitter:
    """Rows gathered over one step; see the module docstring."""

    def __init__(self, alt_max_sigma: float) -> None:
        self.alt_max_sigma = alt_max_sigma
        self._cols: dict[str, list[np.ndarray]] = {
            k: [] for k in ("time", "x", "P", "status", "cls", "cls_conf", "identity", "spoof")
        }
        self._track: list[str] = []
        self._ids: list[list[str]] = []
        self._sensors: list[list[str]] = []

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
        track: list[str],
        ids: list[list[str]],
        sensors: list[list[str]],
    ) -> None:
        if not time.shape[0]:
            return
        for k, v in (
            ("time", time),
            ("x", x),
            ("P", P),
            ("status", status),
            ("cls", cls),
            ("cls_conf", cls_conf),
            ("identity", identity),
            ("spoof", spoof),
        ):
            self._cols[k].append(np.asarray(v))
        self._track.extend(track)
        self._ids.extend(ids)
        self._sensors.extend(sensors)

    def finish(self) -> TrackBatch:
        if not self._track:
            z = np.zeros(0)
            return TrackBatch(
                z,
                [],
                z,
                z,
                z,
                np.zeros((0, 3)),
                z,
                z,
                np.zeros(0, np.int8),
                np.zeros(0, np.int8),
                z,
                np.zeros(0, np.int8),
                [],
                [],
                np.zeros(0, bool),
            )
        c = {k: np.concatenate(v) for k, v in self._cols.items()}
        x, P = c["x"], c["P"]
        lat, lon, alt = ecef_to_geodetic(x[:, :3])
        rot = enu_rotation(lat, lon)
        vel = np.einsum("nij,nj->ni", rot, x[:, 3:])
        cov = rot @ P[:, :3, :3] @ np.swapaxes(rot, 1, 2)
        sigma_h = np.sqrt(np.maximum(0.5 * (cov[:, 0, 0] + cov[:, 1, 1]), 0.0))
        sigma_v = np.sqrt(np.maximum(cov[:, 2, 2], 0.0))
        # Outside the record's valid ranges (a diverged track's last line): unknown / clipped.
        alt = np.where(
            (sigma_v <= self.alt_max_sigma) & (alt > -1000.0) & (alt < 1.0e6), alt, np.nan
        )
        vel = np.clip(vel, -9999.0, 9999.0)
        sigma_h = np.where(np.isfinite(sigma_h), sigma_h, 1.0e9)
        batch = TrackBatch(
            time=c["time"],
            track=self._track,
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
            ids=self._ids,
            sensors=self._sensors,
            spoof=c["spoof"],
        )
        self.__init__(self.alt_max_sigma)  # type: ignore[misc]
        return batch


def concat(batches: list[TrackBatch]) -> TrackBatch:
    """One batch from several (in order)."""
    batches = [b for b in batches if len(b)]
    if not batches:
        return Emitter(0.0).finish()
    if len(batches) == 1:
        return batches[0]
    arr = {
        k: np.concatenate([getattr(b, k) for b in batches])
        for k in (
            "time",
            "lat",
            "lon",
            "alt",
            "vel",
            "sigma_h",
            "sigma_v",
            "status",
            "cls",
            "cls_conf",
            "identity",
            "spoof",
        )
    }
    return TrackBatch(
        track=[t for b in batches for t in b.track],
        ids=[i for b in batches for i in b.ids],
        sensors=[s for b in batches for s in b.sensors],
        **arr,
    )


def sensor_lists(
    contrib: list[tuple[np.ndarray, np.ndarray]], slots: np.ndarray, names: tuple[str, ...]
) -> list[list[str]]:
    """Per slot, the sensors (by name) of the (slot, sensor index) chunks in ``contrib``."""
    if not slots.size or not contrib:
        return [[] for _ in range(slots.size)]
    s = np.concatenate([c[0] for c in contrib])
    k = np.concatenate([c[1] for c in contrib])
    pairs = np.unique(np.stack([s, k], axis=1), axis=0)
    found: dict[int, list[str]] = {}
    for a, b in pairs.tolist():
        found.setdefault(a, []).append(names[b])
    return [found.get(a, []) for a in slots.tolist()]
