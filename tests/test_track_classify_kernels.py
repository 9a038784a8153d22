"""The compiled class and identity kernels against the formulas they implement."""

from __future__ import annotations

import fnmatch
import math

import numpy as np

from skywarden.geo import ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from skywarden.records import TARGET_CLASSES
from skywarden.track.classify import IDENTITIES, W_HINT, IdentityRules, speed_and_altitude
from skywarden.track.table import COOP_ICAO, COOP_OTHER, COOP_RID, STATUS_NAMES, TrackTable


def test_speed_and_altitude_is_the_geodetic_formula():
    rng = np.random.default_rng(2)
    n = 2000
    pos = geodetic_to_ecef(rng.uniform(-80, 80, n), rng.uniform(-180, 180, n),
                           rng.uniform(-100, 30000, n))
    x = np.concatenate([pos, rng.normal(0, 150, (n, 3))], axis=1)
    L = rng.normal(0, 1, (n, 6, 6)) * rng.uniform(1, 300, (n, 1, 1))
    P = L @ L.transpose(0, 2, 1)
    slots = rng.permutation(n)[: n // 2]

    speed, alt = speed_and_altitude(x, P, slots, 150.0)

    lat, lon, h = ecef_to_geodetic(x[slots, :3])
    rot = enu_rotation(lat, lon)
    v = np.einsum("nij,nj->ni", rot, x[slots, 3:])
    var_u = np.einsum("ni,nij,nj->n", rot[:, 2], P[slots, :3, :3], rot[:, 2])
    np.testing.assert_allclose(speed, np.hypot(v[:, 0], v[:, 1]), rtol=1e-12)
    known = var_u <= 150.0**2
    assert 0 < known.sum() < known.size
    np.testing.assert_array_equal(np.isnan(alt), ~known)
    np.testing.assert_allclose(alt[known], h[known], rtol=1e-12, atol=1e-9)


RULES = """
allow = ["icao:48D*", "rid:PL-STATE-*"]
[[rule]]
status = ["coasting", "no-such-status"]
min_speed = 100.0
max_alt = 3000
identity = "hostile"
[[rule]]
hint_class = ["bird", "balloon"]
min_hints = 2.5
min_hint_share = 0.7
hold_hint_share = 0.4
identity = "neutral"
[[rule]]
hint_class = ["drone"]
min_hint_share = 0.6
max_speed = 150
identity = "hostile"
[[rule]]
allow_listed = false
cooperative = true
coop_kind = ["other", "rid"]
max_speed = 50
identity = "neutral"
[[rule]]
class = ["aircraft", "balloon"]
min_alt = 5000
min_class_confidence = 0.6
hold_class_confidence = 0.3
identity = "assumed_friend"
[[rule]]
spoof = false
max_hits = 4
status = ["tentative", "confirmed"]
identity = "pending"
[[rule]]
coop_kind = []
identity = "friend"
[[rule]]
allow_listed = true
identity = "friend"
[[rule]]
cooperative = false
class = ["drone"]
min_class_confidence = 0.4
identity = "suspect"
"""
KIND_BITS = {"icao": COOP_ICAO, "rid": COOP_RID, "other": COOP_OTHER}


def _hinted(hint):
    """The class the hints favour (first largest; None without hints), its share, and
    the evidence in hints; "unknown" hints are no verdict."""
    known = [c for c in range(len(hint)) if TARGET_CLASSES[c] != "unknown"]
    total = 0.0
    for c in known:
        total += float(hint[c])
    if total <= 0.0:
        return None, 0.0, 0.0
    best = known[int(np.argmax(hint[known]))]
    return TARGET_CLASSES[best], float(hint[best]) / total, total / W_HINT


def _first_rule(rules, allow, track):
    """The rules read one track at a time, as identity_rules.toml describes them: the
    index of the first that holds (None: none does)."""
    low = -math.inf if math.isnan(track["alt"]) else track["alt"]
    high = math.inf if math.isnan(track["alt"]) else track["alt"]
    listed = any(fnmatch.fnmatchcase(i.lower(), p.lower()) for i in track["ids"] for p in allow)
    for k, rule in enumerate(rules):
        c = rule.conditions
        conf_ok = track["conf"] >= c.get("min_class_confidence", 0.0) or (
            "hold_class_confidence" in c and track["identity"] == rule.identity
            and track["conf"] >= c["hold_class_confidence"])
        hinted, share, hints = _hinted(track["hint"])
        hint_ok = (share >= c.get("min_hint_share", 0.0) and hints >= c.get("min_hints", 0.0)
                   ) or ("hold_hint_share" in c and track["identity"] == rule.identity
                         and hinted is not None and share >= c["hold_hint_share"])
        checks = (
            STATUS_NAMES[track["status"]] in c.get("status", STATUS_NAMES),
            c.get("spoof", track["spoof"]) == track["spoof"],
            c.get("allow_listed", listed) == listed,
            c.get("cooperative", track["coop"] > 0) == (track["coop"] > 0),
            "coop_kind" not in c
            or track["coop"] & sum(KIND_BITS[k] for k in c["coop_kind"]) != 0,
            TARGET_CLASSES[track["cls"]] in c.get("class", TARGET_CLASSES),
            conf_ok,
            "hint_class" not in c or hinted in c["hint_class"],
            hint_ok,
            track["speed"] >= c.get("min_speed", -math.inf),
            track["speed"] <= c.get("max_speed", math.inf),
            low >= c.get("min_alt", -math.inf),
            high <= c.get("max_alt", math.inf),
            track["hits"] <= c.get("max_hits", math.inf),
        )
        if all(checks):
            return k
    return None


def test_compiled_identity_rules_read_as_written(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    rules = IdentityRules.load(path)
    rng = np.random.default_rng(4)
    n = 3000
    tab = TrackTable(n)
    slots = tab.allocate(n)
    tab.status[slots] = rng.integers(1, 4, n)
    tab.cls[slots] = rng.integers(0, len(TARGET_CLASSES), n)
    tab.cls_conf[slots] = rng.random(n)
    tab.identity[slots] = rng.integers(0, len(IDENTITIES), n)
    tab.hits[slots] = rng.integers(0, 10, n)
    tab.spoof[slots] = rng.random(n) < 0.1
    ids = ["icao:48d1", "icao:4ca2", "rid:PL-STATE-7", "rid:x", "mlat:9"]
    for s in slots[rng.random(n) < 0.5]:
        for k in rng.choice(len(ids), rng.integers(1, 3), replace=False):
            tab.attach_id(int(s), f"{ids[k]}{s}")
    speed = rng.uniform(0, 300, n)
    alt = rng.uniform(-100, 12000, n)
    alt[rng.random(n) < 0.2] = np.nan
    # hint evidence: none, one class's, or a mix of two with shares about the bars
    hint = np.zeros((n, len(TARGET_CLASSES)), dtype=np.float32)
    pick = rng.integers(0, len(TARGET_CLASSES), (n, 2))
    given = rng.random(n) < 0.7
    hint[given, pick[given, 0]] += rng.uniform(0, 5 * W_HINT, given.sum()).astype(np.float32)
    mixed = given & (rng.random(n) < 0.6)
    hint[mixed, pick[mixed, 1]] += rng.uniform(0, 3 * W_HINT, mixed.sum()).astype(np.float32)
    tab.cls_hint[slots] = hint
    tracks = [dict(status=tab.status[s], cls=tab.cls[s], conf=tab.cls_conf[s],
                   identity=tab.identity[s], hits=tab.hits[s], spoof=bool(tab.spoof[s]),
                   coop=int(tab.coop[s]), ids=tab.id_tuple[s], speed=speed[i], alt=alt[i],
                   hint=tab.cls_hint[s])
              for i, s in enumerate(slots)]
    matched = [_first_rule(rules.rules, rules.allow, t) for t in tracks]
    unknown = IDENTITIES.index("unknown")
    expected = [unknown if k is None else rules.rules[k].identity for k in matched]
    # the hint rules took tracks, the first also by its hold bar alone
    held = [t for t, k in zip(tracks, matched, strict=True)
            if k == 1 and (_hinted(t["hint"])[1] < 0.7 or _hinted(t["hint"])[2] < 2.5)]
    assert matched.count(1) > 50 and matched.count(2) > 50 and len(held) > 10

    rules.apply(tab, slots, speed, alt)

    assert tab.identity[slots].tolist() == expected
    assert set(expected) == set(range(len(IDENTITIES)))  # every rule and the fallback used
