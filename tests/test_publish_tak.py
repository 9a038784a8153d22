"""The TAK output over real sockets on 127.0.0.1: TCP, UDP, TLS with client certificates,
reconnection, releasability, throttling, queue priority and the settings' checks."""

import contextlib
import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET

import msgspec
import pytest

from skywarden.backoff import Backoff
from skywarden.errors import ConfigError
from skywarden.publish.tak import TakOutput, TakSettings
from skywarden.records import AlertEvent, TrackUpdate
from support import wait_until

T0 = 1_800_000_000.0
FAST = dict(backoff_initial_s=0.02, backoff_max_s=0.1, connect_timeout_s=1.0,
            write_timeout_s=1.0)


def row(track="T1", t=T0, **kw) -> TrackUpdate:
    base = dict(lat=52.0, lon=21.0, status="confirmed", cls="drone", identity="hostile")
    base.update(kw)
    return TrackUpdate(time=t, track=track, **base)


def alert(alert_id="A1", **kw) -> AlertEvent:
    base = dict(time=T0, alert=alert_id, event="raised", level=3, kind="incursion",
                nation="POL", track="T1", lat=52.0, lon=21.0)
    base.update(kw)
    return AlertEvent(**base)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CotServer:
    """A TAK-server stand-in: accepts connections, splits the stream into events, parses
    each one (a malformed event fails the test through ``errors``)."""

    def __init__(self, port: int = 0, context: ssl.SSLContext | None = None,
                 chatter: bytes = b"") -> None:
        self.context = context
        self.chatter = chatter  # sent to each client first, as TAK Server relays others' CoT
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        self.events: list[ET.Element] = []
        self.errors: list[str] = []
        self.conns: list[socket.socket] = []
        self.accepted = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            if self.context is not None:
                conn = self.context.wrap_socket(conn, server_side=True)
            with self.lock:
                self.conns.append(conn)
            if self.chatter:
                conn.sendall(self.chatter)
            buf = b""
            while data := conn.recv(65536):
                buf += data
                while b"</event>" in buf:
                    one, _, buf = buf.partition(b"</event>")
                    try:
                        ev = ET.fromstring(one + b"</event>")
                    except ET.ParseError as exc:
                        self.errors.append(f"{exc}: {one!r}")
                        continue
                    with self.lock:
                        self.events.append(ev)
        except (OSError, ssl.SSLError) as exc:
            self.errors.append(f"connection: {exc}")
        finally:
            conn.close()

    def uids(self) -> list[str]:
        with self.lock:
            return [e.get("uid") for e in self.events]

    def stop(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone would leave the
        # listening socket alive in the kernel while that call holds it.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(2.0)
        with self.lock:
            for c in self.conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()


@pytest.fixture
def server():
    s = CotServer()
    yield s
    s.stop()


def tak(port: int, **kw) -> TakOutput:
    settings = dict(name="tak-test", host="127.0.0.1", port=port, nation="POL",
                    min_interval_s=0.0, **FAST)
    settings.update(kw)
    return TakOutput(TakSettings(**settings))


def test_tracks_and_alerts_reach_a_tcp_server_as_parseable_cot(server):
    out = tak(server.port)
    try:
        out.send_tracks([row("T1"), row("T2", cls="aircraft", identity="friend",
                                        ids=["icao:4CA2D1"])])
        out.send_alert(alert())
        assert wait_until(lambda: len(server.events) == 3)
    finally:
        out.close()
    by_uid = {e.get("uid"): e for e in server.events}
    assert by_uid["skywarden.T1"].get("type") == "a-h-A-M-F-Q"
    assert by_uid["skywarden.T2"].get("type") == "a-f-A-C-F"
    assert by_uid["skywarden.alert.A1"].get("type") == "b-m-p-s-m"
    assert not server.errors
    stats = out.stats()
    assert stats["sent"] == 3 and stats["sent_alerts"] == 1 and stats["failed"] == 0
    assert stats["connects"] == 1 and stats["reconnects"] == 0 and stats["errors"] == 0


def test_only_what_the_outputs_nation_may_see_is_ever_sent(server):
    out = tak(server.port, nation="POL")
    try:
        out.send_tracks([
            row("LTU-ONLY", releasability="LTU"),  # another nation's national-only row
            row("NOBODY", releasability="none"),
            row("POL-ONLY", releasability="POL"),
            row("SHARED", releasability="LTU,POL"),
            row("ALLIES", releasability="allies"),
            row("PUBLIC", releasability="public"),
            row("UNMARKED"),  # treated as allies
        ])
        out.send_alert(alert("LTU-ALERT", releasability="LTU"))
        out.send_alert(alert("POL-ALERT", releasability="POL"))
        assert wait_until(lambda: len(server.events) == 6)
        time.sleep(0.1)  # nothing more comes
    finally:
        out.close()
    uids = set(server.uids())
    assert uids == {"skywarden.POL-ONLY", "skywarden.SHARED", "skywarden.ALLIES",
                    "skywarden.PUBLIC", "skywarden.UNMARKED", "skywarden.alert.POL-ALERT"}
    assert out.stats()["withheld"] == 3 and out.stats()["filtered"] == 3


def test_a_track_is_sent_at_most_once_per_interval_unless_its_status_changes(server):
    out = tak(server.port, min_interval_s=1.0)
    try:
        # (waiting after each: a queued row is replaced by a newer one of its track)
        out.send_tracks([row("T1", T0)])
        assert wait_until(lambda: len(server.events) == 1)
        out.send_tracks([row("T1", T0 + 0.5)])  # too soon: throttled
        out.send_tracks([row("T1", T0 + 1.0)])
        assert wait_until(lambda: len(server.events) == 2)
        out.send_tracks([TrackUpdate(time=T0 + 1.2, track="T1", lat=52.0, lon=21.0,
                                     status="deleted")])  # a change always goes
        assert wait_until(lambda: len(server.events) == 3)
        time.sleep(0.05)
    finally:
        out.close()
    times = [e.get("time") for e in server.events]
    assert times == ["2027-01-15T08:00:00.000Z", "2027-01-15T08:00:01.000Z",
                     "2027-01-15T08:00:01.200Z"]
    assert server.events[-1].get("stale") == server.events[-1].get("time")
    assert out.stats()["throttled"] == 1


def test_udp_sends_one_event_per_datagram():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2.0)
    out = tak(rx.getsockname()[1], protocol="udp")
    try:
        out.send_tracks([row("T1"), row("T2")])
        out.send_alert(alert())
        got = [ET.fromstring(rx.recv(65536)) for _ in range(3)]
    finally:
        out.close()
        rx.close()
    assert sorted(e.get("uid") for e in got) == [
        "skywarden.T1", "skywarden.T2", "skywarden.alert.A1"]
    assert got[0].get("uid") == "skywarden.alert.A1"  # alerts go first


