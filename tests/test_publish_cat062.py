"""Fused tracks -> CAT062: read back by libasterix and by our own decoder."""

from __future__ import annotations

import asterix.generated as gen
import pytest
from asterix.base import Bits, RawDatablock

from skywarden.ingest.asterix import AsterixDecoder
from skywarden.ingest.counts import FeedCounts
from skywarden.publish.cat062 import Cat062Encoder, TrackNumbers
from skywarden.records import TrackUpdate

T = 1_700_000_000.25  # 22:13:20.25 UTC


def row(track: str = "T1", **kw: object) -> TrackUpdate:
    base: dict[str, object] = dict(
        time=T, track=track, lat=52.25, lon=21.0, alt=3000.0, vel_e=120.0, vel_n=-35.5,
        vel_u=2.5, sigma_h=45.0, status="confirmed", ids=["icao:48AC01", "rid:X"],
        sensors=["r1", "r2"])
    base.update(kw)
    return TrackUpdate(**base)  # type: ignore[arg-type]


def lib_records(datagrams: list[bytes]) -> list:
    out = []
    for d in datagrams:
        dbs = RawDatablock.parse(Bits.from_bytes(d))
        assert not isinstance(dbs, ValueError)
        for db in dbs:
            recs = gen.Cat_062_1_21.cv_uap.parse(db.get_raw_records())
            assert not isinstance(recs, ValueError)
            out += recs
    return out


def test_round_trip_through_our_decoder() -> None:
    enc = Cat062Encoder(sac=7, sic=9)
    (dg,) = enc.encode([row()])
    counts = FeedCounts()
    (det,) = AsterixDecoder({(7, 9): "peer"}, counts).datagram(dg, T + 1.0)
    assert det.sensor == "peer" and det.kind == "position"
    assert det.time == T
    half_lsb = 90.0 / 2**25  # I105: LSB 180/2^25 deg, rounded to the nearest
    assert det.lat == pytest.approx(52.25, abs=half_lsb)
    assert det.lon == pytest.approx(21.0, abs=half_lsb)
    assert det.alt == pytest.approx(3000.0, abs=6.25 * 0.3048)
    assert (det.vel_e, det.vel_n) == (120.0, -35.5)
    assert det.vel_u == pytest.approx(2.5, abs=6.25 * 0.3048 / 60)
    assert det.id == "icao:48AC01"
    assert det.sigma_h == pytest.approx(45.0)


def test_libasterix_reads_every_item() -> None:
    enc = Cat062Encoder(sac=7, sic=9)
    (rec,) = lib_records(enc.encode([row(status="tentative", sensors=["r1"])]))
    assert rec.get_item("040").as_uint() == 1
    status = rec.get_item("080").variation
    assert status.get_item("MON").as_uint() == 1
    assert status.get_item("CNF").as_uint() == 1
    assert status.get_item("TSB").as_uint() == 1
    assert status.get_item("TSE").as_uint() == 0
    assert rec.get_item("105").variation.get_item("LAT").variation.content.as_quantity(
        "°") == pytest.approx(52.25, abs=1e-6)
    assert rec.get_item("070").variation.content.as_quantity("s") == T % 86400


def test_track_numbers_stable_then_freed_on_delete() -> None:
    enc = Cat062Encoder(sac=1, sic=1)
    first = lib_records(enc.encode([row("A"), row("B")]))
    again = lib_records(enc.encode([row("B"), row("A", status="deleted")]))
    assert [r.get_item("040").as_uint() for r in first] == [1, 2]
    assert [r.get_item("040").as_uint() for r in again] == [2, 1]
    assert [r.get_item("080").variation.get_item("TSB").as_uint() for r in again] == [0, 0]
    assert again[1].get_item("080").variation.get_item("TSE").as_uint() == 1
    assert len(enc.numbers) == 1


def test_coasting_no_altitude_no_icao() -> None:
    enc = Cat062Encoder(sac=1, sic=1)
    (rec,) = lib_records(enc.encode([row(status="coasting", alt=None, ids=[], sigma_h=None)]))
    assert rec.get_item("080").variation.get_item("CST").as_uint() == 1
    assert rec.get_item("130") is None and rec.get_item("380") is None
    assert rec.get_item("500") is None


def test_datagrams_bounded_and_all_rows_sent() -> None:
    enc = Cat062Encoder(sac=1, sic=1, max_datagram=200)
    grams = enc.encode([row(f"T{i}") for i in range(40)])
    assert len(grams) > 1 and all(len(g) <= 200 for g in grams)
    dets = []
    dec = AsterixDecoder({(1, 1): "peer"}, FeedCounts())
    for g in grams:
        dets += dec.datagram(g, T)
    assert len(dets) == 40


def test_track_numbers_exhausted_then_reused() -> None:
    nums = TrackNumbers()
    for i in range(65535):
        assert nums.get(f"t{i}") == (i + 1, True)
    assert nums.get("one too many") is None
    nums.release("t41")
    assert nums.get("new") == (42, True)


def test_longitude_past_180_wraps() -> None:
    dec = AsterixDecoder({(1, 1): "peer"}, FeedCounts())
    (det,) = dec.datagram(Cat062Encoder(1, 1).encode([row(lon=350.0)])[0], T)
    assert det.lon == pytest.approx(-10.0, abs=1e-5)


def test_bad_source_rejected() -> None:
    with pytest.raises(ValueError, match="sac"):
        Cat062Encoder(sac=300, sic=1)
