"""Small synthetic scenes for tracker tests and benchmarks (not the scenario simulator).

Targets fly straight (or in a constant-rate turn) in the east-north-up plane of a centre
point; sensors see them as the real ones would: a rotating radar stamps each plot when
its beam passes (azimuth / 360 of a scan after the scan starts), with range, azimuth and
elevation noise, probability of detection and uniform clutter; ADS-B reports positions
(and velocity) with an icao id; acoustic sensors report bearings. Everything is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geo import enu_to_aer, enu_to_geodetic, geodetic_to_ecef, geodetic_to_enu
from ..records import Detection
from ..sensors import Sensor, SensorRegistry


@dataclass(frozen=True, slots=True)
class Mover:
    """A target in the ENU plane of (lat0, lon0): position at t0, velocity, turn rate."""

    name: str
    p0: tuple[float, float, float]  # east, north, up (m)
    v0: tuple[float, float, float]  # m/s
    t0: float = 0.0
    turn_rate: float = 0.0  # deg/s, positive = clockwise seen from above (a right turn)
    turn_from: float = 0.0  # time the turn starts
    icao: str | None = None

    def enu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities (N, 3) at times t."""
        t = np.asarray(t, dtype=np.float64)
        p0, v0 = np.array(self.p0), np.array(self.v0)
        dt = t - self.t0
        pos = p0 + dt[:, None] * v0
        vel = np.tile(v0, (t.size, 1))
        if self.turn_rate:
            w = -np.radians(self.turn_rate)  # clockwise = negative mathematical rotation
            tau = np.maximum(t - self.turn_from, 0.0)
            straight = np.minimum(dt, self.turn_from - self.t0)
            base = p0 + straight[:, None] * v0
            c, s = np.cos(w * tau), np.sin(w * tau)
            ve, vn = v0[0], v0[1]
            pe = base[:, 0] + (ve * s - vn * (1 - c)) / w
            pn = base[:, 1] + (vn * s + ve * (1 - c)) / w
            pos = np.stack([pe, pn, base[:, 2] + v0[2] * tau], axis=1)
            vel = np.stack([ve * c - vn * s, vn * c + ve * s, np.full(t.size, v0[2])], axis=1)
        return pos, vel


