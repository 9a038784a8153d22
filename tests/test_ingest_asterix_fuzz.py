"""Property tests of the ASTERIX decoder: malformed bytes never raise, every unit is
counted once, every detection is valid, and the valid records around garbage are kept."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import asterix.generated as gen
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.ingest.asterix import AsterixDecoder, decode_asterix_file, decode_pcap_file
from skywarden.ingest.asterix.files import KNOWN_CATEGORIES
from skywarden.ingest.asterix.uap import (
    COMPOUND,
    EXPLICIT,
    EXTENDED,
    REPETITIVE,
    REPETITIVE_FX,
    UAPS,
)
from skywarden.ingest.counts import FeedCounts
from skywarden.records import Detection

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".cache" / "asterix-samples"
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
T0 = 1_700_000_000.0
SOURCES = {(1, 2): "radar", (1, 3): "tracker", (1, 4): "adsb", (25, 201): "croatia",
           (25, 100): "croatia-sdps", (1, 5): "adsb-026", (1, 6): "adsb-023"}


def _block(spec: type, records: list[dict]) -> bytes:
    return spec.create([spec.cv_record.create(r) for r in records]).unparse().to_bytes()


PLOT = {
    "010": (("SAC", 1), ("SIC", 2)), "140": (3600.5, "s"),
    "040": (("RHO", (10.0, "NM")), ("THETA", (45.0, "°"))),
    "070": (0, 0, 0, 0, ("MODE3A", "7531")), "090": (0, 0, ("FL", (330, "FL"))),
    "220": 0x4CA2D1, "240": "RYR1234", "130": {"SRL": 5}, "250": [7], "030": [1, 2],
}
TRACK = {
    "010": (("SAC", 1), ("SIC", 3)), "070": (3600.0, "s"),
    "105": (("LAT", (45.5, "°")), ("LON", (16.25, "°"))),
    "185": (("VX", (100.0, "m/s")), ("VY", (-50.0, "m/s"))), "130": (35000.0, "ft"),
    "380": {"ADR": 0xABCDEF, "ID": "EZY12AB"}, "510": [(1, 2), (3, 4)],
}
REPORT = {
    "010": (("SAC", 1), ("SIC", 4)), "040": (0, 0), "071": (3601.0, "s"),
    "131": (("LAT", (52.1, "°")), ("LON", (21.5, "°"))), "080": 0x48AB01,
    "140": (1000.0, "ft"), "170": "LOT3AB", "110": {"TIS": (0,)},
}
GOOD = [
    _block(gen.Cat_048_1_32, [PLOT, PLOT, PLOT]),
    _block(gen.Cat_062_1_21, [TRACK, TRACK]),
    _block(gen.Cat_021_2_6, [REPORT, REPORT]),
]
if (SAMPLES / "cat048.raw").exists():
    GOOD.append((SAMPLES / "cat048.raw").read_bytes())
    GOOD.append((SAMPLES / "cat062cat065.raw").read_bytes())
DATAGRAM = b"".join(GOOD)


# Two stations send CAT021 in old editions.
OLD_EDITIONS = {(1, 5): "0.26", (1, 6): "0.23"}


def decode(data: bytes, received: float = T0) -> tuple[list[Detection], FeedCounts]:
    counts = FeedCounts()
    dets = AsterixDecoder(SOURCES, counts, OLD_EDITIONS).datagram(data, received)
    assert counts.units == sum(counts.outcomes.values())
    assert counts.positions == len(dets)
    for d in dets:
        d.check()
        msgspec.json.decode(msgspec.json.encode(d), type=Detection)
    return dets, counts


FULL, _ = decode(DATAGRAM)
PER_BLOCK = [decode(g)[0] for g in GOOD]


def test_the_valid_datagram_decodes_fully() -> None:
    assert len(FULL) == 3 + 2 + 2 + (1 + 2 if len(GOOD) > 3 else 0)


@SETTINGS
@given(st.binary(max_size=600), st.floats(0.0, 7.0e9))
def test_random_bytes_never_raise(data: bytes, received: float) -> None:
    decode(data, received)


@SETTINGS
@given(st.sampled_from([21, 48, 62]), st.binary(max_size=300))
def test_random_records_of_decoded_categories_never_raise(cat: int, body: bytes) -> None:
    decode(bytes([cat]) + (len(body) + 3).to_bytes(2, "big") + body)


@SETTINGS
@given(st.sampled_from(sorted(OLD_EDITIONS)), st.integers(0, 0x3F), st.binary(max_size=300))
def test_random_records_of_old_cat021_editions_never_raise(station: tuple[int, int],
                                                           items: int, body: bytes) -> None:
    # An FSPEC naming I010 (the station whose edition is 0.2x) and random items 2-7.
    rec = bytes([0x80 | (items << 1), *station]) + body
    decode(bytes([21]) + (len(rec) + 3).to_bytes(2, "big") + rec)


@SETTINGS
@given(st.integers(0, len(DATAGRAM)))
def test_truncated_datagram_keeps_the_whole_blocks_before_the_cut(cut: int) -> None:
    dets, counts = decode(DATAGRAM[:cut])
    assert dets == FULL[:len(dets)]
    whole, size = 0, 0
    for g, d in zip(GOOD, PER_BLOCK, strict=True):
        size += len(g)
        if size > cut:
            break
        whole += len(d)
    assert len(dets) >= whole


@SETTINGS
@given(st.lists(st.integers(0, len(DATAGRAM) * 8 - 1), min_size=1, max_size=4))
def test_bit_flips_never_raise(bits: list[int]) -> None:
    buf = bytearray(DATAGRAM)
    for b in bits:
        buf[b // 8] ^= 0x80 >> (b % 8)
    decode(bytes(buf))


@SETTINGS
@given(garbage=st.lists(st.binary(max_size=60), min_size=len(GOOD) + 1,
                        max_size=len(GOOD) + 1))
def test_garbage_datagrams_between_valid_ones_in_a_pcap(garbage: list[bytes],
                                                         tmp_path_factory: object) -> None:
    frames = []
    for i, g in enumerate(garbage):
        frames.append(g)  # not even an IP packet
        frames.append(_eth_udp(g))  # a UDP datagram of garbage
        if i < len(GOOD):
            frames.append(_eth_udp(GOOD[i]))
    path = tmp_path_factory.mktemp("pcap") / "mixed.pcap"  # type: ignore[attr-defined]
    path.write_bytes(_pcap(frames))
    counts = FeedCounts()
    dets = list(decode_pcap_file(path, AsterixDecoder(SOURCES, counts)))
    assert counts.units == sum(counts.outcomes.values())
    got = [d for d in dets if d.sensor in ("radar", "tracker", "adsb", "croatia",
                                           "croatia-sdps")]
    # a garbage datagram may by chance decode into a record; the valid ones all survive
    want = [(d.sensor, d.range, d.lat, d.id) for block in PER_BLOCK for d in block]
    have = [(d.sensor, d.range, d.lat, d.id) for d in got]
    it = iter(have)
    assert all(w in it for w in want)


@SETTINGS
@given(garbage=st.lists(st.binary(max_size=40).map(
    lambda b: bytes(x for x in b if x not in KNOWN_CATEGORIES)),
    min_size=len(GOOD) + 1, max_size=len(GOOD) + 1))
def test_raw_file_resynchronises_on_garbage_between_blocks(garbage: list[bytes],
                                                           tmp_path_factory: object) -> None:
    # Garbage with no category octet cannot fake a header; every block must survive.
    data = garbage[0]
    for g, b in zip(garbage[1:], GOOD, strict=True):
        data += b + g
    path = tmp_path_factory.mktemp("raw") / "mixed.raw"  # type: ignore[attr-defined]
    path.write_bytes(data)
    counts = FeedCounts()
    dets = list(decode_asterix_file(path, AsterixDecoder(SOURCES, counts), start=T0))
    assert counts.units == sum(counts.outcomes.values())
    assert [(d.sensor, d.range, d.lat) for d in dets] == [
        (d.sensor, d.range, d.lat) for d in FULL]
    assert counts.rejected == sum(1 for g in garbage if g)


def _item(shape: object, rnd: random.Random) -> bytes:
    """Random bytes of one well-formed item of ``shape`` (uap.py notation)."""
    if isinstance(shape, int) and shape > 0:
        return rnd.randbytes(shape)
    if shape == EXTENDED:
        n = rnd.randint(1, 3)
        return bytes((rnd.randrange(256) | 1) if i < n - 1 else rnd.randrange(256) & 0xFE
                     for i in range(n))
    if shape == EXPLICIT:
        n = rnd.randint(1, 5)
        return bytes([n]) + rnd.randbytes(n - 1)
    assert isinstance(shape, tuple)
    if shape[0] == REPETITIVE:
        n = rnd.randint(0, 2)
        return bytes([n]) + rnd.randbytes(n * shape[1])
    if shape[0] == REPETITIVE_FX:
        return bytes(rnd.randbytes(shape[1] - 1)) + bytes([rnd.randrange(256) & 0xFE])
    assert shape[0] == COMPOUND
    subs = shape[2]
    chosen = sorted(rnd.sample(range(len(subs)), rnd.randint(1, min(3, len(subs)))))
    return _fspec(chosen) + b"".join(_item(subs[i], rnd) for i in chosen)


def _fspec(chosen: list[int]) -> bytes:
    out = bytearray(max(chosen) // 7 + 1)
    for i in chosen:
        out[i // 7] |= 0x80 >> (i % 7)
    for k in range(len(out) - 1):
        out[k] |= 1
    return bytes(out)


@SETTINGS
@given(st.sampled_from([21, 48, 62]), st.randoms(use_true_random=False),
       st.integers(1, 5), st.floats(1.0e9, 2.0e9))
def test_well_formed_records_with_random_values(cat: int, rnd: random.Random, n: int,
                                                received: float) -> None:
    # Every item well formed, every value random: each record is a detection or counted
    # with its reason (out of range, simulated, ...), never an exception, never lost.
    uap = UAPS[cat]
    frns = [f for f in range(2, len(uap.items)) if uap.items[f] is not None]
    body = b""
    for _ in range(n):
        chosen = [0] + [f - 1 for f in sorted(rnd.sample(frns, rnd.randint(1, 12)))]
        source = bytes([1, 2]) if rnd.random() < 0.9 else bytes([9, 9])
        body += _fspec(chosen) + source + b"".join(_item(uap.items[f + 1], rnd)
                                                   for f in chosen[1:])
    dets, counts = decode(bytes([cat]) + (len(body) + 3).to_bytes(2, "big") + body,
                          received)
    assert counts.units == n
    # well-formed records are never malformed ("rejected: CAT048 item ..."): only values
    assert not [k for k in counts.outcomes
                if k.startswith(f"rejected: CAT{cat:03d} item") or "FSPEC" in k]


def _eth_udp(payload: bytes, dport: int = 8600) -> bytes:
    udp = struct.pack(">HHHH", 5000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                     bytes(4), bytes(4)) + udp
    return bytes(12) + b"\x08\x00" + ip


def _pcap(frames: list[bytes]) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", int(T0) + i, 0, len(f), len(f)) + f
    return out
