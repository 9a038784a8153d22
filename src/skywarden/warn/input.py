"""What the warning stage reads: one assessment cycle as numpy columns.

The assessment stage tests every track against every nation and zone it may threaten and
hands over one row per (track, target) pair, all rows of a cycle at once, as columns of
equal length (docs/WARNING.md, "Input contract"):

================  =========  =============================================================
column            dtype      meaning
================  =========  =============================================================
track_id          str        track id (formats.md "Track", field ``track``)
time              float64    time of the track estimate, epoch seconds UTC
lat, lon          float64    WGS84 degrees
alt               float64    metres MSL, NaN when unknown
cls               str        best class (``class`` in the track format): aircraft, drone...
identity          str        APP-6 identity: pending, unknown, assumed_friend, friend,
                             neutral, suspect, hostile
cooperative       bool       the track carries a cooperative id (transponder, Remote ID)
target_kind       str        ``nation`` or ``zone``
target_id         str        ISO 3166-1 alpha-3 of the nation, or the zone id
target_owner      str        ISO alpha-3 of the nation warned: the nation itself, or the
                             nation that owns the zone
zone_type         str        '' for nations; prohibited, restricted, danger, border_buffer,
                             critical_site, airport for zones
inside            bool       the track is already inside the target
eta_s             float64    seconds from ``time`` until predicted entry; NaN when no entry
                             is predicted or the track is inside
probability       float64    probability of entry within the horizon, 0-1 (1 when inside)
distance_m        float64    distance to the target's boundary, metres (0 when inside)
vel_e, vel_n      float64    optional: velocity east / north, m/s (NaN when not given);
                             used to draw the affected area of public warnings
status            str        optional: the track's status, ``tentative``, ``confirmed``,
                             ``coasting``, or '' when not given. A coasting track (one
                             that missed its last looks: its row is a prediction, not an
                             observation) keeps its alerts but raises no new one
class_confidence  float64    optional: the tracker's confidence in ``cls``, 0-1
                             (``class_confidence`` in the track format); NaN when not given
================  =========  =============================================================

String columns are held as numpy unicode arrays (object arrays of str are converted), so
rule conditions are single ``np.isin`` calls over all rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..errors import RecordError
from ..records import TARGET_CLASSES

IDENTITIES: tuple[str, ...] = (
    "pending",
    "unknown",
    "assumed_friend",
    "friend",
    "neutral",
    "suspect",
    "hostile",
)
TARGET_KINDS: tuple[str, ...] = ("nation", "zone")
# Track statuses of the optional ``status`` column ('' = not given).
TRACK_STATUSES: tuple[str, ...] = ("", "tentative", "confirmed", "coasting")
# The zone vocabulary of airspace/kinds.py (stages do not import each other).
ZONE_TYPES: tuple[str, ...] = (
    "prohibited",
    "restricted",
    "danger",
    "border_buffer",
    "critical_site",
    "airport",
    "other",
)

_STR = ("track_id", "cls", "identity", "target_kind", "target_id", "target_owner", "zone_type")
_FLOAT = ("time", "lat", "lon", "alt", "eta_s", "probability", "distance_m", "vel_e", "vel_n",
          "class_confidence")
_BOOL = ("cooperative", "inside")
_OPTIONAL = ("vel_e", "vel_n", "class_confidence")
_OPTIONAL_STR = ("status",)


def _empty_float() -> np.ndarray:
    return np.zeros(0, dtype=np.float64)


def _empty_str() -> np.ndarray:
    return np.zeros(0, dtype=str)


@dataclass(slots=True)
class Assessment:
    """One assessment cycle: one row per (track, target), as equal-length columns.

    Construction converts the columns to their dtypes (see the module docstring);
    :meth:`check` verifies lengths and values and names the first bad column and row.
    """

    track_id: np.ndarray
    time: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    cls: np.ndarray
    identity: np.ndarray
    cooperative: np.ndarray
    target_kind: np.ndarray
    target_id: np.ndarray
    target_owner: np.ndarray
    zone_type: np.ndarray
    inside: np.ndarray
    eta_s: np.ndarray
    probability: np.ndarray
    distance_m: np.ndarray
    vel_e: np.ndarray = field(default_factory=_empty_float)
    vel_n: np.ndarray = field(default_factory=_empty_float)
    status: np.ndarray = field(default_factory=_empty_str)
    class_confidence: np.ndarray = field(default_factory=_empty_float)

    def __post_init__(self) -> None:
        n = len(np.asarray(self.track_id))
        # string columns already of a string dtype are kept as given, like the float
        # ones (a copy of each was a third of the assessor's serial tail at 30,000 tracks)
        for name in _STR:
            setattr(self, name, np.asarray(getattr(self, name)).astype(str, copy=False))
        for name in _OPTIONAL_STR:
            col = np.asarray(getattr(self, name)).astype(str, copy=False)
            if col.shape == (0,) and n:
                col = np.full(n, "", dtype=str)
            setattr(self, name, col)
        for name in _FLOAT:
            col = np.asarray(getattr(self, name), dtype=np.float64)
            if name in _OPTIONAL and col.shape == (0,) and n:
                col = np.full(n, np.nan)
            setattr(self, name, col)
        for name in _BOOL:
            setattr(self, name, np.asarray(getattr(self, name), dtype=bool))

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    def check(self) -> Assessment:
        """Raise :class:`RecordError` naming the column (and row) that breaks the contract."""
        n = len(self)
        for f in fields(self):
            col = getattr(self, f.name)
            if col.ndim != 1 or col.shape[0] != n:
                raise RecordError(f"assessment column {f.name}: shape {col.shape}, expected ({n},)")
        _in(self.cls, TARGET_CLASSES, "cls")
        _in(self.identity, IDENTITIES, "identity")
        _in(self.target_kind, TARGET_KINDS, "target_kind")
        _in(self.zone_type, ("", *ZONE_TYPES), "zone_type")
        _in(self.status, TRACK_STATUSES, "status")
        for name in ("time", "lat", "lon"):
            _finite(getattr(self, name), name)
        bad = np.flatnonzero(
            (self.probability < 0) | (self.probability > 1) | np.isnan(self.probability)
        )
        if bad.size:
            i = int(bad[0])
            raise RecordError(
                f"assessment column probability, row {i}: {self.probability[i]} is not in [0, 1]"
            )
        bad = np.flatnonzero((self.class_confidence < 0) | (self.class_confidence > 1))
        if bad.size:  # NaN (not given) compares False
            i = int(bad[0])
            raise RecordError(f"assessment column class_confidence, row {i}: "
                              f"{self.class_confidence[i]} is not in [0, 1]")
        nation_with_type = (self.target_kind == "nation") & (self.zone_type != "")
        if nation_with_type.any():
            i = int(np.flatnonzero(nation_with_type)[0])
            raise RecordError(
                f"assessment row {i}: a nation target has zone_type {self.zone_type[i]!r}"
            )
        return self

    @classmethod
    def empty(cls) -> Assessment:
        return cls.from_rows([])

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Assessment:
        """Columns from row mappings, for tests and small producers.

        Keys are the column names (``class`` is accepted for ``cls``). Defaults: alt,
        eta_s, vel_e, vel_n, class_confidence NaN; cooperative and inside False; zone_type
        '' and status ''; target_kind 'nation'; target_owner the target_id; probability 1
        when inside, else 0; distance_m 0; identity 'unknown'; cls 'unknown'.
        """
        rows = [dict(r) for r in rows]
        for r in rows:
            if "class" in r:
                r["cls"] = r.pop("class")
            r.setdefault("target_kind", "nation")
            r.setdefault("target_owner", r.get("target_id", ""))
            r.setdefault("zone_type", "")
            r.setdefault("inside", False)
            r.setdefault("probability", 1.0 if r["inside"] else 0.0)
            r.setdefault("cooperative", False)
            r.setdefault("identity", "unknown")
            r.setdefault("cls", "unknown")
            r.setdefault("distance_m", 0.0)
        cols: dict[str, Any] = {}
        for name in _STR:
            cols[name] = np.array([r[name] for r in rows], dtype=str)
        for name in _FLOAT:
            default = np.nan if name in ("alt", "eta_s", *_OPTIONAL) else None
            cols[name] = np.array(
                [r[name] if default is None else r.get(name, default) for r in rows],
                dtype=np.float64,
            )
        for name in _BOOL:
            cols[name] = np.array([r[name] for r in rows], dtype=bool)
        for name in _OPTIONAL_STR:
            cols[name] = np.array([r.get(name, "") for r in rows], dtype=str)
        return cls(**cols)

    def take(self, index: np.ndarray) -> Assessment:
        """The rows at ``index`` (integer or boolean array), as a new assessment."""
        return Assessment(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _in(col: np.ndarray, allowed: tuple[str, ...], name: str) -> None:
    bad = np.flatnonzero(~np.isin(col, allowed))
    if bad.size:
        i = int(bad[0])
        raise RecordError(
            f"assessment column {name}, row {i}: {str(col[i])!r} is not one of {', '.join(allowed)}"
        )


def _finite(col: np.ndarray, name: str) -> None:
    bad = np.flatnonzero(~np.isfinite(col))
    if bad.size:
        raise RecordError(f"assessment column {name}, row {int(bad[0])}: not a finite number")
