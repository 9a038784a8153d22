"""Retention removes old positions and ended alerts only; open alerts and the audit log stay."""

import pytest

from skywarden.clock import ManualClock
from skywarden.records import AlertEvent, TrackUpdate
from skywarden.store import SqliteStore

T0 = 1_757_450_000.0


def ev(t, alert, event, level=2):
    return AlertEvent(time=T0 + t, alert=alert, event=event, level=level, kind="incursion",
                      nation="POL", by="op" if event == "acknowledged" else None)


@pytest.fixture
def db(tmp_path):
    store = SqliteStore(tmp_path / "r.db", clock=ManualClock(T0 + 100))
    store.add_tracks([TrackUpdate(time=T0 + t, track=f"T{t % 3}", lat=52.0, lon=23.0)
                      for t in range(100)])
    store.add_alert_events([
        ev(0, "OLD-OPEN", "raised"),  # raised long ago, still open
        ev(1, "OLD-OPEN", "acknowledged"),
        ev(2, "OLD-ENDED", "raised"),
        ev(3, "OLD-ENDED", "acknowledged"),
        ev(10, "OLD-ENDED", "ended", 0),
        ev(20, "NEW-ENDED", "raised"),
        ev(90, "NEW-ENDED", "ended", 0),
    ])
    yield store
    store.close()


def test_track_history_older_than_its_retention_goes_in_batches(db):
    pruned = db.prune(track_history_s=50, events_s=None, batch=7)  # now = T0 + 100
    assert pruned.track_history == 50
    left = db.tracks_in(0, T0 + 1000, south=-90, north=90, west=-180, east=180)
    assert len(left) == 50 and min(u.time for u in left) == T0 + 50
    assert db.prune(track_history_s=50, events_s=None).track_history == 0


def test_only_alerts_ended_before_the_cutoff_go_with_their_events(db):
    audit_before = len(db.audit_entries())
    pruned = db.prune(T0 + 100, track_history_s=None, events_s=50)
    assert (pruned.alerts, pruned.alert_events, pruned.acknowledgements) == (1, 3, 1)
    assert pruned.track_history == 0 and pruned.audit == 0
    assert db.alert("OLD-ENDED") is None and db.alert_events("OLD-ENDED") == []
    still_open = db.alert("OLD-OPEN")
    assert still_open is not None and still_open.open and len(still_open.acks) == 1
    assert len(db.alert_events("OLD-OPEN")) == 2  # an open alert keeps all its history
    assert db.alert("NEW-ENDED") is not None
    assert db.count_tracks() == 100
    # the audit log is never pruned unless asked; the removal itself is audited
    entries = db.audit_entries()
    assert len(entries) == audit_before + 1 and entries[0].seq == 1
    assert entries[-1].action == "alerts.pruned" and entries[-1].details["alerts"] == 1
    db.verify_audit()


def test_nothing_is_pruned_when_retention_is_none(db):
    pruned = db.prune(T0 + 10**6, track_history_s=None, events_s=None, audit_s=None)
    assert pruned.track_history == pruned.alerts == pruned.audit == 0
    assert db.count_tracks() == 100 and len(db.alert_events()) == 7


def test_default_retention_keeps_a_week_of_history_and_a_year_of_ended_alerts(db):
    day = 86400.0
    assert db.prune(T0 + 6 * day).track_history == 0
    assert db.prune(T0 + 8 * day).track_history == 100
    assert db.prune(T0 + 300 * day).alerts == 0
    assert db.prune(T0 + 366 * day).alerts == 2
    assert [a.alert for a in db.open_alerts()] == ["OLD-OPEN"]
    with pytest.raises(ValueError):
        db.prune(batch=0)
