"""Measurement models: what each detection kind measures of an ECEF state, and how well.

Every detection j has an origin o_j (ECEF) and the rotation M_j whose rows are the local
east, north and up axes there, so that

    d = M_j (p - o_j)                        (the target in the origin's ENU frame)

For a ``position`` report the origin is the reported point itself; for ``polar`` and
``bearing`` it is the sensor's site. The measurement functions h(x) are then

    position:  h = d                             z = 0        (metres, E N U)
    polar:     h = (|d|, atan2(e, n), atan2(u, sqrt(e^2 + n^2)))
               z = (range, azimuth, elevation)   (metres, radians, radians)

A 2-D radar measures no elevation, but its plot of a transponder-equipped aircraft may
carry the Mode C altitude (``alt``; CAT048 I090). The elevation at which the ray of that
range and azimuth reaches that altitude is then the plot's elevation, with the altitude's
uncertainty (``PRESSURE_ALT_SIGMA``) as its spread: the slant range becomes a ground range
at the right height, not at the assumed one.
    bearing:   h = atan2(e, n)                   z = azimuth

with Jacobian H = dh/dd . M . [I 0] (analytic; the full 3-D rotation of each site, so
sites hundreds of km apart are exact). All measurement vectors are padded to three
components: a missing one (no altitude, no elevation, the two unused slots of a bearing)
has a zero row in H, zero residual and unit variance, so it changes neither the gate
distance nor the update, and the detection's degrees of freedom count only the real ones.
Noise is diagonal in these coordinates: R = diag(var).

Velocity reports (ADS-B, Remote ID) are a second, linear measurement h_v = M v applied
right after the position update (sequential updating is exact for independent noises).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ..geo import EARTH_RADIUS, aer_to_enu, ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from ..records import DetectionBatch
from ..sensors import SENSOR_TYPES, SensorRegistry
from . import kernels
from .classify import class_codes
from .config import DEFAULT_SCAN_PERIOD, DEFAULT_SIGMA_H, DEFAULT_SIGMA_V, TrackerConfig
from .kernels import fma
from .table import coop_bits

POSITION, POLAR, BEARING = 0, 1, 2
# 1-sigma error (m) of a Mode C (pressure) altitude as a height: the barometric altitude
# departs from the true one with the day's temperature and pressure (a few hundred metres
# at cruise levels in cold air), beyond its 25 ft steps.
PRESSURE_ALT_SIGMA = 200.0
TYPE_CODE = {t: i for i, t in enumerate(SENSOR_TYPES)}
RADAR_TYPE = TYPE_CODE["radar"]
COOPERATIVE_TYPE_CODES = (TYPE_CODE["adsb"], TYPE_CODE["remote_id"])
IS_COOPERATIVE = np.isin(np.arange(len(SENSOR_TYPES)), COOPERATIVE_TYPE_CODES)
# Highest altitude (m) a 2-D radar plot may come from: bounds its ground-range ambiguity.
MAX_TARGET_ALT = 20000.0
# False reports per scan assumed when the registry gives none (NaN: no clutter model;
# cooperative reports carry an identity, citizen reports are not scored).
CLUTTER_DEFAULT = {"radar": 2.0, "acoustic": 1.0}
# Elevation span (rad) over which 3-D radar clutter spreads, for its density.
CLUTTER_ELEVATION_SPAN = np.radians(5.0)
# Log density used for cooperative reports: practically never false.
LN_NO_CLUTTER = -40.0
# Reasons a detection is rejected before tracking, by code.
REJECT_REASONS = (
    "",
    "sensor not in the registry",
    "missing or non-finite fields for its kind",
    "polar or bearing detection from a sensor without a site",
    "non-finite time",
    "range or uncertainty beyond what a sensor measures",
)
# Bounds of a plausible measurement (the format allows any positive range or sigma). No
# target below 100 km altitude is in line of sight further than about 1,300 km from a
# sensor on a mountain; a position uncertain by more than 1,000 km, or an angle by more
# than half a turn, says nothing. Beyond them a plot is a sensor's fault, and its numbers
# (a range of 1e300 m squared) would overflow into a track's state.
MAX_PLOT_RANGE = 2.0e6
MAX_SIGMA_M = 1.0e6
MAX_SIGMA_DEG = 180.0
# Finer than these no sensor measures (a centimetre, a third of an arcsecond); a smaller
# sigma, which the format allows, is raised to them: a variance that rounds to zero has no
# inverse, and the gate and the update divide by it.
MIN_SIGMA_M = 0.01
MIN_SIGMA_DEG = 1.0e-4


def _sigma(given: np.ndarray, registry: np.ndarray, floor: float) -> np.ndarray:
    """A detection's sigma, else its sensor's, raised to ``floor`` (MIN_SIGMA_M, _DEG)."""
    return np.maximum(_or(given, registry), floor)


def _or(*cols: np.ndarray) -> np.ndarray:
    """First non-NaN value of the columns, element-wise."""
    out = np.array(cols[0], dtype=np.float64, copy=True)
    for c in cols[1:]:
        out = np.where(np.isnan(out), c, out)
    return out


@dataclass(slots=True)
class SensorTable:
    """The registry as columns, indexed by registry order."""

    ids: tuple[str, ...]
    type_code: np.ndarray  # (S,) int8
    site: np.ndarray  # (S, 3) ECEF, NaN when unsited
    rot: np.ndarray  # (S, 3, 3)
    alt: np.ndarray  # (S,)
    max_range: np.ndarray  # (S,) NaN when not given
    scan_period: np.ndarray  # (S,)
    pd: np.ndarray  # (S,) probability of detection
    clutter: np.ndarray  # (S,) false reports per scan (NaN: the sensor has none)
    sigma_h: np.ndarray
    sigma_v: np.ndarray
    sigma_range: np.ndarray
    sigma_azimuth: np.ndarray
    sigma_elevation: np.ndarray

    @classmethod
    def from_registry(cls, registry: SensorRegistry, config: TrackerConfig) -> SensorTable:
        sensors = list(registry)

        def col(name: str) -> np.ndarray:
            return np.array(
                [np.nan if getattr(s, name) is None else getattr(s, name) for s in sensors],
                dtype=np.float64,
            ).reshape(len(sensors))

        lat, lon, alt = col("lat"), col("lon"), col("alt")
        alt = np.where(np.isnan(alt), 0.0, alt)
        sited = ~np.isnan(lat)
        site = np.full((len(sensors), 3), np.nan)
        rot = np.tile(np.eye(3), (len(sensors), 1, 1))
        if sited.any():
            site[sited] = geodetic_to_ecef(lat[sited], lon[sited], alt[sited])
            rot[sited] = enu_rotation(lat[sited], lon[sited])
        periods = {**DEFAULT_SCAN_PERIOD, **config.scan_period}
        scan = col("scan_period")
        scan = np.where(np.isnan(scan), [periods.get(s.type, 5.0) for s in sensors], scan)
        sigma_h = _or(col("sigma_h"), np.array([DEFAULT_SIGMA_H[s.type] for s in sensors]))
        sigma_v = _or(col("sigma_v"), np.array([DEFAULT_SIGMA_V[s.type] for s in sensors]))
        return cls(
            ids=registry.ids,
            type_code=np.array([TYPE_CODE[s.type] for s in sensors], dtype=np.int8),
            site=site,
            rot=rot,
            alt=alt,
            max_range=col("max_range"),
            pd=np.clip(_or(col("pd"), np.full(len(sensors), 0.9)), 0.05, 0.999),
            clutter=np.array(
                [
                    CLUTTER_DEFAULT.get(s.type, np.nan)
                    if s.clutter_per_scan is None
                    else s.clutter_per_scan
                    for s in sensors
                ],
                dtype=np.float64,
            ).reshape(len(sensors)),
            scan_period=scan,
            sigma_h=sigma_h.reshape(len(sensors)),
            sigma_v=sigma_v.reshape(len(sensors)),
            sigma_range=_or(col("sigma_range"), np.full(len(sensors), config.sigma_range)),
            # Bearing sensors (acoustic, direction finders) are far coarser than radars.
            sigma_azimuth=_or(
                col("sigma_azimuth"),
                np.array(
                    [
                        config.sigma_bearing if s.type == "acoustic" else config.sigma_azimuth
                        for s in sensors
                    ]
                ),
            ),
            sigma_elevation=_or(
                col("sigma_elevation"), np.full(len(sensors), config.sigma_elevation)
            ),
        )


@dataclass(slots=True)
class Measurements:
    """Detections prepared for the filter: one row per detection, all numpy."""

    time: np.ndarray  # (D,)
    sensor: np.ndarray  # (D,) registry index
    stype: np.ndarray  # (D,) sensor type code
    kind: np.ndarray  # (D,) POSITION / POLAR / BEARING
    origin: np.ndarray  # (D, 3) ECEF
    rot: np.ndarray  # (D, 3, 3) rows E, N, U at the origin
    z: np.ndarray  # (D, 3)
    var: np.ndarray  # (D, 3) measurement variances (1 where masked)
    mask: np.ndarray  # (D, 3) bool, real components
    vel: np.ndarray  # (D, 3) ENU velocity at the origin, NaN when absent
    vel_var: np.ndarray  # (D, 3)
    point: np.ndarray  # (D, 3) ECEF point estimate (bearing: the site)
    point_cov: np.ndarray  # (D, 3, 3) its ECEF covariance (bearing: NaN)
    reach: np.ndarray  # (D,) horizontal search radius at 1 sigma (m); bearing: coverage
    ids: np.ndarray  # (D,) object, "" when none
    class_hint: np.ndarray  # (D,) object, "" when none
    ln_clutter: np.ndarray  # (D,) log false-report density in measurement space; NaN: none
    ln_pd: np.ndarray  # (D,) log probability of detection of the sensor
    # The kind of the cooperative id as TrackTable.coop bits (0: none), and class_hint as a
    # class code (-1: none): worked out once per detection, not per candidate pair.
    coop_bits: np.ndarray  # (D,) uint8
    hint: np.ndarray  # (D,) int8
    dof: np.ndarray  # (D,) real components: mask.sum(axis=1)

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def take(self, idx: np.ndarray | slice) -> Measurements:
        """Rows ``idx`` (integers): copies, or views for a slice."""
        if isinstance(idx, slice):
            return Measurements(*(getattr(self, f)[idx] for f in self.__slots__))
        # np.take copies the rows of the (D, 3) and (D, 3, 3) columns several times faster
        # than fancy indexing does.
        return Measurements(*(np.take(getattr(self, f), idx, axis=0) for f in self.__slots__))


def prepare(
    batch: DetectionBatch, sensors: SensorTable, config: TrackerConfig
) -> tuple[Measurements, np.ndarray]:
    """Measurements of the usable detections of ``batch``, and a reject code per input row.

    Code 0 means used; others index :data:`REJECT_REASONS`. Missing sigmas fall back to
    the sensor's registry values, then to the per-type defaults of the config.
    """
    n = len(batch)
    reject = np.zeros(n, dtype=np.int8)
    # The batch may index a different sensor list than the registry: remap by name.
    if tuple(batch.sensor_ids) == sensors.ids:
        sidx = batch.sensor.astype(np.int64)
    else:
        lut = np.array([sensors.ids.index(s) if s in sensors.ids else -1 for s in batch.sensor_ids])
        sidx = lut[batch.sensor] if len(lut) else np.full(n, -1)
    bad_sensor = (sidx < 0) | (sidx >= len(sensors.ids))
    reject[bad_sensor] = 1
    sidx = np.where(bad_sensor, 0, sidx)
    kind = batch.kind.astype(np.int8)
    need = (
        np.where(
            kind == POSITION,
            np.isfinite(batch.lat) & np.isfinite(batch.lon),
            np.where(
                kind == POLAR,
                np.isfinite(batch.range) & np.isfinite(batch.azimuth) & (batch.range > 0),
                np.isfinite(batch.azimuth),
            ),
        )
        & (kind >= 0)
        & (kind <= 2)
    )
    reject[(reject == 0) & ~need] = 2
    reject[(reject == 0) & _implausible(batch, kind)] = 5
    sited = np.isfinite(sensors.site[sidx, 0])
    reject[(reject == 0) & (kind != POSITION) & ~sited] = 3
    reject[(reject == 0) & ~np.isfinite(batch.time)] = 4
    ok = reject == 0
    idx = np.flatnonzero(ok)
    m = _build(batch, idx, sidx[idx], kind[idx], sensors, config)
    return m, reject


def _implausible(b: DetectionBatch, kind: np.ndarray) -> np.ndarray:
    """Rows with a polar range beyond MAX_PLOT_RANGE, or a given uncertainty beyond
    MAX_SIGMA_M (metres) or MAX_SIGMA_DEG (angles). Missing values (NaN) never count."""
    with np.errstate(invalid="ignore"):
        bad = (kind == POLAR) & (b.range > MAX_PLOT_RANGE)
        for col in (b.sigma_h, b.sigma_v, b.sigma_range):
            bad |= col > MAX_SIGMA_M
        for col in (b.sigma_azimuth, b.sigma_elevation):
            bad |= col > MAX_SIGMA_DEG
    return bad


def _build(
    b: DetectionBatch,
    idx: np.ndarray,
    s: np.ndarray,
    kind: np.ndarray,
    st: SensorTable,
    cfg: TrackerConfig,
) -> Measurements:
    d = idx.shape[0]
    origin = st.site[s]  # fancy indexing: copies of the sensor table's rows
    rot = st.rot[s]
    z = np.zeros((d, 3))
    var = np.ones((d, 3))
    mask = np.zeros((d, 3), dtype=bool)
    point = np.zeros((d, 3))
    cov_enu = np.zeros((d, 3, 3))
    reach = np.zeros(d)

    # position: origin = the reported point; measured d = 0 in its own ENU frame.
    pos = np.flatnonzero(kind == POSITION)
    if pos.size:
        r = idx[pos]
        alt = b.alt[r]
        has_alt = np.isfinite(alt)
        lat, lon = b.lat[r], b.lon[r]
        origin[pos] = geodetic_to_ecef(lat, lon, np.where(has_alt, alt, cfg.assumed_alt))
        rot[pos] = enu_rotation(lat, lon)
        sh = _sigma(b.sigma_h[r], st.sigma_h[s[pos]], MIN_SIGMA_M)
        sv = _sigma(b.sigma_v[r], st.sigma_v[s[pos]], MIN_SIGMA_M)
        var[pos, 0] = var[pos, 1] = sh * sh
        var[pos, 2] = np.where(has_alt, sv * sv, 1.0)
        mask[pos, :2] = True
        mask[pos, 2] = has_alt
        point[pos] = origin[pos]
        sv_init = np.where(has_alt, sv, cfg.assumed_alt_sigma)
        cov_enu[pos] = _diag3(sh * sh, sh * sh, sv_init * sv_init)
        reach[pos] = sh

    # polar: range, azimuth, elevation from the site.
    pol = np.flatnonzero(kind == POLAR)
    if pol.size:
        r = idx[pol]
        rng = b.range[r]
        az = np.radians(b.azimuth[r])
        el_deg = b.elevation[r].copy()
        s_r = _sigma(b.sigma_range[r], st.sigma_range[s[pol]], MIN_SIGMA_M)
        s_az = np.radians(_sigma(b.sigma_azimuth[r], st.sigma_azimuth[s[pol]], MIN_SIGMA_DEG))
        s_el = np.radians(_sigma(b.sigma_elevation[r], st.sigma_elevation[s[pol]],
                                 MIN_SIGMA_DEG))
        # A 2-D plot with a Mode C altitude: the elevation that altitude implies.
        mode_c = np.flatnonzero(~np.isfinite(el_deg) & np.isfinite(b.alt[r]))
        if mode_c.size:
            el_c, ok_c = elevation_at_altitude(origin[pol[mode_c]], rot[pol[mode_c]],
                                               az[mode_c], rng[mode_c], b.alt[r[mode_c]])
            mode_c, el_c = mode_c[ok_c], el_c[ok_c]
            el_deg[mode_c] = np.degrees(el_c)
            s_el[mode_c] = PRESSURE_ALT_SIGMA / (rng[mode_c] * np.cos(el_c))
        has_el = np.isfinite(el_deg)
        # Without elevation, assume the target at the configured altitude; its spread
        # becomes an elevation spread for initiation (capped: the geometry is nonlinear).
        dh = cfg.assumed_alt - st.alt[s[pol]]
        el0 = np.arcsin(np.clip(dh / rng, -0.99, 0.99))
        el = np.where(has_el, np.radians(np.nan_to_num(el_deg)), el0)
        s_el_init = np.where(has_el, s_el, np.minimum(cfg.assumed_alt_sigma / rng, 0.5))
        z[pol] = np.stack([rng, az, np.where(has_el, el, 0.0)], axis=1)
        var[pol, 0] = s_r * s_r
        var[pol, 1] = s_az * s_az
        var[pol, 2] = np.where(has_el, s_el * s_el, 1.0)
        mask[pol, :2] = True
        mask[pol, 2] = has_el
        enu = aer_to_enu(np.degrees(az), np.degrees(el), rng)
        J = _aer_jacobian(az, el, rng)
        sig = _diag3(s_r * s_r, s_az * s_az, s_el_init * s_el_init)
        cov_enu[pol] = congruence(J, sig, False)
        point[pol] = origin[pol] + np.einsum("nji,nj->ni", rot[pol], enu)
        ground = rng * np.cos(el)
        ambiguity = np.where(
            has_el,
            rng * np.abs(np.sin(el)) * s_el,
            rng - np.sqrt(np.maximum(rng * rng - MAX_TARGET_ALT**2, 0.0)),
        )
        reach[pol] = np.hypot(s_r, ground * s_az) + ambiguity

    # bearing: azimuth only; it can reach anything the sensor covers.
    brg = np.flatnonzero(kind == BEARING)
    if brg.size:
        r = idx[brg]
        s_b = np.radians(_sigma(b.sigma_azimuth[r], st.sigma_azimuth[s[brg]], MIN_SIGMA_DEG))
        z[brg, 0] = np.radians(b.azimuth[r])
        var[brg, 0] = s_b * s_b
        mask[brg, 0] = True
        point[brg] = origin[brg]
        cov_enu[brg] = np.nan
        reach[brg] = _or(st.max_range[s[brg]], np.full(brg.size, 10000.0))

    point_cov = congruence(rot, cov_enu, True)
    # Clutter density in measurement space (per scan): uniform in range, azimuth and,
    # for 3-D radars, elevation; a bearing sensor's in azimuth.
    clutter = st.clutter[s]
    rmax = _or(st.max_range[s], np.full(d, 250000.0))
    volume = np.where(
        kind == POLAR,
        rmax * 2.0 * np.pi * np.where(mask[:, 2], CLUTTER_ELEVATION_SPAN, 1.0),
        2.0 * np.pi,
    )
    ln_clutter = np.where(kind == POSITION, np.nan, np.log(np.maximum(clutter, 1e-9) / volume))
    coop = IS_COOPERATIVE[st.type_code[s]]
    ln_clutter = np.where(coop, LN_NO_CLUTTER, ln_clutter)
    ln_clutter = np.where(np.isnan(clutter) & ~coop, np.nan, ln_clutter)
    vel = np.stack([b.vel_e[idx], b.vel_n[idx], b.vel_u[idx]], axis=1)
    vel_var = np.full((d, 3), cfg.sigma_velocity**2)
    return Measurements(
        time=b.time[idx].astype(np.float64),
        sensor=s.astype(np.int32),
        stype=st.type_code[s],
        kind=kind,
        origin=origin,
        rot=rot,
        z=z,
        var=var,
        mask=mask,
        vel=vel,
        vel_var=vel_var,
        point=point,
        point_cov=point_cov,
        reach=reach,
        ids=b.ids[idx],
        class_hint=b.class_hint[idx],
        ln_clutter=ln_clutter,
        ln_pd=np.log(st.pd[s]),
        coop_bits=coop_bits(b.ids[idx]),
        hint=class_codes(b.class_hint[idx]),
        dof=mask.sum(axis=1),
    )


def _diag3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    out = np.zeros((np.shape(a)[0], 3, 3))
    out[:, 0, 0], out[:, 1, 1], out[:, 2, 2] = a, b, c
    return out


@njit(cache=True)
def _matmul3(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out = a @ b (3 x 3) with numpy's rounding: its matmul of stacked small matrices
    goes through BLAS, which sums each entry as a chain of fused multiply-adds."""
    for i in range(3):
        for j in range(3):
            acc = a[i, 0] * b[0, j]
            acc = fma(a[i, 1], b[1, j], acc)
            out[i, j] = fma(a[i, 2], b[2, j], acc)


