"""ASTERIX CAT048/062/021 -> Detections: the UAP tables and every decoded value checked
against libasterix (MIT), on the Croatia Control recordings and on records encoded here."""

from __future__ import annotations

import random
from pathlib import Path

import asterix.generated as gen
import msgspec
import pytest
from asterix.base import (
    Bits,
    Compound,
    Element,
    Explicit,
    Extended,
    Group,
    RawDatablock,
    Repetitive,
    RuleVariationContextFree,
    UapItem,
    UapItemSpare,
)

from skywarden.ingest.asterix import (
    AsterixDecoder,
    anchor,
    decode_asterix_file,
    decode_pcap_file,
    read_asterix_file,
    split_blocks,
    walk,
)
from skywarden.ingest.asterix.fields import callsign
from skywarden.ingest.asterix.uap import (
    CAT021,
    CAT021_V023,
    CAT021_V024,
    CAT021_V026,
    CAT048,
    CAT062,
    COMPOUND,
    EXPLICIT,
    EXTENDED,
    REPETITIVE,
    REPETITIVE_FX,
    Uap,
)
from skywarden.ingest.counts import FeedCounts
from skywarden.records import Detection
from skywarden.sensors import SensorRegistry

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".cache" / "asterix-samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"{SAMPLES} missing: run scripts/asterix-samples.sh (./run test does)",
)
C48, C62, C21 = gen.Cat_048_1_32, gen.Cat_062_1_21, gen.Cat_021_2_6
# Every (SAC, SIC) in the samples: Croatia Control radars 25/11-14, 25/201-205 and the
# tracker 25/100.
SOURCES = {(25, s): f"radar-{s}" for s in (11, 12, 13, 14, 201, 204, 205)}
SOURCES[(25, 100)] = "tracker"
SOURCES[(1, 2)] = "test"
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
MIDNIGHT = T0 - T0 % 86400


def decoder(counts: FeedCounts | None = None) -> AsterixDecoder:
    return AsterixDecoder(SOURCES, counts if counts is not None else FeedCounts())


def valid(det: Detection) -> Detection:
    """The detection passes check() and msgspec's validation of the wire form."""
    det.check()
    return msgspec.json.decode(msgspec.json.encode(det), type=Detection)


def block(spec: type, items: dict) -> bytes:
    return spec.create([spec.cv_record.create(items)]).unparse().to_bytes()


def blocks(spec: type, records: list[dict]) -> bytes:
    return spec.create([spec.cv_record.create(r) for r in records]).unparse().to_bytes()


def one(data: bytes, received: float = T0) -> tuple[list[Detection], FeedCounts]:
    counts = FeedCounts()
    dets = decoder(counts).datagram(data, received)
    assert counts.units == sum(counts.outcomes.values())
    return [valid(d) for d in dets], counts


# ---------------------------------------------------------------- UAP tables vs libasterix

