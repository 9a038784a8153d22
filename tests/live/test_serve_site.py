"""`skywarden serve --config site.toml` end to end, tried as a new user would: a real
receiver serving SBS on a TCP port, a real TAK server on another, the service in its own
process. The aircraft of the real Paris-CDG sample must come in through the feed, become
a track on the API, and go out to TAK as Cursor-on-Target."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from .test_feeds import FLIGHT, Receiver, needs_samples, sbs_lines
from .test_live_cli import free_port, skywarden_process, stop

SITE = """\
[service]
port = {port}
data = "data"

[[sensor]]
id = "cdg-rx"
type = "adsb"
owner = "FRA"
lat = 49.0097
lon = 2.5479
releasability = "allies"

[[feed]]
name = "cdg-sbs"
type = "sbs"
sensor = "cdg-rx"
connect = "127.0.0.1:{sbs}"

[[output]]
type = "tak"
name = "fra-tak"
nation = "FRA"
host = "127.0.0.1"
port = {tak}
protocol = "tcp"
min_interval_s = 0.0

[[organisation]]
id = "fra-ops"
name = "French air operations (test)"
nation = "FRA"
roles = ["operator"]
"""


class TakServer:
    """Collects the CoT events a TAK client sends (one connection at a time)."""

    def __init__(self) -> None:
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        self.data = b""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            with conn:
                while chunk := conn.recv(65536):
                    self.data += chunk

    def events(self) -> list[ET.Element]:
        text = self.data.decode()
        out = []
        for part in text.split("</event>")[:-1]:
            start = part.find("<event")
            out.append(ET.fromstring(part[start:] + "</event>"))
        return out


def _wait(cond, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = cond()
        except httpx.TransportError:
            last = None
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"not in {timeout} s (last: {last!r})")


@needs_samples
def test_serve_with_a_site_file_feeds_tracks_and_tak(tmp_path: Path) -> None:
    rows = sbs_lines(60)  # the sample's first minute of positions, sent at their pace

    def play(conn: socket.socket, _n: int) -> None:
        for line in rows:
            conn.sendall(line)
            time.sleep(0.15)
        time.sleep(30)

    receiver = Receiver(play)
    tak = TakServer()
    port = free_port()
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(port=port, sbs=receiver.port, tak=tak.port))
    base = f"http://127.0.0.1:{port}"
    try:
        with skywarden_process("serve", "--config", str(site)) as proc:
            out = _exercise(proc, base, tmp_path, tak)
    finally:
        receiver.close()
        tak.srv.close()
    assert proc.returncode == 0, out
    assert "feeds: cdg-sbs (sbs)" in out and "outputs: fra-tak (tak)" in out
    assert "organisation fra-ops (FRA) made from" in out


def _exercise(proc: subprocess.Popen, base: str, tmp_path: Path, tak: TakServer) -> str:
    """What an operator sees of the running site (feeds, tracks, TAK, metrics); the
    service's output once stopped."""
    _wait(lambda: httpx.get(f"{base}/metrics", timeout=2).status_code == 200)
    issued = subprocess.run(
        [sys.executable, "-m", "skywarden.cli", "token", "issue", "--org", "fra-ops", "--data",
         str(tmp_path / "data")], capture_output=True, text=True, check=True)
    auth = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    feed = _wait(lambda: next((f for f in httpx.get(f"{base}/api/v1/feeds", headers=auth,
                                                    timeout=2).json()
                               if f["detections"] >= 10), None))
    assert feed["name"] == "cdg-sbs" and feed["connected"] and feed["rejected"] == 0
    assert feed["outcomes"]["position"] == feed["detections"]
    track = _wait(lambda: next((t for t in httpx.get(f"{base}/api/v1/tracks",
                                                     headers=auth, timeout=2).json()["tracks"]
                                if t["ids"]), None))
    assert track["ids"][0].startswith("icao:") and track["sensors"] == ["cdg-rx"]
    assert abs(track["lat"] - 49.0) < 0.5 and abs(track["lon"] - 2.5) < 0.5
    events = _wait(lambda: [e for e in tak.events()
                            if e.get("uid") == f"skywarden.{track['track']}"])
    assert events[-1].get("type").startswith("a-") and events[-1].get("how") == "m-f"
    point = events[-1].find("point")
    assert point is not None and abs(float(point.get("lat")) - track["lat"]) < 0.5
    metrics = httpx.get(f"{base}/metrics", timeout=2).text
    assert 'skywarden_feed_units_total{feed="cdg-sbs",outcome="position"}' in metrics
    assert 'skywarden_feed_connected{feed="cdg-sbs"} 1.0' in metrics
    outputs = httpx.get(f"{base}/api/v1/outputs", headers=auth, timeout=2)
    assert outputs.status_code == 403  # operators see feeds; outputs are for admins
    return stop(proc, timeout=30)


def test_serve_refuses_a_bad_site_file_before_starting(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(port=free_port(), sbs=1, tak=2).replace("connect =", "conect ="))
    done = subprocess.run([sys.executable, "-m", "skywarden.cli", "serve", "--config",
                           str(site)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"{site}:13: feed #1 ('cdg-sbs'): unknown key 'conect'" in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started or written


pytestmark = pytest.mark.skipif(not FLIGHT.is_file(), reason="../shared/data not present")
