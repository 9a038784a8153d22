"""Large windows shared among threads (track/share.py) give the same tracks as one thread."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.errors import ConfigError
from skywarden.track import share
from skywarden.track.config import TrackerConfig
from skywarden.track.synthetic import Mover, Scene, adsb_reports, radar_plots, registry
from test_track_tracker import run

LAT0, LON0 = 52.0, 21.0


def _radar(i: int, lat: float, lon: float) -> dict:
    return dict(id=f"r{i}", type="radar", owner="POL", lat=lat, lon=lon, alt=100.0,
                max_range=250000, scan_period=5, sigma_range=50, sigma_azimuth=0.2,
                sigma_elevation=0.3)


def _scene_detections():
    """Forty targets (some turning, some crossing) seen by two radars with clutter, and
    ADS-B from a few of them: every path of the gate and the update rounds."""
    rng = np.random.default_rng(5)
    reg = registry(_radar(1, LAT0, LON0), _radar(2, 52.3, 21.4),
                   dict(id="a1", type="adsb", owner="POL", lat=LAT0, lon=LON0, alt=100.0))
    movers = []
    for k in range(40):
        start = (rng.uniform(-60e3, 60e3), rng.uniform(-60e3, 60e3), rng.uniform(300, 9000))
        heading = rng.uniform(0, 2 * np.pi)
        speed = rng.uniform(30, 220)
        vel = (speed * np.sin(heading), speed * np.cos(heading), 0.0)
        movers.append(Mover(f"t{k}", start, vel, turn_rate=3.0 if k % 5 == 0 else 0.0,
                            turn_from=60.0, icao=f"4b{k:04x}" if k % 7 == 0 else None))
    scene = Scene(LAT0, LON0, movers)
    dets = (radar_plots(scene, reg["r1"], 0, 200, rng, pd=0.8, clutter=10)
            + radar_plots(scene, reg["r2"], 2, 200, rng, pd=0.8, clutter=10)
            + adsb_reports(scene, reg["a1"], 0, 200, rng))
    dets.sort(key=lambda d: d.time)
    return reg, dets


def _rows(reg, dets, threads: int) -> list[str]:
    _, rows = run(reg, dets, TrackerConfig(threads=threads), chunk=256)
    return [repr(r) for r in rows]


def test_shared_windows_give_the_same_tracks_as_one_thread(monkeypatch):
    reg, dets = _scene_detections()
    one = _rows(reg, dets, threads=1)
    calls: list[int] = []
    run = share.Workers.run

    def counted(self, job, cuts):
        calls.append(len(cuts) - 1)
        return run(self, job, cuts)

    # Every window split, however small, into up to three parts.
    monkeypatch.setattr(share, "MIN_SHARE", 1)
    monkeypatch.setattr(share.Workers, "run", counted)
    shared = _rows(reg, dets, threads=3)
    assert max(calls) == 3 and sum(c > 1 for c in calls) > 100
    assert len(one) > 1000
    assert shared == one


def test_track_cuts_never_split_a_track():
    s = np.array([0, 0, 0, 1, 2, 2, 2, 2, 5, 7, 7])
    for parts in range(1, 6):
        cuts = share.track_cuts(s, parts)
        assert cuts[0] == 0 and cuts[-1] == s.size
        assert all(a < b for a, b in zip(cuts, cuts[1:], strict=False))
        assert all(s[c - 1] != s[c] for c in cuts[1:-1])
    assert share.track_cuts(np.array([3, 3, 3, 3]), 4) == [0, 4]  # one track: one part


def test_workers_keep_the_parts_in_order():
    w = share.Workers(3)
    assert w.run(lambda lo, hi: (lo, hi), [0, 4, 9, 12]) == [(0, 4), (4, 9), (9, 12)]
    assert w.parts(10 * share.MIN_SHARE) == 3 and w.parts(share.MIN_SHARE - 1) == 1


@pytest.mark.parametrize("bad", [-1, 1.5, "2"])
def test_threads_setting_must_be_a_whole_number(bad):
    with pytest.raises(ConfigError, match="threads"):
        TrackerConfig(threads=bad)
