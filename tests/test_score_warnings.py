"""Warning scores: entries found from the truth, lead times, misses and false alerts."""

from __future__ import annotations

import json

import msgspec
import numpy as np
import pytest

from skywarden.airspace.borders import load_borders
from skywarden.records import AlertEvent, Detection, TrackUpdate, Truth
from skywarden.score.warnings import score_warnings

T0 = 1_757_450_000.0


def _write(path, records):
    enc = msgspec.json.Encoder()
    path.write_bytes(b"".join(enc.encode(r) + b"\n" for r in records))


def _westbound(target, lat, lon0, seconds, speed=50.0, hostile=True):
    """1 s truth of a target flying due west along ``lat`` from ``lon0``."""
    deg_per_s = float(speed / (111_320.0 * np.cos(np.radians(lat))))
    return [
        Truth(time=T0 + k, target=target, lat=lat, lon=lon0 - k * deg_per_s, alt=800.0,
              vel_e=-speed, vel_n=0.0, vel_u=0.0, cls="drone", observable=True,
              hostile=hostile)
        for k in range(seconds)
    ]  # fmt: skip


@pytest.fixture()
def case(tmp_path):
    borders = load_borders()
    threat = _westbound("drone-1", 52.05, 24.6, 2400)
    civil = _westbound("civil-1", 54.6, 25.9, 600, speed=200.0, hostile=False)
    lat = np.array([t.lat for t in threat])
    lon = np.array([t.lon for t in threat])
    nation = borders.nation_at(lat, lon)
    assert nation[0] == "BLR"
    k_entry = int(np.flatnonzero(nation == "POL")[0])
    t_entry = threat[k_entry].time

    def alert(k, **kw):
        tr = threat[k]
        return AlertEvent(time=tr.time, lat=tr.lat, lon=tr.lon, track="T1", **kw)

    alerts = [
        alert(k_entry - 600, alert="A1", event="raised", level=1, kind="predicted_entry",
              nation="POL"),
        alert(k_entry - 300, alert="A1", event="escalated", level=2, kind="predicted_entry",
              nation="POL"),
        alert(k_entry + 5, alert="A1", event="escalated", level=3, kind="incursion",
              nation="POL"),
        # A civil aircraft over Lithuania raises a false alert.
        AlertEvent(time=civil[100].time, lat=civil[100].lat, lon=civil[100].lon, track="T2",
                   alert="A2", event="raised", level=1, kind="predicted_entry", nation="LTU"),
        # A sensor alert has no position and is neither a warning nor false.
        AlertEvent(time=T0 + 50, alert="S1", event="raised", level=1, kind="sensor_down",
                   nation="POL", sensor="r1"),
    ]  # fmt: skip
    dets = [
        Detection(time=threat[k_entry - 900].time, sensor="r1", kind="position",
                  lat=52.0, lon=24.0, target="drone-1"),
        Detection(time=T0 + 1, sensor="r1", kind="position", lat=52.0, lon=24.0),
    ]  # fmt: skip
    truth = sorted(threat + civil, key=lambda t: t.time)
    _write(tmp_path / "truth.jsonl", truth)
    _write(tmp_path / "alerts.jsonl", alerts)
    _write(tmp_path / "dets.jsonl", dets)
    return tmp_path, t_entry


def test_lead_time_incursion_delay_and_false_alerts(case):
    folder, t_entry = case
    rep = score_warnings(folder / "truth.jsonl", folder / "alerts.jsonl", folder / "dets.jsonl")
    pol = [e for e in rep.entries if e.nation == "POL"]
    assert len(pol) == 1
    e = pol[0]
    assert e.time == t_entry
    assert e.lead_s == pytest.approx(600.0)
    assert e.possible_lead_s == pytest.approx(900.0)
    assert e.incursion_delay_s == pytest.approx(5.0)
    assert e.detections_before == 1  # the one labelled detection, 900 s before
    assert not e.missed
    assert rep.median_lead_fraction() == pytest.approx(600.0 / 900.0)
    assert rep.false_alerts == {"LTU": 1}
    assert rep.false_civil == {"LTU": 1}  # it was about the civil aircraft
    assert rep.alerts == 2  # A1 and A2; the sensor alert is not about a track
    per_hour = rep.false_alerts_per_nation_hour()
    assert per_hour["LTU"] == pytest.approx(1.0 / rep.hours)
    doc = json.loads(rep.to_json())
    assert doc["missed"] == 0 and doc["entries_seen_before"] == len(rep.scored)
    assert "drone-1" in rep.table()


