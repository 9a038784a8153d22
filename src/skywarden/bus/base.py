"""The bus interface: publish by subject, subscribe by pattern, bounded queues.

Every implementation (:class:`~.local.LocalBus` in one process; a NATS JetStream bus for
several) keeps these promises:

- A message is ``bytes``, a msgspec ``Struct`` (a record of :mod:`skywarden.records`) or
  a list of them (a batch: one message, one queue slot). A network bus encodes it with
  :mod:`.codec`; the local bus hands over the object itself, so subscribers must treat
  messages as read-only (records are frozen; do not change a list you received).
- Every subscription has a bounded queue (``maxsize`` messages) and an overflow rule:

  ``drop_oldest``  a full queue drops its oldest message to take the new one; drops are
                   counted per subscription and per subject of the dropped message. For
                   positions: detections and tracks, where the newest matter most.
  ``block``        a message is never dropped. The publisher waits for room:
                   ``await publish_async(...)`` waits without blocking the event loop;
                   plain ``publish(...)`` from a thread without a running event loop
                   waits up to the bus's ``block_timeout`` and then raises
                   :class:`~.errors.BusFullError`; called from a thread that runs an event
                   loop it cannot wait (the consumer may need that very loop) and raises
                   at once. For alerts and audit entries.

  Delivery is all or nothing: a message that cannot enter a ``block`` queue enters no
  queue, so a retry makes no duplicates.
- Order is kept per publisher and subject.
- Counters (published, delivered, dropped by subject; per subscription: queued, high
  water, delivered, taken, dropped) are there for metrics: :meth:`Bus.counters`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol, TypeAlias

import msgspec

Overflow = Literal["drop_oldest", "block"]
OVERFLOWS: tuple[str, ...] = ("drop_oldest", "block")
Message: TypeAlias = bytes | msgspec.Struct | Sequence[msgspec.Struct | bytes]


class Delivery(NamedTuple):
    """One message as a subscriber receives it, with the subject it was published on."""

    subject: str
    message: Message


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    pattern: str
    overflow: str
    maxsize: int
    queued: int
    high_water: int  # most messages ever queued at once
    delivered: int  # messages put in the queue
    taken: int  # messages taken out by the consumer
    dropped: dict[str, int] = field(default_factory=dict)  # messages, by subject
    dropped_records: dict[str, int] = field(default_factory=dict)  # records in them


@dataclass(frozen=True, slots=True)
class BusCounters:
    """A snapshot of the bus's counters, by subject (totals over subscriptions)."""

    published: dict[str, int]
    delivered: dict[str, int]
    dropped: dict[str, int]
    dropped_records: dict[str, int]
    subscriptions: tuple[SubscriptionStats, ...]

    @property
    def total_dropped(self) -> int:
        return sum(self.dropped.values())


class Subscription(Protocol):
    """The receiving end of one subscription. ``async for d in sub`` yields
    :class:`Delivery` until the subscription or bus is closed and the queue is empty."""

    pattern: str
    overflow: Overflow
    maxsize: int

    def get_nowait(self) -> Delivery | None:
        """The next delivery, or None when the queue is empty."""
        ...

    def drain(self, max_items: int | None = None) -> list[Delivery]:
        """Everything queued (at most ``max_items``), oldest first, without waiting."""
        ...

    async def get(self, timeout: float | None = None) -> Delivery:
        """The next delivery, waiting for it; ``TimeoutError`` after ``timeout`` s,
        :class:`~.errors.BusClosedError` when closed and empty."""
        ...

    def get_blocking(self, timeout: float | None = None) -> Delivery:
        """For a consumer thread (never a coroutine): as :meth:`get`, blocking."""
        ...

    def __aiter__(self) -> AsyncIterator[Delivery]: ...

    def stats(self) -> SubscriptionStats: ...

    def close(self) -> None:
        """Stop receiving; what is already queued can still be taken."""
        ...


class Bus(Protocol):
    def publish(self, subject: str, message: Message) -> None:
        """Deliver to every matching subscription, now (see the overflow rules)."""
        ...

    async def publish_async(
        self, subject: str, message: Message, timeout: float | None = None
    ) -> None:
        """Deliver, waiting without blocking the event loop while a ``block`` queue is
        full; ``TimeoutError`` after ``timeout`` seconds (None: no limit)."""
        ...

    def subscribe(
        self, pattern: str, *, overflow: Overflow, maxsize: int = 1024
    ) -> Subscription:
        """A subscription to ``pattern`` (wildcards as in :mod:`.subjects`). The overflow
        rule has no default: every queue states what happens when it is full."""
        ...

    def counters(self) -> BusCounters: ...

    def close(self) -> None:
        """Refuse new messages; subscribers drain what is queued, then their loops end."""
        ...
