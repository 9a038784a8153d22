"""TrackTable: every track of the tracker as rows of numpy columns.

A track is a row index (a "slot"); no Python object exists per track. Rows are reused
after deletion; the table doubles its capacity when full. Per track the columns hold
about 530 bytes (state 48, covariance 288, the rest times, counters, class scores), well
under the 2 KB budget; cooperative identities live in two small dicts because only
cooperative tracks have them and only output needs them.

Invariants: ``status[s] == FREE`` for unused rows; every other row has finite x, P
symmetric positive semi-definite, t its state time, t_hit <= t; ``id_map[i] == s`` iff
``i in ids[s]``.
"""

from __future__ import annotations

import numpy as np

from ..records import TARGET_CLASSES

FREE, TENTATIVE, CONFIRMED, COASTING = 0, 1, 2, 3
STATUS_NAMES = ("free", "tentative", "confirmed", "coasting")
N_CLASSES = len(TARGET_CLASSES)
# Bits of `coop`: which kinds of cooperative identity a track holds.
COOP_ICAO, COOP_RID, COOP_OTHER = 1, 2, 4


def coop_bit(identity: str) -> int:
    if identity.startswith("icao:"):
        return COOP_ICAO
    if identity.startswith("rid:"):
        return COOP_RID
    return COOP_OTHER


def coop_bits(ids: np.ndarray) -> np.ndarray:
    """:func:`coop_bit` of many ids at once (uint8; 0 for "", no id). A loop over the
    Python strings: numpy's string functions would first copy them all into a
    fixed-width array, which costs more than the loop."""
    return np.array([coop_bit(i) if i else 0 for i in ids.tolist()], dtype=np.uint8)


def slot_set(capacity: int, include: list[np.ndarray],
             exclude: list[np.ndarray] | tuple[()] = ()) -> np.ndarray:
    """The distinct slots (< ``capacity``) in any of ``include`` and in none of
    ``exclude``, sorted: what np.union1d and np.setdiff1d give, by a mask over the
    table's slots instead of a sort (a window makes a dozen such sets)."""
    mark = np.zeros(capacity, dtype=bool)
    for a in include:
        mark[a] = True
    for a in exclude:
        mark[a] = False
    return np.flatnonzero(mark)