def test_an_alert_about_no_target_is_false_but_not_civil(case, tmp_path):
    folder, _ = case
    nowhere = AlertEvent(time=T0 + 200, lat=60.0, lon=10.0, track="T9", alert="A9",
                         event="raised", level=1, kind="predicted_entry", nation="NOR")
    alerts = tmp_path / "more.jsonl"
    alerts.write_bytes((folder / "alerts.jsonl").read_bytes()
                       + msgspec.json.encode(nowhere) + b"\n")
    rep = score_warnings(folder / "truth.jsonl", alerts, folder / "dets.jsonl")
    assert rep.false_alerts == {"LTU": 1, "NOR": 1}
    assert rep.false_civil == {"LTU": 1}
    assert "about no target near              1" in rep.table()


def test_an_entry_without_an_earlier_alert_is_missed(case, tmp_path):
    folder, t_entry = case
    late = tmp_path / "late.jsonl"
    kept = [
        line
        for line in (folder / "alerts.jsonl").read_text().splitlines()
        if '"kind":"incursion"' in line
    ]
    late.write_text("\n".join(kept) + "\n")
    rep = score_warnings(folder / "truth.jsonl", late, folder / "dets.jsonl")
    e = next(e for e in rep.entries if e.nation == "POL")
    assert e.missed and e.lead_s is None
    assert rep.missed >= 1
    by = rep.missed_by_detections()
    assert by["1"] >= 1 and sum(by.values()) == rep.missed
    assert json.loads(rep.to_json())["missed_by_detections_before"] == by
    assert "by detections before" in rep.table()
    assert rep.median_lead_fraction() == 0.0


def test_without_labels_the_first_observable_sample_bounds_the_lead(case):
    folder, t_entry = case
    rep = score_warnings(folder / "truth.jsonl", folder / "alerts.jsonl")
    e = next(e for e in rep.entries if e.nation == "POL")
    assert e.possible_lead_s == pytest.approx(t_entry - T0)
    assert e.detections_before is None  # nothing labelled to count


def test_bad_alert_lines_are_counted_not_fatal(case):
    folder, _ = case
    path = folder / "alerts.jsonl"
    path.write_text(path.read_text() + '{"time": "soon", "alert": 3}\n')
    rep = score_warnings(folder / "truth.jsonl", path, folder / "dets.jsonl")
    assert rep.bad_lines == 1
    assert any(e.nation == "POL" and e.lead_s == pytest.approx(600.0) for e in rep.entries)


def test_bad_alert_lines_are_named_and_shown_in_the_table(case, capsys):
    """A tracks file given as --alerts must not pass for a night without alerts."""
    folder, _ = case
    path = folder / "alerts.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, '{"time": "soon", "alert": 3}', "not json"]) + "\n")
    rep = score_warnings(folder / "truth.jsonl", path, folder / "dets.jsonl")
    err = capsys.readouterr().err
    assert f"{path}:{len(lines) + 1}: field time" in err
    assert f"{path}:{len(lines) + 2}: not valid JSON" in err
    assert "truth.jsonl" not in err  # the truth is the track scores' to report, once
    assert "bad input lines skipped             2" in rep.table()


