"""The tracker on random detections that the reader accepts: any value inside the
format's ranges (formats.md), however extreme, in any order, from every kind of sensor.

The reader rejects what breaks the format (test_ingest_*); what it lets through reaches
the tracker, which must neither raise nor let a non-number into a track's state or an
output row.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skywarden.records import Detection, DetectionBatch
from skywarden.track import Tracker
from skywarden.track.synthetic import registry

LAT0, LON0 = 52.0, 21.0
SITE = dict(owner="POL", lat=LAT0, lon=LON0, alt=100.0)
REGISTRY = registry(
    dict(id="r1", type="radar", max_range=250000, scan_period=10, sigma_range=50,
         sigma_azimuth=0.2, sigma_elevation=0.3, **SITE),
    dict(id="a1", type="adsb", **SITE),
    dict(id="m1", type="acoustic", max_range=5000.0, **SITE),
    dict(id="m2", type="acoustic", max_range=5000.0, **{**SITE, "lon": LON0 + 0.02}),
    dict(id="v1", type="visual_report", owner="POL"),
)

# Values at and near the ends of the format's ranges, and ordinary ones.
_sigma = st.one_of(st.none(), st.sampled_from([1e-300, 1e-9, 0.5, 30.0, 5e3, 1e7, 1e300]))
_speeds = st.sampled_from([-1e4, -250.0, -0.0, 0.0, 3.0, 45.0, 1e4])
_speed = st.one_of(st.none(), _speeds)
_alt = st.one_of(st.none(), st.sampled_from([-1000.0, 0.0, 150.0, 11000.0, 1e6]))
# Mostly a two-minute scene; now and then a report from far in the future or the past of
# it (the format's times run to 7.3e9 s).
_time = st.one_of(st.floats(0.0, 120.0), st.sampled_from([0.0, 3600.0, 1.7e9, 7.3e9]))


@st.composite
def _position(draw) -> Detection:
    near = draw(st.booleans())
    lat = (LAT0 + draw(st.floats(-0.3, 0.3)) if near
           else draw(st.sampled_from([-90.0, -45.0, 0.0, 89.999, 90.0])))
    lon = (LON0 + draw(st.floats(-0.3, 0.3)) if near
           else draw(st.sampled_from([-180.0, 0.0, 179.999, 180.0, 359.9, 360.0])))
    vel = draw(st.booleans())
    return Detection(
        time=draw(_time), sensor=draw(st.sampled_from(["a1", "v1"])),
        kind="position", lat=lat, lon=lon, alt=draw(_alt), sigma_h=draw(_sigma),
        sigma_v=draw(_sigma), vel_e=draw(_speeds) if vel else None,
        vel_n=draw(_speeds) if vel else None, vel_u=draw(_speed),
        id=draw(st.sampled_from([None, "icao:4CA2D1", "rid:1596F3", "icao:4CA2D1"])),
        class_hint=draw(st.sampled_from([None, "drone", "missile", "bird"])))


@st.composite
def _polar(draw) -> Detection:
    return Detection(
        time=draw(_time), sensor="r1", kind="polar",
        range=draw(st.sampled_from([1e-9, 1.0, 800.0, 20000.0, 249000.0, 1e7, 1e300])),
        azimuth=draw(st.floats(-360.0, 360.0)),
        elevation=draw(st.one_of(st.none(), st.sampled_from([-90.0, -0.5, 0.0, 3.0, 89.99,
                                                             90.0]))),
        sigma_range=draw(_sigma), sigma_azimuth=draw(_sigma), sigma_elevation=draw(_sigma),
        alt=draw(_alt))  # a Mode C altitude: the elevation it implies is used


@st.composite
def _bearing(draw) -> Detection:
    return Detection(
        time=draw(_time), sensor=draw(st.sampled_from(["m1", "m2"])),
        kind="bearing", azimuth=draw(st.floats(-360.0, 360.0)),
        elevation=draw(st.one_of(st.none(), st.floats(-90.0, 90.0))),
        sigma_azimuth=draw(_sigma))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_position(), _polar(), _bearing()), min_size=1, max_size=60),
       st.integers(1, 4))
def test_random_valid_detections_never_break_the_tracker(dets, chunks):
    for det in dets:
        det.check()  # what the reader would let through
    tracker = Tracker(REGISTRY)
    rows = []
    for part in np.array_split(np.arange(len(dets)), chunks):
        if part.size:
            batch = DetectionBatch.from_records([dets[i] for i in part], REGISTRY.ids)
            rows.append(tracker.step(batch, float(batch.time.max())))
    rows.append(tracker.flush())
    st_ = tracker.stats
    assert st_.received == len(dets)
    table = tracker.table
    live = table.active()
    assert np.isfinite(table.x[live]).all()
    assert np.isfinite(table.P[live]).all()
    for out in rows:
        assert np.isfinite(out.lat).all() and np.isfinite(out.lon).all()
        assert np.isfinite(out.vel).all()
        assert (np.abs(out.lat) <= 90.0).all()
