"""The alert state machine: one alert per (track, target), escalation at once,
de-escalation with hysteresis, acknowledgement, sensor-down, events only on change."""

import math

import msgspec
import pytest

from skywarden.records import AlertEvent
from skywarden.warn import (
    AlertConfig,
    AlertState,
    Assessment,
    Rulebook,
    UnknownAlertError,
    parse_rules,
    step,
)

T0 = 1757453400.0  # 2025-09-09 21:30 UTC


def probability_rules(nation="default"):
    """Level k when probability >= 0.2 k: easy to drive in tests."""
    levels = [
        {
            "level": k,
            "when": [{"probability_min": 0.2 * k}],
            "actions": [{"do": "notify_atc"}] + ([{"do": "public_warning"}] if k >= 3 else []),
        }
        for k in range(1, 5)
    ]
    return parse_rules({"nation": nation, "name": nation, "level": levels})


BOOK = Rulebook({"default": probability_rules()})
LEVEL_P = {0: 0.0, 1: 0.3, 2: 0.5, 3: 0.7, 4: 0.9}


def cycle(levels_by_track, t, target="POL", **kw):
    rows = [
        dict(
            track_id=track,
            time=t,
            lat=52.0,
            lon=23.5,
            alt=400.0,
            target_id=target,
            probability=LEVEL_P[lvl],
            eta_s=300.0,
            **kw,
        )
        for track, lvl in levels_by_track.items()
    ]
    return Assessment.from_rows(rows)


def run(state, series, t0=T0, dt=1.0, track="T1"):
    """Feed a level per cycle; return all events."""
    events = []
    for k, lvl in enumerate(series):
        rows = {} if lvl is None else {track: lvl}
        events += step(state, cycle(rows, t0 + k * dt), t0 + k * dt)
    return events


def kinds(events):
    return [(e.event, e.level) for e in events]


def test_raise_escalate_at_once_deescalate_after_hold_and_end_after_clear():
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    series = [1] * 5 + [3] * 5 + [2] * 40 + [0] * 70
    events = run(state, series)
    assert kinds(events) == [
        ("raised", 1),
        ("escalated", 3),
        ("deescalated", 2),
        ("deescalated", 1),
        ("ended", 0),
    ]
    t = [e.time - T0 for e in events]
    assert t[0] == 0 and t[1] == 5  # escalation in the very cycle the level rose
    assert t[2] == 10 + 30  # level 2 from t=10 held 30 s
    assert t[3] == 50 + 30  # level <= 1 since t=50 (the zeros), held 30 s
    assert t[4] == 50 + 60  # level 0 since t=50, held clear_s
    assert {e.alert for e in events} == {"T1:POL:1"}
    assert not state.alerts


def test_a_track_at_one_level_for_an_hour_gives_one_event():
    state = AlertState(BOOK)
    events = run(state, [2] * 3600)
    assert kinds(events) == [("raised", 2)]


def test_no_flapping_on_a_level_oscillating_around_a_threshold():
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    # 2 and 3 alternating every 5 s for 10 minutes: one raise, one escalation
    series = ([2] * 5 + [3] * 5) * 60
    assert kinds(run(state, series)) == [("raised", 2), ("escalated", 3)]
    # 0 and 1 alternating every 10 s: raised once, never ended
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    series = ([1] * 10 + [0] * 10) * 30
    assert kinds(run(state, series)) == [("raised", 1)]


def test_missing_rows_count_as_level_zero_and_gone_tracks_end_at_once():
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    events = run(state, [2] * 3 + [None] * 61)
    assert kinds(events) == [("raised", 2), ("deescalated", 1), ("ended", 0)]
    state = AlertState(BOOK)
    step(state, cycle({"T1": 3, "T2": 2}, T0), T0)
    events = step(state, cycle({"T2": 2}, T0 + 1), T0 + 1, gone_tracks=["T1"])
    assert kinds(events) == [("ended", 0)] and events[0].track == "T1"
    assert [a.track for a in state.alerts.values()] == ["T2"]


