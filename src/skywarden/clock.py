"""Where "now" comes from: the wall clock, a simulated clock, or a hand-driven one.

Stages never read the system time themselves; they take ``now`` from a :class:`Clock`
passed in, so a live night, a replay at 100x and a test run the same code:

- :class:`WallClock`: the system's real time (a live service);
- :class:`SimClock`: scenario time that starts at a chosen instant and runs at ``speed``
  times the wall clock (a replay or a simulated night served live);
- :class:`ManualClock`: moves only when told (tests; a replay driven by the data's own
  time stamps).

All times are seconds since the Unix epoch, UTC, as floats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SimClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> float`` (epoch seconds, UTC)."""

    def now(self) -> float: ...


class WallClock:
    """The system's time (``time.time()``)."""

    __slots__ = ()

    def now(self) -> float:
        return time.time()

    def wall_delay(self, t: float) -> float:
        """Wall seconds until this clock reads ``t`` (0 if already past)."""
        return max(0.0, t - time.time())

    def __repr__(self) -> str:
        return "WallClock()"


class SimClock:
    """Scenario time: ``start`` at creation, then ``speed`` scenario seconds per wall second.

    It follows a monotonic wall source (``time.monotonic`` unless another is given), so
    adjusting the system clock does not make scenario time jump. :meth:`set_speed`
    changes the rate from the current instant on, without a jump.
    """

    __slots__ = ("_base", "_speed", "_source", "_t0")

    def __init__(
        self,
        start: float,
        speed: float = 1.0,
        *,
        source: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, not {speed!r}")
        self._base = float(start)
        self._speed = float(speed)
        self._source = source
        self._t0 = source()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        return self._base + (self._source() - self._t0) * self._speed

    def set_speed(self, speed: float) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, not {speed!r}")
        wall = self._source()
        self._base += (wall - self._t0) * self._speed
        self._t0 = wall
        self._speed = float(speed)

    def wall_delay(self, t: float) -> float:
        """Wall seconds until this clock reads ``t`` (0 if already past)."""
        return max(0.0, (t - self.now()) / self._speed)

    def __repr__(self) -> str:
        return f"SimClock(now={self.now()!r}, speed={self._speed!r})"


class ManualClock:
    """A clock that moves only by :meth:`advance` or :meth:`set`, never backwards."""

    __slots__ = ("_t",)

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def advance(self, dt: float) -> float:
        """Move forward by ``dt`` seconds (>= 0); returns the new time."""
        if not dt >= 0:
            raise ValueError(f"a clock does not go back: advance({dt!r})")
        self._t += float(dt)
        return self._t

    def set(self, t: float) -> float:
        """Move to ``t`` (not earlier than now); returns it."""
        if not t >= self._t:
            raise ValueError(f"a clock does not go back: set({t!r}) at {self._t!r}")
        self._t = float(t)
        return self._t

    def wall_delay(self, t: float) -> float:
        """Always 0: waiting does not move a manual clock."""
        return 0.0

    def __repr__(self) -> str:
        return f"ManualClock({self._t!r})"
