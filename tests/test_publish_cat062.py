"""Fused tracks -> CAT062: the fast writer against libasterix (byte for byte, and every value
read back), our own decoder, and the output over real UDP sockets (unicast and multicast on
loopback) behind the publisher."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Any

import asterix.generated as gen
import msgspec
import pytest
from asterix.base import Bits, RawDatablock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.bus import LocalBus
from skywarden.errors import ConfigError
from skywarden.ingest.asterix import AsterixDecoder
from skywarden.ingest.counts import FeedCounts
from skywarden.publish.asterix_out import Cat062Output, Cat062Settings
from skywarden.publish.cat062 import (
    LATLON_LSB,
    Cat062Encoder,
    TrackNumbers,
    record,
    record_reference,
)
from skywarden.publish.publisher import Publisher, make_outputs
from skywarden.records import AlertEvent, TrackUpdate
from skywarden.sensors import SensorRegistry
from support import wait_until

T = 1_700_000_000.25  # 22:13:20.25 UTC
FT = 0.3048
SAC, SIC = 25, 200
PROPS = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow])


def row(track: str = "T1", **kw: object) -> TrackUpdate:
    base: dict[str, object] = dict(
        time=T, track=track, lat=52.25, lon=21.0, alt=3000.0, vel_e=120.0, vel_n=-35.5,
        vel_u=2.5, sigma_h=45.0, status="confirmed", ids=["icao:48AC01", "rid:X"],
        sensors=["r1", "r2"])
    base.update(kw)
    return TrackUpdate(**base)  # type: ignore[arg-type]


def lib_records(datagrams: list[bytes]) -> list[Any]:
    out = []
    for d in datagrams:
        dbs = RawDatablock.parse(Bits.from_bytes(d))
        assert not isinstance(dbs, ValueError)
        for db in dbs:
            assert db.get_category() == 62
            recs = gen.Cat_062_1_21.cv_uap.parse(db.get_raw_records())
            assert not isinstance(recs, ValueError)
            out += recs
    return out


def clamp(v: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, v))


# -- random rows ------------------------------------------------------------------------------

def finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


IDS = st.one_of(st.integers(0, 1 << 28).map(lambda a: f"icao:{a:X}"),
                st.sampled_from(["icao:", "icao:zz", "rid:1596F3", "icao:48ac01", "mmsi:1"]))
ROWS = st.builds(
    TrackUpdate,
    time=finite(0.0, 7.3e9) | st.integers(1, 10_000).map(lambda k: 86400.0 * k - 1 / 512),
    track=st.sampled_from(["A", "B", "C", "D", "E"]),
    lat=finite(-90.0, 90.0), lon=finite(-180.0, 360.0),
    alt=st.none() | finite(-1000.0, 1.0e6),
    vel_e=finite(-1.0e4, 1.0e4), vel_n=finite(-1.0e4, 1.0e4), vel_u=finite(-1.0e4, 1.0e4),
    sigma_h=st.none() | finite(0.0, 1.0e5),
    status=st.sampled_from(["tentative", "confirmed", "coasting", "deleted"]),
    ids=st.lists(IDS, max_size=3),
    sensors=st.lists(st.sampled_from(["r1", "r2", "adsb"]), max_size=3),
)


@PROPS
@given(rows=st.lists(ROWS, min_size=1, max_size=25), sac=st.integers(0, 255),
       sic=st.integers(0, 255), svc=st.none() | st.integers(0, 255),
       size=st.integers(64, 1400))
def test_fast_writer_writes_the_same_bytes_as_libasterix(
        rows: list[TrackUpdate], sac: int, sic: int, svc: int | None, size: int) -> None:
    fast = Cat062Encoder(sac, sic, size, service_id=svc)
    slow = Cat062Encoder(sac, sic, size, service_id=svc, reference=True)
    assert fast.encode(rows) == slow.encode(rows)
    assert fast.encode(rows[::-1]) == slow.encode(rows[::-1])  # numbers reused alike


@PROPS
@given(r=ROWS, first=st.booleans(), number=st.integers(1, 65535),
       svc=st.none() | st.integers(0, 255))
def test_libasterix_reads_back_every_value(r: TrackUpdate, first: bool, number: int,
                                           svc: int | None) -> None:
    data = record(r, SAC, SIC, number, first, svc)
    assert data == record_reference(r, SAC, SIC, number, first, svc)
    (rec,) = lib_records([bytes((62, 0, len(data) + 3)) + data])
    src = rec.get_item("010").variation
    assert (src.get_item("SAC").as_uint(), src.get_item("SIC").as_uint()) == (SAC, SIC)
    assert (rec.get_item("015").as_uint() if svc is not None else
            rec.get_item("015")) == svc
    tod = rec.get_item("070").as_uint() / 128.0
    assert tod == min(round((r.time % 86400.0) * 128.0), 86400 * 128 - 1) / 128.0
    pos = rec.get_item("105").variation
    lat = pos.get_item("LAT").variation.content.as_quantity("°")
    lon = pos.get_item("LON").variation.content.as_quantity("°")
    half = LATLON_LSB / 2 * 1.000001
    assert abs(lat - r.lat) <= half
    assert abs(lon - ((r.lon + 180.0) % 360.0 - 180.0)) <= half
    vel = rec.get_item("185").variation
    v = 32767 * 0.25
    assert abs(vel.get_item("VX").variation.content.as_quantity("m/s")
               - clamp(r.vel_e, -v, v)) <= 0.125
    assert abs(vel.get_item("VY").variation.content.as_quantity("m/s")
               - clamp(r.vel_n, -v, v)) <= 0.125
    assert abs(rec.get_item("220").variation.content.as_quantity("ft/min")
               - clamp(r.vel_u / FT * 60.0, -204793.0, 204787.0)) <= 3.125
    if r.alt is None:
        assert rec.get_item("130") is None
    else:
        assert abs(rec.get_item("130").variation.content.as_quantity("ft")
                   - clamp(r.alt / FT, -1500.0, 150000.0)) <= 3.125
    assert rec.get_item("040").as_uint() == number
    status = rec.get_item("080").variation
    assert status.get_item("MON").as_uint() == (len(r.sensors) == 1)
    assert status.get_item("CNF").as_uint() == (r.status == "tentative")
    assert status.get_item("TSE").as_uint() == (r.status == "deleted")
    assert status.get_item("CST").as_uint() == (r.status == "coasting")
    assert status.get_item("TSB").as_uint() == first
    assert status.get_item("SIM").as_uint() == 0
    icao = next((i[5:] for i in r.ids if i.startswith("icao:")), None)
    try:
        adr = None if icao is None else int(icao, 16) & 0xFFFFFF
    except ValueError:
        adr = None
    got = rec.get_item("380")
    assert (got.variation.get_item("ADR").as_uint() if got is not None else None) == adr
    got = rec.get_item("500")
    if r.sigma_h is None or r.sigma_h <= 0.0:
        assert got is None
    else:
        apc = got.variation.get_item("APC").variation
        s = min(round(r.sigma_h * 2.0), 0xFFFF)
        assert (apc.get_item("X").as_uint(), apc.get_item("Y").as_uint()) == (s, s)


@PROPS
@given(r=ROWS)
def test_round_trip_through_our_decoder_within_one_lsb(r: TrackUpdate) -> None:
    (dg,) = Cat062Encoder(SAC, SIC).encode([r])
    (det,) = AsterixDecoder({(SAC, SIC): "peer"}, FeedCounts()).datagram(dg, r.time)
    alt_ft = None if r.alt is None else clamp(r.alt / FT, -1500.0, 150000.0)
    assert det.sensor == "peer" and det.kind == "position"
    assert abs(det.time - r.time) <= 1 / 256 + 1e-6 or r.time % 86400 > 86400 - 1 / 256
    assert abs(det.lat - r.lat) <= LATLON_LSB / 2 * 1.000001
    assert abs(det.lon - ((r.lon + 180.0) % 360.0 - 180.0)) <= LATLON_LSB / 2 * 1.000001
    v = 32767 * 0.25
    assert abs(det.vel_e - clamp(r.vel_e, -v, v)) <= 0.125
    assert abs(det.vel_n - clamp(r.vel_n, -v, v)) <= 0.125
    assert abs(det.vel_u - clamp(r.vel_u, -204793 * FT / 60, 204787 * FT / 60)) <= (
        3.125 * FT / 60 + 1e-9)
    if alt_ft is None:
        assert det.alt is None
    else:
        assert abs(det.alt - alt_ft * FT) <= 3.125 * FT + 1e-9


def test_round_trip_of_a_typical_row() -> None:
    (dg,) = Cat062Encoder(sac=7, sic=9).encode([row()])
    (det,) = AsterixDecoder({(7, 9): "peer"}, FeedCounts()).datagram(dg, T + 1.0)
    assert det.time == T
    assert det.lat == pytest.approx(52.25, abs=LATLON_LSB / 2)
    assert (det.vel_e, det.vel_n) == (120.0, -35.5)
    assert det.id == "icao:48AC01"
    assert det.sigma_h == pytest.approx(45.0)


def test_track_numbers_stable_then_freed_on_delete() -> None:
    enc = Cat062Encoder(sac=1, sic=1)
    first = lib_records(enc.encode([row("A"), row("B")]))
    again = lib_records(enc.encode([row("B"), row("A", status="deleted")]))
    assert [r.get_item("040").as_uint() for r in first] == [1, 2]
    assert [r.get_item("040").as_uint() for r in again] == [2, 1]
    assert [r.get_item("080").variation.get_item("TSB").as_uint() for r in again] == [0, 0]
    assert again[1].get_item("080").variation.get_item("TSE").as_uint() == 1
    assert len(enc.numbers) == 1 and "B" in enc.numbers and "A" not in enc.numbers


def test_datagrams_bounded_and_all_rows_sent() -> None:
    enc = Cat062Encoder(sac=1, sic=1, max_datagram=200)
    grams = enc.datagrams([row(f"T{i}") for i in range(40)])
    assert len(grams) > 1 and all(len(g) <= 200 for g, _ in grams)
    assert sum(n for _, n in grams) == 40
    dets = []
    dec = AsterixDecoder({(1, 1): "peer"}, FeedCounts())
    for g, _ in grams:
        dets += dec.datagram(g, T)
    assert len(dets) == 40


def test_track_numbers_exhausted_then_reused() -> None:
    nums = TrackNumbers()
    for i in range(65535):
        assert nums.get(f"t{i}") == (i + 1, True)
    assert nums.get("one too many") is None
    nums.release("t41")
    assert nums.get("new") == (42, True)


def test_a_row_holding_nan_is_counted_not_sent_and_frees_its_number() -> None:
    enc = Cat062Encoder(1, 1)
    grams = enc.encode([row("bad", vel_e=float("nan")), row("good")])
    assert enc.unencodable == 1 and "bad" not in enc.numbers
    assert [r.get_item("040").as_uint() for r in lib_records(grams)] == [2]


def test_bad_source_rejected() -> None:
    with pytest.raises(ValueError, match="sac"):
        Cat062Encoder(sac=300, sic=1)


# -- settings -------------------------------------------------------------------------------------

def settings_of(**kw: Any) -> Cat062Settings:
    base: dict[str, Any] = dict(name="atm", nation="POL", host="127.0.0.1", port=8600,
                                sac=SAC, sic=SIC)
    base.update(kw)
    return Cat062Settings(**base)


@pytest.mark.parametrize(("kw", "field"), [
    (dict(host=""), "host"), (dict(host="::1"), "host"), (dict(sac=256), "sac"),
    (dict(sic=-1), "sic"), (dict(service_id=999), "service_id"),
    (dict(period_s=0.0), "period_s"), (dict(end_after_s=0.5), "end_after_s"),
    (dict(max_datagram=20), "max_datagram"), (dict(multicast_ttl=0), "multicast_ttl"),
    (dict(interface="eth0", host="239.1.2.3"), "interface"),
    (dict(interface="127.0.0.1"), "interface"), (dict(queue=0), "queue"),
])
def test_settings_check_names_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=f"asterix output 'atm': field {field}:"):
        settings_of(**kw).check()


def test_settings_refuse_unknown_keys_and_take_defaults() -> None:
    with pytest.raises(msgspec.ValidationError, match="squawk"):
        msgspec.convert({"name": "a", "nation": "POL", "host": "h", "port": 1, "sac": 1,
                         "sic": 2, "squawk": 1}, Cat062Settings)
    s = msgspec.convert({"name": "a", "nation": "POL", "host": "239.1.2.3", "port": 1,
                         "sac": 1, "sic": 2, "interface": "127.0.0.1"}, Cat062Settings)
    assert (s.period_s, s.max_datagram, s.multicast_ttl) == (1.0, 1400, 1)
    assert s.check() is s


# -- the output over real sockets ---------------------------------------------------------------

class UdpSink:
    """Collects (arrival time, datagram) on 127.0.0.1, or on a multicast group joined on
    the loopback interface."""

    def __init__(self, group: str | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if group is None:
            self.sock.bind(("127.0.0.1", 0))
        else:
            self.sock.bind((group, 0))
            mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("127.0.0.1"))
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self.port = self.sock.getsockname()[1]
        self.got: list[tuple[float, bytes]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            self.got.append((time.monotonic(), data))

    def records(self) -> list[Any]:
        return lib_records([d for _, d in self.got])

    def wait_records(self, n: int) -> list[Any]:
        """The records received once there are ``n`` (fails the test otherwise)."""
        assert wait_until(lambda: len(self.records()) >= n), len(self.records())
        return self.records()

    def detections(self) -> list[Any]:
        reg = SensorRegistry.from_dicts([{"id": "skywarden-sdps", "type": "track_feed",
                                          "owner": "POL", "sac": SAC, "sic": SIC}])
        dec = AsterixDecoder.from_registry(reg, FeedCounts())
        return [det for _, d in self.got for det in dec.datagram(d, T)]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(1.0)


@pytest.fixture
def sink():
    s = UdpSink()
    yield s
    s.close()


def numbers_and_flags(records: list[Any]) -> list[tuple[int, int, int]]:
    """(track number, TSB, TSE) of each record."""
    out = []
    for r in records:
        st_ = r.get_item("080").variation
        out.append((r.get_item("040").as_uint(), st_.get_item("TSB").as_uint(),
                    st_.get_item("TSE").as_uint()))
    return out


def test_rows_through_the_publisher_arrive_where_they_were(sink: UdpSink) -> None:
    bus = LocalBus()
    (out,) = make_outputs([settings_of(port=sink.port, period_s=0.05)])
    assert isinstance(out, Cat062Output)
    pub = Publisher(bus, [out], poll_s=0.02).start()
    try:
        bus.publish("tracks.POL", [row("A", lat=52.0, lon=21.0),
                                   row("B", lat=54.5, lon=25.25, alt=None)])
        bus.publish("tracks.POL", row("C", lat=-33.9, lon=359.0))  # a single row
        assert wait_until(lambda: len(sink.records()) == 3)
    finally:
        pub.close()
    dets = sink.detections()
    assert [d.sensor for d in dets[:3]] == ["skywarden-sdps"] * 3
    got = sorted((round(d.lat, 5), round(d.lon, 5), d.alt is None) for d in dets[:3])
    assert got == [(-33.9, -1.0, False), (52.0, 21.0, False), (54.5, 25.25, True)]
    st_ = pub.stats()["outputs"]["atm"]
    assert {"name", "kind", "sent", "dropped", "failed", "filtered"} <= set(st_)
    assert st_["kind"] == "asterix" and st_["failed"] == 0 and st_["dropped"] == 0
    # close ended all three tracks: TSE records follow
    recs = numbers_and_flags(sink.wait_records(6))
    assert sorted(n for n, _, tse in recs if tse) == [1, 2, 3]
    assert st_["sent"] == 6 and st_["ended"] == 3 and st_["datagrams"] >= 2


def test_multicast_on_loopback_reaches_a_member_of_the_group() -> None:
    group = "239.255.62.7"
    sink = UdpSink(group)
    out = Cat062Output(settings_of(host=group, port=sink.port, period_s=0.05,
                                   interface="127.0.0.1", multicast_ttl=1))
    try:
        out.send_tracks([row("A"), row("B", lat=53.0)])
        assert wait_until(lambda: len(sink.detections()) >= 2)
        # the sender counts a batch once all its datagrams are out: the group may hear
        # them first
        assert wait_until(lambda: out.stats()["sent"] == 2)
        assert out._sock is not None  # noqa: SLF001
        s = out._sock  # noqa: SLF001
        assert s.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 1
        assert socket.inet_ntoa(s.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                                             4)) == "127.0.0.1"
    finally:
        out.close()
        sink.close()
    assert sorted(round(d.lat, 3) for d in sink.detections()[:2]) == [52.25, 53.0]


def test_another_nations_national_rows_never_leave(sink: UdpSink) -> None:
    bus = LocalBus()
    out = Cat062Output(settings_of(port=sink.port, period_s=0.05))
    pub = Publisher(bus, [out], poll_s=0.02).start()
    try:
        bus.publish("tracks.LTU", [
            row("LTU-ONLY", releasability="LTU", lat=54.0),
            row("NOBODY", releasability="none", lat=55.0),
            row("POL-ONLY", releasability="POL", lat=51.0),
            row("SHARED", releasability="LTU,POL", lat=52.0),
            row("ALLIES", releasability="allies", lat=53.0),
            row("PUBLIC", releasability="public", lat=50.0)])
        bus.publish("alerts.POL", AlertEvent(time=T, alert="A1", event="raised", level=3,
                                             kind="incursion", nation="POL", lat=52.0,
                                             lon=21.0))
        assert wait_until(lambda: len(sink.records()) == 4)
        time.sleep(0.15)
        assert len(sink.records()) == 4
    finally:
        pub.close(timeout=2.0)
    lats = sorted(round(d.lat, 3) for d in sink.detections()[:4])
    assert lats == [50.0, 51.0, 52.0, 53.0]
    assert all(round(d.lat) not in (54, 55) for d in sink.detections())
    st_ = out.stats()
    assert st_["withheld"] == 2 and st_["skipped_alerts"] == 1 and st_["filtered"] == 3


def test_a_track_no_longer_releasable_is_ended_with_its_last_visible_row(
        sink: UdpSink) -> None:
    out = Cat062Output(settings_of(port=sink.port, period_s=0.05))
    try:
        out.send_tracks([row("A", releasability="POL", lat=52.0)])
        assert wait_until(lambda: len(sink.records()) == 1)
        # a national-only LTU sensor joined: the row now says LTU
        out.send_tracks([row("A", releasability="LTU", lat=54.0, time=T + 1)])
        assert wait_until(lambda: len(sink.records()) == 2)
    finally:
        out.close()
    assert numbers_and_flags(sink.wait_records(2)) == [(1, 1, 0), (1, 0, 1)]
    assert [round(d.lat, 3) for d in sink.detections()] == [52.0, 52.0]
    assert out.stats()["withheld"] == 1


def test_a_track_updated_ten_times_in_one_period_is_sent_once(sink: UdpSink) -> None:
    bus = LocalBus()
    out = Cat062Output(settings_of(port=sink.port, period_s=0.2))
    pub = Publisher(bus, [out])  # pumped by hand
    try:
        # ten updates within one period, handed over at once (as one tick's batch is), so
        # no period boundary can fall between them however loaded the machine is
        bus.publish("tracks.POL", [row("A", time=T + k * 0.01, lat=52.0 + k / 100)
                                   for k in range(10)])
        pub.pump()
        assert wait_until(lambda: len(sink.records()) == 1)
        time.sleep(0.5)  # two more periods: nothing new, nothing repeated
        assert len(sink.records()) == 1
        bus.publish("tracks.POL", [row("A", time=T + 1.0, lat=53.0)])
        pub.pump()
        assert wait_until(lambda: len(sink.records()) == 2)
        st_ = out.stats()
    finally:
        pub.close()
    lats = [round(d.lat, 3) for d in sink.detections()]
    assert lats[:2] == [52.09, 53.0]  # the newest row of each period
    assert st_["superseded"] == 9 and st_["sent"] == 2 and st_["filtered"] == 9


def test_a_deleted_row_is_sent_at_once_with_tse(sink: UdpSink) -> None:
    out = Cat062Output(settings_of(port=sink.port, period_s=1.0))
    try:
        out.send_tracks([row("A"), row("B")])
        assert wait_until(lambda: len(sink.records()) == 2)
        first = sink.got[-1][0]
        out.send_tracks([row("A", status="deleted", time=T + 1)])
        assert wait_until(lambda: len(sink.records()) == 3)
        assert sink.got[-1][0] - first < 0.5  # not held for the next period
        # a track deleted before it was ever sent is not sent at all
        out.send_tracks([row("Z"), row("Z", status="deleted")])
        time.sleep(0.2)
        assert len(sink.records()) == 3
        assert out.stats()["ended_unseen"] == 1
    finally:
        out.close()
    recs = numbers_and_flags(sink.wait_records(4))
    assert recs[:3] == [(1, 1, 0), (2, 1, 0), (1, 0, 1)]
    assert recs[3:] == [(2, 0, 1)]  # B, ended at close


def test_a_silent_track_is_ended_after_end_after_s_of_track_time(sink: UdpSink) -> None:
    out = Cat062Output(settings_of(port=sink.port, period_s=0.05, end_after_s=10.0))
    try:
        out.send_tracks([row("A"), row("B")])
        assert wait_until(lambda: len(sink.records()) == 2)
        out.send_tracks([row("B", time=T + 5)])
        assert wait_until(lambda: len(sink.records()) == 3)
        out.send_tracks([row("B", time=T + 11)])  # A silent for 11 s: ended
        assert wait_until(lambda: len(sink.records()) == 5)
        assert out.stats()["live"] == 1
    finally:
        out.close(timeout=2.0)
    assert numbers_and_flags(sink.wait_records(6))[2:] == [(2, 0, 0), (2, 0, 0), (1, 0, 1),
                                                           (2, 0, 1)]


def test_a_failing_send_is_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    # a broadcast address without SO_BROADCAST: every sendto fails with EACCES
    out = Cat062Output(settings_of(host="255.255.255.255", port=9, period_s=0.05))
    try:
        out.send_tracks([row("A")])
        assert wait_until(lambda: out.stats()["unsent"] >= 1)
        out.send_tracks([row("A", time=T + 1)])
        assert wait_until(lambda: out.stats()["unsent"] >= 2)
    finally:
        out.close(timeout=2.0)
    st_ = out.stats()
    assert st_["sent"] == 0 and st_["failed"] == st_["unsent"] >= 2
    assert st_["errors"] >= 2 and "255.255.255.255" in st_["last_error"]
    assert caplog.text.count("asterix atm:") == 1


def test_a_full_queue_drops_new_tracks_and_counts_them(sink: UdpSink) -> None:
    out = Cat062Output(settings_of(port=sink.port, period_s=5.0, queue=2))
    try:
        out.send_tracks([row("A"), row("B"), row("C"), row("A", time=T + 0.5)])
        st_ = out.stats()
    finally:
        out.close(timeout=2.0)
    assert st_["dropped"] == 1 and st_["superseded"] == 1 and st_["queued"] == 2


def test_the_site_file_makes_an_asterix_output(tmp_path: Any) -> None:
    from skywarden.live.site import load_site

    path = tmp_path / "site.toml"
    path.write_text('[[output]]\ntype = "asterix"\nname = "atm"\nnation = "POL"\n'
                    'host = "239.1.2.3"\nport = 8700\nsac = 25\nsic = 200\n'
                    'interface = "127.0.0.1"\nperiod_s = 2.0\n')
    (entry,) = load_site(path).outputs
    assert entry.type == "asterix" and isinstance(entry.settings, Cat062Settings)
    assert (entry.settings.sac, entry.settings.sic, entry.settings.period_s) == (25, 200, 2.0)
    (out,) = make_outputs([entry.settings])
    out.close(0.5)
    assert isinstance(out, Cat062Output)
