"""The command line: help texts, exit statuses, errors in the user's words."""

import json

import pytest

from skywarden.cli import COMMANDS, main


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: skywarden {command}" in out
    assert len(out) > 300  # a description, not just the usage line


def test_check_detections_names_every_bad_line(tmp_path, capsys):
    path = tmp_path / "dets.jsonl"
    good = {"time": 1757450000.0, "sensor": "a1", "lat": 52.0, "lon": 23.0}
    path.write_text("\n".join([json.dumps(good), "{oops", json.dumps(good | {"lat": 200})]) + "\n")
    assert main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert f"{path}:2: not valid JSON" in captured.err
    assert f"{path}:3: field lat" in captured.err
    assert "1 good lines, 2 bad lines skipped" in captured.out


def test_check_names_a_time_spike_as_track_and_replay_would_drop_it(tmp_path, capsys):
    path = tmp_path / "dets.jsonl"
    rows = [{"time": 1757450000.0 + t, "sensor": "a1", "lat": 52.0, "lon": 23.0}
            for t in range(30)]
    rows.insert(10, rows[9] | {"time": 1757450000.0 + 7200.0})  # line 11
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert f"{path}:11: time far ahead of the detections around it" in captured.err
    assert "30 good lines, 1 bad lines skipped" in captured.out


def test_check_clean_file_exits_zero(tmp_path, capsys):
    path = tmp_path / "dets.jsonl"
    path.write_text(json.dumps({"time": 1757450000.0, "sensor": "a1", "lat": 52.0, "lon": 23.0}) + "\n")
    assert main(["check", str(path)]) == 0


def test_bad_registry_is_exit_one_with_the_reason(tmp_path, capsys):
    path = tmp_path / "sensors.toml"
    path.write_text('[[sensor]]\nid = "r"\ntype = "radar"\nowner = "POL"\n')
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "a radar sensor needs its site" in err and str(path) in err


