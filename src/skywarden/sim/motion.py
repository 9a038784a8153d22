"""Target motion: guidance along waypoint routes, integrated for all targets at once.

Every target is a row of numpy arrays (:class:`Fleet` holds what never changes, :class:`Motion`
the state); one :meth:`Motion.advance` moves all of them by one step ``dt`` with a fixed
number of array operations, so 30,000 targets cost a few milliseconds per step.

Guidance, per target and step (SI units; angles in degrees outside, radians inside):

- **Route**: fly toward waypoint ``leg``. The aim is the azimuth of the waypoint from the
  target in the target's local tangent plane (the normal-section azimuth). Re-aiming every
  step traces the geodesic: on a sphere this azimuth *is* the great-circle one, on the
  ellipsoid it differs by arc-seconds. A waypoint counts as reached within one turn radius
  ``v / omega`` (or one step's travel, if larger); then the next leg begins.
- **Coordinated turn**: heading moves toward the aim by at most ``turn_rate * dt`` per step,
  so a sustained turn is a circle of radius ``v / omega``. The step uses the mean of the
  old and new heading, which puts the step's end points exactly on that circle.
- **Climb/descent**: toward the altitude of the current waypoint (waypoints without one
  keep the previous altitude), at most ``climb_rate``.
- **Loiter / hold**: orbit the waypoint clockwise at ``radius`` (at least 1.2 turn radii,
  which a coordinated turn can fly): aim along the tangent, bent toward the circle by
  ``atan(2 (d - R) / R)``.
- **End**: ``vanish`` (gone after the last waypoint), ``land`` (keep heading, descend at the
  climb rate to the last waypoint's altitude or 0 m, report that touchdown once, then gone),
  ``hold`` (orbit the last waypoint until the scenario ends).

Positions advance on the WGS84 ellipsoid with the meridian and prime-vertical radii at
the step's mid-latitude; ``speed`` is ground speed, measured on the ellipsoid surface
(geodesic distance flown = speed x time), constant (no wind). Altitudes are metres MSL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import geo
from ..records import TARGET_CLASSES
from .model import ClassParams, TargetSpec

WAIT, ROUTE, LOITER, HOLD, LAND, DONE = range(6)
END_CODES = {"vanish": 0, "land": 1, "hold": 2}
_END_VANISH, _END_LAND, _END_HOLD = 0, 1, 2
CLASS_CODES = {c: i for i, c in enumerate(TARGET_CLASSES)}

# An orbit is at least this many turn radii, so a coordinated turn can fly it.
ORBIT_MIN_TURN_RADII = 1.2
# Default radius of an end "hold" orbit: turn radii, and at least this many metres.
HOLD_TURN_RADII = 2.0
HOLD_MIN_RADIUS = 500.0


@dataclass(slots=True)
class Fleet:
    """What never changes about the targets, one row per target (index = target order).

    Waypoint arrays are ``(n, w)``, padded past ``n_wp`` by repeating the last waypoint.
    ``wp_alt`` is the altitude to fly toward on each leg (the waypoint's own, else the one
    before it, else the start altitude).
    """

    ids: list[str]
    cls: np.ndarray  # int8 index into TARGET_CLASSES
    hostile: np.ndarray
    coop_ids: list[str | None]
    callsigns: list[str | None]
    start: np.ndarray  # s after scenario start
    speed: np.ndarray  # m/s
    turn_rate: np.ndarray  # deg/s
    climb_rate: np.ndarray  # m/s
    rcs: np.ndarray  # m^2
    alt0: np.ndarray  # m
    n_wp: np.ndarray
    wp_lat: np.ndarray
    wp_lon: np.ndarray
    wp_alt: np.ndarray
    wp_xyz: np.ndarray  # (n, w, 3) ECEF of the waypoints on the ellipsoid surface
    loiter_time: np.ndarray  # (n, w) s, 0 = no loiter at that waypoint
    loiter_radius: np.ndarray  # (n, w) m
    end: np.ndarray
    ground: np.ndarray  # m, where "land" stops

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def from_specs(cls, specs: Sequence[TargetSpec], classes: Mapping[str, ClassParams]) -> Fleet:
        n = len(specs)
        w = max((len(s.route) for s in specs), default=1)
        f = np.zeros
        wp_lat, wp_lon = f((n, w)), f((n, w))
        wp_alt = f((n, w))
        lt, lr = f((n, w)), f((n, w))
        speed, turn, climb, rcs, alt0, ground = f(n), f(n), f(n), f(n), f(n), f(n)
        for i, s in enumerate(specs):
            c = classes[s.cls]
            speed[i] = s.speed if s.speed is not None else c.speed
            turn[i] = s.turn_rate if s.turn_rate is not None else c.turn_rate
            climb[i] = s.climb_rate if s.climb_rate is not None else c.climb_rate
            rcs[i] = s.rcs if s.rcs is not None else c.rcs
            first_alt = s.route[0][2]
            alt0[i] = s.alt if s.alt is not None else (first_alt if first_alt is not None else 0.0)
            last_alt = s.route[-1][2]
            ground[i] = last_alt if last_alt is not None else 0.0
            current = alt0[i]
            for j in range(w):
                lat, lon, alt = s.route[min(j, len(s.route) - 1)]
                if j and alt is not None:
                    current = alt
                wp_lat[i, j], wp_lon[i, j], wp_alt[i, j] = lat, lon, current
            for lo in s.loiter:
                lt[i, lo.at] = lo.duration
                lr[i, lo.at] = lo.radius
        return cls(
            ids=[s.id for s in specs],
            cls=np.array([CLASS_CODES[s.cls] for s in specs], dtype=np.int8),
            hostile=np.array([s.hostile for s in specs], dtype=bool),
            coop_ids=[s.coop_id for s in specs],
            callsigns=[s.callsign for s in specs],
            start=np.array([s.start for s in specs], dtype=np.float64),
            speed=speed,
            turn_rate=turn,
            climb_rate=climb,
            rcs=rcs,
            alt0=alt0,
            n_wp=np.array([len(s.route) for s in specs], dtype=np.int64),
            wp_lat=wp_lat,
            wp_lon=wp_lon,
            wp_alt=wp_alt,
            wp_xyz=geo.geodetic_to_ecef(wp_lat, wp_lon, 0.0),
            loiter_time=lt,
            loiter_radius=lr,
            end=np.array([END_CODES[s.end] for s in specs], dtype=np.int8),
            ground=ground,
        )


def _surface_frame(lat_deg: np.ndarray, lon_deg: np.ndarray):
    """sin/cos of latitude and longitude, and the ECEF point on the surface below."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    nrad = geo.A / np.sqrt(1.0 - geo.E2 * sl * sl)
    xyz = np.stack([nrad * cl * co, nrad * cl * so, nrad * (1.0 - geo.E2) * sl], axis=-1)
    return sl, cl, so, co, xyz


