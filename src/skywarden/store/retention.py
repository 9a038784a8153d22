"""Retention: the deletions behind :meth:`SqliteStore.prune`, each inside a write
transaction the caller holds (one batch per call, so writers are never held up long)."""

from __future__ import annotations

import sqlite3

from .audit import PRUNED, Chain


def prune_track_history(con: sqlite3.Connection, before: float, batch: int) -> int:
    """Delete up to ``batch`` track history rows older than ``before``; returns how many."""
    return con.execute(
        "DELETE FROM track_history WHERE rowid IN "
        "(SELECT rowid FROM track_history WHERE time < ? LIMIT ?)", (before, batch),
    ).rowcount


def prune_ended_alerts(
    con: sqlite3.Connection, now: float, before: float, batch: int
) -> tuple[int, int, int] | None:
    """Delete up to ``batch`` alerts ended before ``before`` with their events and
    acknowledgements, and audit it; returns (alerts, events, acks), None when none left.
    Open alerts are never touched, however old."""
    ids = [r[0] for r in con.execute(
        "SELECT alert FROM alerts WHERE ended IS NOT NULL AND ended < ? LIMIT ?",
        (before, batch))]
    if not ids:
        return None
    marks = ", ".join("?" * len(ids))
    events = con.execute(f"DELETE FROM alert_events WHERE alert IN ({marks})", ids).rowcount
    acks = con.execute(f"DELETE FROM acknowledgements WHERE alert IN ({marks})", ids).rowcount
    alerts = con.execute(f"DELETE FROM alerts WHERE alert IN ({marks})", ids).rowcount
    Chain(con).append(now, "system", "alerts.pruned", None, {
        "ended_before": before, "alerts": alerts, "alert_events": events,
        "acknowledgements": acks,
    })
    return alerts, events, acks


def prune_audit(con: sqlite3.Connection, now: float, before: float) -> int:
    """Delete audit entries older than ``before``; returns how many.

    First appends an ``audit.pruned`` entry naming the first entry kept and the hash it
    chains to, and records the same pair as the anchor (the delete trigger refuses any
    entry at or after the anchor), so :func:`.audit.check_chain` can start there.
    """
    chain = Chain(con)
    first = con.execute("SELECT MIN(seq) FROM audit").fetchone()[0]
    row = con.execute("SELECT MIN(seq) FROM audit WHERE time >= ?", (before,)).fetchone()
    keep = int(row[0]) if row[0] is not None else chain.seq + 1
    if first is None or keep <= first:
        return 0
    if keep <= chain.seq:
        prev = con.execute("SELECT prev_hash FROM audit WHERE seq = ?", (keep,)).fetchone()[0]
    else:  # everything is old: the pruning entry itself is the first kept
        prev = chain.head
    chain.append(now, "system", PRUNED, None,
                 {"first_kept": keep, "anchor": prev, "older_than": before})
    con.execute(
        "INSERT INTO audit_anchor (id, seq, prev_hash) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, prev_hash = excluded.prev_hash",
        (keep, prev),
    )
    return con.execute("DELETE FROM audit WHERE seq < ?", (keep,)).rowcount