def test_missing_file_is_exit_one(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


SENSORS = '[[sensor]]\nid = "a1"\ntype = "adsb"\nowner = "POL"\nlat = 52.0\nlon = 23.0\n'


def _detections(tmp_path):
    """A small detections file and its registry: one ADS-B receiver, one aircraft."""
    dets, sensors = tmp_path / "detections.jsonl", tmp_path / "sensors.toml"
    dets.write_text("".join(
        json.dumps({"time": 1757450000.0 + k, "sensor": "a1", "lat": 52.0, "lon": 23.0 + k * 1e-3,
                    "alt": 3000.0, "id": "icao:4CA2D1"}) + "\n" for k in range(10)))
    sensors.write_text(SENSORS)
    return dets, sensors


def test_a_folder_given_as_an_input_file_is_named_without_a_traceback(tmp_path, capsys):
    _, sensors = _detections(tmp_path)
    assert main(["check", str(tmp_path)]) == 1
    assert main(["track", str(tmp_path), "--sensors", str(sensors),
                 "-o", str(tmp_path / "tracks.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.count(f"{tmp_path}: Is a directory") == 2
    assert "Traceback" not in err


def test_track_output_that_is_a_folder_fails_before_the_run_and_leaves_nothing(tmp_path,
                                                                              capsys):
    dets, sensors = _detections(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["track", str(dets), "--sensors", str(sensors), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert f"{out}: Is a directory" in captured.err
    assert "tracks in output" not in captured.out  # refused before tracking, not after
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left
    assert list(out.iterdir()) == []


def test_sim_into_a_file_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "truth.jsonl"
    out.write_text("keep\n")
    assert main(["sim", "scale", "--targets", "2", "--duration", "10", "-o", str(out)]) == 1
    assert f"{out}: a file, not a folder" in capsys.readouterr().err
    assert out.read_text() == "keep\n"


@pytest.mark.parametrize("command", [
    ["track", "{dets}", "--sensors", "{sensors}", "-o", "{dets}"],
    ["track", "{dets}", "--sensors", "{sensors}", "-o", "{sensors}"],
    ["decode", "--format", "sbs", "{dets}", "--sensor", "a1", "-o", "{dets}"],
    ["replay", "{dets}", "--alerts-out", "{dets}"],
    ["replay", "{dets}", "--tracks-out", "{sensors}"],
])
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, capsys, command):
    dets, sensors = _detections(tmp_path)
    before = dets.read_bytes(), sensors.read_bytes()
    argv = [a.format(dets=dets, sensors=sensors) for a in command]
    assert main(argv) == 1
    assert "is also an input" in capsys.readouterr().err
    assert (dets.read_bytes(), sensors.read_bytes()) == before


def test_a_binary_file_given_as_toml_is_named_without_a_traceback(tmp_path, capsys):
    dets, sensors = _detections(tmp_path)
    junk = tmp_path / "junk.toml"
    junk.write_bytes(b"\x90\xa6\x00\xff binary, not TOML")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "default.toml").write_bytes(junk.read_bytes())
    out = str(tmp_path / "tracks.jsonl")
    runs = [["check", str(junk)],
            ["track", str(dets), "--sensors", str(junk), "-o", out],
            ["track", str(dets), "--sensors", str(sensors), "--config", str(junk), "-o", out],
            ["replay", str(dets), "--rules", str(rules)]]
    for argv in runs:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and "not valid TOML: not UTF-8 text" in err, (argv, err)


def test_track_config_without_a_tracker_table_is_refused(tmp_path, capsys):
    dets, sensors = _detections(tmp_path)
    config = tmp_path / "tracker.toml"
    config.write_text("[trackr]\nconfirm_hits = 3\n")
    assert main(["track", str(dets), "--sensors", str(sensors), "--config", str(config),
                 "-o", str(tmp_path / "tracks.jsonl")]) == 1
    err = capsys.readouterr().err
    assert f"{config}: unknown table(s) trackr (a tracker settings file holds [tracker])" in err
    assert not (tmp_path / "tracks.jsonl").exists()


def test_tracker_settings_files_name_their_mistakes_with_the_line(tmp_path, capsys):
    """track --config and replay --tracker-config read one [tracker] table: a bad key
    is named with file:line; identity_rules is relative to the file."""
    dets, sensors = _detections(tmp_path)
    config = tmp_path / "tracker.toml"
    config.write_text("# settings\n\n[tracker]\nwindw = 2.0\n")
    for argv in (["track", str(dets), "--sensors", str(sensors), "--config", str(config),
                  "-o", str(tmp_path / "tracks.jsonl")],
                 ["replay", str(dets), "--tracker-config", str(config)]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert f"{config}:3: [tracker]: unknown tracker setting(s) windw" in err, err
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "ids.toml").write_text('allow = ["icao:4CA*"]\n')
    config.write_text('[tracker]\nidentity_rules = "rules/ids.toml"\n')
    from skywarden.track.config import load_tracker_file

    assert load_tracker_file(config).identity_rules == str(tmp_path / "rules" / "ids.toml")


def test_replay_of_a_missing_source_names_it_not_the_registry(tmp_path, capsys):
    missing = tmp_path / "nosuch"
    assert main(["replay", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: no such file or folder" in err and "sensors.toml" not in err


def test_replay_without_a_registry_beside_says_to_give_one(tmp_path, capsys):
    dets, sensors = _detections(tmp_path)
    sensors.unlink()
    assert main(["replay", str(dets)]) == 1
    err = capsys.readouterr().err
    assert f"{sensors}: no sensor registry beside the detections; give --sensors" in err


def _help(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


def test_help_says_duration_is_for_every_scenario(tmp_path, capsys):
    out = _help("sim", capsys)
    scale_group = out.split("scale scenario parameters:")[1].split("\n\n")[0]
    assert "--duration" not in scale_group  # it shortens any scenario, not only scale
    assert main(["sim", "airport-drones", "--duration", "30", "-o", str(tmp_path)]) == 0


def test_help_of_demo_and_check_say_what_they_do(capsys):
    demo = " ".join(_help("demo", capsys).split())
    assert "alert timeline" in demo and "scores" in demo
    check = " ".join(_help("check", capsys).split())
    assert "detections (default)" not in check  # the record type is guessed, or --as


def test_check_of_a_compressed_file_cut_short_names_the_break(tmp_path, capsys):
    import gzip

    path = tmp_path / "dets.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"time": 1757450000.0, "sensor": "a1"}\n' * 100)[:20])
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1: compressed file ends early (truncated)" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["track", "replay"])
def test_an_input_with_no_usable_line_fails_and_says_what_to_check(tmp_path, capsys, command):
    dets, sensors = _detections(tmp_path)
    truth = tmp_path / "truth.jsonl"  # a truth file given where detections go
    truth.write_text('{"time": 1757462400.0, "target": "d1", "lat": 52.0, "lon": 23.0, '
                     '"alt": 300.0, "cls": "drone"}\n' * 3)
    argv = ([command, str(truth), "--sensors", str(sensors)]
            + (["-o", str(tmp_path / "tracks.jsonl")] if command == "track" else []))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"{truth}: none of its 3 lines is a usable detection" in err
    assert "skywarden check" in err
    # the same command on the good file still exits 0
    good = [command, str(dets), "--sensors", str(sensors)]
    assert main(good + (["-o", str(tmp_path / "t2.jsonl")] if command == "track" else [])) == 0
    capsys.readouterr()
    # the detections of one recording with the registry of another: the registry is named
    other = tmp_path / "other.toml"
    other.write_text(SENSORS.replace('"a1"', '"b7"'))
    argv = ([command, str(dets), "--sensors", str(other)]
            + (["-o", str(tmp_path / "t3.jsonl")] if command == "track" else []))
    assert main(argv) == 1
    assert f"none of its sensors is in {other}" in capsys.readouterr().err


@pytest.mark.parametrize("command", [
    ["play", "{dir}", "--format", "sbs", "--serve", "127.0.0.1:0"],
    ["decode", "--format", "sbs", "{dir}", "--sensor", "a1", "-o", "{out}"],
    ["replay", "{dir}", "--format", "sbs", "--sensors", "{sensors}", "--sensor", "a1"],
])
def test_a_folder_given_as_a_recording_is_called_a_folder(tmp_path, capsys, command):
    _, sensors = _detections(tmp_path)
    folder = tmp_path / "rec"
    folder.mkdir()
    argv = [a.format(dir=folder, out=tmp_path / "d.jsonl", sensors=sensors) for a in command]
    assert main(argv) == 1
    assert f"{folder}: a folder, not a recording file" in capsys.readouterr().err


def test_check_of_a_pipe_asks_what_it_holds_then_reads_it_once(tmp_path, capsys):
    # Guessing the kind from a pipe would eat its first lines; with --as it is read whole.
    import os
    import threading

    line = json.dumps({"time": 1757450000.0, "sensor": "r1", "kind": "position",
                       "lat": 52.0, "lon": 23.0}) + "\n"
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    assert main(["check", str(fifo)]) == 1
    assert "--as" in capsys.readouterr().err

    def write() -> None:
        with fifo.open("w") as fh:
            fh.write(line * 500)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    assert main(["check", str(fifo), "--as", "detections"]) == 0
    writer.join(timeout=20)
    assert "500" in capsys.readouterr().out


def test_score_of_a_file_with_no_line_of_its_kind_fails_naming_it(tmp_path, capsys):
    truth = tmp_path / "truth.jsonl"
    truth.write_text("".join(json.dumps(
        {"time": 1757462400.0 + k, "target": "d1", "lat": 52.0, "lon": 23.0, "alt": 300.0,
         "vel_e": 0.0, "vel_n": 0.0, "vel_u": 0.0, "cls": "drone"}) + "\n" for k in range(3)))
    dets, _ = _detections(tmp_path)  # detections given where tracks go
    assert main(["score", str(truth), str(dets)]) == 1
    err = capsys.readouterr().err
    assert f"{dets}: none of its" in err and "is a track line" in err
    # truth scored against itself read as tracks is a (perfect) score, exit 0
    assert main(["score", str(truth), str(truth)]) == 0


def test_replay_names_a_rules_folder_or_cap_folder_that_is_not_one(tmp_path, capsys):
    dets, sensors = _detections(tmp_path)
    base = ["replay", str(dets), "--sensors", str(sensors)]
    assert main([*base, "--rules", str(tmp_path / "nosuch")]) == 1
    assert f"{tmp_path / 'nosuch'}: no such folder" in capsys.readouterr().err
    assert main([*base, "--rules", str(sensors)]) == 1
    assert "a file, not a folder of rules files" in capsys.readouterr().err
    assert main([*base, "--cap-out", str(sensors)]) == 1
    assert f"{sensors}: a file, not a folder" in capsys.readouterr().err


def test_a_negative_seed_is_a_usage_error_and_demo_names_an_output_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["sim", "scale", "--targets", "2", "--duration", "10", "--seed", "-1",
              "-o", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert "--seed: '-1': a whole number >= 0" in capsys.readouterr().err
    file = tmp_path / "taken"
    file.write_text("keep me")
    assert main(["demo", "-o", str(file)]) == 1
    assert f"{file}: a file, not a folder" in capsys.readouterr().err
    assert file.read_text() == "keep me"
