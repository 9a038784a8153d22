"""The SQLite store: one file in WAL mode, one writer, readers beside it.

Connections and threads
-----------------------
- **One writer connection.** Every write takes the store's write lock and runs as one
  ``BEGIN IMMEDIATE ... COMMIT`` transaction, so a batch is written whole or not at all,
  and writes from several threads queue one behind the other (SQLite writes one
  transaction at a time in any case). Only one process should write a data directory.
- **Readers**: one connection per reading thread (read-only), made on first use. In WAL
  mode they read the last committed state and never wait for the writer.
- **Durability**: track history commits with ``synchronous=NORMAL`` (a power cut may lose
  the newest batches; the file stays sound). Alerts, acknowledgements, restrictions, the
  audit log and tokens commit with ``synchronous=FULL``: once a call returns, the entry
  is on disk.

Alert events, restrictions, organisations and tokens write their audit entries in the
same transaction, so the audit log and the tables cannot disagree.

Retention (:meth:`SqliteStore.prune`) deletes old track history in batches, one short
transaction each, so writers are not held up; freed pages are reused by later inserts
(run ``VACUUM`` offline to shrink the file).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from ..clock import Clock, WallClock
from ..errors import RecordError
from ..records import AlertEvent, TrackUpdate
from . import retention, tokens
from .audit import GENESIS, Chain, canonical, check_chain, clean
from .base import (
    Acknowledgement,
    AuditEntry,
    AuditVerified,
    IssuedToken,
    Organisation,
    Pruned,
    StoredAlert,
    StoredRestriction,
    TokenGrant,
)
from .errors import AuditChainError, StoreError
from .rows import (
    INSERT_TRACK,
    SELECT_TRACK,
    access_json,
    as_track,
    bad_track_row,
    check_event,
    is_constraint,
    track_from_row,
    track_row,
)
from .schema import migrate

__all__ = ["DAY", "SqliteStore"]

DAY = 86400.0

_UPSERT_ALERT = """
INSERT INTO alerts (alert, kind, nation, level, track, zone, raised, changed, ended, last)
VALUES (:alert, :kind, :nation, :level, :track, :zone, :time, :time, :ended, :last)
ON CONFLICT (alert) DO UPDATE SET
    kind = excluded.kind, nation = excluded.nation, level = excluded.level,
    track = COALESCE(excluded.track, alerts.track),
    zone = COALESCE(excluded.zone, alerts.zone),
    raised = CASE WHEN :event = 'raised' AND alerts.ended IS NOT NULL
                  THEN excluded.raised ELSE alerts.raised END,
    changed = excluded.changed, ended = excluded.ended, last = excluded.last
