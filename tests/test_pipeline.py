"""End to end on real simulator output, through the command line as a user runs it."""

import json
import shutil

from skywarden.cli import main


def test_sim_then_score_truth_against_itself_is_zero(tmp_path, capsys):
    out = tmp_path / "pl"
    # the first 20 minutes of the demo scenario: civil traffic and the first drones
    assert main(["sim", "poland-2025-09", "-o", str(out), "--duration", "1200"]) == 0
    for name in ("truth.jsonl", "detections.jsonl", "sensors.toml"):
        assert (out / name).stat().st_size > 0
    shutil.copy(out / "truth.jsonl", out / "tracks.jsonl")
    capsys.readouterr()
    assert main(["score", str(out / "truth.jsonl"), str(out / "tracks.jsonl"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["gospa_mean"] == 0.0
    assert report["missed_target_rate"] == 0.0
    assert report["false_track_rate"] == 0.0
    assert report["id_switches"] == 0
    assert report["truth_points"] > 1000


def test_sim_output_passes_check(tmp_path, capsys):
    out = tmp_path / "ad"
    assert main(["sim", "airport-drones", "-o", str(out), "--duration", "300", "--seed", "3"]) == 0
    assert main(["check", str(out / "sensors.toml")]) == 0
    assert main(["check", str(out / "detections.jsonl"), "--sensors", str(out / "sensors.toml")]) == 0
    assert main(["check", str(out / "truth.jsonl")]) == 0
    text = capsys.readouterr().out
    assert "0 bad lines" in text


def test_track_uses_every_good_line_around_garbage(tmp_path, capsys):
    out = tmp_path / "ad"
    assert main(["sim", "airport-drones", "-o", str(out), "--duration", "600"]) == 0
    good = (out / "detections.jsonl").read_text().splitlines()
    mixed = [good[0], "garbage", *good[1:100], '{"time": 1, "sensor": "nope", "lat": 1, "lon": 2}',
             *good[100:], '{"time": 1757000000, "sensor": "x", "lat": 95, "lon": 2}']
    (out / "mixed.jsonl").write_text("\n".join(mixed) + "\n")
    capsys.readouterr()
    argv = ["track", str(out / "mixed.jsonl"), "--sensors", str(out / "sensors.toml"),
            "-o", str(out / "tracks.jsonl"), "--no-progress"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "mixed.jsonl:2: not valid JSON" in captured.err
    assert "mixed.jsonl:102: field sensor: 'nope'" in captured.err
    assert f"mixed.jsonl:{len(mixed)}: field lat" in captured.err
    summary = captured.out
    assert f"{len(good):,}" in summary  # every good detection counted as used
    assert (out / "tracks.jsonl").stat().st_size > 0
    # strict: the first bad line is an error with exit status 1
    assert main([*argv, "--strict"]) == 1
    assert "mixed.jsonl:2: not valid JSON" in capsys.readouterr().err


def test_track_config_errors_are_clear(tmp_path, capsys):
    out = tmp_path / "ad"
    assert main(["sim", "airport-drones", "-o", str(out), "--duration", "60"]) == 0
    cfg = tmp_path / "tracker.toml"
    cfg.write_text("[tracker]\nq_horizontl = 30\n")
    assert main(["track", str(out / "detections.jsonl"), "--sensors", str(out / "sensors.toml"),
                 "-o", str(tmp_path / "t.jsonl"), "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "unknown tracker setting(s) q_horizontl" in err and str(cfg) in err