def _there_and_back(target, lat, lon0, legs, speed=50.0):
    """1 s truth flying along ``lat``: ``legs`` = [(seconds, -1 west or +1 east), ...]."""
    deg_per_s = float(speed / (111_320.0 * np.cos(np.radians(lat))))
    out, lon, k = [], lon0, 0
    for seconds, sign in legs:
        for _ in range(seconds):
            out.append(Truth(time=T0 + k, target=target, lat=lat, lon=lon, alt=800.0,
                             vel_e=sign * speed, vel_n=0.0, vel_u=0.0, cls="drone",
                             observable=True, hostile=True))
            lon += sign * deg_per_s
            k += 1
    return out


@pytest.mark.parametrize("ended", [False, True])
def test_a_reentry_is_warned_by_an_alert_open_across_the_exit(tmp_path, ended):
    """A drone enters Poland, turns back into Belarus for a minute and comes again. The
    alert raised before the first entry and still open warned the second: its lead
    counts from the exit, as does its possible lead. Ended after the exit, it did not."""
    borders = load_borders()
    out = _westbound("drone-1", 52.05, 24.6, 2400)
    k_entry = int(np.flatnonzero(borders.nation_at(
        np.array([t.lat for t in out]), np.array([t.lon for t in out])) == "POL")[0])
    truth = _there_and_back("drone-1", 52.05, 24.6,
                            [(k_entry + 60, -1), (180, +1), (400, -1)])
    nation = borders.nation_at(np.array([t.lat for t in truth]),
                               np.array([t.lon for t in truth]))
    changes = [(k, str(nation[k])) for k in range(1, len(truth)) if nation[k] != nation[k - 1]]
    assert [c[1] for c in changes] == ["POL", "BLR", "POL"]
    t_exit, t_back = truth[changes[1][0]].time, truth[changes[2][0]].time

    def event(k, **kw):
        tr = truth[k]
        return AlertEvent(time=tr.time, lat=tr.lat, lon=tr.lon, track="T1", alert="A1",
                          nation="POL", **kw)

    alerts = [event(k_entry - 600, event="raised", level=2, kind="predicted_entry")]
    if ended:
        alerts.append(event(changes[1][0] + 5, event="ended", level=0,
                            kind="predicted_entry"))
    _write(tmp_path / "truth.jsonl", truth)
    _write(tmp_path / "alerts.jsonl", alerts)
    _write(tmp_path / "dets.jsonl", [Detection(time=T0, sensor="r1", kind="position",
                                               lat=52.0, lon=24.6, target="drone-1")])
    rep = score_warnings(tmp_path / "truth.jsonl", tmp_path / "alerts.jsonl",
                         tmp_path / "dets.jsonl")
    first, again = [e for e in rep.entries if e.nation == "POL"]
    assert first.lead_s == pytest.approx(600.0)
    assert again.time == t_back
    assert again.possible_lead_s == pytest.approx(t_back - t_exit)  # not from T0
    if ended:
        assert again.missed
    else:
        assert again.lead_s == pytest.approx(t_back - t_exit)
        assert not again.missed


def test_entries_into_a_nation_not_warned_by_policy_are_listed_not_missed(tmp_path):
    # A drone flying east out of Poland into Belarus, seen before it crosses, no alert:
    # the shipped deployment never warns Belarus (data/warned-nations.toml), so the entry
    # is listed but neither scored nor missed; a deployment that warns it misses it.
    eastbound = _westbound("drone-2", 52.05, 23.0, 2400, speed=-50.0)
    nation = load_borders().nation_at(np.array([t.lat for t in eastbound]),
                                      np.array([t.lon for t in eastbound]))
    assert nation[0] == "POL" and "BLR" in set(nation.tolist())
    _write(tmp_path / "truth.jsonl", eastbound)
    _write(tmp_path / "alerts.jsonl", [])
    _write(tmp_path / "dets.jsonl", [Detection(time=T0 + 10, sensor="r1", kind="position",
                                               lat=52.05, lon=23.0, target="drone-2")])
    args = (tmp_path / "truth.jsonl", tmp_path / "alerts.jsonl", tmp_path / "dets.jsonl")
    rep = score_warnings(*args)
    blr = [e for e in rep.entries if e.nation == "BLR"]
    assert len(blr) == 1 and not blr[0].served and blr[0].seen_before
    assert rep.missed == 0 and rep.scored == []
    assert json.loads(rep.to_json())["entries_not_warned_by_policy"] == 1
    assert "policy" in rep.table()
    served = score_warnings(*args, not_warned=())
    assert served.missed == 1 and len(served.scored) == 1


