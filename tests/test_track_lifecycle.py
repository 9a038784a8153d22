"""Track life: the confirmation rule (SPRT on the track score), pruning and deletion.

Unit tests work on a hand-filled TrackTable; scene tests run the Tracker on synthetic
radar plots and ADS-B reports.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from skywarden.geo import enu_rotation, geodetic_to_ecef
from skywarden.records import DetectionBatch
from skywarden.track import Tracker
from skywarden.track import lifecycle as lc
from skywarden.track.config import TrackerConfig
from skywarden.track.synthetic import Mover, Scene, adsb_reports, radar_plots, registry
from skywarden.track.table import COASTING, CONFIRMED, TENTATIVE, TrackTable, coop_bit

LAT0, LON0 = 52.0, 21.0
CFG = TrackerConfig()


# -- unit tests on a hand-filled table -------------------------------------------------------


def place(table: TrackTable, east: float, north: float, *, t: float = 100.0, hits: int = 2,
          llr: float = 20.0, born: float | None = None, revisit: float = 10.0,
          sigma: float = 100.0, vel=(0.0, 40.0, 0.0), status: int = TENTATIVE) -> int:
    """One track east/north metres from (LAT0, LON0) at 1000 m, sigma m in each axis."""
    (slot,) = table.allocate(1).tolist()
    rot = enu_rotation(LAT0, LON0).reshape(3, 3)
    base = geodetic_to_ecef(LAT0, LON0, 1000.0).reshape(3)
    table.x[slot, :3] = base + rot.T @ np.array([east, north, 0.0])
    table.x[slot, 3:] = rot.T @ np.array(vel, dtype=float)
    P = np.zeros((6, 6))
    P[:3, :3] = sigma**2 * np.eye(3)
    P[3:, 3:] = 10.0**2 * np.eye(3)
    table.P[slot] = P
    table.t[slot] = table.t_hit[slot] = t
    table.t_born[slot] = t - (hits - 1) * revisit if born is None else born
    table.hits[slot] = hits
    table.llr[slot] = llr
    table.revisit[slot] = revisit
    table.status[slot] = status
    return slot


def confirmed(table: TrackTable, *slots: int) -> list[int]:
    return sorted(lc.confirm(table, np.array(slots, dtype=np.int64), CFG).tolist())


def test_score_counts_each_look_that_found_nothing():
    table = TrackTable()
    full = place(table, 0, 0, hits=4, born=70.0)  # looks at 70, 80, 90, 100: all hits
    gaps = place(table, 50000, 0, hits=2, born=60.0)  # looks at 60..100: 3 missed
    at = np.array([100.0, 100.0])
    score = lc.sprt_score(table, np.array([full, gaps]), at, CFG)
    assert score[0] == pytest.approx(20.0)
    assert score[1] == pytest.approx(20.0 + 3 * math.log(1 - CFG.miss_pd))
    # Later, with no hit, every revisit that passes costs the same.
    later = lc.sprt_score(table, np.array([full]), np.array([130.0]), CFG)
    assert later[0] == pytest.approx(20.0 + 3 * math.log(1 - CFG.miss_pd))


def test_two_hits_and_the_threshold_confirm():
    table = TrackTable()
    good = place(table, 0, 0, hits=2, llr=CFG.confirm_score + 0.5)
    weak = place(table, 50000, 0, hits=2, llr=CFG.confirm_score - 0.5)
    single = place(table, 100000, 0, hits=1, llr=100.0)
    assert confirmed(table, good, weak, single) == [good]
    assert table.status[good] == CONFIRMED
    assert table.status[weak] == TENTATIVE and table.status[single] == TENTATIVE


def test_missed_looks_hold_confirmation_back():
    table = TrackTable()
    # Same score, but two hits spread over six looks: four misses cost 4 ln 2 = 2.8.
    sparse = place(table, 0, 0, hits=2, llr=CFG.confirm_score + 2.0, born=50.0)
    assert confirmed(table, sparse) == []


def test_cooperative_identity_confirms_on_two_hits_without_score():
    table = TrackTable()
    slot = place(table, 0, 0, hits=2, llr=0.0, revisit=1.0)
    table.attach_id(slot, "icao:4CA2D1")
    assert confirmed(table, slot) == [slot]
    one = place(table, 50000, 0, hits=1, llr=0.0, revisit=1.0)
    table.attach_id(one, "icao:4CA2D2")
    assert confirmed(table, one) == []


def test_a_track_sitting_on_a_confirmed_track_is_not_a_new_target():
    table = TrackTable()
    place(table, 0, 0, hits=50, llr=500.0, sigma=50.0, status=CONFIRMED)
    # 150 m off horizontally, 600 m off in altitude, another velocity: the same target
    dup = place(table, 150, 0, vel=(30.0, 0.0, 0.0), sigma=150.0)
    table.x[dup, :3] += 600.0 * table.x[dup, :3] / np.linalg.norm(table.x[dup, :3])
    far = place(table, 8000, 0)
    assert confirmed(table, dup, far) == [far]
    assert table.status[dup] == TENTATIVE
    # Its plots are that target's: its score is gone and it is dropped.
    assert table.llr[dup] == -np.inf
    assert dup in lc.expire(table, 100.0, CFG).dropped.tolist()


def test_a_coasting_track_defers_a_new_track_on_it_without_dropping_it():
    table = TrackTable()
    old = place(table, 0, 0, hits=50, llr=500.0, sigma=50.0, status=COASTING, t=90.0)
    table.x[old, :3] -= 10.0 * table.x[old, 3:]  # predicted to t = 100 it is at (0, 0)
    new = place(table, 200, 0, sigma=150.0)
    assert confirmed(table, new) == []
    assert table.llr[new] == 20.0
    assert new not in lc.expire(table, 100.0, CFG).dropped.tolist()
    # Once the coasting track is gone, the new track confirms.
    table.release(np.array([old]))
    assert confirmed(table, new) == [new]


def test_the_clearance_reaches_beyond_the_gate():
    table = TrackTable()
    place(table, 0, 0, hits=50, llr=500.0, sigma=50.0, status=CONFIRMED)
    # both tight (50 m): the gate alone reaches sqrt(15.2 * 2 * 50^2) = 276 m
    near = place(table, 0, 900, sigma=50.0)
    clear = place(table, 0, -1500, sigma=50.0)
    assert confirmed(table, near, clear) == [clear]
    cfg = TrackerConfig(confirm_clearance=0.0)
    near2 = place(table, 900, 0, sigma=50.0)
    assert lc.confirm(table, np.array([near2]), cfg).tolist() == [near2]


def test_different_transponders_are_different_aircraft_even_side_by_side():
    table = TrackTable()
    old = place(table, 0, 0, hits=50, llr=500.0, sigma=50.0, status=CONFIRMED, revisit=1.0)
    table.attach_id(old, "icao:000001")
    new = place(table, 100, 0, hits=2, llr=0.0, revisit=1.0)
    table.attach_id(new, "icao:000002")
    assert table.coop[new] & coop_bit("icao:000002")
    assert confirmed(table, new) == [new]


def test_tentative_tracks_die_on_gaps_and_on_score():
    table = TrackTable()
    now = 100.0
    cfg = replace(CFG, tentative_max_gap_scans=7.0)
    gap = cfg.tentative_max_gap_scans * 10.0  # place(): revisit 10 s
    fresh = place(table, 0, 0, hits=1, llr=0.0, t=now - 40.0)  # 4 looks missed: lives
    # one plot, then 6 looks missed (6 ln 0.5 < -4) within the gap: pruned on its score
    lone = place(table, 10000, 0, hits=1, llr=0.0, t=now - 60.0)
    # two good plots: lives to the end of the gap, not a revisit longer
    held = place(table, 20000, 0, hits=2, llr=10.0, t=now - gap + 5.0)
    stale = place(table, 30000, 0, hits=2, llr=10.0, t=now - gap - 5.0)
    bad = place(table, 40000, 0, hits=2, llr=CFG.tentative_min_score - 1.0, t=now - 5.0)
    good = place(table, 60000, 0, hits=3, llr=20.0, t=now - 5.0)
    conf = place(table, 80000, 0, hits=30, llr=300.0, t=now - 50.0, status=CONFIRMED)
    ex = lc.expire(table, now, cfg)
    assert sorted(ex.dropped.tolist()) == sorted([lone, stale, bad])
    assert fresh not in ex.dropped and held not in ex.dropped and good not in ex.dropped
    assert ex.deleted.size == 0 and conf in ex.coasting.tolist()


def test_a_coasting_track_is_lost_from_its_last_hit():
    table = TrackTable()
    slot = place(table, 0, 0, hits=30, llr=300.0, t=100.0, revisit=5.0, status=CONFIRMED)
    assert np.isnan(table.t_lost[slot])
    ex = lc.expire(table, 109.0, CFG)  # 1.8 revisits without a hit: coasting
    assert ex.coasting.tolist() == [slot] and table.status[slot] == COASTING
    assert table.t_lost[slot] == 100.0
    assert table.llr_lost[slot] == 300.0 and table.hits_lost[slot] == 30


def test_a_lost_track_goes_on_weak_hits_and_recovers_on_good_ones():
    """Both tracks coasted from t=100 (revisit 5 s) and got one plot at 130: a clutter
    plot in the wide gate (+2 to the score) and the target's own (+12). Each look that
    found nothing costs ln(1 - lost_pd); by 180 the first has lost more than it gained
    and goes, 50 s after its last hit (the time rule alone keeps it to 190, and a clutter
    plot now and then kept such tracks for minutes)."""
    table = TrackTable()
    weak = place(table, 0, 0, hits=30, llr=300.0, t=100.0, revisit=5.0, status=CONFIRMED)
    good = place(table, 50000, 0, hits=30, llr=300.0, t=100.0, revisit=5.0,
                 status=CONFIRMED)
    lc.expire(table, 110.0, CFG)
    assert (table.status[[weak, good]] == COASTING).all()
    for slot, gain in ((weak, 2.0), (good, 12.0)):  # the hit at 130 (the tracker's update)
        table.hits[slot] += 1
        table.llr[slot] += gain
        table.t[slot] = table.t_hit[slot] = 130.0
        table.status[slot] = CONFIRMED
    at = np.array([140.0, 140.0])
    score = lc.lost_score(table, np.array([weak, good]), at, CFG)
    # 8 looks since the loss, 1 hit: 7 misses
    expected = 7 * math.log(1 - CFG.lost_pd)
    assert score == pytest.approx([2.0 + expected, 12.0 + expected])
    lc.expire(table, 135.0, CFG)  # 6 misses: 12 - 4.2 >= 0, 2 - 4.2 < 0
    assert np.isnan(table.t_lost[good])  # won back: healthy again
    assert table.t_lost[weak] == 100.0
    assert CFG.lost_pd == 0.5 and CFG.lost_min_score == -6.0
    assert lc.expire(table, 160.0, CFG).deleted.tolist() == []  # 11 misses: 2 - 7.6 > -6
    assert lc.expire(table, 165.0, CFG).deleted.tolist() == [weak]  # 12: 2 - 8.3 < -6


def test_a_lost_track_under_several_radars_counts_a_look_per_plot_it_used_to_get():
    """Plots every 1.25 s (four radars of 5 s scans) before the loss: each 1.25 s without
    one is a look that found nothing, and with nine of them (9 ln 0.5 < -6) the track
    goes, 12 s after its last hit. Under one radar a look is a revisit (5 s), however
    seldom the plots came, and the same nine take 45 s."""
    table = TrackTable()
    many = place(table, 0, 0, hits=80, llr=800.0, t=100.0, revisit=5.0, status=CONFIRMED)
    one = place(table, 50000, 0, hits=20, llr=200.0, t=100.0, revisit=5.0, status=CONFIRMED)
    table.hit_gap[many], table.hit_gap[one] = 1.25, 16.0
    lc.expire(table, 110.0, CFG)
    assert table.look_lost[many] == 1.25 and table.look_lost[one] == 5.0
    assert lc.expire(table, 111.0, CFG).deleted.tolist() == []  # 8 looks: -5.5
    assert lc.expire(table, 112.0, CFG).deleted.tolist() == [many]  # 9 looks: -6.2
    table.release(np.array([many]))  # as the tracker does once the deletion is reported
    assert lc.expire(table, 144.0, CFG).deleted.tolist() == []
    assert lc.expire(table, 145.0, CFG).deleted.tolist() == [one]


def test_config_rejects_a_miss_probability_outside_0_1():
    from skywarden.errors import ConfigError

    with pytest.raises(ConfigError):
        TrackerConfig(miss_pd=1.0)
    with pytest.raises(ConfigError):
        TrackerConfig(lost_pd=-0.1)
    with pytest.raises(ConfigError):
        TrackerConfig(lost_min_score=0.0)


# -- scenes ----------------------------------------------------------------------------------


def radar(i: int = 1, lat: float = LAT0, lon: float = LON0, **kw) -> dict:
    base = dict(id=f"r{i}", type="radar", owner="POL", lat=lat, lon=lon, alt=100.0,
                max_range=250000, scan_period=10, sigma_range=50, sigma_azimuth=0.2,
                sigma_elevation=0.3, clutter_per_scan=4.0)
    return {**base, **kw}


def run(reg, dets, chunk=64):
    tr = Tracker(reg)
    rows, now = [], -np.inf
    for i in range(0, len(dets), chunk):
        part = dets[i : i + chunk]
        now = max(now, max(d.time for d in part))
        rows += tr.step(DetectionBatch.from_records(part, reg.ids), now).updates()
    rows += tr.flush().updates()
    return tr, rows


def first_confirmed(rows) -> float:
    return min(r.time for r in rows if r.status == "confirmed")


def test_consistent_target_is_confirmed_within_two_scans_of_its_first_plot():
    """One radar, a drone 60-120 km out: confirmed on its third plot at the latest, two
    scans after the first (its score passes the threshold with the third plot)."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        reg = registry(radar())
        start = rng.uniform(60000.0, 120000.0)
        scene = Scene(LAT0, LON0, [Mover("d", (start, 0.0, 600.0), (-45.0, 10.0, 0.0))])
        dets = sorted(radar_plots(scene, reg["r1"], 0, 200, rng, clutter=4.0),
                      key=lambda d: d.time)
        first = min(d.time for d in dets if d.range and abs(d.range - start) < 5000.0)
        tr, rows = run(reg, dets)
        assert first_confirmed(rows) - first <= 2 * 10.0 + 0.5
        assert tr.stats.tracks_confirmed == 1


