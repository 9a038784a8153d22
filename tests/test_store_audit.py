"""The audit log in the store: append-only, hash-chained, tampering detected."""

import hashlib
import json
import math
import sqlite3

import pytest

from skywarden.clock import ManualClock
from skywarden.errors import RecordError
from skywarden.records import AlertEvent
from skywarden.store import AuditChainError, SqliteStore
from skywarden.store.audit import GENESIS, canonical

T0 = 1_757_450_000.0


@pytest.fixture
def db(tmp_path):
    store = SqliteStore(tmp_path / "audit.db", clock=ManualClock(T0))
    for i in range(6):
        store.audit("op.anna", "zone.viewed", f"Z{i}", {"i": i, "why": "check"}, at=T0 + i)
    yield store
    store.close()


def raw(db):
    """A plain connection to the file, as someone with file access would have."""
    con = sqlite3.connect(db.path, isolation_level=None)
    con.execute("DROP TRIGGER IF EXISTS audit_append_only")
    con.execute("DROP TRIGGER IF EXISTS audit_prune_only")
    return con


def test_entries_chain_and_verify(db):
    entries = db.audit_entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert entries[0].prev_hash == GENESIS
    for a, b in zip(entries, entries[1:], strict=False):
        assert b.prev_hash == a.hash
    # the hash is SHA-256 of the canonical JSON of the entry without its hash
    e = entries[2]
    body = {"seq": e.seq, "time": e.time, "actor": e.actor, "action": e.action,
            "subject": e.subject, "details": e.details, "prev_hash": e.prev_hash}
    assert e.hash == hashlib.sha256(canonical(body).encode()).hexdigest()
    result = db.verify_audit(expect_head=db.audit_head())
    assert (result.entries, result.first_seq, result.head) == (6, 1, entries[-1].hash)
    assert db.audit_entries(since_seq=4) == entries[4:]
    assert db.audit_entries(limit=2) == entries[:2]


def test_the_database_refuses_to_change_or_delete_entries(db):
    con = sqlite3.connect(db.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("DELETE FROM audit WHERE seq = 6")
    finally:
        con.close()


def test_an_altered_entry_is_named(db):
    con = raw(db)
    con.execute("UPDATE audit SET details = ? WHERE seq = 3", (canonical({"i": 99}),))
    con.close()
    with pytest.raises(AuditChainError, match="audit entry 3: hash does not match") as err:
        db.verify_audit()
    assert err.value.seq == 3


def test_an_altered_entry_with_a_recomputed_hash_breaks_the_next_link(db):
    con = raw(db)
    seq, time, actor, action, subject, details, prev = con.execute(
        "SELECT seq, time, actor, action, subject, details, prev_hash FROM audit "
        "WHERE seq = 3").fetchone()
    body = {"seq": seq, "time": time, "actor": "mallory", "action": action,
            "subject": subject, "details": json.loads(details), "prev_hash": prev}
    forged = hashlib.sha256(canonical(body).encode()).hexdigest()
    con.execute("UPDATE audit SET actor = 'mallory', hash = ? WHERE seq = 3", (forged,))
    con.close()
    with pytest.raises(AuditChainError, match="audit entry 4: prev_hash"):
        db.verify_audit()


def test_a_removed_entry_is_detected(db):
    con = raw(db)
    con.execute("DELETE FROM audit WHERE seq = 4")
    con.close()
    with pytest.raises(AuditChainError, match="audit entry 5: expected entry 4"):
        db.verify_audit()


def test_removing_the_newest_entries_is_caught_by_the_kept_head(db):
    head = db.audit_head()
    con = raw(db)
    con.execute("DELETE FROM audit WHERE seq = 6")
    con.close()
    assert db.verify_audit().entries == 5  # a valid shorter chain...
    with pytest.raises(AuditChainError, match="newest entries missing"):
        db.verify_audit(expect_head=head)  # ...but not the head kept elsewhere


def test_removing_the_oldest_entries_without_pruning_is_detected(db):
    con = raw(db)
    con.execute("DELETE FROM audit WHERE seq <= 2")
    con.close()
    with pytest.raises(AuditChainError, match="expected entry 1"):
        db.verify_audit()


def test_pruning_the_audit_log_keeps_a_verifiable_anchored_chain(db):
    pruned = db.prune(T0 + 100, track_history_s=None, events_s=None, audit_s=100 - 3)
    assert pruned.audit == 3  # entries at T0+0..2 are older than T0+3
    entries = db.audit_entries()
    assert [e.seq for e in entries] == [4, 5, 6, 7]
    assert entries[-1].action == "audit.pruned"
    assert entries[-1].details["first_kept"] == 4
    result = db.verify_audit()
    assert (result.entries, result.first_seq) == (4, 4)
    # an anchor moved by hand has no pruning entry to vouch for it
    con = raw(db)
    con.execute("DELETE FROM audit WHERE seq = 4")
    con.execute("UPDATE audit_anchor SET seq = 5, prev_hash = ?", (entries[1].prev_hash,))
    con.close()
    with pytest.raises(AuditChainError, match="vouches"):
        db.verify_audit()


def test_pruning_everything_old_keeps_the_pruning_entry(db):
    db.prune(T0 + 10_000, track_history_s=None, events_s=None, audit_s=1)
    entries = db.audit_entries()
    assert [e.action for e in entries] == ["audit.pruned"]
    assert db.verify_audit().first_seq == 7
    db.audit("op", "zone.viewed", "Z9")
    assert db.verify_audit().entries == 2


def test_alert_events_are_audited_with_their_actor(db):
    db.add_alert_events([
        AlertEvent(time=T0 + 10, alert="A1", event="raised", level=2, kind="incursion",
                   nation="POL"),
        AlertEvent(time=T0 + 11, alert="A1", event="acknowledged", level=2,
                   kind="incursion", nation="POL", by="duty.officer"),
    ])
    last = db.audit_entries(since_seq=6)
    assert [(e.actor, e.action, e.subject) for e in last] == [
        ("system", "alert.raised", "A1"), ("duty.officer", "alert.acknowledged", "A1")]
    assert last[0].details["level"] == 2 and last[0].details["nation"] == "POL"
    db.add_alert_events([AlertEvent(time=T0 + 12, alert="A1", event="ended", level=0,
                                    kind="incursion", nation="POL")], audit=False)
    assert len(db.audit_entries()) == 8
    db.verify_audit()


def test_details_must_be_json_and_entries_need_an_actor(db):
    entry = db.audit("op", "note", None, {"x": math.nan, "t": (1, 2)})
    assert entry.details == {"x": None, "t": [1, 2]}
    with pytest.raises(TypeError):
        db.audit("op", "note", None, {1: "x"})
    with pytest.raises(TypeError):
        db.audit("op", "note", None, {"x": object()})
    with pytest.raises(RecordError, match="actor"):
        db.audit("", "note")
    db.verify_audit()
