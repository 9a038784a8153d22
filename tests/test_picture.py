"""The air picture keeps the newest row of each live track and forgets ended ones."""

from __future__ import annotations

import numpy as np

from skywarden.picture import Picture
from skywarden.records import DetectionBatch
from skywarden.track import Tracker
from skywarden.track.config import TrackerConfig
from skywarden.track.synthetic import Mover, Scene, radar_plots, registry

RADAR = dict(id="r1", type="radar", owner="POL", lat=52.0, lon=21.0, alt=100.0,
             max_range=250000, scan_period=10, sigma_range=50, sigma_azimuth=0.2,
             sigma_elevation=0.3)  # fmt: skip


def test_picture_holds_the_latest_row_per_track_and_drops_deleted_tracks():
    rng = np.random.default_rng(5)
    reg = registry(RADAR)
    # Two drones; the second stops being seen at t = 150 s and its track is deleted.
    scene = Scene(52.0, 21.0, [
        Mover("a", (20000.0, 0.0, 300.0), (0.0, 40.0, 0.0)),
        Mover("b", (-25000.0, 8000.0, 300.0), (30.0, 0.0, 0.0)),
    ])  # fmt: skip
    dets = radar_plots(scene, reg["r1"], 0, 400, rng)
    dets = [d for d in dets if d.time < 150 or abs(d.azimuth - 90) < 45 or d.azimuth < 45]
    dets.sort(key=lambda d: d.time)
    tracker = Tracker(reg, TrackerConfig(delete_after=40.0))
    picture = Picture()
    newest: dict[str, float] = {}
    ended: list[str] = []
    for i in range(0, len(dets), 16):
        part = dets[i : i + 16]
        out = tracker.step(DetectionBatch.from_records(part, reg.ids), part[-1].time)
        for tid, t in zip(out.track, out.time.tolist(), strict=True):
            newest[tid] = max(newest.get(tid, -np.inf), t)
        ended += picture.update(out)
        snap = picture.snapshot()
        # One row per live track, each the newest row seen for it.
        assert len(set(snap.track)) == len(snap)
        for tid, t in zip(snap.track, snap.time.tolist(), strict=True):
            assert t == newest[tid]
            assert tid not in ended
    assert ended, "the unseen drone's track should have been deleted"
    assert len(picture) >= 1
    # A feed that stops: tracks older than a time are dropped and reported.
    last = float(picture.snapshot().time.max())
    gone = picture.drop_older_than(last + 1.0)
    assert gone and len(picture) == 0