def test_what_the_server_sends_is_read_and_ignored():
    ping = b'<event version="2.0" uid="takPing" type="t-x-c-t" how="h-g-i-g-o"/>' * 2000
    server = CotServer(chatter=ping)  # more than a socket buffer holds
    out = tak(server.port)
    try:
        for i in range(20):
            out.send_tracks([row(f"T{i}")])
        assert wait_until(lambda: len(server.uids()) == 20)
        assert out.stats()["errors"] == 0 and out.stats()["connects"] == 1
    finally:
        out.close()
        server.stop()


def test_a_lost_server_is_reconnected_and_later_events_arrive(server):
    out = tak(server.port)
    port = server.port
    try:
        out.send_tracks([row("BEFORE")])
        assert wait_until(lambda: "skywarden.BEFORE" in server.uids())
        server.stop()
        assert wait_until(lambda: out.stats()["errors"] >= 1)  # it notices the loss
        out.send_tracks([row("DURING")])
        time.sleep(0.15)  # a few refused connection attempts
        back = CotServer(port)
        try:
            out.send_tracks([row("AFTER")])
            assert wait_until(lambda: "skywarden.AFTER" in back.uids())
            assert "skywarden.DURING" in back.uids()  # kept while the server was away
            stats = out.stats()
            assert stats["reconnects"] >= 1 and stats["connected"]
            assert "refused" in stats["last_error"] or "closed" in stats["last_error"]
        finally:
            out.close()
            back.stop()
    finally:
        out.close()


