"""Temporary restrictions: made, listed, ended, kept across restarts; the zones command."""

import json

import pytest

from skywarden.airspace import RestrictionStore, Zone, ZoneSet, parse_limit, parse_time
from skywarden.airspace import geometry as geom
from skywarden.cli import main
from skywarden.errors import ZoneError

T0 = parse_time("2025-09-11T15:00Z")


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def closure(zid, start=T0, end=None, **kw):
    return Zone(zid, kw.pop("name", f"closure {zid}"), "restricted",
                geom.circle(50.11, 22.02, 15_000.0), ceiling=parse_limit("FL95"),
                start=start, end=end, owner="POL", **kw)


def test_restrictions_persist_across_reload_and_end_keeps_history(tmp_path):
    clock = Clock(T0)
    store = RestrictionStore(tmp_path, clock=clock)
    assert store.next_id() == "TR-0001"
    store.make(closure("TR-0001"))
    store.make(closure("TR-0002", end=T0 + 6 * 3600, applies="drones"))
    assert store.next_id() == "TR-0003"

    again = RestrictionStore(tmp_path)  # a restart
    got = {r.zone.id: r for r in again.restrictions()}
    assert set(got) == {"TR-0001", "TR-0002"}
    assert got["TR-0002"].zone.applies == "drones" and got["TR-0002"].zone.end == T0 + 6 * 3600
    assert got["TR-0001"].made == T0 and got["TR-0001"].ended is None

    clock.t = T0 + 3600
    ended = store.end("TR-0001")
    assert ended.ended == T0 + 3600 and ended.zone.end == T0 + 3600
    assert [r.zone.id for r in RestrictionStore(tmp_path).list(at=T0 + 1800)] == [
        "TR-0001", "TR-0002"]
    assert [r.zone.id for r in RestrictionStore(tmp_path).list(at=T0 + 7200)] == ["TR-0002"]
    # the history: two made, one ended; nothing rewritten
    events = [json.loads(line) for line in (tmp_path / "restrictions.jsonl").read_text().splitlines()]
    assert [(e["event"], e.get("id") or e["zone"]["id"]) for e in events] == [
        ("made", "TR-0001"), ("made", "TR-0002"), ("ended", "TR-0001")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["restrictions.jsonl",
                                                         "restrictions.lock"]
    # the zones go straight into a ZoneSet
    zs = ZoneSet(RestrictionStore(tmp_path).zones())
    assert zs.contains([50.11], [22.02], alt=[500.0], t=T0 + 7200).zone.tolist() == [1]


def test_ending_twice_an_unknown_id_and_a_duplicate_are_refused(tmp_path):
    store = RestrictionStore(tmp_path, clock=Clock(T0))
    store.make(closure("A"))
    store.end("A", at=T0 + 60)
    with pytest.raises(ZoneError, match="restriction 'A': already ended at 2025-09-11T15:01Z"):
        store.end("A")
    with pytest.raises(ZoneError, match="restriction 'B': no such restriction"):
        store.end("B")
    with pytest.raises(ZoneError, match="a restriction with this id exists"):
        store.make(closure("A"))


def test_ended_before_it_started_is_cancelled(tmp_path):
    store = RestrictionStore(tmp_path, clock=Clock(T0))
    store.make(closure("LATER", start=T0 + 86400))
    r = store.end("LATER")
    assert r.cancelled
    assert store.zones() == [] and store.list(at=T0 + 90000) == []
    assert [x.zone.id for x in store.list()] == ["LATER"]


def test_a_damaged_line_is_reported_and_the_rest_kept(tmp_path):
    store = RestrictionStore(tmp_path, clock=Clock(T0))
    store.make(closure("A"))
    with (tmp_path / "restrictions.jsonl").open("a") as fh:
        fh.write('{"event": "made", "time": 1, "zone": {"truncated\n')
        fh.write('{"event": "ended", "time": 2, "id": "NOPE"}\n')
    store.make(closure("B"))  # the writer completes a line cut short
    assert [r.zone.id for r in store.restrictions()] == ["A", "B"]
    assert [str(e).split(": ", 1)[1] for e in store.errors] == [
        "line 2: not valid JSON (Unterminated string starting at)",
        "line 3: ends restriction 'NOPE', which was never made",
    ]


# -- the command line --------------------------------------------------------------------


def test_zones_add_list_end_from_the_command_line(tmp_path, capsys):
    data = str(tmp_path / "var")
    assert main(["zones", "add", "--data", data, "--name", "Rzeszow closure", "--type",
                 "restricted", "--circle", "50.110,22.019,15000", "--ceiling", "FL95",
                 "--start", "2025-09-10T21:30Z", "--end", "2025-09-11T06:30Z",
                 "--owner", "pol"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("made TR-0001: Rzeszow closure, restricted for all, SFC to FL095, "
                          "from 2025-09-10T21:30Z to 2025-09-11T06:30Z")
    assert main(["zones", "add", "--data", data, "--name", "Night drone ban", "--id", "NDB",
                 "--type", "border_buffer", "--polygon", "54.0,23.5;53.0,23.9;53.0,23.2",
                 "--applies", "drones", "--daily", "SS-SR", "--start", "2025-09-10T00:00Z"]) == 0
    capsys.readouterr()
    assert main(["zones", "list", "--data", data, "--at", "2025-09-10T22:00Z"]) == 0
    out = capsys.readouterr().out
    assert "TR-0001" in out and "NDB" in out and "SS-SR" in out
    assert out.rstrip().endswith("10 zones, 8 in force at 2025-09-10T22:00Z")
    assert main(["zones", "end", "TR-0001", "--data", data, "--at", "2025-09-11T03:00Z"]) == 0
    assert "ended TR-0001 at 2025-09-11T03:00Z: in force until 2025-09-11T03:00Z" in \
        capsys.readouterr().out
    # 03:30 UTC: TR-0001 has ended; the sun is not up yet, so the night ban holds
    assert main(["zones", "list", "--data", data, "--at", "2025-09-11T03:30Z", "--active"]) == 0
    out = capsys.readouterr().out
    assert "TR-0001" not in out
    assert "NDB" in out
    assert main(["zones", "list", "--data", data, "--at", "2025-09-11T05:30Z", "--active"]) == 0
    assert "NDB" not in capsys.readouterr().out
    assert main(["zones", "end", "TR-0001", "--data", data]) == 1
    assert "already ended" in capsys.readouterr().err


def test_zones_add_refuses_bad_input_with_the_reason(tmp_path, capsys):
    base = ["zones", "add", "--data", str(tmp_path), "--name", "x", "--type", "danger"]
    assert main([*base, "--polygon", "54,23;53,23.9"]) == 1
    assert "a ring needs at least 3 points" in capsys.readouterr().err
    assert main([*base, "--circle", "50,22,1000", "--ceiling", "tall"]) == 1
    assert "vertical limit 'tall' is not understood" in capsys.readouterr().err
    assert main([*base, "--circle", "50,22,1000", "--end", "+1h", "--start", "+2h"]) == 1
    assert "end is before start" in capsys.readouterr().err


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
