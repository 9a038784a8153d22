"""The filter's math: consistency (NEES), Jacobians, out-of-sequence updates, gating."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import chi2

from skywarden.geo import aer_to_enu, enu_rotation, geodetic_to_ecef
from skywarden.records import Detection, DetectionBatch
from skywarden.track import TrackerConfig, kernels, motion
from skywarden.track import filter as kf
from skywarden.track.measure import SensorTable, innovation, prepare, velocity_innovation
from skywarden.track.motion import predict_ncv
from skywarden.track.synthetic import registry

RADAR = dict(
    id="r1",
    type="radar",
    owner="POL",
    lat=52.0,
    lon=21.0,
    alt=120.0,
    max_range=250000,
    scan_period=10,
    sigma_range=50,
    sigma_azimuth=0.2,
    sigma_elevation=0.3,
)


def _truth_ncv(rng, n, steps, dt, q):
    """n independent NCV trajectories in ECEF around Warsaw, white acceleration q I."""
    x = np.zeros((n, 6))
    x[:, :3] = geodetic_to_ecef(52.2, 21.0, 1000.0)
    x[:, 3:] = rng.normal(0, 50, (n, 3))
    Q = np.zeros((6, 6))
    Q[:3, :3] = dt**3 / 3 * q * np.eye(3)
    Q[:3, 3:] = Q[3:, :3] = dt**2 / 2 * q * np.eye(3)
    Q[3:, 3:] = dt * q * np.eye(3)
    L = np.linalg.cholesky(Q)
    out = [x.copy()]
    for _ in range(steps):
        x = x.copy()
        x[:, :3] += dt * x[:, 3:]
        x += rng.standard_normal((n, 6)) @ L.T
        out.append(x)
    return out


def test_nees_is_chi_square_on_linear_position_case():
    """Average NEES over 300 Monte Carlo runs stays inside the two-sided 99% bounds."""
    rng = np.random.default_rng(7)
    n, steps, dt, q, sigma = 300, 40, 2.0, 5.0, 30.0
    truth = _truth_ncv(rng, n, steps, dt, q)
    x = truth[0].copy()
    x[:, :3] += rng.normal(0, 100, (n, 3))
    x[:, 3:] += rng.normal(0, 60, (n, 3))
    P = np.tile(np.diag([100.0**2] * 3 + [60.0**2] * 3), (n, 1, 1))
    H = np.tile(np.hstack([np.eye(3), np.zeros((3, 3))]), (n, 1, 1))
    var = np.full((n, 3), sigma**2)
    scale = np.ones(n)
    lo, hi = chi2.ppf([0.005, 0.995], 6 * n) / n
    outside = 0
    for k in range(1, steps + 1):
        z = truth[k][:, :3] + rng.normal(0, sigma, (n, 3))
        t = np.full(n, (k - 1) * dt)
        x, P, _, _, _ = kf.update(
            x, P, t, t + dt, q, q, scale, lambda xm, z=z: (z - xm[:, :3], H, var)
        )
        err = truth[k] - x
        nees = np.einsum("ni,nij,nj->n", err, np.linalg.inv(P), err).mean()
        outside += not lo <= nees <= hi
    # 99% bounds: about 0.4 of 40 steps fall outside by chance.
    assert outside <= 3


def test_polar_jacobian_matches_finite_differences():
    reg = registry(RADAR)
    cfg = TrackerConfig()
    st = SensorTable.from_registry(reg, cfg)
    det = Detection(time=0.0, sensor="r1", kind="polar", range=80000.0, azimuth=40.0, elevation=3.0)
    m, _ = prepare(DetectionBatch.from_records([det], reg.ids), st, cfg)
    x = np.zeros((1, 6))
    enu = aer_to_enu(35.0, 2.0, 90000.0)
    x[0, :3] = st.site[0] + enu @ enu_rotation(52.0, 21.0)
    j = np.array([0])
    r0, H = innovation(m, j, x)
    num = np.zeros((3, 3))
    for c in range(3):
        dx = x.copy()
        dx[0, c] += 1.0
        r1, _ = innovation(m, j, dx)
        num[:, c] = -(r1[0] - r0[0])
    np.testing.assert_allclose(H[0, :, :3], num, rtol=1e-4, atol=1e-10)
    # The residual itself: measured minus predicted range and azimuth.
    assert r0[0, 0] == pytest.approx(-10000.0, abs=1e-3)
    assert np.degrees(r0[0, 1]) == pytest.approx(5.0, abs=1e-6)


def test_out_of_sequence_update_reduces_error_on_average():
    """A measurement from 5 s ago, applied after a newer one, still helps (not hurts)."""
    rng = np.random.default_rng(3)
    n, q, sigma = 2000, 5.0, 40.0
    truth = _truth_ncv(rng, n, 2, 5.0, q)  # states at 0, 5, 10 s
    x0 = truth[0].copy()
    x0[:, :3] += rng.normal(0, 200, (n, 3))
    x0[:, 3:] += rng.normal(0, 30, (n, 3))
    P0 = np.tile(np.diag([200.0**2] * 3 + [30.0**2] * 3), (n, 1, 1))
    H = np.tile(np.hstack([np.eye(3), np.zeros((3, 3))]), (n, 1, 1))
    var = np.full((n, 3), sigma**2)
    scale = np.ones(n)
    z10 = truth[2][:, :3] + rng.normal(0, sigma, (n, 3))
    z5 = truth[1][:, :3] + rng.normal(0, sigma, (n, 3))
    t0 = np.zeros(n)
    # In order: 5 s, then 10 s.
    xa, Pa, ta, _, _ = kf.update(
        x0, P0, t0, t0 + 5, q, q, scale, lambda xm: (z5 - xm[:, :3], H, var)
    )
    xa, Pa, ta, _, _ = kf.update(
        xa, Pa, ta, ta + 5, q, q, scale, lambda xm: (z10 - xm[:, :3], H, var)
    )
    # Newest only.
    xb, Pb, tb, _, _ = kf.update(
        x0, P0, t0, t0 + 10, q, q, scale, lambda xm: (z10 - xm[:, :3], H, var)
    )
    # Out of sequence: 10 s, then the late 5 s one.
    xc, Pc, tc, _, _ = kf.update(
        xb, Pb, tb, t0 + 5, q, q, scale, lambda xm: (z5 - xm[:, :3], H, var)
    )
    assert np.all(tc == 10.0)

    def rms_vel(x):
        return float(np.sqrt(np.mean(np.sum((x[:, 3:] - truth[2][:, 3:]) ** 2, axis=1))))

    assert rms_vel(xc) < 0.8 * rms_vel(xb)
    assert rms_vel(xc) < 1.25 * rms_vel(xa)
    # And its covariance stays honest: NEES near its 6 degrees of freedom.
    err = truth[2] - xc
    nees = np.einsum("ni,nij,nj->n", err, np.linalg.inv(Pc), err).mean()
    assert 4.5 < nees < 8.0


def test_negative_step_prediction_grows_uncertainty():
    x = np.array([[1.0, 2.0, 3.0, 10.0, 0.0, 0.0]])
    P = np.eye(6)[None] * 4.0
    qa = np.eye(3)[None] * 2.0
    xb, Pb = predict_ncv(x, P, np.array([-3.0]), qa)
    assert xb[0, 0] == pytest.approx(-29.0)
    assert np.all(np.linalg.eigvalsh(Pb[0]) > 0)
    assert Pb[0, 0, 0] > P[0, 0, 0]


def test_chi2_gate_matches_scipy():
    for dof in (1, 2, 3):
        assert kf.chi2_gate(0.999, dof) == pytest.approx(chi2.ppf(0.999, dof))


def test_innovation_statistics_match_numpy():
    # S = H P H^T + diag(var), its inverse and determinant (by cofactors, in the kernel)
    # and d^2 = r^T S^-1 r, against numpy's own products and inverse.
    from skywarden.track.kernels import innovation_stats

    rng = np.random.default_rng(0)
    n = 50
    L = rng.normal(size=(n, 6, 6))
    P = L @ np.swapaxes(L, 1, 2) + np.eye(6)
    H = rng.normal(size=(n, 3, 6))
    var = rng.uniform(0.1, 5.0, (n, 3))
    r = rng.normal(size=(n, 3))
    S, Sinv, det, d2 = innovation_stats(P, H, var, r)
    S_ref = H @ P @ np.swapaxes(H, 1, 2) + var[:, :, None] * np.eye(3)
    np.testing.assert_allclose(S, S_ref, rtol=1e-12)
    np.testing.assert_allclose(Sinv @ S_ref, np.tile(np.eye(3), (n, 1, 1)), atol=1e-9)
    np.testing.assert_allclose(det, np.linalg.det(S_ref), rtol=1e-9)
    np.testing.assert_allclose(d2, np.einsum("ni,nij,nj->n", r, np.linalg.inv(S_ref), r),
                               rtol=1e-9)


def _turn_transition(up: np.ndarray, omega: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """F(dt) of the turn model built independently: R from scipy's rotation about the
    local up, S = int_0^dt R(omega tau) dtau by Simpson's rule on a fine grid."""
    from scipy.integrate import simpson
    from scipy.spatial.transform import Rotation

    F = np.tile(np.eye(6), (dt.size, 1, 1))
    for k in range(dt.size):
        tau = np.linspace(0.0, dt[k], 4001)
        Rs = Rotation.from_rotvec(np.outer(omega[k] * tau, up[k])).as_matrix()
        F[k, :3, 3:] = simpson(Rs, x=tau, axis=0)
        F[k, 3:, 3:] = Rs[-1]
    return F