@dataclass
class Scene:
    lat0: float
    lon0: float
    movers: list[Mover]

    def truth(self, mover: Mover, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """True ECEF positions and ENU velocities at times t."""
        pos, vel = mover.enu(t)
        lat, lon, alt = enu_to_geodetic(pos, self.lat0, self.lon0, 0.0)
        return geodetic_to_ecef(lat, lon, alt), vel

    def geodetic(self, mover: Mover, t: np.ndarray):
        pos, vel = mover.enu(t)
        lat, lon, alt = enu_to_geodetic(pos, self.lat0, self.lon0, 0.0)
        return lat, lon, alt, vel


def registry(*sensors: dict) -> SensorRegistry:
    return SensorRegistry([Sensor(**s) for s in sensors])


def radar_plots(
    scene: Scene,
    sensor: Sensor,
    t_start: float,
    t_end: float,
    rng: np.random.Generator,
    *,
    pd: float = 1.0,
    clutter: float = 0.0,
    elevation: bool = True,
) -> list[Detection]:
    """Polar plots of a rotating radar over [t_start, t_end)."""
    T = sensor.scan_period or 10.0
    sr = sensor.sigma_range or 50.0
    sa = sensor.sigma_azimuth or 0.2
    se = sensor.sigma_elevation or 0.3
    max_r = sensor.max_range or 200000.0
    out: list[Detection] = []
    for ts in np.arange(t_start, t_end, T):
        for mv in scene.movers:
            if ts < mv.t0:
                continue
            az, _, _ = _aer(scene, sensor, mv, np.array([ts]))
            td = ts + float(az[0]) / 360.0 * T
            az, el, r = _aer(scene, sensor, mv, np.array([td]))
            if r[0] > max_r or rng.random() > pd:
                continue
            out.append(
                Detection(
                    time=float(td),
                    sensor=sensor.id,
                    kind="polar",
                    range=float(r[0] + rng.normal(0, sr)),
                    azimuth=float((az[0] + rng.normal(0, sa)) % 360.0),
                    elevation=float(el[0] + rng.normal(0, se)) if elevation else None,
                    sigma_range=sr,
                    sigma_azimuth=sa,
                    sigma_elevation=se if elevation else None,
                )
            )
        for _ in range(rng.poisson(clutter)):
            caz = rng.uniform(0, 360)
            out.append(
                Detection(
                    time=float(ts + caz / 360.0 * T),
                    sensor=sensor.id,
                    kind="polar",
                    range=float(rng.uniform(1000, max_r)),
                    azimuth=float(caz),
                    elevation=float(rng.uniform(0, 5)) if elevation else None,
                )
            )
    return out


def _aer(scene: Scene, sensor: Sensor, mv: Mover, t: np.ndarray):
    pos, _ = mv.enu(t)
    lat, lon, alt = enu_to_geodetic(pos, scene.lat0, scene.lon0, 0.0)
    enu = geodetic_to_enu(lat, lon, alt, sensor.lat, sensor.lon, sensor.alt or 0.0)
    return enu_to_aer(enu)


def adsb_reports(
    scene: Scene,
    sensor: Sensor,
    t_start: float,
    t_end: float,
    rng: np.random.Generator,
    *,
    period: float = 1.0,
    sigma: float = 20.0,
    offset: dict[str, tuple[float, float]] | None = None,
) -> list[Detection]:
    """ADS-B position + velocity reports of movers that have an icao id.

    ``offset`` moves the reported position of named movers by (east, north) metres (a
    spoofer).
    """
    out: list[Detection] = []
    offset = offset or {}
    for mv in scene.movers:
        if mv.icao is None:
            continue
        t = np.arange(max(t_start, mv.t0), t_end, period) + rng.uniform(0, period)
        pos, vel = mv.enu(t)
        pos = pos.copy()
        de, dn = offset.get(mv.name, (0.0, 0.0))
        pos[:, 0] += de + rng.normal(0, sigma, t.size)
        pos[:, 1] += dn + rng.normal(0, sigma, t.size)
        lat, lon, alt = enu_to_geodetic(pos, scene.lat0, scene.lon0, 0.0)
        for k in range(t.size):
            out.append(
                Detection(
                    time=float(t[k]),
                    sensor=sensor.id,
                    kind="position",
                    lat=float(lat[k]),
                    lon=float(lon[k]),
                    alt=float(alt[k]),
                    sigma_h=sigma,
                    sigma_v=30.0,
                    vel_e=float(vel[k, 0]),
                    vel_n=float(vel[k, 1]),
                    vel_u=float(vel[k, 2]),
                    id=mv.icao,
                )
            )
    return out


def bearings(
    scene: Scene,
    sensor: Sensor,
    t_start: float,
    t_end: float,
    rng: np.random.Generator,
    *,
    period: float = 2.0,
    sigma: float = 5.0,
) -> list[Detection]:
    """Acoustic bearings of movers within the sensor's max_range (ground distance)."""
    out: list[Detection] = []
    for mv in scene.movers:
        t = np.arange(max(t_start, mv.t0), t_end, period)
        if not t.size:
            continue
        az, _, r = _aer(scene, sensor, mv, t)
        for k in range(t.size):
            if r[k] <= (sensor.max_range or 5000.0):
                out.append(
                    Detection(
                        time=float(t[k]),
                        sensor=sensor.id,
                        kind="bearing",
                        azimuth=float((az[k] + rng.normal(0, sigma)) % 360.0),
                        sigma_azimuth=sigma,
                    )
                )
    return out


def label_rows(scene: Scene, rows: list, max_dist: float = 1000.0) -> list[str | None]:
    """For each output row (TrackUpdate), the mover nearest to it at its time (horizontal
    distance within ``max_dist``), or None: a crude truth label for tests."""
    out: list[str | None] = []
    if not rows:
        return out
    t = np.array([r.time for r in rows])
    p = geodetic_to_ecef([r.lat for r in rows], [r.lon for r in rows], 0.0)
    best = np.full(t.size, np.inf)
    name = np.full(t.size, None, dtype=object)
    for mv in scene.movers:
        lat, lon, _, _ = scene.geodetic(mv, t)
        d = np.linalg.norm(geodetic_to_ecef(lat, lon, 0.0) - p, axis=1)
        d = np.where(t >= mv.t0, d, np.inf)
        better = d < best
        best[better] = d[better]
        name[better] = mv.name
    name[best > max_dist] = None
    return list(name)
