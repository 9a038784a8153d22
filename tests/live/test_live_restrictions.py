"""Restrictions made and ended at run time: checked, stored, audited, and in force for
assessment from the next cycle."""

from __future__ import annotations

import copy

import pytest

from skywarden.clock import ManualClock
from skywarden.live import RestrictionError, UnknownRestrictionError

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
