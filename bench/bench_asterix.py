"""ASTERIX decode rate against the floor of 50,000 records/s per core, and against the plain
libasterix parse it is checked against.

Input: the real Croatia Control recordings (CAT048 monoradar plots of seven radars with
CAT034 service messages, CAT062 system tracks; scripts/asterix-samples.sh fetches them),
plus CAT062 and CAT021 records encoded here with libasterix, repeated. Single process,
single thread. Also the output side: TrackUpdate rows -> CAT062 by our writer and by
libasterix (the reference it is checked against).

    .venv/bin/python bench/bench_asterix.py [--quick]
"""

from __future__ import annotations

import struct
import sys
import tempfile
from pathlib import Path

import asterix.generated as gen
from asterix.base import Bits, RawDatablock

from skywarden.ingest.asterix import AsterixDecoder, decode_pcap_file
from skywarden.ingest.counts import FeedCounts
from skywarden.ingest.pcap import read_capture
from skywarden.publish.cat062 import Cat062Encoder
from skywarden.records import TrackUpdate
from timing import best_cpu

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / ".cache" / "asterix-samples"
FLOOR = 50_000.0
SOURCES = {(25, s): f"radar-{s}" for s in (11, 12, 13, 14, 201, 204, 205)}
SOURCES |= {(25, 100): "croatia-sdps", (1, 3): "tracker", (1, 4): "adsb"}
SPECS = {48: gen.Cat_048_1_32, 62: gen.Cat_062_1_21, 21: gen.Cat_021_2_6}


def _encoded() -> list[bytes]:
    """Datagrams of 10 CAT062 tracks and of 10 CAT021 reports, as a tracker or an ADS-B
    ground station sends them (items a real feed carries, not only the ones we read)."""
    out = []
    c62, c21 = SPECS[62], SPECS[21]
    for k in range(20):
        tracks = [c62.cv_record.create({
            "010": (("SAC", 1), ("SIC", 3)), "015": 0, "070": (3600.0 + k, "s"),
            "105": (("LAT", (45.0 + i / 100, "°")), ("LON", (16.0 + i / 100, "°"))),
            "100": (("X", (1000.0 * i, "m")), ("Y", (2000.0, "m"))),
            "185": (("VX", (100.0, "m/s")), ("VY", (-50.0, "m/s"))),
            "060": (0, 0, 0, 0, ("MODE3A", "1234")), "040": 100 + i, "080": (0, 0, 0),
            "380": {"ADR": 0x4CA000 + i, "ID": f"TRK{i:03d}"}, "130": (35000.0, "ft"),
            "136": (350, "FL"), "220": (0.0, "ft/min"),
            "290": {"SSR": 1, "MDS": 2}, "500": {"APC": (("X", 60), ("Y", 60))},
        }) for i in range(10)]
        out.append(c62.create(tracks).unparse().to_bytes())
        reports = [c21.cv_record.create({
            "010": (("SAC", 1), ("SIC", 4)), "040": (0, 0), "161": i, "015": 0,
            "071": (3600.0 + k, "s"), "073": (3600.0 + k, "s"),
            "131": (("LAT", (52.0 + i / 100, "°")), ("LON", (21.0, "°"))),
            "080": 0x48A000 + i, "140": (30000.0, "ft"), "145": (300, "FL"),
            "090": (0, 9, 0), "210": 0x50, "070": (0, ("MODE3A", "7000")),
            "155": (0, ("BVR", (0.0, "ft/min"))), "160": (0, ("GS", 0x0800), ("TA", 0x4000)),
            "170": f"ADS{i:03d}", "020": 3, "200": 0,
        }) for i in range(10)]
        out.append(c21.create(reports).unparse().to_bytes())
    return out


def _real() -> list[bytes]:
    out = [(SAMPLES / n).read_bytes() for n in ("cat048.raw", "cat062cat065.raw")]
    for name in ("cat_034_048.pcap", "cat_062_065.pcap"):
        out += [d for _, _, d in read_capture(SAMPLES / name, FeedCounts())]
    return out


def _records(datagrams: list[bytes]) -> int:
    """CAT048/062/021 records in ``datagrams`` (what both decoders cut), by libasterix."""
    n = 0
    for data in datagrams:
        for db in RawDatablock.parse(Bits.from_bytes(data)):  # type: ignore[union-attr]
            spec = SPECS.get(db.get_category())
            if spec is not None:
                n += len(spec.cv_uap.parse(db.get_raw_records()))  # type: ignore[arg-type]
    return n


def _libasterix(datagrams: list[bytes]) -> None:
    for data in datagrams:
        dbs = RawDatablock.parse(Bits.from_bytes(data))
        assert not isinstance(dbs, ValueError)
        for db in dbs:
            spec = SPECS.get(db.get_category())
            if spec is not None:
                recs = spec.cv_uap.parse(db.get_raw_records())
                assert not isinstance(recs, ValueError)


