"""Classification (what a track is) and APP-6 identity (whose it is) of updated tracks.

Class: each track accumulates evidence per class c in TARGET_CLASSES, in two parts,

    s_c <- lambda s_c + w_kin k_c(speed, alt) + w_coop [coop says c]      per update
    h_c <- exp(-dt / HINT_MEMORY_S) h_c + w_hint [a sensor's hint is c]   dt: track time

with k_c a membership of the track's ground speed and altitude in the class's usual
envelope (drones 15-70 m/s below 4 km, airliners above 60 m/s mostly high, cruise
missiles fast and low, balloons slow and high...), the kinematic weight rising with the
number of hits as the velocity settles; a cooperative identity (ICAO transponder ->
aircraft or helicopter, Remote ID -> drone) weighs more. The best class is argmax of
s_c + h_c, with confidence (s_max + h_max) / sum(s + h).

The two parts forget differently on purpose. The kinematic reading repeats at every
update from the same velocity (one fact seen many times), so s forgets per update and
settles at about ten updates' worth. A sensor's class hint (a counter-drone radar's
micro-Doppler call on each plot, an acoustic classifier, a transponder's emitter
category, a citizen's "drone") is a new observation each time, so h adds them up and
forgets only with time: a classifier that is right nine times in ten makes a gull's
track a bird at 0.8-0.9 even when it sees the gull on one scan in three and another
radar's plots update the track in between (with hints in s, those updates diluted it to
0.4-0.6). A track that takes over another target's plots recovers within minutes.

Identity: the first rule of ``identity_rules.toml`` whose conditions all hold. The
rules are compiled at load into tables (per rule: the statuses and classes it takes, the
flags it wants, its bounds), so that one pass over the tracks tries them in order.

The per-track work of a window (speed and altitude, the evidence and scores, the rules)
runs in compiled (numba) loops, a few calls per window instead of a hundred small numpy
operations; they do the same floating-point operations in the same order as the numpy
formulas they replace (float32 scores stay float32 at every step), so results are
identical.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from ..errors import ConfigError
from ..geo import E2, EP2, A, B
from ..records import TARGET_CLASSES
from ..tomlfile import TomlError, read_toml
from .table import COOP_ICAO, COOP_OTHER, COOP_RID, N_CLASSES, STATUS_NAMES, TrackTable

IDENTITIES = ("pending", "unknown", "assumed_friend", "friend", "neutral", "suspect", "hostile")
CLASS_CODE = {c: i for i, c in enumerate(TARGET_CLASSES)}


def class_codes(hints: np.ndarray) -> np.ndarray:
    """Class codes (index into TARGET_CLASSES) of class hints; -1 for none or unknown.
    One dict look-up per given hint (most are ""), mapped in C: cheaper than sorting the
    strings to look up each once."""
    hints = hints.reshape(-1)
    codes = np.full(hints.shape[0], -1, dtype=np.int8)
    given = np.flatnonzero(hints != "")
    codes[given] = np.fromiter(map(CLASS_CODE.get, hints[given].tolist(), repeat(-1)),
                               np.int8, given.size)
    return codes


RULES_PATH = Path(__file__).with_name("identity_rules.toml")
MEMORY = 0.9
W_COOP = 3.0
W_HINT = 4.0
HINT_MEMORY_S = 60.0  # time constant (s) of the hint evidence h
# Membership envelopes: (speed centre, speed spread) m/s, (alt lo, alt hi) m; a Gaussian
# in speed times a soft box in altitude (unknown altitude: 0.5).
ENVELOPES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "aircraft": ((200.0, 80.0), (1500.0, 15000.0)),
    "helicopter": ((55.0, 25.0), (0.0, 2500.0)),
    "drone": ((45.0, 18.0), (0.0, 4000.0)),
    "missile": ((270.0, 60.0), (0.0, 1500.0)),
    "balloon": ((8.0, 8.0), (5000.0, 35000.0)),
    "bird": ((12.0, 6.0), (0.0, 1000.0)),
}
_BASELINE_UNKNOWN = 0.15
_UNKNOWN = CLASS_CODE["unknown"]
_ENV_CODE = np.array([CLASS_CODE[c] for c in ENVELOPES])
# (contiguous rows: the kernels take them as constants, and numba caches only those)
_ENV_MU, _ENV_SD, _ENV_LO, _ENV_HI = np.array(
    [(mu, sd, lo, hi) for (mu, sd), (lo, hi) in ENVELOPES.values()]).T.copy()
# The fastest ground speed (m/s) a track of a slow class is believed to fly: centre +
# SPEED_LIMIT_SPREADS spreads of its envelope, never less than SPEED_LIMIT_FLOOR (drone
# 117, helicopter 155, balloon and bird 100 m/s), the bound the assessment also puts on
# predictions (assess/predict.py). Aircraft, missiles and unknown tracks have none here.
SPEED_LIMIT_SPREADS = 4.0
SPEED_LIMIT_FLOOR = 100.0
SLOW_CLASSES = ("helicopter", "drone", "balloon", "bird")
CLASS_SPEED_LIMIT = np.array([
    max(ENVELOPES[c][0][0] + SPEED_LIMIT_SPREADS * ENVELOPES[c][0][1], SPEED_LIMIT_FLOOR)
    if c in SLOW_CLASSES else np.inf
    for c in TARGET_CLASSES
])


_TO_DEG = 180.0 / np.pi  # np.degrees and np.radians multiply by these (numpy's npy_math)
_TO_RAD = np.pi / 180.0


@njit(cache=True)
def _speed_altitude_rows(x: np.ndarray, P: np.ndarray, slots: np.ndarray,
                         max_var_u: float) -> tuple[np.ndarray, np.ndarray]:
    """speed_and_altitude, one row at a time: geo.ecef_to_geodetic and geo.enu_rotation
    written out for one point, their operations in numpy's order."""
    n = slots.shape[0]
    speed = np.empty(n)
    alt = np.empty(n)
    for i in range(n):
        s = slots[i]
        x_, y_, z_ = x[s, 0], x[s, 1], x[s, 2]
        # ecef_to_geodetic (Heikkinen), term for term.
        r = np.hypot(x_, y_)
        f_ = 54.0 * B * B * z_ * z_
        g = r * r + (1.0 - E2) * z_ * z_ - E2 * (A * A - B * B)
        c = E2 * E2 * f_ * r * r / (g * g * g)
        s_ = np.cbrt(1.0 + c + np.sqrt(c * c + 2.0 * c))
        w = s_ + 1.0 / s_ + 1.0
        p = f_ / (3.0 * (w * w) * g * g)
        q = np.sqrt(1.0 + 2.0 * E2 * E2 * p)
        r0 = -(p * E2 * r) / (1.0 + q) + np.sqrt(
            0.5 * A * A * (1.0 + 1.0 / q) - p * (1.0 - E2) * z_ * z_ / (q * (1.0 + q))
            - 0.5 * p * r * r
        )
        d = r - E2 * r0
        u = np.sqrt(d * d + z_ * z_)
        v = np.sqrt(d * d + (1.0 - E2) * z_ * z_)
        z0 = B * B * z_ / (A * v)
        h = u * (1.0 - B * B / (A * v))
        lat = np.arctan2(z_ + EP2 * z0, r) * _TO_DEG * _TO_RAD
        lon = np.arctan2(y_, x_) * _TO_DEG * _TO_RAD
        # The east, north and up rows of enu_rotation times the velocity, and the up
        # variance, summed in the order of the einsums they replace: a row times a vector
        # in SIMD lanes of two, (t0 + t2) + t1; the quadratic form term by term.
        sl, cl = np.sin(lat), np.cos(lat)
        so, co = np.sin(lon), np.cos(lon)
        vx, vy, vz = x[s, 3], x[s, 4], x[s, 5]
        ve = (-so * vx + 0.0 * vz) + co * vy
        vn = (-sl * co * vx + cl * vz) + -sl * so * vy
        up = (cl * co, cl * so, sl)
        var_u = 0.0
        for a in range(3):
            for b in range(3):
                var_u += up[a] * P[s, a, b] * up[b]
        speed[i] = np.hypot(ve, vn)
        alt[i] = h if var_u <= max_var_u else np.nan
    return speed, alt


