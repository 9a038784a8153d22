"""ADS-B / Mode S readers: CPR vectors, the real receiver samples, SBS, AVR, Beast, CLI.

The samples are read at test time from ../shared/data/adsb_raw (not copied into the repo).
"""

from __future__ import annotations

import gzip
import json
import math
import time
from pathlib import Path

import pytest
import rs1090

from skywarden.cli import main
from skywarden.ingest import cpr
from skywarden.ingest.avr import parse_line
from skywarden.ingest.beast import read_beast, split_frames
from skywarden.ingest.counts import FeedCounts
from skywarden.ingest.es_positions import decode_positions
from skywarden.ingest.jsonl import ReadStats, read_detections
from skywarden.ingest.modes import ModeSDecoder, Site, distance_m
from skywarden.ingest.recording import TickClock, decode_avr_lines, decode_sbs_lines
from skywarden.ingest.sbs import SbsDecoder
from skywarden.sensors import SensorRegistry

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "adsb_raw"
BEAST = RAW / "traffic_sample_dump1090.bin"
FLIGHT = RAW / "traffic_rs1090_full_flight_short_head3000.jsonl.gz"
CDG = Site(49.0097, 2.5479)  # Paris-CDG, where the flight sample was received

needs_samples = pytest.mark.skipif(not BEAST.exists() or not FLIGHT.exists(),
                                   reason="../shared/data/adsb_raw not present")


def flight_rows() -> list[dict]:
    with gzip.open(FLIGHT, "rt") as fh:
        return [json.loads(line) for line in fh]


def test_cpr_airborne_global_and_local_match_published_vectors() -> None:
    # "The 1090 MHz Riddle", airborne position: 52.25720, 3.91937
    e = rs1090.decode("8D40621D58C382D690C8AC2863A7")
    o = rs1090.decode("8D40621D58C386435CC412692AD6")
    lat, lon = cpr.global_airborne(e["lat_cpr"], e["lon_cpr"], o["lat_cpr"], o["lon_cpr"],
                                   newest_odd=False)
    assert (round(lat, 5), round(lon, 5)) == (52.25720, 3.91937)
    lat, lon = cpr.local(e["lat_cpr"], e["lon_cpr"], False, 52.258, 3.918, surface=False)
    assert (round(lat, 5), round(lon, 5)) == (52.25720, 3.91937)


def test_cpr_surface_global_resolved_by_reference() -> None:
    # The same book, surface position near Schiphol: 52.32061, 4.73473 (reference 51.99, 4.375)
    e = rs1090.decode("8C4841753AAB238733C8CD4020B1")
    o = rs1090.decode("8C4841753A8A35323FAEBDAC702D")
    lat, lon = cpr.global_surface(e["lat_cpr"], e["lon_cpr"], o["lat_cpr"], o["lon_cpr"],
                                  True, 51.99, 4.375)
    assert (round(lat, 5), round(lon, 5)) == (52.32061, 4.73473)


def test_nl_edges() -> None:
    assert cpr.nl(0.0) == 59
    assert cpr.nl(87.0) == 2
    assert cpr.nl(-88.0) == 1
    assert cpr.nl(52.2572) == 36


@needs_samples
def test_beast_sample_frames_all_accounted_and_positions_match_library() -> None:
    counts = FeedCounts()
    dec = ModeSDecoder("rx", None, counts)
    frames = [f for batch in read_beast(BEAST, counts) for f in batch]
    times = [f.ticks / 12e6 for f in frames]
    dets = dec.feed(times, [f.payload for f in frames])
    assert counts.rejected == 0
    assert counts.units == sum(counts.outcomes.values())
    assert len(frames) + counts.outcomes["ignored: Mode A/C reply"] <= counts.units
    assert len(dets) == counts.positions >= 3
    ref = rs1090.decode([f.payload.hex() for f in frames], times)
    truth = {(r["timestamp"], r["icao24"]): (r["latitude"], r["longitude"]) for r in ref
             if r and r.get("latitude") is not None}
    for d in dets:
        assert d.id is not None and d.id.startswith("icao:")
        exp = truth[(d.time, d.id[5:].lower())]
        assert distance_m(d.lat, d.lon, *exp) < 1.0  # type: ignore[arg-type]


