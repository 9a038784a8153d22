"""A large window's gate and update rounds shared among threads, with the same result.

The two steps that grow with the traffic, the association gate (kernels.gate_pairs) and
the update rounds (kernels.update_rounds), are compiled kernels that release the GIL
(numba ``nogil``). When a window is large, each is cut into contiguous parts that run at
once, one per thread, the caller's thread included:

- **gate**: the candidate tracks are cut into runs of consecutive candidates. Each part
  gates every detection against its own tracks. The kernel orders its pairs by the
  track's position among the candidates, then by detection, so the parts' pairs, joined
  in order, are the whole call's pairs in the whole call's order. Each pair's gates read
  only that pair's track and detection (and the keys already used, which no part writes).
- **update rounds**: the pairs, sorted by track, are cut between tracks. A track's
  updates read and write only its own rows of the track table, so the parts write
  disjoint rows and each track sees the same updates in the same order.

Small windows run in the caller alone: below a few hundred detections or pairs, handing
work to a thread costs more than it saves (``MIN_SHARE``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# The least work worth a thread of its own: a part of fewer detections (gate) or pairs
# (update rounds) than this is not split further.
MIN_SHARE = 256


def default_threads() -> int:
    """One thread per core, at most 4: the default of the tracker and of the assessor."""
    return min(os.cpu_count() or 1, 4)


class Workers:
    """Runs the parts of one step at once: the first in the caller, the others on a pool
    of ``threads - 1`` threads started on first use."""

    def __init__(self, threads: int) -> None:
        self.threads = max(int(threads), 1)
        self._pool: ThreadPoolExecutor | None = None

    def run(self, job: Callable[[int, int], T], cuts: list[int]) -> list[T]:
        """``job(lo, hi)`` for each consecutive pair of ``cuts``, results in order."""
        spans = list(zip(cuts[:-1], cuts[1:], strict=True))
        if len(spans) == 1:
            return [job(*spans[0])]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads - 1,
                                            thread_name_prefix="track")
        futures = [self._pool.submit(job, lo, hi) for lo, hi in spans[1:]]
        first = job(*spans[0])
        return [first, *(f.result() for f in futures)]

    def parts(self, work: int) -> int:
        """How many parts ``work`` detections or pairs are cut into."""
        return max(1, min(self.threads, work // MIN_SHARE))


def even_cuts(n: int, parts: int) -> list[int]:
    """Boundaries of ``parts`` runs of about n / parts items each."""
    return [n * k // parts for k in range(parts + 1)]


def track_cuts(s: np.ndarray, parts: int) -> list[int]:
    """Boundaries of about ``parts`` runs of the pairs ``s`` (sorted by track) that never
    cut a track's pairs apart: each even cut moved back to its track's first pair."""
    n = s.size
    inner = {int(np.searchsorted(s, s[c], side="left")) for c in even_cuts(n, parts)[1:-1]}
    return [0, *sorted(c for c in inner if 0 < c < n), n]