def test_a_wave_warned_through_a_neighbour_is_missed_with_an_alert_near(tmp_path):
    """Two drones 800 m apart; the only alert's events sit on the wingman. The lead
    drone's entry is missed (no event is nearest it), but counted as having an alert
    near; the wingman's entry is warned."""
    borders = load_borders()
    lead = _westbound("lead", 52.05, 24.6, 2400)
    wing = _westbound("wing", 52.05 + 800.0 / 111_320.0, 24.6, 2400)
    nation = borders.nation_at(np.array([t.lat for t in lead]), np.array([t.lon for t in lead]))
    k = int(np.flatnonzero(nation == "POL")[0])
    alerts = [
        AlertEvent(time=wing[k - 400].time, lat=wing[k - 400].lat, lon=wing[k - 400].lon,
                   track="T1", alert="A1", event="raised", level=1, kind="predicted_entry",
                   nation="POL"),
        AlertEvent(time=wing[k + 60].time, lat=wing[k + 60].lat, lon=wing[k + 60].lon,
                   track="T1", alert="A1", event="ended", level=0, kind="predicted_entry",
                   nation="POL"),
        # 8 km away from both: not near either.
        AlertEvent(time=lead[k - 500].time, lat=lead[k - 500].lat + 0.072,
                   lon=lead[k - 500].lon, track="T2", alert="A2", event="raised", level=1,
                   kind="predicted_entry", nation="POL"),
    ]  # fmt: skip
    _write(tmp_path / "truth.jsonl", sorted(lead + wing, key=lambda t: (t.time, t.target)))
    _write(tmp_path / "alerts.jsonl", alerts)
    rep = score_warnings(tmp_path / "truth.jsonl", tmp_path / "alerts.jsonl")
    got = {e.target: e for e in rep.entries if e.nation == "POL"}
    raised = wing[k - 400].time
    assert not got["wing"].missed
    assert got["wing"].lead_s == pytest.approx(got["wing"].time - raised)
    assert got["lead"].missed and got["lead"].lead_s is None
    assert got["lead"].near_lead_s == pytest.approx(got["lead"].time - raised)
    assert rep.missed == 1 and rep.missed_with_alert_near() == 1
    assert json.loads(rep.to_json())["missed_with_alert_near"] == 1
    assert "with an alert near              1" in rep.table()


def _track_lines(track, truth, ks, status="confirmed"):
    """Track lines of ``track`` on the truth samples ``ks`` (one per second)."""
    return [TrackUpdate(time=truth[k].time, track=track, lat=truth[k].lat, lon=truth[k].lon,
                        status=status, cls="drone") for k in ks]