@njit(cache=True)
def congruence(a: np.ndarray, b: np.ndarray, transposed: bool) -> np.ndarray:
    """a @ b @ a^T per row of the (N, 3, 3) stacks, or a^T @ b @ a when ``transposed``
    (a covariance carried through a Jacobian or a rotation); the bits of numpy's
    ``a @ b @ np.swapaxes(a, 1, 2)`` (``np.swapaxes(a, 1, 2) @ b @ a``), in one pass."""
    n = a.shape[0]
    out = np.empty((n, 3, 3))
    at = np.empty((3, 3))
    t = np.empty((3, 3))
    for k in range(n):
        for i in range(3):
            for j in range(3):
                at[i, j] = a[k, j, i]
        if transposed:
            _matmul3(at, b[k], t)
            _matmul3(t, a[k], out[k])
        else:
            _matmul3(a[k], b[k], t)
            _matmul3(t, at, out[k])
    return out


def _aer_jacobian(az: np.ndarray, el: np.ndarray, rng: np.ndarray) -> np.ndarray:
    """d(e, n, u) / d(range, azimuth, elevation), angles in radians: (N, 3, 3)."""
    sa, ca, se, ce = np.sin(az), np.cos(az), np.sin(el), np.cos(el)
    J = np.empty((az.shape[0], 3, 3))
    J[:, 0] = np.stack([ce * sa, rng * ce * ca, -rng * se * sa], axis=1)
    J[:, 1] = np.stack([ce * ca, -rng * ce * sa, -rng * se * ca], axis=1)
    J[:, 2] = np.stack([se, np.zeros_like(az), rng * ce], axis=1)
    return J