def test_a_partial_cycle_moves_only_its_own_tracks_alerts():
    """The live service assesses a track that just entered on its own (only_tracks):
    its alert is raised at once; other tracks' alerts, absent from those rows, are not
    lowered or ended, and the sensor watch waits for the next full cycle."""
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60, silence_factor=3.0))
    state.watch_sensor("pl-radar-1", 10.0, "POL", T0)
    assert kinds(step(state, cycle({"T1": 3}, T0), T0, sensors_seen={"pl-radar-1": T0})) \
        == [("raised", 3)]
    events = []
    for k in range(1, 120):  # two minutes of partial cycles about T2 alone
        t = T0 + k
        events += step(state, cycle({"T2": 2}, t), t, only_tracks={"T2"})
    assert kinds(events) == [("raised", 2)] and events[0].track == "T2"
    assert state.alerts["T1:POL:1"].level == 3  # untouched: not assessed in those cycles
    # the radar silent for 119 s (> 3 periods): only a full cycle may call it down
    assert "pl-radar-1" not in {e.sensor for e in events}
    # a partial cycle about T1 with no row for it observes T1 at level 0, like a full one
    t = T0 + 120
    events = step(state, Assessment.empty(), t, only_tracks={"T1"})
    events += step(state, Assessment.empty(), t + 31, only_tracks={"T1"})
    assert kinds(events) == [("deescalated", 1)] and events[0].track == "T1"
    assert state.alerts["T2:POL:1"].level == 2
    full = step(state, Assessment.empty(), t + 32)
    assert ("raised", 2) in kinds(full)  # sensor down, now that a full cycle ran
    assert any(e.kind == "sensor_down" for e in full)


def test_a_coasting_track_raises_no_new_alert_but_keeps_and_escalates_its_own():
    """A coasting track's row is a prediction since its last plot: it raises nothing,
    whatever its level; once plots confirm it again (two fresh estimates), it raises. An
    alert raised while the track was confirmed lives on, and escalates, while it coasts."""
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    events = []
    for k in range(5):
        events += step(state, cycle({"T1": 3}, T0 + k, status="coasting"), T0 + k)
    assert events == [] and not state.alerts
    events = step(state, cycle({"T1": 3}, T0 + 5, status="confirmed"), T0 + 5)
    assert events == []
    events = step(state, cycle({"T1": 3}, T0 + 6, status="confirmed"), T0 + 6)
    assert kinds(events) == [("raised", 3)]
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    events = step(state, cycle({"T2": 1}, T0, status="confirmed"), T0)
    events += step(state, cycle({"T2": 4}, T0 + 1, status="coasting"), T0 + 1)
    events += step(state, cycle({"T2": 4}, T0 + 2, status="coasting"), T0 + 2)
    assert kinds(events) == [("raised", 1), ("escalated", 4)]
    # a row without a status (a producer that does not give it) raises as before
    state = AlertState(BOOK)
    assert kinds(step(state, cycle({"T3": 2}, T0), T0)) == [("raised", 2)]


def test_one_alert_per_track_and_target_with_fresh_id_after_it_ends():
    state = AlertState(BOOK, AlertConfig(hold_s=0, clear_s=0))
    rows = Assessment.from_rows(
        [
            dict(track_id="T1", time=T0, lat=52.0, lon=23.5, target_id="POL", probability=0.5),
            dict(track_id="T1", time=T0, lat=52.0, lon=23.5, target_id="LTU", probability=0.3),
            dict(
                track_id="T1",
                time=T0,
                lat=52.0,
                lon=23.5,
                target_kind="zone",
                target_id="EPR-1",
                target_owner="POL",
                zone_type="restricted",
                probability=0.7,
            ),
            # a duplicate row for the same pair: the higher level counts, no second alert
            dict(track_id="T1", time=T0, lat=52.0, lon=23.5, target_id="POL", probability=0.9),
        ]
    )
    events = step(state, rows, T0)
    assert sorted((e.alert, e.level, e.zone) for e in events) == [
        ("T1:EPR-1:1", 3, "EPR-1"),
        ("T1:LTU:1", 1, None),
        ("T1:POL:1", 4, None),
    ]
    zone_event = next(e for e in events if e.zone)
    assert zone_event.nation == "POL" and zone_event.zone_type == "restricted"
    step(state, Assessment.empty(), T0 + 1)
    assert not state.alerts
    again = step(state, cycle({"T1": 1}, T0 + 2), T0 + 2)
    assert [e.alert for e in again] == ["T1:POL:2"]


