"""The SQLite store: WAL, round trips, whole-batch writes, clear errors, restart."""

import math
import sqlite3
import threading

import msgspec
import pytest

import skywarden.store as store_pkg
from skywarden.clock import ManualClock
from skywarden.errors import RecordError
from skywarden.records import AlertEvent, TrackUpdate
from skywarden.store import SCHEMA_VERSION, SqliteStore, StoreError

T0 = 1_757_450_000.0


def upd(t, track="T1", lat=52.0, lon=23.0, **kw):
    return TrackUpdate(time=T0 + t, track=track, lat=lat, lon=lon, **kw)


def ev(t, event, alert="A1", level=2, **kw):
    kw.setdefault("kind", "incursion")
    kw.setdefault("nation", "POL")
    return AlertEvent(time=T0 + t, alert=alert, event=event, level=level, **kw)


@pytest.fixture
def db(tmp_path):
    store = SqliteStore(tmp_path / "data" / "skywarden.db", clock=ManualClock(T0))
    yield store
    store.close()


def test_every_exported_name_exists_and_nothing_private_is_exported():
    for name in store_pkg.__all__:
        assert hasattr(store_pkg, name), name
        assert not name.startswith("_")
    assert store_pkg.__all__ == sorted(store_pkg.__all__)


def test_the_file_is_in_wal_mode_at_the_current_schema(db):
    assert db.journal_mode == "wal"
    con = sqlite3.connect(db.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == \
            SCHEMA_VERSION
    finally:
        con.close()
    assert (db.path.parent / "skywarden.db-wal").exists()


def test_track_updates_round_trip_exactly(db):
    rows = [
        upd(0.1, alt=1234.5, vel_e=10.25, vel_n=-3.0, vel_u=0.5, sigma_h=42.0,
            status="confirmed", cls="drone", identity="suspect", ids=["rid:1596F3"],
            sensors=["PL-R1", "PL-R2"], class_confidence=0.8, flags=["spoof_suspect"]),
        upd(1.7, track="T2", lat=-33.3, lon=151.2),
        upd(2.2),
    ]
    assert db.add_tracks(rows, access={"owner": "POL", "releasability": "allies"}) == 3
    # The batch's releasability comes back on each row.
    rows = [msgspec.structs.replace(r, releasability="allies") for r in rows]
    assert db.track_history("T1") == [rows[0], rows[2]]
    assert db.track_history("T1", T0 + 1, T0 + 3) == [rows[2]]
    assert db.track_history("T2") == [rows[1]]
    assert db.count_tracks() == 3
    assert db.add_tracks([]) == 0


def test_box_and_time_window_query(db):
    grid = [upd(t, track=f"T{t}", lat=50.0 + (t % 5), lon=20.0 + (t % 7)) for t in range(100)]
    db.add_tracks(grid)
    got = db.tracks_in(T0 + 10, T0 + 60, south=51.0, north=53.0, west=21.0, east=24.0)
    want = [u for u in grid if T0 + 10 <= u.time <= T0 + 60 and 51 <= u.lat <= 53
            and 21 <= u.lon <= 24]
    assert got == want and len(want) > 5
    assert [u.time for u in got] == sorted(u.time for u in got)
    limited = db.tracks_in(T0, T0 + 100, south=-90, north=90, west=-180, east=180, limit=4)
    assert limited == grid[:4]


def test_a_box_across_the_antimeridian(db):
    db.add_tracks([upd(0, "E", lon=179.5), upd(1, "W", lon=-179.5), upd(2, "M", lon=0.0)])
    got = db.tracks_in(T0, T0 + 10, south=0, north=90, west=179.0, east=-179.0)
    assert [u.track for u in got] == ["E", "W"]


def test_a_mapping_is_converted_and_a_missing_field_is_named(db):
    db.add_tracks([{"time": T0, "track": "T9", "lat": 1.0, "lon": 2.0, "class": "bird"}])
    assert db.track_history("T9")[0].cls == "bird"
    with pytest.raises(RecordError, match=r"track update 1: .*`lat`"):
        db.add_tracks([{"time": T0, "track": "T8", "lat": 1.0, "lon": 2.0},
                       {"time": T0, "track": "T8", "lon": 2.0}])
    assert db.track_history("T8") == []
    with pytest.raises(RecordError, match="track update 0: a TrackUpdate or a mapping"):
        db.add_tracks([("not", "a", "record")])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (upd(5, lat=None), r"track update 2: field lat: missing"),
        (upd(5, lat=math.nan), r"track update 2: field lat: missing"),
        (upd(5, lat=95.0), r"track update 2: field lat: 95.0 refused"),
        (upd(5, lon="east"), r"track update 2: field lon: 'east' refused"),
        (upd(5, track=None), r"track update 2: field track: missing"),
        (upd(5, status=None), r"track update 2: field status: missing"),
        (upd(5, sigma_h=[1]), r"track update 2: field sigma_h"),
    ],
)
def test_a_bad_record_fails_its_whole_batch_and_names_the_field(db, bad, message):
    db.add_tracks([upd(0)])
    with pytest.raises(RecordError, match=message) as err:
        db.add_tracks([upd(1), upd(2), bad, upd(3)])
    assert "nothing of the batch was written" in str(err.value)
    assert db.count_tracks() == 1  # the two good rows before it were rolled back
    db.add_tracks([upd(4)])  # and the store still writes
    assert db.count_tracks() == 2


