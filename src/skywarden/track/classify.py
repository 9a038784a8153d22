"""Classification (what a track is) and APP-6 identity (whose it is), vectorized.

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

Identity: the first rule of ``identity_rules.toml`` whose conditions all hold; each
condition is a boolean column over the tracks, so rules cost a few numpy operations.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..geo import ecef_to_geodetic, enu_rotation
from ..records import TARGET_CLASSES
from ..tomlfile import TomlError, read_toml
from .table import COOP_ICAO, COOP_OTHER, COOP_RID, STATUS_NAMES, TrackTable

IDENTITIES = ("pending", "unknown", "assumed_friend", "friend", "neutral", "suspect", "hostile")
CLASS_CODE = {c: i for i, c in enumerate(TARGET_CLASSES)}


def class_codes(hints: np.ndarray) -> np.ndarray:
    """Class codes (index into TARGET_CLASSES) of class hints; -1 for none or unknown."""
    names, inverse = np.unique(hints.astype(str), return_inverse=True)
    codes = np.array([CLASS_CODE.get(str(n), -1) for n in names], dtype=np.int8)
    return codes[inverse.reshape(-1)] if hints.size else np.zeros(0, np.int8)


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
_ENV_CODE = np.array([CLASS_CODE[c] for c in ENVELOPES])
_ENV_MU, _ENV_SD, _ENV_LO, _ENV_HI = np.array(
    [(mu, sd, lo, hi) for (mu, sd), (lo, hi) in ENVELOPES.values()]).T
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


def speed_limit(
    cls: np.ndarray, cls_conf: np.ndarray, hits: np.ndarray, min_conf: float, min_hits: int
) -> np.ndarray:
    """Fastest credible ground speed (m/s) per track: its class's limit when the class is
    settled (at least ``min_hits`` hits and confidence ``min_conf``), else inf."""
    settled = (hits >= min_hits) & (cls_conf >= min_conf) & (cls >= 0)
    limit = np.full(cls.shape[0], np.inf)
    limit[settled] = CLASS_SPEED_LIMIT[cls[settled]]
    return limit


def speed_and_altitude(
    x: np.ndarray, P: np.ndarray, alt_max_sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ground speed (m/s) and altitude (m; NaN where its sigma exceeds alt_max_sigma) of
    ECEF states."""
    lat, lon, alt = ecef_to_geodetic(x[:, :3])
    rot = enu_rotation(lat, lon)
    v = np.einsum("nij,nj->ni", rot, x[:, 3:])
    var_u = np.einsum("ni,nij,nj->n", rot[:, 2], P[:, :3, :3], rot[:, 2])
    alt = np.where(var_u <= alt_max_sigma**2, alt, np.nan)
    return np.hypot(v[:, 0], v[:, 1]), alt


def kinematic_membership(speed: np.ndarray, alt: np.ndarray) -> np.ndarray:
    """k_c (N, n_classes) from ground speed (m/s) and altitude (m, NaN unknown)."""
    out = np.zeros((speed.shape[0], len(TARGET_CLASSES)))
    # All envelopes at once, (N, n_envelopes): one array call per step, not one per class.
    k = np.exp(-0.5 * ((speed[:, None] - _ENV_MU) / _ENV_SD) ** 2)
    # Soft box: full inside, fading over 500 m outside.
    dist = np.maximum(np.maximum(_ENV_LO - alt[:, None], alt[:, None] - _ENV_HI), 0.0)
    box = np.where(np.isfinite(alt)[:, None],
                   np.exp(-0.5 * (np.nan_to_num(dist) / 500.0) ** 2), 0.5)
    out[:, _ENV_CODE] = k * box
    out[:, CLASS_CODE["unknown"]] = _BASELINE_UNKNOWN
    return out


def update_class(
    table: TrackTable,
    slots: np.ndarray,
    speed: np.ndarray,
    alt: np.ndarray,
    hint: np.ndarray,
) -> None:
    """Add this update's evidence to the class scores of ``slots`` and set cls, cls_conf.

    ``hint`` holds a class code per slot or -1.
    """
    if not slots.size:
        return
    w_kin = np.minimum(table.hits[slots] / 5.0, 1.0)[:, None]
    ev = w_kin * kinematic_membership(speed, alt)
    coop = table.coop[slots]
    icao = (coop & COOP_ICAO) > 0
    slow_low = (speed < 80.0) & (np.nan_to_num(alt, nan=1e9) < 2500.0)
    ev[icao & ~slow_low, CLASS_CODE["aircraft"]] += W_COOP
    ev[icao & slow_low, CLASS_CODE["helicopter"]] += W_COOP * 0.5
    ev[icao & slow_low, CLASS_CODE["aircraft"]] += W_COOP * 0.5
    ev[(coop & COOP_RID) > 0, CLASS_CODE["drone"]] += W_COOP
    score = MEMORY * table.cls_score[slots] + ev.astype(np.float32)
    table.cls_score[slots] = score
    t = table.t[slots]
    age = t - table.t_class[slots]  # NaN on a track's first update: it has no hints yet
    keep = np.exp(-np.maximum(np.nan_to_num(age), 0.0) / HINT_MEMORY_S).astype(np.float32)
    hints = table.cls_hint[slots] * keep[:, None]
    has = np.flatnonzero(hint >= 0)
    hints[has, hint[has]] += W_HINT
    table.cls_hint[slots] = hints
    table.t_class[slots] = t
    score = score + hints
    best = np.argmax(score, axis=1)
    total = score.sum(axis=1)
    table.cls[slots] = best
    table.cls_conf[slots] = np.where(total > 0, score[np.arange(slots.size), best] / total, 0.0)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    identity: int
    conditions: dict[str, Any]
    # The list conditions as lookup tables by code (status, class): one gather per window
    # instead of an np.isin. One spare False entry at the end, so code -1 matches nothing.
    status_ok: np.ndarray | None = None
    class_ok: np.ndarray | None = None


