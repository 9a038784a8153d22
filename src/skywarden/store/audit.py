"""The audit chain: how an entry is hashed, and how a run of entries is checked.

Each entry's ``hash`` is the SHA-256 (hex) of the canonical JSON (keys sorted, no
spaces, UTF-8) of::

    {"seq": 7, "time": 1757453400.0, "actor": "system", "action": "alert.raised",
     "subject": "T42:POL:1", "details": {...}, "prev_hash": "<hash of entry 6>"}

``prev_hash`` of the first entry is 64 zeros, ``seq`` counts from 1 without gaps. The
same rule as the file log of :mod:`skywarden.warn.audit` (there the subject is called
``alert``). A changed, removed, inserted or reordered entry breaks the chain at that
entry. Removing the newest entries leaves a valid shorter chain: keep the head hash
elsewhere too and pass it as ``expect_head``.

Pruning old entries (only when configured) first appends an ``audit.pruned`` entry that
names the first entry kept and the hash it chains to, and records the same pair as the
anchor; the check then starts at the anchor and requires that entry to vouch for it.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import RecordError
from .base import AuditEntry

GENESIS = "0" * 64
PRUNED = "audit.pruned"


def canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def clean(value: Any) -> Any:
    """Make ``value`` JSON: non-finite floats become null, numpy scalars Python's, tuples
    lists; mapping keys must be strings."""
    if hasattr(value, "item") and not isinstance(value, dict | list | tuple | str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"audit details keys are strings, not {type(k).__name__}")
            out[k] = clean(v)
        return out
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"audit details hold JSON values, not {type(value).__name__}")


def entry_hash(
    seq: int, time: float, actor: str, action: str, subject: str | None,
    details: Any, prev_hash: str,
) -> str:
    entry = {
        "seq": seq,
        "time": float(time),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest()


AuditRow = tuple[int, float, str, str, "str | None", str, str, str]


def check_chain(
    rows: Iterable[AuditRow], anchor: tuple[int, str] | None
) -> tuple[int, int, str, list[tuple[int, dict[str, Any]]]]:
    """Walk rows (seq, time, actor, action, subject, details JSON, prev_hash, hash) in
    seq order. Returns (entries, first seq, head hash, pruning entries as (seq,
    details)); raises ``ValueError((seq, reason))`` at the first break."""
    want_seq, prev = anchor if anchor else (1, GENESIS)
    first = want_seq
    count = 0
    pruned: list[tuple[int, dict[str, Any]]] = []
    for seq, time, actor, action, subject, details_text, prev_hash, claimed in rows:
        if seq != want_seq:
            what = "missing" if seq > want_seq else "repeated"
            raise ValueError(seq, f"expected entry {want_seq} (entries {what})")
        try:
            details = json.loads(details_text)
        except ValueError as exc:
            raise ValueError(seq, f"details are not JSON ({exc})") from exc
        if prev_hash != prev:
            raise ValueError(
                seq, "prev_hash is not the previous entry's hash (entries removed, "
                "inserted or reordered)" if seq != first else
                "prev_hash is not the anchor's (the start of the log was altered)",
            )
        if entry_hash(seq, time, actor, action, subject, details, prev_hash) != claimed:
            raise ValueError(seq, "hash does not match the entry (altered)")
        if action == PRUNED and isinstance(details, dict):
            pruned.append((seq, details))
        prev, want_seq, count = claimed, seq + 1, count + 1
    return count, first, prev, pruned


class Chain:
    """Appends audit entries inside one write transaction (the caller holds it)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con
        row = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq, self.head = (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def append(
        self, time: float, actor: str, action: str, subject: str | None,
        details: Mapping[str, Any] | None,
    ) -> AuditEntry:
        if not actor or not action:
            raise RecordError("an audit entry needs an actor and an action")
        body = clean(dict(details or {}))
        seq, prev, time = self.seq + 1, self.head, float(time)
        digest = entry_hash(seq, time, actor, action, subject, body, prev)
        self.con.execute(
            "INSERT INTO audit (seq, time, actor, action, subject, details, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, time, actor, action, subject, canonical(body), prev, digest),
        )
        self.seq, self.head = seq, digest
        return AuditEntry(seq, time, actor, action, subject, body, prev, digest)
