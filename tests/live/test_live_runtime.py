"""The live runtime end to end on a real bus, store and pipeline, driven by a hand clock:
detections in, marked track rows and alert events out, on the subjects of the contract."""

from __future__ import annotations

import sqlite3

import pytest
from prometheus_client import generate_latest

from skywarden.clock import ManualClock
from skywarden.errors import RecordError
from skywarden.live import AlertEndedError, visible
from skywarden.records import Detection, DetectionBatch
from skywarden.warn.alerts import UnknownAlertError

from .scene import LT_RADAR, PL_RADAR, T0, drone, feed, plots, sensors


def test_ingest_publishes_newest_marked_rows_per_tick_on_tracks_subjects(make_runtime):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(LT_RADAR), clock=clock)
    tracks = rt.bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=10_000)
    dets = plots(drone(), rt.registry, "LT-R1", T0, T0 + 120)
    feed(rt, clock, dets, T0 + 120, step=4.0)
    got = tracks.drain()
    assert got, "no track rows were published"
    for d in got:
        # one list of rows per nation per tick; the drone is over Belarus
        assert d.subject == "tracks.BLR"
        assert isinstance(d.message, list)
        assert len({u.track for u in d.message}) == len(d.message)  # newest row per track
    rows = [u for d in got for u in d.message]
    assert {u.track for u in rows} == {"T1-1"}  # run 1, track 1
    assert all(u.releasability == "allies" for u in rows)  # LTU radar, releasable to allies
    assert rows[-1].status == "confirmed" and rows[-1].sensors == ["LT-R1"]
    # the live picture holds the newest row, marked
    (live,) = rt.picture()
    assert live == rows[-1]
    assert rt.picture_time() == pytest.approx(T0 + 120)


def test_track_rows_and_alerts_reach_the_store_with_their_marks(make_runtime, tmp_path):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR), clock=clock)
    alerts = rt.bus.subscribe("alerts.*", overflow="block", maxsize=1000)
    feed(rt, clock, plots(drone(), rt.registry, "PL-R1", T0, T0 + 240), T0 + 240, step=4.0)
    assert rt.flush() > 0
    history = rt.store.track_history("T1-1")
    assert len(history) > 10
    con = sqlite3.connect(rt.settings.db_path)
    access = {r[0] for r in con.execute("SELECT access FROM track_history")}
    con.close()
    assert access == {'{"releasability":"POL"}'}
    # the drone heads for Poland: a predicted-entry alert for POL, Polish eyes only
    events = [d.message for d in alerts.drain()]
    assert events and {d.nation for d in events} == {"POL"}
    assert {e.releasability for e in events} == {"POL"}
    assert events[0].event == "raised" and events[0].kind == "predicted_entry"
    stored = rt.store.open_alerts("POL")
    assert [a.alert for a in stored] == [events[0].alert]
    assert stored[0].last.releasability == "POL"
    # the next predicted entry is on the row: Poland, about 15 km and 12 minutes ahead
    (live,) = rt.picture()
    assert live.next_entry is not None and live.next_entry.nation == "POL"
    assert live.time < live.next_entry.eta < live.time + 1200
    assert 0.0 < live.next_entry.probability <= 1.0 and live.next_entry.distance_m > 0


def test_an_alert_that_ends_after_its_track_keeps_the_tracks_mark(make_runtime):
    """A Polish-only track raises an alert, then is lost (deleted); its alert ends minutes
    later. Every event of that alert, the last included, is for Polish eyes only: the
    ended track must not turn into one anybody may see."""
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR), clock=clock)
    alerts = rt.bus.subscribe("alerts.*", overflow="block", maxsize=1000)
    feed(rt, clock, plots(drone(), rt.registry, "PL-R1", T0, T0 + 240), T0 + 240, step=4.0)
    feed(rt, clock, [], T0 + 1500, step=10.0)  # no more plots: the track ends, then the alert
    rt.flush()
    events = [d.message for d in alerts.drain()]
    assert events[0].event == "raised" and events[-1].event == "ended"
    assert {e.releasability for e in events} == {"POL"}
    assert rt.picture() == []