def _lookup(size: int, codes: list[int]) -> np.ndarray:
    table = np.zeros(size + 1, dtype=bool)
    table[codes] = True
    return table


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
}


class IdentityRules:
    """Rules from a TOML file (see identity_rules.toml for the form)."""

    def __init__(self, rules: list[Rule], allow: list[str]) -> None:
        self.rules = rules
        self.allow = [a.lower() for a in allow]
        self._cache: dict[str, bool] = {}
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
            for key in ("status", "class", "coop_kind"):
                if key in table and not isinstance(table[key], list):
                    raise ConfigError(f"{where} ({name}): {key} must be a list")
            for c in table.get("class", []):
                if c not in CLASS_CODE:
                    raise ConfigError(f"{where} ({name}): unknown class {c!r}")
            for key in ("min_class_confidence", "hold_class_confidence"):
                v = table.get(key, 0.0)
                if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                    raise ConfigError(f"{where} ({name}): {key} = {v!r} is not a number 0-1")
            if "hold_class_confidence" in table and not (
                    table["hold_class_confidence"] <= table.get("min_class_confidence", -1)):
                raise ConfigError(f"{where} ({name}): hold_class_confidence needs a "
                                  "min_class_confidence at least as high")
            status_ok = class_ok = None
            if "status" in table:
                status_ok = _lookup(len(STATUS_NAMES), [
                    STATUS_NAMES.index(x) for x in table["status"] if x in STATUS_NAMES])
            if "class" in table:
                class_ok = _lookup(len(TARGET_CLASSES), [CLASS_CODE[x] for x in table["class"]])
            rules.append(Rule(name, IDENTITIES.index(ident), table, status_ok, class_ok))
        return cls(rules, [str(a) for a in doc.get("allow", [])])

    def allow_listed(self, ids: list[str]) -> bool:
        return any(self._listed(i) for i in ids)

    def _tuple_listed(self, ids: tuple[str, ...]) -> bool:
        hit = self._tuple_cache.get(ids)
        if hit is None:
            hit = self.allow_listed(list(ids))
            if len(self._tuple_cache) > 100_000:
                self._tuple_cache.clear()
            self._tuple_cache[ids] = hit
        return hit

    def _listed(self, ident: str) -> bool:
        # Identities repeat at every update: match each one against the patterns once.
        hit = self._cache.get(ident)
        if hit is None:
            hit = any(fnmatch.fnmatchcase(ident.lower(), pat) for pat in self.allow)
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[ident] = hit
        return hit

    def apply(
        self, table: TrackTable, slots: np.ndarray, speed: np.ndarray, alt: np.ndarray
    ) -> None:
        """Set ``table.identity`` for ``slots`` by the first matching rule (else unknown)."""
        n = slots.size
        if not n:
            return
        status = table.status[slots]
        cls = table.cls[slots]
        coop = table.coop[slots]
        listed = np.zeros(n, dtype=bool)
        if self.allow:
            # A track's ids change rarely: they are matched against the allow list when
            # they change (TrackTable.allow_listed, reset by attach_id), not at every update.
            held = slots[coop > 0]
            fresh = held[table.allow_listed[held] < 0]
            if fresh.size:
                table.allow_listed[fresh] = [self._tuple_listed(ids)
                                             for ids in table.id_tuple[fresh]]
            listed = (coop > 0) & (table.allow_listed[slots] > 0)
        out = np.full(n, IDENTITIES.index("unknown"), dtype=np.int8)
        open_ = np.ones(n, dtype=bool)
        kind_bits = {"icao": COOP_ICAO, "rid": COOP_RID, "other": COOP_OTHER}
        for rule in self.rules:
            c = rule.conditions
            ok = open_.copy()
            if rule.status_ok is not None:
                ok &= rule.status_ok[status]
            if "spoof" in c:
                ok &= table.spoof[slots] == bool(c["spoof"])
            if "allow_listed" in c:
                ok &= listed == bool(c["allow_listed"])
            if "cooperative" in c:
                ok &= (coop > 0) == bool(c["cooperative"])
            if "coop_kind" in c:
                bits = sum(kind_bits.get(k, 0) for k in c["coop_kind"])
                ok &= (coop & bits) > 0
            if rule.class_ok is not None:
                ok &= rule.class_ok[cls]
            if "min_class_confidence" in c:
                conf = table.cls_conf[slots]
                enough = conf >= float(c["min_class_confidence"])
                if "hold_class_confidence" in c:
                    # Hysteresis: a track that has this identity (from its last update)
                    # keeps it down to the lower bar, so it does not flicker as the
                    # confidence wavers about the upper one.
                    enough |= ((table.identity[slots] == rule.identity)
                               & (conf >= float(c["hold_class_confidence"])))
                ok &= enough
            if "min_speed" in c:
                ok &= speed >= float(c["min_speed"])
            if "max_speed" in c:
                ok &= speed <= float(c["max_speed"])
            if "min_alt" in c:
                ok &= np.nan_to_num(alt, nan=-np.inf) >= float(c["min_alt"])
            if "max_alt" in c:
                ok &= np.nan_to_num(alt, nan=np.inf) <= float(c["max_alt"])
            if "max_hits" in c:
                ok &= table.hits[slots] <= int(c["max_hits"])
            out[ok] = rule.identity
            open_ &= ~ok
            if not open_.any():
                break
        table.identity[slots] = out
