"""Property tests: malformed bytes never raise out of a reader, every unit is counted once,
and valid frames around garbage are kept."""

from __future__ import annotations

import rs1090
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.ingest.avr import parse_line
from skywarden.ingest.beast import encode_frame, split_frames
from skywarden.ingest.counts import FeedCounts
from skywarden.ingest.es_positions import decode_positions
from skywarden.ingest.modes import ModeSDecoder
from skywarden.ingest.recording import decode_avr_lines, decode_sbs_lines
from skywarden.ingest.sbs import SbsDecoder

GOOD = [bytes.fromhex(h) for h in (
    "8D40621D58C382D690C8AC2863A7", "8D40621D58C386435CC412692AD6",
    "8D4840D6202CC371C32CE0576098", "8D485020994409940838175B284F",
)]
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def beast(payload: bytes, ticks: int = 0x1A0000001A1A, signal: int = 0x1A) -> bytes:
    return encode_frame(ticks, signal, payload)  # 0x1a in the counter and signal: escaped


def frames_of(stream: bytes, chunk: int) -> tuple[list[bytes], FeedCounts]:
    counts = FeedCounts()
    out: list[bytes] = []
    left = b""
    for i in range(0, len(stream), chunk):
        fr, left = split_frames(left + stream[i:i + chunk], counts)
        out += [f.payload for f in fr]
    fr, _ = split_frames(left, counts, final=True)
    out += [f.payload for f in fr]
    return out, counts


@SETTINGS
@given(st.binary(max_size=600), st.integers(1, 64))
def test_beast_random_bytes_never_raise(data: bytes, chunk: int) -> None:
    frames, counts = frames_of(data, chunk)
    assert counts.units == sum(counts.outcomes.values())
    dec = ModeSDecoder("rx", counts=FeedCounts())
    dec.feed([0.0] * len(frames), frames)
    assert dec.counts.units == len(frames) == sum(dec.counts.outcomes.values())


@SETTINGS
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\x1a", b"")), min_size=5,
                max_size=5), st.integers(1, 50))
def test_beast_valid_frames_around_garbage_kept(garbage: list[bytes], chunk: int) -> None:
    # Garbage without 0x1a cannot fake a frame start; every real frame must survive, also
    # when the stream is cut into chunks anywhere (escapes split across reads included).
    stream = garbage[0]
    for g, f in zip(garbage[1:], GOOD, strict=True):
        stream += beast(f) + g
    frames, counts = frames_of(stream, chunk)
    assert frames == GOOD
    assert counts.units == sum(counts.outcomes.values())


@SETTINGS
@given(st.lists(st.binary(min_size=1, max_size=14), max_size=30))
def test_modes_decoder_random_frames_never_raise(frames: list[bytes]) -> None:
    dec = ModeSDecoder("rx")
    dec.feed([float(i) for i in range(len(frames))], frames)
    assert dec.counts.units == len(frames) == sum(dec.counts.outcomes.values())


@SETTINGS
@given(st.lists(st.binary(max_size=60), max_size=20))
def test_avr_garbage_lines_counted_valid_kept(garbage: list[bytes]) -> None:
    garbage = [g.replace(b"\n", b"") for g in garbage]
    lines = [b"*" + f.hex().encode() + b";" for f in GOOD[:2]]
    mixed = [lines[0], *garbage, lines[1]]
    for g in garbage:
        assert isinstance(parse_line(g), (str, tuple))
    counts = FeedCounts()
    dec = ModeSDecoder("rx", counts=counts)
    dets = list(decode_avr_lines(mixed, dec, 0.0))
    assert counts.units == sum(counts.outcomes.values())
    assert counts.units == sum(1 for m in mixed if m.strip())
    # the two real halves still pair into a position (garbage decoding to other aircraft
    # cannot unpair them)
    assert any(d.id == "icao:40621D" for d in dets)


@SETTINGS
@given(st.lists(st.one_of(st.binary(max_size=120), st.text(max_size=120).map(
    lambda s: ("MSG," + s).encode("utf-8"))), max_size=30))
def test_sbs_random_lines_never_raise(lines: list[bytes]) -> None:
    good = (b"MSG,3,1,1,4840D6,1,2024/07/06,06:43:09.525,2024/07/06,06:43:09.525,,38000,,,"
            b"52.25720,3.91937,,,0,,0,0")
    counts = FeedCounts()
    dets = list(decode_sbs_lines([good, *lines, good], SbsDecoder("rx", counts)))
    assert counts.units == len(lines) + 2 == sum(counts.outcomes.values())
    assert sum(d.id == "icao:4840D6" for d in dets) >= 2
    for d in dets:
        d.check()


def _parity(data: bytes) -> bytes:
    """Mode S CRC of the first 88 bits, bit by bit (independent of the table version)."""
    bits = int.from_bytes(data, "big") << 24
    poly = 0x1FFF409 << 87
    for i in range(111, 23, -1):
        if bits >> i & 1:
            bits ^= poly >> (111 - i)
    return (bits & 0xFFFFFF).to_bytes(3, "big")


@SETTINGS
@given(st.integers(5, 18), st.binary(min_size=3, max_size=3), st.binary(min_size=7,
                                                                        max_size=7))
def test_columnar_positions_equal_library_on_random_valid_frames(
        tc: int, address: bytes, me: bytes) -> None:
    me = bytes([(tc << 3) | (me[0] & 7)]) + me[1:]
    frame = b"\x8d" + address + me
    frame += _parity(frame)
    [mine] = decode_positions([frame])
    lib = rs1090.decode(frame.hex())
    assert mine is not None
    if "library" in mine:  # Gillham-coded altitude: the library's job (may refuse it)
        return
    if lib is None:
        # rs1090 0.7 refuses the top seven 25-ft codes (50,025-50,175 ft); we keep them.
        assert isinstance(mine.get("altitude"), int) and mine["altitude"] > 50_000
        return
    for key, value in mine.items():
        assert lib.get(key) == value, (frame.hex(), key)