@needs_samples
def test_real_flight_as_avr_matches_library_positions() -> None:
    rows = flight_rows()
    lines = [f"{r['timestamp']} *{r['frame']};\n".encode() for r in rows]
    counts = FeedCounts()
    dets = list(decode_avr_lines(lines, ModeSDecoder("rx", CDG, counts), 0.0))
    assert counts.units == len(rows) == sum(counts.outcomes.values())
    assert counts.rejected == 0
    expected = {r["timestamp"]: (r["latitude"], r["longitude"]) for r in rows
                if r.get("latitude") is not None}
    assert len(dets) >= 0.95 * len(expected)
    for d in dets:
        exp = expected.get(d.time)
        assert exp is not None, "a position where the library found none"
        assert distance_m(d.lat, d.lon, *exp) < 1.0  # type: ignore[arg-type]
    # surface positions at CDG carry their own ground speed
    assert any(d.vel_e is not None for d in dets)
    assert all(abs(d.lat - CDG.lat) < 0.5 for d in dets)  # type: ignore[operator]


@needs_samples
def test_avr_mlat_counter_gives_relative_times() -> None:
    rows = flight_rows()[:200]
    t0 = rows[0]["timestamp"]
    lines = [f"@{round((r['timestamp'] - t0) * 12e6):012X}{r['frame']};".encode()
             for r in rows]
    counts = FeedCounts()
    dets = list(decode_avr_lines(lines, ModeSDecoder("rx", CDG, counts), t0))
    assert counts.rejected == 0 and dets
    by_time = {r["timestamp"] for r in rows}
    assert all(min(abs(d.time - t) for t in by_time) < 1e-6 for d in dets)


def test_avr_line_forms() -> None:
    assert parse_line(b"*8D4840D6202CC371C32CE0576098;\n") == (
        None, None, bytes.fromhex("8D4840D6202CC371C32CE0576098"))
    assert parse_line(b"@00000000000C5D4840D6000000;")[1] == 12  # type: ignore[index]
    assert parse_line(b"12.5 *5D4840D6000000;")[0] == 12.5  # type: ignore[index]
    assert parse_line(b"*8D48ZZ;") == "rejected: AVR line not hex"
    assert parse_line(b"*8D48;") == "rejected: AVR frame not 7 or 14 bytes"
    assert isinstance(parse_line(b"hello"), str)


def _sbs_lines_from_flight() -> list[bytes]:
    """SBS lines a BaseStation feed would have sent for the real flight sample."""
    out = []
    for r in flight_rows():
        ts = time.gmtime(r["timestamp"])
        frac = f"{r['timestamp'] % 1:.3f}"[1:]
        d, c = time.strftime("%Y/%m/%d", ts), time.strftime("%H:%M:%S", ts) + frac
        head = f"MSG,{{}},1,1,{r['icao24'].upper()},1,{d},{c},{d},{c}"
        gs = "" if r.get("groundspeed") is None else r["groundspeed"]
        trk = "" if r.get("track") is None else r["track"]
        if r.get("latitude") is not None and r["bds"] == "06":
            out.append((head.format(2) + f",,,{gs},{trk},{r['latitude']},{r['longitude']},"
                        ",,,,,-1").encode())
        elif r.get("latitude") is not None:
            out.append((head.format(3) + f",,{r['altitude']},,,{r['latitude']},"
                        f"{r['longitude']},,,0,,0,0").encode())
        elif r.get("bds") == "09" and r["df"] == "17":
            out.append((head.format(4) + f",,,{gs},{trk},,,{r['vertical_rate']},,,,,0")
                       .encode())
        elif r.get("callsign"):
            out.append((head.format(1) + f",{r['callsign']},,,,,,,,,,,0").encode())
        elif r["df"] == "4":
            out.append((head.format(5) + f",,{r['altitude']},,,,,,,0,,0,0").encode())
    return out


@needs_samples
def test_sbs_positions_carry_callsign_and_surface_velocity() -> None:
    lines = _sbs_lines_from_flight()
    counts = FeedCounts()
    dets = list(decode_sbs_lines(lines, SbsDecoder("rx", counts)))
    assert counts.units == len(lines) and counts.rejected == 0
    assert len(dets) == counts.positions > 1000
    assert all(d.id == "icao:393322" for d in dets)
    assert any(d.callsign for d in dets)
    assert sum(d.vel_e is not None for d in dets) > 0.9 * len(dets)
    assert any(d.alt is not None and d.vel_u is not None for d in dets)


