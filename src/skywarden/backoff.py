"""Retry delays of every reconnecting client (feeds in, outputs out): exponential, capped,
with jitter.

After the ``n``-th failure in a row (n = 1, 2, ...) the nominal delay is
``initial_s * factor**(n - 1)``, capped at ``max_s``; the delay returned is drawn uniformly
from ``[nominal * (1 - jitter), nominal]`` so that many senders that lost the same server
do not come back in the same instant. :meth:`Backoff.reset` after a success starts over.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Capped exponential backoff with jitter (module docstring). Not thread-safe: one
    sender thread owns each instance."""

    def __init__(
        self, initial_s: float = 0.5, max_s: float = 30.0, *, factor: float = 2.0,
        jitter: float = 0.5, rng: random.Random | None = None,
    ) -> None:
        if not initial_s > 0 or not max_s >= initial_s:
            raise ValueError(f"backoff needs 0 < initial_s <= max_s, not {initial_s}, {max_s}")
        if not factor >= 1 or not 0 <= jitter <= 1:
            raise ValueError(f"backoff needs factor >= 1 and 0 <= jitter <= 1, not "
                             f"{factor}, {jitter}")
        self.initial_s = float(initial_s)
        self.max_s = float(max_s)
        self.factor = float(factor)
        self.jitter = float(jitter)
        self.failures = 0  # failures in a row since the last success
        self._rng = rng or random.Random()

    def nominal(self) -> float:
        """The delay before jitter for the current run of failures (0 when none)."""
        if self.failures == 0:
            return 0.0
        # min() before the power would overflow for long outages.
        steps = min(self.failures - 1, 64)
        return min(self.max_s, self.initial_s * self.factor**steps)

    def next_delay(self) -> float:
        """Record one more failure and return how long to wait before the next try."""
        self.failures += 1
        nominal = self.nominal()
        return nominal * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        """A success: the next failure waits ``initial_s`` again."""
        self.failures = 0
