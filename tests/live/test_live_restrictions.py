"""Restrictions made and ended at run time: checked, stored, audited, and in force for
assessment from the next cycle."""

from __future__ import annotations

import copy

import pytest

from skywarden.cli import main
from skywarden.clock import ManualClock
from skywarden.live import RestrictionError, UnknownRestrictionError
from support import wait_until as wait_for

from .scene import LAT0, LON0, PL_RADAR, T0, drone, feed, plots, sensors

# A box the drone flies through (it starts 12 km east of the centre, heading west).
AHEAD = {
    "type": "Feature",
    "properties": {"name": "Terespol closure", "type": "prohibited", "floor": 0,
                   "ceiling": 3000, "units": "m", "owner": "POL"},
    "geometry": {"type": "Polygon", "coordinates": [[
        [LON0 - 0.05, LAT0 - 0.05], [LON0 + 0.05, LAT0 - 0.05], [LON0 + 0.05, LAT0 + 0.05],
        [LON0 - 0.05, LAT0 + 0.05], [LON0 - 0.05, LAT0 - 0.05]]]},
}


def zone_rows(runtime, zone_id: str) -> int:
    a = runtime.last_assessment
    return 0 if a is None else int(((a.target_kind == "zone") & (a.target_id == zone_id)).sum())


def test_restriction_made_at_run_time_changes_the_assessment(make_runtime):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR), clock=clock)
    alerts = rt.bus.subscribe("alerts.*", overflow="block", maxsize=1000)
    scene = drone()
    feed(rt, clock, plots(scene, rt.registry, "PL-R1", T0, T0 + 60), T0 + 60, step=4.0)
    assert zone_rows(rt, "TR-0001") == 0
    made = rt.add_restriction(AHEAD, by="pol-ops/abc")
    assert made.zone == "TR-0001" and made.created_by == "pol-ops/abc"
    assert made.body["properties"]["ceiling"] == "3000 m AMSL"
    feed(rt, clock, plots(scene, rt.registry, "PL-R1", T0 + 60, T0 + 100), T0 + 100, step=4.0)
    assert zone_rows(rt, "TR-0001") >= 1
    zone_events = [d.message for d in alerts.drain() if d.message.zone == "TR-0001"]
    assert zone_events and zone_events[0].event == "raised"
    assert zone_events[0].nation == "POL" and zone_events[0].zone_type == "prohibited"
    audit = [e for e in rt.store.audit_entries() if e.action == "restriction.made"]
    assert audit[-1].actor == "pol-ops/abc" and audit[-1].subject == "TR-0001"
    geo = rt.zones_geojson()
    (feature,) = [f for f in geo["features"] if f["id"] == "TR-0001"]
    assert feature["properties"]["restriction"] is True
    # ended: out of the assessment from the next cycle
    ended = rt.end_restriction("TR-0001", by="pol-ops/def")
    assert ended.ended_by == "pol-ops/def"
    feed(rt, clock, plots(scene, rt.registry, "PL-R1", T0 + 100, T0 + 110), T0 + 110, step=4.0)
    assert zone_rows(rt, "TR-0001") == 0
    assert rt.store.restrictions() == []
    with pytest.raises(UnknownRestrictionError, match="TR-0001"):
        rt.end_restriction("TR-0001", by="pol-ops/def")


def bad(**changes) -> dict:
    f = copy.deepcopy(AHEAD)
    for key, value in changes.items():
        if key == "geometry":
            f["geometry"] = value
        elif value is None:
            f["properties"].pop(key)
        else:
            f["properties"][key] = value
    return f


@pytest.mark.parametrize(
    ("feature", "where", "reason"),
    [
        (bad(type=None), "properties.type", "missing"),
        (bad(type="airport"), "properties.type", "restricts nothing"),
        (bad(type="forbidden"), "properties.type", "is not one of"),
        (bad(units="yards"), "properties.units", "'yards' is not one of m, ft, FL"),
        (bad(floor=5000), "properties.floor", "is not below ceiling"),
        (bad(end="2020-01-01T00:00:00Z"), "properties.end", "end is in the past"),
        (bad(start="tomorrow"), "properties.start", "neither epoch seconds nor an ISO 8601"),
        (bad(applies_to="boats"), "properties.applies", "applies 'boats' is not one of"),
        (bad(geometry={"type": "LineString", "coordinates": [[23, 52], [24, 52]]}),
         "geometry", "is not a Polygon"),
        (bad(geometry={"type": "Polygon", "coordinates": [[[23, 52], [24, 52]]]}),
         "geometry", "fewer than 3 points"),
        ({"type": "FeatureCollection", "features": []}, "type", "one GeoJSON Feature"),
        ([1, 2], "feature", "a GeoJSON Feature object"),
    ],
)
def test_bad_restriction_is_refused_with_where_and_why(make_runtime, feature, where, reason):
    rt = make_runtime()
    with pytest.raises(RestrictionError) as caught:
        rt.add_restriction(feature, by="pol-ops/abc")
    assert caught.value.where == where
    assert reason in caught.value.reason
    assert rt.store.restrictions(active_only=False) == []