def speed_and_altitude(
    x: np.ndarray, P: np.ndarray, slots: np.ndarray, alt_max_sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ground speed (m/s) and altitude (m; NaN where its sigma exceeds alt_max_sigma) of
    the ECEF states x[slots] (covariances P[slots])."""
    return _speed_altitude_rows(x, P, slots, alt_max_sigma**2)


_BIG = float(np.finfo(np.float64).max)


@njit(cache=True, inline="always")
def _nan_to_num(v: float, nan: float) -> float:
    """np.nan_to_num of one value: NaN -> ``nan``, +-inf -> the largest finite float."""
    if np.isnan(v):
        return nan
    if np.isinf(v):
        return _BIG if v > 0 else -_BIG
    return v


@njit(cache=True, inline="always")
def _membership_row(speed: float, alt: float, scale: float, out: np.ndarray) -> None:
    """``scale`` k_c(speed, alt) into out (n_classes,): kinematic_membership of one row.
    Every class is written (the envelopes and unknown), so out needs no clearing."""
    known = np.isfinite(alt)
    for e in range(_ENV_CODE.shape[0]):
        z = (speed - _ENV_MU[e]) / _ENV_SD[e]
        k = np.exp(-0.5 * (z * z))
        box = 0.5
        if known:
            # Soft box: full inside, fading over 500 m outside.
            dist = max(max(_ENV_LO[e] - alt, alt - _ENV_HI[e]), 0.0) / 500.0
            box = np.exp(-0.5 * (dist * dist))
        out[_ENV_CODE[e]] = scale * (k * box)
    out[_UNKNOWN] = scale * _BASELINE_UNKNOWN


@njit(cache=True)
def _membership_rows(speed: np.ndarray, alt: np.ndarray) -> np.ndarray:
    out = np.zeros((speed.shape[0], N_CLASSES))
    for i in range(speed.shape[0]):
        _membership_row(speed[i], alt[i], 1.0, out[i])
    return out


def kinematic_membership(speed: np.ndarray, alt: np.ndarray) -> np.ndarray:
    """k_c (N, n_classes) from ground speed (m/s) and altitude (m, NaN unknown)."""
    return _membership_rows(np.asarray(speed, dtype=np.float64), np.asarray(alt, dtype=np.float64))


_F32_MEMORY = np.float32(MEMORY)  # numpy multiplies the float32 scores by MEMORY as float32
_AIRCRAFT, _HELICOPTER, _DRONE = CLASS_CODE["aircraft"], CLASS_CODE["helicopter"], CLASS_CODE["drone"]


@njit(cache=True)
def _update_class_rows(slots, speed, alt, hint, hits, coop, t, t_class, cls_score, cls_hint,
                       cls, cls_conf):  # fmt: skip
    """update_class, one track at a time (``slots`` distinct)."""
    ev = np.zeros(N_CLASSES)
    score = np.zeros(N_CLASSES, dtype=np.float32)
    for i in range(slots.shape[0]):
        s = slots[i]
        _membership_row(speed[i], alt[i], min(hits[s] / 5.0, 1.0), ev)
        if coop[s] & COOP_ICAO:
            if speed[i] < 80.0 and _nan_to_num(alt[i], 1e9) < 2500.0:  # slow and low
                ev[_HELICOPTER] += W_COOP * 0.5
                ev[_AIRCRAFT] += W_COOP * 0.5
            else:
                ev[_AIRCRAFT] += W_COOP
        if coop[s] & COOP_RID:
            ev[_DRONE] += W_COOP
        age = t[s] - t_class[s]  # NaN on a track's first update: it has no hints yet
        keep = np.float32(np.exp(-max(_nan_to_num(age, 0.0), 0.0) / HINT_MEMORY_S))
        for c in range(N_CLASSES):
            kin = np.float32(_F32_MEMORY * cls_score[s, c]) + np.float32(ev[c])
            cls_score[s, c] = kin
            h = np.float32(cls_hint[s, c] * keep)
            if c == hint[i]:
                h = np.float32(h + np.float32(W_HINT))
            cls_hint[s, c] = h
            score[c] = np.float32(kin + h)
        t_class[s] = t[s]
        # np.argmax (the first maximum; a NaN counts as the maximum) and the float32 sum.
        best = 0
        total = np.float32(0.0)
        for c in range(N_CLASSES):
            total = np.float32(total + score[c])
            if not np.isnan(score[best]) and (np.isnan(score[c]) or score[c] > score[best]):
                best = c
        cls[s] = best
        cls_conf[s] = np.float32(score[best] / total) if total > 0 else 0.0


def update_class(
    table: TrackTable,
    slots: np.ndarray,
    speed: np.ndarray,
    alt: np.ndarray,
    hint: np.ndarray,
) -> None:
    """Add this update's evidence to the class scores of ``slots`` (distinct) and set
    cls, cls_conf.

    ``hint`` holds a class code per slot or -1.
    """
    _update_class_rows(slots, speed, alt, hint, table.hits, table.coop, table.t, table.t_class,
                       table.cls_score, table.cls_hint, table.cls, table.cls_conf)


@njit(cache=True)
def latest_hints(slots: np.ndarray, hint_slots: np.ndarray, hint_codes: np.ndarray,
                 capacity: int) -> np.ndarray:
    """Per slot of ``slots``, the last class code (not -1) given it in the pairs
    (hint_slots, hint_codes); -1 where none."""
    last = np.full(capacity, -1, dtype=np.int64)
    for k in range(hint_slots.shape[0]):
        if hint_codes[k] >= 0:
            last[hint_slots[k]] = hint_codes[k]
    out = np.empty(slots.shape[0], dtype=np.int64)
    for i in range(slots.shape[0]):
        out[i] = last[slots[i]]
    return out


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    identity: int
    conditions: dict[str, Any]


_CONDITIONS = {
    "status",
    "spoof",
    "allow_listed",
    "cooperative",
    "coop_kind",
    "class",
    "min_class_confidence",
    "hold_class_confidence",
    "min_speed",
    "max_speed",
    "min_alt",
    "max_alt",
    "max_hits",
    "hint_class",
    "min_hint_share",
    "hold_hint_share",
    "min_hints",
}
# Columns of _RuleTables.flags, and of its has and bound.
_SPOOF, _LISTED, _COOPERATIVE = range(3)
_FLAG_KEYS = ("spoof", "allow_listed", "cooperative")
(_MIN_CONF, _HOLD_CONF, _MIN_SPEED, _MAX_SPEED, _MIN_ALT, _MAX_ALT, _MAX_HITS,
 _MIN_HINT_SHARE, _HOLD_HINT_SHARE, _MIN_HINTS) = range(10)
_BOUND_KEYS = ("min_class_confidence", "hold_class_confidence", "min_speed", "max_speed",
               "min_alt", "max_alt", "max_hits", "min_hint_share", "hold_hint_share",
               "min_hints")
_KIND_BITS = {"icao": COOP_ICAO, "rid": COOP_RID, "other": COOP_OTHER}
_UNKNOWN_IDENTITY = IDENTITIES.index("unknown")


class _RuleTables(NamedTuple):
    """The rules as arrays by rule (in order), for the compiled matcher. A condition a
    rule lacks leaves everything open: every status and class taken, flag -1, bound not
    in has."""

    identity: np.ndarray  # (R,) int8
    # By status and class code, one spare entry at the end: a list condition matches
    # nothing at code -1; a rule without the condition takes it too.
    status_ok: np.ndarray  # (R, n_status + 1) bool
    class_ok: np.ndarray  # (R, n_classes + 1) bool
    # By the class the sensors' hints favour (code -1, the spare entry: no hints).
    hint_ok: np.ndarray  # (R, n_classes + 1) bool
    flags: np.ndarray  # (R, 3) int8: spoof, allow_listed, cooperative wanted (1 / 0); -1 any
    kind_bits: np.ndarray  # (R,) int64: coop bits of which the track holds one; -1 any
    has: np.ndarray  # (R, 10) bool: which of the _BOUND_KEYS the rule sets
    # Their values; max_hits too, as a float: exact against the int32 hits.
    bound: np.ndarray  # (R, 10) float64


def _lookup(size: int, codes: list[int] | None) -> np.ndarray:
    if codes is None:
        return np.ones(size + 1, dtype=bool)
    table = np.zeros(size + 1, dtype=bool)
    table[codes] = True
    return table


def _compile(rules: list[Rule]) -> _RuleTables:
    """The rules' conditions as _RuleTables; values converted as the conditions read
    them (bool, float, int)."""
    n = len(rules)
    flags = np.full((n, 3), -1, dtype=np.int8)
    kind_bits = np.full(n, -1, dtype=np.int64)
    has = np.zeros((n, len(_BOUND_KEYS)), dtype=bool)
    bound = np.zeros((n, len(_BOUND_KEYS)))
    status_ok, class_ok, hint_ok = [], [], []
    for r, rule in enumerate(rules):
        c = rule.conditions
        status_ok.append(_lookup(len(STATUS_NAMES), None if "status" not in c else [
            STATUS_NAMES.index(x) for x in c["status"] if x in STATUS_NAMES]))
        class_ok.append(_lookup(len(TARGET_CLASSES), None if "class" not in c else [
            CLASS_CODE[x] for x in c["class"]]))
        hint_ok.append(_lookup(len(TARGET_CLASSES), None if "hint_class" not in c else [
            CLASS_CODE[x] for x in c["hint_class"]]))
        for k, key in enumerate(_FLAG_KEYS):
            if key in c:
                flags[r, k] = bool(c[key])
        if "coop_kind" in c:
            kind_bits[r] = sum(_KIND_BITS.get(k, 0) for k in c["coop_kind"])
        for k, key in enumerate(_BOUND_KEYS):
            if key in c:
                has[r, k] = True
                bound[r, k] = int(c[key]) if k == _MAX_HITS else float(c[key])
    return _RuleTables(
        np.array([rule.identity for rule in rules], dtype=np.int8),
        np.array(status_ok).reshape(n, len(STATUS_NAMES) + 1),
        np.array(class_ok).reshape(n, len(TARGET_CLASSES) + 1),
        np.array(hint_ok).reshape(n, len(TARGET_CLASSES) + 1),
        flags, kind_bits, has, bound,
    )


@njit(cache=True, inline="always")
def _wants(flag: int, value: bool) -> bool:
    return flag < 0 or value == (flag == 1)


@njit(cache=True, inline="always")
def _hinted(hint_row: np.ndarray) -> tuple[int, float, float]:
    """The class the sensors' hints favour (the first largest evidence; -1 without any),
    its share of the hint evidence, and the evidence in hints (each counts 1 when given,
    fading with HINT_MEMORY_S). A hint of "unknown" is no verdict (a classifier that
    cannot tell, a clutter plot's): it counts for none of them."""
    best, total = -1, 0.0
    for c in range(hint_row.shape[0]):
        if c == _UNKNOWN:
            continue
        h = np.float64(hint_row[c])
        total += h
        if h > 0.0 and (best < 0 or h > hint_row[best]):
            best = c
    if best < 0:
        return -1, 0.0, 0.0
    return best, np.float64(hint_row[best]) / total, total / W_HINT


@njit(cache=True)
def _first_rules(rules, slots, speed, alt, status, cls, coop, spoof, allow_listed, use_allow,
                 cls_conf, identity, hits, cls_hint) -> None:  # fmt: skip
    """identity[slots]: each track's first matching rule's (else unknown).

    One function, the conditions written out in the loop: a helper taking the tables
    would count references to each of them per rule and track (ten times slower)."""
    rule_identity, status_ok, class_ok, hint_ok, flags, kind_bits, has, bound = rules
    out = np.full(slots.shape[0], _UNKNOWN_IDENTITY, dtype=np.int8)
    for i in range(slots.shape[0]):
        s = slots[i]
        st, c, bits, conf, v = status[s], cls[s], coop[s], cls_conf[s], speed[i]
        hc, share, hints = _hinted(cls_hint[s])
        listed = use_allow and bits > 0 and allow_listed[s] > 0
        # An unknown altitude fails min_alt and max_alt.
        low, high = _nan_to_num(alt[i], -np.inf), _nan_to_num(alt[i], np.inf)
        for r in range(rule_identity.shape[0]):
            if not (status_ok[r, st] and class_ok[r, c] and hint_ok[r, hc]
                    and _wants(flags[r, _SPOOF], spoof[s])
                    and _wants(flags[r, _LISTED], listed)
                    and _wants(flags[r, _COOPERATIVE], bits > 0)
                    and (kind_bits[r] < 0 or (bits & kind_bits[r]) != 0)):
                continue
            # Hysteresis: a track that has this rule's identity (from its last update)
            # keeps it down to the hold bars, so it does not flicker as the confidence or
            # the hints' share wavers about the upper one (the hints' count then counts
            # no more: the hints fade while no classifying sensor sees the target).
            held = identity[s] == rule_identity[r]
            if has[r, _MIN_CONF]:
                enough = conf >= bound[r, _MIN_CONF]
                if has[r, _HOLD_CONF]:
                    enough = enough or (held and conf >= bound[r, _HOLD_CONF])
                if not enough:
                    continue
            if has[r, _MIN_HINT_SHARE] or has[r, _MIN_HINTS]:
                enough = ((not has[r, _MIN_HINT_SHARE] or share >= bound[r, _MIN_HINT_SHARE])
                          and (not has[r, _MIN_HINTS] or hints >= bound[r, _MIN_HINTS]))
                if has[r, _HOLD_HINT_SHARE]:
                    enough = enough or (held and hc >= 0
                                        and share >= bound[r, _HOLD_HINT_SHARE])
                if not enough:
                    continue
            # (a NaN fails every bound, as in numpy's comparisons)
            if ((not has[r, _MIN_SPEED] or v >= bound[r, _MIN_SPEED])
                    and (not has[r, _MAX_SPEED] or v <= bound[r, _MAX_SPEED])
                    and (not has[r, _MIN_ALT] or low >= bound[r, _MIN_ALT])
                    and (not has[r, _MAX_ALT] or high <= bound[r, _MAX_ALT])
                    and (not has[r, _MAX_HITS] or hits[s] <= bound[r, _MAX_HITS])):
                out[i] = rule_identity[r]
                break
    # Written after all are decided: the hysteresis reads the identities of the last update.
    for i in range(slots.shape[0]):
        identity[slots[i]] = out[i]


@njit(cache=True)
def _unresolved(slots: np.ndarray, coop: np.ndarray, allow_listed: np.ndarray) -> np.ndarray:
    """The slots holding cooperative ids whose allow-list answer is not worked out."""
    keep = np.zeros(slots.shape[0], dtype=np.bool_)
    for i in range(slots.shape[0]):
        keep[i] = coop[slots[i]] > 0 and allow_listed[slots[i]] < 0
    return slots[keep]


class IdentityRules:
    """Rules from a TOML file (see identity_rules.toml for the form)."""

    def __init__(self, rules: list[Rule], allow: list[str]) -> None:
        self.rules = rules
        self.allow = [a.lower() for a in allow]
        # The patterns as one regular expression (fnmatch's translation of each, matched
        # against the lower-cased id): one match per id instead of one per pattern.
        self._allow_re = (re.compile("|".join(fnmatch.translate(a) for a in self.allow))
                          if self.allow else None)
        self._tables = _compile(rules)
        self._tuple_cache: dict[tuple[str, ...], bool] = {}
    @classmethod
    def load(cls, path: str | Path | None = None) -> IdentityRules:
        path = Path(path) if path is not None else RULES_PATH
        try:
            doc = read_toml(path)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read identity rules: {exc}") from exc
        except TomlError as exc:
            raise ConfigError(f"{path}: cannot read identity rules: {exc.reason}") from exc
        extra = set(doc) - {"allow", "rule"}
        if extra:
            raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(extra))}")
        rules = []
        for i, table in enumerate(doc.get("rule", [])):
            where = f"{path}: rule #{i + 1}"
            table = dict(table)
            name = str(table.pop("name", f"rule {i + 1}"))
            ident = table.pop("identity", None)
            if ident not in IDENTITIES:
                raise ConfigError(
                    f"{where} ({name}): identity {ident!r} is not one of {IDENTITIES}"
                )
            unknown = set(table) - _CONDITIONS
            if unknown:
                raise ConfigError(f"{where} ({name}): unknown condition(s) {sorted(unknown)}")
            for key in ("status", "class", "coop_kind", "hint_class"):
                if key in table and not isinstance(table[key], list):
                    raise ConfigError(f"{where} ({name}): {key} must be a list")
            for key in ("class", "hint_class"):
                for c in table.get(key, []):
                    if c not in CLASS_CODE:
                        raise ConfigError(f"{where} ({name}): {key}: unknown class {c!r}")
            for key in ("min_speed", "max_speed", "min_alt", "max_alt", "max_hits",
                        "min_hints"):
                v = table.get(key, 0)
                if isinstance(v, bool) or not isinstance(v, int | float) or v != v:
                    raise ConfigError(f"{where} ({name}): {key} = {v!r} is not a number")
            for key in ("min_class_confidence", "hold_class_confidence", "min_hint_share",
                        "hold_hint_share"):
                v = table.get(key, 0.0)
                if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                    raise ConfigError(f"{where} ({name}): {key} = {v!r} is not a number 0-1")
            for hold, least in (("hold_class_confidence", "min_class_confidence"),
                                ("hold_hint_share", "min_hint_share")):
                if hold in table and not table[hold] <= table.get(least, -1):
                    raise ConfigError(f"{where} ({name}): {hold} needs a {least} at least "
                                      "as high")
            rules.append(Rule(name, IDENTITIES.index(ident), table))
        return cls(rules, [str(a) for a in doc.get("allow", [])])

    def allow_listed(self, ids: list[str]) -> bool:
        rx = self._allow_re
        return rx is not None and any(rx.match(i.lower()) for i in ids)

    def _tuple_listed(self, ids: tuple[str, ...]) -> bool:
        hit = self._tuple_cache.get(ids)
        if hit is None:
            hit = self.allow_listed(list(ids))
            if len(self._tuple_cache) > 100_000:
                self._tuple_cache.clear()
            self._tuple_cache[ids] = hit
        return hit

    def apply(
        self, table: TrackTable, slots: np.ndarray, speed: np.ndarray, alt: np.ndarray
    ) -> None:
        """Set ``table.identity`` for ``slots`` (distinct) by the first matching rule (else
        unknown)."""
        if not slots.size:
            return
        if self.allow:
            # A track's ids change rarely: they are matched against the allow list when
            # they change (TrackTable.allow_listed, reset by attach_id), not at every update.
            fresh = _unresolved(slots, table.coop, table.allow_listed)
            if fresh.size:
                table.allow_listed[fresh] = [self._tuple_listed(ids)
                                             for ids in table.id_tuple[fresh]]
        _first_rules(self._tables, slots, speed, alt, table.status, table.cls, table.coop,
                     table.spoof, table.allow_listed, bool(self.allow), table.cls_conf,
                     table.identity, table.hits, table.cls_hint)
