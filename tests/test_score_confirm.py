"""Confirmation delay (score.confirm) on small hand-made truth, detections and tracks."""

import json

import pytest

from skywarden import geo
from skywarden.cli import main
from skywarden.errors import ConfigError
from skywarden.score import confirmation_delays

T0 = 1_750_000_000.0
# Over Poland (east of Warsaw) and over Belarus (Minsk).
POL = (52.2, 21.5)
BLR = (53.9, 27.5)

SENSORS = """
[[sensor]]
id = "r-long"
type = "radar"
owner = "POL"
lat = 52.0
lon = 22.0
max_range = 300000.0
scan_period = 10.0

[[sensor]]
id = "r-short"
type = "radar"
owner = "POL"
lat = 52.0
lon = 22.0
max_range = 80000.0
scan_period = 4.0

[[sensor]]
id = "adsb"
type = "adsb"
owner = "POL"
lat = 52.0
lon = 22.0
"""


def east(pos, metres):
    lat, lon, _ = geo.destination(pos[0], pos[1], 90.0, metres)
    return float(lat), float(lon)


def truth_line(t, target, pos, cls="drone"):
    return {"time": T0 + t, "target": target, "lat": pos[0], "lon": pos[1], "alt": 800.0,
            "vel_e": 40.0, "vel_n": 0.0, "vel_u": 0.0, "class": cls, "observable": True}


def track_line(t, tid, pos, status="confirmed"):
    return {"time": T0 + t, "track": tid, "lat": pos[0], "lon": pos[1], "alt": 800.0,
            "vel_e": 40.0, "vel_n": 0.0, "vel_u": 0.0, "status": status}


def plot(t, sensor, target=None, kind="polar"):
    line = {"time": T0 + t, "sensor": sensor, "kind": kind}
    if kind == "polar":
        line.update(range=50000.0, azimuth=270.0)
    else:
        line.update(lat=POL[0], lon=POL[1])
    if target is not None:
        line["target"] = target
    return line


def write(path, lines):
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.fixture
def scene(tmp_path):
    """Three drones and an aircraft over 120 s:

    - d-pol (over Poland): first radar plot t=10 (r-long), confirmed track from t=30;
    - d-late (over Poland): first plot t=5 (r-short, 4 s scans), confirmed from t=60,
      tentative before;
    - d-blr (over Belarus only): first plot t=0, confirmed from t=12;
    - d-never (over Poland): seen at t=20, never confirmed;
    - a-pol (aircraft over Poland): confirmed from ADS-B at t=0, first radar plot t=40.
    """
    truth, tracks = [], []
    for t in range(0, 121):
        for name, base, cls in (("d-pol", POL, "drone"), ("d-late", east(POL, 20000), "drone"),
                                ("d-blr", BLR, "drone"), ("d-never", east(POL, 40000), "drone"),
                                ("a-pol", east(POL, -30000), "aircraft")):
            truth.append(truth_line(t, name, east(base, 40.0 * t), cls))
        if t >= 30:
            tracks.append(track_line(t, "T1", east(POL, 40.0 * t)))
        late = east(east(POL, 20000), 40.0 * t)
        if 5 <= t < 60:
            tracks.append(track_line(t, "T2", late, status="tentative"))
        elif t >= 60:
            tracks.append(track_line(t, "T2", late))
        if t >= 12:
            tracks.append(track_line(t, "T3", east(BLR, 40.0 * t)))
        tracks.append(track_line(t, "T4", east(east(POL, -30000), 40.0 * t)))
        # a false track far from everything
        tracks.append(track_line(t, "T9", east(POL, 100000)))
    dets = [
        plot(0, "r-long", "d-blr"),
        plot(5, "r-short", "d-late"),
        plot(7, "r-long"),  # clutter: no label
        plot(10, "r-long", "d-pol"),
        plot(20, "r-long", "d-pol"),
        plot(20, "r-long", "d-never"),
        plot(1, "adsb", "a-pol", kind="position"),
        plot(40, "r-long", "a-pol"),
    ]
    (tmp_path / "sensors.toml").write_text(SENSORS)
    return (write(tmp_path / "truth.jsonl", truth), write(tmp_path / "tracks.jsonl", tracks),
            write(tmp_path / "detections.jsonl", dets))


