"""The in-process bus: routing, bounded queues and their overflow rules, threads and asyncio."""

import asyncio
import threading
import time

import msgspec
import pytest

import skywarden.bus as bus_pkg
from skywarden.bus import BusClosedError, BusFullError, LocalBus, decode, encode
from skywarden.errors import RecordError
from skywarden.records import AlertEvent, TrackUpdate


def upd(t: float, track: str = "T1") -> TrackUpdate:
    return TrackUpdate(time=t, track=track, lat=52.0, lon=23.0)


def alert(t: float) -> AlertEvent:
    return AlertEvent(time=t, alert="A1", event="raised", level=2, kind="incursion",
                      nation="POL")


def test_every_exported_name_exists_and_nothing_private_is_exported():
    for name in bus_pkg.__all__:
        assert hasattr(bus_pkg, name), name
        assert not name.startswith("_")
    assert bus_pkg.__all__ == sorted(bus_pkg.__all__)


def test_messages_reach_only_matching_subscriptions():
    bus = LocalBus()
    pol = bus.subscribe("tracks.POL", overflow="drop_oldest")
    every_track = bus.subscribe("tracks.*", overflow="drop_oldest")
    everything = bus.subscribe(">", overflow="drop_oldest")
    m1, m2, m3 = upd(1), upd(2), alert(3)
    bus.publish("tracks.POL", m1)
    bus.publish("tracks.LTU", m2)
    bus.publish("alerts.POL", m3)
    assert [d.message for d in pol.drain()] == [m1]
    assert [(d.subject, d.message) for d in every_track.drain()] == [
        ("tracks.POL", m1), ("tracks.LTU", m2)]
    assert [d.subject for d in everything.drain()] == ["tracks.POL", "tracks.LTU", "alerts.POL"]


def test_the_local_bus_hands_over_the_object_itself():
    bus = LocalBus()
    sub = bus.subscribe("tracks.>", overflow="drop_oldest")
    batch = [upd(1), upd(2, "T2")]
    bus.publish("tracks.POL", batch)
    assert sub.get_nowait().message is batch
    assert sub.get_nowait() is None


def test_a_new_subscription_sees_subjects_published_before_it():
    bus = LocalBus()
    bus.publish("tracks.POL", upd(1))  # routes this subject (to nobody) and caches it
    sub = bus.subscribe("tracks.POL", overflow="drop_oldest")
    bus.publish("tracks.POL", upd(2))
    assert [d.message.time for d in sub.drain()] == [2]


def test_drop_oldest_keeps_the_newest_and_counts_the_drops():
    bus = LocalBus()
    sub = bus.subscribe("tracks.*", maxsize=3, overflow="drop_oldest")
    for t in range(5):
        bus.publish("tracks.POL", upd(t))
    bus.publish("tracks.LTU", [upd(5), upd(6)])  # a batch: one message, two records
    bus.publish("tracks.LTU", upd(7))
    got = [d.message for d in sub.drain()]
    assert [m.time for m in got[:1]] == [4] and isinstance(got[1], list) and got[2].time == 7
    stats = sub.stats()
    assert stats.dropped == {"tracks.POL": 4}
    assert stats.queued == 0 and stats.high_water == 3
    assert stats.delivered == 7 and stats.taken == 3
    assert bus.counters().dropped == {"tracks.POL": 4}
    # the dropped batch's records are counted too
    bus.publish("tracks.LTU", [upd(8), upd(9)])
    for t in range(3):
        bus.publish("tracks.POL", upd(10 + t))
    counters = bus.counters()
    assert counters.dropped_records == {"tracks.POL": 4, "tracks.LTU": 2}
    assert counters.total_dropped == 5
    assert counters.published == {"tracks.POL": 8, "tracks.LTU": 3}


def test_block_never_drops_with_a_thread_publisher_and_a_slow_asyncio_consumer():
    bus = LocalBus(block_timeout=10)
    sub = bus.subscribe("alerts.>", maxsize=4, overflow="block")
    n = 300

    def publisher():
        for t in range(n):
            bus.publish("alerts.POL", alert(t))

    async def consume():
        thread = threading.Thread(target=publisher)
        thread.start()
        got = []
        while len(got) < n:
            d = await sub.get(timeout=10)
            got.append(d.message.time)
            if len(got) % 7 == 0:
                await asyncio.sleep(0.001)  # slower than the publisher
        thread.join()
        return got

    assert asyncio.run(consume()) == list(range(n))
    stats = sub.stats()
    assert stats.dropped == {} and stats.high_water == 4
    assert bus.counters().total_dropped == 0


def test_a_full_block_queue_delivers_to_nobody_after_the_timeout():
    bus = LocalBus(block_timeout=0.05)
    audit = bus.subscribe("alerts.>", maxsize=1, overflow="block")
    watcher = bus.subscribe("alerts.POL", maxsize=10, overflow="drop_oldest")
    bus.publish("alerts.POL", alert(1))
    started = time.monotonic()
    with pytest.raises(BusFullError) as err:
        bus.publish("alerts.POL", alert(2))
    assert time.monotonic() - started >= 0.05
    assert err.value.waited >= 0.05 and err.value.pattern == "alerts.>"
    assert "alerts.POL" in str(err.value) and "block" in str(err.value)
    # all or nothing: the other subscription did not get the refused message either
    assert [d.message.time for d in watcher.drain()] == [1]
    assert [d.message.time for d in audit.drain()] == [1]
    assert bus.counters().published == {"alerts.POL": 1}


