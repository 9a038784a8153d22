"""What a feed decoder saw: every input unit counted once, by outcome.

A unit is one frame (Beast, AVR) or one line (SBS). Each lands in exactly one bucket:

- ``position``: became a ``position`` Detection;
- ``used: <what>``: valid and remembered (velocity, identity, a CPR half waiting for its
  pair) but gave no detection by itself;
- ``ignored: <what>``: valid but carries nothing we use (Mode S surveillance replies,
  ADS-B status messages);
- ``rejected: <reason>``: bad bytes or an implausible result.

So ``units == sum(outcomes.values())`` always holds; tests check it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FeedCounts:
    """Counts of one feed or one recording, by outcome (see the module docstring)."""

    units: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: str, n: int = 1) -> None:
        self.units += n
        self.outcomes[outcome] += n

    @property
    def positions(self) -> int:
        return self.outcomes["position"]

    @property
    def rejected(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k.startswith("rejected"))

    @property
    def decoded(self) -> int:
        return self.units - self.rejected

    def summary(self, unit: str = "frames") -> str:
        """Readable lines: totals, then every outcome with its count, largest first."""
        lines = [
            f"{self.units} {unit}: {self.decoded} decoded ({self.positions} positions), "
            f"{self.rejected} rejected"
        ]
        lines += [f"  {n:9d}  {k}" for k, n in sorted(self.outcomes.items(),
                                                       key=lambda kv: (-kv[1], kv[0]))]
        return "\n".join(lines)