def test_delay_in_seconds_and_scans_of_the_first_radar(scene):
    rep = confirmation_delays(*scene)
    by = {r.target: r for r in rep.targets}
    assert by["d-pol"].first_radar == T0 + 10 and by["d-pol"].radar == "r-long"
    assert by["d-pol"].confirmed == T0 + 30 and by["d-pol"].track == "T1"
    assert by["d-pol"].delay_s == pytest.approx(20.0)
    assert by["d-pol"].delay_scans == pytest.approx(2.0)
    assert by["d-pol"].second_radar == T0 + 20 and by["d-pol"].plots_to_confirm == 2
    assert by["d-late"].second_radar is None and by["d-late"].plots_to_confirm == 1
    assert by["a-pol"].plots_to_confirm == 0  # held before radar saw it
    # tentative lines do not count; scans of the short-range radar (4 s)
    assert by["d-late"].delay_s == pytest.approx(55.0)
    assert by["d-late"].delay_scans == pytest.approx(55.0 / 4.0)
    assert by["d-blr"].delay_s == pytest.approx(12.0)
    # never held by a confirmed track
    assert by["d-never"].confirmed is None and by["d-never"].delay_s is None
    # confirmed (from ADS-B) before radar first saw it: delay 0; ADS-B is not radar
    assert by["a-pol"].first_radar == T0 + 40 and by["a-pol"].delay_s == 0.0
    assert rep.selected == 5 and rep.unseen == 0 and rep.count == 4 and rep.never == 1
    assert rep.median_s == pytest.approx(16.0)  # of 0, 12, 20, 55
    assert rep.max_s == pytest.approx(55.0)
    assert rep.max_scans == pytest.approx(55.0 / 4.0)
    # over 2 scans: d-late (13.75) and d-never; d-pol at exactly 2 scans is not late
    assert [r.target for r in rep.late] == ["d-late", "d-never"]
    assert rep.median_plots == pytest.approx(1.0)  # of 0, 1, 1, 2
    assert rep.second_within == 1  # only d-pol had a second plot within 2 scans


def test_class_and_nation_select_targets(scene):
    rep = confirmation_delays(*scene, nation="POL", target_class="drone")
    assert sorted(r.target for r in rep.targets) == ["d-late", "d-never", "d-pol"]
    assert all(r.entered == T0 for r in rep.targets)
    assert rep.count == 2 and rep.never == 1
    assert rep.median_scans == pytest.approx((2.0 + 55.0 / 4.0) / 2)
    rep = confirmation_delays(*scene, target_class="aircraft")
    assert [r.target for r in rep.targets] == ["a-pol"]
    rep = confirmation_delays(*scene, nation="BLR")
    assert [r.target for r in rep.targets] == ["d-blr"]
    assert rep.late == [] and rep.max_scans == pytest.approx(1.2)


def test_a_target_radar_never_saw_is_counted_apart(scene, tmp_path):
    truth, tracks, _ = scene
    dets = write(tmp_path / "detections.jsonl", [plot(10, "r-long", "d-pol")])
    rep = confirmation_delays(truth, tracks, dets, nation="POL")
    assert rep.selected == 4 and rep.unseen == 3 and rep.count == 1
    assert [r.target for r in rep.late] == []


def test_without_registry_polar_plots_are_radar_with_the_default_scan(scene, tmp_path):
    truth, tracks, dets = scene
    (tmp_path / "sensors.toml").unlink()
    rep = confirmation_delays(truth, tracks, dets, target_class="drone")
    by = {r.target: r for r in rep.targets}
    assert by["d-late"].scan_period == 10.0
    assert by["d-late"].delay_scans == pytest.approx(5.5)


def test_unlabelled_detections_and_unknown_nation_are_errors(scene, tmp_path):
    truth, tracks, _ = scene
    bare = write(tmp_path / "bare.jsonl", [plot(10, "r-long"), plot(20, "r-long")])
    with pytest.raises(ConfigError, match="--labels"):
        confirmation_delays(truth, tracks, bare)
    with pytest.raises(ConfigError, match="nation"):
        confirmation_delays(*scene, nation="XXX")


def test_score_command_prints_the_block(scene, capsys):
    truth, tracks, dets = scene
    args = ["score", str(truth), str(tracks), "--detections", str(dets), "--nation", "POL",
            "--class", "drone"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "confirmation delay   class drone, entered POL: 3 targets" in out
    assert "d-late" in out and "never confirmed" in out and "no second plot" in out
    assert "1 of 3 had a second plot within 2 scans" in out
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    block = doc["confirmation_delay"]
    assert block["count"] == 2 and block["never"] == 1
    assert [r["target"] for r in block["late"]] == ["d-late", "d-never"]
    assert doc["false_tracks"] == 1  # the ordinary score is still there
    assert main(["score", str(truth), str(tracks), "--nation", "POL"]) == 2


def test_one_truth_step_of_slack_before_late(scene, tmp_path):
    truth, tracks, _ = scene
    for first, late in ((9.6, False), (8.9, True)):
        dets = write(tmp_path / "d.jsonl", [plot(first, "r-long", "d-pol")])
        rep = confirmation_delays(truth, tracks, dets, registry=tmp_path / "sensors.toml")
        (row,) = [r for r in rep.targets if r.target == "d-pol"]
        assert row.delay_s == pytest.approx(30.0 - first)
        assert rep.step == 1.0
        assert (row in rep.late) is late