def test_a_blocked_thread_publisher_goes_on_when_the_consumer_makes_room():
    bus = LocalBus(block_timeout=5)
    sub = bus.subscribe("audit", maxsize=1, overflow="block")
    bus.publish("audit", alert(1))
    done = threading.Event()

    def publisher():
        bus.publish("audit", alert(2))
        done.set()

    thread = threading.Thread(target=publisher)
    thread.start()
    time.sleep(0.05)
    assert not done.is_set()  # waiting for room
    assert sub.get_nowait().message.time == 1
    thread.join(timeout=5)
    assert done.is_set()
    assert sub.get_nowait().message.time == 2


def test_in_an_event_loop_publish_refuses_at_once_and_publish_async_waits():
    bus = LocalBus(block_timeout=5)
    sub = bus.subscribe("alerts.>", maxsize=1, overflow="block")

    async def main():
        bus.publish("alerts.POL", alert(1))
        with pytest.raises(BusFullError) as err:
            bus.publish("alerts.POL", alert(2))  # waiting here would stall the loop
        assert err.value.waited == 0 and "publish_async" in str(err.value)
        waiter = asyncio.create_task(bus.publish_async("alerts.POL", alert(2)))
        await asyncio.sleep(0.01)
        assert not waiter.done()
        first = await sub.get(timeout=1)
        await asyncio.wait_for(waiter, 1)
        second = await sub.get(timeout=1)
        with pytest.raises(TimeoutError):
            await bus.publish_async("alerts.POL", alert(3))
            await bus.publish_async("alerts.POL", alert(4), timeout=0.02)
        return first.message.time, second.message.time

    assert asyncio.run(main()) == (1, 2)
    assert [d.message.time for d in sub.drain()] == [3]


def test_thread_publisher_feeds_an_asyncio_consumer_until_close():
    bus = LocalBus()
    sub = bus.subscribe("det.>", maxsize=10_000, overflow="drop_oldest")
    n = 2000

    def publisher():
        for t in range(n):
            bus.publish(f"det.N5{t % 3}E023", upd(t))
            if t % 100 == 0:
                time.sleep(0.001)  # let the consumer catch up and wait again
        bus.close()

    async def consume():
        thread = threading.Thread(target=publisher)
        thread.start()
        got = [d.message.time async for d in sub]  # ends when closed and drained
        thread.join()
        return got

    assert asyncio.run(consume()) == list(range(n))


def test_a_consumer_thread_reads_what_a_coroutine_publishes():
    bus = LocalBus()
    sub = bus.subscribe("tracks.POL", overflow="drop_oldest")
    got = []

    def consumer():
        while True:
            try:
                got.append(sub.get_blocking(timeout=5).message.time)
            except BusClosedError:
                return

    thread = threading.Thread(target=consumer)
    thread.start()

    async def produce():
        for t in range(50):
            await bus.publish_async("tracks.POL", upd(t))
            await asyncio.sleep(0)
        bus.close()

    asyncio.run(produce())
    thread.join(timeout=5)
    assert got == list(range(50))


def test_get_times_out_and_closed_subscriptions_end():
    bus = LocalBus()
    sub = bus.subscribe("a", overflow="drop_oldest")
    with pytest.raises(TimeoutError):
        sub.get_blocking(timeout=0.01)
    with pytest.raises(TimeoutError):
        asyncio.run(sub.get(timeout=0.01))
    bus.publish("a", b"x")
    sub.close()
    bus.publish("a", b"y")  # no longer delivered to it
    assert sub.get_nowait().message == b"x"  # what was queued can still be taken
    with pytest.raises(BusClosedError):
        sub.get_blocking(timeout=1)
    with pytest.raises(BusClosedError):
        asyncio.run(sub.get())
    bus.close()
    with pytest.raises(BusClosedError):
        bus.publish("a", b"z")
    with pytest.raises(BusClosedError):
        bus.subscribe("a", overflow="drop_oldest")


def test_closing_the_bus_wakes_a_waiting_consumer():
    bus = LocalBus()
    sub = bus.subscribe("a", overflow="drop_oldest")

    async def main():
        async def closer():
            await asyncio.sleep(0.01)
            bus.close()

        asyncio.create_task(closer())
        return [d async for d in sub]

    assert asyncio.run(main()) == []


def test_only_records_and_bytes_travel():
    bus = LocalBus()
    sub = bus.subscribe(">", overflow="drop_oldest")
    bus.publish("a", b"raw")
    bus.publish("a", [upd(1), upd(2)])
    bus.publish("a", (alert(1),))
    with pytest.raises(TypeError, match="dict"):
        bus.publish("a", {"time": 1})
    with pytest.raises(TypeError, match="list holds"):
        bus.publish("a", [upd(1), {"time": 1}])
    assert len(sub.drain()) == 3


def test_bad_arguments_are_refused():
    bus = LocalBus()
    with pytest.raises(ValueError, match="overflow"):
        bus.subscribe("a", overflow="drop_newest")
    with pytest.raises(ValueError, match="maxsize"):
        bus.subscribe("a", maxsize=0, overflow="drop_oldest")
    with pytest.raises(ValueError, match="block_timeout"):
        LocalBus(block_timeout=-1)


def test_codec_round_trips_records_and_names_a_bad_field():
    batch = [upd(1), TrackUpdate(time=2, track="T2", lat=50.0, lon=20.0, cls="drone",
                                 ids=["icao:4CA2D1"])]
    data = encode(batch)
    assert isinstance(data, bytes) and b'"class":"drone"' in data
    assert decode(data, list[TrackUpdate]) == batch
    assert encode(b"raw") == b"raw"
    with pytest.raises(RecordError, match="lat"):
        decode(b'{"time": 1, "track": "T1", "lon": 2}', TrackUpdate)
    with pytest.raises(RecordError):
        decode(b"not json", TrackUpdate)
    assert msgspec.json.decode(encode(alert(1)))["alert"] == "A1"
