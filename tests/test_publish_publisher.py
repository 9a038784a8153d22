"""The publisher: bus to outputs, end to end through LocalBus with a real TAK (TCP)
receiver and a real webhook receiver; releasability holds all the way."""

import contextlib
import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest

from skywarden.bus import LocalBus
from skywarden.errors import ConfigError
from skywarden.publish.publisher import Publisher, make_outputs, start_outputs
from skywarden.publish.tak import TakOutput, TakSettings
from skywarden.publish.webhook import WebhookOutput, WebhookSettings
from skywarden.records import AlertEvent, TrackUpdate
from support import wait_until

T0 = 1_800_000_000.0
FAST = dict(backoff_initial_s=0.02, backoff_max_s=0.1)


def row(track, rel=None, t=T0) -> TrackUpdate:
    return TrackUpdate(time=t, track=track, lat=52.0, lon=21.0, status="confirmed",
                       cls="drone", identity="hostile", releasability=rel)


def alert(alert_id, rel=None, nation="POL") -> AlertEvent:
    return AlertEvent(time=T0, alert=alert_id, event="raised", level=3, kind="incursion",
                      nation=nation, track="T1", lat=52.0, lon=21.0, releasability=rel)


class TcpSink:
    """Accepts connections and collects the uids of the CoT events received."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.uids: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while data := conn.recv(65536):
                buf += data
                while b"</event>" in buf:
                    one, _, buf = buf.partition(b"</event>")
                    self.uids.append(ET.fromstring(one + b"</event>").get("uid"))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


class HttpSink:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                outer.bodies.append(json.loads(self.rfile.read(
                    int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Recorder:
    """An in-memory output (the Output protocol), optionally failing."""

    def __init__(self, name="rec", fail=False) -> None:
        self.name = name
        self.fail = fail
        self.rows: list[TrackUpdate] = []
        self.alerts: list[AlertEvent] = []
        self.closed = False

    def send_tracks(self, rows):
        if self.fail:
            raise RuntimeError("broken output")
        self.rows.extend(rows)

    def send_alert(self, event):
        if self.fail:
            raise RuntimeError("broken output")
        self.alerts.append(event)

    def close(self, timeout=5.0):
        self.closed = True

    def stats(self):
        return {"rows": len(self.rows)}


@pytest.fixture
def sinks():
    tcp, http = TcpSink(), HttpSink()
    yield tcp, http
    tcp.stop()
    http.stop()


def test_another_nations_national_rows_never_leave_through_any_output(sinks):
    tcp, http = sinks
    bus = LocalBus()
    tak = TakOutput(TakSettings(name="tak-pol", host="127.0.0.1", port=tcp.port,
                                nation="POL", min_interval_s=0.0, **FAST))
    hook = WebhookOutput(WebhookSettings(name="hook-pol", url=http.url, nation="POL",
                                         **FAST))
    pub = Publisher(bus, [tak, hook], poll_s=0.02).start()
    try:
        bus.publish("tracks.POL", [row("POL-ONLY", "POL"), row("LTU-ONLY", "LTU"),
                                   row("ALLIES", "allies")])
        bus.publish("tracks.LTU", [row("LTU-OVER-LTU", "LTU"), row("NOBODY", "none"),
                                   row("SHARED", "LTU,POL")])
        bus.publish("tracks.XXX", row("PUBLIC", "public"))  # a single row, not a batch
        bus.publish("alerts.POL", alert("POL-ALERT", "POL"))
        bus.publish("alerts.LTU", alert("LTU-ALERT", "LTU", nation="LTU"))
        bus.publish("alerts.POL", alert("ALLIED-ALERT", "allies"))
        assert wait_until(lambda: len(tcp.uids) == 6 and len(http.bodies) == 2)
        time.sleep(0.1)
    finally:
        pub.close()
    assert sorted(tcp.uids) == sorted([
        "skywarden.POL-ONLY", "skywarden.ALLIES", "skywarden.SHARED", "skywarden.PUBLIC",
        "skywarden.alert.POL-ALERT", "skywarden.alert.ALLIED-ALERT"])
    assert sorted(b["event"]["alert"] for b in http.bodies) == ["ALLIED-ALERT", "POL-ALERT"]
    stats = pub.stats()
    assert stats["rows"] == 7 and stats["alerts"] == 3
    assert stats["outputs"]["tak-pol"]["withheld"] == 4
    assert stats["outputs"]["hook-pol"]["withheld"] == 1


def test_subscriptions_state_their_overflow_rules():
    pub = Publisher(LocalBus(), [])
    assert (pub.tracks.pattern, pub.tracks.overflow) == ("tracks.*", "drop_oldest")
    assert (pub.alerts.pattern, pub.alerts.overflow) == ("alerts.*", "block")


def test_a_failing_output_is_counted_and_the_others_go_on(caplog):
    bus = LocalBus()
    broken, good = Recorder("broken", fail=True), Recorder("good")
    pub = Publisher(bus, [broken, good], poll_s=0.02).start()
    try:
        for i in range(3):
            bus.publish("tracks.POL", [row(f"T{i}")])
            bus.publish("alerts.POL", alert(f"A{i}"))
        assert wait_until(lambda: len(good.rows) == 3 and len(good.alerts) == 3)
    finally:
        pub.close()
    assert pub.stats()["output_errors"]["broken"] >= 4
    assert caplog.text.count("output broken failed") == 1  # logged once, then counted
    assert broken.closed and good.closed


def test_close_hands_over_what_is_queued_and_closes_the_outputs():
    bus = LocalBus()
    rec = Recorder()
    pub = Publisher(bus, [rec])  # never started: close still drains
    bus.publish("tracks.POL", [row("T1"), row("T2")])
    bus.publish("alerts.POL", alert("A1"))
    pub.close()
    assert [u.track for u in rec.rows] == ["T1", "T2"]
    assert [e.alert for e in rec.alerts] == ["A1"]
    assert rec.closed


def test_start_outputs_from_settings_structs(sinks, monkeypatch):
    tcp, http = sinks
    monkeypatch.setenv("SKYWARDEN_TEST_SECRET", "x")
    tak = msgspec.convert({"name": "tak", "host": "127.0.0.1", "port": tcp.port,
                           "nation": "POL", "min_interval_s": 0}, TakSettings)
    hook = msgspec.convert({"name": "hook", "url": http.url, "nation": "POL",
                            "secret_env": "SKYWARDEN_TEST_SECRET"}, WebhookSettings)
    bus = LocalBus()
    pub = start_outputs(bus, [tak, hook], poll_s=0.02)
    try:
        assert [(o.name, o.kind) for o in pub.outputs] == [("tak", "tak"),
                                                           ("hook", "webhook")]
        bus.publish("tracks.POL", [row("T1")])
        bus.publish("alerts.POL", alert("A1"))
        assert wait_until(lambda: len(tcp.uids) == 2 and len(http.bodies) == 1)
    finally:
        pub.close()
    stats = pub.stats()["outputs"]
    for st in stats.values():  # the counters every output keeps (metrics read them)
        assert {"name", "kind", "sent", "dropped", "failed", "filtered"} <= set(st)
    assert stats["tak"]["sent"] == 2 and stats["hook"]["sent"] == 1
    with pytest.raises(ConfigError, match="'tak' used twice"):
        make_outputs([tak, msgspec.structs.replace(hook, name="tak")])