def test_sbs_bad_lines_counted_valid_kept() -> None:
    good = (b"MSG,3,1,1,4840D6,1,2024/07/06,06:43:09.525,2024/07/06,06:43:09.525,,38000,,,"
            b"52.25720,3.91937,,,0,,0,0")
    lines = [good, b"MSG,3,1,1,ZZZZZZ,1", b"\xff\xfe", b"MSG,3,1,1,4840D6,1,2024/13/06,"
             b"06:43:09.525,,,,38000,,,52.2,3.9,,,0,,0,0", b"garbage", good]
    counts = FeedCounts()
    dets = list(decode_sbs_lines(lines, SbsDecoder("rx", counts)))
    assert len(dets) == 2
    assert dets[0].alt == pytest.approx(38000 * 0.3048)
    assert counts.rejected == 4 and counts.units == 6


def test_sbs_non_finite_field_is_rejected_not_taken_for_absent() -> None:
    head = b"MSG,3,1,1,4840D6,1,2024/07/06,06:43:09.525,2024/07/06,06:43:09.525,,38000,,,"
    lines = [head + b"nan,3.91937,,,0,,0,0", head + b"52.25720,inf,,,0,,0,0",
             head + b"52.25720,3.91937,,,0,,0,0"]
    counts = FeedCounts()
    dets = list(decode_sbs_lines(lines, SbsDecoder("rx", counts)))
    assert len(dets) == 1 and dets[0].lat == pytest.approx(52.2572)
    assert counts.rejected == 2
    assert counts.outcomes["rejected: SBS field not a number or date"] == 2