def test_national_sensor_makes_the_track_its_owners_only_for_good(make_runtime):
    clock = ManualClock(T0)
    reg = sensors(PL_RADAR, LT_RADAR)
    rt = make_runtime(reg, clock=clock)
    scene = drone()
    # the allied radar alone first: every ally may see the track
    feed(rt, clock, plots(scene, reg, "LT-R1", T0, T0 + 60), T0 + 60, step=4.0)
    (row,) = rt.picture()
    assert row.releasability == "allies"
    assert visible(row.releasability, "DEU") and not visible(row.releasability, None)
    # the Polish national radar sees it too: from then on, Polish eyes only ...
    both = sorted(plots(scene, reg, "LT-R1", T0 + 60, T0 + 100)
                  + plots(scene, reg, "PL-R1", T0 + 60, T0 + 100), key=lambda d: d.time)
    feed(rt, clock, both, T0 + 100, step=4.0)
    (row,) = rt.picture()
    assert row.track == "T1-1" and row.releasability == "POL"
    # ... even when only the allied radar holds it again (sticky for the track's life)
    feed(rt, clock, plots(scene, reg, "LT-R1", T0 + 100, T0 + 160), T0 + 160, step=4.0)
    (row,) = rt.picture()
    assert row.sensors == ["LT-R1"] and row.releasability == "POL"
    assert visible(row.releasability, "POL") and not visible(row.releasability, "LTU")


def test_unknown_sensor_is_refused_whole_and_counted(make_runtime):
    rt = make_runtime()
    bad = DetectionBatch.from_records(
        [Detection(time=T0, sensor="PL-R1", kind="position", lat=52.0, lon=23.0),
         Detection(time=T0, sensor="XX-R9", kind="position", lat=52.0, lon=23.0)],
        ("PL-R1", "XX-R9"))
    with pytest.raises(RecordError, match="'XX-R9' is not in the sensor registry"):
        rt.ingest(bad, "api")
    text = generate_latest(rt.metrics.registry).decode()
    assert 'skywarden_rejected_detections_total{reason="unknown sensor"} 2.0' in text
    assert "skywarden_ingest_detections_total{" not in text  # nothing was taken in


def test_detections_far_ahead_of_the_clock_are_refused_whole_and_counted(make_runtime):
    rt = make_runtime(clock=ManualClock(T0))
    dets = [Detection(time=T0 + 10, sensor="PL-R1", kind="position", lat=52.0, lon=23.0),
            Detection(time=T0 + 3600, sensor="PL-R1", kind="position", lat=52.0, lon=23.0)]
    with pytest.raises(RecordError, match="detection 1: field time: 3,600 s ahead"):
        rt.ingest_records(dets, "api")
    text = generate_latest(rt.metrics.registry).decode()
    assert 'reason="time ahead of the clock"} 2.0' in text
    rt.ingest_records(dets[:1], "api")  # 10 s ahead: a clock a little fast is taken


def test_batches_in_another_sensor_order_are_reindexed(make_runtime):
    clock = ManualClock(T0)
    reg = sensors(PL_RADAR, LT_RADAR)
    rt = make_runtime(reg, clock=clock)
    dets = plots(drone(), reg, "LT-R1", T0, T0 + 40)
    # a batch naming only LT-R1 (index 0 there, 1 in the registry)
    rt.ingest(DetectionBatch.from_records(dets, ("LT-R1",)), "feed")
    clock.set(T0 + 40)
    rt.tick()
    assert [r.sensors for r in rt.picture()] == [["LT-R1"]]


