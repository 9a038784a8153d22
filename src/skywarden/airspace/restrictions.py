"""Temporary restrictions made, listed and ended while the system runs.

A restriction is a :class:`~.zones.Zone` declared at run time (a closure after an
incursion, a drone ban over an event). The store keeps them in one JSON Lines file,
``restrictions.jsonl`` in a data directory, as a history of events, one per line:

    {"event": "made", "time": 1757534400.0, "zone": {GeoJSON Feature of the zone}}
    {"event": "ended", "time": 1757620800.0, "id": "TR-0001"}

Nothing is ever rewritten or deleted: ending a restriction appends an ``ended`` event, and
its zone then ends at that time (or at its own end if that is earlier). A restriction
ended before it started is cancelled and no longer listed as a zone. ``time`` is when the
event was recorded, from the store's clock (injectable, so replays use scenario time).

Writes are atomic and serialized: under an exclusive lock (``restrictions.lock``) the
file is copied with the new line to a temporary name, flushed to disk and renamed over
the old one, so a reader sees the whole old file or the whole new one, and two writers
cannot lose each other's event.
"""

from __future__ import annotations

import builtins
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ZoneError
from .geojson import feature_to_zone, zone_to_feature
from .schedule import format_time
from .zones import Zone

FILE = "restrictions.jsonl"
LOCK = "restrictions.lock"


@dataclass(frozen=True, slots=True)
class Restriction:
    """A restriction as the history gives it: the zone in force and its two events."""

    zone: Zone  # with ``end`` already moved to the time it was ended, if it was
    made: float
    ended: float | None = None

    @property
    def cancelled(self) -> bool:
        """Ended before it started: it was never in force."""
        return self.ended is not None and self.zone.start is not None and \
            self.ended < self.zone.start


class RestrictionStore:
    """The restrictions of one data directory (created on first write)."""

    def __init__(self, data_dir: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.dir = Path(data_dir)
        self.path = self.dir / FILE
        self.clock = clock
        self.errors: list[ZoneError] = []  # bad lines met by the last read

    # -- reading -----------------------------------------------------------------------

    def restrictions(self) -> list[Restriction]:
        """Every restriction ever made, in the order made (history folded)."""
        made: dict[str, Restriction] = {}
        self.errors = []
        for number, event in self._events():
            where = f"line {number}"
            try:
                kind = event.get("event")
                if kind == "made":
                    zone = feature_to_zone(event.get("zone"))
                    if zone.id in made:
                        raise ValueError(f"restriction {zone.id!r} is made a second time")
                    made[zone.id] = Restriction(zone, float(event["time"]))
                elif kind == "ended":
                    zid = str(event.get("id"))
                    if zid not in made:
                        raise ValueError(f"ends restriction {zid!r}, which was never made")
                    r = made[zid]
                    if r.ended is not None:
                        raise ValueError(f"ends restriction {zid!r} a second time")
                    at = float(event["time"])
                    end = at if r.zone.end is None else min(at, r.zone.end)
                    zone = r.zone if r.zone.start is not None and end < r.zone.start else \
                        replace(r.zone, end=end)
                    made[zid] = Restriction(zone, r.made, at)
                else:
                    raise ValueError(f"event {kind!r} is neither 'made' nor 'ended'")
            except (ValueError, KeyError, TypeError) as exc:
                reason = getattr(exc, "reason", None) or str(exc)
                self.errors.append(ZoneError(str(self.path), where, reason))
        return list(made.values())

    def list(self, at: float | None = None) -> list[Restriction]:
        """All restrictions (``at`` None), or those in force at ``at`` (epoch s)."""
        every = self.restrictions()
        if at is None:
            return every
        from .zoneset import ZoneSet

        live = [r for r in every if not r.cancelled]
        in_force = ZoneSet([r.zone for r in live]).active(at) if live else np.zeros(0, bool)
        return [r for r, on in zip(live, in_force, strict=True) if on]

    def zones(self) -> builtins.list[Zone]:
        """The zones of every restriction not cancelled, for a ZoneSet."""
        return [r.zone for r in self.restrictions() if not r.cancelled]

    def get(self, zone_id: str) -> Restriction:
        for r in self.restrictions():
            if r.zone.id == zone_id:
                return r
        raise ZoneError(str(self.path), f"restriction {zone_id!r}", "no such restriction")

    def _events(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                self.errors.append(ZoneError(str(self.path), f"line {number}",
                                             f"not valid JSON ({exc.msg})"))
                continue
            if isinstance(event, dict):
                yield number, event
            else:
                self.errors.append(ZoneError(str(self.path), f"line {number}",
                                             "not a JSON object"))

    # -- writing -----------------------------------------------------------------------

    def next_id(self) -> str:
        """``TR-0001``, ``TR-0002``...: one more than the restrictions made so far."""
        taken = {r.zone.id for r in self.restrictions()}
        n = len(taken) + 1
        while f"TR-{n:04d}" in taken:
            n += 1
        return f"TR-{n:04d}"

    def make(self, zone: Zone) -> Restriction:
        """Record a new restriction; its id must be new to this store."""
        with self._locked():
            if any(r.zone.id == zone.id for r in self.restrictions()):
                raise ZoneError(str(self.path), f"restriction {zone.id!r}",
                                "a restriction with this id exists (end it, or pick another id)")
            now = float(self.clock())
            self._append({"event": "made", "time": now, "zone": zone_to_feature(zone)})
        return Restriction(zone, now)

    def end(self, zone_id: str, at: float | None = None) -> Restriction:
        """End a restriction at ``at`` (default now); recorded as an ``ended`` event."""
        with self._locked():
            r = self.get(zone_id)
            if r.ended is not None:
                raise ZoneError(str(self.path), f"restriction {zone_id!r}",
                                f"already ended at {format_time(r.ended)}")
            when = float(self.clock()) if at is None else float(at)
            self._append({"event": "ended", "time": when, "id": zone_id})
        return self.get(zone_id)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _append(self, event: dict[str, Any]) -> None:
        """Old content plus one line, written to a temporary file and renamed into place."""
        try:
            old = self.path.read_bytes()
        except FileNotFoundError:
            old = b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        fd, tmp = tempfile.mkstemp(prefix=f".{FILE}.", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(old + line)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