def test_alert_state_follows_its_events(db):
    db.add_alert_events([ev(0, "raised", level=1, track="T1", lat=52.0, lon=23.0),
                         ev(5, "escalated", level=3, track="T1")])
    db.add_alert_events([ev(6, "acknowledged", level=3, by="duty.officer", note="seen"),
                         ev(9, "deescalated", level=2)])
    db.add_alert_events([ev(1, "raised", alert="A2", nation="LTU", zone="EY-R1")])
    (a1, a2) = db.open_alerts()
    assert (a1.alert, a1.level, a1.raised, a1.changed, a1.track) == ("A1", 2, T0, T0 + 9, "T1")
    assert a1.open and a1.acknowledged  # the level-3 acknowledgement covers level 2
    assert [(k.by, k.level, k.note) for k in a1.acks] == [("duty.officer", 3, "seen")]
    assert a1.last == ev(9, "deescalated", level=2)
    assert a2.zone == "EY-R1" and not a2.acknowledged
    assert [a.alert for a in db.open_alerts("LTU")] == ["A2"]
    db.add_alert_events([ev(20, "ended", level=0)])
    assert [a.alert for a in db.open_alerts()] == ["A2"]
    ended = db.alert("A1")
    assert ended is not None and ended.ended == T0 + 20 and not ended.open
    assert [e.event for e in db.alert_events("A1")] == [
        "raised", "escalated", "acknowledged", "deescalated", "ended"]
    # Recent alerts include the ended one; the limit keeps the most recently changed.
    assert [a.alert for a in db.recent_alerts()] == ["A1", "A2"]
    assert [a.alert for a in db.recent_alerts(limit=1)] == ["A1"]
    assert [a.alert for a in db.recent_alerts("LTU")] == ["A2"]
    assert db.recent_alerts("LVA") == []
    assert len(db.alert_events()) == 6
    assert db.alert("nope") is None


def test_a_marked_track_row_keeps_its_releasability(db):
    db.add_tracks([upd(0, releasability="POL"), upd(1, track="T2")])
    assert db.track_history("T1")[0].releasability == "POL"
    assert db.track_history("T2")[0].releasability is None
    # A batch's access overrides the rows' own marks.
    db.add_tracks([upd(2, track="T3", releasability="POL")], access={"releasability": "public"})
    assert db.track_history("T3")[0].releasability == "public"


def test_a_bad_alert_event_fails_its_batch_and_names_the_field(db):
    good = ev(0, "raised")
    with pytest.raises(RecordError, match=r"alert event 1: .*`nation`"):
        db.add_alert_events([good, {"time": T0, "alert": "A3", "event": "raised",
                                    "level": 1, "kind": "incursion"}])
    with pytest.raises(RecordError, match="alert event 0: .*level"):
        db.add_alert_events([ev(0, "raised", level=9)])
    with pytest.raises(RecordError, match="field by"):
        db.add_alert_events([ev(1, "acknowledged")])
    assert db.open_alerts() == [] and db.alert_events() == [] and db.audit_entries() == []


