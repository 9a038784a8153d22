"""A restart takes back open alerts (ids, levels, acknowledgements), restrictions, and
never reuses a track or alert id."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from skywarden.clock import ManualClock
from skywarden.warn.cap import CAP_NS

from .scene import LT_RADAR, PL_RADAR, T0, drone, feed, plots, sensors

BOX = {
    "type": "Feature",
    "properties": {"name": "Biala Podlaska drone ban", "type": "restricted", "floor": 0,
                   "ceiling": 30, "units": "FL", "owner": "POL"},
    "geometry": {"type": "Polygon", "coordinates": [[[23.0, 51.9], [23.4, 51.9],
                                                     [23.4, 52.1], [23.0, 52.1],
                                                     [23.0, 51.9]]]},
}


def test_restart_restores_open_alerts_acks_and_restrictions(make_runtime, tmp_path):
    data = tmp_path / "data"
    clock = ManualClock(T0)
    reg = sensors(PL_RADAR)
    first = make_runtime(reg, data=data, clock=clock)
    scene = drone()
    feed(first, clock, plots(scene, reg, "PL-R1", T0, T0 + 200), T0 + 200, step=4.0)
    (alert_id,) = first.open_alert_ids()
    before = first.engine.state.alerts[alert_id]
    level, raised = before.level, before.raised
    first.acknowledge(alert_id, by="pol-ops/t1", note="tracking it")
    made = first.add_restriction(BOX, by="pol-ops/t1")
    first.close()

    second = make_runtime(reg, data=data, clock=ManualClock(T0 + 230))
    assert second.run == 2 and second.restored_alerts == 1
    alert = second.engine.state.alerts[alert_id]
    assert (alert.level, alert.raised, alert.track) == (level, raised, "T1-1")
    assert alert.acknowledged and alert.acks[-1].by == "pol-ops/t1"
    assert alert.acks[-1].note == "tracking it"
    # the restored alert stays acknowledged and may be acknowledged again
    event = second.acknowledge(alert_id, by="pol-ops/t2")
    assert event.level == level and event.releasability == "POL"
    assert [r.zone for r in second.store.restrictions()] == [made.zone]
    assert made.zone in {z.id for z in second.zones()}
    assert made.zone in second.assessor.zones.ids
    # the new run's tracks and alerts get new ids: T2-...
    clock2 = second.clock
    feed(second, clock2, plots(scene, reg, "PL-R1", T0 + 230, T0 + 400), T0 + 400, step=4.0)
    assert {u.track for u in second.picture()} == {"T2-1"}
    ids = second.open_alert_ids()
    assert alert_id in ids and any(i.startswith("T2-1:") for i in ids)
    # the old track is gone: its restored alert de-escalates after the hold time
    assert second.engine.state.alerts[alert_id].level < level
    second.flush()
    assert [a.by for a in second.store.acknowledgements(alert_id)] == ["pol-ops/t1",
                                                                      "pol-ops/t2"]
    actions = [e.action for e in second.store.audit_entries()]
    assert actions.count("service.started") == 2 and "service.stopped" in actions
    second.store.verify_audit()


def sensor_alerts(runtime) -> list[str]:
    return [i for i in runtime.open_alert_ids() if i.startswith("sensor:")]


def test_sensor_down_alert_survives_a_restart_without_a_new_id(make_runtime, tmp_path):
    data = tmp_path / "data"
    reg = sensors(PL_RADAR, LT_RADAR)
    scene = drone()

    def both(t0: float, t1: float) -> list:
        return sorted(plots(scene, reg, "PL-R1", t0, t1) + plots(scene, reg, "LT-R1", t0, t1),
                      key=lambda d: d.time)

    clock = ManualClock(T0)
    first = make_runtime(reg, data=data, clock=clock)
    # one scan of both radars, then the Polish one falls silent
    feed(first, clock, both(T0, T0 + 4), T0 + 4, step=4.0)
    feed(first, clock, plots(scene, reg, "LT-R1", T0 + 4, T0 + 100), T0 + 100, step=4.0)
    (alert_id,) = sensor_alerts(first)
    assert alert_id.startswith("sensor:PL-R1:")
    serial = int(alert_id.rsplit(":", 1)[1])
    first.close()

    clock = ManualClock(T0 + 100)
    second = make_runtime(reg, data=data, clock=clock)
    events = second.bus.subscribe("alerts.*", overflow="block", maxsize=1000)
    assert sensor_alerts(second) == [alert_id]
    # still silent after the restart: the same alert goes on (not ended and raised anew)
    feed(second, clock, plots(scene, reg, "LT-R1", T0 + 100, T0 + 140), T0 + 140, step=4.0)
    assert sensor_alerts(second) == [alert_id]
    # the radar comes back: the restored alert ends; a later silence is the next serial
    feed(second, clock, both(T0 + 140, T0 + 160), T0 + 160, step=4.0)
    assert sensor_alerts(second) == []
    down = [(d.message.alert, d.message.event) for d in events.drain()
            if d.message.kind == "sensor_down"]
    assert down == [(alert_id, "ended")]
    feed(second, clock, plots(scene, reg, "LT-R1", T0 + 160, T0 + 220), T0 + 220, step=4.0)
    assert sensor_alerts(second) == [f"sensor:PL-R1:{serial + 1}"]


def test_retention_settings_are_applied(make_runtime):
    from skywarden.live import Retention
    from skywarden.records import TrackUpdate

    clock = ManualClock(T0)
    rt = make_runtime(clock=clock, retention=Retention(track_history_s=3600.0,
                                                       events_s=86400.0))
    old = [TrackUpdate(time=T0 - 7200.0 + i, track="T0-1", lat=52.0, lon=23.0)
           for i in range(5)]
    new = [TrackUpdate(time=T0 - 60.0, track="T0-2", lat=52.0, lon=23.0)]
    rt.store.add_tracks(old + new)
    pruned = rt.prune()
    assert pruned.track_history == 5
    assert [u.track for u in rt.store.tracks_in(0, T0, south=-90, west=-180, north=90,
                                                east=180)] == ["T0-2"]


def test_public_warnings_issued_before_a_restart_are_cancelled_after_it(make_runtime,
                                                                         tmp_path):
    from .test_live_restrictions import AHEAD

    data = tmp_path / "data"
    reg = sensors(PL_RADAR)
    scene = drone()
    clock = ManualClock(T0)
    first = make_runtime(reg, data=data, clock=clock)
    zone = first.add_restriction(AHEAD, by="pol-ops/t1").zone
    # inside a prohibited zone: incursion, level 3, a CAP public warning
    feed(first, clock, plots(scene, reg, "PL-R1", T0, T0 + 240), T0 + 240, step=4.0)
    (alert_id,) = [a for a in first.open_alert_ids() if f":{zone}:" in a]
    assert first.engine.state.alerts[alert_id].level == 3
    first.flush()
    (issued,) = list((data / "cap" / "POL").glob("*.xml"))
    first.close()

    clock = ManualClock(T0 + 250)
    second = make_runtime(reg, data=data, clock=clock)
    cap = second.bus.subscribe("cap.*", overflow="block", maxsize=100)
    identifier = ET.fromstring(issued.read_bytes()).find(f"{{{CAP_NS}}}identifier").text
    assert identifier.encode() in second.cap_feed("POL")  # listed again after the restart
    # the aircraft is tracked anew (T2-1); the old track's alert falls below the public
    # level after the hold time, and its warning is cancelled with a reference to it
    feed(second, clock, plots(scene, reg, "PL-R1", T0 + 250, T0 + 320), T0 + 320, step=4.0)
    cancels = [d.message.message for d in cap.drain()
               if d.message.message.alert_id == alert_id]
    assert [m.msg_type for m in cancels] == ["Cancel"]
    assert any(identifier in ref for ref in cancels[0].references)


def _thread(path):
    """(thread key, message type, references, identifier) of a CAP file the service wrote."""
    root = ET.fromstring(path.read_bytes())
    q = f"{{{CAP_NS}}}"
    params = {p.findtext(f"{q}valueName"): p.findtext(f"{q}value")
              for p in root.iter(f"{q}parameter")}
    return (params.get("skywarden:region"), root.findtext(f"{q}msgType"),
            root.findtext(f"{q}references") or "", root.findtext(f"{q}identifier"))


def test_a_regions_public_warning_carries_on_across_a_restart(make_runtime, tmp_path):
    """A drone over eastern Poland: its region's warning, issued before a restart, is
    taken up after it (the new run's track joins it without a second Alert) and is given
    its all clear, referencing the first message, once the drone is gone."""
    data = tmp_path / "data"
    reg = sensors(PL_RADAR)
    scene = drone(east=-22_000.0)  # 4-5 km east of the border with Belarus
    clock = ManualClock(T0)
    first = make_runtime(reg, data=data, clock=clock)
    feed(first, clock, plots(scene, reg, "PL-R1", T0, T0 + 240), T0 + 240, step=4.0)
    first.flush()
    before = [_thread(p) for p in (data / "cap" / "POL").glob("*.xml")]
    last = {}  # region -> its thread's last message before the restart
    for region, kind, _, ident in sorted(before, key=lambda m: int(m[3].rsplit(".", 1)[1])):
        if region:
            last[region] = (kind, ident)
    opened = {region: ident.rsplit(".", 1)[0] + ".1" for region, (kind, ident) in last.items()
              if kind != "Cancel"}
    assert opened, before  # the drone's region is warned
    first.close()

    clock = ManualClock(T0 + 250)
    second = make_runtime(reg, data=data, clock=clock)
    for ident in opened.values():
        assert ident.encode() in second.cap_feed("POL")
    cap = second.bus.subscribe("cap.*", overflow="block", maxsize=1000)
    feed(second, clock, plots(scene, reg, "PL-R1", T0 + 250, T0 + 320), T0 + 320, step=4.0)
    feed(second, clock, [], T0 + 1200, step=10.0)  # the drone is gone: every alert ends
    after = [d.message.message for d in cap.drain()]
    for region, ident in opened.items():
        mine = [m for m in after if m.alert_id == f"POL/{region}"]
        assert "Alert" not in [m.msg_type for m in mine], region
        assert mine and mine[-1].msg_type == "Cancel", region
        assert any(ident in ref for ref in mine[-1].references)
    assert second.engine.cap.active("POL") == []
