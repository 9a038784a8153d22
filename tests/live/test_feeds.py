"""Feeds on real sockets: a TCP client that reconnects with backoff, a UDP listener
(unicast and multicast), and the framers between them and the decoders.

The "receivers" here are real TCP servers and UDP senders on 127.0.0.1 serving the real
recordings of ../shared/data/adsb_raw the way readsb and dump1090 serve them.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from skywarden.backoff import Backoff
from skywarden.ingest.beast import read_beast
from skywarden.ingest.counts import FeedCounts
from skywarden.ingest.sources import TcpClient, UdpListener, parse_address
from skywarden.live.feeds import Feed
from skywarden.live.site import FeedSettings
from skywarden.records import Detection
from skywarden.sensors import Sensor, SensorRegistry
from support import wait_until

RAW = Path(__file__).resolve().parents[3] / "shared" / "data" / "adsb_raw"
BEAST = RAW / "traffic_sample_dump1090.bin"
FLIGHT = RAW / "traffic_rs1090_full_flight_short_head3000.jsonl.gz"
needs_samples = pytest.mark.skipif(not BEAST.is_file(),
                                   reason="../shared/data/adsb_raw not present")
FAST = dict(initial_s=0.02, max_s=0.1, jitter=0.0)


def registry() -> SensorRegistry:
    return SensorRegistry([
        Sensor(id="rx", type="adsb", owner="LTU", lat=49.0, lon=2.5, max_range=450e3),
    ])



def wait_for(cond: Callable[[], object], timeout: float = 10.0) -> None:
    assert wait_until(cond, timeout), "condition not met in time"


class Receiver:
    """A TCP server that plays ``script(conn)`` to each client that connects."""

    def __init__(self, script: Callable[[socket.socket, int], None], port: int = 0) -> None:
        self.srv = socket.create_server(("127.0.0.1", port))
        self.port = self.srv.getsockname()[1]
        self.script = script
        self.clients = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.srv:
            while True:
                try:
                    conn, _ = self.srv.accept()
                except OSError:
                    return
                with conn:
                    self.clients += 1
                    with contextlib.suppress(OSError):
                        self.script(conn, self.clients)

    def close(self) -> None:
        self.srv.close()


class Collect:
    def __init__(self) -> None:
        self.dets: list[Detection] = []
        self.sources: set[str] = set()

    def __call__(self, dets: list[Detection], source: str) -> None:
        self.dets += dets
        self.sources.add(source)


def sbs_lines(n: int) -> list[bytes]:
    """SBS position lines of the real flight sample (MSG,3 with the sample's positions)."""
    out = []
    with gzip.open(FLIGHT, "rt") as fh:
        for line in fh:
            r = json.loads(line)
            if r.get("latitude") is None or r["bds"] == "06":
                continue
            ts = time.gmtime(r["timestamp"])
            d, c = time.strftime("%Y/%m/%d", ts), time.strftime("%H:%M:%S.000", ts)
            out.append(f"MSG,3,1,1,{r['icao24'].upper()},1,{d},{c},{d},{c},,{r['altitude']},,,"
                       f"{r['latitude']},{r['longitude']},,,0,,0,0\r\n".encode())
            if len(out) == n:
                break
    return out


def test_parse_address_names_what_is_wrong() -> None:
    assert parse_address("10.0.0.2:30005") == ("10.0.0.2", 30005)
    assert parse_address("[::1]:8600") == ("::1", 8600)
    for bad, why in (("host", "HOST:PORT"), ("h:x", "not a number"), ("h:70000", "1-65535")):
        with pytest.raises(ValueError, match=why):
            parse_address(bad)


@needs_samples
def test_beast_over_tcp_in_odd_chunks_counts_every_frame_of_the_recording() -> None:
    stream = BEAST.read_bytes()

    def play(conn: socket.socket, _n: int) -> None:
        i, step = 0, 1
        while i < len(stream):  # chunk sizes 1..97 bytes: frames are cut everywhere
            conn.sendall(stream[i:i + step])
            i += step
            step = step % 97 + 13
        time.sleep(5)  # keep the connection up until the client has read it all

    offline = FeedCounts()
    frames = sum(len(b) for b in read_beast(BEAST, offline))
    total = offline.units + frames  # framing outcomes, then one outcome per frame decoded
    rx = Receiver(play)
    got = Collect()
    feed = Feed(FeedSettings(name="cdg", type="beast", sensor="rx",
                             connect=f"127.0.0.1:{rx.port}"), registry(), got,
                backoff=Backoff(**FAST))
    feed.start()
    try:
        wait_for(lambda: feed.counts.units >= total)
        st = feed.stats()
    finally:
        feed.stop()
        rx.close()
    assert feed.counts.units == total == sum(feed.counts.outcomes.values())
    # No frame is lost or cut, however the stream is chunked. (The recording's minutes
    # arrive here within a second, all stamped with their arrival time, so an aircraft's
    # positions far apart may look like a jump: the only rejection allowed.)
    assert offline.rejected == 0
    assert {k for k in feed.counts.outcomes if k.startswith("rejected")} <= {
        "rejected: implausible position jump"}
    assert frames > 0 and st["connected"] and st["connects"] == 1
    assert st["bytes"] == len(stream)
    assert len(got.dets) == feed.counts.positions > 0
    assert got.sources == {"feed:cdg"}
    assert all(d.sensor == "rx" and d.id and d.id.startswith("icao:") for d in got.dets)


@needs_samples
def test_sbs_client_reconnects_and_drops_the_line_cut_by_the_lost_connection() -> None:
    lines = sbs_lines(40)

    def play(conn: socket.socket, n: int) -> None:
        if n == 1:
            conn.sendall(b"".join(lines[:20]) + lines[20][:25])  # then the receiver dies
        else:
            conn.sendall(b"".join(lines[21:]))
            time.sleep(5)

    rx = Receiver(play)
    got = Collect()
    feed = Feed(FeedSettings(name="sbs", type="sbs", sensor="rx",
                             connect=f"127.0.0.1:{rx.port}"), registry(), got,
                backoff=Backoff(**FAST))
    t0 = time.time()
    feed.start()
    try:
        wait_for(lambda: len(got.dets) >= 39)
        st = feed.stats()
    finally:
        feed.stop()
        rx.close()
    assert len(got.dets) == 39  # every whole line; the cut one is not glued to the next
    assert feed.counts.outcomes["rejected: SBS line cut by a reconnection"] == 1
    assert st["connects"] == 2 and st["failures"] >= 1
    assert "closed" in (st["last_error"] or "")
    # live SBS is stamped with the arrival time (the feeder's clock is often local time)
    assert all(t0 - 1 <= d.time <= time.time() + 1 for d in got.dets)


def test_client_keeps_retrying_until_the_receiver_comes_up() -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    got = Collect()
    feed = Feed(FeedSettings(name="late", type="avr", sensor="rx",
                             connect=f"127.0.0.1:{port}"), registry(), got,
                backoff=Backoff(**FAST))
    feed.start()
    try:
        wait_for(lambda: feed.source.stats.failures >= 3)
        assert not feed.stats()["connected"]
        assert feed.stats()["last_error"].startswith("connect")

        def play(conn: socket.socket, _n: int) -> None:
            conn.sendall(b"*8D4840D6202CC371C32CE0576098;\n@0000015A887E8D40621D58C382D690C8AC2863A7;\n")
            time.sleep(5)

        rx = Receiver(play, port=port)
        wait_for(lambda: feed.counts.units == 2)
        assert feed.stats()["connected"]
        assert feed.counts.outcomes["used: identification"] == 1
        rx.close()
    finally:
        feed.stop()


def test_a_silent_connection_is_dropped_and_made_again() -> None:
    def play(conn: socket.socket, _n: int) -> None:
        time.sleep(2)  # accepts, then says nothing

    rx = Receiver(play)
    client = TcpClient("quiet", "127.0.0.1", rx.port, lambda d, t: None,
                       backoff=Backoff(**FAST), idle_s=0.3)
    client.start()
    try:
        wait_for(lambda: client.stats.connects >= 2)
    finally:
        client.stop()
        rx.close()
    assert client.stats.errors.get("idle", 0) >= 1


def test_udp_listener_survives_a_handler_that_raises() -> None:
    got: list[bytes] = []

    def handler(data: bytes, t: float) -> None:
        if data == b"boom":
            raise RuntimeError("decoder bug")
        got.append(data)

    listener = UdpListener("udp", "127.0.0.1", 0, handler)
    listener.start()
    host, port = listener.wait_bound()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for d in (b"one", b"boom", b"two"):
            s.sendto(d, (host, port))
        wait_for(lambda: len(got) == 2)
    listener.stop()
    assert got == [b"one", b"two"]
    assert listener.stats.errors == {"handler": 1} and "decoder bug" in listener.stats.last_error
    assert listener.stats.messages == 3 and not listener.stats.connected


def test_udp_listener_joins_a_multicast_group() -> None:
    got: list[bytes] = []
    listener = UdpListener("mc", "0.0.0.0", 0, lambda d, t: got.append(d),
                           group="239.255.42.7", interface="127.0.0.1")
    listener.start()
    _, port = listener.wait_bound()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        s.sendto(b"cat048", ("239.255.42.7", port))
        wait_for(lambda: got == [b"cat048"])
    listener.stop()


def test_udp_listener_reports_a_port_in_use() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        listener = UdpListener("busy", "127.0.0.1", port, lambda d, t: None)
        listener.start()
        with pytest.raises(OSError, match="could not bind"):
            listener.wait_bound()
        listener.stop()
    assert listener.stats.errors == {"bind": 1}


ASTERIX_PCAP = Path(__file__).resolve().parents[2] / ".cache" / "asterix-samples" / \
    "cat_034_048.pcap"


@pytest.mark.skipif(not ASTERIX_PCAP.is_file(),
                    reason="run scripts/asterix-samples.sh (./run test does)")
def test_asterix_feed_over_udp_takes_the_real_radar_datagrams_and_counts_the_rest() -> None:
    from skywarden.ingest.pcap import read_capture

    reg = SensorRegistry([Sensor(id="hr-radar", type="radar", owner="HRV", lat=45.74,
                                 lon=16.07, sac=25, sic=201)])
    offline = FeedCounts()
    grams = [payload for _t, _port, payload in read_capture(ASTERIX_PCAP, offline)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    got = Collect()
    feed = Feed(FeedSettings(name="radars", type="asterix", listen=f"127.0.0.1:{free}"), reg,
                got,
                now=lambda: 1462433756.0)  # the capture's day: times of day are dated by it
    feed.start()
    try:
        _, port = feed.source.wait_bound()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for g in grams:
                s.sendto(g, ("127.0.0.1", port))
                s.sendto(b"\x30\xff\xff garbage between datagrams", ("127.0.0.1", port))
        wait_for(lambda: feed.stats()["units"] >= 162 + len(grams))
        st = feed.stats()
    finally:
        feed.stop()
    assert st["detections"] == len(got.dets) == 28
    assert all(d.sensor == "hr-radar" and d.kind == "polar" for d in got.dets)
    assert all(abs(d.time - 1462433756.0) < 3600 for d in got.dets)
    # every garbage datagram is one rejected unit; the good ones around it are all kept
    assert st["rejected"] - 100 == len(grams)
    assert st["outcomes"]["ignored: CAT034 data block (monoradar service messages)"] == 34


def test_a_sensor_whose_feed_lost_its_receiver_is_down_on_the_api(make_runtime) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens: the feed cannot connect
    reg = registry()
    rt = make_runtime(registry=reg)
    feed = Feed(FeedSettings(name="rx-feed", type="sbs", sensor="rx",
                             connect=f"127.0.0.1:{port}"), reg, Collect(),
                backoff=Backoff(**FAST))
    rt.attach_feeds([feed])
    feed.start()
    try:
        wait_for(lambda: feed.source.stats.failures >= 1)
        (row,) = rt.sensors(all_sensors=True)
        assert row["feed"] == "rx-feed" and row["status"] == "down"
        (state,) = rt.feed_stats()
        assert state["name"] == "rx-feed" and not state["connected"]
        assert state["last_error"].startswith("connect")
    finally:
        feed.stop()


RID_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "remoteid" / "sample.txt"


def _rid_registry() -> SensorRegistry:
    return SensorRegistry([Sensor(id="rid-rx", type="remote_id", owner="DEU", lat=52.52,
                                  lon=13.40, max_range=5000.0)])


def test_remoteid_lines_over_tcp_decode_as_the_recording_does() -> None:
    from skywarden.ingest.remoteid import RemoteIdDecoder, decode_remoteid_lines

    text = RID_SAMPLE.read_bytes()
    offline = FeedCounts()
    expected = list(decode_remoteid_lines(text.splitlines(keepends=True),
                                          RemoteIdDecoder("rid-rx", offline)))

    def play(conn: socket.socket, _n: int) -> None:
        for i in range(0, len(text), 37):  # lines cut anywhere
            conn.sendall(text[i:i + 37])
        time.sleep(5)

    rx = Receiver(play)
    got = Collect()
    feed = Feed(FeedSettings(name="rid", type="remoteid", sensor="rid-rx",
                             connect=f"127.0.0.1:{rx.port}"), _rid_registry(), got,
                backoff=Backoff(**FAST))
    feed.start()
    try:
        wait_for(lambda: feed.counts.units >= offline.units)
    finally:
        feed.stop()
        rx.close()
    assert feed.counts.outcomes == offline.outcomes and offline.positions > 0
    assert got.dets == expected


def test_remoteid_frames_over_udp_one_a_datagram() -> None:
    frames = [bytes.fromhex(line.split()[1]) for line in RID_SAMPLE.read_text().splitlines()
              if line and not line.startswith("#") and len(line.split()) > 1
              and all(c in "0123456789abcdef" for c in line.split()[1])]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    got = Collect()
    feed = Feed(FeedSettings(name="rid-udp", type="remoteid", sensor="rid-rx",
                             listen=f"127.0.0.1:{free}"), _rid_registry(), got,
                now=lambda: 1720002001.0)  # the recording's hour: its times of day fit
    feed.start()
    try:
        _, port = feed.source.wait_bound()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for f in frames:
                s.sendto(f, ("127.0.0.1", port))
        wait_for(lambda: feed.counts.units == len(frames))
    finally:
        feed.stop()
    assert feed.counts.units == sum(feed.counts.outcomes.values()) == len(frames)
    assert got.dets and all(d.sensor == "rid-rx" for d in got.dets)
    assert all(abs(d.time - 1720002001.0) < 60 for d in got.dets)