def _pcap(datagrams: list[bytes], path: Path) -> None:
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, p in enumerate(datagrams):
        udp = struct.pack(">HHHH", 5000, 8600, 8 + len(p), 0) + p
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                         bytes(4), bytes(4)) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        out += struct.pack("<IIII", 1_700_000_000 + i // 100, 0, len(frame), len(frame))
        out += frame
    path.write_bytes(out)


def run(quick: bool = False) -> str:
    if not SAMPLES.is_dir():
        return ("## ASTERIX decoding\n\nNot measured: the real recordings are missing "
                f"({SAMPLES}); run scripts/asterix-samples.sh first.")
    repeat, reps = (20, 2) if quick else (100, 3)
    real, enc = _real(), _encoded()
    base = real + enc
    per_copy = _records(base)
    real_records = _records(real)
    stream = base * repeat
    n = per_copy * repeat

    def ours(datagrams: list[bytes]) -> None:
        dec = AsterixDecoder(SOURCES, FeedCounts())
        for data in datagrams:
            dec.datagram(data, 1_700_000_000.0)

    counts = FeedCounts()
    dec = AsterixDecoder(SOURCES, counts)
    made = sum(len(dec.datagram(d, 1_700_000_000.0)) for d in base)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mix.pcap"
        _pcap(stream, path)

        def pcap() -> None:
            for _ in decode_pcap_file(path, AsterixDecoder(SOURCES, FeedCounts())):
                pass

        lib_copies = 2 if quick else 5
        rows = [
            ("libasterix 0.36.3: RawDatablock.parse + Cat.cv_uap.parse (records only, "
             "no values read)", per_copy * lib_copies,
             best_cpu(lambda: _libasterix(base * lib_copies), 2)),
            ("AsterixDecoder.datagram -> Detections", n, best_cpu(lambda: ours(stream), reps)),
            ("AsterixDecoder.datagram, real recordings only", real_records * repeat,
             best_cpu(lambda: ours(real * repeat), reps)),
            ("pcap reader + AsterixDecoder -> Detections", n, best_cpu(pcap, reps)),
        ]
    tracks = [TrackUpdate(time=1_700_000_000.0, track=f"T{i}", lat=52.0 + i / 1000,
                          lon=21.0, alt=3000.0, vel_e=100.0, vel_n=-20.0, sigma_h=40.0,
                          status="confirmed", ids=[f"icao:48{i:04X}"], sensors=["a", "b"])
              for i in range(2000 if quick else 20000)]
    few = tracks[:200 if quick else 1000]
    ref_secs = best_cpu(lambda: Cat062Encoder(1, 1, reference=True).encode(few), 2)
    fast = Cat062Encoder(1, 1)
    assert fast.encode(few) == Cat062Encoder(1, 1, reference=True).encode(few)
    enc_secs = best_cpu(lambda: Cat062Encoder(1, 1).encode(tracks), reps)
    lib_rate = rows[0][1] / rows[0][2]
    our_rate = rows[1][1] / rows[1][2]
    lines = [
        "## ASTERIX decoding (CAT048/062/021)",
        "",
        f"Command: `.venv/bin/python bench/bench_asterix.py{' --quick' if quick else ''}`. "
        f"Input: the Croatia Control recordings ({real_records} CAT048/062 records in "
        f"{len(real)} datagrams, CAT034/065 blocks among them) and {per_copy - real_records} "
        f"CAT062/CAT021 records encoded with libasterix, {per_copy} records per copy "
        f"({made} detections), repeated {repeat} times; one core. "
        f"Floor: {FLOOR:,.0f} records/s.",
        "",
        "| path | records | CPU seconds | records per CPU-second | floor |",
        "|---|---:|---:|---:|---|",
    ]
    for name, count, secs in rows:
        rate = count / secs
        ok = "meets" if rate >= FLOOR else "below"
        lines.append(f"| {name} | {count:,} | {secs:.3f} | {rate:,.0f} | {ok} |")
    lines.append(f"| output: libasterix (record_reference), TrackUpdate rows -> CAT062 "
                 f"| {len(few):,} | {ref_secs:.3f} | {len(few) / ref_secs:,.0f} | "
                 "(reference) |")
    enc_rate = len(tracks) / enc_secs
    lines.append(f"| output: Cat062Encoder.encode (our writer, same bytes), TrackUpdate rows "
                 f"-> CAT062 datagrams | {len(tracks):,} | {enc_secs:.3f} | {enc_rate:,.0f} | "
                 f"{'meets' if enc_rate >= FLOOR else 'below'} |")
    lines += [
        "",
        f"Our decoder is {our_rate / lib_rate:,.0f} times the plain libasterix parse, "
        "and does more (dates, units, checks, Detection records). libasterix builds a "
        "Python object for every item and subitem of every record, bit by bit; ours "
        "walks each record's FSPEC with a table of the FRNs each FSPEC octet sets, "
        "skips the items it does not read by their length (ingest/asterix/uap.py, checked "
        "item by item against libasterix's specifications in the tests) and reads the "
        "dozen items it needs straight from the bytes. Rates are records per CPU-second "
        "of this process (time.process_time), i.e. per core.",
        "",
        f"The CAT062 writer packs each record with one precomputed struct (one per set of "
        f"optional items) and writes the same bytes as libasterix (checked here on "
        f"{len(few):,} rows, and on random rows in tests/test_publish_cat062.py): "
        f"{(len(tracks) / enc_secs) / (len(few) / ref_secs):,.0f} times faster, so one "
        "core can send a picture of tens of thousands of tracks a second.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