def test_target_seen_by_a_second_radar_is_confirmed_within_one_scan():
    """Two radars 10 s apart in phase: the plots of both add up, and the third plot,
    one scan after the first, confirms the track."""
    rng = np.random.default_rng(21)
    reg = registry(radar(1), radar(2, lat=52.4, lon=21.6))
    scene = Scene(LAT0, LON0, [Mover("d", (30000.0, 30000.0, 500.0), (-40.0, 0.0, 0.0))])
    dets = radar_plots(scene, reg["r1"], 0, 120, rng) + radar_plots(scene, reg["r2"], 3, 120, rng)
    dets.sort(key=lambda d: d.time)
    tr, rows = run(reg, dets)
    times = sorted(d.time for d in dets)
    assert times[1] < first_confirmed(rows) <= times[0] + 10.0 + 0.5
    assert first_confirmed(rows) == pytest.approx(times[2], abs=0.01)
    assert tr.stats.tracks_confirmed == 1


def test_a_track_keeps_the_mean_time_between_its_plots():
    """One radar of 10 s scans, then a second one 5 s out of phase: the track's mean time
    between hits (what a lost track's looks are counted in) goes from 10 s to 5 s."""
    rng = np.random.default_rng(4)
    reg = registry(radar(1), radar(2, lat=52.4, lon=21.6))
    scene = Scene(LAT0, LON0, [Mover("d", (30000.0, 30000.0, 500.0), (-40.0, 0.0, 0.0))])
    gaps = []
    for radars in ((1,), (1, 2)):
        dets = [d for i in radars
                for d in radar_plots(scene, reg[f"r{i}"], 5.0 * (i - 1), 300, rng)]
        dets.sort(key=lambda d: d.time)
        tr, _ = run(reg, dets)
        (slot,) = np.flatnonzero(tr.table.status == CONFIRMED).tolist()
        gaps.append(float(tr.table.hit_gap[slot]))
    assert gaps[0] == pytest.approx(10.0, abs=1.0)
    assert gaps[1] == pytest.approx(5.0, abs=1.0)


