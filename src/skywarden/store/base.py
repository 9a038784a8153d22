"""The store interface and the records it returns.

A store keeps what must outlive the process: track history (positions, pruned after a
retention period), alerts (current state and every event), acknowledgements,
restrictions, the audit log (append-only, hash-chained) and organisations with their API
tokens (hashes only). :class:`~.sqlite.SqliteStore` is the embedded default; a PostgreSQL
store for several nodes keeps the same interface.

Calls block the calling thread. From asyncio, call through ``asyncio.to_thread`` (or a
consumer thread fed by the bus), so the event loop never waits on the disk.

Times are epoch seconds, UTC; a method's ``at`` defaults to the store's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from ..records import AlertEvent, TrackUpdate


class Acknowledgement(msgspec.Struct, frozen=True):
    """Who acknowledged an alert, when, at which level, with what note."""

    alert: str
    by: str
    time: float
    level: int
    note: str | None = None


class StoredAlert(msgspec.Struct, frozen=True):
    """An alert's current state as stored: its newest event, and its acknowledgements.

    ``ended`` is None while the alert is open. An acknowledgement covers the level it
    was given at and the levels below (as in :mod:`skywarden.warn.alerts`).
    """

    alert: str
    kind: str
    nation: str
    level: int
    raised: float
    changed: float
    last: AlertEvent
    track: str | None = None
    zone: str | None = None
    ended: float | None = None
    acks: list[Acknowledgement] = msgspec.field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.ended is None

    @property
    def acknowledged(self) -> bool:
        return bool(self.acks) and self.acks[-1].level >= self.level


class StoredRestriction(msgspec.Struct, frozen=True):
    """A restriction: its zone id, its body (the zone as a GeoJSON Feature), who made it
    and when, and who ended it and when (None while in force)."""

    zone: str
    body: dict[str, Any]
    created: float
    created_by: str
    ended: float | None = None
    ended_by: str | None = None

    @property
    def active(self) -> bool:
        return self.ended is None


class AuditEntry(msgspec.Struct, frozen=True):
    seq: int
    time: float
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerified(msgspec.Struct, frozen=True):
    """A verified audit log: how many entries, the first kept (1 unless pruned), and the
    head hash (keep it elsewhere too, to detect removal of the newest entries)."""

    entries: int
    first_seq: int
    head: str


class Organisation(msgspec.Struct, frozen=True):
    id: str
    name: str
    created: float
    nation: str | None = None
    roles: list[str] = msgspec.field(default_factory=list)


class IssuedToken(msgspec.Struct, frozen=True):
    """A new token. ``token`` is shown this once; the store keeps only its hash."""

    token: str
    id: str
    organisation: str
    roles: list[str]
    expires: float | None = None


class TokenGrant(msgspec.Struct, frozen=True):
    """What a valid token grants."""

    id: str
    organisation: str
    roles: list[str]
    nation: str | None = None
    expires: float | None = None


class Pruned(msgspec.Struct, frozen=True):
    """Rows removed by one :meth:`Store.prune`."""

    track_history: int = 0
    alerts: int = 0
    alert_events: int = 0
    acknowledgements: int = 0
    audit: int = 0


class Store(Protocol):
    # -- track history -----------------------------------------------------------------
    def add_tracks(
        self, updates: Iterable[TrackUpdate | Mapping[str, Any]], *,
        access: Mapping[str, Any] | None = None,
    ) -> int:
        """Append track updates as one transaction (all or none); returns the count."""
        ...

    def tracks_in(
        self, t0: float, t1: float, *, south: float, west: float, north: float,
        east: float, limit: int | None = None,
    ) -> list[TrackUpdate]:
        """Updates with t0 <= time <= t1 inside the box (west > east crosses 180)."""
        ...

    def track_history(
        self, track: str, t0: float | None = None, t1: float | None = None
    ) -> list[TrackUpdate]: ...

    def count_tracks(self) -> int: ...

    # -- alerts ------------------------------------------------------------------------
    def add_alert_events(
        self, events: Iterable[AlertEvent | Mapping[str, Any]], *, audit: bool = True
    ) -> int: ...

    def open_alerts(self, nation: str | None = None) -> list[StoredAlert]: ...

    def alert_ids(self, kind: str | None = None) -> list[str]: ...

    def recent_alerts(self, nation: str | None = None, limit: int = 1000) -> list[StoredAlert]:
        ...

    def alert(self, alert_id: str) -> StoredAlert | None: ...

    def alert_events(self, alert_id: str | None = None) -> list[AlertEvent]: ...

    def acknowledgements(self, alert_id: str | None = None) -> list[Acknowledgement]: ...

    # -- restrictions ------------------------------------------------------------------
    def add_restriction(
        self, zone: str, body: Mapping[str, Any], *, by: str, at: float | None = None
    ) -> StoredRestriction: ...

    def end_restriction(
        self, zone: str, *, by: str, at: float | None = None
    ) -> StoredRestriction: ...

    def restrictions_version(self) -> tuple[int, int, float, float]: ...

    def restrictions(self, *, active_only: bool = True) -> list[StoredRestriction]: ...

    # -- audit -------------------------------------------------------------------------
    def audit(
        self, actor: str, action: str, subject: str | None = None,
        details: Mapping[str, Any] | None = None, *, at: float | None = None,
    ) -> AuditEntry: ...

    def audit_entries(
        self, since_seq: int = 0, limit: int | None = None
    ) -> list[AuditEntry]: ...

    def audit_head(self) -> str: ...

    def verify_audit(self, expect_head: str | None = None) -> AuditVerified: ...

    # -- organisations and tokens ------------------------------------------------------
    def add_organisation(
        self, org_id: str, name: str, *, nation: str | None = None,
        roles: Sequence[str] = (), by: str = "system", at: float | None = None,
    ) -> Organisation: ...

    def organisation(self, org_id: str) -> Organisation | None: ...

    def issue_token(
        self, organisation: str, *, roles: Sequence[str] | None = None,
        expires: float | None = None, by: str = "system", at: float | None = None,
    ) -> IssuedToken: ...

    def check_token(self, token: str, *, at: float | None = None) -> TokenGrant | None: ...

    def revoke_token(self, token_id: str, *, by: str, at: float | None = None) -> bool: ...

    # -- retention and life ------------------------------------------------------------
    def prune(
        self, now: float | None = None, *, track_history_s: float | None = ...,
        events_s: float | None = ..., audit_s: float | None = None,
    ) -> Pruned: ...

    def close(self) -> None: ...