"""
_ALERT_COLUMNS = "alert, kind, nation, level, raised, changed, last, track, zone, ended"
_event_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(AlertEvent)


class SqliteStore:
    """The store in one SQLite file (see the module docstring). ``path`` is the file;
    its folder is made if needed. ``clock`` gives the default time of writes."""

    def __init__(
        self, path: str | Path, *, clock: Clock | None = None, timeout: float = 10.0
    ) -> None:
        if str(path) == ":memory:" or str(path).startswith("file::memory:"):
            raise StoreError(str(path), "the store needs a file (WAL readers share it)")
        self.path = Path(path)
        self.clock: Clock = clock or WallClock()
        self._timeout = timeout
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._closed = False
        self._sync = ""
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise StoreError(str(self.path.parent), "a file, not a folder (the data directory "
                             "the store is kept in)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(str(self.path), f"cannot open: {exc}") from exc
        try:
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(str(self.path), f"WAL mode refused (journal_mode {mode})")
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA journal_size_limit = 67108864")
            # 64 MiB of page cache keeps the hot index pages of a large history in memory.
            con.execute("PRAGMA cache_size = -65536")
            self._set_sync(con, durable=False)
            migrate(con, self.clock.now())
        except ValueError as exc:
            con.close()
            raise StoreError(str(self.path), str(exc)) from exc
        except sqlite3.Error as exc:
            con.close()
            raise StoreError(str(self.path), f"cannot use the database: {exc}") from exc
        except BaseException:
            con.close()
            raise
        self._writer = con

    # -- connections -----------------------------------------------------------------------

    def _set_sync(self, con: sqlite3.Connection, *, durable: bool) -> None:
        want = "FULL" if durable else "NORMAL"
        if self._sync != want:
            con.execute(f"PRAGMA synchronous = {want}")  # one of two constants
            self._sync = want

    @contextmanager
    def _write(self, *, durable: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StoreError(str(self.path), "the store is closed")
            con = self._writer
            self._set_sync(con, durable=durable)
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(str(self.path), f"cannot start a write: {exc}") from exc
            try:
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(str(self.path), f"write failed: {exc}") from exc
                raise

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(str(self.path), "the store is closed")
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None,
                check_same_thread=False,
            )
            con.execute("PRAGMA query_only = ON")
            con.execute("PRAGMA cache_size = -16384")
            with self._lock:
                if self._closed:
                    con.close()
                    raise StoreError(str(self.path), "the store is closed")
                self._readers.append(con)
            self._local.con = con
        return con

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several queries see one committed state."""
        con = self._reader()
        con.execute("BEGIN")
        try:
            yield con
        finally:
            con.execute("COMMIT")

    def _now(self, at: float | None) -> float:
        return float(self.clock.now() if at is None else at)

    @property
    def journal_mode(self) -> str:
        return str(self._reader().execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for con in self._readers:
                con.close()
            self._readers.clear()
            self._writer.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- track history ---------------------------------------------------------------------

    def add_tracks(
        self, updates: Iterable[TrackUpdate | Mapping[str, Any]], *,
        access: Mapping[str, Any] | None = None,
    ) -> int:
        """Append track updates in one transaction; returns how many. A bad update is a
        :class:`~skywarden.errors.RecordError` naming it and its field, and nothing of
        the batch is written. ``access`` (owner, releasability) applies to all rows."""
        extra = access_json(access)
        rows = [track_row(as_track(u, i), extra) for i, u in enumerate(updates)]
        if not rows:
            return 0
        with self._write(durable=False) as con:
            before = con.total_changes
            try:
                con.executemany(INSERT_TRACK, rows)
            except (sqlite3.Error, OverflowError) as exc:
                if not is_constraint(exc):
                    raise
                index = con.total_changes - before  # rows written before the bad one
                row = rows[index] if index < len(rows) else None
                raise bad_track_row(exc, index, row) from exc
        return len(rows)

    def tracks_in(
        self, t0: float, t1: float, *, south: float, west: float, north: float,
        east: float, limit: int | None = None,
    ) -> list[TrackUpdate]:
        """Updates with ``t0 <= time <= t1`` inside the box, in time order. A box with
        ``west > east`` crosses the 180th meridian."""
        lon = "lon BETWEEN ? AND ?" if west <= east else "(lon >= ? OR lon <= ?)"
        sql = (
            f"{SELECT_TRACK} WHERE time BETWEEN ? AND ? AND lat BETWEEN ? AND ? AND {lon}"
            " ORDER BY time LIMIT ?"
        )
        params = (t0, t1, south, north, west, east, -1 if limit is None else limit)
        rows = self._reader().execute(sql, params).fetchall()
        return [track_from_row(r) for r in rows]

    def track_history(
        self, track: str, t0: float | None = None, t1: float | None = None
    ) -> list[TrackUpdate]:
        """All stored updates of one track (optionally within [t0, t1]), in time order."""
        sql = f"{SELECT_TRACK} WHERE track = ? AND time BETWEEN ? AND ? ORDER BY time"
        lo = float("-inf") if t0 is None else t0
        hi = float("inf") if t1 is None else t1
        return [track_from_row(r) for r in self._reader().execute(sql, (track, lo, hi))]

    def count_tracks(self) -> int:
        return int(self._reader().execute("SELECT COUNT(*) FROM track_history").fetchone()[0])

    # -- alerts ----------------------------------------------------------------------------

    def add_alert_events(
        self, events: Iterable[AlertEvent | Mapping[str, Any]], *, audit: bool = True
    ) -> int:
        """Record alert events in order, in one transaction: each is kept as its line,
        updates its alert's current state, adds an acknowledgement for 'acknowledged',
        and (``audit``) appends an audit entry ``alert.<event>`` whose actor is the
        event's ``by`` or 'system'. A bad event fails the whole batch, named."""
        checked = [check_event(e, i) for i, e in enumerate(events)]
        if not checked:
            return 0
        with self._write(durable=True) as con:
            chain = Chain(con) if audit else None
            for ev in checked:
                body = _event_encoder.encode(ev).decode()
                con.execute(
                    "INSERT INTO alert_events (time, alert, event, level, body) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (ev.time, ev.alert, ev.event, ev.level, body),
                )
                con.execute(_UPSERT_ALERT, {
                    "alert": ev.alert, "kind": ev.kind, "nation": ev.nation,
                    "level": ev.level, "track": ev.track, "zone": ev.zone,
                    "time": ev.time, "ended": ev.time if ev.event == "ended" else None,
                    "last": body, "event": ev.event,
                })
                if ev.event == "acknowledged":
                    con.execute(
                        "INSERT INTO acknowledgements (alert, actor, time, level, note) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (ev.alert, ev.by, ev.time, ev.level, ev.note),
                    )
                if chain is not None:
                    details = msgspec.to_builtins(ev)
                    for key in ("time", "alert", "event"):
                        details.pop(key, None)
                    chain.append(ev.time, ev.by or "system", f"alert.{ev.event}", ev.alert,
                                 details)
        return len(checked)

    def _alerts(self, con: sqlite3.Connection, where: str, params: Sequence[Any]
                ) -> list[StoredAlert]:
        rows = con.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE {where} ORDER BY raised, alert",
            params,
        ).fetchall()
        acks: dict[str, list[Acknowledgement]] = {}
        if rows:
            ids = [r[0] for r in rows]
            marks = ", ".join("?" * len(ids)) if len(ids) <= 500 else None
            ack_sql = "SELECT alert, actor, time, level, note FROM acknowledgements"
            if marks:
                ack_sql += f" WHERE alert IN ({marks})"
            wanted = set(ids)
            for a in con.execute(ack_sql + " ORDER BY id", ids if marks else ()):
                if a[0] in wanted:
                    acks.setdefault(a[0], []).append(Acknowledgement(*a))
        return [
            StoredAlert(
                alert=r[0], kind=r[1], nation=r[2], level=r[3], raised=r[4], changed=r[5],
                last=_event_decoder.decode(r[6]), track=r[7], zone=r[8], ended=r[9],
                acks=acks.get(r[0], []),
            )
            for r in rows
        ]

    def open_alerts(self, nation: str | None = None) -> list[StoredAlert]:
        """Alerts not ended (of one nation, or all), oldest first, with their acks."""
        with self._snapshot() as con:
            if nation is None:
                return self._alerts(con, "ended IS NULL", ())
            return self._alerts(con, "ended IS NULL AND nation = ?", (nation,))

    def alert_ids(self, kind: str | None = None) -> list[str]:
        """Ids of every stored alert (of one kind, or all), ended ones included."""
        con = self._reader()
        if kind is None:
            return [r[0] for r in con.execute("SELECT alert FROM alerts")]
        return [r[0] for r in con.execute("SELECT alert FROM alerts WHERE kind = ?", (kind,))]

    def recent_alerts(self, nation: str | None = None, limit: int = 1000) -> list[StoredAlert]:
        """Alerts open and ended (of one nation, or all), the ``limit`` most recently
        changed, oldest raised first, with their acks."""
        newest = "SELECT alert FROM alerts{} ORDER BY changed DESC, alert LIMIT ?"
        with self._snapshot() as con:
            if nation is None:
                return self._alerts(con, f"alert IN ({newest.format('')})", (limit,))
            return self._alerts(con, f"alert IN ({newest.format(' WHERE nation = ?')})",
                                (nation, limit))

    def alert(self, alert_id: str) -> StoredAlert | None:
        with self._snapshot() as con:
            found = self._alerts(con, "alert = ?", (alert_id,))
        return found[0] if found else None

    def alert_events(self, alert_id: str | None = None) -> list[AlertEvent]:
        """Stored events, of one alert or all, in the order recorded."""
        con = self._reader()
        if alert_id is None:
            rows = con.execute("SELECT body FROM alert_events ORDER BY id")
        else:
            rows = con.execute(
                "SELECT body FROM alert_events WHERE alert = ? ORDER BY id", (alert_id,)
            )
        return [_event_decoder.decode(r[0]) for r in rows]

    def acknowledgements(self, alert_id: str | None = None) -> list[Acknowledgement]:
        sql = "SELECT alert, actor, time, level, note FROM acknowledgements"
        con = self._reader()
        if alert_id is None:
            rows = con.execute(sql + " ORDER BY id")
        else:
            rows = con.execute(sql + " WHERE alert = ? ORDER BY id", (alert_id,))
        return [Acknowledgement(*r) for r in rows]

    # -- restrictions ----------------------------------------------------------------------

    def add_restriction(
        self, zone: str, body: Mapping[str, Any], *, by: str, at: float | None = None
    ) -> StoredRestriction:
        """Record a restriction (its body: the zone as a GeoJSON Feature); audited."""
        if not zone or not by:
            raise RecordError("a restriction needs a zone id and who made it (by)")
        if not isinstance(body, Mapping):
            raise RecordError(f"restriction {zone!r}: body is a mapping, not "
                              f"{type(body).__name__}")
        now, clean_body = self._now(at), clean(dict(body))
        with self._write(durable=True) as con:
            if con.execute("SELECT 1 FROM restrictions WHERE zone = ?", (zone,)).fetchone():
                raise StoreError(str(self.path), f"restriction {zone!r} exists (end it, or "
                                 "pick another id)")
            con.execute(
                "INSERT INTO restrictions (zone, body, created, created_by) VALUES (?, ?, ?, ?)",
                (zone, canonical(clean_body), now, by),
            )
            Chain(con).append(now, by, "restriction.made", zone, {"body": clean_body})
        return StoredRestriction(zone, clean_body, now, by)

    def end_restriction(
        self, zone: str, *, by: str, at: float | None = None
    ) -> StoredRestriction:
        """End a restriction in force; audited."""
        if not by:
            raise RecordError(f"restriction {zone!r}: ending it needs who (by)")
        now = self._now(at)
        with self._write(durable=True) as con:
            cur = con.execute(
                "UPDATE restrictions SET ended = ?, ended_by = ? "
                "WHERE zone = ? AND ended IS NULL", (now, by, zone),
            )
            if cur.rowcount != 1:
                raise StoreError(str(self.path), f"no restriction {zone!r} in force")
            Chain(con).append(now, by, "restriction.ended", zone, {})
            row = con.execute(
                "SELECT zone, body, created, created_by, ended, ended_by FROM restrictions "
                "WHERE zone = ?", (zone,),
            ).fetchone()
        return _restriction(row)

    def restrictions_version(self) -> tuple[int, int, float, float]:
        """A value that changes whenever a restriction is made, ended or pruned, by any
        process sharing this file (one cheap query): a running service polls it to take
        up restrictions made by the command line."""
        row = self._reader().execute(
            "SELECT COUNT(*), COUNT(ended), TOTAL(created), TOTAL(ended) FROM restrictions"
        ).fetchone()
        return int(row[0]), int(row[1]), float(row[2]), float(row[3])

    def restrictions(self, *, active_only: bool = True) -> list[StoredRestriction]:
        """Restrictions in force (not ended), or all, in the order made."""
        sql = "SELECT zone, body, created, created_by, ended, ended_by FROM restrictions"
        if active_only:
            sql += " WHERE ended IS NULL"
        return [_restriction(r) for r in self._reader().execute(sql + " ORDER BY created")]

    # -- audit -----------------------------------------------------------------------------

    def audit(
        self, actor: str, action: str, subject: str | None = None,
        details: Mapping[str, Any] | None = None, *, at: float | None = None,
    ) -> AuditEntry:
        """Append one audit entry (on disk when this returns)."""
        with self._write(durable=True) as con:
            return Chain(con).append(self._now(at), actor, action, subject, details)

    def audit_entries(self, since_seq: int = 0, limit: int | None = None) -> list[AuditEntry]:
        """Entries with ``seq > since_seq``, oldest first."""
        rows = self._reader().execute(
            "SELECT seq, time, actor, action, subject, details, prev_hash, hash FROM audit "
            "WHERE seq > ? ORDER BY seq LIMIT ?", (since_seq, -1 if limit is None else limit),
        )
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7])
                for r in rows]

    def audit_head(self) -> str:
        """The newest entry's hash (64 zeros for an empty log)."""
        row = self._reader().execute(
            "SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return str(row[0]) if row else GENESIS

    def verify_audit(self, expect_head: str | None = None) -> AuditVerified:
        """Recompute the whole chain; :class:`~.errors.AuditChainError` at the first
        break, or when the head is not ``expect_head``."""
        name = str(self.path)
        with self._snapshot() as con:
            anchor_row = con.execute(
                "SELECT seq, prev_hash FROM audit_anchor WHERE id = 1").fetchone()
            anchor = (int(anchor_row[0]), str(anchor_row[1])) if anchor_row else None
            rows = con.execute(
                "SELECT seq, time, actor, action, subject, details, prev_hash, hash "
                "FROM audit ORDER BY seq")
            try:
                count, first, head, pruned = check_chain(rows, anchor)
            except ValueError as exc:
                seq, reason = exc.args if len(exc.args) == 2 else (0, str(exc))
                raise AuditChainError(name, int(seq), str(reason)) from exc
        if anchor is not None:
            vouched = pruned and pruned[-1][1].get("first_kept") == anchor[0] and \
                pruned[-1][1].get("anchor") == anchor[1]
            if not vouched:
                raise AuditChainError(name, anchor[0], "the log starts after entry 1 but no "
                                      "audit.pruned entry vouches for that start")
        if expect_head is not None and head != expect_head:
            raise AuditChainError(name, 0, f"head {head} is not the expected {expect_head} "
                                  "(newest entries missing)")
        return AuditVerified(entries=count, first_seq=first, head=head)

    # -- organisations and tokens ----------------------------------------------------------

    def add_organisation(
        self, org_id: str, name: str, *, nation: str | None = None,
        roles: Sequence[str] = (), by: str = "system", at: float | None = None,
    ) -> Organisation:
        if not org_id or not name:
            raise RecordError("an organisation needs an id and a name")
        now, role_list = self._now(at), [str(r) for r in roles]
        with self._write(durable=True) as con:
            try:
                con.execute(
                    "INSERT INTO organisations (id, name, nation, roles, created) "
                    "VALUES (?, ?, ?, ?, ?)", (org_id, name, nation, canonical(role_list), now),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(str(self.path), f"organisation {org_id!r} exists") from exc
            Chain(con).append(now, by, "organisation.added", org_id,
                               {"name": name, "nation": nation, "roles": role_list})
        return Organisation(org_id, name, now, nation, role_list)

    def organisation(self, org_id: str) -> Organisation | None:
        row = self._reader().execute(
            "SELECT id, name, created, nation, roles FROM organisations WHERE id = ?",
            (org_id,)).fetchone()
        if row is None:
            return None
        return Organisation(row[0], row[1], row[2], row[3], json.loads(row[4]))

    def issue_token(
        self, organisation: str, *, roles: Sequence[str] | None = None,
        expires: float | None = None, by: str = "system", at: float | None = None,
    ) -> IssuedToken:
        """A new token for an organisation (its roles unless ``roles``). The token is in
        the answer only; the store keeps its salted hash."""
        token, token_id, secret = tokens.new_token()
        stored = tokens.hash_secret(secret)  # outside the write lock: it takes a while
        now = self._now(at)
        with self._write(durable=True) as con:
            org = con.execute("SELECT roles FROM organisations WHERE id = ?",
                              (organisation,)).fetchone()
            if org is None:
                raise StoreError(str(self.path), f"no organisation {organisation!r}")
            role_list = json.loads(org[0]) if roles is None else [str(r) for r in roles]
            con.execute(
                "INSERT INTO tokens (id, organisation, hash, roles, created, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token_id, organisation, stored, canonical(role_list), now, expires),
            )
            Chain(con).append(now, by, "token.issued", organisation,
                               {"token": token_id, "roles": role_list, "expires": expires})
        return IssuedToken(token, token_id, organisation, role_list, expires)

    def check_token(self, token: str, *, at: float | None = None) -> TokenGrant | None:
        """What ``token`` grants, or None (malformed, unknown, wrong, revoked, expired)."""
        parts = tokens.split(token)
        if parts is None:
            return None
        token_id, secret = parts
        row = self._reader().execute(
            "SELECT t.organisation, t.hash, t.roles, t.expires, t.revoked, o.nation "
            "FROM tokens t JOIN organisations o ON o.id = t.organisation WHERE t.id = ?",
            (token_id,),
        ).fetchone()
        if row is None or not tokens.check_secret(secret, row[1]):
            return None
        now = self._now(at)
        if (row[4] is not None and row[4] <= now) or (row[3] is not None and row[3] <= now):
            return None
        return TokenGrant(token_id, row[0], json.loads(row[2]), row[5], row[3])

    def revoke_token(self, token_id: str, *, by: str, at: float | None = None) -> bool:
        """Revoke a token by its id; False if it was unknown or already revoked."""
        now = self._now(at)
        with self._write(durable=True) as con:
            cur = con.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (now, token_id)
            )
            if cur.rowcount != 1:
                return False
            Chain(con).append(now, by, "token.revoked", token_id, {})
        return True

    # -- retention -------------------------------------------------------------------------

    def prune(
        self, now: float | None = None, *, track_history_s: float | None = 7 * DAY,
        events_s: float | None = 365 * DAY, audit_s: float | None = None,
        batch: int = 10_000,
    ) -> Pruned:
        """Delete what is older than its retention (None: keep for ever).

        - track history older than ``track_history_s``, ``batch`` rows per transaction;
        - alerts *ended* more than ``events_s`` ago, with their events and
          acknowledgements (an open alert keeps its whole history, however old); each
          removal is audited;
        - audit entries older than ``audit_s`` only when it is given (default: never),
          through an anchored ``audit.pruned`` entry (see :mod:`.audit`).

        Restrictions, organisations and tokens are kept.
        """
        now = self._now(now)
        if batch < 1:
            raise ValueError("batch must be >= 1")
        history = alerts = events = acks = audit = 0
        if track_history_s is not None:
            while True:
                with self._write(durable=False) as con:
                    n = retention.prune_track_history(con, now - track_history_s, batch)
                history += n
                if n < batch:
                    break
        if events_s is not None:
            while True:
                with self._write(durable=True) as con:
                    counts = retention.prune_ended_alerts(con, now, now - events_s,
                                                          min(batch, 500))
                if counts is None:
                    break
                alerts, events, acks = (alerts + counts[0], events + counts[1],
                                        acks + counts[2])
        if audit_s is not None:
            with self._write(durable=True) as con:
                audit = retention.prune_audit(con, now, now - audit_s)
        return Pruned(history, alerts, events, acks, audit)


def _restriction(r: tuple[Any, ...]) -> StoredRestriction:
    return StoredRestriction(r[0], json.loads(r[1]), r[2], r[3], r[4], r[5])