def test_restriction_ids_are_never_reused(make_runtime):
    rt = make_runtime()
    one = rt.add_restriction(AHEAD, by="a")
    rt.end_restriction(one.zone, by="a")
    two = rt.add_restriction(AHEAD, by="a")
    assert (one.zone, two.zone) == ("TR-0001", "TR-0002")
    named = bad(id="TR-0002")
    with pytest.raises(RestrictionError, match="'TR-0002' is taken"):
        rt.add_restriction(named, by="a")


# -- restrictions made by another process: the zones command on the service's data dir ---

# The box above for the command line: 'LAT,LON;...' corners and a start before the scene.
BOX = ";".join(f"{LAT0 + dlat},{LON0 + dlon}" for dlat, dlon in
               ((-0.05, -0.05), (-0.05, 0.05), (0.05, 0.05), (0.05, -0.05)))
CLI_ADD = ["zones", "add", "--name", "Terespol closure (CLI)", "--type", "prohibited",
           "--polygon", BOX, "--ceiling", "3000", "--start", "2025-09-09T00:00Z",
           "--owner", "POL"]


def test_cli_restriction_in_the_data_dir_is_taken_up_by_the_running_service(
        make_runtime, monkeypatch, capsys):
    monkeypatch.setenv("LOGNAME", "alice")
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR), clock=clock)
    data = str(rt.data_dir)
    scene = drone()
    feed(rt, clock, plots(scene, rt.registry, "PL-R1", T0, T0 + 60), T0 + 60, step=4.0)
    assert zone_rows(rt, "TR-0001") == 0
    assert rt.poll_restrictions() is False  # nothing changed: no rebuild

    assert main([*CLI_ADD, "--data", data]) == 0
    assert capsys.readouterr().out.startswith("made TR-0001: Terespol closure (CLI)")
    made = [e for e in rt.store.audit_entries() if e.action == "restriction.made"]
    assert [(e.actor, e.subject) for e in made] == [("cli:alice", "TR-0001")]
    # the next tick polls the store (the retention thread does it every 2 s when running)
    feed(rt, clock, plots(scene, rt.registry, "PL-R1", T0 + 60, T0 + 100), T0 + 100, step=4.0)
    assert zone_rows(rt, "TR-0001") >= 1
    assert [z.id for z in rt.zones()] == ["TR-0001"]
    assert rt.poll_restrictions() is False  # taken up once

    assert main(["zones", "end", "TR-0001", "--data", data]) == 0
    assert "ended TR-0001" in capsys.readouterr().out
    assert rt.poll_restrictions() is True
    feed(rt, clock, plots(scene, rt.registry, "PL-R1", T0 + 100, T0 + 110), T0 + 110, step=4.0)
    assert zone_rows(rt, "TR-0001") == 0
    (ended,) = rt.store.restrictions(active_only=False)
    assert ended.ended_by == "cli:alice"
    # the API's next id follows the command line's: one sequence
    assert rt.add_restriction(AHEAD, by="pol-ops/abc").zone == "TR-0002"
    assert rt.poll_restrictions() is False  # the API path already set the zones


def test_the_retention_thread_polls_the_restrictions_within_seconds(
        make_runtime, assessor, monkeypatch):
    seen: list[list[str]] = []
    original = assessor.set_zones

    def record(zones, parts=None):
        seen.append([] if zones is None else list(zones.ids))
        # the runtime builds the zones' parts before it hands them over
        assert zones is None or parts is not None
        original(zones, parts)

    monkeypatch.setattr(assessor, "set_zones", record)
    rt = make_runtime(sensors(PL_RADAR), clock=ManualClock(T0))
    rt.start()
    assert main([*CLI_ADD, "--data", str(rt.data_dir)]) == 0
    assert wait_for(lambda: bool(seen) and seen[-1] == ["TR-0001"], timeout=8.0), seen
    assert main(["zones", "end", "TR-0001", "--data", str(rt.data_dir)]) == 0
    assert wait_for(lambda: seen[-1] == [], timeout=8.0), seen