def innovation(m: Measurements, j: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals z - h(x) (N, 3) and Jacobians H (N, 3, 6) for detections j at states x.

    Angles are wrapped to (-pi, pi]; masked components are zero in both.
    """
    return kernels.innovation(
        m.rot, m.origin, m.z, m.mask, m.kind, j, x, POSITION, POLAR, BEARING
    )


def velocity_innovation(
    m: Measurements, j: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Residual, Jacobian and variances of the velocity reports of detections j.

    h_v = M v; a missing vertical rate is a masked component.
    """
    rot = m.rot[j]
    v = m.vel[j]
    has = np.isfinite(v)
    hv = np.einsum("nij,nj->ni", rot, x[:, 3:])
    res = np.where(has, np.nan_to_num(v) - hv, 0.0)
    H = np.zeros((j.shape[0], 3, 6))
    H[:, :, 3:] = np.where(has[:, :, None], rot, 0.0)
    var = np.where(has, m.vel_var[j], 1.0)
    return res, H, var


def elevation_at_altitude(
    origin: np.ndarray, rot: np.ndarray, az: np.ndarray, rng: np.ndarray, alt: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Elevation (rad) at which the ray from each site (ECEF ``origin``, ENU rows ``rot``)
    at azimuth ``az`` (rad) reaches height ``alt`` (m) at slant range ``rng`` (m); and
    whether it can (a range shorter than the climb cannot).

    First on a sphere (the law of cosines in the triangle centre-site-target), then two
    Newton steps on the ellipsoid (d height / d elevation = range cos(elevation)), which
    leave well under a metre of height error out to 400 km.
    """
    site_h = ecef_to_geodetic(origin)[2]
    a, b = EARTH_RADIUS + site_h, EARTH_RADIUS + alt
    sin_el = (b * b - a * a - rng * rng) / (2.0 * a * rng)
    ok = np.abs(sin_el) < 0.99
    el = np.arcsin(np.clip(sin_el, -0.99, 0.99))
    for _ in range(2):
        enu = aer_to_enu(np.degrees(az), np.degrees(el), rng)
        h = ecef_to_geodetic(origin + np.einsum("nji,nj->ni", rot, enu))[2]
        el = np.clip(el + (alt - h) / (rng * np.cos(el)), -1.4, 1.4)
    return el, ok


def merge_broadcasts(m: Measurements) -> tuple[Measurements, int]:
    """One measurement per cooperative broadcast heard by several receivers.

    ADS-B and Remote ID receivers that hear the same message report the same id at the
    same time (to the millisecond). Its position error is the transmitter's, shared by
    every copy, so the copies are one measurement, not n independent ones: they are
    merged into their mean with the variance of one report (conservative when receivers
    add their own noise). Returns the measurements and how many copies were merged away.
    """
    rows = np.flatnonzero((m.coop_bits > 0) & (m.kind == POSITION))  # with an id
    if rows.size < 2:
        return m, 0
    # Group rows by (id, time to the millisecond); each group's first row leads it. Ids
    # are numbered in order of appearance (a dict, not a sort of the strings).
    codes: dict[str, int] = {}
    id_code = np.array([codes.setdefault(i, len(codes)) for i in m.ids[rows].tolist()])
    ms = np.round(m.time[rows] * 1000.0).astype(np.int64)
    key = id_code.astype(np.int64) * (ms.max() - ms.min() + 1) + (ms - ms.min())
    _, first_of, inverse = np.unique(key, return_index=True, return_inverse=True)
    group = first_of[inverse]
    dup = group != np.arange(rows.size)
    if not dup.any():
        return m, 0
    _average_copies(rows, rows[group], m.origin, m.point, m.vel)
    drop = np.zeros(len(m), dtype=bool)
    drop[rows[dup]] = True
    return m.take(np.flatnonzero(~drop)), int(dup.sum())


@njit(cache=True)
def _average_copies(rows: np.ndarray, lead: np.ndarray, origin: np.ndarray,
                    point: np.ndarray, vel: np.ndarray) -> None:
    """Give each leading row (``lead``: the first copy of row ``rows[q]``'s broadcast) the
    mean origin and point of its copies, and, when it has a horizontal velocity, the
    mean of theirs (a missing one counts as 0), in place. Sums in row order from zero, as
    np.add.at makes them."""
    n = origin.shape[0]
    count = np.zeros(n)
    o_sum, p_sum, v_sum = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 2))
    for q in range(rows.size):
        r, ld = rows[q], lead[q]
        count[ld] += 1.0
        for c in range(3):
            o_sum[ld, c] += origin[r, c]
            p_sum[ld, c] += point[r, c]
        for c in range(2):
            v = vel[r, c]
            v_sum[ld, c] += v if np.isfinite(v) else 0.0
    for ld in range(n):
        if count[ld] == 0.0:
            continue
        for c in range(3):
            origin[ld, c] = o_sum[ld, c] / count[ld]
            point[ld, c] = p_sum[ld, c] / count[ld]
        if np.isfinite(vel[ld, 0]):
            for c in range(2):
                vel[ld, c] = v_sum[ld, c] / count[ld]
