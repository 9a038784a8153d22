"""Append-only audit log of every alert change, hash-chained so tampering shows.

One JSON object per line::

    {"seq": 7, "time": 1757453400.0, "actor": "system", "action": "escalated",
     "alert": "T42:POL:1", "details": {...}, "prev": "<hash of entry 6>", "hash": "..."}

``hash`` is the SHA-256 (hex) of the entry's canonical JSON without ``hash`` (keys
sorted, no spaces, UTF-8); ``prev`` is the previous entry's ``hash`` (64 zeros for the
first); ``seq`` counts from 1. :func:`verify` recomputes the chain: a changed, removed,
inserted or reordered line breaks it and is named. Dropping the *last* lines leaves a
valid shorter chain, so a deployment keeps the head hash (``verify(...).head``, or
``AuditLog.head``) somewhere else too, and passes it as ``expect_head``.

The file is opened for appending only and never rewritten; with ``fsync=True`` every
entry is forced to disk before :meth:`AuditLog.append` returns (an alert's audit entry
must survive a crash; positions need not).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from ..errors import SkywardenError
from ..records import AlertEvent

GENESIS = "0" * 64


class AuditError(SkywardenError):
    """The audit log cannot be used, or fails verification (``path:line: reason``)."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(
        entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _clean(value: Any) -> Any:
    """JSON has no NaN: non-finite numbers become null; numpy scalars become Python's."""
    if hasattr(value, "item") and not isinstance(value, dict | list | tuple):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class AuditLog:
    """Appends entries to ``path``, continuing the chain of an existing file.

    Opening an existing log reads its last line to continue ``seq`` and the chain (it
    does not verify the whole file; call :func:`verify` for that). A last line without
    its newline (a crash while writing) is an :class:`AuditError`: the log is never
    rewritten, so a person must look at it.
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.seq = 0
        self.head = GENESIS
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            self._resume()
        self._fh: IO[bytes] = self.path.open("ab")

    def _resume(self) -> None:
        with self.path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            block = 4096
            data = b""
            while True:
                start = max(0, size - block)
                fh.seek(start)
                data = fh.read(size - start)
                if data.count(b"\n") >= 2 or start == 0:
                    break
                block *= 2
        if not data.endswith(b"\n"):
            raise AuditError(str(self.path), 0, "the last entry is incomplete (no newline)")
        last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            entry = json.loads(last)
            self.seq = int(entry["seq"])
            self.head = str(entry["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditError(str(self.path), 0, f"the last entry is unreadable: {exc}") from exc

    def append(
        self,
        time: float,
        actor: str,
        action: str,
        alert: str | None,
        details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write one entry; returns it (with ``seq``, ``prev`` and ``hash``)."""
        if not actor:
            raise ValueError("an audit entry needs an actor ('system' or a user)")
        entry: dict[str, Any] = {
            "seq": self.seq + 1,
            "time": float(time),
            "actor": actor,
            "action": action,
            "alert": alert,
            "details": _clean(details or {}),
            "prev": self.head,
        }
        entry["hash"] = _hash(entry)
        self._fh.write(_canonical(entry) + b"\n")
        self._fh.flush()
        if self.fsync:
            os.fsync(self._fh.fileno())
        self.seq += 1
        self.head = entry["hash"]
        return entry

    def record(self, event: AlertEvent, actor: str | None = None) -> dict[str, Any]:
        """Audit an alert event; the actor is ``event.by`` for acknowledgements, else
        ``actor`` or 'system'."""
        details = msgspec.to_builtins(event)
        for key in ("time", "alert", "event"):
            details.pop(key, None)
        who = actor or event.by or "system"
        return self.append(event.time, who, event.event, event.alert, details)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Verified:
    entries: int
    head: str


def verify(path: str | Path, expect_head: str | None = None) -> Verified:
    """Check the whole chain of ``path``; raise :class:`AuditError` at the first break."""
    name = str(path)
    prev, seq = GENESIS, 0
    with Path(path).open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                raise AuditError(name, lineno, "incomplete entry (no newline)")
            try:
                entry = json.loads(raw)
            except ValueError as exc:
                raise AuditError(name, lineno, f"not valid JSON ({exc})") from exc
            if not isinstance(entry, dict) or "hash" not in entry:
                raise AuditError(name, lineno, "not an audit entry (no hash)")
            claimed = entry.pop("hash")
            if _hash(entry) != claimed:
                raise AuditError(name, lineno, "hash does not match the entry (altered)")
            if entry.get("prev") != prev:
                raise AuditError(
                    name,
                    lineno,
                    "prev is not the previous entry's hash (removed, inserted "
                    "or reordered entries)",
                )
            if entry.get("seq") != seq + 1:
                raise AuditError(name, lineno, f"seq {entry.get('seq')!r}, expected {seq + 1}")
            prev, seq = claimed, seq + 1
    if expect_head is not None and prev != expect_head:
        raise AuditError(
            name, 0, f"head {prev} is not the expected {expect_head} (entries missing at the end)"
        )
    return Verified(entries=seq, head=prev)