def test_clutter_never_confirms_and_its_tracks_die():
    """An hour of a radar's clutter (20 false plots a scan, as its registry entry says):
    tentative tracks come and go, and not one is confirmed."""
    rng = np.random.default_rng(5)
    reg = registry(radar(clutter_per_scan=20.0))
    dets = sorted(radar_plots(Scene(LAT0, LON0, []), reg["r1"], 0, 3600, rng, clutter=20.0),
                  key=lambda d: d.time)
    tr, rows = run(reg, dets, chunk=512)
    assert len(dets) > 6000
    assert tr.stats.tracks_confirmed == 0 and not rows
    # one-plot tracks live 4.5 scans: about 20 x 4.5 of them at a time
    assert len(tr.table) < 150


@pytest.mark.parametrize("seed", [2, 5])
def test_a_track_whose_target_is_gone_does_not_live_on_clutter(seed):
    """A target seen (Pd 0.9, 5 s scans) for 100 s, then gone, in heavy clutter (400
    plots a scan within 60 km). Now and then a clutter plot falls in its lost track's
    wide gate; with the lost-track score the track ends within 90 s of its last plot,
    where the time since the last hit alone kept it for two and a half minutes more."""
    rng = np.random.default_rng(seed)
    reg = registry(radar(max_range=60000, scan_period=5, clutter_per_scan=400.0, pd=0.9))
    scene = Scene(LAT0, LON0, [Mover("a", (-40000.0, 10000.0, 1000.0), (100.0, 0.0, 0.0))])
    dets = radar_plots(scene, reg["r1"], 0, 100, rng, pd=0.9) + radar_plots(
        Scene(LAT0, LON0, []), reg["r1"], 0, 300, rng, clutter=400.0)
    dets.sort(key=lambda d: d.time)
    ends = []
    for cfg in (TrackerConfig(), TrackerConfig(lost_min_score=-1e9)):
        tr = Tracker(reg, cfg)
        rows = []
        for i in range(0, len(dets), 64):
            part = dets[i : i + 64]
            rows += tr.step(DetectionBatch.from_records(part, reg.ids),
                            max(d.time for d in part)).updates()
        rows += tr.flush().updates()
        held = [r for r in rows if r.status in ("confirmed", "coasting")]
        assert len({r.track for r in held}) == 1  # the target's; clutter confirms none
        ends.append(max(r.time for r in held))
    assert ends[0] <= 100.0 + 90.0
    assert ends[1] >= 240.0


