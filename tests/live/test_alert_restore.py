"""AlertState.restore: an alert taken back after a restart behaves as if never gone."""

from __future__ import annotations

import pytest

from skywarden.warn.alerts import Acknowledgement, Alert, AlertConfig, AlertState
from skywarden.warn.input import Assessment
from skywarden.warn.rules import load_rulebook


def state() -> AlertState:
    return AlertState(load_rulebook(), AlertConfig(hold_s=30.0, clear_s=60.0))


def alert(level: int = 3, **kw) -> Alert:
    base = dict(id="T1-4:POL:2", kind="predicted_entry", nation="POL", level=level,
                raised=100.0, changed=150.0, track="T1-4", target_kind="nation",
                target_id="POL", acks=[Acknowledgement("ops", 160.0, level, "seen")])
    return Alert(**{**base, **kw})


def test_restored_alert_keeps_id_level_and_ack_and_holds_before_it_falls():
    s = state()
    s.restore(alert(), now=1000.0)
    a = s.alerts["T1-4:POL:2"]
    assert a.level == 3 and a.acknowledged
    # nothing seen for it: it keeps its level for the hold time after the restart ...
    assert s.step(Assessment.empty(), 1020.0) == []
    # ... then falls one level at a time, and ends after clear_s at level 0
    events = s.step(Assessment.empty(), 1031.0)
    assert [(e.event, e.level) for e in events] == [("deescalated", 1)]
    events = s.step(Assessment.empty(), 1061.0)
    assert [(e.alert, e.event) for e in events] == [("T1-4:POL:2", "ended")]


def test_restored_serial_is_never_reused_and_acks_carry_on():
    s = state()
    s.restore(alert(), now=1000.0)
    ev = s.acknowledge("T1-4:POL:2", "ops2", 1001.0, "again")
    assert ev.level == 3 and [k.by for k in s.alerts["T1-4:POL:2"].acks] == ["ops", "ops2"]
    s.step(Assessment.empty(), 1100.0)  # ends
    assert s._new_id("T1-4:POL") == "T1-4:POL:3"
    s.note_serial("sensor:R1:7")
    assert s._new_id("sensor:R1") == "sensor:R1:8"


def test_restore_refuses_what_cannot_be_an_alert():
    s = state()
    s.restore(alert(), now=0.0)
    with pytest.raises(ValueError, match="already active"):
        s.restore(alert(), now=0.0)
    with pytest.raises(ValueError, match="already has alert"):
        s.restore(alert(id="T1-4:POL:9"), now=0.0)
    with pytest.raises(ValueError, match="level 0"):
        s.restore(alert(level=0, id="x:1", track="T9"), now=0.0)
    with pytest.raises(ValueError, match="do not name a target"):
        s.restore(alert(id="y:1", track="T8", target_kind="moon"), now=0.0)
