"""Temporary restrictions from the command line: made, listed and ended in the data
directory's store (skywarden.db), as the service's API makes them; the zones command.
(A running service taking them up: tests/live/test_live_restrictions.py.)"""

import pytest

from skywarden.airspace import RESTRICTING_TYPES, ZONE_TYPES, parse_time
from skywarden.airspace.geojson import feature_to_zone
from skywarden.cli import main
from skywarden.store import SqliteStore

T0 = parse_time("2025-09-11T15:00Z")


@pytest.fixture(autouse=True)
def login(monkeypatch):
    monkeypatch.setenv("LOGNAME", "alice")


def stored(data):
    with SqliteStore(data / "skywarden.db") as store:
        return store.restrictions(active_only=False), store.audit_entries()


def test_zones_add_list_end_keep_restrictions_in_the_store(tmp_path, capsys):
    data = tmp_path / "var"
    assert main(["zones", "add", "--data", str(data), "--name", "Rzeszow closure",
                 "--type", "restricted", "--circle", "50.110,22.019,15000", "--ceiling",
                 "FL95", "--start", "2025-09-10T21:30Z", "--end", "2099-09-11T06:30Z",
                 "--owner", "pol"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("made TR-0001: Rzeszow closure, restricted for all, SFC to FL095, "
                          "from 2025-09-10T21:30Z to 2099-09-11T06:30Z")
    assert "by cli:alice" in out
    assert main(["zones", "add", "--data", str(data), "--name", "Night drone ban", "--id",
                 "NDB", "--type", "border_buffer", "--polygon",
                 "54.0,23.5;53.0,23.9;53.0,23.2", "--applies", "drones", "--daily", "SS-SR",
                 "--start", "2025-09-10T00:00Z", "--source", "NOTAM A1234/25"]) == 0
    capsys.readouterr()
    # in the store, as the API keeps them: the zone as a Feature, audited with the login
    restrictions, audit = stored(data)
    assert [(r.zone, r.created_by, r.ended) for r in restrictions] == [
        ("TR-0001", "cli:alice", None), ("NDB", "cli:alice", None)]
    zone = feature_to_zone(restrictions[0].body)
    assert (zone.circle, zone.owner, str(zone.ceiling)) == ((50.11, 22.019, 15000.0), "POL",
                                                             "FL095")
    assert zone.start == parse_time("2025-09-10T21:30Z")
    ndb = feature_to_zone(restrictions[1].body)
    assert (ndb.applies, [str(w) for w in ndb.daily], ndb.source) == (
        "drones", ["SS-SR"], "NOTAM A1234/25")
    assert [(e.action, e.actor, e.subject) for e in audit if e.action.startswith("restr")] \
        == [("restriction.made", "cli:alice", "TR-0001"), ("restriction.made", "cli:alice",
                                                           "NDB")]

    assert main(["zones", "list", "--data", str(data), "--at", "2025-09-10T22:00Z"]) == 0
    out = capsys.readouterr().out
    assert "TR-0001" in out and "NDB" in out and "SS-SR" in out
    assert "Night drone ban (restriction by cli:alice)" in out
    assert out.rstrip().endswith("10 zones, 8 in force at 2025-09-10T22:00Z")

    assert main(["zones", "end", "TR-0001", "--data", str(data)]) == 0
    assert capsys.readouterr().out.startswith("ended TR-0001 at ")
    restrictions, audit = stored(data)
    assert restrictions[0].ended is not None and restrictions[0].ended_by == "cli:alice"
    assert audit[-1].action == "restriction.ended" and audit[-1].actor == "cli:alice"
    # ended: listed as ended and in force no more, whatever its own times say
    assert main(["zones", "list", "--data", str(data), "--at", "2025-09-10T22:00Z",
                 "--active"]) == 0
    out = capsys.readouterr().out
    assert "TR-0001" not in out and "NDB" in out
    assert main(["zones", "list", "--data", str(data)]) == 0
    assert "Rzeszow closure (restriction by cli:alice, ended " in capsys.readouterr().out
    assert main(["zones", "end", "TR-0001", "--data", str(data)]) == 1
    assert "no restriction 'TR-0001' in force" in capsys.readouterr().err
    # ids are never reused
    assert main(["zones", "add", "--data", str(data), "--name", "again", "--type", "danger",
                 "--circle", "50,22,1000"]) == 0
    assert capsys.readouterr().out.startswith("made TR-0003: again")


def test_zones_add_refuses_bad_input_naming_the_option(tmp_path, capsys):
    base = ["zones", "add", "--data", str(tmp_path), "--name", "x", "--type", "danger"]
    assert main([*base, "--polygon", "54,23;53,23.9"]) == 1
    assert "option --polygon: an outline needs at least 3 different corners" in \
        capsys.readouterr().err
    assert main([*base, "--polygon", "54,23;53;53,23.2"]) == 1
    assert "option --polygon: wants 'LAT,LON;LAT,LON;...'" in capsys.readouterr().err
    assert main([*base, "--circle", "50,22,1000", "--ceiling", "tall"]) == 1
    assert "option --ceiling: vertical limit 'tall' is not understood" in \
        capsys.readouterr().err
    assert main([*base, "--circle", "50,22,1000", "--end", "+1h", "--start", "+2h"]) == 1
    assert "option --end: end is before start" in capsys.readouterr().err
    assert main([*base, "--circle", "50,22,0"]) == 1
    assert "option --circle: circle radius 0.0 m is not positive" in capsys.readouterr().err
    assert main([*base, "--circle", "50,22,1000", "--id", "EPWA-DRONE"]) == 1
    assert "option --id: 'EPWA-DRONE' is taken" in capsys.readouterr().err  # a shipped zone
    with pytest.raises(SystemExit):  # argparse: only the types that restrict
        main(["zones", "add", "--data", str(tmp_path), "--name", "x", "--type", "airport",
              "--circle", "50,22,1000"])
    assert "argument --type: invalid choice: 'airport'" in capsys.readouterr().err
    with SqliteStore(tmp_path / "skywarden.db") as store:
        assert store.restrictions(active_only=False) == []


def test_restricting_types_are_zone_types_less_those_that_restrict_nothing():
    assert set(RESTRICTING_TYPES) == set(ZONE_TYPES) - {"airport", "other"}


def test_the_old_file_store_is_named_as_no_longer_read(tmp_path, capsys):
    (tmp_path / "restrictions.jsonl").write_text('{"event":"made","time":1,"zone":{}}\n')
    assert main(["zones", "list", "--data", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {tmp_path / 'restrictions.jsonl'} is the file store of an earlier " \
        "version and is no longer read: its restrictions are not in force" in err
    assert "skywarden.db does not exist: no restrictions" in err
    assert main(["zones", "end", "TR-0001", "--data", str(tmp_path)]) == 1
    assert "skywarden.db does not exist: no restrictions to end" in capsys.readouterr().err
    assert not (tmp_path / "skywarden.db").exists()  # list and end make no store


def test_zones_check_names_bad_features_and_exits_one(tmp_path, capsys):
    path = tmp_path / "air.txt"
    path.write_text("AC R\nAN OK\nDP 52:00:00 N 023:00:00 E\nDP 52:10:00 N 023:00:00 E\n"
                    "DP 52:10:00 N 023:10:00 E\nAC R\nAN BROKEN\nAL FL200\nAH FL100\n"
                    "DP 52:00:00 N 023:00:00 E\nDP 52:10:00 N 023:00:00 E\n"
                    "DP 52:10:00 N 023:10:00 E\n")
    assert main(["zones", "check", str(path)]) == 1
    captured = capsys.readouterr()
    assert f"{path}: line 6 (airspace 1 'BROKEN'): floor FL200 is not below ceiling FL100" \
        in captured.err
    assert f"{path}: 1 zones, 1 bad features skipped" in captured.out
    good = tmp_path / "good.txt"
    good.write_text("AC R\nAN OK\nDP 52:00:00 N 023:00:00 E\nDP 52:10:00 N 023:00:00 E\n"
                    "DP 52:10:00 N 023:10:00 E\n")
    assert main(["zones", "check", str(good)]) == 0
    assert "1 zones (1 restricted)" in capsys.readouterr().out


def test_command_line_times_count_from_now_both_ways_and_say_the_forms():
    from skywarden.zones import cli_time

    now = 1_757_540_000.0
    assert cli_time("now", now) == now
    assert cli_time("+6h", now) == now + 6 * 3600
    assert cli_time("-30m", now) == now - 1800
    assert cli_time("2025-09-10T20:00Z", now) == parse_time("2025-09-10T20:00Z")
    with pytest.raises(ValueError, match=r"\+6h, -30m"):
        cli_time("tomorrow", now)
