"""The in-process bus: bounded queues in memory, for one process (the embedded default).

Threads and asyncio
-------------------
:class:`LocalBus` is thread-safe. One lock guards all its queues, so a publish is atomic
across the subscriptions it reaches (all or nothing) and costs a few microseconds.

- **Publish** from any thread: ``publish`` (sync) or, in a coroutine,
  ``await publish_async`` (waits for room in ``block`` queues without blocking the loop).
  A sensor reader thread publishes with ``publish``; a pipeline coroutine publishes
  alerts with ``publish_async``.
- **Consume** in asyncio with ``async for d in sub`` or ``await sub.get()``: a waiting
  consumer is woken in its own loop, by ``loop.call_soon_threadsafe`` when the publisher
  runs in another thread. Consume in a plain thread with ``sub.get_blocking(timeout)``,
  or poll anywhere with ``get_nowait()`` / ``drain()``.

Overflow (see :mod:`.base`): ``drop_oldest`` never makes a publisher wait; ``block`` never
drops. A sync ``publish`` that meets a full ``block`` queue waits up to ``block_timeout``
seconds (default 5) in a thread without an event loop, and raises
:class:`~.errors.BusFullError` at once in a thread that runs one (waiting there could
stall the very consumer that would make room); either way nothing is delivered.

Messages are not encoded: subscribers receive the published object itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator

import msgspec

from .base import OVERFLOWS, BusCounters, Delivery, Message, Overflow, SubscriptionStats
from .errors import BusClosedError, BusFullError
from .subjects import check_pattern, check_subject, tokens_match

__all__ = ["LocalBus", "LocalSubscription"]

_ROUTE_CACHE = 65536  # distinct subjects remembered; the cache is cleared when full


def _records(message: object) -> int:
    """How many records a message holds; TypeError if it is not a bus message."""
    if isinstance(message, msgspec.Struct | bytes):
        return 1
    if isinstance(message, list | tuple):
        for item in message:
            if not isinstance(item, msgspec.Struct | bytes):
                raise TypeError(
                    "a bus message list holds msgspec Structs or bytes, "
                    f"not {type(item).__name__}"
                )
        return len(message)
    raise TypeError(
        "a bus message is bytes, a msgspec Struct or a list of them, "
        f"not {type(message).__name__}"
    )


def _loop_here() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _wake(futures: list[asyncio.Future[None]], here: asyncio.AbstractEventLoop | None) -> None:
    """Resolve waiting futures, each in its own loop (directly when that loop is ours)."""
    for fut in futures:
        loop = fut.get_loop()
        if loop is here:
            _resolve(fut)
        else:
            # RuntimeError: that loop has closed, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, fut)


class LocalSubscription:
    """One subscription of a :class:`LocalBus` (see :class:`~.base.Subscription`)."""

    def __init__(
        self, bus: LocalBus, pattern: str, tokens: tuple[str, ...], maxsize: int,
        overflow: Overflow,
    ) -> None:
        self.pattern = pattern
        self.overflow: Overflow = overflow
        self.maxsize = maxsize
        self.tokens = tokens
        self._bus = bus
        self._queue: deque[Delivery] = deque()
        self._getters: list[asyncio.Future[None]] = []  # consumers waiting for a message
        self._putters: list[asyncio.Future[None]] = []  # publishers waiting for room
        self._closed = False
        self._delivered = 0
        self._taken = 0
        self._high_water = 0
        self._dropped: Counter[str] = Counter()
        self._dropped_records: Counter[str] = Counter()

    # -- taking (all under the bus lock) -------------------------------------------------

    def _take(self, n: int | None) -> list[Delivery]:
        queue = self._queue
        count = len(queue) if n is None else min(n, len(queue))
        out = [queue.popleft() for _ in range(count)]
        if out:
            self._taken += len(out)
            if self.overflow == "block":
                self._bus._made_room(self)
        return out

    def get_nowait(self) -> Delivery | None:
        with self._bus._lock:
            got = self._take(1)
        return got[0] if got else None

    def drain(self, max_items: int | None = None) -> list[Delivery]:
        with self._bus._lock:
            return self._take(max_items)

    async def get(self, timeout: float | None = None) -> Delivery:
        async with asyncio.timeout(timeout):
            loop = asyncio.get_running_loop()
            lock = self._bus._lock
            while True:
                with lock:
                    got = self._take(1)
                    if got:
                        return got[0]
                    if self._closed:
                        raise BusClosedError(f"subscription {self.pattern!r} is closed")
                    fut: asyncio.Future[None] = loop.create_future()
                    self._getters.append(fut)
                try:
                    await fut
                finally:
                    with lock:
                        if fut in self._getters:
                            self._getters.remove(fut)

    def get_blocking(self, timeout: float | None = None) -> Delivery:
        """For a consumer thread: the next delivery, waiting up to ``timeout`` seconds
        (``TimeoutError``); :class:`~.errors.BusClosedError` when closed and empty.
        Do not call it from a coroutine: it blocks the thread."""
        bus = self._bus
        deadline = None if timeout is None else time.monotonic() + timeout
        with bus._lock:
            while not self._queue:
                if self._closed:
                    raise BusClosedError(f"subscription {self.pattern!r} is closed")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"no message on {self.pattern!r} in {timeout} s")
                bus._ready_waiters += 1
                try:
                    bus._ready.wait(left)
                finally:
                    bus._ready_waiters -= 1
            return self._take(1)[0]

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return self

    async def __anext__(self) -> Delivery:
        try:
            return await self.get()
        except BusClosedError:
            raise StopAsyncIteration from None

    def __len__(self) -> int:
        return len(self._queue)

    def stats(self) -> SubscriptionStats:
        with self._bus._lock:
            return SubscriptionStats(
                pattern=self.pattern,
                overflow=self.overflow,
                maxsize=self.maxsize,
                queued=len(self._queue),
                high_water=self._high_water,
                delivered=self._delivered,
                taken=self._taken,
                dropped=dict(self._dropped),
                dropped_records=dict(self._dropped_records),
            )

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._bus._unsubscribe(self)

    def __enter__(self) -> LocalSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"LocalSubscription({self.pattern!r}, overflow={self.overflow!r}, "
            f"queued={len(self._queue)}/{self.maxsize})"
        )


class LocalBus:
    """In-process publish/subscribe with bounded queues (see the module docstring)."""

    def __init__(self, *, block_timeout: float = 5.0) -> None:
        if not block_timeout >= 0:
            raise ValueError(f"block_timeout must be >= 0, not {block_timeout!r}")
        self.block_timeout = float(block_timeout)
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)  # consumer threads wait for messages
        self._room = threading.Condition(self._lock)  # publisher threads wait for room
        self._ready_waiters = 0
        self._room_waiters = 0
        self._subs: list[LocalSubscription] = []
        self._routes: dict[str, tuple[LocalSubscription, ...]] = {}
        self._closed = False
        self._published: Counter[str] = Counter()
        self._delivered: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._dropped_records: Counter[str] = Counter()

    # -- subscribing -----------------------------------------------------------------------

    def subscribe(
        self, pattern: str, *, overflow: Overflow, maxsize: int = 1024
    ) -> LocalSubscription:
        """A new subscription to ``pattern``; its overflow rule must be stated."""
        tokens = check_pattern(pattern)
        if overflow not in OVERFLOWS:
            raise ValueError(f"overflow must be one of {OVERFLOWS}, not {overflow!r}")
        if not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be a whole number >= 1, not {maxsize!r}")
        sub = LocalSubscription(self, pattern, tokens, maxsize, overflow)
        with self._lock:
            if self._closed:
                raise BusClosedError("the bus is closed")
            self._subs.append(sub)
            self._routes.clear()
        return sub

    def _unsubscribe(self, sub: LocalSubscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
                self._routes.clear()
            self._close_sub(sub)

    def _close_sub(self, sub: LocalSubscription) -> None:
        sub._closed = True
        here = _loop_here()
        _wake(sub._getters, here)
        _wake(sub._putters, here)  # a waiting publisher re-routes without this one
        self._ready.notify_all()
        self._room.notify_all()

    # -- publishing ------------------------------------------------------------------------

    def _route(self, subject: str) -> tuple[LocalSubscription, ...]:
        """Subscriptions matching ``subject`` (caller holds the lock)."""
        subs = self._routes.get(subject)
        if subs is None:
            tokens = check_subject(subject)
            subs = tuple(s for s in self._subs if tokens_match(s.tokens, tokens))
            if len(self._routes) >= _ROUTE_CACHE:
                self._routes.clear()
            self._routes[subject] = subs
        return subs

    def _full(self, subs: tuple[LocalSubscription, ...]) -> list[LocalSubscription]:
        return [s for s in subs if s.overflow == "block" and len(s._queue) >= s.maxsize]

    def _deliver(
        self, subject: str, message: Message, subs: tuple[LocalSubscription, ...]
    ) -> None:
        """Put the message in every queue (caller holds the lock and checked room)."""
        item = Delivery(subject, message)
        waiting: list[asyncio.Future[None]] = []
        for s in subs:
            queue = s._queue
            if len(queue) >= s.maxsize:  # only drop_oldest queues get here full
                old = queue.popleft()
                n = 1 if isinstance(old.message, msgspec.Struct | bytes) else len(old.message)
                s._dropped[old.subject] += 1
                s._dropped_records[old.subject] += n
                self._dropped[old.subject] += 1
                self._dropped_records[old.subject] += n
            queue.append(item)
            s._delivered += 1
            if len(queue) > s._high_water:
                s._high_water = len(queue)
            if s._getters:
                waiting.extend(s._getters)
        self._published[subject] += 1
        if subs:
            self._delivered[subject] += len(subs)
        if waiting:
            _wake(waiting, _loop_here())
        if self._ready_waiters:
            self._ready.notify_all()

    def _made_room(self, sub: LocalSubscription) -> None:
        """A consumer took from a ``block`` queue (caller holds the lock)."""
        if self._room_waiters:
            self._room.notify_all()
        if sub._putters:
            _wake(sub._putters, _loop_here())

    def publish(self, subject: str, message: Message) -> None:
        _records(message)
        here = _loop_here()
        with self._lock:
            if self._closed:
                raise BusClosedError(f"the bus is closed (publishing on {subject!r})")
            subs = self._route(subject)
            full = self._full(subs)
            if full:
                started = time.monotonic()
                if here is not None or self.block_timeout == 0:
                    s = full[0]
                    raise BusFullError(subject, s.pattern, s.maxsize, 0.0)
                deadline = started + self.block_timeout
                while full:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        s = full[0]
                        raise BusFullError(
                            subject, s.pattern, s.maxsize, time.monotonic() - started
                        )
                    self._room_waiters += 1
                    try:
                        self._room.wait(left)
                    finally:
                        self._room_waiters -= 1
                    if self._closed:
                        raise BusClosedError(f"the bus closed while {subject!r} waited")
                    subs = self._route(subject)
                    full = self._full(subs)
            self._deliver(subject, message, subs)

    async def publish_async(
        self, subject: str, message: Message, timeout: float | None = None
    ) -> None:
        _records(message)
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                with self._lock:
                    if self._closed:
                        raise BusClosedError(f"the bus is closed (publishing on {subject!r})")
                    subs = self._route(subject)
                    full = self._full(subs)
                    if not full:
                        self._deliver(subject, message, subs)
                        return
                    fut: asyncio.Future[None] = loop.create_future()
                    for s in full:
                        s._putters.append(fut)
                try:
                    await fut
                finally:
                    with self._lock:
                        for s in full:
                            if fut in s._putters:
                                s._putters.remove(fut)

    # -- the rest --------------------------------------------------------------------------

    def counters(self) -> BusCounters:
        with self._lock:
            subs = list(self._subs)
            published = dict(self._published)
            delivered = dict(self._delivered)
            dropped = dict(self._dropped)
            dropped_records = dict(self._dropped_records)
        return BusCounters(
            published=published,
            delivered=delivered,
            dropped=dropped,
            dropped_records=dropped_records,
            subscriptions=tuple(s.stats() for s in subs),
        )

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for sub in self._subs:
                self._close_sub(sub)
            self._routes.clear()

    def __enter__(self) -> LocalBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalBus({len(self._subs)} subscriptions, closed={self._closed})"
