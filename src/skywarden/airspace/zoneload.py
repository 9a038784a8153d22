"""What reading one zone file gave: the good zones, and the bad features by reason.

Its own module so that the readers (:mod:`.geojson`, :mod:`.ed269`, :mod:`.openair`)
fill it without importing :mod:`.load`, which picks among them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ZoneError
from .zones import Zone


@dataclass
class ZoneLoad:
    """What reading one file gave: the good zones and the rejected features."""

    path: str
    strict: bool = True
    zones: list[Zone] = field(default_factory=list)
    errors: list[ZoneError] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    report: Callable[[str], None] | None = None

    def reject(self, where: str, reason: str) -> None:
        """Record a bad feature or line; raise it at once when strict."""
        err = ZoneError(self.path, where, reason)
        if self.strict:
            raise err
        self.errors.append(err)
        self.reasons[reason_key(reason)] += 1
        if self.report is not None:
            self.report(str(err))

    @property
    def bad(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        text = f"{self.path}: {len(self.zones)} zones"
        if self.errors:
            text += f", {self.bad} bad features skipped: " + "; ".join(
                f"{n} x {r}" for r, n in self.reasons.most_common())
        return text


def reason_key(reason: str) -> str:
    """Group reasons for counting: quoted values and numbers replaced by '...'; a quoted
    name of a property, key or list ("no 'type' property") is kept, as it says what is
    wrong."""
    key = _QUOTED.sub(lambda m: m.group(0) if _NAMES.match(reason, m.end()) else "'...'",
                      reason)
    return re.sub(r"[-+]?\d[\d.:]*", "...", key)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NAMES = re.compile(r" (property|properties|key|keys|list|field)\b")