def _shape(var: type) -> object:
    """The item shape of a libasterix variation, in the notation of uap.py."""
    if issubclass(var, Element | Group):
        assert var.cv_bit_size % 8 == 0
        return var.cv_bit_size // 8
    if issubclass(var, Extended):
        for part in var.cv_items_list:
            assert sum(size for i in part if i is not None for size in [i[1]]) + 1 == 8
            assert part[-1] is None
        return EXTENDED
    if issubclass(var, Repetitive):
        inner = var.cv_variation
        if var.cv_rep_bytes is None:
            return (REPETITIVE_FX, (inner.cv_bit_size + 1) // 8)
        assert var.cv_rep_bytes == 1
        return (REPETITIVE, inner.cv_bit_size // 8)
    if issubclass(var, Explicit):
        return EXPLICIT
    if issubclass(var, Compound):
        return (COMPOUND, var.cv_fspec_max_bytes,
                tuple(_rule(n.cv_rule) for n in var.cv_items_list))
    raise AssertionError(var)


def _rule(rule: type) -> object:
    if issubclass(rule, RuleVariationContextFree):
        return _shape(rule.cv_variation)
    return _shape(rule.cv_default_variation)


EDITIONS = [
    (CAT048, [gen.Cat_048_1_27, gen.Cat_048_1_28, gen.Cat_048_1_29, gen.Cat_048_1_30,
              gen.Cat_048_1_31, gen.Cat_048_1_32]),
    (CAT062, [gen.Cat_062_1_16, gen.Cat_062_1_17, gen.Cat_062_1_18, gen.Cat_062_1_19,
              gen.Cat_062_1_20, gen.Cat_062_1_21]),
    (CAT021, [gen.Cat_021_2_2, gen.Cat_021_2_3, gen.Cat_021_2_4, gen.Cat_021_2_5,
              gen.Cat_021_2_6, gen.Cat_021_2_7]),
    (CAT021_V023, [gen.Cat_021_0_23]),
    (CAT021_V024, [gen.Cat_021_0_24, gen.Cat_021_0_25]),
    (CAT021_V026, [gen.Cat_021_0_26]),
]


@pytest.mark.parametrize(("uap", "spec"), [(u, s) for u, specs in EDITIONS for s in specs],
                         ids=lambda x: getattr(x, "__name__", "") or f"CAT{x.cat:03d}")
def test_uap_table_matches_libasterix_edition(uap: Uap, spec: type) -> None:
    record = spec.cv_uap.cv_record
    assert uap.fspec_max == record.cv_fspec_max_bytes
    for frn, item in enumerate(record.cv_items_list, start=1):
        if issubclass(item, UapItemSpare):
            assert uap.items[frn] is None, frn
            continue
        assert issubclass(item, UapItem)
        nsp = item.cv_non_spare
        assert uap.names[frn] == nsp.cv_name, frn
        assert uap.items[frn] == _rule(nsp.cv_rule), nsp.cv_name
    assert all(s is None for s in uap.items[len(record.cv_items_list) + 1:])


# ------------------------------------------------- walking random records vs libasterix

def _random_item(shape: object, rnd: random.Random, parts: int) -> bytes:
    """Random bytes of an item of ``shape`` (extended items: up to ``parts`` octets)."""
    if isinstance(shape, int) and shape > 0:
        return rnd.randbytes(shape)
    if shape == EXTENDED:
        n = rnd.randint(1, parts)
        return bytes((rnd.randrange(256) | 1) if i < n - 1 else (rnd.randrange(256) & 0xFE)
                     for i in range(n))
    if shape == EXPLICIT:
        n = rnd.randint(1, 6)
        return bytes([n]) + rnd.randbytes(n - 1)
    assert isinstance(shape, tuple)
    if shape[0] == REPETITIVE:
        n = rnd.randint(0, 3)
        return bytes([n]) + rnd.randbytes(n * shape[1])
    if shape[0] == REPETITIVE_FX:
        n = rnd.randint(1, 3)
        out = b""
        for i in range(n):
            el = bytearray(rnd.randbytes(shape[1]))
            el[-1] = el[-1] | 1 if i < n - 1 else el[-1] & 0xFE
            out += bytes(el)
        return out
    _, fmax, subs = shape
    chosen = sorted(rnd.sample(range(len(subs)), rnd.randint(1, min(4, len(subs)))))
    fspec = _fspec(chosen, fmax)
    return fspec + b"".join(_random_item(subs[i], rnd, 1) for i in chosen)


def _fspec(chosen: list[int], fmax: int) -> bytes:
    """An FSPEC with the 0-based positions ``chosen`` set."""
    n = max(chosen) // 7 + 1
    assert n <= fmax
    out = bytearray(n)
    for i in chosen:
        out[i // 7] |= 0x80 >> (i % 7)
    for k in range(n - 1):
        out[k] |= 1
    return bytes(out)


def _parts(spec: type, name: str) -> int:
    """How many octets the extended item ``name`` has at most in this edition."""
    var = spec.cv_uap.cv_record.spec(name).cv_rule
    var = getattr(var, "cv_variation", None)
    return len(var.cv_items_list) if var is not None and issubclass(var, Extended) else 1


@pytest.mark.parametrize(("uap", "spec"), [
    (CAT048, gen.Cat_048_1_32), (CAT062, gen.Cat_062_1_21), (CAT021, gen.Cat_021_2_6),
    (CAT021_V023, gen.Cat_021_0_23), (CAT021_V026, gen.Cat_021_0_26),
], ids=["CAT048", "CAT062", "CAT021", "CAT021-0.23", "CAT021-0.26"])
def test_walk_finds_the_same_items_as_libasterix(uap: Uap, spec: type) -> None:
    # Random records of random items (the skipped ones included) must split where
    # libasterix splits them, item by item.
    rnd = random.Random(uap.cat)
    frns = [f for f in range(1, len(uap.items)) if uap.items[f] is not None]
    for _ in range(300):
        chosen = sorted(rnd.sample(frns, rnd.randint(1, 8)))
        items = [_random_item(uap.items[f], rnd, _parts(spec, uap.names[f])) for f in chosen]
        rec = _fspec([f - 1 for f in chosen], uap.fspec_max) + b"".join(items)
        data = bytes([uap.cat]) + (len(rec) * 2 + 3).to_bytes(2, "big") + rec + rec
        w, end = walk(data, 3, len(data), uap)
        assert end == 3 + len(rec)
        for f, item in zip(chosen, items, strict=True):
            assert data[w[f]:w[f] + len(item)] == item
        parsed = spec.cv_uap.parse(Bits.from_bytes(data[3:]))
        assert not isinstance(parsed, ValueError), parsed
        assert len(parsed) == 2
        for f, item in zip(chosen, items, strict=True):
            got = parsed[0].get_item(uap.names[f])
            assert got is not None and got.unparse().to_bytes() == item


# --------------------------------------------------------------- real recordings

def _lib_records(data: bytes) -> list[tuple[int, object]]:
    out = []
    dbs = RawDatablock.parse(Bits.from_bytes(data))
    assert not isinstance(dbs, ValueError)
    for db in dbs:
        spec = {48: C48, 62: C62}.get(db.get_category())
        if spec is None:
            continue
        recs = spec.cv_uap.parse(db.get_raw_records())
        assert not isinstance(recs, ValueError), recs
        out += [(db.get_category(), r) for r in recs]
    return out


def _q(rec: object, item: str, sub: str | None, unit: str) -> float | None:
    i = rec.get_item(item)  # type: ignore[attr-defined]
    if i is None:
        return None
    v = i.variation if sub is None else i.variation.get_item(sub).variation
    return v.content.as_quantity(unit)


def _flags(rec: object, item: str) -> int:
    """V and G (not validated, garbled) of I048/070 or I048/090."""
    var = rec.get_item(item).variation  # type: ignore[attr-defined]
    return int(var.get_item("V").as_uint() or var.get_item("G").as_uint())


def _sample_datagrams() -> list[tuple[float, bytes]]:
    from skywarden.ingest.pcap import read_capture

    out = [(T0, (SAMPLES / n).read_bytes()) for n in ("cat048.raw", "cat062cat065.raw")]
    for name in ("cat_034_048.pcap", "cat_062_065.pcap"):
        out += [(t, d) for t, _, d in read_capture(SAMPLES / name, FeedCounts())]
    return out


@needs_samples
def test_real_recordings_decode_as_libasterix_reads_them() -> None:
    checked = {48: 0, 62: 0}
    for received, data in _sample_datagrams():
        dets, counts = one(data, received)
        # CAT048 records without I040 (no plot) are counted as ignored, not detections
        lib = [(c, r) for c, r in _lib_records(data) if c == 62 or r.get_item("040")]
        assert counts.rejected == 0
        assert len(dets) == len(lib)
        for det, (cat, rec) in zip(dets, lib, strict=True):
            checked[cat] += 1
            if cat == 48:
                assert det.kind == "polar"
                rho = _q(rec, "040", "RHO", "NM")
                assert det.range == pytest.approx(rho * 1852.0)
                assert det.azimuth == pytest.approx(_q(rec, "040", "THETA", "°"))
                assert det.time % 86400 == pytest.approx(_q(rec, "140", None, "s"))
                fl = _q(rec, "090", "FL", "FL")
                if fl is not None and _flags(rec, "090"):
                    fl = None  # not validated or garbled: left out
                assert det.alt == (None if fl is None else pytest.approx(fl * 30.48))
                i220 = rec.get_item("220")
                assert det.id == (None if i220 is None else f"icao:{i220.as_uint():06X}")
                i240 = rec.get_item("240")
                want = i240 and i240.variation.content.as_string().strip()
                assert det.callsign == (want or None)
                i070 = rec.get_item("070")
                if i070 is not None and not _flags(rec, "070"):
                    code = i070.variation.get_item("MODE3A").variation.content
                    assert det.squawk == code.as_string()
            else:
                assert det.kind == "position" and det.sensor == "tracker"
                assert det.lat == pytest.approx(_q(rec, "105", "LAT", "°"))
                assert det.lon == pytest.approx(_q(rec, "105", "LON", "°"))
                assert det.vel_e == pytest.approx(_q(rec, "185", "VX", "m/s"))
                assert det.vel_n == pytest.approx(_q(rec, "185", "VY", "m/s"))
                assert det.time % 86400 == pytest.approx(_q(rec, "070", None, "s"))
                alt = _q(rec, "130", None, "ft")
                assert det.alt == pytest.approx(alt * 0.3048)
                i380 = rec.get_item("380")
                if i380 is None:
                    assert det.id is None and det.callsign is None
                    continue
                adr = i380.variation.get_item("ADR")
                assert det.id == (adr and f"icao:{adr.as_uint():06X}")
                ident = i380.variation.get_item("ID")
                assert det.callsign == (ident and ident.variation.content.as_string().strip())
    assert checked[48] >= 100 and checked[62] >= 4


@needs_samples
def test_real_pcap_counts_every_record_and_block() -> None:
    counts = FeedCounts()
    dets = list(decode_pcap_file(SAMPLES / "cat_034_048.pcap", decoder(counts)))
    assert len(dets) == counts.positions == 126
    assert counts.outcomes["ignored: CAT048 record without measured position (I040)"] == 2
    assert counts.outcomes["ignored: CAT034 data block (monoradar service messages)"] == 34
    assert counts.units == sum(counts.outcomes.values()) == 162
    assert {d.sensor for d in dets} == {f"radar-{s}" for s in (11, 12, 13, 14, 201, 204, 205)}
    # capture times date the records: the recording is of 2016-05-05
    assert all(abs(d.time - 1462433754) < 60 for d in dets)
    first = dets[0]
    assert (first.callsign, first.id, first.squawk) == ("DLH65A", "icao:3C660C", "1000")
    assert first.alt == pytest.approx(330 * 30.48)


@needs_samples
def test_old_cat062_edition_in_asterix_pcap_is_rejected_not_decoded() -> None:
    # asterix.pcap (2008) holds CAT062 of an edition before 1.16: with the 1.x UAP its
    # positions are thousands of degrees (libasterix reads them the same), so no record may
    # become a detection, and each is counted.
    counts = FeedCounts()
    dets = list(decode_pcap_file(SAMPLES / "asterix.pcap", decoder(counts)))
    assert dets == []
    assert counts.units == sum(counts.outcomes.values()) > 100
    assert counts.outcomes["rejected: lat out of range"] > 0


@needs_samples
def test_raw_files_and_unused_categories() -> None:
    counts = FeedCounts()
    dec = decoder(counts)
    got = []
    for name in ("cat048.raw", "cat062cat065.raw", "cat034.raw"):
        got += list(decode_asterix_file(SAMPLES / name, dec, start=MIDNIGHT))
    assert [d.kind for d in got] == ["polar", "position", "position"]
    assert counts.outcomes["ignored: CAT034 data block (monoradar service messages)"] == 1
    assert counts.outcomes["ignored: CAT065 data block (SDPS service status)"] == 1
    assert all(MIDNIGHT <= d.time < MIDNIGHT + 86400 for d in got)


@needs_samples
def test_cat001_sample_is_counted_without_raising() -> None:
    counts = FeedCounts()
    assert list(decode_pcap_file(SAMPLES / "cat_001_002.pcap", decoder(counts))) == []
    assert counts.units == sum(counts.outcomes.values()) >= 1


# --------------------------------------------------------------- encoded records: CAT048

PLOT = {
    "010": (("SAC", 1), ("SIC", 2)),
    "140": (3600.5, "s"),
    "020": (5 << 4,),  # TYP 5: Mode S roll-call + PSR
    "040": (("RHO", (10.0, "NM")), ("THETA", (45.0, "°"))),
    "070": (0, 0, 0, 0, ("MODE3A", "7531")),
    "090": (0, 0, ("FL", (330, "FL"))),
    "220": 0x4CA2D1,
    "240": "RYR1234",
    "130": {"SRL": 5, "PAM": 7},
    "250": [0x1122334455667788],
    "030": [1, 2],
    "200": (("GSP", (0.05, "NM/s")), ("HDG", (90.0, "°"))),
    "SP": b"xyz",
}


def test_cat048_plot_becomes_polar_detection() -> None:
    (det,), counts = one(block(C48, PLOT))
    assert counts.positions == 1
    assert det.kind == "polar" and det.sensor == "test"
    assert det.range == pytest.approx(18520.0)
    assert det.azimuth == pytest.approx(45.0)
    assert det.alt == pytest.approx(10058.4)
    assert (det.squawk, det.id, det.callsign) == ("7531", "icao:4CA2D1", "RYR1234")
    assert det.time == MIDNIGHT + 3600.5 + 86400  # 01:00 is nearer to T0 (22:13) next day
    # I200 is the radar's own track velocity: never a measurement
    assert det.vel_e is None and det.sigma_range is None


@pytest.mark.parametrize(("i020", "why"), [
    ((5 << 4 | 1 << 3,), "ignored: simulated/test target"),  # SIM
    ((5 << 4, 1 << 6), "ignored: simulated/test target"),  # TST in the first extension
    ((5 << 4 | 1,), "ignored: field monitor (fixed transponder)"),  # RAB
])
def test_cat048_simulated_test_and_field_monitor_ignored(i020: tuple, why: str) -> None:
    dets, counts = one(block(C48, {**PLOT, "020": i020}))
    assert dets == [] and counts.outcomes[why] == 1


def test_cat048_invalid_or_garbled_codes_left_out() -> None:
    rec = {**PLOT, "070": (1, 0, 0, 0, ("MODE3A", "7531")), "090": (0, 1, ("FL", (330, "FL")))}
    (det,), _ = one(block(C48, rec))
    assert det.squawk is None and det.alt is None


def test_cat048_unknown_source_rejected_and_missing_position_ignored() -> None:
    data = block(C48, {**PLOT, "010": (("SAC", 9), ("SIC", 9))})
    data += block(C48, {k: v for k, v in PLOT.items() if k != "040"})
    dets, counts = one(data)
    assert dets == []
    assert counts.outcomes[
        "rejected: unknown data source SAC/SIC 9/9 (not in the sensor registry)"] == 1
    assert counts.outcomes["ignored: CAT048 record without measured position (I040)"] == 1


def test_cat048_zero_range_rejected() -> None:
    rec = {**PLOT, "040": (("RHO", 0), ("THETA", 0))}
    _, counts = one(block(C48, rec))
    assert counts.outcomes["rejected: range out of range"] == 1


# --------------------------------------------------------------- encoded records: CAT062

TRACK = {
    "010": (("SAC", 1), ("SIC", 2)),
    "070": (80000.0, "s"),
    "105": (("LAT", (45.5, "°")), ("LON", (-16.25, "°"))),
    "185": (("VX", (100.25, "m/s")), ("VY", (-50.5, "m/s"))),
    "220": (-1000.0, "ft/min"),
    "130": (35000.0, "ft"),
    "060": (0, 0, 0, 0, ("MODE3A", "1234")),
    "040": 4711,
    "080": (0, 0),
    "380": {"ADR": 0xABCDEF, "ID": "EZY12AB", "IAS": (0, 250)},
    "500": {"APC": (("X", (30.0, "m")), ("Y", (40.0, "m")))},
    "510": [(1, 2), (3, 4)],
    "390": {"CS": "FLIGHT1", "CFL": (330, "FL")},
}


def test_cat062_track_becomes_position_detection() -> None:
    (det,), counts = one(block(C62, TRACK), received=MIDNIGHT + 80010.0)
    assert counts.positions == 1
    assert det.kind == "position" and det.sensor == "test"
    assert (det.lat, det.lon) == (pytest.approx(45.5), pytest.approx(-16.25))
    assert (det.vel_e, det.vel_n) == (100.25, -50.5)
    assert det.vel_u == pytest.approx(-1000 * 0.3048 / 60)
    assert det.alt == pytest.approx(35000 * 0.3048)
    assert (det.squawk, det.id, det.callsign) == ("1234", "icao:ABCDEF", "EZY12AB")
    assert det.sigma_h == pytest.approx((0.5 * (30.0**2 + 40.0**2)) ** 0.5)
    assert det.time == MIDNIGHT + 80000.0
    assert "4711" not in msgspec.json.encode(det).decode()  # track number is not an id


def test_cat062_flight_level_when_no_geometric_altitude() -> None:
    rec = {k: v for k, v in TRACK.items() if k != "130"}
    rec["136"] = (250, "FL")
    (det,), _ = one(block(C62, rec))
    assert det.alt == pytest.approx(25000 * 0.3048)


def test_cat062_simulated_track_ignored_and_no_address_no_id() -> None:
    sim = {**TRACK, "080": (0, 1 << 6)}
    anon = {**TRACK, "380": {"ID": "ABC"}}
    dets, counts = one(blocks(C62, [sim, anon]))
    assert counts.outcomes["ignored: simulated/test target"] == 1
    assert [d.id for d in dets] == [None] and dets[0].callsign == "ABC"


def test_cat062_latitude_out_of_range_rejected() -> None:
    rec = {**TRACK, "105": (("LAT", 0x7FFFFFFF), ("LON", 0))}
    _, counts = one(block(C62, rec))
    assert counts.outcomes["rejected: lat out of range"] == 1


# --------------------------------------------------------------- encoded records: CAT021

REPORT = {
    "010": (("SAC", 1), ("SIC", 2)),
    "040": (0, 0),
    "071": (43200.25, "s"),
    "131": (("LAT", (52.123456, "°")), ("LON", (21.5, "°"))),
    "080": 0x48AB01,
    "140": (1000.0, "ft"),
    "160": (0, ("GS", (0.1, "NM/s")), ("TA", (90.0, "°"))),
    "157": (0, ("GVR", (625.0, "ft/min"))),
    "070": (0, ("MODE3A", "7000")),
    "170": "LOT3AB",
    "090": (0, 9),  # NACp 9: 95 % within 30 m
    "020": 13,  # unmanned aerial vehicle
    "110": {"TIS": (0,)},
    "250": [0x11],
}


def test_cat021_report_becomes_position_detection() -> None:
    (det,), counts = one(block(C21, REPORT), received=MIDNIGHT + 43210.0)
    assert counts.positions == 1
    assert (det.lat, det.lon) == (pytest.approx(52.123456, abs=1e-7), pytest.approx(21.5))
    assert det.alt == pytest.approx(304.8)
    assert det.vel_e == pytest.approx(0.1 * 1852.0, abs=0.12)  # LSB 2^-14 NM/s
    assert det.vel_n == pytest.approx(0.0, abs=1e-6)
    assert det.vel_u == pytest.approx(625 * 0.3048 / 60)
    assert (det.squawk, det.id, det.callsign) == ("7000", "icao:48AB01", "LOT3AB")
    assert det.sigma_h == pytest.approx(30.0 / 2.45)
    assert det.class_hint == "drone"
    assert det.time == MIDNIGHT + 43200.25


def test_cat021_low_resolution_position_reception_time_and_flight_level() -> None:
    rec = {k: v for k, v in REPORT.items() if k not in ("131", "071", "140", "160")}
    rec["130"] = (("LAT", (-33.5, "°")), ("LON", (151.25, "°")))
    rec["073"] = (100.0, "s")
    rec["145"] = (120, "FL")
    (det,), _ = one(block(C21, rec), received=MIDNIGHT + 86390.0)
    assert (det.lat, det.lon) == (pytest.approx(-33.5), pytest.approx(151.25))
    assert det.alt == pytest.approx(12000 * 0.3048)
    assert det.vel_e is None and det.vel_n is None
    assert det.time == MIDNIGHT + 86400 + 100.0  # just past midnight, received just before


@pytest.mark.parametrize("ext", [(0, 1 << 4), (0, 1 << 3)], ids=["SIM", "TST"])
def test_cat021_simulated_or_test_target_ignored(ext: tuple) -> None:
    dets, counts = one(block(C21, {**REPORT, "040": ext}))
    assert dets == [] and counts.outcomes["ignored: simulated/test target"] == 1


def test_cat021_without_time_rejected_and_velocity_out_of_range_left_out() -> None:
    untimed = {k: v for k, v in REPORT.items() if k != "071"}
    over = {**REPORT, "160": (1, ("GS", 0), ("TA", 0))}  # RE: exceeds the range
    dets, counts = one(blocks(C21, [untimed, over]))
    assert counts.outcomes["rejected: CAT021 record without time of position (I071/I073)"] == 1
    assert len(dets) == 1 and dets[0].vel_e is None


# ------------------------------------------------------- encoded records: CAT021 0.2x

REPORT_V02 = {
    "010": (("SAC", 1), ("SIC", 2)),
    "040": 0,
    "030": (43200.25, "s"),
    "130": (("LAT", (52.123456, "°")), ("LON", (21.5, "°"))),
    "080": 0x48AB01,
    "140": (1000.0, "ft"),
    "090": (("AC", 0), ("MN", 0), ("DC", 0), 0, ("PA", 9)),
    "160": (("GS", (0.1, "NM/s")), ("TA", (90.0, "°"))),
    "155": (-625.0, "ft/min"),
    "170": "LOT3AB",
    "020": 13,
}


def v02_decoder(edition: str, counts: FeedCounts | None = None) -> AsterixDecoder:
    return AsterixDecoder(SOURCES, counts if counts is not None else FeedCounts(),
                          {(1, 2): edition})


@pytest.mark.parametrize(("edition", "spec", "abs_deg"), [
    ("0.23", gen.Cat_021_0_23, 180 / 2**23), ("0.24", gen.Cat_021_0_24, 180 / 2**25),
    ("0.25", gen.Cat_021_0_25, 180 / 2**25), ("0.26", gen.Cat_021_0_26, 180 / 2**25),
])
def test_cat021_old_editions_decode_where_the_registry_names_them(
        edition: str, spec: type, abs_deg: float) -> None:
    rec = dict(REPORT_V02)
    if edition == "0.26":
        rec["070"] = (0, 0, 0, 0, ("MODE3A", "7000"))
    counts = FeedCounts()
    (det,) = [valid(d) for d in v02_decoder(edition, counts).datagram(
        block(spec, rec), MIDNIGHT + 43210.0)]
    assert counts.positions == 1 and counts.units == 1
    assert det.sensor == "test"
    assert (det.lat, det.lon) == (pytest.approx(52.123456, abs=abs_deg),
                                  pytest.approx(21.5, abs=abs_deg))
    assert det.time == MIDNIGHT + 43200.25
    assert det.alt == pytest.approx(304.8)
    assert det.vel_e == pytest.approx(0.1 * 1852.0, abs=0.12)
    assert det.vel_n == pytest.approx(0.0, abs=1e-6)
    assert det.vel_u == pytest.approx(-625 * 0.3048 / 60)
    assert (det.id, det.callsign, det.class_hint) == ("icao:48AB01", "LOT3AB", "drone")
    assert det.sigma_h == pytest.approx(30.0 / 2.45)
    assert det.squawk == ("7000" if edition == "0.26" else None)


def test_cat021_edition_is_per_station_and_wrong_one_never_passes_as_right() -> None:
    # Station 1/2 sends 0.26, station 25/100 sends 2.6: one datagram holds both.
    v26 = block(gen.Cat_021_0_26, REPORT_V02)
    v2 = block(C21, {**REPORT, "010": (("SAC", 25), ("SIC", 100))})
    counts = FeedCounts()
    dets = v02_decoder("0.26", counts).datagram(v26 + v2, MIDNIGHT + 43210.0)
    assert [d.sensor for d in dets] == ["test", "tracker"]
    assert all(d.lat == pytest.approx(52.123456, abs=1e-5) for d in dets)
    # The same 0.26 record read as 2.x (no edition named) is no position at 52N 21.5E.
    counts = FeedCounts()
    wrong = decoder(counts).datagram(v26, MIDNIGHT + 43210.0)
    assert not any(d.lat == pytest.approx(52.123456, abs=0.01) for d in wrong)
    assert counts.units == sum(counts.outcomes.values())


def test_cat021_old_edition_flags_and_missing_time() -> None:
    sim = {**REPORT_V02, "040": (("DCR", 0), ("GBS", 0), ("SIM", 1), ("TST", 0), ("RAB", 0),
                                 ("SAA", 0), ("SPI", 0), 0, ("ATP", 0), ("ARC", 0), 0)}
    monitor = {**REPORT_V02, "040": (("DCR", 0), ("GBS", 0), ("SIM", 0), ("TST", 0),
                                     ("RAB", 1), ("SAA", 0), ("SPI", 0), 0, ("ATP", 0),
                                     ("ARC", 0), 0)}
    untimed = {k: v for k, v in REPORT_V02.items() if k != "030"}
    backwards = {**REPORT_V02, "160": (("GS", (-0.01, "NM/s")), ("TA", (0.0, "°")))}
    counts = FeedCounts()
    dets = v02_decoder("0.24", counts).datagram(
        blocks(gen.Cat_021_0_24, [sim, monitor, untimed, backwards]), MIDNIGHT + 43210.0)
    assert counts.outcomes["ignored: simulated/test target"] == 1
    assert counts.outcomes["ignored: field monitor (fixed transponder)"] == 1
    assert counts.outcomes["rejected: CAT021 record without time of day (I030)"] == 1
    assert len(dets) == 1 and dets[0].vel_e is None and dets[0].vel_n is None


def test_cat021_edition_in_the_registry_is_checked(tmp_path: Path) -> None:
    from skywarden.errors import RegistryError

    head = '[[sensor]]\nid = "gs"\ntype = "adsb"\nowner = "POL"\nlat = 52.0\nlon = 21.0\n'
    path = tmp_path / "sensors.toml"
    path.write_text(head + 'sac = 1\nsic = 2\ncat021_edition = "0.26"\n')
    reg = SensorRegistry.load(path)
    counts = FeedCounts()
    (det,) = AsterixDecoder.from_registry(reg, counts).datagram(
        block(gen.Cat_021_0_26, REPORT_V02), MIDNIGHT + 43210.0)
    assert det.sensor == "gs" and det.lat == pytest.approx(52.123456, abs=1e-5)
    path.write_text(head + 'sac = 1\nsic = 2\ncat021_edition = "1.0"\n')
    with pytest.raises(RegistryError, match="cat021_edition '1.0' is not one of 0.23"):
        SensorRegistry.load(path)
    path.write_text(head + 'cat021_edition = "0.26"\n')
    with pytest.raises(RegistryError, match="needs the station's sac and sic"):
        SensorRegistry.load(path)


# --------------------------------------------------------------- framing and bad bytes

def test_several_blocks_in_one_datagram() -> None:
    data = block(C48, PLOT) + block(C62, TRACK) + bytes.fromhex("220007c0010201")
    dets, counts = one(data)
    assert [d.kind for d in dets] == ["polar", "position"]
    assert counts.units == 3


def test_bad_block_length_rejected_and_blocks_before_kept() -> None:
    good = block(C48, PLOT)
    dets, counts = one(good + b"\x30\x00\x02" + good)
    assert len(dets) == 1
    assert counts.outcomes["rejected: data block LEN below 3"] == 1
    dets, counts = one(good + good[:-1])
    assert len(dets) == 1
    assert counts.outcomes[
        "rejected: data block truncated (LEN past the end of the datagram)"] == 1


def test_truncated_record_rejected_records_before_kept() -> None:
    data = blocks(C48, [PLOT, PLOT, PLOT])
    cut = data[:-3]
    cut = cut[:1] + len(cut).to_bytes(2, "big") + cut[3:]
    dets, counts = one(cut)
    assert len(dets) == 2
    assert counts.rejected == 1 and counts.units == 3


def test_spare_frn_and_long_fspec_rejected() -> None:
    # CAT062 FRN 2 is spare; an FSPEC of 5 octets with FX set is longer than the UAP
    spare = bytes([62, 0, 6, 0x40, 0, 0])
    long_ = bytes([62, 0, 9, 1, 1, 1, 1, 1, 0])
    _, counts = one(spare + long_)
    assert counts.outcomes["rejected: CAT062 FSPEC sets a spare FRN"] == 1
    assert counts.outcomes["rejected: CAT062 FSPEC longer than the UAP"] == 1


def test_zero_padding_after_records_is_not_a_record() -> None:
    good = block(C48, PLOT)
    padded = good[:1] + (len(good) + 4).to_bytes(2, "big") + good[3:] + bytes(4)
    dets, counts = one(padded)
    assert len(dets) == 1
    assert counts.outcomes["ignored: CAT048 zero padding after the records"] == 1


def test_category_zero_is_not_a_category() -> None:
    _, counts = one(bytes([0, 0, 4, 0]))
    assert counts.outcomes == {"rejected: data block of CAT000": 1}


def test_split_blocks_reports_offsets() -> None:
    data = bytes.fromhex("220007c0010201") + bytes.fromhex("300003")
    assert split_blocks(data) == ([(0x22, 3, 7), (0x30, 10, 10)], None)


# --------------------------------------------------------------- time of day, files, registry

def test_time_of_day_is_the_instant_nearest_reception() -> None:
    assert anchor(10.0, MIDNIGHT + 20.0) == MIDNIGHT + 10.0
    assert anchor(86399.0, MIDNIGHT + 1.0) == MIDNIGHT - 1.0  # late report, day before
    assert anchor(1.0, MIDNIGHT - 2.0) == MIDNIGHT + 1.0  # clock ahead, day after
    assert anchor(43200.0, MIDNIGHT + 43200.0) == MIDNIGHT + 43200.0


def test_raw_file_resynchronises_after_garbage_and_rolls_over_midnight(tmp_path: Path) -> None:
    late = block(C48, {**PLOT, "140": (86399.0, "s")})
    early = block(C48, {**PLOT, "140": (2.0, "s")})
    path = tmp_path / "rec.raw"
    path.write_bytes(late + b"\x30\x99\x99garbage" + early)
    counts = FeedCounts()
    dets = list(decode_asterix_file(path, decoder(counts), start=MIDNIGHT))
    assert [d.time for d in dets] == [MIDNIGHT + 86399.0, MIDNIGHT + 86402.0]
    assert counts.rejected == 1
    assert b"".join(read_asterix_file(path)) == late + early


def test_from_registry_uses_sac_sic() -> None:
    reg = SensorRegistry.from_dicts([
        {"id": "psr-1", "type": "radar", "owner": "POL", "lat": 52.0, "lon": 21.0,
         "sac": 1, "sic": 2},
        {"id": "adsb", "type": "adsb", "owner": "POL", "lat": 52.0, "lon": 21.0},
    ])
    dec = AsterixDecoder.from_registry(reg, FeedCounts())
    (det,) = dec.datagram(block(C48, PLOT), T0)
    assert det.sensor == "psr-1"
    assert dec.sources == {(1 << 8) | 2: "psr-1"}


def test_public_api() -> None:
    import skywarden.ingest.asterix as pkg

    assert sorted(pkg.__all__) == [
        "AsterixDecoder", "Malformed", "anchor", "decode_asterix_file", "decode_pcap_file",
        "read_asterix_file", "split_blocks", "split_raw", "walk",
    ]
    assert all(hasattr(pkg, name) for name in pkg.__all__)


def test_callsign_with_invalid_characters_dropped() -> None:
    assert callsign(bytes(6), 0) is None
    assert callsign(bytes.fromhex("FFFFFFFFFFFF"), 0) is None
