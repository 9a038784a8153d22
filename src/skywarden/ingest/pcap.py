"""pcap and pcapng captures -> UDP datagrams ``(capture time, destination port, payload)``.

Pure parsing of a capture's bytes: no sockets, no libpcap. Link types: Ethernet (with
802.1Q/802.1ad VLAN tags), Linux cooked capture v1 and v2 (``tcpdump -i any``) and raw IP.
Network: IPv4 and IPv6 (with its hop-by-hop, routing and destination options headers).
Transport: UDP only.

Every captured packet that yields no datagram is counted once in ``counts`` with the
reason (other protocols and link types: ``ignored``; IP fragments: ``ignored``, they are
not reassembled; a record or header cut short: ``rejected``), and reading goes on with
the next packet. Nothing here raises on any input bytes.

pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html)::

    file header (24): magic a1b2c3d4 (us) / a1b23c4d (ns), either byte order, version (4),
                      zone (4), sigfigs (4), snaplen (4), link type (4)
    record (16 + n):  seconds (4) | fraction (4) | captured length n (4) | length (4) | data

pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-01.html): blocks of
type (4) | total length (4) | body | total length (4); Section Header 0a0d0d0a (byte order
magic 1a2b3c4d), Interface Description 1 (link type, if_tsresol option), Enhanced Packet 6
(interface, timestamp high/low, lengths, data), Simple Packet 3 (no timestamp: ignored).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from pathlib import Path

from .counts import FeedCounts

LINK_ETHERNET, LINK_RAW, LINK_RAW_BSD, LINK_SLL, LINK_SLL2 = 1, 101, 12, 113, 276
LINK_IPV4, LINK_IPV6 = 228, 229
ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD
_VLAN = (0x8100, 0x88A8, 0x9100)
_IPV6_EXT = (0, 43, 60)  # hop-by-hop, routing, destination options: (len + 1) x 8 octets

Datagram = tuple[float, int, bytes]


def _udp(pkt: bytes, i: int, counts: FeedCounts) -> tuple[int, bytes] | None:
    """The UDP datagram in the IP packet at ``pkt[i:]``: (destination port, payload)."""
    n = len(pkt)
    if i >= n:
        counts.add("rejected: packet truncated before its IP header")
        return None
    version = pkt[i] >> 4
    if version == 4:
        if n - i < 20:
            counts.add("rejected: IPv4 header truncated")
            return None
        ihl = (pkt[i] & 0x0F) * 4
        total = (pkt[i + 2] << 8) | pkt[i + 3]
        if ihl < 20 or total < ihl:
            counts.add("rejected: IPv4 header length invalid")
            return None
        if pkt[i + 9] != 17:
            counts.add("ignored: IP packet not UDP")
            return None
        frag = (pkt[i + 6] << 8) | pkt[i + 7]
        if frag & 0x3FFF:  # MF flag or a fragment offset
            counts.add("ignored: IP fragment (not reassembled)")
            return None
        end = i + total
        i += ihl
    elif version == 6:
        if n - i < 40:
            counts.add("rejected: IPv6 header truncated")
            return None
        nxt = pkt[i + 6]
        end = i + 40 + ((pkt[i + 4] << 8) | pkt[i + 5])
        i += 40
        while nxt in _IPV6_EXT:
            if i + 2 > n:
                counts.add("rejected: IPv6 extension header truncated")
                return None
            nxt, i = pkt[i], i + (pkt[i + 1] + 1) * 8
        if nxt == 44:
            counts.add("ignored: IP fragment (not reassembled)")
            return None
        if nxt != 17:
            counts.add("ignored: IP packet not UDP")
            return None
    else:
        counts.add("ignored: not an IPv4 or IPv6 packet")
        return None
    if end > n:
        counts.add("rejected: IP packet truncated (capture shorter than the packet)")
        return None
    if end - i < 8:
        counts.add("rejected: UDP header truncated")
        return None
    length = (pkt[i + 4] << 8) | pkt[i + 5]
    if length < 8 or i + length > end:
        counts.add("rejected: UDP length invalid")
        return None
    return (pkt[i + 2] << 8) | pkt[i + 3], pkt[i + 8:i + length]


def packet_udp(link: int, pkt: bytes, counts: FeedCounts) -> tuple[int, bytes] | None:
    """The UDP datagram of one captured frame of link type ``link``, or None (counted)."""
    if link == LINK_ETHERNET:
        i, n = 12, len(pkt)
        if n < 14:
            counts.add("rejected: Ethernet header truncated")
            return None
        proto = (pkt[12] << 8) | pkt[13]
        while proto in _VLAN:
            i += 4
            if n < i + 2:
                counts.add("rejected: Ethernet header truncated")
                return None
            proto = (pkt[i] << 8) | pkt[i + 1]
        i += 2
    elif link == LINK_SLL:
        if len(pkt) < 16:
            counts.add("rejected: Linux cooked header truncated")
            return None
        proto, i = (pkt[14] << 8) | pkt[15], 16
    elif link == LINK_SLL2:
        if len(pkt) < 20:
            counts.add("rejected: Linux cooked header truncated")
            return None
        proto, i = (pkt[0] << 8) | pkt[1], 20
    elif link in (LINK_RAW, LINK_RAW_BSD, LINK_IPV4, LINK_IPV6):
        return _udp(pkt, 0, counts)
    else:
        counts.add(f"ignored: link type {link} not supported")
        return None
    if proto not in (ETH_IPV4, ETH_IPV6):
        counts.add("ignored: frame not IP (ARP, LLDP, ...)")
        return None
    return _udp(pkt, i, counts)


def parse_capture(buf: bytes | mmap.mmap, counts: FeedCounts) -> Iterator[Datagram]:
    """UDP datagrams of a pcap or pcapng capture held in ``buf``."""
    if len(buf) < 4:
        counts.add("rejected: not a pcap or pcapng file (too short)")
        return
    head = bytes(buf[:4])
    if head == b"\x0a\x0d\x0d\x0a":
        yield from _pcapng(buf, counts)
    else:
        yield from _pcap(buf, counts)


def _pcap(buf: bytes | mmap.mmap, counts: FeedCounts) -> Iterator[Datagram]:
    magic = bytes(buf[:4])
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
             b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if order is None:
        counts.add("rejected: not a pcap or pcapng file (unknown magic)")
        return
    if len(buf) < 24:
        counts.add("rejected: pcap file header truncated")
        return
    frac = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    link = struct.unpack_from(order + "I", buf, 20)[0] & 0xFFFF
    rec = struct.Struct(order + "IIII")
    pos, n = 24, len(buf)
    while pos < n:
        if n - pos < 16:
            counts.add("rejected: pcap record header truncated")
            return
        sec, sub, caplen, _ = rec.unpack_from(buf, pos)
        pos += 16
        if caplen > n - pos:
            counts.add("rejected: pcap record truncated")
            return
        got = packet_udp(link, bytes(buf[pos:pos + caplen]), counts)
        pos += caplen
        if got is not None:
            yield sec + sub * frac, got[0], got[1]


def _pcapng(buf: bytes | mmap.mmap, counts: FeedCounts) -> Iterator[Datagram]:
    order = "<"
    links: list[tuple[int, float]] = []  # per interface: link type, seconds per tick
    pos, n = 0, len(buf)
    while pos < n:
        if n - pos < 12:
            counts.add("rejected: pcapng block truncated")
            return
        btype = bytes(buf[pos:pos + 4])
        if btype == b"\x0a\x0d\x0d\x0a":
            bom = bytes(buf[pos + 8:pos + 12])
            if bom == b"\x4d\x3c\x2b\x1a":
                order = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                order = ">"
            else:
                counts.add("rejected: pcapng section header with a bad byte-order magic")
                return
            links = []
        kind, size = struct.unpack_from(order + "II", buf, pos)
        if size < 12 or size % 4 or size > n - pos:
            counts.add("rejected: pcapng block length invalid")
            return
        body = bytes(buf[pos + 8:pos + size - 4])
        pos += size
        if kind == 1:  # Interface Description
            if len(body) < 8:
                counts.add("rejected: pcapng interface block truncated")
                continue
            links.append((struct.unpack_from(order + "H", body, 0)[0], _tsresol(body, order)))
        elif kind == 6:  # Enhanced Packet
            if len(body) < 20:
                counts.add("rejected: pcapng packet block truncated")
                continue
            iface, hi, lo, caplen, _ = struct.unpack_from(order + "IIIII", body, 0)
            if iface >= len(links) or 20 + caplen > len(body):
                counts.add("rejected: pcapng packet block invalid")
                continue
            link, tick = links[iface]
            got = packet_udp(link, body[20:20 + caplen], counts)
            if got is not None:
                yield ((hi << 32) | lo) * tick, got[0], got[1]
        elif kind == 3:
            counts.add("ignored: pcapng simple packet (no timestamp)")
        elif kind == 2:
            counts.add("ignored: pcapng obsolete packet block")
        # section headers, statistics, name resolution, ...: not packets, not units


def _tsresol(body: bytes, order: str) -> float:
    """Seconds per timestamp tick from an interface's if_tsresol option (default 1 us)."""
    i = 8
    while i + 4 <= len(body):
        code, length = struct.unpack_from(order + "HH", body, i)
        if code == 0:
            break
        if code == 9 and length >= 1 and i + 5 <= len(body):
            v = body[i + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        i += 4 + (length + 3) // 4 * 4
    return 1e-6


def read_capture(path: str | Path, counts: FeedCounts) -> Iterator[Datagram]:
    """UDP datagrams of the pcap or pcapng file at ``path`` (memory-mapped)."""
    with Path(path).open("rb") as fh:
        if fh.seek(0, 2) == 0:
            counts.add("rejected: not a pcap or pcapng file (too short)")
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            yield from parse_capture(buf, counts)
