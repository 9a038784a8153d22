"""The compiled class and identity kernels against the formulas they implement."""

from __future__ import annotations

import fnmatch
import math

import numpy as np

from skywarden.geo import ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from skywarden.records import TARGET_CLASSES
from skywarden.track.classify import IDENTITIES, IdentityRules, speed_and_altitude
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


def _first_rule(rules, allow, track):
    """The rules read one track at a time, as identity_rules.toml describes them."""
    low = -math.inf if math.isnan(track["alt"]) else track["alt"]
    high = math.inf if math.isnan(track["alt"]) else track["alt"]
    listed = any(fnmatch.fnmatchcase(i.lower(), p.lower()) for i in track["ids"] for p in allow)
    for rule in rules:
        c = rule.conditions
        conf_ok = track["conf"] >= c.get("min_class_confidence", 0.0) or (
            "hold_class_confidence" in c and track["identity"] == rule.identity
            and track["conf"] >= c["hold_class_confidence"])
        checks = (
            STATUS_NAMES[track["status"]] in c.get("status", STATUS_NAMES),
            c.get("spoof", track["spoof"]) == track["spoof"],
            c.get("allow_listed", listed) == listed,
            c.get("cooperative", track["coop"] > 0) == (track["coop"] > 0),
            "coop_kind" not in c
            or track["coop"] & sum(KIND_BITS[k] for k in c["coop_kind"]) != 0,
            TARGET_CLASSES[track["cls"]] in c.get("class", TARGET_CLASSES),
            conf_ok,
            track["speed"] >= c.get("min_speed", -math.inf),
            track["speed"] <= c.get("max_speed", math.inf),
            low >= c.get("min_alt", -math.inf),
            high <= c.get("max_alt", math.inf),
            track["hits"] <= c.get("max_hits", math.inf),
        )
        if all(checks):
            return rule.identity
    return IDENTITIES.index("unknown")


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
    tracks = [dict(status=tab.status[s], cls=tab.cls[s], conf=tab.cls_conf[s],
                   identity=tab.identity[s], hits=tab.hits[s], spoof=bool(tab.spoof[s]),
                   coop=int(tab.coop[s]), ids=tab.id_tuple[s], speed=speed[i], alt=alt[i])
              for i, s in enumerate(slots)]
    expected = [_first_rule(rules.rules, rules.allow, t) for t in tracks]

    rules.apply(tab, slots, speed, alt)

    assert tab.identity[slots].tolist() == expected
    assert set(expected) == set(range(len(IDENTITIES)))  # every rule and the fallback used