class TrackTable:
    """Columns for all tracks; see the module docstring for the invariants."""

    _FLOAT = (
        "t",
        "t_hit",
        "t_born",
        "t_report",
        "t_radar",
        "t_coop",
        "t_lost",
        "llr_lost",
        "hit_gap",
        "look_lost",
        "q_scale",
        "q_cap",
        "nis_avg",
        "revisit",
        "cls_conf",
        "llr",
        "omega",
        "t_class",
        "speed_avg",
    )
    _INT = {
        "status": np.int8,
        "hits": np.int32,
        "hits_lost": np.int32,
        "radar_hits": np.int32,  # plots of radars among the hits (the spoof check's support)
        "serial": np.int64,
        "coop": np.uint8,
        "spoof_strikes": np.int16,
        "merge_count": np.int16,
        "cls": np.int8,
        "identity": np.int8,
        "spoof": np.bool_,
        # Whether the track's cooperative ids are on the identity rules' allow list: 1 yes,
        # 0 no, -1 not worked out since its ids last changed (IdentityRules.apply).
        "allow_listed": np.int8,
    }

    def __init__(self, capacity: int = 1024) -> None:
        capacity = max(int(capacity), 16)
        self.x = np.zeros((capacity, 6))
        self.P = np.zeros((capacity, 6, 6))
        self.cls_score = np.zeros((capacity, N_CLASSES), dtype=np.float32)
        # Evidence from sensors' class hints, forgotten with time (classify.update_class).
        self.cls_hint = np.zeros((capacity, N_CLASSES), dtype=np.float32)
        for name in self._FLOAT:
            setattr(self, name, np.zeros(capacity))
        for name, dtype in self._INT.items():
            setattr(self, name, np.zeros(capacity, dtype=dtype))
        self.ids: dict[int, list[str]] = {}
        self.id_map: dict[str, int] = {}
        # The ids of each slot as a tuple, for output by fancy indexing (no per-row loop).
        self.id_tuple = np.empty(capacity, dtype=object)
        self.id_tuple[:] = [()] * capacity
        self.next_serial = 1
        self._free: list[int] = list(range(capacity - 1, -1, -1))

    # Column declarations for type checkers (set in __init__).
    t: np.ndarray
    t_hit: np.ndarray
    t_born: np.ndarray
    t_report: np.ndarray
    t_radar: np.ndarray
    t_coop: np.ndarray
    # Lost-track bookkeeping (lifecycle.lost_score): NaN while the track is healthy; from
    # its first coast, the time of its last hit then, and its score and hits at that time.
    t_lost: np.ndarray
    llr_lost: np.ndarray
    hits_lost: np.ndarray
    # Mean time between the track's hits (exponential average; NaN before a second hit),
    # and at a loss, the time between the looks that the lost score counts.
    hit_gap: np.ndarray
    look_lost: np.ndarray
    t_class: np.ndarray  # the track's time at its last class update
    speed_avg: np.ndarray  # mean ground speed over its last updates (NaN before the first)
    q_scale: np.ndarray
    q_cap: np.ndarray  # bound on q_scale from the precision of the track's last plot
    nis_avg: np.ndarray
    revisit: np.ndarray
    cls_conf: np.ndarray
    llr: np.ndarray
    omega: np.ndarray
    status: np.ndarray
    hits: np.ndarray
    radar_hits: np.ndarray
    serial: np.ndarray
    coop: np.ndarray
    spoof_strikes: np.ndarray
    merge_count: np.ndarray
    cls: np.ndarray
    identity: np.ndarray
    spoof: np.ndarray
    allow_listed: np.ndarray

    @property
    def capacity(self) -> int:
        return int(self.status.shape[0])

    def __len__(self) -> int:
        return self.capacity - len(self._free)

    def active(self) -> np.ndarray:
        """Slots in use (any status but FREE), ascending."""
        return np.flatnonzero(self.status != FREE)

    def _grow(self, need: int) -> None:
        old = self.capacity
        new = max(old * 2, old + need)
        for name in ("x", "P", "cls_score", "cls_hint", *self._FLOAT, *self._INT):
            col = getattr(self, name)
            grown = np.zeros((new, *col.shape[1:]), dtype=col.dtype)
            grown[:old] = col
            setattr(self, name, grown)
        grown_ids = np.empty(new, dtype=object)
        grown_ids[:] = [()] * new
        grown_ids[:old] = self.id_tuple
        self.id_tuple = grown_ids
        self._free = list(range(new - 1, old - 1, -1)) + self._free

    def allocate(self, n: int) -> np.ndarray:
        """Take n free slots, give them fresh serials and TENTATIVE status; return them."""
        if n > len(self._free):
            self._grow(n - len(self._free))
        slots = np.array([self._free.pop() for _ in range(n)], dtype=np.int64)
        if n:
            self.serial[slots] = np.arange(self.next_serial, self.next_serial + n)
            self.next_serial += n
            self.status[slots] = TENTATIVE
            for name in (
                "hits",
                "radar_hits",
                "coop",
                "spoof_strikes",
                "merge_count",
                "spoof",
                "cls",
                "identity",
                "nis_avg",
                "cls_conf",
                "cls_score",
                "cls_hint",
                "llr",
                "omega",
            ):
                getattr(self, name)[slots] = 0
            self.q_scale[slots] = 1.0
            self.q_cap[slots] = np.inf
            self.t_radar[slots] = -np.inf
            self.t_coop[slots] = -np.inf
            self.t_report[slots] = -np.inf
            self.t_lost[slots] = np.nan
            self.hit_gap[slots] = np.nan
            self.t_class[slots] = np.nan
            self.speed_avg[slots] = np.nan
            self.allow_listed[slots] = -1
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Free slots (after a deletion was reported), dropping their identities."""
        for s in np.asarray(slots, dtype=np.int64).tolist():
            for ident in self.ids.pop(s, ()):
                if self.id_map.get(ident) == s:
                    del self.id_map[ident]
            self.id_tuple[s] = ()
            self.status[s] = FREE
            self._free.append(s)

    def attach_id(self, slot: int, ident: str) -> None:
        """Give a cooperative identity to a track (moving it from another track if held)."""
        prev = self.id_map.get(ident)
        if prev == slot:
            return
        if prev is not None:
            held = self.ids.get(prev, [])
            if ident in held:
                held.remove(ident)
                self.id_tuple[prev] = tuple(held)
                self.allow_listed[prev] = -1
        self.id_map[ident] = slot
        self.ids.setdefault(slot, []).append(ident)
        self.id_tuple[slot] = tuple(self.ids[slot])
        self.allow_listed[slot] = -1
        self.coop[slot] |= coop_bit(ident)

    def track_id(self, slot: int, prefix: str) -> str:
        return f"{prefix}{int(self.serial[slot])}"

    def nbytes_per_track(self) -> float:
        cols = ("x", "P", "cls_score", "cls_hint", *self._FLOAT, *self._INT)
        return sum(getattr(self, c).nbytes for c in cols) / self.capacity