def test_event_fields_follow_the_shared_format():
    state = AlertState(BOOK)
    (event,) = step(state, cycle({"T7": 3}, T0, cls="drone"), T0 + 2)
    line = msgspec.json.encode(event)
    back = msgspec.json.decode(line, type=AlertEvent)
    assert back == event
    d = msgspec.json.decode(line)
    assert d["event"] == "raised" and d["level"] == 3 and d["kind"] == "predicted_entry"
    assert d["track"] == "T7" and d["nation"] == "POL"
    assert d["lat"] == 52.0 and d["alt"] == 400.0
    assert d["eta"] == T0 + 300.0  # row time + eta_s, epoch seconds
    assert d["probability"] == 0.7
    assert d["actions"] == ["notify_atc", "public_warning"]
    assert d["level_name"] == "incursion"
    # inside: an incursion, no eta
    (event,) = step(state, cycle({"T7": 4}, T0 + 3, inside=True), T0 + 3)
    assert event.kind == "incursion" and event.eta is None and event.event == "escalated"


def test_acknowledgement_kept_on_deescalation_and_needed_again_after_escalation():
    state = AlertState(BOOK, AlertConfig(hold_s=10, clear_s=60))
    run(state, [3] * 3)
    alert = state.alerts["T1:POL:1"]
    assert not alert.acknowledged
    ack = state.acknowledge("T1:POL:1", "duty officer Nowak", T0 + 3, note="ATC informed")
    assert (ack.event, ack.level, ack.by, ack.note) == (
        "acknowledged",
        3,
        "duty officer Nowak",
        "ATC informed",
    )
    assert alert.acknowledged
    events = run(state, [2] * 15, t0=T0 + 4)
    assert kinds(events) == [("deescalated", 2)]
    assert alert.acknowledged  # an acknowledgement covers lower levels
    events = run(state, [4], t0=T0 + 20)
    assert kinds(events) == [("escalated", 4)]
    assert not alert.acknowledged  # a new danger needs a new acknowledgement
    state.acknowledge("T1:POL:1", "duty officer Kowalska", T0 + 21)
    assert alert.acknowledged
    assert [(a.by, a.level) for a in alert.acks] == [
        ("duty officer Nowak", 3),
        ("duty officer Kowalska", 4),
    ]
    with pytest.raises(UnknownAlertError):
        state.acknowledge("T9:POL:1", "someone", T0)
    with pytest.raises(ValueError, match="who"):
        state.acknowledge("T1:POL:1", " ", T0)


def test_sensor_down_raised_after_k_periods_of_silence_and_ended_when_it_reports():
    state = AlertState(BOOK, AlertConfig(silence_factor=3.0, sensor_down_level=2))
    state.watch_sensor("pl-radar-1", 10.0, "POL", T0)
    events = []
    for k in range(0, 80):
        t = T0 + k
        seen = {"pl-radar-1": T0 + min(k, 20)}  # reports until t=20, then silent
        if k >= 70:
            seen = {"pl-radar-1": t}  # back
        events += step(state, Assessment.empty(), t, sensors_seen=seen)
    assert kinds(events) == [("raised", 2), ("ended", 0)]
    raised, ended = events
    assert raised.time == T0 + 51  # silent more than 3 x 10 s after t=20
    assert ended.time == T0 + 70
    assert raised.kind == "sensor_down" and raised.sensor == "pl-radar-1"
    assert raised.nation == "POL" and raised.track is None and raised.lat is None


def test_sensors_from_a_registry_never_heard_of_go_down_after_start():
    class S:
        def __init__(self, id, scan_period, owner):
            self.id, self.scan_period, self.owner = id, scan_period, owner

    state = AlertState(BOOK)
    state.watch_registry([S("r1", 5.0, "LTU"), S("app", None, "LTU")], now=T0)
    assert set(state.sensors) == {"r1"}
    assert step(state, Assessment.empty(), T0 + 15) == []
    (event,) = step(state, Assessment.empty(), T0 + 15.5)
    assert event.alert == "sensor:r1:1" and event.nation == "LTU"


def test_many_tracks_one_cycle():
    state = AlertState(BOOK)
    n = 5000
    rows = {f"T{i}": (i % 5) for i in range(n)}
    events = step(state, cycle(rows, T0), T0)
    assert len(events) == n - n // 5
    assert step(state, cycle(rows, T0 + 1), T0 + 1) == []
    assert all(math.isfinite(e.lat) for e in events)