@pytest.mark.parametrize("how", ["stands", "ended early", "coasts"])
def test_a_standing_alert_warns_of_the_threat_its_track_moves_onto(tmp_path, how):
    """Two drones 3 km apart, the rear one 400 s behind. A track is raised on the lead
    drone; after the lead drone has entered, the track moves onto the rear one (a wave's
    track taking the next drone's plots) with no new event. Its standing alert warned
    the rear drone from the first line on it; with no tracks given, an alert that ended
    before the move, or a track that only coasted over the rear drone (a prediction, no
    plot), the rear drone's entry is missed."""
    ended_early = how == "ended early"
    borders = load_borders()
    lead = _westbound("lead", 52.05, 24.6, 2400)
    rear = _westbound("rear", 52.05 + 3000.0 / 111_320.0, 24.6, 2400)[:-400]
    rear = [msgspec.structs.replace(t, time=t.time + 400) for t in rear]
    lead_in = int(np.flatnonzero(borders.nation_at(np.array([t.lat for t in lead]),
                                                   np.array([t.lon for t in lead])) == "POL")[0])
    rear_nation = borders.nation_at(np.array([t.lat for t in rear]),
                                    np.array([t.lon for t in rear]))
    rear_in = int(np.flatnonzero(rear_nation == "POL")[0])
    moved = lead_in + 20  # index into lead: the track leaves it here
    k_rear = moved - 400  # the rear drone's sample at that time
    assert rear[k_rear].time == lead[moved].time and k_rear < rear_in - 100
    raised = lead[lead_in - 500]
    alerts = [AlertEvent(time=raised.time, lat=raised.lat, lon=raised.lon, track="T1",
                         alert="A1", event="raised", level=1, kind="predicted_entry",
                         nation="POL")]
    if ended_early:
        gone = lead[moved - 10]
        alerts.append(AlertEvent(time=gone.time, lat=gone.lat, lon=gone.lon, track="T1",
                                 alert="A1", event="ended", level=0,
                                 kind="predicted_entry", nation="POL"))
    lines = (_track_lines("T1", lead, range(lead_in - 520, moved))
             + _track_lines("T1", rear, range(k_rear, rear_in + 30),
                            "coasting" if how == "coasts" else "confirmed"))
    _write(tmp_path / "truth.jsonl", sorted(lead + rear, key=lambda t: (t.time, t.target)))
    _write(tmp_path / "alerts.jsonl", alerts)
    _write(tmp_path / "tracks.jsonl", lines)
    _write(tmp_path / "dets.jsonl", [Detection(time=T0 + 400, sensor="r1", kind="position",
                                               lat=52.08, lon=24.6, target="rear")])
    args = (tmp_path / "truth.jsonl", tmp_path / "alerts.jsonl", tmp_path / "dets.jsonl")

    events_only = {e.target: e for e in score_warnings(*args).entries if e.nation == "POL"}
    assert events_only["rear"].missed
    assert events_only["lead"].lead_s == pytest.approx(500.0)

    rep = score_warnings(*args, tracks_path=tmp_path / "tracks.jsonl")
    got = {e.target: e for e in rep.entries if e.nation == "POL"}
    assert got["lead"].lead_s == pytest.approx(500.0)
    assert got["rear"].event_lead_s is None
    if how != "stands":
        assert got["rear"].missed and rep.missed == 1
    else:
        assert got["rear"].lead_s == pytest.approx(rear[rear_in].time - lead[moved].time)
        assert not got["rear"].missed and rep.missed == 0
        assert rep.missed_by_events == 1
        assert rep.median_lead_fraction(events_only=True) < rep.median_lead_fraction()
    doc = json.loads(rep.to_json())
    assert doc["followed_tracks"] and doc["missed_by_events"] == 1
    assert doc["alerts_without_track_lines"] == 0
    assert "by alert events alone" in rep.table()


def test_alerts_whose_track_is_not_in_the_tracks_file_are_counted(case, tmp_path):
    """Tracks of another run tie no alert to a track: the table says so, and the
    leads are those of the events."""
    folder, _ = case
    _write(tmp_path / "other.jsonl", [TrackUpdate(time=T0 + 5, track="T77", lat=52.0,
                                                  lon=24.0)])
    rep = score_warnings(folder / "truth.jsonl", folder / "alerts.jsonl",
                         folder / "dets.jsonl", tracks_path=tmp_path / "other.jsonl")
    assert rep.alerts_without_track_lines == 2  # A1 and A2
    assert "nearly all: tracks of another run?" in rep.table()
    e = next(e for e in rep.entries if e.nation == "POL")
    assert e.lead_s == e.event_lead_s == pytest.approx(600.0)
