"""The database schema as a list of migrations, applied in order, each in a transaction.

Migration ``i`` (counting from 1) brings the schema to version ``i``; ``schema_version``
holds one row per applied version. A database whose version is newer than this code
knows is refused rather than guessed at. A new migration is appended to
:data:`MIGRATIONS`; an applied one is never edited.

Tables are STRICT (a REAL column refuses text), so a wrong type fails its batch instead
of being stored. JSON columns hold compact JSON text.
"""

from __future__ import annotations

import sqlite3

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "version"]

_V1 = """
CREATE TABLE track_history (
    time REAL NOT NULL,
    track TEXT NOT NULL,
    lat REAL NOT NULL CONSTRAINT lat CHECK (lat BETWEEN -90 AND 90),
    lon REAL NOT NULL CONSTRAINT lon CHECK (lon BETWEEN -180 AND 360),
    alt REAL,
    vel_e REAL NOT NULL,
    vel_n REAL NOT NULL,
    vel_u REAL NOT NULL,
    sigma_h REAL,
    status TEXT NOT NULL,
    class TEXT NOT NULL,
    identity TEXT NOT NULL,
    class_confidence REAL,
    ids TEXT,                -- JSON array; NULL when empty
    sensors TEXT,            -- JSON array; NULL when empty
    flags TEXT,              -- JSON array; NULL when empty
    access TEXT              -- JSON object (owner, releasability); NULL when none
) STRICT;
-- (time, lat, lon): a time window is one index range, and the box is tested on the
-- index entries before any row is read.
CREATE INDEX track_history_time ON track_history (time, lat, lon);
CREATE INDEX track_history_track ON track_history (track, time);

CREATE TABLE alerts (        -- the current state of every alert
    alert TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    nation TEXT NOT NULL,
    level INTEGER NOT NULL,
    track TEXT,
    zone TEXT,
    raised REAL NOT NULL,
    changed REAL NOT NULL,
    ended REAL,              -- NULL while open
    last TEXT NOT NULL       -- the newest AlertEvent, JSON
) STRICT;
CREATE INDEX alerts_open ON alerts (nation) WHERE ended IS NULL;
CREATE INDEX alerts_ended ON alerts (ended) WHERE ended IS NOT NULL;

CREATE TABLE alert_events (  -- every AlertEvent, as the formats.md line
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    alert TEXT NOT NULL,
    event TEXT NOT NULL,
    level INTEGER NOT NULL,
    body TEXT NOT NULL
) STRICT;
CREATE INDEX alert_events_alert ON alert_events (alert, id);
CREATE INDEX alert_events_time ON alert_events (time);

CREATE TABLE acknowledgements (
    id INTEGER PRIMARY KEY,
    alert TEXT NOT NULL,
    actor TEXT NOT NULL,
    time REAL NOT NULL,
    level INTEGER NOT NULL,
    note TEXT
) STRICT;
CREATE INDEX acknowledgements_alert ON acknowledgements (alert, id);

CREATE TABLE restrictions (
    zone TEXT PRIMARY KEY,
    body TEXT NOT NULL,      -- JSON object (the zone as a GeoJSON Feature)
    created REAL NOT NULL,
    created_by TEXT NOT NULL,
    ended REAL,
    ended_by TEXT
) STRICT;

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    details TEXT NOT NULL,   -- canonical JSON object
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_time ON audit (time);
-- The first entry kept once old entries were pruned, and the hash it chains to.
CREATE TABLE audit_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_prune_only BEFORE DELETE ON audit
WHEN old.seq >= COALESCE((SELECT seq FROM audit_anchor WHERE id = 1), 1)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (only pruning removes entries)');
END;

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    nation TEXT,
    roles TEXT NOT NULL,     -- JSON array
    created REAL NOT NULL
) STRICT;

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,     -- the public part of the token; names it in logs
    organisation TEXT NOT NULL REFERENCES organisations (id),
    hash TEXT NOT NULL,      -- scheme$parameters$salt$digest: never the token itself
    roles TEXT NOT NULL,     -- JSON array
    created REAL NOT NULL,
    expires REAL,
    revoked REAL
) STRICT;
"""

MIGRATIONS: tuple[str, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


def version(con: sqlite3.Connection) -> int:
    """The schema version of an open database (0: empty)."""
    has = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not has:
        return 0
    row = con.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(con: sqlite3.Connection, now: float) -> tuple[int, int]:
    """Apply the missing migrations on ``con`` (autocommit mode); returns (from, to).

    Raises ``ValueError`` for a database newer than this code. Each migration and its
    version row commit together, so a failure leaves the previous version intact.
    """
    con.execute("BEGIN IMMEDIATE")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied REAL NOT NULL) STRICT"
        )
        start = version(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if start > SCHEMA_VERSION:
        raise ValueError(
            f"schema version {start} is newer than this Skywarden knows ({SCHEMA_VERSION})"
        )
    for number in range(start + 1, SCHEMA_VERSION + 1):
        # executescript commits anything pending, then runs the text as it is: the BEGIN
        # in the text opens the transaction that the version row then closes.
        try:
            con.executescript("BEGIN IMMEDIATE;\n" + MIGRATIONS[number - 1])
            con.execute(
                "INSERT INTO schema_version (version, applied) VALUES (?, ?)", (number, now)
            )
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    return start, SCHEMA_VERSION
