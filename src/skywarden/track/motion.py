"""Process models: how a track's state moves between two times.

State (ECEF, metres and m/s), one row per track::

    x = [p_x, p_y, p_z, v_x, v_y, v_z]

ECEF is valid across a continent, so a track crossing 1,000 km never meets a flat-earth
error; the only approximation is that the straight line of constant ECEF velocity leaves
the curved surface by d^2 / (2 R) (17 m after 15 km of coasting), which the process noise
absorbs and every measurement corrects.

Nearly-constant velocity (NCV, continuous white-noise acceleration), for a step dt::

    F(dt) = | I  dt I |        Q(dt) = | dt^3/3 Qa   dt^2/2 Qa |
            | 0   I   |                | dt^2/2 Qa   dt     Qa |

with Qa the acceleration spectral density, horizontal q_h and vertical q_v in the local
east-north-up frame, rotated to ECEF: Qa = q_h I + (q_v - q_h) u u^T, u the local up.

Manoeuvres are handled by adaptive process noise: each track carries a scale s >= 1 of Qa
that rises when its normalised innovations stay above what the model predicts (see
``filter.adapt_process_noise``); a turning drone or airliner is thereby followed without
a separate coordinated-turn model.

Everything works on stacks of N tracks at once; the per-row loops over their small matrices
are compiled (kernels.py).
"""

from __future__ import annotations

import numpy as np

from ..geo import A, B, cross_rows, row_norm
from . import kernels


def local_up(pos: np.ndarray) -> np.ndarray:
    """Unit ellipsoid normal (local up) at ECEF points (N, 3).

    The normal of the ellipsoid through the point: exact on the surface, within 0.001 deg
    at airliner altitudes, and much cheaper than a geodetic conversion.
    """
    g = pos * np.array([1.0 / (A * A), 1.0 / (A * A), 1.0 / (B * B)])
    return g / row_norm(g, keepdims=True)


def ground_speed(pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
    """Horizontal speed (m/s) of ECEF velocities (N, 3) at ECEF points (N, 3): the
    velocity less its component along the local up."""
    up = local_up(pos)
    return row_norm(vel - np.einsum("ni,ni->n", vel, up)[:, None] * up)


def acceleration_density(pos: np.ndarray, q_h: float, q_v: float, scale: np.ndarray) -> np.ndarray:
    """Qa (N, 3, 3) in ECEF: q_h horizontally, q_v along local up, times the track's scale."""
    # Contiguous: callers pass x[:, :3], strided except for one row, and each memory
    # layout would be a separate compilation.
    return kernels.acceleration_density(
        np.ascontiguousarray(pos), q_h, q_v, np.asarray(scale, dtype=np.float64)
    )


def predict_ncv(
    x: np.ndarray, P: np.ndarray, dt: np.ndarray, qa: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Predict states (N, 6) and covariances (N, 6, 6) by dt (N,) seconds.

        x' = F x
        P' = F P F^T + Q

    Written with the 3x3 blocks P = [[A, B], [B^T, C]]:
    A' = A + dt (B + B^T) + dt^2 C + dt^3/3 Qa,  B' = B + dt C + dt^2/2 Qa,  C' = C + dt Qa.
    A negative dt retrodicts the mean; the noise term then uses |dt| (uncertainty grows
    in either direction of time), which is what the out-of-sequence update needs.
    """
    dt = np.asarray(dt, dtype=np.float64)
    return kernels.predict(x, P, dt, qa, np.zeros_like(dt))


def predict_turn(
    x: np.ndarray, P: np.ndarray, dt: np.ndarray, qa: np.ndarray, omega: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Predict with a known turn rate per track (omega = 0 is exactly NCV).

        x' = F x,   F = | I  S |,     P' = F P F^T + Q(|dt|)   (Q of the NCV model)
                        | 0  R |

    with R the rotation by theta = omega dt about the local up u and S its time integral
    (Rodrigues; K the cross-product matrix of u, K v = u x v):

        R = I + sin(theta) K + (1 - cos(theta)) K^2
        S = int_0^dt R(omega tau) dtau = dt I + (1 - cos theta)/omega K
                                         + (dt - sin(theta)/omega) K^2

    (series for small omega, where both fractions tend to 0).

    The turn rate is not a state: it is estimated from the track's own velocity history
    (``estimate_turn_rate``), so an orbiting aircraft is predicted on its circle instead
    of along the tangent.
    """
    dt = np.asarray(dt, dtype=np.float64)
    return kernels.predict(x, P, dt, qa, np.asarray(omega, dtype=np.float64))


def estimate_turn_rate(
    omega: np.ndarray,
    v_before: np.ndarray,
    v_after: np.ndarray,
    pos: np.ndarray,
    dt: np.ndarray,
    *,
    tau: float,
    min_speed: float,
    max_rate: float,
) -> np.ndarray:
    """Smoothed turn rate from the rotation of the horizontal velocity between updates.

        omega_k = atan2(u . (v0 x v1), v0 . v1) / dt       (horizontal parts of v)
        omega  <- omega + (1 - exp(-dt / tau)) (omega_k - omega)

    Slow tracks (below ``min_speed``) decay toward 0: their heading is noise.
    """
    up = local_up(pos)
    # (np.add.reduce is np.sum's own sum, without its wrapper: this runs every round)
    h0 = v_before - np.add.reduce(v_before * up, axis=1, keepdims=True) * up
    h1 = v_after - np.add.reduce(v_after * up, axis=1, keepdims=True) * up
    cross = np.add.reduce(up * cross_rows(h0, h1), axis=1)
    angle = np.arctan2(cross, np.add.reduce(h0 * h1, axis=1))
    ok = (dt > 1e-3) & (row_norm(h1) >= min_speed)
    inst = np.where(ok, angle / np.maximum(dt, 1e-3), 0.0)
    gain = 1.0 - np.exp(-np.maximum(dt, 0.0) / tau)
    return np.minimum(np.maximum(omega + gain * (inst - omega), -max_rate), max_rate)
