"""Batched extended Kalman filter: predict, gate and update many tracks in one call.

For the pairs (track i, detection j), each track is first predicted to its detection's
own time t_j (rotating radars stamp every plot as the beam passes, so nearly every
detection has its own time):

    predict   x- = F(dt) x,           P- = F P F^T + Q(dt),         dt = t_j - t_i

    innovate  r = z_j - h(x-),        S = H P- H^T + R,             H = dh/dx at x-

    gate      d^2 = r^T S^-1 r  <=  chi2_{dof}(P_G)

    update    K = P- H^T S^-1,        x+ = x- + K r,                P+ = P- - K S K^T

Out-of-sequence detections (t_j earlier than the track's time, after the reorder buffer
let them through late) are applied without moving the track back in time: the state is
retrodicted to t_j to form the innovation, and the gain uses the cross-covariance of the
current state with the retrodicted one, C = P F(dt)^T H^T (Bar-Shalom's one-step
"B1"-style approximation, neglecting the process noise correlation):

    K = C S^-1,   x+ = x + K r,   P+ = P - K S K^T                 (time stays t_i)

All arrays are stacked over pairs: x (N, 6), P (N, 6, 6), r (N, 3), H (N, 3, 6); the 3x3
innovation covariances are inverted in closed form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import chdtri

from . import kernels
from .motion import acceleration_density, predict_turn

Residual = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


@lru_cache(maxsize=32)
def chi2_table(probability: float) -> np.ndarray:
    """Chi-square quantiles for the gate probability by dof 0..7 (dof 0 is treated as 1);
    one array per probability, shared: not to be written."""
    table = chdtri(np.arange(1, 8, dtype=np.float64), 1.0 - probability)
    table = np.concatenate([table[:1], table])  # dof 0 is treated as 1
    table.flags.writeable = False
    return table


def mahalanobis2(S: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v^T S^-1 v for stacks of covariances S (n, k, k) and vectors v (n, k).

    A singular S (a covariance some degenerate input made flat: two tracks started on
    radar plots right on the radar's site have no cross-range spread) has no inverse,
    and numpy's solve then raises for the whole stack: the pseudo-inverse takes over,
    giving such a pair its distance within the directions S spans."""
    try:
        sol = np.linalg.solve(S, v[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        sol = (np.linalg.pinv(S, hermitian=True) @ v[:, :, None])[:, :, 0]
    return np.einsum("ni,ni->n", v, sol)


def chi2_gate(probability: float, dof: int | np.ndarray) -> np.ndarray:
    """Chi-square quantile for the gate probability at dof (1..7) degrees of freedom."""
    table = chi2_table(float(probability))
    if isinstance(dof, int | np.integer):  # most calls: one dof, no array to clip
        return table[min(max(int(dof), 0), 7)]
    return table[np.minimum(np.maximum(dof, 0), 7)]


def predict(
    x: np.ndarray,
    P: np.ndarray,
    dt: np.ndarray,
    q_h: float,
    q_v: float,
    scale: np.ndarray,
    omega: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predict stacked states by dt: nearly-constant velocity, or with each track's turn
    rate omega (rad/s) where given (motion.py)."""
    if not np.any(dt):
        # Same-time updates (a velocity report right after its position): nothing moves.
        return x.copy(), P.copy()
    qa = acceleration_density(x[:, :3], q_h, q_v, scale)
    # One kernel for both: the turn model with omega = 0 is exactly NCV.
    return predict_turn(x, P, dt, qa, np.zeros(len(x)) if omega is None else omega)


@dataclass(slots=True)
class Innovation:
    """Pairs predicted to their detections' times and innovated: what the gate computes
    and the update reuses (each pair's track must not have changed in between)."""

    xm: np.ndarray  # (N, 6) predicted states
    Pm: np.ndarray  # (N, 6, 6)
    r: np.ndarray  # (N, 3) residuals
    H: np.ndarray  # (N, 3, 6)
    S: np.ndarray  # (N, 3, 3)
    Sinv: np.ndarray
    det: np.ndarray  # (N,) |S|
    d2: np.ndarray  # (N,) r^T S^-1 r

    def take(self, idx: np.ndarray) -> Innovation:
        return Innovation(*(getattr(self, f)[idx] for f in self.__slots__))

    def put(self, idx: np.ndarray, other: Innovation) -> None:
        """Rows ``idx`` replaced by ``other``'s, in place."""
        for f in self.__slots__:
            getattr(self, f)[idx] = getattr(other, f)

    @staticmethod
    def concat(parts: list[Innovation]) -> Innovation:
        if len(parts) == 1:
            return parts[0]
        return Innovation(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in Innovation.__slots__)
        )


def innovate(
    x: np.ndarray,
    P: np.ndarray,
    dt: np.ndarray,
    q_h: float,
    q_v: float,
    scale: np.ndarray,
    residual: Residual,
    omega: np.ndarray | None = None,
) -> Innovation:
    """Predict each pair's track by its own dt and form its innovation."""
    xm, Pm = predict(x, P, dt, q_h, q_v, scale, omega)
    r, H, var = residual(xm)
    # S = H P- H^T + diag(var), its inverse (by cofactors) and d^2 = r^T S^-1 r in one pass.
    S, Sinv, det, d2 = kernels.innovation_stats(Pm, H, var, r)
    return Innovation(xm, Pm, r, H, S, Sinv, det, d2)


def update(
    x: np.ndarray,
    P: np.ndarray,
    t: np.ndarray,
    tm: np.ndarray,
    q_h: float,
    q_v: float,
    scale: np.ndarray,
    residual: Residual,
    omega: np.ndarray | None = None,
    pre: Innovation | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One EKF update per pair (each row a distinct track); returns x+, P+, t+, NIS, ln|S|.

    ``residual(x_at_tm) -> (r, H, var)`` gives the innovation at the measurement time.
    ``pre``: the pairs' innovations already computed by the gate from these same x, P.
    Forward pairs end at time tm; out-of-sequence pairs (tm < t) keep time t.
    """
    dt = tm - t
    inn = pre if pre is not None else innovate(x, P, dt, q_h, q_v, scale, residual, omega)
    w = np.zeros_like(dt) if omega is None else np.asarray(omega, dtype=np.float64)
    xn, Pn = kernels.update(x, P, dt, w, inn.xm, inn.Pm, inn.r, inn.H, inn.S, inn.Sinv)
    fwd = dt >= 0.0
    return xn, Pn, np.where(fwd, tm, t), inn.d2, np.log(np.maximum(inn.det, 1e-300))


def adapt_process_noise(
    scale: np.ndarray,
    nis_avg: np.ndarray,
    nis: np.ndarray,
    dof: np.ndarray,
    *,
    memory: float,
    threshold: float,
    boost: float,
    decay: float,
    scale_max: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive process noise (manoeuvre detection on the normalised innovation).

        e_k = NIS_k / dof_k,     ebar_k = m ebar_{k-1} + (1 - m) e_k

    E[e] = 1 for a consistent filter; ebar above ``threshold`` means the target is
    accelerating beyond the model, so the acceleration density is scaled up by ``boost``
    (to ``scale_max``); otherwise the scale decays back toward 1 by ``decay`` per update.
    """
    e = nis / np.maximum(dof, 1)
    avg = memory * nis_avg + (1.0 - memory) * e
    grown = np.minimum(scale * boost, scale_max)
    relaxed = np.maximum(scale * decay, 1.0)
    return np.where(avg > threshold, grown, relaxed), avg