def test_alerts_are_not_dropped_for_tracks_and_go_first():
    port = free_port()  # nothing listens yet
    out = tak(port, queue=2)
    try:
        out.send_tracks([row(f"T{i}") for i in range(6)])
        out.send_alert(alert())
        time.sleep(0.05)
        server = CotServer(port)
        try:
            assert wait_until(lambda: "skywarden.alert.A1" in server.uids())
            time.sleep(0.1)
            uids = server.uids()
        finally:
            server.stop()
    finally:
        out.close()
    tracks = [u for u in uids if not u.startswith("skywarden.alert.")]
    # at most one track was already in the sender's hands before the alert was queued
    assert uids.index("skywarden.alert.A1") <= 1
    stats = out.stats()
    assert stats["dropped"] >= 3 and stats["dropped"] + len(tracks) == 6
    assert stats["dropped_tracks"] == stats["dropped"]
    assert stats["dropped_alerts"] == 0 and stats["sent_alerts"] == 1


def test_a_newer_row_replaces_a_queued_row_of_the_same_track():
    port = free_port()
    out = tak(port, queue=10)
    try:
        out.send_tracks([row("HOLD")])  # the sender takes this one and waits to connect
        time.sleep(0.05)
        out.send_tracks([row("T1", T0, alt=100.0)])
        out.send_tracks([row("T1", T0 + 1, alt=200.0)])
        server = CotServer(port)
        try:
            assert wait_until(lambda: "skywarden.T1" in server.uids())
            time.sleep(0.05)
            t1 = [e for e in server.events if e.get("uid") == "skywarden.T1"]
        finally:
            server.stop()
    finally:
        out.close()
    assert [e.find("point").get("hae") for e in t1] == ["200.0"]
    assert out.stats()["replaced"] == 1


def test_close_flushes_what_is_queued_and_counts_what_it_cannot_send(server):
    out = tak(server.port)
    out.send_tracks([row(f"T{i}") for i in range(50)])
    out.close(timeout=5.0)
    assert out.stats()["sent"] == 50 and out.stats()["abandoned"] == 0
    assert wait_until(lambda: len(server.uids()) == 50)
    dead = tak(free_port())
    dead.send_tracks([row("T1"), row("T2")])
    started = time.monotonic()
    dead.close(timeout=0.2)
    assert time.monotonic() - started < 2.0
    assert dead.stats()["abandoned"] == 2 and dead.stats()["failed"] == 2


def test_backoff_doubles_to_its_cap_with_jitter_and_resets():
    exact = Backoff(0.5, 30.0, jitter=0.0)
    assert [exact.next_delay() for _ in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    exact.reset()
    assert exact.next_delay() == 0.5
    jittered = Backoff(0.5, 30.0, jitter=0.5)
    delays = [jittered.next_delay() for _ in range(200)]
    assert all(15.0 <= d <= 30.0 for d in delays[10:])
    assert len({round(d, 6) for d in delays[10:]}) > 100  # not all in step
    for _ in range(10_000):  # a long outage never overflows
        jittered.next_delay()
    assert jittered.nominal() == 30.0
    with pytest.raises(ValueError):
        Backoff(0.0, 1.0)


# -- TLS ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    trustme = pytest.importorskip("trustme")  # dev dependency: a test CA and certificates
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    elsewhere = ca.issue_cert("tak.example")  # names another host
    client_cert = ca.issue_cert("skywarden-client")
    d = tmp_path_factory.mktemp("pki")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(d / "client.pem"))
    client_cert.cert_chain_pems[0].write_to_path(str(d / "client-cert.pem"))
    client_cert.private_key_pem.write_to_path(str(d / "client-key.pem"))
    other = trustme.CA()
    other.cert_pem.write_to_path(str(d / "other-ca.pem"))
    return ca, server_cert, d, elsewhere


def tls_server(pki, *, require_client_cert: bool, cert=None) -> CotServer:
    ca, server_cert, _, _ = pki
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    (cert or server_cert).configure_cert(ctx)
    if require_client_cert:
        ca.configure_trust(ctx)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return CotServer(context=ctx)


def test_tls_with_a_client_certificate_the_server_requires(pki):
    _, _, d, _ = pki
    server = tls_server(pki, require_client_cert=True)
    out = tak(server.port, protocol="tls", ca_file=str(d / "ca.pem"),
              cert_file=str(d / "client-cert.pem"), key_file=str(d / "client-key.pem"))
    try:
        out.send_tracks([row("T1")])
        out.send_alert(alert())
        assert wait_until(lambda: len(server.events) == 2)
    finally:
        out.close()
        server.stop()
    assert not server.errors
    assert out.stats()["connects"] == 1