def test_late_detections_are_counted_used_when_a_little_late_dropped_when_more(
        make_runtime):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(LT_RADAR), clock=clock, reorder_lag=1.0, max_late_s=20.0)
    dets = plots(drone(), rt.registry, "LT-R1", T0, T0 + 60)
    on_time, late = dets[:-3], dets[-3:]  # the last three plots: 48-60 s
    feed(rt, clock, on_time, T0 + 60, step=4.0)
    clock.set(T0 + 75)
    rt.tick()  # the tracker has now taken everything up to T0 + 74
    # the newest late plot (from 56-60 s) is 14-19 s behind: used out of sequence
    rt.ingest(DetectionBatch.from_records(late[-1:], rt.registry.ids), "slow-link")
    rt.tick()
    clock.set(T0 + 80)
    rt.tick()  # now up to T0 + 79: the other two are more than 20 s behind
    rt.ingest(DetectionBatch.from_records(late[:-1], rt.registry.ids), "slow-link")
    rt.tick()
    text = generate_latest(rt.metrics.registry).decode()
    assert 'skywarden_late_detections_total{fate="out_of_sequence"} 1.0' in text
    assert 'skywarden_late_detections_total{fate="dropped"} 2.0' in text
    assert 'skywarden_rejected_detections_total{reason="late"} 2.0' in text
    assert rt.pipeline.tracker.stats.received == len(on_time) + 1


def test_acknowledge_is_stored_audited_published_and_refused_when_unknown_or_ended(
        make_runtime):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR), clock=clock)
    alerts = rt.bus.subscribe("alerts.*", overflow="block", maxsize=1000)
    feed(rt, clock, plots(drone(), rt.registry, "PL-R1", T0, T0 + 200), T0 + 200, step=4.0)
    (alert_id,) = rt.open_alert_ids()
    alerts.drain()
    event = rt.acknowledge(alert_id, by="pol-ops/abc", note="seen on radar")
    assert event.event == "acknowledged" and event.by == "pol-ops/abc"
    assert event.releasability == "POL"
    # on disk when the call returns, with who and the note
    (ack,) = rt.store.acknowledgements(alert_id)
    assert (ack.by, ack.note) == ("pol-ops/abc", "seen on radar")
    assert rt.store.alert(alert_id).acknowledged
    audit = [e for e in rt.store.audit_entries() if e.action == "alert.acknowledged"]
    assert audit and audit[-1].actor == "pol-ops/abc"
    # published for live clients, once
    assert [d.message for d in alerts.drain()] == [event]
    rt.flush()
    assert len(rt.store.acknowledgements(alert_id)) == 1
    with pytest.raises(UnknownAlertError):
        rt.acknowledge("T9-9:POL:1", by="pol-ops/abc")
    # the track leaves the picture: its alert ends, and cannot be acknowledged
    clock.set(T0 + 1200)
    for _ in range(3):
        rt.tick()
        clock.advance(100.0)
    rt.flush()
    assert rt.store.alert(alert_id).ended is not None
    with pytest.raises(AlertEndedError, match="ended"):
        rt.acknowledge(alert_id, by="pol-ops/abc")


def test_metrics_are_the_runtimes_own(make_runtime, tmp_path):
    clock = ManualClock(T0)
    one = make_runtime(sensors(LT_RADAR), clock=clock)
    two = make_runtime(sensors(LT_RADAR), data=tmp_path / "other", clock=ManualClock(T0))
    feed(one, clock, plots(drone(), one.registry, "LT-R1", T0, T0 + 40), T0 + 40, step=4.0)
    text = generate_latest(one.metrics.registry).decode()
    for name in ("skywarden_ingest_detections_total{source=\"test\"}", "skywarden_live_tracks",
                 "skywarden_open_alerts{level=\"1\"}", "skywarden_tick_seconds_count",
                 "skywarden_ingest_to_publish_seconds_bucket"):
        assert name in text
    assert 'skywarden_live_tracks 1.0' in text
    assert "source=\"test\"" not in generate_latest(two.metrics.registry).decode()