def test_a_track_revived_from_a_long_coast_raises_only_once_a_second_estimate_holds():
    """The plot that ends a long coast is taken in a gate grown by the coast (with the
    cube of the time), where another target's plot or clutter fits too: a missile's
    track, after the impact, took a drone's plot 50 s later and flew on at 470 m/s,
    warning five nations. The first estimate after a coast of more than revived_gap_s
    raises no new alert; the next one (a later estimate time, not a repeat of the same
    row) does. Cycles that repeat the first estimate do not count."""
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    assert step(state, cycle({"T1": 0}, T0, status="confirmed"), T0) == []
    assert step(state, cycle({"T1": 0}, T0 + 16, status="coasting"), T0 + 16) == []
    revived = cycle({"T1": 3}, T0 + 50, status="confirmed")
    assert step(state, revived, T0 + 50) == []
    assert step(state, revived, T0 + 52) == []  # the same estimate, assessed again
    events = step(state, cycle({"T1": 3}, T0 + 60, status="confirmed"), T0 + 60)
    assert kinds(events) == [("raised", 3)]
    # A track that never coasted raises at once; so does every track with
    # revived_gap_s=inf (the rule off).
    assert kinds(step(state, cycle({"T2": 2}, T0 + 60, status="confirmed"), T0 + 60)) == [
        ("raised", 2)]
    state = AlertState(BOOK, AlertConfig(revived_gap_s=math.inf))
    step(state, cycle({"T1": 0}, T0, status="confirmed"), T0)
    step(state, cycle({"T1": 0}, T0 + 16, status="coasting"), T0 + 16)
    assert kinds(step(state, revived, T0 + 50)) == [("raised", 3)]
    with pytest.raises(ValueError):
        AlertConfig(revived_gap_s=-1.0)


def test_a_second_long_coast_starts_over():
    """A missile's track after the impact took a plot 50 s after its last, coasted again
    and took another 60 s later, flying at 440-470 m/s where nothing flew: each
    estimate came after a long coast, so neither raised."""
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    step(state, cycle({"T1": 0}, T0, status="confirmed"), T0)
    events = step(state, cycle({"T1": 0}, T0 + 16, status="coasting"), T0 + 16)
    events += step(state, cycle({"T1": 3}, T0 + 50, status="confirmed"), T0 + 50)
    events += step(state, cycle({"T1": 3}, T0 + 66, status="coasting"), T0 + 66)
    events += step(state, cycle({"T1": 3}, T0 + 110, status="confirmed"), T0 + 110)
    assert events == [] and "T1" in state._held


def test_a_short_coast_does_not_hold_a_track_back():
    """A target at the edge of cover is seen on one scan in two: its track coasts after
    each miss and its next plot comes one scan later, in a gate hardly grown. Such a
    track raises on that plot (holding it back lost the warning of drones seen by one
    radar for a minute or two before the border)."""
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60, revived_gap_s=25.0))
    step(state, cycle({"T1": 0}, T0, status="confirmed"), T0)
    step(state, cycle({"T1": 0}, T0 + 16, status="coasting"), T0 + 16)
    events = step(state, cycle({"T1": 2}, T0 + 20, status="confirmed"), T0 + 20)
    assert kinds(events) == [("raised", 2)]


def test_a_revived_track_keeps_and_escalates_its_alerts_and_is_forgotten_when_gone():
    """The rule holds back new alerts only: an alert raised before the coast escalates on
    the first estimate after it. A deleted track's coast is forgotten (its id is never
    reused, but the memory must not grow without end)."""
    state = AlertState(BOOK, AlertConfig(hold_s=30, clear_s=60))
    step(state, cycle({"T1": 1}, T0, status="confirmed"), T0)
    step(state, cycle({"T1": 1}, T0 + 16, status="coasting"), T0 + 16)
    events = step(state, cycle({"T1": 4}, T0 + 50, status="confirmed"), T0 + 50)
    assert kinds(events) == [("escalated", 4)]
    step(state, cycle({"T9": 0}, T0 + 50, status="confirmed"), T0 + 50)
    step(state, cycle({"T9": 0}, T0 + 66, status="coasting"), T0 + 66)
    assert "T9" in state._held and "T9" in state._fresh
    step(state, Assessment.empty(), T0 + 70, gone_tracks=["T9"])
    assert "T9" not in state._held and "T9" not in state._fresh
