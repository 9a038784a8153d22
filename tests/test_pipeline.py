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