def test_tls_cert_and_key_in_one_file(pki):
    _, _, d, _ = pki
    server = tls_server(pki, require_client_cert=True)
    out = tak(server.port, protocol="tls", ca_file=str(d / "ca.pem"),
              cert_file=str(d / "client.pem"))
    try:
        out.send_tracks([row("T1")])
        assert wait_until(lambda: len(server.events) == 1)
    finally:
        out.close()
        server.stop()


def test_tls_without_the_required_client_certificate_delivers_nothing(pki):
    _, _, d, _ = pki
    server = tls_server(pki, require_client_cert=True)
    out = tak(server.port, protocol="tls", ca_file=str(d / "ca.pem"))
    try:
        out.send_tracks([row("T1")])
        assert wait_until(lambda: out.stats()["errors"] >= 1)
    finally:
        out.close(timeout=0.2)
        server.stop()
    assert server.events == []


def test_tls_refuses_a_server_signed_by_another_ca(pki):
    _, _, d, _ = pki
    server = tls_server(pki, require_client_cert=False)
    out = tak(server.port, protocol="tls", ca_file=str(d / "other-ca.pem"))
    try:
        out.send_tracks([row("T1")])
        assert wait_until(lambda: out.stats()["errors"] >= 1)
        assert "certificate verify failed" in out.stats()["last_error"]
    finally:
        out.close(timeout=0.2)
        server.stop()
    assert server.events == []


def test_tls_host_name_check_can_be_turned_off_but_not_the_ca_check(pki):
    _, _, d, elsewhere = pki
    server = tls_server(pki, require_client_cert=False, cert=elsewhere)
    # The certificate names tak.example, not 127.0.0.1: refused with the check only.
    strict = tak(server.port, protocol="tls", ca_file=str(d / "ca.pem"))
    loose = tak(server.port, protocol="tls", ca_file=str(d / "ca.pem"),
                verify_hostname=False, name="loose")
    try:
        strict.send_tracks([row("STRICT")])
        loose.send_tracks([row("LOOSE")])
        assert wait_until(lambda: "skywarden.LOOSE" in server.uids())
        assert wait_until(lambda: strict.stats()["errors"] >= 1)
        assert "skywarden.STRICT" not in server.uids()
    finally:
        strict.close(timeout=0.2)
        loose.close()
        server.stop()


# -- settings -------------------------------------------------------------------------------


def test_settings_from_a_table_reject_unknown_keys_and_bad_values():
    table = {"name": "hq", "host": "tak.example", "port": 8089, "nation": "POL",
             "protocol": "tls"}
    assert msgspec.convert(table, TakSettings).protocol == "tls"
    with pytest.raises(msgspec.ValidationError, match="staleness"):
        msgspec.convert({**table, "staleness": 3}, TakSettings)
    with pytest.raises(msgspec.ValidationError, match="port"):
        msgspec.convert({**table, "port": 70000}, TakSettings)
    with pytest.raises(msgspec.ValidationError, match="protocol"):
        msgspec.convert({**table, "protocol": "http"}, TakSettings)
    with pytest.raises(msgspec.ValidationError, match="nation"):
        msgspec.convert({**table, "nation": "Poland"}, TakSettings)


def test_check_names_the_field(tmp_path):
    base = dict(name="hq", host="tak.example", port=8089, nation="POL")
    with pytest.raises(ConfigError, match="field ca_file: no such file"):
        TakSettings(**base, protocol="tls", ca_file=str(tmp_path / "nope.pem")).check()
    with pytest.raises(ConfigError, match="field ca_file: only for protocol 'tls'"):
        TakSettings(**base, ca_file=str(tmp_path / "ca.pem")).check()
    with pytest.raises(ConfigError, match="field key_file: needs cert_file"):
        TakSettings(**base, protocol="tls", key_file="k.pem").check()
    with pytest.raises(ConfigError, match="field key_password_env"):
        TakSettings(**base, protocol="tls", key_password_env="SKYWARDEN_NO_SUCH_VAR").check()
    with pytest.raises(ConfigError, match="field host"):
        TakSettings(**{**base, "host": " "}).check()
