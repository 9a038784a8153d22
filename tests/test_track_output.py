"""Track output columns: the velocity uncertainty the assessment widens its fans with."""

from __future__ import annotations

import numpy as np

from skywarden.geo import enu_rotation, geodetic_to_ecef
from skywarden.picture import Picture, take_rows
from skywarden.track.output import Emitter, concat


def _rows(sig_e: float, sig_n: float, sig_u: float, lat: float = 52.0, lon: float = 21.0):
    """One track state at (lat, lon) with ENU velocity sigmas, as (x, P) in ECEF."""
    pos = np.asarray(geodetic_to_ecef(np.array([lat]), np.array([lon]), np.array([300.0])))
    pos = pos.reshape(1, 3)
    rot = enu_rotation(np.array([lat]), np.array([lon]))[0]  # ECEF -> ENU
    P = np.zeros((1, 6, 6))
    P[0, :3, :3] = np.eye(3) * 100.0**2
    P[0, 3:, 3:] = rot.T @ np.diag([sig_e**2, sig_n**2, sig_u**2]) @ rot
    x = np.concatenate([pos, (rot.T @ np.array([40.0, 0.0, 0.0]))[None]], axis=1)
    return x, P


def _batch(x, P, serial: int = 1):
    em = Emitter(alt_max_sigma=300.0)
    one = np.ones(1)
    em.add(one * 100.0, x, P, np.array([2], np.int8), np.array([3], np.int8), one,
           np.array([1], np.int8), np.zeros(1, bool), np.array([serial]),
           np.array([()], dtype=object))
    return em.finish()


def test_sigma_vel_is_the_per_axis_horizontal_velocity_sigma_of_the_covariance():
    # 30 m/s east, 40 m/s north: sqrt((900 + 1600) / 2) = 35.36 m/s; the vertical 100 m/s
    # does not turn the heading and is left out.
    b = _batch(*_rows(30.0, 40.0, 100.0))
    assert b.sigma_vel is not None
    assert abs(b.sigma_vel[0] - np.sqrt(1250.0)) < 1e-6
    assert abs(b.vel[0, 0] - 40.0) < 1e-6


def test_sigma_vel_survives_concat_and_the_picture_and_unknown_is_nan():
    a = _batch(*_rows(5.0, 5.0, 1.0), serial=1)
    b = _batch(*_rows(50.0, 50.0, 1.0), serial=2)
    old = _batch(*_rows(5.0, 5.0, 1.0), serial=3)
    old.sigma_vel = None  # a producer that does not know it
    both = concat([a, b, old])
    assert both.sigma_vel is not None
    np.testing.assert_allclose(both.sigma_vel[:2], [5.0, 50.0], atol=1e-6)
    assert np.isnan(both.sigma_vel[2])
    pic = Picture()
    pic.update(both)
    snap = pic.snapshot()
    by_serial = dict(zip(snap.serial.tolist(), snap.sigma_vel.tolist(), strict=True))
    assert abs(by_serial[2] - 50.0) < 1e-6 and np.isnan(by_serial[3])
    assert take_rows(snap, np.array([0])).sigma_vel.shape == (1,)


def _random_batch(n: int, seed: int, prefix: str = "T", extra_names: int = 0):
    """A TrackBatch whose rows try every form a record's fields take: unknown altitude,
    NaN and infinite numbers, signed zeros, every status, class and identity (defaults
    included), ids and sensor names that JSON must escape, rows of no sensor and of up
    to six, spoof flags. ``extra_names``: more sensors in the registry (with thousands,
    a row's list no longer packs into one integer: json_lines' other way)."""
    from skywarden.records import TARGET_CLASSES
    from skywarden.track.classify import IDENTITIES
    from skywarden.track.output import STATUS_OUT, TrackBatch

    rng = np.random.default_rng(seed)

    def floats(scale: float) -> np.ndarray:
        v = rng.normal(0.0, scale, n)
        odd = rng.random(n)
        v[odd < 0.05] = np.nan
        v[(odd >= 0.05) & (odd < 0.08)] = 0.0
        v[(odd >= 0.08) & (odd < 0.10)] = -0.0
        v[(odd >= 0.10) & (odd < 0.11)] = np.inf
        v[(odd >= 0.11) & (odd < 0.13)] = 1e-7 * rng.random(int(((odd >= 0.11) & (odd < 0.13)).sum()))
        return v

    names = ("radar-1", 'odd "name"', "mic\\7", "adsb-é", "r5", "r6") + tuple(
        f"s{k}" for k in range(extra_names))
    counts = rng.choice([0, 1, 2, 3, 4, 5, 6], n, p=[0.2, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05])
    flat = np.concatenate([np.zeros(0, np.int64)] + [
        rng.choice(len(names), c, replace=False) for c in counts]).astype(np.int32)
    pool = [(), (), ("icao:4CA2D1",), ("rid:1596F3", "icao:48D001"), ('x:"quoted"\n',)]
    ids = np.empty(n, dtype=object)
    ids[:] = [pool[k] for k in rng.integers(0, len(pool), n)]
    return TrackBatch(
        time=1.7e9 + rng.random(n) * 1e4, serial=rng.integers(1, 10**9, n),
        lat=floats(30.0), lon=floats(60.0), alt=floats(3000.0), vel=np.column_stack(
            [floats(100.0), floats(100.0), floats(5.0)]),
        sigma_h=np.abs(floats(100.0)), sigma_v=np.full(n, 30.0),
        status=rng.integers(0, len(STATUS_OUT), n).astype(np.int8),
        cls=rng.integers(0, len(TARGET_CLASSES), n).astype(np.int8),
        cls_conf=rng.random(n).astype(np.float32),
        identity=rng.integers(0, len(IDENTITIES), n).astype(np.int8), ids=ids,
        sensor_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        sensor_flat=flat, spoof=rng.random(n) < 0.1, prefix=prefix, sensor_names=names)


def test_json_lines_are_the_bytes_of_the_records_encoded_one_by_one():
    """json_lines builds a batch's JSON Lines column by column: every line must be the
    bytes msgspec writes for that row's TrackUpdate record (the track file a replay
    compares against an older run is the same to the byte)."""
    import msgspec

    encode = msgspec.json.Encoder().encode
    for seed, prefix, extra in ((1, "T", 0), (2, 'PL-"x"-', 0), (3, "", 0), (4, "T", 2000)):
        batch = _random_batch(3000, seed, prefix, extra)
        expected = b"".join(encode(u) + b"\n" for u in batch.updates())
        assert batch.json_lines() == expected
    assert _random_batch(0, 5).json_lines() == b""