def test_sensor_health_and_what_each_nation_may_see(make_runtime):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR, LT_RADAR), clock=clock)
    assert {s["status"] for s in rt.sensors(all_sensors=True)} == {"unknown"}  # no data yet
    feed(rt, clock, plots(drone(), rt.registry, "LT-R1", T0, T0 + 40), T0 + 40, step=4.0)
    by_id = {s["id"]: s for s in rt.sensors("POL")}
    # the Polish radar has said nothing since the data began: a sensor-down alert
    assert by_id["LT-R1"]["status"] == "up" and by_id["PL-R1"]["status"] == "down"
    assert by_id["PL-R1"]["releasability"] == "POL" and by_id["PL-R1"]["last_seen"] is None
    assert by_id["LT-R1"]["last_seen"] == pytest.approx(T0 + 40, abs=4.0)
    assert [s["id"] for s in rt.sensors("LTU")] == ["LT-R1"]  # the Polish radar is national
    assert rt.sensors(None) == []
    clock.set(T0 + 100)
    by_id = {s["id"]: s for s in rt.sensors("POL")}
    assert by_id["LT-R1"]["status"] == "down"  # silent for more than 3 scans


def test_cap_feed_is_an_atom_feed_of_the_nations_warnings(make_runtime):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(PL_RADAR), clock=clock)
    feed(rt, clock, plots(drone(), rt.registry, "PL-R1", T0, T0 + 240), T0 + 240, step=4.0)
    xml = rt.cap_feed("POL")
    assert xml.startswith(b"<?xml") and b"<feed" in xml and b"urn:skywarden:cap:POL" in xml
    assert b"<feed" in rt.cap_feed("LTU")


def test_sensors_of_a_tracks_tentative_start_count_for_its_releasability(make_runtime):
    clock = ManualClock(T0)
    reg = sensors(PL_RADAR, LT_RADAR)
    rt = make_runtime(reg, clock=clock)
    tracks = rt.bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=10_000)
    scene = drone()
    # the Polish national radar starts the track (two plots: not yet confirmed) ...
    feed(rt, clock, plots(scene, reg, "PL-R1", T0, T0 + 8), T0 + 8, step=4.0)
    assert rt.picture() == [] and tracks.drain() == []
    # ... the allied radar alone carries it on and confirms it: still Polish eyes only
    feed(rt, clock, plots(scene, reg, "LT-R1", T0 + 8, T0 + 80), T0 + 80, step=4.0)
    rows = [u for d in tracks.drain() for u in d.message]
    assert rows and {u.track for u in rows} == {"T1-1"}
    assert "PL-R1" not in {s for u in rows for s in u.sensors}
    assert {u.releasability for u in rows} == {"POL"}
    assert all(u.status != "tentative" for u in rows)  # the picture is the pipeline's


def test_stored_history_is_thinned_to_a_row_per_period_and_every_status_change(
        make_runtime):
    clock = ManualClock(T0)
    rt = make_runtime(sensors(LT_RADAR), clock=clock, history_every_s=20.0)
    tracks = rt.bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=10_000)
    # plots for 100 s, then none: the track coasts
    feed(rt, clock, plots(drone(), rt.registry, "LT-R1", T0, T0 + 100), T0 + 160, step=4.0)
    rt.flush()
    published = [u for d in tracks.drain() for u in d.message]
    stored = rt.store.track_history("T1-1")
    assert len(published) > 2 * len(stored) > 0
    kept = {u.time for u in stored}
    # every change of status is kept, with the first row
    changes = [u for i, u in enumerate(published)
               if i == 0 or u.status != published[i - 1].status]
    assert len(changes) >= 2 and {u.time for u in changes} <= kept
    # between them, a row per 20 s at most
    same = [(a, b) for a, b in zip(stored, stored[1:], strict=False) if a.status == b.status]
    assert same and all(b.time - a.time >= 20.0 - 1e-6 for a, b in same)