@needs_samples
def test_cli_decode_writes_detections_replay_can_read(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    out = tmp_path / "detections.jsonl"
    rc = main(["decode", "--format", "beast", str(BEAST), "-o", str(out), "--sensor", "rx1",
               "--site", "43.6,1.37,150", "--owner", "FRA", "--start", "1720248189"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "rejected" in printed and "position" in printed
    registry = SensorRegistry.load(tmp_path / "sensors.toml")
    stats = ReadStats()
    dets = list(read_detections(out, sensors=registry, stats=stats))
    assert stats.bad == 0 and len(dets) >= 3
    assert all(d.time >= 1720248189 for d in dets)


def test_cli_decode_bad_site_is_a_usage_error(tmp_path: Path) -> None:
    f = tmp_path / "x.avr"
    f.write_bytes(b"*8D4840D6202CC371C32CE0576098;\n")
    assert main(["decode", "--format", "avr", str(f), "-o", str(tmp_path / "d.jsonl"),
                 "--sensor", "rx", "--site", "north"]) == 2


def test_velocity_is_attached_to_airborne_positions() -> None:
    # Airborne pair plus a velocity message of the same aircraft (the book's vectors use
    # different aircraft, so re-address the velocity to 40621D by recomputing nothing:
    # use the decoder's memory directly).
    dec = ModeSDecoder("rx")
    dec.feed([0.0], [bytes.fromhex("8D40621D58C386435CC412692AD6")])
    dec.aircraft["40621d"].vel = (10.0, 20.0, -1.0)
    dec.aircraft["40621d"].vel_time = 0.5
    dets = dec.feed([1.0], [bytes.fromhex("8D40621D58C382D690C8AC2863A7")])
    assert len(dets) == 1
    d = dets[0]
    assert (d.vel_e, d.vel_n, d.vel_u) == (10.0, 20.0, -1.0)
    assert d.alt == pytest.approx(38000 * 0.3048)
    assert math.isclose(d.lat, 52.2572021484375)  # type: ignore[arg-type]


def test_nl_table_equals_formula() -> None:
    lats = [i / 1000.0 for i in range(-90000, 90001, 7)]
    assert all(cpr.nl(x) == cpr.nl_formula(x) for x in lats)


@needs_samples
def test_columnar_position_fields_equal_library_on_real_frames() -> None:
    frames = [bytes.fromhex(r["frame"]) for r in flight_rows()]
    counts = FeedCounts()
    frames += [f.payload for b in read_beast(BEAST, counts) for f in b]
    pos = [f for f in frames if len(f) == 14 and f[0] >> 3 in (17, 18)
           and 5 <= f[4] >> 3 <= 18]
    assert len(pos) > 1400
    ours = decode_positions(pos)
    for frame, mine in zip(pos, ours, strict=True):
        lib = rs1090.decode(frame.hex())
        assert mine is not None and "library" not in mine
        for key, value in mine.items():
            assert lib.get(key) == value, (frame.hex(), key)
    # one flipped bit fails the CRC, as it does in the library
    bad = bytearray(pos[0])
    bad[6] ^= 0x10
    assert decode_positions([bytes(bad)]) == [None]
    assert rs1090.decode(bytes(bad).hex()) is None


@needs_samples
def test_cli_decode_sbs_counts_bad_lines_and_keeps_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = _sbs_lines_from_flight()
    f = tmp_path / "feed.sbs"
    f.write_bytes(b"\r\n".join([*lines[:500], b"MSG,3,garbage", b"\xff\xfe", *lines[500:]]))
    out = tmp_path / "detections.jsonl"
    assert main(["decode", "--format", "sbs", str(f), "-o", str(out), "--sensor", "rx"]) == 0
    printed = capsys.readouterr().out
    assert "2 rejected" in printed
    assert "rejected: SBS line not ASCII" in printed
    stats = ReadStats()
    dets = list(read_detections(out, stats=stats))
    positions = sum(ln.startswith((b"MSG,2,", b"MSG,3,")) for ln in lines)
    assert stats.bad == 0 and len(dets) == positions


@needs_samples
@pytest.mark.parametrize("chunk", [1, 7, 64, 4096])
def test_beast_real_stream_same_frames_whatever_the_read_size(chunk: int) -> None:
    whole = FeedCounts()
    expected = [f for b in read_beast(BEAST, whole) for f in b]
    counts = FeedCounts()
    got = [f for b in read_beast(BEAST, counts, chunk=chunk) for f in b]
    assert got == expected and len(got) > 200
    assert counts.outcomes == whole.outcomes and counts.rejected == 0


def test_position_beyond_receiver_range_is_rejected() -> None:
    # The book's pair is over the Netherlands; a receiver in Warsaw cannot have heard it.
    counts = FeedCounts()
    dec = ModeSDecoder("rx", Site(52.1657, 20.9671), counts)
    dets = dec.feed([0.0, 1.0], [bytes.fromhex("8D40621D58C386435CC412692AD6"),
                                 bytes.fromhex("8D40621D58C382D690C8AC2863A7")])
    assert dets == []
    assert counts.outcomes["rejected: position beyond receiver range"] == 1


def test_pair_older_than_ten_seconds_waits_for_a_fresh_half() -> None:
    counts = FeedCounts()
    dec = ModeSDecoder("rx", None, counts)
    dets = dec.feed([0.0, 11.0], [bytes.fromhex("8D40621D58C386435CC412692AD6"),
                                  bytes.fromhex("8D40621D58C382D690C8AC2863A7")])
    assert dets == []
    assert counts.outcomes["used: CPR half waiting for its pair"] == 2


def test_tick_clock_follows_counter_and_survives_reset() -> None:
    clock = TickClock(1000.0)
    assert clock.time(12_000_000) == 1000.0
    assert clock.time(36_000_000) == 1002.0
    assert clock.time(5) == 1002.0  # receiver restarted: continue from the last time
    assert clock.time(12_000_005) == 1003.0


def test_beast_mode_ac_status_and_noise_are_counted_not_returned() -> None:
    modeac = b"\x1a1" + bytes(6) + b"\x80" + b"\x12\x34"
    status = b"\x1a4" + bytes(6) + b"\x00" + b"\x01\x02"
    good = b"\x1a3" + bytes(6) + b"\x80" + bytes.fromhex("8D4840D6202CC371C32CE0576098")
    counts = FeedCounts()
    frames, left = split_frames(b"noise" + modeac + status + good + b"\x1a3\x00", counts)
    assert [f.payload.hex() for f in frames] == ["8d4840d6202cc371c32ce0576098"]
    assert left == b"\x1a3\x00"
    assert counts.outcomes == {"rejected: bytes outside a Beast frame": 1,
                               "ignored: Mode A/C reply": 1,
                               "ignored: Beast receiver status": 1}


def test_beast_last_frame_is_decoded_as_soon_as_it_is_whole() -> None:
    """A live feed must not hold its newest frame until the next frame starts."""
    payload = bytes.fromhex("8D4840D6202CC371C32CE0576098")
    ticks = 0x00000000001A  # the counter's last byte is 0x1a: escaped on the wire
    body = bytes([0x33]) + ticks.to_bytes(6, "big") + bytes([0x20]) + payload
    wire = b"\x1a" + body.replace(b"\x1a", b"\x1a\x1a")
    counts = FeedCounts()
    frames, tail = split_frames(wire, counts)
    assert [f.payload for f in frames] == [payload] and tail == b""
    assert frames[0].ticks == ticks
    # cut inside the escape, or one byte short: it waits for the rest
    cut = wire.index(b"\x1a\x1a") + 1
    for part in (wire[:cut], wire[:-1]):
        frames, tail = split_frames(part, counts)
        assert frames == [] and tail == part
    assert counts.units == 0