def _horizontal(frame, point_xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """East and north (m) of surface points seen in each target's tangent plane."""
    sl, cl, so, co, xyz = frame
    d = point_xyz - xyz
    dx, dy, dz = d[..., 0], d[..., 1], d[..., 2]
    east = -so * dx + co * dy
    north = -sl * co * dx - sl * so * dy + cl * dz
    return east, north


class Motion:
    """The moving state of a :class:`Fleet`; :meth:`advance` integrates one step for all."""

    def __init__(self, fleet: Fleet) -> None:
        n = fleet.n
        self.fleet = fleet
        self.lat = np.zeros(n)
        self.lon = np.zeros(n)
        self.alt = np.zeros(n)
        self.heading = np.zeros(n)  # deg, clockwise from north
        self.ve = np.zeros(n)
        self.vn = np.zeros(n)
        self.vu = np.zeros(n)
        self.leg = np.zeros(n, dtype=np.int64)  # waypoint being flown to
        self.mode = np.full(n, WAIT, dtype=np.int8)
        self.until = np.zeros(n)  # end of the current loiter, s
        self.center = np.zeros(n, dtype=np.int64)  # waypoint orbited in LOITER/HOLD
        rows = np.arange(n)
        self._rows = rows
        turn_radius = fleet.speed / np.radians(np.maximum(fleet.turn_rate, 1e-6))
        self.turn_radius = turn_radius
        self._orbit_min = ORBIT_MIN_TURN_RADII * turn_radius
        self._hold_radius = np.maximum(HOLD_TURN_RADII * turn_radius, HOLD_MIN_RADIUS)

    @property
    def live(self) -> np.ndarray:
        return (self.mode >= ROUTE) & (self.mode <= LAND)

    def activate(self, t: float) -> None:
        """Put targets whose start time has come at their first waypoint."""
        f = self.fleet
        new = np.flatnonzero((self.mode == WAIT) & (f.start <= t + 1e-9))
        if new.size == 0:
            return
        self.lat[new] = f.wp_lat[new, 0]
        self.lon[new] = f.wp_lon[new, 0]
        self.alt[new] = f.alt0[new]
        nxt = np.minimum(1, f.n_wp[new] - 1)
        frame = _surface_frame(self.lat[new], self.lon[new])
        e, nn = _horizontal(frame, f.wp_xyz[new, nxt])
        self.heading[new] = np.degrees(np.arctan2(e, nn)) % 360.0
        h = np.radians(self.heading[new])
        self.ve[new] = f.speed[new] * np.sin(h)
        self.vn[new] = f.speed[new] * np.cos(h)
        self.vu[new] = 0.0
        self.leg[new] = 0
        self.mode[new] = ROUTE

    def _transitions(self, t: float, dt: float, frame) -> None:
        """Waypoint reached, loiter over, landed: change leg and mode before steering."""
        f, rows = self.fleet, self._rows
        # Landed last step: gone now (its touchdown was reported once).
        landed = (self.mode == LAND) & (self.alt <= f.ground + 1e-3)
        self.mode[landed] = DONE
        # Loiters that are over: on to the next leg.
        over = (self.mode == LOITER) & (t >= self.until - 1e-9)
        self.leg[over] += 1
        self.mode[over] = ROUTE
        route = self.mode == ROUTE
        e, n = _horizontal(frame, f.wp_xyz[rows, np.minimum(self.leg, f.n_wp - 1)])
        reach = np.maximum(self.turn_radius, f.speed * dt)
        reached = route & (self.leg < f.n_wp) & (np.hypot(e, n) <= reach)
        stay = reached & (f.loiter_time[rows, np.minimum(self.leg, f.n_wp - 1)] > 0)
        stay_rows = np.flatnonzero(stay)
        self.mode[stay_rows] = LOITER
        self.center[stay_rows] = self.leg[stay_rows]
        self.until[stay_rows] = t + f.loiter_time[stay_rows, self.leg[stay_rows]]
        self.leg[reached & ~stay] += 1
        # Past the last waypoint: the end behaviour.
        ended = (self.mode == ROUTE) & (self.leg >= f.n_wp)
        self.leg[ended] = f.n_wp[ended] - 1
        self.center[ended] = self.leg[ended]
        end = f.end
        self.mode[ended & (end == _END_VANISH)] = DONE
        self.mode[ended & (end == _END_LAND)] = LAND
        self.mode[ended & (end == _END_HOLD)] = HOLD

    def advance(self, t: float, dt: float) -> None:
        """Move every live target from time ``t`` to ``t + dt`` (seconds)."""
        f, rows = self.fleet, self._rows
        frame = _surface_frame(self.lat, self.lon)
        self._transitions(t, dt, frame)
        mode = self.mode
        moving = (mode >= ROUTE) & (mode <= LAND)
        if not moving.any():
            return
        # Aim: the next waypoint, or the orbit around the centre waypoint.
        e, n = _horizontal(frame, f.wp_xyz[rows, self.leg])
        aim = np.degrees(np.arctan2(e, n))
        orbiting = (mode == LOITER) | (mode == HOLD)
        if orbiting.any():
            ec, nc = _horizontal(frame, f.wp_xyz[rows, self.center])
            d = np.hypot(ec, nc)
            radius = np.where(mode == HOLD, self._hold_radius, f.loiter_radius[rows, self.center])
            radius = np.maximum(radius, self._orbit_min)
            bend = np.degrees(np.arctan(2.0 * (d - radius) / radius))
            orbit_aim = np.degrees(np.arctan2(ec, nc)) - 90.0 + bend
            aim = np.where(orbiting, orbit_aim, aim)
        aim = np.where(mode == LAND, self.heading, aim)
        max_turn = f.turn_rate * dt
        turn = np.clip(geo.wrap_degrees(aim - self.heading), -max_turn, max_turn)
        mid = np.radians(self.heading + 0.5 * turn)
        # Vertical: toward the leg's altitude (the ground when landing).
        target_alt = np.where(orbiting, f.wp_alt[rows, self.center], f.wp_alt[rows, self.leg])
        target_alt = np.where(mode == LAND, f.ground, target_alt)
        vu = np.clip((target_alt - self.alt) / dt, -f.climb_rate, f.climb_rate)
        ve = f.speed * np.sin(mid)
        vn = f.speed * np.cos(mid)
        lat = np.radians(self.lat)
        # Meridian (m_rad) and prime-vertical (n_rad) radii at the mid-latitude. Speed is
        # over the ellipsoid surface (ground speed), so altitude does not enter.
        s2 = np.sin(lat) ** 2
        m_rad = geo.A * (1 - geo.E2) / (1 - geo.E2 * s2) ** 1.5
        lat_mid = lat + 0.5 * vn * dt / m_rad
        s2 = np.sin(lat_mid) ** 2
        m_rad = geo.A * (1 - geo.E2) / (1 - geo.E2 * s2) ** 1.5
        n_rad = geo.A / np.sqrt(1 - geo.E2 * s2)
        dlat = vn * dt / m_rad
        dlon = ve * dt / (n_rad * np.maximum(np.cos(lat_mid), 1e-6))
        self.lat = np.where(moving, self.lat + np.degrees(dlat), self.lat)
        self.lon = np.where(moving, (self.lon + np.degrees(dlon) + 180.0) % 360.0 - 180.0, self.lon)
        self.alt = np.where(moving, self.alt + vu * dt, self.alt)
        self.heading = np.where(moving, (self.heading + turn) % 360.0, self.heading)
        self.ve = np.where(moving, ve, self.ve)
        self.vn = np.where(moving, vn, self.vn)
        self.vu = np.where(moving, vu, self.vu)


@dataclass(slots=True)
class Chunk:
    """The fleet at ``steps + 1`` consecutive step times ``t0 + k * dt`` (s after start).

    Rows ``0..steps-1`` are this chunk's output steps; row ``steps`` is the first row of the
    next chunk, kept so that any time in ``[t0, t0 + steps * dt)`` can be interpolated.
    Between two steps a target moves in a straight line (that is how :class:`Motion` moves
    it), so linear interpolation is exact. Arrays are ``(steps + 1, n)``; ``xyz`` is ECEF.
    """

    t0: float
    dt: float
    steps: int
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    ve: np.ndarray
    vn: np.ndarray
    vu: np.ndarray
    live: np.ndarray
    xyz: np.ndarray

    @property
    def t1(self) -> float:
        """End of the chunk's window (exclusive)."""
        return self.t0 + self.steps * self.dt

    def segment(self, t: np.ndarray, idx: np.ndarray):
        """For times ``t`` (s) of targets ``idx``: step index k, fraction f, and liveness.

        Times outside the window are extrapolated from the nearest segment (``f`` outside
        0..1), which callers use only as a first guess.
        """
        u = (t - self.t0) / self.dt
        k = np.clip(np.floor(u).astype(np.int64), 0, self.steps - 1)
        frac = u - k
        ok = self.live[k, idx] & self.live[k + 1, idx]
        return k, frac, ok

    def xyz_at(self, k, frac, idx) -> np.ndarray:
        a = self.xyz[k, idx]
        return a + frac[:, None] * (self.xyz[k + 1, idx] - a)

    def at(self, k, frac, idx, name: str) -> np.ndarray:
        arr = getattr(self, name)
        a = arr[k, idx]
        return a + frac * (arr[k + 1, idx] - a)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per target: south, north, west, east over the chunk's live rows (NaN if never live)."""
        lat = np.where(self.live, self.lat, np.nan)
        lon = np.where(self.live, self.lon, np.nan)
        never = ~self.live.any(axis=0)
        lat[:, never] = 0.0  # keep nanmin quiet; masked below
        lon[:, never] = 0.0
        s, n = np.nanmin(lat, axis=0), np.nanmax(lat, axis=0)
        w, e = np.nanmin(lon, axis=0), np.nanmax(lon, axis=0)
        for a in (s, n, w, e):
            a[never] = np.nan
        return s, n, w, e


def run_motion(fleet: Fleet, duration: float, dt: float, chunk_steps: int) -> Iterator[Chunk]:
    """Integrate the fleet from its earliest start (targets may start before 0, already en
    route) and yield chunks covering ``[0, duration)`` at step ``dt``."""
    motion = Motion(fleet)
    total = int(np.ceil(duration / dt - 1e-9))
    first = min(0, int(np.floor(float(fleet.start.min()) / dt))) if fleet.n else 0
    for k in range(first, 0):  # pre-roll: targets already flying at the scenario start
        motion.activate(k * dt)
        motion.advance(k * dt, dt)
    k = 0
    while k < total:
        steps = min(chunk_steps, total - k)
        rows = {
            name: np.empty((steps + 1, fleet.n)) for name in ("lat", "lon", "alt", "ve", "vn", "vu")
        }
        live = np.empty((steps + 1, fleet.n), dtype=bool)
        for s in range(steps + 1):
            t = (k + s) * dt
            motion.activate(t)
            for name, arr in rows.items():
                arr[s] = getattr(motion, name)
            live[s] = motion.live
            if s < steps:
                motion.advance(t, dt)
        xyz = geo.geodetic_to_ecef(rows["lat"], rows["lon"], rows["alt"])
        yield Chunk(t0=k * dt, dt=dt, steps=steps, live=live, xyz=xyz, **rows)
        k += steps