def test_cooperative_track_is_confirmed_on_its_second_report():
    rng = np.random.default_rng(3)
    reg = registry(radar(), dict(id="a1", type="adsb", owner="POL", lat=LAT0, lon=LON0))
    scene = Scene(LAT0, LON0, [Mover("c", (-40000.0, -60000.0, 9000.0), (150.0, 180.0, 0.0),
                                     icao="icao:4CA2D1")])
    dets = sorted(adsb_reports(scene, reg["a1"], 0, 60, rng), key=lambda d: d.time)
    _, rows = run(reg, dets)
    assert first_confirmed(rows) == pytest.approx(dets[1].time, abs=0.01)


def test_take_merges_reports_who_absorbed_whom_and_its_last_sensors():
    """The live service keeps per-track state (releasability) that must follow a merge."""
    reg = registry(dict(id="pl-radar", type="radar", owner="POL", lat=LAT0, lon=LON0),
                   dict(id="lt-radar", type="radar", owner="LTU", lat=LAT0, lon=LON0 + 1))
    tracker = Tracker(reg, TrackerConfig(merge_checks=1))
    assert tracker.take_merges() == []  # starts the recording
    old = place(tracker.table, 0, 0, status=CONFIRMED)
    young = place(tracker.table, 20, 0, status=CONFIRMED)
    serials = tracker.table.serial[[old, young]].tolist()
    # the younger track was fed by the Lithuanian radar in the window being closed
    tracker._pending_sensors(np.array([young]), np.array([1], np.int32))
    tracker._lifecycle(100.0)
    (merge,) = tracker.take_merges()
    assert (merge.survivor, merge.absorbed) == (min(serials), max(serials))
    assert merge.sensors.tolist() == [1]
    assert tracker.take_merges() == []
    # a tracker nobody asked keeps nothing
    quiet = Tracker(reg, TrackerConfig(merge_checks=1))
    place(quiet.table, 0, 0, status=CONFIRMED)
    place(quiet.table, 20, 0, status=CONFIRMED)
    quiet._lifecycle(100.0)
    assert quiet._merges is None and quiet.stats.tracks_merged == 1
