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
from numba import njit

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
    """:func:`coop_bit` of many ids at once (uint8; 0 for "", no id). Only the first five
    characters decide, so the ids become a fixed-width array of their heads ("U5") and
    numpy compares those: half the time of a call per Python string."""
    bits = np.zeros(ids.shape[0], dtype=np.uint8)
    given = np.flatnonzero(ids != "")
    head = ids[given].astype("U5")
    bits[given] = np.where(head == "icao:", COOP_ICAO,
                           np.where(np.char.startswith(head, "rid:"), COOP_RID, COOP_OTHER))
    return bits


def slot_set(capacity: int, include: list[np.ndarray],
             exclude: list[np.ndarray] | tuple[()] = ()) -> np.ndarray:
    """The distinct slots (< ``capacity``) in any of ``include`` and in none of
    ``exclude``, sorted: what np.union1d and np.setdiff1d give, by a mask over the
    table's slots instead of a sort, in one compiled call (a window makes a dozen such
    sets)."""
    return _marked(capacity, _joined(include), _joined(exclude))


def _joined(arrays: list[np.ndarray] | tuple[()]) -> np.ndarray:
    if not arrays:
        return np.zeros(0, np.int64)
    joined = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
    return joined.astype(np.int64, copy=False)


@njit(cache=True)
def _marked(capacity: int, include: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    mark = np.zeros(capacity, dtype=np.bool_)
    for s in include:
        mark[s] = True
    for s in exclude:
        mark[s] = False
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
        if not n:
            return np.zeros(0, dtype=np.int64)
        # The last n free slots, in the order list.pop() would give them.
        slots = np.array(self._free[-n:][::-1], dtype=np.int64)
        del self._free[-n:]
        _fresh_rows(
            slots, self.next_serial, self.serial, self.status, self.hits, self.radar_hits,
            self.coop, self.spoof_strikes, self.merge_count, self.spoof, self.cls,
            self.identity, self.allow_listed, self.nis_avg, self.cls_conf, self.cls_score,
            self.cls_hint, self.llr, self.omega, self.q_scale, self.q_cap, self.t_radar,
            self.t_coop, self.t_report, self.t_lost, self.hit_gap, self.t_class,
            self.speed_avg,
        )
        self.next_serial += n
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


@njit(cache=True)
def _fresh_rows(slots, first_serial, serial, status, hits, radar_hits, coop, spoof_strikes,
                merge_count, spoof, cls, identity, allow_listed, nis_avg, cls_conf, cls_score,
                cls_hint, llr, omega, q_scale, q_cap, t_radar, t_coop, t_report, t_lost,
                hit_gap, t_class, speed_avg):
    """The columns of newly allocated ``slots`` as a new track starts them (allocate):
    serials from ``first_serial`` on, TENTATIVE, counts and scores zero, no radar,
    cooperative or report time yet, the averages not yet begun (NaN)."""
    for q in range(slots.size):
        i = slots[q]
        serial[i] = first_serial + q
        status[i] = TENTATIVE
        hits[i] = radar_hits[i] = 0
        coop[i] = 0
        spoof_strikes[i] = merge_count[i] = 0
        spoof[i] = False
        cls[i] = identity[i] = 0
        allow_listed[i] = -1
        nis_avg[i] = cls_conf[i] = llr[i] = omega[i] = 0.0
        cls_score[i, :] = 0.0
        cls_hint[i, :] = 0.0
        q_scale[i] = 1.0
        q_cap[i] = np.inf
        t_radar[i] = t_coop[i] = t_report[i] = -np.inf
        t_lost[i] = hit_gap[i] = t_class[i] = speed_avg[i] = np.nan
