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