def test_restrictions_are_made_listed_and_ended(db):
    body = {"type": "Feature", "id": "TR-0001", "properties": {"floor_m": 0},
            "geometry": {"type": "Point", "coordinates": [23.0, 52.0]}}
    made = db.add_restriction("TR-0001", body, by="ops.pl")
    assert made.body == body and made.created == T0 and made.active
    db.add_restriction("TR-0002", {"type": "Feature"}, by="ops.pl", at=T0 + 5)
    with pytest.raises(StoreError, match="exists"):
        db.add_restriction("TR-0001", body, by="ops.pl")
    ended = db.end_restriction("TR-0002", by="ops.pl", at=T0 + 60)
    assert ended.ended == T0 + 60 and ended.ended_by == "ops.pl" and not ended.active
    with pytest.raises(StoreError, match="no restriction 'TR-0002' in force"):
        db.end_restriction("TR-0002", by="ops.pl")
    assert [r.zone for r in db.restrictions()] == ["TR-0001"]
    assert [r.zone for r in db.restrictions(active_only=False)] == ["TR-0001", "TR-0002"]


def test_a_restarted_store_has_its_alerts_acknowledgements_and_restrictions(tmp_path):
    path = tmp_path / "skywarden.db"
    first = SqliteStore(path, clock=ManualClock(T0))
    first.add_tracks([upd(0), upd(1)])
    first.add_alert_events([
        ev(0, "raised", level=2, track="T1"),
        ev(3, "acknowledged", level=2, by="op", note="drone over Lublin"),
        ev(1, "raised", alert="A2"),
        ev(2, "ended", alert="A2", level=0),
    ])
    first.add_restriction("TR-0001", {"type": "Feature", "id": "TR-0001"}, by="op")
    first.add_restriction("TR-0002", {"type": "Feature", "id": "TR-0002"}, by="op")
    first.end_restriction("TR-0002", by="op", at=T0 + 10)
    before = (first.open_alerts(), first.acknowledgements(), first.restrictions(),
              first.audit_head())
    first.close()
    with pytest.raises(StoreError, match="closed"):
        first.open_alerts()

    again = SqliteStore(path, clock=ManualClock(T0 + 3600))
    try:
        alerts = again.open_alerts()
        assert (alerts, again.acknowledgements(), again.restrictions(),
                again.audit_head()) == before
        assert [a.alert for a in alerts] == ["A1"] and alerts[0].acknowledged
        assert alerts[0].acks[0].note == "drone over Lublin"
        assert [r.zone for r in again.restrictions()] == ["TR-0001"]
        assert again.count_tracks() == 2
        assert again.verify_audit().entries == 7
    finally:
        again.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "x.db"
    SqliteStore(path).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer than this Skywarden knows"):
        SqliteStore(path)


def test_files_that_cannot_be_a_store_are_refused(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        SqliteStore(junk)
    with pytest.raises(StoreError, match="needs a file"):
        SqliteStore(":memory:")


def test_writes_from_several_threads_all_land(db):
    def writer(k):
        for b in range(20):
            db.add_tracks([upd(b + i / 100, track=f"W{k}") for i in range(25)])
            db.tracks_in(T0, T0 + 100, south=-90, north=90, west=-180, east=180, limit=10)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.count_tracks() == 4 * 20 * 25
    assert len(db.track_history("W3")) == 500


def test_restrictions_version_moves_with_every_make_and_end(db):
    body = {"type": "Feature", "id": "TR-0009", "properties": {},
            "geometry": {"type": "Point", "coordinates": [23.0, 52.0]}}
    v0 = db.restrictions_version()
    db.add_restriction("TR-0009", body, by="ops")
    v1 = db.restrictions_version()
    db.end_restriction("TR-0009", by="ops")
    v2 = db.restrictions_version()
    assert len({v0, v1, v2}) == 3
    assert db.restrictions_version() == v2  # and stays put while nothing changes


def test_alert_ids_by_kind_include_ended_alerts(db):
    db.add_alert_events([ev(0, "raised", alert="S1", kind="sensor_down"),
                         ev(1, "raised", alert="A1")])
    db.add_alert_events([ev(2, "ended", alert="S1", kind="sensor_down", level=0)])
    assert db.alert_ids("sensor_down") == ["S1"]
    assert sorted(db.alert_ids()) == ["A1", "S1"]


def test_a_data_directory_that_is_a_file_is_named_and_left_alone(tmp_path):
    data = tmp_path / "data"
    data.write_text("a file")
    with pytest.raises(StoreError, match="a file, not a folder"):
        SqliteStore(data / "skywarden.db")
    assert data.read_text() == "a file"