def test_cli_list_shows_restrictions_made_through_the_api(make_runtime, capsys):
    rt = make_runtime()
    rt.add_restriction(AHEAD, by="pol-ops/abc")
    rt.add_restriction(bad(name="Second"), by="pol-ops/abc")
    rt.end_restriction("TR-0002", by="pol-ops/def")
    assert main(["zones", "list", "--data", str(rt.data_dir), "--at", "now"]) == 0
    out = capsys.readouterr().out
    (one,) = [line for line in out.splitlines() if line.startswith("TR-0001")]
    assert one.endswith("Terespol closure (restriction by pol-ops/abc)")
    assert "  yes  " in one  # in force
    (two,) = [line for line in out.splitlines() if line.startswith("TR-0002")]
    assert "  no  " in two and ", ended " in two and two.endswith("by pol-ops/def)")
    assert main(["zones", "list", "--data", str(rt.data_dir), "--active"]) == 0
    out = capsys.readouterr().out
    assert "TR-0001" in out and "TR-0002" not in out


def test_cli_refusals_name_the_option_and_store_nothing(make_runtime, capsys):
    rt = make_runtime()
    data = str(rt.data_dir)
    cases = [
        (["--ceiling", "tall"], "option --ceiling: vertical limit 'tall' is not understood"),
        (["--floor", "FL100", "--ceiling", "FL50"],
         "option --floor: floor FL100 is not below ceiling FL050"),
        (["--end", "2020-01-01T00:00Z", "--start", "2019-12-31T00:00Z"],
         "option --end: the restriction would end before it is made"),
        (["--start", "tomorrow"], "option --start: time: 'tomorrow' is neither"),
        (["--daily", "banana"], "option --daily: daily window 'banana'"),
        (["--owner", "POLAND"], "option --owner: owner 'POLAND' is not an ISO 3166-1"),
    ]
    for extra, message in cases:
        assert main([*CLI_ADD, "--data", data, *extra]) == 1, extra
        assert message in capsys.readouterr().err, extra
    add = [a for a in CLI_ADD if a not in ("--polygon", BOX)]
    assert main([*add, "--data", data, "--polygon", "52,23;52.1,23"]) == 1
    assert "option --polygon: an outline needs at least 3 different corners" in \
        capsys.readouterr().err
    assert main([*add, "--data", data, "--circle", "52,23"]) == 1
    assert "option --circle: wants LAT,LON,RADIUS_M" in capsys.readouterr().err
    assert rt.store.restrictions(active_only=False) == []
    rt.add_restriction(AHEAD, by="a")
    assert main([*CLI_ADD, "--data", data, "--id", "TR-0001"]) == 1
    assert "option --id: 'TR-0001' is taken" in capsys.readouterr().err
    assert main(["zones", "end", "TR-0009", "--data", data]) == 1
    assert "no restriction 'TR-0009' in force" in capsys.readouterr().err


@pytest.mark.parametrize("watch", [True, False])
def test_an_entry_is_warned_at_once_not_at_the_next_period(make_runtime, watch):
    """With a 10-minute assessment period, only the entry watch raises the violation
    while the drone is inside (it enters the box about 190 s in)."""
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR), clock=clock, assess_period=600.0)
    if not watch:
        rt.worker.entries = None
    alerts = rt.bus.subscribe("alerts.*", overflow="block", maxsize=1000)
    rt.add_restriction(AHEAD, by="pol-ops/abc")
    scene = drone()
    feed(rt, clock, plots(scene, rt.registry, "PL-R1", T0, T0 + 260), T0 + 260, step=1.0)
    raised = [d.message for d in alerts.drain()
              if d.message.zone == "TR-0001" and d.message.event == "raised"]
    early = rt.metrics.early_cycles._value.get()
    if not watch:
        assert raised == [] and early == 0
        return
    assert len(raised) == 1 and early >= 1
    entry = T0 + (12_000.0 - 3_430.0) / 45.0  # the box's east edge, about 0.05 deg of lon
    # tracked and warned within a few plots of the entry, not 600 s later
    assert entry - 10.0 <= raised[0].time <= entry + 30.0, raised[0].time - entry
