"""Turn a scenario's groups, traffic and generator into a flat list of targets.

Expansion is deterministic: it draws only from the generator it is given, in a fixed
order (explicit targets, groups, traffic, the ``[scale]`` generator, then automatic
cooperative ids in target order), so one seed gives one set of targets.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import geo
from ..errors import ScenarioError
from . import scale as scale_mod
from .model import Scenario, TargetGroup, TargetSpec, Traffic

# ICAO airline designators used for made-up callsigns of background traffic.
AIRLINES = ("DLH", "RYR", "WZZ", "LOT", "EZY", "AFR", "KLM", "SAS", "AUA", "SWR", "BAW", "THY")


def expand_targets(scenario: Scenario, rng: np.random.Generator) -> list[TargetSpec]:
    """All targets of a run: explicit ones, then groups, traffic and generated ones."""
    specs = list(scenario.targets)
    for g in scenario.groups:
        specs += _expand_group(g, rng, scenario)
    for tr in scenario.traffic:
        specs += _expand_traffic(tr, rng, scenario)
    if scenario.scale is not None:
        specs += scale_mod.generate_targets(scenario.scale, rng, scenario.classes)
    specs = _assign_ids(specs, rng)
    seen: set[str] = set()
    for s in specs:
        if s.id in seen:
            raise ScenarioError(
                f"{scenario.source}: target id {s.id!r} occurs twice after expansion"
            )
        seen.add(s.id)
    return specs


def _width(count: int) -> int:
    return max(3, len(str(count)))


def _expand_group(g: TargetGroup, rng: np.random.Generator, scenario: Scenario) -> list[TargetSpec]:
    tpl = g.template
    n, w = g.count, len(tpl.route)
    lat = np.array([p[0] for p in tpl.route])
    lon = np.array([p[1] for p in tpl.route])
    # Uniform in a disc: radius ~ sqrt(U) so that equal areas are equally likely.
    r = g.jitter_m * np.sqrt(rng.random((n, w)))
    az = rng.random((n, w)) * 360.0
    if not g.jitter_last:
        r[:, -1] = 0.0
    jlat, jlon, _ = geo.destination(
        np.broadcast_to(lat, (n, w)), np.broadcast_to(lon, (n, w)), az, r
    )
    base_speed = tpl.speed if tpl.speed is not None else scenario.classes[tpl.cls].speed
    speed = base_speed * (1.0 + g.speed_jitter * (2.0 * rng.random(n) - 1.0))
    width = _width(n)
    out = []
    for i in range(n):
        route = tuple(
            (round(float(jlat[i, j]), 7), round(float(jlon[i, j]), 7), tpl.route[j][2])
            for j in range(w)
        )
        out.append(
            dataclasses.replace(
                tpl,
                id=f"{g.prefix}-{i + 1:0{width}d}",
                route=route,
                start=tpl.start + i * g.interval,
                speed=float(speed[i]),
            )
        )
    return out


def _expand_traffic(tr: Traffic, rng: np.random.Generator, scenario: Scenario) -> list[TargetSpec]:
    n, e = tr.count, len(tr.endpoints)
    if n == 0:
        return []
    origin = rng.integers(0, e, n)
    dest = (origin + rng.integers(1, e, n)) % e  # never the origin
    cruise = rng.uniform(tr.cruise_alt[0], tr.cruise_alt[1], n)
    speed = rng.uniform(tr.speed[0], tr.speed[1], n)
    start = rng.uniform(tr.start[0], tr.start[1], n)
    flight_no = rng.integers(10, 9999, n)
    airline = rng.integers(0, len(AIRLINES), n)
    pts = np.array([(p[0], p[1], p[2] if p[2] is not None else 0.0) for p in tr.endpoints])
    o, d = pts[origin], pts[dest]
    length = geo.distance(o[:, 0], o[:, 1], d[:, 0], d[:, 1])
    course = geo.bearing(o[:, 0], o[:, 1], d[:, 0], d[:, 1])
    climb = scenario.classes[tr.cls].climb_rate
    # Top of climb and top of descent where the climb rate gets there, kept in order.
    toc = np.minimum((cruise - o[:, 2]) / climb * speed, 0.5 * length)
    tod = np.maximum(length - (cruise - d[:, 2]) / climb * speed, 0.5 * length)
    lat1, lon1, _ = geo.destination(o[:, 0], o[:, 1], course, np.maximum(toc, 1.0))
    lat2, lon2, _ = geo.destination(o[:, 0], o[:, 1], course, np.minimum(tod, length - 1.0))
    width = _width(n)
    coop = tr.coop_id
    out = []
    for i in range(n):
        route = (
            (float(o[i, 0]), float(o[i, 1]), float(o[i, 2])),
            (round(float(lat1[i]), 7), round(float(lon1[i]), 7), round(float(cruise[i]), 1)),
            (round(float(lat2[i]), 7), round(float(lon2[i]), 7), round(float(cruise[i]), 1)),
            (float(d[i, 0]), float(d[i, 1]), float(d[i, 2])),
        )
        out.append(
            TargetSpec(
                id=f"{tr.prefix}-{i + 1:0{width}d}",
                cls=tr.cls,
                route=route,
                start=round(float(start[i]), 3),
                speed=round(float(speed[i]), 2),
                coop_id=coop,
                callsign=f"{AIRLINES[airline[i]]}{flight_no[i]}" if coop == "auto-icao" else None,
            )
        )
    return out


def _assign_ids(specs: list[TargetSpec], rng: np.random.Generator) -> list[TargetSpec]:
    """Replace auto-icao / auto-rid by unique random ids, in target order."""
    taken = {s.coop_id for s in specs if s.coop_id and not s.coop_id.startswith("auto-")}
    want_icao = [i for i, s in enumerate(specs) if s.coop_id == "auto-icao"]
    want_rid = [i for i, s in enumerate(specs) if s.coop_id == "auto-rid"]
    if not want_icao and not want_rid:
        return specs
    specs = list(specs)
    icao = _unique(rng, len(want_icao), 0x010000, 0xFFFFFF, taken, "icao:{:06X}")
    # Remote ID serials (ANSI/CTA-2063): a 4-character manufacturer code, a length
    # character, then the serial; we make up manufacturer "1596" and 12 hex digits.
    rid = _unique(rng, len(want_rid), 0, 16**12 - 1, taken, "rid:1596C{:012X}")
    for i, ident in zip(want_icao, icao, strict=True):
        specs[i] = dataclasses.replace(specs[i], coop_id=ident)
    for i, ident in zip(want_rid, rid, strict=True):
        specs[i] = dataclasses.replace(specs[i], coop_id=ident)
    return specs


def _unique(rng: np.random.Generator, n: int, lo: int, hi: int, taken: set, fmt: str) -> list[str]:
    out: list[str] = []
    seen = set(taken)
    while len(out) < n:
        for v in rng.integers(lo, hi, 2 * (n - len(out)) + 8).tolist():
            ident = fmt.format(v)
            if ident not in seen:
                seen.add(ident)
                out.append(ident)
                if len(out) == n:
                    break
    return out
