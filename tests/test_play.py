"""`skywarden play`: recordings back on the network at their own pace, taken by the same
feeds the service runs (tried as a new user would, with no receiver at hand)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skywarden.ingest.beast import read_beast
from skywarden.ingest.counts import FeedCounts
from skywarden.ingest.pcap import read_capture
from skywarden.live.feeds import Feed
from skywarden.live.site import FeedSettings
from skywarden.play import play, units
from skywarden.sensors import Sensor, SensorRegistry
from support import wait_until

ROOT = Path(__file__).resolve().parent.parent
BEAST = ROOT.parent / "shared" / "data" / "adsb_raw" / "traffic_sample_dump1090.bin"
PCAP = ROOT / ".cache" / "asterix-samples" / "cat_034_048.pcap"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_play_keeps_the_recorded_pace_at_speed() -> None:
    sent: list[tuple[float, bytes]] = []
    stream = [(100.0, b"a"), (None, b"b"), (100.5, b"c"), (101.0, b"d")]
    began = time.monotonic()
    n, span = play(stream, lambda d: sent.append((time.monotonic() - began, d)), speed=5.0)
    assert (n, span) == (4, 1.0)
    assert [d for _, d in sent] == [b"a", b"b", b"c", b"d"]
    # one recorded second at 5x: the last unit 0.2 s after the first, not at once
    assert 0.18 <= sent[-1][0] - sent[0][0] < 0.6


@pytest.mark.skipif(not BEAST.is_file(), reason="../shared/data/adsb_raw not present")
def test_played_beast_reaches_a_live_feed_frame_for_frame() -> None:
    frames = sum(len(b) for b in read_beast(BEAST, FeedCounts()))
    assert sum(1 for _ in units("beast", BEAST)) == frames
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "skywarden.cli", "play", str(BEAST),
                             "--format", "beast", "--serve", f"127.0.0.1:{port}",
                             # 24 s of recording in 12: a live feed stamps frames with their
                             # arrival, so much faster would make aircraft look too fast
                             "--speed", "2"], stderr=subprocess.PIPE, text=True)
    reg = SensorRegistry([Sensor(id="rx", type="adsb", owner="FRA", lat=49.0, lon=2.5)])
    got: list = []
    feed = Feed(FeedSettings(name="cdg", type="beast", sensor="rx",
                             connect=f"127.0.0.1:{port}"), reg,
                lambda dets, source: got.extend(dets))
    try:
        assert "waiting for a client" in proc.stderr.readline()  # listening now
        feed.start()
        assert proc.wait(timeout=60) == 0
        # every Mode S frame of the recording arrived and was decoded (Mode A/C and
        # status frames are not replayed)
        assert wait_until(lambda: sum(v for k, v in feed.counts.outcomes.items()
                                      if not k.startswith("ignored: Mode A/C")) >= frames, 10)
    finally:
        feed.stop()
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
    assert f"played {frames:,} units" in err
    assert feed.counts.rejected == 0 and got


@pytest.mark.skipif(not PCAP.is_file(), reason="run scripts/asterix-samples.sh (./run test does)")
def test_played_pcap_sends_every_udp_payload() -> None:
    payloads = [p for _t, _port, p in read_capture(PCAP, FeedCounts())]
    port = free_port(socket.SOCK_DGRAM)
    got: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", port))
        rx.settimeout(0.5)
        done = subprocess.run([sys.executable, "-m", "skywarden.cli", "play", str(PCAP),
                               "--format", "pcap", "--send", f"127.0.0.1:{port}", "--speed",
                               "100"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        while True:
            try:
                got.append(rx.recv(65536))
            except TimeoutError:
                break
    assert got == payloads


def test_play_names_a_format_played_the_wrong_way(tmp_path: Path) -> None:
    rec = tmp_path / "x.txt"
    rec.write_text("x\n")
    done = subprocess.run([sys.executable, "-m", "skywarden.cli", "play", str(rec),
                           "--format", "sbs", "--send", "127.0.0.1:9"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--serve HOST:PORT" in done.stderr
