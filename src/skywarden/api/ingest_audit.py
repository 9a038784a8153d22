"""The audit entries of accepted ingest batches, written beside the request, not in it.

An audit entry is on disk when written (``synchronous=FULL``): a few milliseconds. A
feed sending twenty batches a second over one WebSocket would wait for each before its
next batch is read, so the wait would pile up into the track latency. Instead each
accepted batch is queued here and one task writes the queue: batches queued together
from the same caller and channel become one ``ingest.batch`` entry (``batches``: how
many; counts and sensors summed; ``t0``/``t1`` the span). The queue is bounded and never
drops: when the disk falls that far behind, ingest waits for it. Stopping writes what is
queued. A crash can lose the entries of the last moments' batches, as it loses those
detections, which live in memory until tracked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any

__all__ = ["IngestAudit", "merge"]

log = logging.getLogger("skywarden.api")


def merge(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of several batch summaries of the same caller and channel."""
    if len(entries) == 1:
        return {**entries[0], "batches": 1}
    sensors: Counter[str] = Counter()
    for e in entries:
        sensors.update(e["sensors"])
    out = {**entries[-1]}
    out.update(accepted=sum(e["accepted"] for e in entries), sensors=dict(sensors),
               t0=min(e["t0"] for e in entries), t1=max(e["t1"] for e in entries),
               batches=len(entries))
    return out


class IngestAudit:
    def __init__(self, store: Any, maxsize: int = 10_000) -> None:
        self.store = store
        self.queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue(maxsize)
        self._task: asyncio.Task[None] | None = None
        self.written = 0

    async def add(self, who: str, via: str, details: dict[str, Any]) -> None:
        await self.queue.put((who, via, details))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="ingest-audit")

    async def _write(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for who, via, details in items:
            groups.setdefault((who, via), []).append(details)
        for (who, via), entries in groups.items():
            try:
                await asyncio.to_thread(self.store.audit, who, "ingest.batch", via,
                                        merge(entries))
                self.written += 1
            except Exception:  # a full disk must not stop ingest; the log says why
                log.exception("ingest audit entry of %s not written", who)

    def _drain(self) -> list[tuple[str, str, dict[str, Any]]]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    async def _run(self) -> None:
        while True:
            first = await self.queue.get()
            await self._write([first, *self._drain()])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        items = self._drain()
        if items:
            await self._write(items)
