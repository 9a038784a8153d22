"""The runtime with its threads running: the demo feed paced by a simulated clock, the
pipeline worker on its tick, the store writer; then a clean shutdown."""

from __future__ import annotations

from prometheus_client import generate_latest

from skywarden.clock import SimClock
from skywarden.live import Runtime, RuntimeSettings
from skywarden.live.demo import DemoFeed, first_detection_time, prepare_demo
from skywarden.sensors import SensorRegistry
from support import wait_until


def test_demo_feed_plays_through_the_threads_into_the_store(tmp_path, assessor):
    data = tmp_path / "data"
    folder = prepare_demo("airport-drones", data, duration=120.0)
    assert folder.parent == data / "demo" and folder.name.startswith("airport-drones-")
    assert prepare_demo("airport-drones", data, duration=120.0) == folder  # reused
    stamp = (folder / "detections.jsonl").stat().st_mtime_ns
    registry = SensorRegistry.load(folder / "sensors.toml")
    clock = SimClock(first_detection_time(folder), speed=40.0)
    rt = Runtime(registry, RuntimeSettings(data_dir=data, tick_s=0.05, reorder_lag=2.0,
                                           writer_poll_s=0.05),
                 clock=clock, assessor=assessor, zones=(), demo="airport-drones")
    tracks = rt.bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=10_000)
    feed = DemoFeed(rt, folder, clock)
    try:
        rt.start()
        feed.start()
        assert feed.finished.wait(15.0), "the feed did not reach the end of the file"
        assert feed.sent == feed.stats.good > 1000
        assert wait_until(lambda: rt.store.count_tracks() > 0)
        assert tracks.drain(), "no track rows were published"
        assert rt.time_info()["demo"] == "airport-drones"
        assert rt.time_info()["speed"] == 40.0
    finally:
        feed.stop()
        rt.close()
    assert all(not t.is_alive() for t in rt._threads)
    text = generate_latest(rt.metrics.registry).decode()
    assert f'skywarden_ingest_detections_total{{source="demo"}} {float(feed.sent)}' in text
    count = [ln for ln in text.splitlines()
             if ln.startswith("skywarden_ingest_to_publish_seconds_count")]
    assert count and float(count[0].split()[-1]) > 0
    assert (folder / "detections.jsonl").stat().st_mtime_ns == stamp
