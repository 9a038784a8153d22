"""Stored track rows with their releasability, read beside the store.

The store's readers return TrackUpdate without the ``access`` column that holds each
row's releasability, and the API must filter by it. This module reads the same SQLite
file read-only (WAL readers never wait for the writer), one connection per thread, and
sets ``releasability`` on each row from ``access``. It only reads.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import msgspec

from ..records import TrackUpdate
from ..store.rows import TRACK_COLUMNS, track_from_row

__all__ = ["HistoryReader"]

_SELECT = f"SELECT {', '.join(TRACK_COLUMNS)} FROM track_history"


def _mark(access: str | None) -> str | None:
    if not access:
        return None
    try:
        value = json.loads(access).get("releasability")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class HistoryReader:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True,
                                  isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA query_only = ON")
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def close(self) -> None:
        """Close every thread's connection (when the app stops)."""
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()

    def _rows(self, sql: str, params: tuple[object, ...]) -> list[TrackUpdate]:
        out = []
        for r in self._con().execute(sql, params):
            row = track_from_row(r[:-1])
            mark = _mark(r[-1])
            out.append(msgspec.structs.replace(row, releasability=mark) if mark else row)
        return out

    def track(self, track: str, t0: float, t1: float) -> list[TrackUpdate]:
        """One track's rows with t0 <= time <= t1, in time order."""
        return self._rows(f"{_SELECT} WHERE track = ? AND time BETWEEN ? AND ? ORDER BY time",
                          (track, t0, t1))

    def window(self, t0: float, t1: float, bbox: tuple[float, float, float, float],
               limit: int) -> list[TrackUpdate]:
        """Rows with t0 <= time <= t1 inside ``bbox`` (w, s, e, n; w > e crosses 180),
        in time order, at most ``limit``."""
        w, s, e, n = bbox
        lon = "lon BETWEEN ? AND ?" if w <= e else "(lon >= ? OR lon <= ?)"
        sql = (f"{_SELECT} WHERE time BETWEEN ? AND ? AND lat BETWEEN ? AND ? AND {lon} "
               "ORDER BY time LIMIT ?")
        return self._rows(sql, (t0, t1, s, n, w, e, limit))

    def alert_ids(self, nation: str | None, limit: int) -> list[str]:
        """Ids of alerts (open and ended), most recently changed first."""
        if nation is None:
            rows = self._con().execute(
                "SELECT alert FROM alerts ORDER BY changed DESC LIMIT ?", (limit,))
        else:
            rows = self._con().execute(
                "SELECT alert FROM alerts WHERE nation = ? ORDER BY changed DESC LIMIT ?",
                (nation, limit))
        return [r[0] for r in rows]
