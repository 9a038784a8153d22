"""Timing helpers shared by the benchmarks (bench/ is on sys.path when they run)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any


def best_cpu(fn: Callable[[], object], reps: int) -> float:
    """The least CPU time of this process over ``reps`` calls of ``fn``. Items per
    CPU-second is the rate per core, and stays meaningful on a machine shared with
    other jobs (wall time there is not)."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def hist_quantile(hist: Any, q: float) -> float:
    """Upper bound of the bucket holding quantile ``q`` of a prometheus Histogram."""
    samples = [s for m in hist.collect() for s in m.samples if s.name.endswith("_bucket")]
    total = samples[-1].value
    if not total:
        return math.nan
    for s in samples:
        if s.value >= q * total:
            return float(s.labels["le"])
    return math.inf