def test_turn_prediction_matches_an_independent_transition():
    # predict_turn (block-wise F P F^T in the kernel) against the plain 6x6 product with
    # an F made another way, forward and backward in time, turning and straight.
    from skywarden.track.motion import local_up, predict_turn

    rng = np.random.default_rng(3)
    n = 50
    x = np.zeros((n, 6))
    x[:, :3] = geodetic_to_ecef(rng.uniform(45, 60, n), rng.uniform(10, 30, n), 3000.0)
    x[:, 3:] = rng.normal(0, 150, (n, 3))
    L = rng.normal(size=(n, 6, 6))
    P = L @ np.swapaxes(L, 1, 2) + 6 * np.eye(6)
    dt = rng.uniform(-5, 12, n)
    omega = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(-0.2, 0.2, n))
    qa = rng.uniform(1, 50, n)[:, None, None] * np.eye(3)
    xn, Pn = predict_turn(x, P, dt, qa, omega)
    F = _turn_transition(local_up(x[:, :3]), omega, dt)
    _, Q = predict_ncv(np.zeros_like(x), np.zeros_like(P), dt, qa)
    np.testing.assert_allclose(xn, np.einsum("nij,nj->ni", F, x), rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(Pn, F @ P @ np.swapaxes(F, 1, 2) + Q, rtol=1e-7, atol=1e-6)


def test_posterior_ground_speed_is_the_updated_horizontal_velocity():
    """Hand-checked: P = [[a I, b I], [b I, c I]], a position plot with noise v I, so
    S = (a + v) I and K_v = b / (a + v) I; the updated velocity is b / (a + v) r. At
    lat 0, lon 0 the local up is ECEF x: a residual along x moves no ground speed."""
    a, b, c, v = 400.0**2, 2000.0, 30.0**2, 300.0**2
    P = np.zeros((2, 6, 6))
    P[:, :3, :3] = a * np.eye(3)
    P[:, :3, 3:] = P[:, 3:, :3] = b * np.eye(3)
    P[:, 3:, 3:] = c * np.eye(3)
    x = np.zeros((2, 6))
    x[:, 0] = 6378137.0
    r = np.array([[0.0, 3000.0, 4000.0], [3000.0, 0.0, 0.0]])
    H = np.zeros((2, 3, 6))
    H[:, :, :3] = np.eye(3)

    def residual(xm):
        return r, H, np.full((2, 3), v)

    inn = kf.innovate(x, P, np.zeros(2), 30.0, 3.0, np.ones(2), residual)
    speed = [kernels.posterior_ground_speed(inn.xm[k], inn.Pm[k], inn.r[k], inn.H[k],
                                            inn.Sinv[k]) for k in range(2)]
    assert speed[0] == pytest.approx(b / (a + v) * 5000.0, rel=1e-9)
    assert speed[1] == pytest.approx(0.0, abs=1e-9)


def test_noise_scale_cap_follows_the_plot_precision():
    """cap = clip(scale_max (precise_reach / reach)^2, noisy_max, scale_max): plots known
    to 500 m or better leave the boost alone; at 1 km a quarter of it; a radar plot at
    200 km with 0.5 deg in azimuth (1.7 km across) about 8; a bearing (its reach is the
    sensor's cover) the floor."""
    cap = [kernels.noise_scale_cap(r, 100.0, 500.0, 4.0) for r in (250.0, 500.0, 1000.0, 1745.0)]
    assert cap == pytest.approx([100.0, 100.0, 25.0, 8.21], abs=0.01)
    assert kernels.noise_scale_cap(1e6, 100.0, 500.0, 4.0) == 4.0


def test_update_round_helpers_match_their_numpy_formulas_to_the_bit():
    """The compiled update rounds (kernels.update_rounds) reproduce the numpy formulas
    of motion, filter and measure exactly, sums in numpy's order included: the
    tracker's output must not depend on which of them ran."""
    rng = np.random.default_rng(7)
    n = 500
    pos = geodetic_to_ecef(rng.uniform(-80, 80, n), rng.uniform(-180, 180, n),
                           rng.uniform(0, 12000, n))
    x = np.concatenate([pos, rng.normal(0.0, 150.0, (n, 3))], axis=1)
    v0 = x[:, 3:] + rng.normal(0.0, 20.0, (n, 3))
    dt = rng.choice([0.0, -1.5, 1e-4, 0.7, 4.0, 12.0], n)
    omega = rng.uniform(-0.2, 0.2, n)
    speed = motion.ground_speed(x[:, :3], x[:, 3:])
    turn = motion.estimate_turn_rate(omega, v0, x[:, 3:], x[:, :3], dt, tau=25.0,
                                     min_speed=15.0, max_rate=0.2)
    scale, nis_avg = rng.uniform(1.0, 100.0, n), rng.uniform(0.0, 5.0, n)
    nis, dof = rng.exponential(3.0, n), rng.integers(0, 4, n)
    q, avg = kf.adapt_process_noise(scale, nis_avg, nis, dof, memory=0.5, threshold=2.0,
                                    boost=4.0, decay=0.7, scale_max=100.0)
    for k in range(n):
        assert kernels.ground_speed(x[k]) == speed[k]
        assert kernels.turn_rate(omega[k], *v0[k], x[k], dt[k], 25.0, 15.0, 0.2) == turn[k]
        got = kernels.adapted_noise(scale[k], nis_avg[k], nis[k], dof[k], 0.5, 2.0, 4.0, 0.7,
                                    100.0)
        assert got == (q[k], avg[k])
    m = SimpleNamespace(rot=enu_rotation(rng.uniform(-80, 80, n), rng.uniform(-180, 180, n)),
                        vel=rng.normal(0.0, 100.0, (n, 3)), vel_var=rng.uniform(1, 9, (n, 3)))
    m.vel[rng.random(n) < 0.3, 2] = np.nan
    j = rng.permutation(n)
    want = velocity_innovation(m, j, x)
    got = kernels.velocity_innovation(m.rot, m.vel, m.vel_var, j, x)
    for a, b in zip(want, got, strict=True):
        assert np.array_equal(a, b)


def test_precise_plots_raise_the_noise_at_a_lower_mean_nis():
    """A plot within nis_precise_reach raises its track's process noise once the mean NIS
    per dof passes nis_manoeuvre_precise, a vaguer one at nis_manoeuvre; the update
    rounds (as the tracker wires their settings) and the oracle's numpy rule agree."""
    from skywarden.track import Tracker

    cfg = TrackerConfig(nis_manoeuvre=2.0, nis_manoeuvre_precise=1.5, nis_precise_reach=400.0)
    settings = Tracker(registry(dict(id="r", type="radar", owner="POL", lat=52.0, lon=21.0)),
                       cfg)._round_settings
    assert [kernels.manoeuvre_threshold(r, settings) for r in (50.0, 400.0, 400.1, 3000.0)] == [
        1.5, 1.5, 2.0, 2.0]
    rng = np.random.default_rng(3)
    n = 400
    reach = rng.uniform(50.0, 1500.0, n)
    scale, nis_avg = rng.uniform(1.0, 20.0, n), rng.uniform(0.0, 4.0, n)
    nis, dof = rng.exponential(3.0, n), rng.integers(1, 4, n)
    threshold = np.where(reach <= cfg.nis_precise_reach, cfg.nis_manoeuvre_precise,
                         cfg.nis_manoeuvre)  # as oracle.py
    q, avg = kf.adapt_process_noise(scale, nis_avg, nis, dof, memory=0.5, threshold=threshold,
                                    boost=4.0, decay=0.7, scale_max=100.0)
    between = (avg > 1.5) & (avg <= 2.0)
    assert between.sum() > 10
    # a mean between the two thresholds: boosted after a precise plot, relaxed otherwise
    assert (q[between & (reach <= 400.0)] > scale[between & (reach <= 400.0)]).all()
    assert (q[between & (reach > 400.0)] < scale[between & (reach > 400.0)]).all()
    for k in range(n):
        got = kernels.adapted_noise(scale[k], nis_avg[k], nis[k], dof[k], 0.5,
                                    kernels.manoeuvre_threshold(reach[k], settings), 4.0, 0.7,
                                    100.0)
        assert got == (q[k], avg[k])
