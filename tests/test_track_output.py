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
