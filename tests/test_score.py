"""Scoring: GOSPA on hand-computed cases, track metrics on hand-made files."""

import json
import math

import numpy as np
import pytest

from skywarden import geo
from skywarden.errors import BadLineError, ConfigError
from skywarden.ingest.jsonl import ReadStats
from skywarden.score import gospa, gospa_positions, score_files

T0 = 1_750_000_000.0
LAT0, LON0 = 52.0, 23.0


def at(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    """Latitude, longitude of a point east_m and north_m from (LAT0, LON0)."""
    lat, lon, _ = geo.destination(LAT0, LON0, 90.0, east_m)
    lat, lon, _ = geo.destination(lat, lon, 0.0, north_m)
    return float(lat), float(lon)


def offsets(east_m, north_m):
    """Vectorized :func:`at`."""
    lat, lon, _ = geo.destination(LAT0, LON0, 90.0, east_m)
    lat, lon, _ = geo.destination(lat, lon, 0.0, north_m)
    return lat, lon


def truth(t, target, pos, alt=1000.0, vel_e=0.0, observable=True):
    lat, lon = pos
    return {"time": T0 + t, "target": target, "lat": lat, "lon": lon, "alt": alt,
            "vel_e": vel_e, "vel_n": 0.0, "vel_u": 0.0, "class": "drone",
            "observable": observable}


def track(t, tid, pos, alt=1000.0, vel_e=0.0, status="confirmed"):
    lat, lon = pos
    line = {"time": T0 + t, "track": tid, "lat": lat, "lon": lon, "vel_e": vel_e,
            "vel_n": 0.0, "vel_u": 0.0, "status": status}
    if alt is not None:
        line["alt"] = alt
    return line


def write(path, lines):
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def score(tmp_path, truth_lines, track_lines, **kw):
    return score_files(write(tmp_path / "truth.jsonl", truth_lines),
                       write(tmp_path / "tracks.jsonl", track_lines), **kw)


# -- GOSPA by hand -------------------------------------------------------------------------


def test_one_pair_scores_its_distance():
    assert gospa([[300.0]], c=1000.0, p=2.0) == pytest.approx(300.0)
    assert gospa([[300.0]], c=1000.0, p=1.0) == pytest.approx(300.0)


def test_a_missed_target_or_false_track_costs_c_over_root_2():
    # (c^p / 2)^(1/p): 1000 / sqrt(2) for p = 2, 500 for p = 1
    assert gospa(np.zeros((1, 0)), c=1000.0, p=2.0) == pytest.approx(1000.0 / math.sqrt(2))
    assert gospa(np.zeros((0, 1)), c=1000.0, p=2.0) == pytest.approx(1000.0 / math.sqrt(2))
    assert gospa(np.zeros((1, 0)), c=1000.0, p=1.0) == pytest.approx(500.0)
    assert gospa(np.zeros((0, 0))) == 0.0


def test_a_pair_beyond_the_cut_off_is_a_miss_and_a_false_track():
    # (c^2/2 + c^2/2)^(1/2) = c
    assert gospa([[1500.0]], c=1000.0) == pytest.approx(1000.0)
    assert gospa([[1500.0]], c=2000.0) == pytest.approx(1500.0)


def test_alpha_weighs_the_cardinality_mismatch():
    # two truths, one track 300 m from the first
    d = [[300.0], [np.inf]]
    assert gospa(d, alpha=2.0) == pytest.approx(math.sqrt(300.0**2 + 1000.0**2 / 2))
    assert gospa(d, alpha=1.0) == pytest.approx(math.sqrt(300.0**2 + 1000.0**2))
    assert gospa(np.zeros((1, 0)), alpha=1.0) == pytest.approx(1000.0)


def test_assignment_is_optimal_not_greedy():
    # greedy takes 100 then 900 (sum of squares 820,000); optimal 200 + 150 (62,500)
    assert gospa([[100.0, 200.0], [150.0, 900.0]]) == pytest.approx(250.0)


def test_bad_parameters_are_refused():
    for kw in ({"c": 0.0}, {"p": 0.5}, {"alpha": 0.0}, {"alpha": 2.5}):
        with pytest.raises(ConfigError):
            gospa([[1.0]], **kw)


def test_positions_use_3d_distance_when_the_track_has_altitude():
    lat, lon = at(300.0)
    assert gospa_positions(LAT0, LON0, 1000.0, lat, lon, 1000.0).distance == pytest.approx(
        300.0, abs=1e-3)
    # 300 m across and 400 m up: 500 m
    assert gospa_positions(LAT0, LON0, 1000.0, lat, lon, 1400.0).distance == pytest.approx(
        500.0, abs=1e-3)
    # a 2-D track (no altitude) is scored on horizontal distance only
    assert gospa_positions(LAT0, LON0, 1000.0, lat, lon, np.nan).distance == pytest.approx(
        300.0, abs=1e-3)


def test_positions_decompose_into_missed_and_false():
    far = at(50_000.0)
    g = gospa_positions([LAT0, far[0]], [LON0, far[1]], [0.0, 0.0],
                        [at(100.0)[0]], [at(100.0)[1]], [0.0])
    assert (g.missed, g.false, g.pairs_truth.tolist(), g.pairs_track.tolist()) == (1, 0, [0], [0])
    assert g.distance == pytest.approx(math.sqrt(100.0**2 + 1000.0**2 / 2), abs=1e-3)


def test_grouped_assignment_matches_one_dense_assignment():
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(3)
    for _ in range(20):
        m, n = rng.integers(0, 25, 2)
        # clustered so that groups of several truths and tracks compete within c
        t_lat, t_lon = offsets(rng.uniform(0, 4000, m), rng.uniform(0, 4000, m))
        k_lat, k_lon = offsets(rng.uniform(0, 4000, n), rng.uniform(0, 4000, n))
        t_alt, k_alt = rng.uniform(0, 300, m), rng.uniform(0, 300, n)
        g = gospa_positions(t_lat, t_lon, t_alt, k_lat, k_lon, k_alt, c=800.0)
        tx = geo.geodetic_to_ecef(t_lat, t_lon, 0.0).reshape(-1, 3)
        kx = geo.geodetic_to_ecef(k_lat, k_lon, 0.0).reshape(-1, 3)
        h = np.linalg.norm(tx[:, None, :] - kx[None, :, :], axis=-1)
        d = np.hypot(h, k_alt[None, :] - t_alt[:, None])
        cost = np.minimum(d, 800.0) ** 2
        r, c = linear_sum_assignment(cost)
        dense = math.sqrt(cost[r, c].sum() + 800.0**2 / 2 * abs(int(m) - int(n)))
        assert g.distance == pytest.approx(dense, rel=1e-9, abs=1e-6)


# -- files ---------------------------------------------------------------------------------


def moving_truth(steps=30):
    """Two targets 20 km apart flying east at 100 m/s, one line each per second."""
    lines = []
    for t in range(steps):
        lines.append(truth(t, "A", at(100.0 * t), vel_e=100.0))
        lines.append(truth(t, "B", at(100.0 * t, 20_000.0), vel_e=100.0, observable=t < 20))
    return lines


def test_truth_against_itself_is_perfect(tmp_path):
    lines = moving_truth()
    path = write(tmp_path / "truth.jsonl", lines)
    r = score_files(path, path)
    assert r.steps == 30
    assert r.gospa_mean == 0.0 and r.gospa_max == 0.0
    assert r.missed_target_rate == 0.0 and r.false_track_rate == 0.0
    assert r.mean_error_m == 0.0
    assert r.coverage == 1.0 and r.coverage_observable == 1.0
    assert r.observable_points == 50
    assert (r.id_switches, r.false_tracks, r.targets, r.tracks_scored) == (0, 0, 2, 2)


def test_track_ids_swapping_between_two_targets_count_two_switches(tmp_path):
    tracks = []
    for t in range(10):
        on_a, on_b = ("1", "2") if t < 5 else ("2", "1")
        tracks.append(track(t, on_a, at(100.0 * t), vel_e=100.0))
        tracks.append(track(t, on_b, at(100.0 * t, 20_000.0), vel_e=100.0))
    r = score(tmp_path, moving_truth(10), tracks)
    assert r.id_switches == 2
    assert r.gospa_max == pytest.approx(0.0, abs=1e-6)


def test_a_track_returning_after_a_gap_is_not_a_switch(tmp_path):
    tracks = [track(t, "1", at(100.0 * t), vel_e=100.0) for t in (*range(5), *range(25, 30))]
    r = score(tmp_path, [x for x in moving_truth() if x["target"] == "A"], tracks)
    assert r.id_switches == 0
    # updates until t=4, max age 15 s: steps 20..24 have no track
    assert r.missed_target_rate == pytest.approx(5 / 30)


def test_estimates_are_extrapolated_with_velocity(tmp_path):
    truth_a = [x for x in moving_truth() if x["target"] == "A"]
    every_10s = [track(t, "1", at(100.0 * t), vel_e=100.0) for t in range(0, 30, 10)]
    r = score(tmp_path, truth_a, every_10s)
    assert r.gospa_max < 1.0  # moved along: centimetres of chord-versus-geodesic only
    standing = [track(t, "1", at(100.0 * t), vel_e=0.0) for t in range(0, 30, 10)]
    r = score(tmp_path, truth_a, standing)
    # 0, 100, ..., 900 m behind in each 10 s: mean 450 m; the 1000 m step is no match
    assert r.mean_error_m == pytest.approx(450.0, abs=1.0)


def test_stale_deleted_and_tentative_tracks_do_not_count(tmp_path):
    truth_a = [x for x in moving_truth(10) if x["target"] == "A"]
    tentative = [track(t, "1", at(100.0 * t), vel_e=100.0, status="tentative")
                 for t in range(10)]
    assert score(tmp_path, truth_a, tentative).missed_target_rate == 1.0
    r = score(tmp_path, truth_a, tentative, confirmed_only=False)
    assert r.missed_target_rate == 0.0
    assert r.coverage == 0.0  # coverage counts confirmed tracks only
    deleted = [track(t, "1", at(100.0 * t), vel_e=100.0,
                     status="confirmed" if t < 5 else "deleted") for t in range(10)]
    assert score(tmp_path, truth_a, deleted).missed_target_rate == 0.5
    r = score(tmp_path, truth_a, [track(0, "1", at(0.0), vel_e=100.0)], max_age=3.0)
    assert r.missed_target_rate == 0.6  # steps 0..3 covered, 4..9 missed


def test_two_dimensional_tracks_score_horizontally(tmp_path):
    truth_a = [x for x in moving_truth(5) if x["target"] == "A"]
    flat = [track(t, "1", at(100.0 * t, 300.0), alt=None, vel_e=100.0) for t in range(5)]
    r = score(tmp_path, truth_a, flat)
    assert r.mean_error_m == pytest.approx(300.0, abs=0.01)


def test_false_tracks_and_coverage_of_observable_truth(tmp_path):
    tracks = []
    for t in range(30):
        tracks.append(track(t, "1", at(100.0 * t), vel_e=100.0))
        # B's track ends when B leaves sensor coverage at t=20
        tracks.append(track(t, "2", at(100.0 * t, 20_000.0), vel_e=100.0,
                            status="confirmed" if t < 20 else "deleted"))
        tracks.append(track(t, "ghost", at(0.0, -50_000.0)))
    r = score(tmp_path, moving_truth(), tracks)
    # B unobservable and untracked from t=20 is missed, but all observable truth is covered
    assert r.coverage == pytest.approx(50 / 60)
    assert r.coverage_observable == 1.0
    assert r.false_tracks == 1 and r.tracks_scored == 3
    assert r.false_track_rate == pytest.approx(30 / (30 + 20 + 30))
    assert r.false_tracks_per_hour == pytest.approx(1 / (29 / 3600))


def test_out_of_order_track_lines_score_the_same(tmp_path):
    tracks = [track(t, "1", at(100.0 * t), vel_e=100.0) for t in range(30)]
    ordered = score(tmp_path, moving_truth(), tracks)
    shuffled = tracks[:]
    for k in range(0, 27, 3):  # reverse blocks of three seconds
        shuffled[k : k + 3] = shuffled[k : k + 3][::-1]
    other = score(tmp_path, moving_truth(), shuffled)
    assert other.to_dict() | {"tracks_file": ""} == ordered.to_dict() | {"tracks_file": ""}
    assert other.late_track_lines == 0


def test_steps_without_truth_still_score_false_tracks(tmp_path):
    lines = [truth(t, "A", at(0.0)) for t in (*range(5), *range(10, 15))]
    tracks = [track(t, "ghost", at(0.0, 50_000.0)) for t in range(15)]
    r = score(tmp_path, lines, tracks)
    assert r.steps == 15
    assert r.track_points == 15 and r.truth_points == 10
    assert r.per_step.truths.tolist() == [1] * 5 + [0] * 5 + [1] * 5


def test_every_kth_step(tmp_path):
    path = write(tmp_path / "truth.jsonl", moving_truth())
    r = score_files(path, path, step=5)
    assert (r.steps, r.truth_points, r.gospa_mean) == (6, 12, 0.0)
    assert r.per_step.time.tolist() == [T0 + t for t in range(0, 30, 5)]


def test_bad_lines_are_counted_or_raised(tmp_path):
    truth_path = write(tmp_path / "truth.jsonl", moving_truth(5))
    tracks_path = tmp_path / "tracks.jsonl"
    tracks_path.write_text(json.dumps(track(0, "1", at(0.0))) + "\n"
                           + json.dumps({"time": T0, "lat": LAT0, "lon": LON0}) + "\n")
    stats = ReadStats()
    r = score_files(truth_path, tracks_path, track_stats=stats)
    assert r.track_lines_bad == 1
    assert "missing field track" in next(iter(stats.reasons))
    with pytest.raises(BadLineError, match="tracks.jsonl:2"):
        score_files(truth_path, tracks_path, strict=True)


def test_report_json_and_table(tmp_path):
    path = write(tmp_path / "truth.jsonl", moving_truth(5))
    r = score_files(path, path, c=500.0, p=1.0)
    line = r.to_json()
    assert "\n" not in line
    data = json.loads(line)
    assert (data["c"], data["p"], data["alpha"], data["step"]) == (500.0, 1.0, 2.0, 1)
    assert data["gospa_mean"] == 0.0 and "per_step" not in data
    text = r.table()
    assert "GOSPA" in text and "c = 500 m, p = 1, alpha = 2" in text
    assert [s["gospa"] for s in r.per_step.records()] == [0.0] * 5


def test_lines_later_than_the_window_are_counted(tmp_path):
    lines = moving_truth(30)
    late_truth = truth(2, "C", at(0.0, 5_000.0))  # 27 s after its step went out
    tracks = [track(t, "1", at(100.0 * t), vel_e=100.0) for t in range(30)]
    tracks.append(track(1, "1", at(100.0), vel_e=100.0))
    r = score(tmp_path, [*lines, late_truth], tracks, window=5.0)
    assert (r.late_truth_lines, r.late_track_lines, r.targets) == (1, 1, 2)


def test_plot_writes_a_png(tmp_path):
    from skywarden.plot import plot

    truth_path = write(tmp_path / "truth.jsonl", moving_truth(30))
    tracks = [track(t, "1", at(100.0 * t), vel_e=100.0) for t in range(30)]
    out = plot(truth_path, write(tmp_path / "tracks.jsonl", tracks), tmp_path / "p" / "t.png",
               max_points=4)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name, reason", [
    ("tracks.txt", "'.txt' is not an image format matplotlib writes"),
    ("tracks", "no image suffix"),
    ("folder", "is a folder"),
])
def test_score_refuses_a_plot_path_it_cannot_honour_before_scoring(tmp_path, capsys, name,
                                                                   reason):
    from skywarden.cli import main

    path = write(tmp_path / "truth.jsonl", [truth(0, "a", at(0))])
    (tmp_path / "folder").mkdir()
    plot = tmp_path / name
    assert main(["score", str(path), str(path), "--plot", str(plot)]) == 1
    captured = capsys.readouterr()
    assert f"--plot {plot}: {reason}" in captured.err
    assert "GOSPA" not in captured.out  # refused before the scoring, not after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "truth.jsonl"]
