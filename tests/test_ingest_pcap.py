"""pcap / pcapng -> UDP datagrams: link types, IPv4/IPv6, fragments, bad records counted."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.ingest.counts import FeedCounts
from skywarden.ingest.pcap import (
    LINK_ETHERNET,
    LINK_RAW,
    LINK_SLL,
    LINK_SLL2,
    packet_udp,
    parse_capture,
    read_capture,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".cache" / "asterix-samples"
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def udp(payload: bytes, dport: int = 8600, sport: int = 5000) -> bytes:
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv4(body: bytes, proto: int = 17, frag: int = 0x4000) -> bytes:
    # frag 0x4000: Don't Fragment, offset 0
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, frag, 64, proto, 0,
                       bytes([10, 0, 0, 1]), bytes([239, 1, 1, 1])) + body


def ipv6(body: bytes, nxt: int = 17, ext: bytes = b"") -> bytes:
    return struct.pack(">IHBB16s16s", 6 << 28, len(ext) + len(body), nxt, 64,
                       bytes(16), bytes(15) + b"\x01") + ext + body


def ether(ip: bytes, proto: int = 0x0800, vlan: bool = False) -> bytes:
    tag = struct.pack(">HH", 0x8100, 42) if vlan else b""
    return bytes(6) + bytes(6) + tag + struct.pack(">H", proto) + ip


def pcap(frames: list[bytes], link: int = LINK_ETHERNET, order: str = "<",
         nano: bool = False, t0: int = 1_700_000_000) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, link)
    for i, f in enumerate(frames):
        out += struct.pack(order + "IIII", t0 + i, 500, len(f), len(f)) + f
    return out


def pcapng(frames: list[bytes], link: int = LINK_ETHERNET, tsresol: int | None = None,
           t0_ticks: int = 1_700_000_000_000_000) -> bytes:
    def blk(kind: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        size = 12 + len(body)
        return struct.pack("<II", kind, size) + body + struct.pack("<I", size)

    shb = blk(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = b""
    if tsresol is not None:
        opts = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    idb = blk(1, struct.pack("<HHI", link, 0, 65535) + opts)
    out = shb + idb
    for i, f in enumerate(frames):
        ticks = t0_ticks + i
        out += blk(6, struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(f),
                                  len(f)) + f)
    return out


def datagrams(buf: bytes) -> tuple[list[tuple[float, int, bytes]], FeedCounts]:
    counts = FeedCounts()
    got = list(parse_capture(buf, counts))
    assert counts.units == sum(counts.outcomes.values())
    return got, counts


def test_ethernet_ipv4_udp() -> None:
    got, counts = datagrams(pcap([ether(ipv4(udp(b"hello", 8600)))]))
    assert got == [(pytest.approx(1_700_000_000.0005), 8600, b"hello")]
    assert counts.units == 0


def test_vlan_big_endian_and_nanosecond_pcap() -> None:
    got, _ = datagrams(pcap([ether(ipv4(udp(b"x")), vlan=True)], order=">", nano=True))
    assert got == [(pytest.approx(1_700_000_000.0000005), 8600, b"x")]


@pytest.mark.parametrize(("link", "frame"), [
    (LINK_SLL, struct.pack(">HHH8sH", 0, 1, 6, bytes(8), 0x0800) + ipv4(udp(b"sll"))),
    (LINK_SLL2, struct.pack(">HHIHBB8s", 0x0800, 0, 1, 1, 0, 6, bytes(8)) + ipv4(udp(b"sll"))),
    (LINK_RAW, ipv4(udp(b"sll"))),
], ids=["SLL", "SLL2", "raw"])
def test_linux_cooked_and_raw_ip(link: int, frame: bytes) -> None:
    got, _ = datagrams(pcap([frame], link=link))
    assert [(p, d) for _, p, d in got] == [(8600, b"sll")]


def test_ipv6_with_extension_header() -> None:
    hop = bytes([17, 0]) + bytes(6)  # hop-by-hop options, next header UDP
    frame = ether(ipv6(udp(b"six", 4000), nxt=0, ext=hop), proto=0x86DD)
    got, _ = datagrams(pcap([frame]))
    assert [(p, d) for _, p, d in got] == [(4000, b"six")]


def test_fragments_other_protocols_and_link_types_ignored() -> None:
    frames = [
        ether(ipv4(udp(b"a" * 20), frag=0x2000)),  # MF: first fragment
        ether(ipv4(b"rest", frag=0x0003)),  # a later fragment
        ether(ipv6(b"frag", nxt=44), proto=0x86DD),
        ether(ipv4(b"tcp segment", proto=6)),
        ether(b"arp" * 10, proto=0x0806),
        ether(ipv4(udp(b"ok"))),
    ]
    got, counts = datagrams(pcap(frames))
    assert [d for _, _, d in got] == [b"ok"]
    assert counts.outcomes["ignored: IP fragment (not reassembled)"] == 3
    assert counts.outcomes["ignored: IP packet not UDP"] == 1
    assert counts.outcomes["ignored: frame not IP (ARP, LLDP, ...)"] == 1
    _, counts = datagrams(pcap([b"whatever"], link=105))
    assert counts.outcomes["ignored: link type 105 not supported"] == 1


def test_truncated_packets_and_records_counted() -> None:
    whole = ether(ipv4(udp(b"payload")))
    frames = [whole[:10], whole[:20], whole[:-3], whole]
    got, counts = datagrams(pcap(frames))
    assert [d for _, _, d in got] == [b"payload"]
    assert counts.rejected == 3
    cut = pcap([whole, whole])[:-5]
    got, counts = datagrams(cut)
    assert len(got) == 1 and counts.outcomes["rejected: pcap record truncated"] == 1
    _, counts = datagrams(b"\x00\x01\x02\x03 not a capture")
    assert counts.outcomes["rejected: not a pcap or pcapng file (unknown magic)"] == 1


def test_udp_length_beyond_ip_packet_rejected() -> None:
    bad = bytearray(ether(ipv4(udp(b"abc"))))
    bad[14 + 20 + 4:14 + 20 + 6] = (200).to_bytes(2, "big")
    assert packet_udp(LINK_ETHERNET, bytes(bad), c := FeedCounts()) is None
    assert c.outcomes["rejected: UDP length invalid"] == 1


def test_pcapng_enhanced_packets_with_and_without_tsresol() -> None:
    frame = ether(ipv4(udp(b"ng", 9000)))
    got, _ = datagrams(pcapng([frame, frame]))
    assert [(t, p, d) for t, p, d in got] == [
        (pytest.approx(1_700_000_000.0), 9000, b"ng"),
        (pytest.approx(1_700_000_000.000001), 9000, b"ng")]
    got, _ = datagrams(pcapng([frame], tsresol=9, t0_ticks=1_700_000_000_000_000_000))
    assert got[0][0] == pytest.approx(1_700_000_000.0)
    got, counts = datagrams(pcapng([frame])[:-8])
    assert got == [] and counts.outcomes["rejected: pcapng block length invalid"] == 1


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} missing: run "
                    "scripts/asterix-samples.sh (./run test does)")
@pytest.mark.parametrize(("name", "n"), [
    ("asterix.pcap", 100), ("cat_034_048.pcap", 100), ("cat_062_065.pcap", 1),
    ("cat_001_002.pcap", 1),
])
def test_real_captures_read_whole(name: str, n: int) -> None:
    counts = FeedCounts()
    got = list(read_capture(SAMPLES / name, counts))
    assert len(got) == n
    assert counts.units == 0  # every packet of these captures is a whole UDP datagram


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.pcap").write_bytes(b"")
    counts = FeedCounts()
    assert list(read_capture(tmp_path / "empty.pcap", counts)) == []
    assert counts.rejected == 1


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data: bytes) -> None:
    for head in (b"", pcap([])[:24], pcapng([])[:40]):
        datagrams(head + data)


@SETTINGS
@given(st.lists(st.binary(max_size=80), min_size=1, max_size=6), st.integers(0, 400),
       st.sampled_from([pcap, pcapng]))
def test_truncated_and_flipped_captures_never_raise(junk: list[bytes], cut: int,
                                                   writer: object) -> None:
    frames = [ether(ipv4(udp(j))) for j in junk] + junk
    buf = bytearray(writer(frames))  # type: ignore[operator]
    datagrams(bytes(buf[:cut]))
    if buf:
        buf[cut % len(buf)] ^= 0xFF
    datagrams(bytes(buf))
